#!/bin/sh
# run.sh SECONDS: builds the libFuzzer targets with clang-19 (build-fuzz/: every library instrumented for
# coverage, ASan and UBSan) and runs each for SECONDS on a fresh corpus seeded with the committed fixtures:
# fuzz_onnx (model bytes through import, shapes, verifier, every pass, the planner), fuzz_ir (IR text through
# the parser, verifier, printer round trip and every pass), fuzz_npy (.npy bytes). A crash, sanitizer report
# or leak fails the run and names the reproducer file, which belongs under tests/fuzz/regressions/ once
# fixed (every file there is replayed first). So does one input that runs for more than UNIT_SECONDS (60): a
# model of a few hundred kilobytes must not keep the compiler busy for minutes.
set -e
seconds=${1:-60}
unit_seconds=60
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
CC=clang-19 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DVITC_FUZZ=ON -DVITC_WERROR=OFF >/dev/null
cmake --build build-fuzz -j "$(nproc)" --target fuzz_onnx fuzz_ir fuzz_npy -- --no-print-directory >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/onnx" "$work/ir" "$work/npy" "$work/crash"
cp tests/models/*.onnx tests/bad/*.onnx examples/digits/digits_vit.onnx "$work/onnx/"
cp tests/golden/*.vir tests/backend/*.vir tests/images/*.vir tests/bad/*.vir "$work/ir/"
cp tests/models/vit_tv_tiny_op13.input.npy tests/bad/*.npy examples/digits/heldout_y.npy "$work/npy/"
fail=0 failed=0
for t in onnx ir npy; do
  before=$fail
  if ls tests/fuzz/regressions/$t/* >/dev/null 2>&1; then
    ./build-fuzz/fuzz_$t -timeout="$unit_seconds" tests/fuzz/regressions/$t/* >"$work/$t.replay.log" 2>&1 ||
      { echo "FAIL fuzz_$t: a regression input fails again"; tail -n 20 "$work/$t.replay.log"; fail=1; }
  fi
  if ./build-fuzz/fuzz_$t "$work/$t" -max_total_time="$seconds" -timeout="$unit_seconds" -rss_limit_mb=4096 -max_len=1048576 \
       -artifact_prefix="$work/crash/$t-" >"$work/$t.log" 2>&1; then
    echo "fuzz_$t: $(grep -o 'Done [0-9]* runs in [0-9]* second(s)' "$work/$t.log"), no finding"
  else
    echo "FAIL fuzz_$t: a finding; the log's end:"; tail -n 30 "$work/$t.log"
    mkdir -p "$root/build-fuzz/findings" && cp "$work/crash/"* "$root/build-fuzz/findings/" 2>/dev/null || true
    echo "reproducers copied to build-fuzz/findings/"
    fail=1
  fi
  [ $fail = $before ] || failed=$((failed + 1))
done
echo "$((3 - failed)) passed, $failed failed"
exit $fail
