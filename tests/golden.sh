#!/bin/sh
# golden.sh VITC FILE.vir TMP: runs the golden IR test cases in FILE.
#
# Cases are separated by lines starting with `# -----`. In each case:
#   # RUN: vitc ARGS        run vitc (`%s` is this case's text as a file);
#                           `# RUN: not vitc ARGS` expects a non-zero exit.
#                           Several RUN lines: their outputs are checked together.
#   # CHECK: TEXT           a later output line contains TEXT (in order; each
#                           CHECK matches a line after the previous match)
#   # CHECK-NOT: TEXT       no line between the surrounding CHECK matches
#                           (or after the last one) contains TEXT
# stdout and stderr are checked together. Prints one line per failing case.
vitc=$1 file=$2 tmp=$3
mkdir -p "$(dirname "$tmp")"
n=$(awk -v base="$tmp" '
  BEGIN { c = 1 }
  /^# -----/ { c++; next }
  { print > (base "." c ".vir") }
  END { print c }' "$file")
fails=0
i=1
while [ "$i" -le "$n" ]; do
  case_file=$tmp.$i.vir out=$tmp.$i.out
  : > "$out"
  grep '^# RUN: ' "$case_file" | sed 's/^# RUN: //' > "$tmp.$i.run"
  if [ ! -s "$tmp.$i.run" ]; then
    echo "FAIL: $file case $i: no RUN line"
    fails=$((fails + 1))
    i=$((i + 1))
    continue
  fi
  status=ok
  while IFS= read -r cmd; do
    expect_fail=0
    case $cmd in not\ *) expect_fail=1 cmd=${cmd#not } ;; esac
    cmd=$(printf '%s' "$cmd" | sed "s|^vitc |\"\$vitc\" |; s|%s|\"\$case_file\"|g")
    if eval "$cmd" >> "$out" 2>&1; then rc=0; else rc=$?; fi
    if [ "$expect_fail" = 1 ] && [ "$rc" = 0 ]; then status="expected a failure: $cmd"; fi
    if [ "$expect_fail" = 0 ] && [ "$rc" != 0 ]; then status="exit status $rc: $cmd"; fi
    if [ "$rc" -gt 128 ]; then status="crashed (signal $((rc - 128))): $cmd"; fi
  done < "$tmp.$i.run"
  sed -n 's/^# CHECK: /CHECK	/p; s/^# CHECK-NOT: /NOT	/p' "$case_file" > "$tmp.$i.checks"
  if [ "$status" = ok ]; then
    status=$(awk -v outf="$out" -v dirf="$tmp.$i.checks" '
      function fail(msg) { print msg; bad = 1; exit }
      function check_nots(lo, hi,   j, k) {
        for (j = 1; j <= nn; j++)
          for (k = lo; k < hi; k++)
            if (index(out[k], nots[j])) fail("CHECK-NOT: " nots[j] " matched output line " k ": " out[k])
        nn = 0
      }
      BEGIN {
        while ((getline line < outf) > 0) out[++n] = line
        pos = 1; nn = 0; bad = 0
        while ((getline d < dirf) > 0) {
          tab = index(d, "\t"); kind = substr(d, 1, tab - 1); pat = substr(d, tab + 1)
          if (kind == "NOT") { nots[++nn] = pat; continue }
          found = 0
          for (k = pos; k <= n && !found; k++) if (index(out[k], pat)) found = k
          if (!found) fail("CHECK: " pat " not found after output line " pos - 1)
          check_nots(pos, found)
          pos = found + 1
        }
        check_nots(pos, n + 1)
        print "ok"
      }')
  fi
  if [ "$status" != ok ]; then
    echo "FAIL: $file case $i: $status"
    echo "--- output:"
    cat "$out"
    fails=$((fails + 1))
  fi
  i=$((i + 1))
done
[ "$fails" = 0 ] && echo "ok: $n cases in $file"
[ "$fails" = 0 ]
