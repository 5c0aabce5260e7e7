#!/bin/sh
# python_module.sh VITC FIXTURE TMP: compiles FIXTURE.onnx (--batch 1) and runs tests/test_python.py
# against it with the module from python/ and libvitimg.so from the build tree (next to VITC).
set -e
vitc=$1 fixture=$2 tmp=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tmp"
mkdir -p "$tmp"
"$vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/model.so" -q
"$vitc" run "$tmp/model.so" --image "$here/images/photo.jpg" --top 3 >"$tmp/expected.txt"
"$vitc" compile "$fixture.onnx" --batch 1 --prefix pyx -o "$tmp/pyx.so" -q
PYTHONPATH="$here/../python" /usr/bin/python3 -c "
import numpy as np, vitc
m = vitc.load('$tmp/pyx.so', threads=1)
assert m.prefix == 'pyx', m.prefix
y = m(np.load('$fixture.input.npy'))
assert abs(y - np.load('$fixture.output.npy')).max() < 1e-4
print('a model compiled with --prefix pyx loads and runs through its descriptor')"
"$vitc" compile "$fixture.onnx" --dynamic-batch --max-batch 6 -o "$tmp/dyn.so" -q
"$vitc" compile "$fixture.onnx" --batch 5 -o "$tmp/b5.so" -q
PYTHONPATH="$here/../python" /usr/bin/python3 -c "
import numpy as np, vitc
m, s5 = vitc.load('$tmp/dyn.so', threads=2), vitc.load('$tmp/b5.so', threads=2)
assert m.dynamic_batch and m.max_batch == 6, (m.dynamic_batch, m.max_batch)
x = np.random.default_rng(1).standard_normal((6, 3, 32, 32)).astype(np.float32)
y6 = m(x)
assert y6.shape == (6, 10)
assert abs(m(x[:5]) - s5(x[:5])).max() < 1e-5  # batch 5 = 4 + 1 agrees with a static batch-5 build
for b in (1, 3, 6):
    assert abs(m(x[:b]) - y6[:b]).max() < 1e-5, b
try:
    m(np.zeros((7, 3, 32, 32), np.float32)); raise SystemExit('batch 7 was accepted')
except vitc.VitcError as e:
    assert 'batch 7 is outside' in str(e), e
print('dynamic batch: 1, 3, 5, 6 agree with batch 6 and a static batch-5 build; batch 7 refused')"
PYTHONPATH="$here/../python" VITC_IMAGE_LIB="$(dirname "$vitc")/libvitimg.so" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 "$here/test_python.py" "$tmp/model.so" "$fixture" "$here/images" "$tmp/expected.txt"
