#!/bin/sh
# dynamic_batch.sh VITC FIXTURE TMP: one `--dynamic-batch` .so of FIXTURE.onnx runs batches 1, 3, 8 and 11
# (8 + 2 + 1) and matches the interpreter pinned to the same batch (1e-5), and the batch-1 run matches torch
# (1e-4); `--max-batch 3` refuses batch 4 with one error line; the header says the batch is dynamic.
set -e
vitc=$1 fixture=$2 tmp=$3
rm -rf "$tmp"
mkdir -p "$tmp"
"$vitc" compile "$fixture.onnx" --dynamic-batch -o "$tmp/dyn.so" -q
grep -q "_BATCH_DYNAMIC 1$" "$tmp/dyn.h"
/usr/bin/python3 -c "
import numpy as np
rng = np.random.default_rng(7)
for b in (3, 4, 8, 11):
    np.save('$tmp/x%d.npy' % b, rng.standard_normal((b, 3, 32, 32)).astype(np.float32))"
cp "$fixture.input.npy" "$tmp/x1.npy"
for b in 1 3 8 11; do
  "$vitc" run "$tmp/dyn.so" --input "$tmp/x$b.npy" --output "$tmp/so$b.npy"
  "$vitc" run "$fixture.onnx" --batch $b --input "$tmp/x$b.npy" --output "$tmp/interp$b.npy"
  printf "batch %s: " $b
  "$vitc" compare "$tmp/so$b.npy" "$tmp/interp$b.npy" --atol 1e-5
done
printf "batch 1 against torch: "
"$vitc" compare "$tmp/so1.npy" "$fixture.output.npy" --atol 1e-4
"$vitc" compile "$fixture.onnx" --dynamic-batch --max-batch 3 -o "$tmp/max3.so" -q
"$vitc" run "$tmp/max3.so" --input "$tmp/x3.npy" --output "$tmp/m3.npy"
"$vitc" compare "$tmp/m3.npy" "$tmp/interp3.npy" --atol 1e-5
if "$vitc" run "$tmp/max3.so" --input "$tmp/x4.npy" --output "$tmp/m4.npy" 2>"$tmp/m4.err"; then
  echo "FAIL: batch 4 ran on a --max-batch 3 model"; exit 1
fi
grep -q "batch 4 is outside the model's 1..3" "$tmp/m4.err" && [ "$(wc -l <"$tmp/m4.err")" -eq 1 ] && [ ! -e "$tmp/m4.npy" ] ||
  { echo "FAIL: batch 4 on --max-batch 3:"; cat "$tmp/m4.err"; exit 1; }
echo "dynamic batch: 1, 3, 8, 11 match the interpreter; batch 4 refused by --max-batch 3"
# An unbounded dynamic-batch model refuses a batch whose buffers would pass the one-tensor ceiling (2^40
# bytes) with VITC_ERR_ARG, before computing any offset (it would overflow: nothing is read or written).
/usr/bin/python3 -c "
import ctypes
lib = ctypes.CDLL('$tmp/dyn.so')
create = lib.vitc_session_create
create.restype = ctypes.c_void_p
create.argtypes = [ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
st = ctypes.c_int(0)
s = create(1, ctypes.byref(st))
assert s, st.value
run = lib.vitc_session_run_batch
run.argtypes = [ctypes.c_void_p, ctypes.c_int64, ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]
buf = (ctypes.c_void_p * 1)(ctypes.addressof(ctypes.create_string_buffer(64)))
for batch in (1 << 40, (1 << 63) - 1):
    r = run(s, batch, buf, buf)
    assert r == 1, (batch, r)  # VITC_ERR_ARG
print('batches 2^40 and 2^63-1 refused with VITC_ERR_ARG')"
