#!/bin/sh
# test-models.sh VITC DIR: every DIR/NAME.onnx through the interpreter and compiled
# to a .so (2 threads), each compared with DIR/NAME.output.npy (max abs error at most 1e-4).
vitc=$1 dir=$2
fail=0
for m in "$dir"/*.onnx; do
  p=${m%.onnx}
  name=$(basename "$p")
  start=$(date +%s)
  if "$vitc" run "$m" --batch 1 --input "$p.input.npy" --output "$p.interp.npy" &&
     err=$("$vitc" compare "$p.interp.npy" "$p.output.npy" --atol 1e-4); then
    echo "PASS interpreter $name: $err ($(( $(date +%s) - start )) s)"
  else
    echo "FAIL interpreter $name"; fail=1
  fi
  start=$(date +%s)
  if "$vitc" compile "$m" --batch 1 -o "$p.so" &&
     "$vitc" run "$p.so" --threads 2 --input "$p.input.npy" --output "$p.compiled.npy" &&
     err=$("$vitc" compare "$p.compiled.npy" "$p.output.npy" --atol 1e-4); then
    echo "PASS compiled $name: $err (compile + run $(( $(date +%s) - start )) s, .so $(stat -c %s "$p.so") bytes)"
  else
    echo "FAIL compiled $name"; fail=1
  fi
done
exit $fail
