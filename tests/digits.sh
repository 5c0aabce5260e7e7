#!/bin/sh
# digits.sh VITC TMP: the bundled trained model (examples/digits).
# - Compiled with --batch 360 and run on the held-out split (heldout_x.npy, exactly what the PNG path
#   produces), its logits match torch's within 1e-4 and its predictions, hence its accuracy, equal torch's;
#   that accuracy is the one the model's metadata (and the README) states.
# - The sample images: the interpreter on the .onnx and the compiled .so (batch 4: a padded last batch)
#   print the same lines, one `FILE: LABEL (PCT%)` per image, and every label is the file's true one.
# - The demo (scripts/demo.sh) prints that, the accuracy, the latency and two pictures of the right size.
set -e
vitc=$1 tmp=$2
root=$(cd "$(dirname "$0")/.." && pwd)
d=$root/examples/digits
rm -rf "$tmp"
mkdir -p "$tmp"
"$vitc" compile "$d/digits_vit.onnx" --batch 360 -o "$tmp/heldout.so" -q
"$vitc" run "$tmp/heldout.so" --input "$d/heldout_x.npy" --output "$tmp/logits.npy"
"$vitc" compare "$tmp/logits.npy" "$d/heldout_torch_logits.npy" --atol 1e-4
# The metadata comes through import into the IR text, in file order.
"$vitc" ir -O0 "$d/digits_vit.onnx" --batch 1 | grep '^meta ' >"$tmp/meta.txt"
[ "$(sed -n 1p "$tmp/meta.txt")" = 'meta "vitc.image_size" "8"' ] && [ "$(wc -l <"$tmp/meta.txt")" -eq 9 ] &&
  grep -qF 'meta "vitc.labels" "0\x0a1\x0a2' "$tmp/meta.txt" || { echo "FAIL: metadata lines:"; cat "$tmp/meta.txt"; exit 1; }
stated=$("$vitc" inspect "$d/digits_vit.onnx" | sed -n 's/^  meta vitc.accuracy = //p')
/usr/bin/python3 - "$tmp/logits.npy" "$d" "$stated" <<'PY'
import sys
import numpy as np
got, d, stated = np.load(sys.argv[1]), sys.argv[2], float(sys.argv[3])
torch, y = np.load(d + "/heldout_torch_logits.npy"), np.load(d + "/heldout_y.npy")
acc_vitc, acc_torch = (got.argmax(1) == y).mean(), (torch.argmax(1) == y).mean()
print(f"held-out accuracy: compiled {acc_vitc:.4f}, torch {acc_torch:.4f}, metadata {stated:.4f}")
assert (got.argmax(1) == torch.argmax(1)).all(), "predictions differ from torch's"
assert abs(acc_vitc - stated) < 5e-5, "the stated accuracy is not the compiled model's"
PY
cd "$d/images"
"$vitc" compile "$d/digits_vit.onnx" --batch 4 -o "$tmp/b4.so" -q
"$vitc" run "$tmp/b4.so" --image *.png >"$tmp/so.txt"
"$vitc" run "$d/digits_vit.onnx" --image *.png >"$tmp/onnx.txt"
cmp "$tmp/so.txt" "$tmp/onnx.txt" || { echo "FAIL: the .so and the interpreter disagree"; exit 1; }
n=$(ls *.png | wc -l)
[ "$(grep -cE '^[0-9]_[0-9]{4}\.png: [0-9] \([0-9]+\.[0-9]%\)$' "$tmp/so.txt")" -eq "$n" ] ||
  { echo "FAIL: not one FILE: LABEL (PCT%) line per image:"; cat "$tmp/so.txt"; exit 1; }
awk -F': ' '{ split($1, t, "_"); split($2, p, " "); if (t[1] != p[1]) { print "FAIL: " $0; bad = 1 } }
  END { exit bad }' "$tmp/so.txt"
cd "$root"
sh scripts/demo.sh "$vitc" "$tmp/demo" >"$tmp/demo.txt"
cat "$tmp/demo.txt"
grep -q "^accuracy on the $n sample images: $n/$n (100.0%)$" "$tmp/demo.txt"
grep -q "^latency, one image, 1 thread: latency_ms min=" "$tmp/demo.txt"
png_size() { od -A n -t u1 -j 16 -N 8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'; }
[ "$(png_size "$tmp/demo/attention_7_0003.png")" = 904x448 ] && [ "$(png_size "$tmp/demo/pos_embed.png")" = 650x650 ] ||
  { echo "FAIL: the demo's pictures are missing or of the wrong size"; exit 1; }
echo "digits: compiled = torch on the held-out split, samples classified alike by .onnx and .so, demo complete"
