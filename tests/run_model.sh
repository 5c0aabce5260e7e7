#!/bin/sh
# run_model.sh VITC FIXTURE_PREFIX OUT.npy ATOL: runs FIXTURE.onnx on FIXTURE.input.npy
# through the interpreter and compares with FIXTURE.output.npy (torch's output).
set -e
vitc=$1 prefix=$2 out=$3 atol=$4
"$vitc" run "$prefix.onnx" --batch 1 --input "$prefix.input.npy" --output "$out"
"$vitc" compare "$out" "$prefix.output.npy" --atol "$atol"
