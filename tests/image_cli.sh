#!/bin/sh
# image_cli.sh VITC FIXTURE TMP: what a user meets first, on a committed tiny ViT (FIXTURE.onnx,
# 3x32x32, 10 classes) and the images in tests/images:
# - `vitc run --image` prints `FILE: LABEL (PCT%)` and K-1 indented runners-up whose percentages
#   are a distribution; the interpreter and the compiled .so (batch 2, so a padded last batch)
#   print the same classes and percentages (to 0.1 %), and so does the C example built against
#   the loader;
# - the attention map and the position-embedding map are PNGs of the documented sizes;
# - `vitc inspect` reports the fixture's architecture; a .so shows its ABI and metadata;
# - `vitc ir --dot --svg` renders with Graphviz and labels fused ops;
# - `vitc --version` and `vitc COMMAND --help` for every command.
set -u
vitc=$1 fixture=$2 tmp=$3
images=$(cd "$(dirname "$0")/images" && pwd)
src=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$tmp"
mkdir -p "$tmp"
fail=0 pass=0
ok() { pass=$((pass + 1)); echo "PASS $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1"; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }

# PNG width and height from the IHDR chunk (bytes 16..23, big-endian).
png_size() { od -A n -t u1 -j 16 -N 8 "$1" | awk '{ printf "%dx%d", $1*16777216+$2*65536+$3*256+$4, $5*16777216+$6*65536+$7*256+$8 }'; }

imgs="$images/gradient.png $images/photo.jpg $images/palette.png"
# shellcheck disable=SC2086
"$vitc" run "$fixture.onnx" --image $imgs --top 3 >"$tmp/interp.txt" 2>"$tmp/interp.err"
check "interpreter classifies 3 images" '[ $? -eq 0 ] && [ "$(wc -l < "$tmp/interp.txt")" -eq 9 ]'
check "line format FILE: LABEL (PCT%)" \
  '[ "$(grep -cE "^/.*\.(png|jpg): [0-9]+ \([0-9]+\.[0-9]%\)$" "$tmp/interp.txt")" -eq 3 ] &&
   [ "$(grep -cE "^  [0-9]+ \([0-9]+\.[0-9]%\)$" "$tmp/interp.txt")" -eq 6 ]'
"$vitc" run "$fixture.onnx" --image "$images/photo.jpg" --top 10 >"$tmp/all.txt"
check "top 10 of 10 classes sum to 100%" \
  'sed -e "s/.*(//" -e "s/%)//" "$tmp/all.txt" | awk "{ s += \$1; n++ } END { exit !(n == 10 && s > 99.5 && s < 100.5) }"'
check "probabilities descend" \
  'sed -e "s/.*(//" -e "s/%)//" "$tmp/all.txt" | awk "NR > 1 && \$1 > p + 1e-9 { bad = 1 } { p = \$1 } END { exit bad }"'

"$vitc" compile "$fixture.onnx" --batch 2 -o "$tmp/model.so" -q
# shellcheck disable=SC2086
"$vitc" run "$tmp/model.so" --image $imgs --top 3 >"$tmp/compiled.txt"
check "compiled .so (batch 2, 3 images) prints what the interpreter prints" 'cmp -s "$tmp/interp.txt" "$tmp/compiled.txt"'
"$vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/one.so" -q
cc -std=c11 -Wall -Wextra -Werror -I"$src/runtime" -I"$src/image" -o "$tmp/classify_image" \
  "$src/examples/classify_image.c" "$(dirname "$vitc")/libvitrt.a" "$(dirname "$vitc")/libvitimg.so" -ldl -lm \
  -Wl,-rpath,"$(dirname "$vitc")"
# shellcheck disable=SC2086
"$tmp/classify_image" "$tmp/one.so" $imgs >"$tmp/example.txt"
check "examples/classify_image.c agrees with vitc run" \
  '[ "$(grep -v "^  " "$tmp/interp.txt")" = "$(cat "$tmp/example.txt")" ]'

"$vitc" run "$fixture.onnx" --image "$images/photo.jpg" --attention-map "$tmp/attention.png" >"$tmp/att.txt"
check "attention map: side by side 448 + 8 + 448 pixels" '[ "$(png_size "$tmp/attention.png")" = 904x448 ]'
check "attention map line" 'grep -q "^attention map: .*rollout over 2 layers, heads averaged, class token to 8x8 patches" "$tmp/att.txt"'
# Swin attends within windows: no rollout, one error line, no picture.
swin=$(dirname "$fixture")/swin_tv_tiny_op17.onnx
"$vitc" run "$swin" --image "$images/photo.jpg" --attention-map "$tmp/swin.png" >"$tmp/swin.out" 2>"$tmp/swin.err"
rc=$?
check "attention map of windowed attention (Swin): refused" \
  '[ $rc = 1 ] && [ ! -e "$tmp/swin.png" ] && grep -q "attention runs over 9 sequences for 1 image(s), windows of 16 tokens" "$tmp/swin.err"'

"$vitc" inspect "$fixture.onnx" >"$tmp/inspect.txt"
check "inspect: patch, width, depth, heads, MLP, parameters, fusion, FLOPs computed after prune_rows" \
  'grep -q "^  patch 4x4$" "$tmp/inspect.txt" && grep -q "width 64, depth 2, heads 2, MLP width 128, tokens 65" "$tmp/inspect.txt" &&
   grep -q "parameters 75100 " "$tmp/inspect.txt" && grep -q "2 of 2 softmax fused into attention" "$tmp/inspect.txt" &&
   grep -q "FLOPs per image 11.1 M" "$tmp/inspect.txt" &&
   grep -q "^  computed: 6.87 MFLOPs per image (38.0 % fewer: prune_rows" "$tmp/inspect.txt"'
"$vitc" inspect "$fixture.onnx" --pos-embed "$tmp/pos.png" >"$tmp/pos.txt"
check "position-embedding grid: 8x8 tiles of 8x8 cells, 20 px each, 2 px gaps" '[ "$(png_size "$tmp/pos.png")" = 1298x1298 ]'
"$vitc" inspect "$tmp/model.so" >"$tmp/inspect_so.txt"
check "inspect a .so" 'grep -q "compiled, ABI 4" "$tmp/inspect_so.txt" && grep -q "input input: f32\[2,3,32,32\]" "$tmp/inspect_so.txt" &&
  grep -q "; runs on this CPU$" "$tmp/inspect_so.txt"'

# A model compiled for a CPU this machine lacks: one error line naming what is missing, never SIGILL.
lack=""
for pair in x86-64-v3:avx2 x86-64-v4:avx512f cooperlake:avx512_bf16 sapphirerapids:amx_tile; do
  grep -qw "${pair#*:}" /proc/cpuinfo || { lack=$pair; break; }
done
if [ -n "$lack" ]; then
  "$vitc" compile "$fixture.onnx" --batch 1 --target-cpu "${lack%%:*}" -o "$tmp/other.so" -q
  "$vitc" run "$tmp/other.so" --image "$images/photo.jpg" >"$tmp/other.out" 2>"$tmp/other.err"
  rc=$?
  check "a .so for ${lack%%:*} is refused here with the missing features" \
    '[ $rc -eq 1 ] && [ ! -s "$tmp/other.out" ] && [ "$(wc -l <"$tmp/other.err")" -eq 1 ] &&
     grep -q "cannot run on this CPU: model needs [^;]*$(echo ${lack#*:} | sed "s/_/.\\\\?/g")" "$tmp/other.err"'
  cat "$tmp/other.err"
else
  echo "SKIP CPU refusal: skipped: this CPU has every feature vitc can target"
fi

# Several targets in one .so (--target-cpu portable = x86-64-v2,v3,v4): a session runs the best this CPU has;
# with a target it lacks listed after one it has, it still runs.
"$vitc" compile "$fixture.onnx" --batch 1 --target-cpu portable -o "$tmp/portable.so" -q
"$vitc" run "$tmp/portable.so" --input "$fixture.input.npy" --output "$tmp/portable.npy"
check "a portable .so matches torch here" '"$vitc" compare "$tmp/portable.npy" "$fixture.output.npy" --atol 1e-4 >/dev/null'
check "no target's code calls libm for FMA (x86-64-v2 has none: mul + add)" '! objdump -d "$tmp/portable.so" | grep -q "call.*<fmaf"'
check "inspect and the header list the targets" 'grep -q "_TARGET_CPU \"x86-64-v2,x86-64-v3,x86-64-v4\"" "$tmp/portable.h" &&
  "$vitc" inspect "$tmp/portable.so" | grep -q "target cpu x86-64-v2,x86-64-v3,x86-64-v4, needs ssse3,sse4.1,sse4.2,popcnt,cx16; runs on this CPU"'
"$vitc" compile "$fixture.onnx" --batch 1 --target-cpu x86-64-v2,sapphirerapids -o "$tmp/mixed.so" -q
"$vitc" run "$tmp/mixed.so" --input "$fixture.input.npy" --output "$tmp/mixed.npy"
check "x86-64-v2,sapphirerapids runs (and matches) wherever x86-64-v2 does" \
  '"$vitc" compare "$tmp/mixed.npy" "$fixture.output.npy" --atol 1e-4 >/dev/null'

# --prefix renames the entry points; vitc run still finds them.
"$vitc" compile "$fixture.onnx" --batch 1 --prefix tiny_vit -o "$tmp/prefixed.so" -q
"$vitc" run "$tmp/prefixed.so" --image "$images/photo.jpg" >"$tmp/prefixed.txt"
"$vitc" run "$tmp/one.so" --image "$images/photo.jpg" >"$tmp/one_photo.txt"
check "--prefix: the header declares tiny_vit_*, vitc run finds them" \
  'grep -q "^VITC_DECLARE_MODEL(tiny_vit)$" "$tmp/prefixed.h" && cmp -s "$tmp/prefixed.txt" "$tmp/one_photo.txt" &&
   nm -D --defined-only "$tmp/prefixed.so" | grep -q " tiny_vit_session_run$" &&
   ! nm -D --defined-only "$tmp/prefixed.so" | grep -q " vitc_session_run$"'

if command -v dot >/dev/null 2>&1; then
  "$vitc" ir "$fixture.onnx" --batch 1 --dot "$tmp/g.dot" --svg "$tmp/g.svg"
  check "ir --svg renders, fused ops labelled" 'grep -q "<svg" "$tmp/g.svg" && grep -q "fused attention heads=2" "$tmp/g.svg"'
else
  echo "SKIP ir --svg: graphviz is not installed"
fi

# IR text runs too when its constants are inline: a hand-written brightness classifier with metadata.
"$vitc" run "$images/tiny_classifier.vir" --image "$images/white.png" "$images/black.jpg" >"$tmp/vir.txt"
check "--image on IR text, preprocessing and labels from its meta lines" \
  '[ "$(cat "$tmp/vir.txt")" = "$images/white.png: bright (98.2%)
$images/black.jpg: dark (98.2%)" ]'

# compile's progress: stage lines on a terminal (script(1) gives it one), nothing when not a terminal or -q.
"$vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/p.so" 2>"$tmp/quiet.err"
check "compile is quiet when stderr is not a terminal" '[ ! -s "$tmp/quiet.err" ]'
if command -v script >/dev/null 2>&1; then
  script -qec "'$vitc' compile '$fixture.onnx' --batch 1 -o '$tmp/p.so'" /dev/null >"$tmp/tty.txt" 2>&1
  check "compile shows its stages on a terminal" \
    'grep -q "vitc: compile: \[ *[0-9.]* s, *[0-9]* MB\] loading and optimizing the model" "$tmp/tty.txt" && grep -q "\] wrote $tmp/p.so" "$tmp/tty.txt"'
  script -qec "'$vitc' compile '$fixture.onnx' --batch 1 -o '$tmp/p.so' -q" /dev/null >"$tmp/ttyq.txt" 2>&1
  check "-q silences it" '! grep -q "vitc: compile:" "$tmp/ttyq.txt"'
else
  echo "SKIP compile progress: script(1) is not installed"
fi

VITC_NUM_THREADS=abc "$vitc" run "$tmp/one.so" --input "$fixture.input.npy" --output "$tmp/nt.npy" 2>"$tmp/nt.err"
check "an invalid VITC_NUM_THREADS is ignored with a warning" \
  'grep -q "^vitc: warning: VITC_NUM_THREADS=.abc. is not a whole number from 1; ignored$" "$tmp/nt.err" && [ -s "$tmp/nt.npy" ]'

check "--version" '"$vitc" --version | grep -qE "^vitc [0-9]+\.[0-9]+\.[0-9]+ \(C ABI [0-9]+\)$"'
for c in compile run inspect ir test-onnx compare peak; do
  check "$c --help" '"$vitc" $c --help | head -n 1 | grep -q "^usage: vitc $c"'
done
# A bad option value is a command-line error (exit 2) in every command, an unreadable model is not (exit 1).
for c in ir run compile inspect; do
  "$vitc" $c "$fixture.onnx" --batch -1 -o "$tmp/never.so" >/dev/null 2>&1
  check "$c --batch -1 exits 2" '[ $? -eq 2 ]'
done
"$vitc" ir "$tmp/no_such_model.onnx" >/dev/null 2>&1
check "a missing model exits 1" '[ $? -eq 1 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
