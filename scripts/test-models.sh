#!/bin/sh
# test-models.sh VITC DIR: every DIR/NAME.onnx through the interpreter and compiled
# to a .so (2 threads), each compared with DIR/NAME.output.npy (max abs error at most 1e-4); a model with
# DIR/NAME.input_bB.npy files (export_vit.py --batch-outputs) is also compiled once with --dynamic-batch and
# run at batch 1 and every such B against torch's DIR/NAME.output_bB.npy.
vitc=$1 dir=$2
fail=0
# The bytes of an ONNX model and its external data files (NAME.onnx.data beside it).
model_bytes() { cat "$1" "$1".data 2>/dev/null | wc -c; }
# compile_measured MODEL OUT: vitc compile --batch 1, its wall time and peak RSS (GNU time, when present;
# the peak of vitc and of the linker it waits for) in $compile_s and $peak_kb.
compile_measured() {
  peak_kb="" compile_s=""
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$2.time" "$vitc" compile "$1" --batch 1 -o "$2" || return 1
    read -r compile_s peak_kb <"$2.time"
  else
    "$vitc" compile "$1" --batch 1 -o "$2"
  fi
}
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
  if compile_measured "$m" "$p.so" &&
     "$vitc" run "$p.so" --threads 2 --input "$p.input.npy" --output "$p.compiled.npy" &&
     err=$("$vitc" compare "$p.compiled.npy" "$p.output.npy" --atol 1e-4); then
    echo "PASS compiled $name: $err (compile + run $(( $(date +%s) - start )) s, .so $(stat -c %s "$p.so") bytes)"
    [ -n "$peak_kb" ] && awk -v kb="$peak_kb" -v w="$(model_bytes "$m")" -v s="$compile_s" 'BEGIN {
      printf "     compile: %.1f s, peak RSS %.0f MB = %.2f x the model files (%.0f MB; the linker it runs included)\n",
             s, kb / 1024, kb * 1024 / w, w / 1048576 }'
  else
    echo "FAIL compiled $name"; fail=1
  fi
  ls "$p".input_b*.npy >/dev/null 2>&1 || continue
  start=$(date +%s)
  if "$vitc" compile "$m" --dynamic-batch -o "$p.dyn.so" -q; then
    for x in "$p.input.npy" "$p".input_b*.npy; do
      y=$(echo "$x" | sed 's/input/output/')
      if "$vitc" run "$p.dyn.so" --threads 2 --input "$x" --output "$p.dyn.npy" &&
         err=$("$vitc" compare "$p.dyn.npy" "$y" --atol 1e-4); then
        echo "PASS dynamic-batch $name $(basename "$x"): $err"
      else
        echo "FAIL dynamic-batch $name $(basename "$x")"; fail=1
      fi
    done
    echo "     (dynamic-batch compile + runs $(( $(date +%s) - start )) s, .so $(stat -c %s "$p.dyn.so") bytes)"
  else
    echo "FAIL dynamic-batch compile $name"; fail=1
  fi
done
exit $fail
