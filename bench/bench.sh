#!/bin/sh
# bench.sh VITC MODEL_PREFIX [RUNS]: one run of the benchmark: compiles MODEL.onnx,
# times it with vitc and with ONNX Runtime (onnxruntime-node) on 1 and 2 threads,
# and prints the medians and the ratio ORT / vitc (above 1: vitc is faster).
set -e
vitc=$1 prefix=$2 runs=${3:-20}
here=$(dirname "$0")
if [ ! -d "$here/node_modules/onnxruntime-node" ]; then
  (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >/dev/null)
fi
so=${TMPDIR:-/tmp}/vitc_bench_$(basename "$prefix").so
"$vitc" compile "$prefix.onnx" --batch 1 -o "$so"
for t in 1 2; do
  v=$("$vitc" run "$so" --threads $t --input "$prefix.input.npy" --output "$so.out.npy" --bench "$runs")
  o=$(node "$here/ort_bench.js" "$prefix.onnx" "$prefix.input.npy" $t "$runs" "$so.ort.npy")
  vm=$(echo "$v" | sed -n 's/.*median=\([0-9.]*\).*/\1/p')
  om=$(echo "$o" | sed -n 's/.*median=\([0-9.]*\).*/\1/p')
  echo "threads=$t vitc median_ms=$vm ort median_ms=$om ratio_ort_over_vitc=$(awk "BEGIN{printf \"%.2f\", $om/$vm}")"
done
echo "vitc vs torch: $("$vitc" compare "$so.out.npy" "$prefix.output.npy")"
echo "ort  vs torch: $("$vitc" compare "$so.ort.npy" "$prefix.output.npy")"
