#!/bin/sh
# test-models.sh VITC DIR: runs every DIR/NAME.onnx through the interpreter and
# compares with DIR/NAME.output.npy (max abs error at most 1e-4).
set -e
vitc=$1 dir=$2
fail=0
for m in "$dir"/*.onnx; do
  p=${m%.onnx}
  name=$(basename "$p")
  start=$(date +%s)
  if "$vitc" run "$m" --batch 1 --input "$p.input.npy" --output "$p.vitc.npy" &&
     err=$("$vitc" compare "$p.vitc.npy" "$p.output.npy" --atol 1e-4); then
    echo "PASS $name: $err ($(( $(date +%s) - start )) s)"
  else
    echo "FAIL $name"; fail=1
  fi
done
exit $fail
