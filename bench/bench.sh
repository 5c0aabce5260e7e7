#!/bin/sh
# bench.sh VITC DIR [RUNS]: `make bench`. For each of DIR/vit_s16_op17, vit_b16_op17, vit_l16_op17 (or
# DIR/large/vit_l16_op17, `make models-large`), swin_t_op17 and maxvit_t_op17 that exists (tools/export_vit.py
# --large --batch-outputs 3,8; batch 8 only where its input was written), at batch 1 and 8 on 1 and 2 threads, times vitc
# and ONNX Runtime (npm's onnxruntime-node, installed into bench/) alternately and prints one markdown row:
# medians and minimums of RUNS runs, images/s, vitc/ORT (below 1: vitc is faster) and vitc's share of this
# machine's FMA peak (`vitc peak`); then each model's compile time, compiler peak RSS, run peak RSS and time
# to first prediction (a fresh process: load, session, one run). Without ONNX Runtime (npm unreachable) it
# prints vitc's numbers alone and says why. Speed is measured here, never in tests.
set -u
vitc=$1 dir=$2 runs=${3:-10}
here=$(cd "$(dirname "$0")" && pwd)
tmp=${TMPDIR:-/tmp}/vitc_bench
mkdir -p "$tmp"

ort=1 why=""
if [ ! -d "$here/node_modules/onnxruntime-node" ] &&
   ! (cd "$here" && npm install --ignore-scripts --no-audit --no-fund >"$tmp/npm.log" 2>&1); then
  ort=0 why="npm install onnxruntime-node failed: $(tail -n 1 "$tmp/npm.log")"
fi
command -v node >/dev/null 2>&1 || { ort=0; why="node is not installed"; }

# "SECONDS KB" of a command's wall time and peak RSS (GNU time when present, else wall time only).
measure() {
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$tmp/time.txt" "$@" >/dev/null 2>"$tmp/cmd.err" || return 1
    cat "$tmp/time.txt"
  else
    s=$(date +%s.%N)
    "$@" >/dev/null 2>"$tmp/cmd.err" || return 1
    echo "$(echo "$(date +%s.%N) $s" | awk '{printf "%.2f", $1 - $2}') n/a"
  fi
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }

isa=$("$vitc" peak | sed 's/.* isa //')
peak1=$("$vitc" peak --threads 1 | awk '{print $2}')
peak2=$("$vitc" peak --threads 2 | awk '{print $2}')
echo "vitc benchmark, $(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs;"
echo "measured $isa peak: $peak1 GFLOP/s on 1 thread, $peak2 on 2; $runs timed runs after a warm-up."
[ $ort = 1 ] || echo "ONNX Runtime: not measured ($why)"
echo
echo "| model | batch | threads | vitc median ms | vitc min ms | images/s | ORT median ms | ORT min ms | vitc/ORT | vitc % of peak |"
echo "|---|---|---|---|---|---|---|---|---|---|"
extra=""
for name in vit_s16_op17 vit_b16_op17 vit_l16_op17 swin_t_op17 maxvit_t_op17; do
  p=$dir/$name
  [ -e "$p.onnx" ] || p=$dir/large/$name # ViT-L/16 from `make models-large` (batch 1 only: no batch-8 input)
  [ -e "$p.onnx" ] || continue
  # FLOPs the compiled code performs (after prune_rows, when it computes fewer than the model's).
  info=$("$vitc" inspect "$p.onnx")
  gflop=$(echo "$info" | sed -n 's/^  computed: \([0-9.]*\) GFLOPs per image.*/\1/p')
  [ -n "$gflop" ] || gflop=$(echo "$info" | sed -n 's/.*FLOPs per image \([0-9.]*\) G.*/\1/p')
  c1=$(measure "$vitc" compile "$p.onnx" --batch 1 -o "$tmp/$name.b1.so" -q) || { echo "compile failed: $(cat "$tmp/cmd.err")"; continue; }
  first=$(measure "$vitc" run "$tmp/$name.b1.so" --threads 2 --input "$p.input.npy" --output "$tmp/first.npy")
  extra="$extra
$name: compile $(echo $c1 | awk '{print $1}') s, compiler peak RSS $(echo $c1 | awk '{print $2 / 1024}') MB, .so $(($(stat -c %s "$tmp/$name.b1.so") / 1048576)) MB; first prediction (new process, 2 threads) $(echo $first | awk '{print $1}') s, run peak RSS $(echo $first | awk '{print $2 / 1024}') MB"
  for b in 1 8; do
    x=$p.input.npy
    [ $b = 1 ] || x=$p.input_b$b.npy
    [ -e "$x" ] || continue
    [ $b = 1 ] || "$vitc" compile "$p.onnx" --batch $b -o "$tmp/$name.b$b.so" -q || continue
    for t in 1 2; do
      v=$("$vitc" run "$tmp/$name.b$b.so" --threads $t --input "$x" --bench "$runs")
      vmed=$(echo "$v" | field median) vmin=$(echo "$v" | field min)
      omed="-" omin="-" ratio="-"
      if [ $ort = 1 ] && o=$(node "$here/ort_bench.js" "$p.onnx" "$x" $t "$runs" 2>"$tmp/ort.err"); then
        omed=$(echo "$o" | field median) omin=$(echo "$o" | field min)
        ratio=$(awk "BEGIN { printf \"%.2f\", $vmed / $omed }")
      fi
      peak=$peak1
      [ $t = 1 ] || peak=$peak2
      ips=$(awk "BEGIN { printf \"%.1f\", $b * 1000 / $vmed }")
      pct=$(awk "BEGIN { printf \"%.0f %%\", 100 * $gflop * $b / ($vmed / 1000) / $peak }")
      echo "| $name | $b | $t | $vmed | $vmin | $ips | $omed | $omin | $ratio | $pct |"
    done
  done
done
echo "$extra"
