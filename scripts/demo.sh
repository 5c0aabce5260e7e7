#!/bin/sh
# make demo: a bundled tiny torchvision ViT through the whole compiler: the IR
# as imported and as optimized, the reference interpreter, then a native .so
# compiled, run and checked against torch's output.
set -e
vitc=${1:-build/vitc}
m=tests/models/vit_tv_tiny_op13
tmp=${TMPDIR:-/tmp}/vitc_demo
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
"$vitc" compile "$m.onnx" --batch 1 -o "$tmp/model.so"
ls -l "$tmp/model.so" "$tmp/model.h"
echo "== compiled model vs torch, and its latency"
"$vitc" run "$tmp/model.so" --threads 1 --input "$m.input.npy" --output "$tmp/compiled.npy" --bench 50
"$vitc" compare "$tmp/compiled.npy" "$m.output.npy" --atol 1e-4
