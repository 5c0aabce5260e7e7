#!/bin/sh
# bad_input.sh VITC DIR TMP: for each DIR/NAME.expect, runs vitc on DIR/NAME.* (the
# command from NAME.args, default `ir MODEL`; OUT stands for an output path) and checks:
# non-zero exit, no crash (no signal), exactly one stderr line starting "vitc: error: "
# and containing the expected text, no output file left behind (OUT, or any file named
# like it: a compiled model's header), nothing on stdout (no half-done work, such as some
# images classified before a bad one; test-onnx reports its cases there), and no leak under valgrind when
# present (VITC_VALGRIND=0 turns it off: `make test-asan` runs these under AddressSanitizer instead).
# Two cases run at a time (valgrind is slow); the checks follow in order.
vitc=$1 dir=$2 tmp=$3
mkdir -p "$tmp"
VG=""
[ "${VITC_VALGRIND:-1}" = 1 ] && command -v valgrind >/dev/null 2>&1 && VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"
cd "$dir" || exit 1

# Runs case $1: its stdout, stderr and exit status go to $tmp/$1.{stdout,stderr,rc}.
run_case() {
  name=$1
  file=$(ls -d "$name".* | grep -v -e '\.expect$' -e '\.args$' | head -n 1)
  args="ir MODEL"
  [ -f "$name.args" ] && args=$(cat "$name.args")
  rm -f "$tmp/$name".out*
  cmd=$(echo "$args" | sed -e "s|MODEL|$file|" -e "s|OUT|$tmp/$name.out.npy|")
  # shellcheck disable=SC2086
  $VG "$vitc" $cmd >"$tmp/$name.stdout" 2>"$tmp/$name.stderr"
  echo $? >"$tmp/$name.rc"
}

n=0
for expect in *.expect; do
  run_case "${expect%.expect}" &
  n=$((n + 1))
  [ $((n % 2)) -eq 0 ] && wait
done
wait

fail=0 count=0
for expect in *.expect; do
  name=${expect%.expect}
  rc=$(cat "$tmp/$name.rc")
  want=$(cat "$expect")
  lines=$(wc -l < "$tmp/$name.stderr")
  count=$((count + 1))
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 99 ]; then
    echo "FAIL $name: exit status $rc"; cat "$tmp/$name.stderr"; fail=$((fail + 1))
  elif [ "$lines" -ne 1 ] || ! grep -q "^vitc: error: " "$tmp/$name.stderr" || ! grep -qF -- "$want" "$tmp/$name.stderr"; then
    echo "FAIL $name: expected one line containing '$want', got:"; cat "$tmp/$name.stderr"; fail=$((fail + 1))
  elif [ -s "$tmp/$name.stdout" ] && ! grep -q "^test-onnx" "$name.args" 2>/dev/null; then
    echo "FAIL $name: printed to stdout before failing:"; cat "$tmp/$name.stdout"; fail=$((fail + 1))
  elif ls "$tmp/$name".out* >/dev/null 2>&1; then
    echo "FAIL $name: left an output file behind:" "$tmp/$name".out*; fail=$((fail + 1))
  else
    echo "PASS $name: $(cat "$tmp/$name.stderr")"
  fi
done
echo "$((count - fail)) passed, $fail failed"
[ $fail -eq 0 ]
