#!/bin/sh
# precision.sh VITC TMP: the bundled trained digits model at --precision fp32, bf16 and int8 on its 360
# held-out images (docs/precision.md), in the reference interpreter and compiled for this CPU: held-out
# accuracy within 0.5 points of fp32 for bf16 and 1 point for int8 (the issue's criteria), top-1 agreement
# with fp32, and the logits within each format's tolerance of torch's fp32 logits (relative to the largest
# logit: fp32 1e-5, bf16 2e-2, int8 1e-1; the derivation is in docs/precision.md). Compiled against
# interpreted at the same precision: the top-1 class of at least 99 % of the images and the logits of at
# least 80 % within 1e-5 (the others differ by a rounding flip: fp32 parts such as layer norm sum in another
# order, move a value across a bf16 or int8 rounding boundary, and the product changes by one step).
set -e
vitc=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
digits=$here/../examples/digits
rm -rf "$tmp"
mkdir -p "$tmp"
for p in fp32 bf16 int8; do
  "$vitc" run "$digits/digits_vit.onnx" --batch 360 --precision $p --input "$digits/heldout_x.npy" \
    --output "$tmp/$p.npy"
  "$vitc" compile "$digits/digits_vit.onnx" --batch 360 --precision $p -o "$tmp/$p.so"
  "$vitc" run "$tmp/$p.so" --input "$digits/heldout_x.npy" --output "$tmp/$p.compiled.npy"
done
/usr/bin/python3 - "$tmp" "$digits" <<'PY'
import sys
import numpy as np
tmp, digits = sys.argv[1:3]
y = np.load(digits + "/heldout_y.npy")
torch_logits = np.load(digits + "/heldout_torch_logits.npy")
fp32 = np.load(tmp + "/fp32.npy")
acc32 = (fp32.argmax(1) == y).mean() * 100
for p, max_drop, rtol in (("fp32", 0.0, 1e-5), ("bf16", 0.5, 2e-2), ("int8", 1.0, 1e-1)):
    interp = np.load(tmp + "/" + p + ".npy")
    for how, logits in (("interpreted", interp), ("compiled", np.load(tmp + "/" + p + ".compiled.npy"))):
        acc = (logits.argmax(1) == y).mean() * 100
        agree = int((logits.argmax(1) == fp32.argmax(1)).sum())
        rel = float(np.abs(logits - torch_logits).max() / np.abs(torch_logits).max())
        print(f"{p} {how}: held-out accuracy {acc:.2f}% (fp32 {acc32:.2f}%), top-1 as fp32 on {agree}/360, "
              f"max |logit - torch| / max |logit| = {rel:.2e} (tolerance {rtol:g})")
        assert acc >= acc32 - max_drop, f"{p} {how}: accuracy {acc:.2f}% is more than {max_drop} points below fp32"
        assert rel <= rtol, f"{p} {how}: logits off by {rel:.2e} of the largest, over {rtol:g}"
    err = np.abs(logits - interp).max(1) / np.abs(interp).max()
    same, top1 = float((err <= 1e-5).mean()), float((logits.argmax(1) == interp.argmax(1)).mean())
    print(f"{p} compiled vs interpreted: top-1 equal on {top1:.1%}, logits within 1e-5 on {same:.1%} of the images")
    assert top1 >= 0.99 and same >= 0.8, f"{p}: the compiled model strays from the interpreter"
PY
