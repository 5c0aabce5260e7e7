#!/bin/sh
# roundtrip.sh VITC MODEL.onnx TMP: `vitc ir` output (optimized) parses back and prints
# identically (-O0: no passes on the second read).
set -e
vitc=$1 model=$2 tmp=$3
. "$(dirname "$0")/fixture_batch.sh"
"$vitc" ir "$model" $(fixture_batch "$model") > "$tmp.1.vir"
"$vitc" ir -O0 "$tmp.1.vir" > "$tmp.2.vir"
cmp "$tmp.1.vir" "$tmp.2.vir"
