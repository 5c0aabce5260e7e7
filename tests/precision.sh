#!/bin/sh
# precision.sh VITC TMP: the bundled trained digits model in the reference interpreter at --precision fp32,
# bf16 and int8 on its 360 held-out images (docs/precision.md): held-out accuracy within 0.5 points of fp32
# for bf16 and 1 point for int8 (the issue's criteria), top-1 agreement with fp32, and the logits within
# each format's tolerance of torch's fp32 logits (relative to the largest logit: fp32 1e-5, bf16 2e-2,
# int8 1e-1; the derivation is in docs/precision.md).
set -e
vitc=$1 tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
digits=$here/../examples/digits
rm -rf "$tmp"
mkdir -p "$tmp"
for p in fp32 bf16 int8; do
  "$vitc" run "$digits/digits_vit.onnx" --batch 360 --precision $p --input "$digits/heldout_x.npy" \
    --output "$tmp/$p.npy"
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
    logits = np.load(tmp + "/" + p + ".npy")
    acc = (logits.argmax(1) == y).mean() * 100
    agree = int((logits.argmax(1) == fp32.argmax(1)).sum())
    rel = float(np.abs(logits - torch_logits).max() / np.abs(torch_logits).max())
    print(f"{p}: held-out accuracy {acc:.2f}% (fp32 {acc32:.2f}%), top-1 as fp32 on {agree}/360, "
          f"max |logit - torch| / max |logit| = {rel:.2e} (tolerance {rtol:g})")
    assert acc >= acc32 - max_drop, f"{p}: accuracy {acc:.2f}% is more than {max_drop} points below fp32"
    assert rel <= rtol, f"{p}: logits off by {rel:.2e} of the largest, over {rtol:g}"
PY
