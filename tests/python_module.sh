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
PYTHONPATH="$here/../python" VITC_IMAGE_LIB="$(dirname "$vitc")/libvitimg.so" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 "$here/test_python.py" "$tmp/model.so" "$fixture" "$here/images" "$tmp/expected.txt"
