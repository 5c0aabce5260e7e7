#!/bin/sh
# classify.sh VITC FIXTURE EXAMPLE.c TMPDIR: compiles FIXTURE.onnx (--batch 1),
# builds the example against the generated model.h and model.so, runs it on
# FIXTURE.input.npy and checks the printed class against the argmax of
# FIXTURE.output.npy (torch's logits), worked out here with od and awk, and
# the printed score against torch's within 1e-3.
set -e
vitc=$1 prefix=$2 src=$3 tmp=$4
rm -rf "$tmp"
mkdir -p "$tmp"
"$vitc" compile "$prefix.onnx" --batch 1 -o "$tmp/model.so"
${CC:-cc} -std=c11 -Wall -Wextra -Werror -I"$tmp" -o "$tmp/classify" "$src" "$tmp/model.so" -Wl,-rpath,"$tmp"
got=$("$tmp/classify" "$prefix.input.npy" 2)
# .npy 1.0: magic (6 bytes), version (2), header length (little-endian u16), header, data.
hlen=$(od -A n -t u2 -j 8 -N 2 "$prefix.output.npy" | tr -d ' ')
want=$(od -A n -v -t f4 -j $((10 + hlen)) "$prefix.output.npy" |
  awk '{ for (i = 1; i <= NF; i++) { if (n == 0 || $i + 0 > best) { best = $i + 0; k = n } n++ } }
       END { printf "class %d score %.6f\n", k, best }')
echo "compiled: $got"
echo "torch:    $want"
echo "$got $want" | awk '{ if ($2 != $6 || ($4 - $8) > 1e-3 || ($8 - $4) > 1e-3) exit 1 }' ||
  { echo "FAIL: the compiled model's class or score differs from torch's"; exit 1; }
