#!/bin/sh
# Checks that a shared library exports the vitimg_* API and no other symbol (ELF bookkeeping names that start
# with an underscore aside). Usage: check_exports.sh libvitimg.so
set -eu
lib=$1
syms=$(nm -D --defined-only "$lib" | awk '{print $3}')
extra=$(printf '%s\n' "$syms" | grep -v -e '^vitimg_' -e '^_' -e '^$' || true)
if [ -n "$extra" ]; then
  echo "check_exports: $lib exports more than vitimg_*: $(echo $extra)"
  exit 1
fi
for f in vitimg_load vitimg_write_png vitimg_preprocess vitimg_load_tensor vitimg_free vitimg_prep_default vitimg_prep_from_metadata vitimg_parse_channels \
         vitimg_resize_u8 vitimg_colormap vitimg_heat_overlay vitimg_tile_grid; do
  printf '%s\n' "$syms" | grep -qx "$f" || { echo "check_exports: $lib does not export $f"; exit 1; }
done
echo "check_exports: $(printf '%s\n' "$syms" | grep -c '^vitimg_') vitimg_* symbols, nothing else"
