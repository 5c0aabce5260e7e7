#!/bin/sh
# install.sh BUILD FIXTURE TMP: `cmake --install` into a fresh prefix, then use only what it holds:
# the installed vitc compiles FIXTURE.onnx linking the installed runtime (not the build tree's),
# a C program builds with `pkg-config --cflags --libs vitrt` and classifies an image as `vitc run`
# does, and the installed Python module (no VITC_IMAGE_LIB, no PYTHONPATH into the source) runs it.
set -e
build=$1 fixture=$2 tmp=$3
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tmp"
mkdir -p "$tmp"
prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log"
for f in bin/vitc bin/vitc-batch lib/vitc/libvitc_rt.a lib/libvitrt.a lib/libvitimg.so include/vitc/vitc_abi.h include/vitc/vitrt.h \
         include/vitc/vitimg.h lib/pkgconfig/vitrt.pc lib/python3/dist-packages/vitc/__init__.py share/doc/vitc/README.md; do
  [ -f "$prefix/$f" ] || { echo "FAIL: $f not installed"; exit 1; }
done
env -u VITC_RUNTIME_LIB "$prefix/bin/vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/model.so" -v 2>"$tmp/compile.log"
grep -q "runtime library $prefix/bin/../lib/vitc/libvitc_rt.a" "$tmp/compile.log" ||
  { echo "FAIL: the installed vitc did not link the installed runtime:"; cat "$tmp/compile.log"; exit 1; }
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
# shellcheck disable=SC2046
cc -std=c11 -Wall -Wextra -Werror -o "$tmp/classify_image" "$prefix/share/doc/vitc/examples/classify_image.c" \
  $(pkg-config --cflags --libs vitrt) -lm
img=$here/images/photo.jpg
"$tmp/classify_image" "$tmp/model.so" "$img" >"$tmp/c.txt"
"$prefix/bin/vitc" run "$tmp/model.so" --image "$img" >"$tmp/cli.txt"
cmp "$tmp/c.txt" "$tmp/cli.txt" || { echo "FAIL: the pkg-config program and vitc run disagree"; exit 1; }
(cd "$tmp" && env -u VITC_IMAGE_LIB PYTHONPATH="$prefix/lib/python3/dist-packages" PYTHONDONTWRITEBYTECODE=1 \
  /usr/bin/python3 -c "
import sys, vitc
assert vitc.__file__.startswith('$prefix'), vitc.__file__
label, p = vitc.load('model.so').classify('$img')[0]
print(f'$img: {label} ({100 * p:.1f}%)')" >"$tmp/py.txt")
cmp "$tmp/py.txt" "$tmp/cli.txt" || { echo "FAIL: the installed Python module and vitc run disagree"; exit 1; }
# the installed vitc-batch (its own prefix's module and image library) gives the same class
(cd "$tmp" && env -u VITC_IMAGE_LIB -u PYTHONPATH "$prefix/bin/vitc-batch" model.so "$img" --out batch.csv \
  --local-workers 1 2>batch.log) || { cat "$tmp/batch.log"; exit 1; }
/usr/bin/python3 -c "
import csv
r = next(csv.DictReader(open('$tmp/batch.csv')))
print(f\"{r['path']}: {r['label']} ({100 * float(r['confidence']):.1f}%)\")" >"$tmp/batch.txt"
cmp "$tmp/batch.txt" "$tmp/cli.txt" || { echo "FAIL: the installed vitc-batch and vitc run disagree"; exit 1; }
echo "installed into $prefix: vitc, runtime, vitrt.pc, the Python module and vitc-batch agree: $(cat "$tmp/cli.txt")"
