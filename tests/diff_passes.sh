#!/bin/sh
# diff_passes.sh VITC FIXTURE_PREFIX TMP: differential test of the optimizer.
# Runs FIXTURE.input.npy through the interpreter on the imported IR (-O0), then
# after each pass alone, after each prefix of the pipeline and after the whole
# pipeline, with the verifier after every pass; each result must match -O0
# within ATOL (1e-5).
set -e
vitc=$1 prefix=$2 tmp=$3 atol=${4:-1e-5}
. "$(dirname "$0")/fixture_batch.sh"
run() {
  out=$1
  shift
  "$vitc" run "$prefix.onnx" $(fixture_batch "$prefix.onnx") --input "$prefix.input.npy" --output "$out" "$@"
}
check() {
  if ! "$vitc" compare "$1" "$tmp.O0.npy" --atol "$atol" > "$tmp.cmp"; then
    echo "FAIL: $2 differs from -O0: $(cat "$tmp.cmp")"
    exit 1
  fi
}
run "$tmp.O0.npy" -O0
passes=$("$vitc" --help | sed -n '/^passes, in pipeline order:/,$p' | awk 'NR > 1 && NF { print $1 }')
[ -n "$passes" ] || { echo "FAIL: no pass list in vitc --help"; exit 1; }
prefix_list=
for p in $passes; do
  prefix_list=${prefix_list:+$prefix_list,}$p
  run "$tmp.$p.npy" --passes="$p" --verify-each
  check "$tmp.$p.npy" "--passes=$p"
  run "$tmp.upto_$p.npy" --passes="$prefix_list" --verify-each
  check "$tmp.upto_$p.npy" "--passes=$prefix_list"
done
run "$tmp.all.npy" --verify-each
check "$tmp.all.npy" "the whole pipeline"
echo "ok: $(echo $passes | wc -w) passes alone and as prefixes match -O0 within $atol"
