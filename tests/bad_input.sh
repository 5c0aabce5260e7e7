#!/bin/sh
# bad_input.sh VITC DIR TMP: for each DIR/NAME.expect, runs vitc on DIR/NAME.* (the
# command from NAME.args, default `ir MODEL`) and checks: non-zero exit, no crash
# (no signal), exactly one stderr line starting "vitc: error: " and containing
# the expected text, no output file left behind, and no leak under valgrind when present.
vitc=$1 dir=$2 tmp=$3
mkdir -p "$tmp"
VG=""
command -v valgrind >/dev/null 2>&1 && VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
fail=0 count=0
cd "$dir" || exit 1
for expect in *.expect; do
  name=${expect%.expect}
  file=$(ls "$name".* | grep -v -e '\.expect$' -e '\.args$' | head -n 1)
  args="ir MODEL"
  [ -f "$name.args" ] && args=$(cat "$name.args")
  out="$tmp/$name.out.npy"
  rm -f "$out"
  cmd=$(echo "$args" | sed -e "s|MODEL|$file|" -e "s|OUT|$out|")
  # shellcheck disable=SC2086
  $VG "$vitc" $cmd >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
  rc=$?
  want=$(cat "$expect")
  lines=$(wc -l < "$tmp/$name.stderr")
  count=$((count + 1))
  if [ $rc -eq 0 ] || [ $rc -ge 99 ]; then
    echo "FAIL $name: exit status $rc"; cat "$tmp/$name.stderr"; fail=$((fail + 1))
  elif [ "$lines" -ne 1 ] || ! grep -q "^vitc: error: " "$tmp/$name.stderr" || ! grep -qF "$want" "$tmp/$name.stderr"; then
    echo "FAIL $name: expected one line containing '$want', got:"; cat "$tmp/$name.stderr"; fail=$((fail + 1))
  elif [ -e "$out" ]; then
    echo "FAIL $name: left an output file behind"; fail=$((fail + 1))
  else
    echo "PASS $name: $(cat "$tmp/$name.stderr")"
  fi
done
echo "$((count - fail)) passed, $fail failed"
[ $fail -eq 0 ]
