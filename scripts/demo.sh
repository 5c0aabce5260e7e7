#!/bin/sh
# make demo: imports a bundled tiny torchvision ViT, shows its IR and op counts,
# runs it through the reference interpreter and compares with torch's output.
set -e
vitc=${1:-build/vitc}
m=tests/models/vit_tv_tiny_op13
out=${TMPDIR:-/tmp}/vitc_demo_output.npy
echo "== vitc ir $m.onnx --batch 1 (first 25 lines)"
"$vitc" ir "$m.onnx" --batch 1 | head -n 25
echo "..."
echo "== vitc ir $m.onnx --batch 1 --stats"
"$vitc" ir "$m.onnx" --batch 1 --stats
echo "== vitc run (reference interpreter)"
"$vitc" run "$m.onnx" --batch 1 --input "$m.input.npy" --output "$out"
echo "== compare with torch's output"
"$vitc" compare "$out" "$m.output.npy" --atol 1e-4
