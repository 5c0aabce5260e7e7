#!/bin/sh
# roundtrip.sh VITC MODEL.onnx TMP: `vitc ir` output parses back and prints identically.
set -e
vitc=$1 model=$2 tmp=$3
"$vitc" ir "$model" --batch 1 > "$tmp.1.vir"
"$vitc" ir "$tmp.1.vir" > "$tmp.2.vir"
cmp "$tmp.1.vir" "$tmp.2.vir"
