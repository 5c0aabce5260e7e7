#!/bin/sh
# idempotent.sh VITC MODEL.onnx TMP [OPTIONS...]: the optimizer is idempotent. The optimized IR,
# parsed back and optimized again with the same OPTIONS, prints identically.
set -e
vitc=$1 model=$2 tmp=$3
. "$(dirname "$0")/fixture_batch.sh"
shift 3
"$vitc" ir "$model" $(fixture_batch "$model") "$@" > "$tmp.1.vir"
"$vitc" ir "$tmp.1.vir" "$@" > "$tmp.2.vir"
if ! cmp -s "$tmp.1.vir" "$tmp.2.vir"; then
  echo "FAIL: optimizing $model twice changes it:"
  diff "$tmp.1.vir" "$tmp.2.vir" | head -20
  exit 1
fi
