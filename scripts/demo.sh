#!/bin/sh
# make demo: the bundled trained digits ViT (examples/digits, tools/train_digits.py) compiled to a
# native .so, classifying the sample images (their file names start with the true label), then its
# latency, an attention map and the position-embedding map.
#   scripts/demo.sh [VITC] [OUTDIR]      the product tour (default)
#   scripts/demo.sh --ir [VITC]          the compiler tour: IR as imported and optimized, interpreter vs
#                                        torch, compiled .so vs torch, on a tiny torchvision ViT
set -e
if [ "${1:-}" = "--ir" ]; then
  shift
  vitc=${1:-build/vitc}
  m=tests/models/vit_tv_tiny_op13
  tmp=${TMPDIR:-/tmp}/vitc_demo_ir
  mkdir -p "$tmp"
  echo "== op counts as imported: vitc ir $m.onnx --batch 1 -O0 --stats"
  "$vitc" ir "$m.onnx" --batch 1 -O0 --stats | tr '\n' ' '; echo
  echo "== after the optimizer: vitc ir $m.onnx --batch 1 --stats"
  "$vitc" ir "$m.onnx" --batch 1 --stats
  echo "== the optimized IR (nodes only)"
  "$vitc" ir "$m.onnx" --batch 1 | grep -v '^const ' | cut -c 1-160
  echo "== reference interpreter vs torch"
  "$vitc" run "$m.onnx" --batch 1 --input "$m.input.npy" --output "$tmp/interp.npy"
  "$vitc" compare "$tmp/interp.npy" "$m.output.npy" --atol 1e-4
  echo "== vitc compile $m.onnx --batch 1 -o $tmp/model.so"
  "$vitc" compile "$m.onnx" --batch 1 -o "$tmp/model.so" -q
  ls -l "$tmp/model.so" "$tmp/model.h"
  echo "== compiled model vs torch, and its latency"
  "$vitc" run "$tmp/model.so" --threads 1 --input "$m.input.npy" --output "$tmp/compiled.npy" --bench 50
  "$vitc" compare "$tmp/compiled.npy" "$m.output.npy" --atol 1e-4
  exit 0
fi

vitc=$(cd "$(dirname "${1:-build/vitc}")" && pwd)/$(basename "${1:-build/vitc}")
out=${2:-build/demo}
mkdir -p "$out"
out=$(cd "$out" && pwd)
model=$(pwd)/examples/digits/digits_vit.onnx
"$vitc" compile "$model" --batch 1 -o "$out/digits.so" -q
echo "== vitc run $out/digits.so --image examples/digits/images/*.png"
cd examples/digits/images
"$vitc" run "$out/digits.so" --image *.png | tee "$out/predictions.txt"
# The true label is the file name up to '_'.
awk -F': ' '{ split($1, t, "_"); split($2, p, " "); n++; ok += (t[1] == p[1]) }
  END { printf "accuracy on the %d sample images: %d/%d (%.1f%%)\n", n, ok, n, 100.0 * ok / n }' "$out/predictions.txt"
"$vitc" inspect "$model" | sed -n 's/^  meta vitc.accuracy = //p' |
  awk '{ printf "held-out accuracy of the model (360 images; torch and the compiled model alike): %.2f%%\n", 100 * $1 }'
printf "latency, one image, 1 thread: "
"$vitc" run "$out/digits.so" --image 7_0003.png --threads 1 --bench 200 | grep '^latency_ms'
"$vitc" run "$model" --image 7_0003.png --attention-map "$out/attention_7_0003.png" | grep '^attention map'
"$vitc" inspect "$model" --pos-embed "$out/pos_embed.png"
echo "more: vitc inspect $model; scripts/demo.sh --ir (the compiler's IR before and after the optimizer)"
