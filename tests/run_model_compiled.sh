#!/bin/sh
# run_model_compiled.sh VITC FIXTURE_PREFIX TMP ATOL: compiles FIXTURE.onnx to a .so,
# runs it on FIXTURE.input.npy (1 and 2 threads) and compares with torch's FIXTURE.output.npy.
set -e
vitc=$1 prefix=$2 tmp=$3 atol=$4
. "$(dirname "$0")/fixture_batch.sh"
"$vitc" compile "$prefix.onnx" $(fixture_batch "$prefix.onnx") -o "$tmp.so"
for threads in 1 2; do
  "$vitc" run "$tmp.so" --threads $threads --input "$prefix.input.npy" --output "$tmp.out$threads.npy"
  "$vitc" compare "$tmp.out$threads.npy" "$prefix.output.npy" --atol "$atol"
done
