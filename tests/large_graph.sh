#!/bin/sh
# large_graph.sh VITC TMP: a 100,000-node chain of IR text goes through the parser, the verifier, every pass
# and the memory planner (ctest gives the whole script 60 s; it takes a few seconds: every step is linear or
# n log n in the graph's size), and a duplicate name deep in it is still found. Then a chain whose one
# reader takes row 0 (prune_rows moves the selection up all 100,000 nodes: it once rebuilt its index of
# readers and searched every name per node, minutes on a fuzzed model of 30,000).
set -e
vitc=$1 tmp=$2
mkdir -p "$tmp"
awk 'BEGIN { print "graph \"chain\" opset 17"; print "input %x: f32[4]"; p = "x";
  for (i = 0; i < 100000; i++) { printf "%%v%d: f32[4] = relu(%%%s) @\"n%d\"\n", i, p, i; p = "v" i }
  print "output %" p }' >"$tmp/chain.vir"
"$vitc" ir "$tmp/chain.vir" --stats >"$tmp/stats.txt"
grep -q "^op relu 100000$" "$tmp/stats.txt"
sed 's/^%v99999: /%v5: /' "$tmp/chain.vir" >"$tmp/dup.vir"
if "$vitc" ir "$tmp/dup.vir" -O0 --stats >/dev/null 2>"$tmp/dup.err"; then echo "FAIL: duplicate name accepted"; exit 1; fi
grep -q "v5" "$tmp/dup.err"
awk 'BEGIN { print "graph \"rows\" opset 17"; print "input %x: f32[8,4]"; print "const %i0: i64[] = [0]"; p = "x";
  for (i = 0; i < 100000; i++) { printf "%%v%d: f32[8,4] = relu(%%%s) @\"n%d\"\n", i, p, i; p = "v" i }
  printf "%%y: f32[4] = gather(%%%s, %%i0) {axis=0} @\"cls\"\n", p; print "output %y" }' >"$tmp/rows.vir"
"$vitc" ir "$tmp/rows.vir" >"$tmp/rows.txt"
pruned=$(grep -c '^%v[0-9]*/rows: f32\[1,4\] = relu(' "$tmp/rows.txt")
[ "$pruned" = 100000 ] || { echo "FAIL: $pruned of 100000 relus pruned to row 0"; exit 1; }
# 20,000 copies of relu(x) (CSE makes them one) summed in a chain, row 0 read: every add takes row 0 of the
# one relu, which once meant 20,000 Gathers named x/rows_1, x/rows_2 ... (each name found by trying the
# ones before it) and 20,000 bypasses of the node list: minutes. Now one shared Gather.
awk 'BEGIN { print "graph \"fan\" opset 17"; print "input %x: f32[8,4]"; print "const %i0: i64[] = [0]";
  for (i = 0; i < 20000; i++) printf "%%r%d: f32[8,4] = relu(%%x) @\"r%d\"\n", i, i;
  p = "r0"; for (i = 1; i < 20000; i++) { printf "%%s%d: f32[8,4] = add(%%%s, %%r%d) @\"s%d\"\n", i, p, i, i; p = "s" i }
  printf "%%y: f32[4] = gather(%%%s, %%i0) {axis=0} @\"cls\"\n", p; print "output %y" }' >"$tmp/fan.vir"
"$vitc" ir "$tmp/fan.vir" >"$tmp/fan.txt"
adds=$(grep -c '^%s[0-9]*/rows: f32\[1,4\] = add(' "$tmp/fan.txt")
gathers=$(grep -c '= gather(' "$tmp/fan.txt")
[ "$adds" = 19999 ] && [ "$gathers" = 2 ] || { echo "FAIL: fan: $adds of 19999 adds pruned, $gathers gathers (want 2)"; exit 1; }
# 200,000 chained Slices through every pass and the memory plan: canonicalize once looked through every
# node for the other Slices of each one's input (80,000: over 60 s), and the planner through every placed
# buffer for each one it placed (100,000: 16 s, so 200,000 about a minute).
awk 'BEGIN { print "graph \"slices\" opset 17"; print "input %x: f32[8,4]"; print "const %a: i64[1] = [0]";
  print "const %b: i64[1] = [4]"; print "const %ax: i64[1] = [1]"; p = "x";
  for (i = 0; i < 200000; i++) { printf "%%v%d: f32[8,4] = slice(%%%s, %%a, %%b, %%ax) @\"n%d\"\n", i, p, i; p = "v" i }
  print "output %" p }' >"$tmp/slices.vir"
"$vitc" ir "$tmp/slices.vir" --stats >"$tmp/slices.txt"
grep -q "^op slice 200000$" "$tmp/slices.txt" || { echo "FAIL: slices: $(grep '^op' "$tmp/slices.txt")"; exit 1; }
echo "100000-node chain: optimized and planned; a duplicate name found: $(cat "$tmp/dup.err"); a row-0 reader pruned all 100000 nodes, and 19999 adds of one relu; 200000 slices planned"
