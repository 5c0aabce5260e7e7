#!/bin/sh
# conformance_expect.sh VITC NODE_DIR TMP: `vitc test-onnx --select --expect FILE` on five ONNX node tests
# (a pass, an interpreter failure, a dtype skip, a case dropped for a missing op, a compiled-only failure).
# The exact expectations pass in both runs; every kind of difference fails the run with one error line
# and names the case on stdout: a failure, skip or drop not listed, a listed case that passes (also one
# listed as UNSUPPORTED for an op vitc has: an op removed from the table fails the same way), a listed
# case with another result or other missing ops, a listed case not given; a malformed FILE is an error.
vitc=$1 node=$2 tmp=$3
mkdir -p "$tmp"
cases="$node/test_relu $node/test_training_dropout $node/test_add_uint8 $node/test_hardmax_axis_0
       $node/test_pow_types_int64_float32"
exact='# a comment, then a blank line

test_training_dropout          both      FAIL         random mask
test_add_uint8                 both      SKIP         dtype uint8 not computed
test_hardmax_axis_0            both      UNSUPPORTED  missing op Hardmax
test_pow_types_int64_float32   compiled  FAIL         integer-base Pow'
fails=0

# run NAME TEXT [OPTION]: test-onnx --select --expect (TEXT as the file) on the cases; exit status in $rc.
run() {
  printf '%s\n' "$2" > "$tmp/$1.txt"
  # shellcheck disable=SC2086 # $cases and $3 split into words
  "$vitc" test-onnx --select $3 --expect "$tmp/$1.txt" $cases > "$tmp/$1.out" 2> "$tmp/$1.err"
  rc=$?
}
fail() {
  echo "FAIL $1: $2"
  sed 's/^/  | /' "$tmp/$1.out" "$tmp/$1.err"
  fails=$((fails + 1))
}
# ok NAME TEXT [OPTION]: the run matches the file.
ok() {
  run "$@"
  if [ "$rc" != 0 ] || [ -s "$tmp/$1.err" ] || ! grep -q "^every case as .* expects" "$tmp/$1.out"; then
    fail "$1" "expected a clean run, got exit status $rc"
  else
    echo "PASS $1"
  fi
}
# differs NAME TEXT OPTION WANT...: exit status 1, one stderr line, and each WANT on stdout.
differs() {
  name=$1 text=$2 opt=$3
  shift 3
  run "$name" "$text" "$opt"
  if [ "$rc" != 1 ] || [ "$(wc -l < "$tmp/$name.err")" != 1 ] || ! grep -q "^vitc: error: test-onnx: " "$tmp/$name.err"; then
    fail "$name" "expected exit status 1 and one error line, got $rc"
    return
  fi
  for want in "$@"; do
    grep -qF -- "$want" "$tmp/$name.out" || { fail "$name" "stdout lacks '$want'"; return; }
  done
  echo "PASS $name"
}
# bad NAME TEXT WANT: a malformed file: exit status 1, one error line containing WANT, no case run.
bad() {
  run "$1" "$2" ""
  if [ "$rc" != 1 ] || [ "$(wc -l < "$tmp/$1.err")" != 1 ] || ! grep -qF -- "$3" "$tmp/$1.err" || [ -s "$tmp/$1.out" ]; then
    fail "$1" "expected exit status 1 and one error line containing '$3', got $rc"
  else
    echo "PASS $1"
  fi
}

ok interpreted "$exact"
ok compiled "$exact" --compiled
differs unlisted_fail "$(echo "$exact" | grep -v training_dropout)" "" \
  "test_training_dropout: FAIL in the interpreted run but not listed" \
  "add \`test_training_dropout  both  FAIL  REASON\`" "1 difference from"
differs unlisted_compiled "$(echo "$exact" | grep -v pow_types)" --compiled \
  "test_pow_types_int64_float32: FAIL in the compiled run but not listed" \
  "add \`test_pow_types_int64_float32  compiled  FAIL  REASON\`"
differs unlisted_skip "$(echo "$exact" | grep -v uint8)" "" "test_add_uint8: SKIP in the interpreted run but not listed"
differs unlisted_unsupported "$(echo "$exact" | grep -v hardmax)" "" \
  "test_hardmax_axis_0: UNSUPPORTED in the interpreted run but not listed" \
  "add \`test_hardmax_axis_0  both  UNSUPPORTED  missing op Hardmax\`"
differs unexpected_pass "$exact
test_relu  both  FAIL  was broken" "" "test_relu: unexpected pass in the interpreted run: remove it from"
differs op_in_table "$exact
test_relu  both  UNSUPPORTED  missing op Relu" "" "test_relu: unexpected pass in the interpreted run"
differs compiled_entry_passes "$(echo "$exact" | sed 's/compiled  FAIL/both  FAIL/')" "" \
  "test_pow_types_int64_float32: unexpected pass in the interpreted run"
differs other_result "$(echo "$exact" | sed 's/both      SKIP/both      FAIL/')" "" \
  "test_add_uint8: SKIP in the interpreted run, but $tmp/other_result.txt line 4 says FAIL"
differs other_ops "$(echo "$exact" | sed 's/missing op Hardmax/missing ops Hardmax, Relu/')" "" \
  "test_hardmax_axis_0: missing op Hardmax, but $tmp/other_ops.txt line 5 says missing ops Hardmax, Relu"
differs not_given "$exact
test_no_such_case  both  FAIL  gone" "" \
  "test_no_such_case: listed in $tmp/not_given.txt (line 7) but not among the cases given"
differs several "$(echo "$exact" | grep -v -e training_dropout -e hardmax)
test_relu  both  SKIP  x" "" "3 differences from"

bad bad_mode "test_relu  sometimes  FAIL  x" "bad_mode.txt: line 1: mode 'sometimes' is not interpreted, compiled or both"
bad bad_result "test_relu  both  PASS  x" "bad_result.txt: line 1: result 'PASS' is not FAIL, SKIP or UNSUPPORTED"
bad no_reason "
test_relu  both  FAIL" "no_reason.txt: line 2: expected \`CASE MODE RESULT reason\`"
bad twice "test_relu  compiled  FAIL  x
test_relu  both  FAIL  y" "twice.txt: line 2: test_relu is listed twice for one run (line 1 too)"
"$vitc" test-onnx --expect "$tmp/no_such_file.txt" $cases > /dev/null 2> "$tmp/missing.err"
if [ $? = 1 ] && grep -q "^vitc: error: .*no_such_file.txt" "$tmp/missing.err"; then echo "PASS missing_file"
else echo "FAIL missing_file: $(cat "$tmp/missing.err")"; fails=$((fails + 1)); fi

echo "$fails failed"
[ "$fails" = 0 ]
