#!/bin/sh
# fusion_targets.sh VITC MODEL OP=COUNT...: the optimized IR of MODEL (batch 1)
# has exactly COUNT of each listed op, and none of the ops a fully fused ViT
# must not keep (every MatMul/Gemm in a linear or an attention, every GELU
# (and CLIP's QuickGELU sigmoid) and bias in a linear, no shape arithmetic left).
# $FUSION_KEEP (space-separated) takes ops off that list: Swin keeps its window rolls' slices.
vitc=$1 model=$2
. "$(dirname "$0")/fixture_batch.sh"
shift 2
stats=$("$vitc" ir "$model" $(fixture_batch "$model") --stats) || { echo "FAIL: vitc ir $model"; exit 1; }
count() { echo "$stats" | awk -v op="$1" '$1 == "op" && $2 == op { print $3 }'; }
fail=0
for want in "$@"; do
  op=${want%%=*} n=${want#*=}
  got=$(count "$op")
  [ "${got:-0}" = "$n" ] || { echo "FAIL: $model: ${got:-0} $op, expected $n"; fail=1; }
done
for op in matmul gemm conv softmax erf tanh sigmoid gelu shape slice identity expand where; do
  case " ${FUSION_KEEP:-} " in *" $op "*) continue ;; esac
  got=$(count "$op")
  [ -z "$got" ] || { echo "FAIL: $model: $got $op left"; fail=1; }
done
[ "$fail" = 0 ] && echo "ok: $model:" $(echo "$stats" | awk '$1 == "op" { printf "%s=%s ", $2, $3 }')
exit "$fail"
