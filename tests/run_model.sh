#!/bin/sh
# run_model.sh VITC FIXTURE_PREFIX OUT.npy ATOL: runs FIXTURE.onnx on FIXTURE.input.npy
# through the interpreter and compares with FIXTURE.output.npy (torch's output).
set -e
vitc=$1 prefix=$2 out=$3 atol=$4
. "$(dirname "$0")/fixture_batch.sh"
"$vitc" run "$prefix.onnx" $(fixture_batch "$prefix.onnx") --input "$prefix.input.npy" --output "$out"
"$vitc" compare "$out" "$prefix.output.npy" --atol "$atol"
