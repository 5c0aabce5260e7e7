#!/bin/sh
# precision.sh VITC DIR [RUNS] [--accuracy]: reduced precision (docs/precision.md) on DIR/vit_s16_op17 and
# vit_b16_op17. Speed (part of `make bench`): each at batch 1, --precision fp32, bf16 and int8, on 1 and 2
# threads, alternating with ONNX Runtime's fp32 on the same input: medians of RUNS runs, the speed-up over
# vitc fp32 and the ratio to ORT, the .so's size and which product instructions it contains (objdump: the
# path this CPU's compile took). With --accuracy (`make bench-precision`): 64 seeded random inputs with
# torch's fp32 logits (tools/export_vit.py --batch-outputs 64), each precision compiled at batch 64:
# max abs and relative logit error against torch and top-1 agreement.
set -u
vitc=$1 dir=$2 runs=${3:-10} accuracy=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}/vitc_bench_precision
mkdir -p "$tmp"
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
ort=0
[ -d "$here/node_modules/onnxruntime-node" ] && command -v node >/dev/null 2>&1 && ort=1

# The narrow-product instructions in a compiled model (what its kernels run on this CPU).
path_of() {
  ins=$(objdump -d --no-show-raw-insn "$1" 2>/dev/null | grep -o -m 200 'vpdpbusd\|vpmaddubsw\|vdpbf16ps' | sort -u | tr '\n' ' ' | sed 's/ $//')
  case "$2" in
  fp32) echo "fp32 FMA" ;;
  bf16) [ -n "$ins" ] && echo "$ins" || echo "bf16 weights widened to fp32 (no AVX512-BF16)" ;;
  int8) echo "${ins:-plain IR}" ;;
  esac
}

echo "reduced precision, batch 1: $(lscpu | sed -n 's/^Model name: *//p' | head -n 1); CPU flags used:" \
  "$(grep -m1 -o -w 'avx2\|avx512bw\|avx512_vnni\|avx_vnni\|avx512_bf16' /proc/cpuinfo | sort -u | tr '\n' ' ' | sed 's/ $//')"
[ $ort = 1 ] || echo "ONNX Runtime: not measured (bench/node_modules/onnxruntime-node or node missing; make bench installs it)"
echo
echo "| model | precision | threads | vitc median ms | vitc min ms | x vitc fp32 | ORT fp32 median ms | vitc/ORT | .so MB | products |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for name in vit_s16_op17 vit_b16_op17; do
  p=$dir/$name
  [ -e "$p.onnx" ] || continue
  for prec in fp32 bf16 int8; do
    "$vitc" compile "$p.onnx" --batch 1 --precision $prec -o "$tmp/$name.$prec.so" -q || { echo "compile $name $prec failed"; continue; }
  done
  for t in 1 2; do
    omed="-"
    if [ $ort = 1 ] && o=$(node "$here/ort_bench.js" "$p.onnx" "$p.input.npy" $t "$runs" 2>/dev/null); then
      omed=$(echo "$o" | field median)
    fi
    f32=""
    for prec in fp32 bf16 int8; do
      [ -e "$tmp/$name.$prec.so" ] || continue
      v=$("$vitc" run "$tmp/$name.$prec.so" --threads $t --input "$p.input.npy" --bench "$runs")
      vmed=$(echo "$v" | field median) vmin=$(echo "$v" | field min)
      [ $prec = fp32 ] && f32=$vmed
      speed=$(awk "BEGIN { printf \"%.2f\", $f32 / $vmed }")
      ratio="-"
      [ "$omed" = "-" ] || ratio=$(awk "BEGIN { printf \"%.2f\", $vmed / $omed }")
      mb=$(($(stat -c %s "$tmp/$name.$prec.so") / 1048576))
      echo "| $name | $prec | $t | $vmed | $vmin | $speed | $omed | $ratio | $mb | $(path_of "$tmp/$name.$prec.so" $prec) |"
    done
  done
done

[ "$accuracy" = --accuracy ] || exit 0
echo
echo "accuracy: 64 seeded random inputs, logits against torch fp32 (tools/export_vit.py --batch-outputs 64)"
/usr/bin/python3 "$here/../tools/export_vit.py" --large --only vit_s16_op17,vit_b16_op17 --batch-outputs 64 --no-verify \
  --out "$tmp/acc" >"$tmp/export.log" 2>&1 || { echo "export failed: $(tail -n 3 "$tmp/export.log")"; exit 1; }
echo
echo "| model | precision | max abs logit error | relative to max abs logit | top-1 equal to torch | top-5 overlap |"
echo "|---|---|---|---|---|---|"
for name in vit_s16_op17 vit_b16_op17; do
  p=$tmp/acc/$name
  for prec in fp32 bf16 int8; do
    "$vitc" compile "$p.onnx" --batch 64 --precision $prec -o "$tmp/$name.$prec.b64.so" -q &&
      "$vitc" run "$tmp/$name.$prec.b64.so" --input "$p.input_b64.npy" --output "$tmp/$name.$prec.b64.npy" ||
      { echo "| $name | $prec | failed | | | |"; continue; }
    /usr/bin/python3 - "$p.output_b64.npy" "$tmp/$name.$prec.b64.npy" "$name" "$prec" <<'PY'
import sys
import numpy as np
ref, got = np.load(sys.argv[1]), np.load(sys.argv[2])
err = np.abs(got - ref).max()
top1 = int((got.argmax(1) == ref.argmax(1)).sum())
t5 = np.mean([len(set(np.argsort(-g)[:5]) & set(np.argsort(-r)[:5])) / 5 for g, r in zip(got, ref)])
print(f"| {sys.argv[3]} | {sys.argv[4]} | {err:.2e} | {err / np.abs(ref).max():.2e} | {top1} / {len(ref)} | {t5:.0%} |")
PY
  done
done
