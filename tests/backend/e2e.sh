#!/bin/sh
# e2e.sh VITC MODEL.vir TMPDIR: compiles MODEL with `vitc compile` (at -O3 and
# -O0), runs the .so with `vitc run` (1 and 3 threads) on seeded random inputs
# and checks every output against the reference interpreter with `vitc compare`;
# then builds examples/run_model.c against the generated model.h and runs it.
set -e
vitc=$1 model=$2 tmp=$3
examples=$(cd "$(dirname "$0")/../../examples" && pwd)
# A `# atol: X` line in the model sets its tolerance (default 1e-6); $ATOL overrides both.
atol=${ATOL:-$(sed -n 's/^# atol: *//p' "$model" | head -n 1)}
atol=${atol:-1e-6}
rm -rf "$tmp"
mkdir -p "$tmp"
# One random .npy per `input %name: dtype[dims]` line (floats in [-2, 2],
# integers in [-9, 9] without 0 so that they can divide, bools 0/1).
/usr/bin/python3 - "$model" "$tmp" <<'EOF'
import random, re, struct, sys
model, tmp = sys.argv[1], sys.argv[2]
rng = random.Random(1234)
fmt = {"f32": ("<f4", "f"), "i64": ("<i8", "q"), "i32": ("<i4", "i"), "bool": ("|b1", "B")}
k = 0
for line in open(model):
    m = re.match(r'input %"?([^":]+)"?: (\w+)\[([0-9,]*)\]', line)
    if not m:
        continue
    dtype, dims = m.group(2), [int(x) for x in m.group(3).split(",") if x]
    n = 1
    for d in dims:
        n *= d
    descr, code = fmt[dtype]
    if dtype == "f32": vals = [rng.uniform(-2, 2) for _ in range(n)]
    elif dtype == "bool": vals = [rng.randint(0, 1) for _ in range(n)]
    else: vals = [rng.choice([-1, 1]) * rng.randint(1, 9) for _ in range(n)]
    shape = "(" + "".join("%d, " % d for d in dims) + ")" if len(dims) != 1 else "(%d,)" % dims[0]
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape)
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    with open("%s/in%d.npy" % (tmp, k), "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (n, code), *vals))
    k += 1
EOF
ins="" outs_want="" outs_got=""
for f in "$tmp"/in*.npy; do [ -e "$f" ] && ins="$ins --input $f"; done
n_out=$(grep -c '^output ' "$model")
i=0
while [ $i -lt "$n_out" ]; do
  outs_want="$outs_want --output $tmp/want$i.npy"
  outs_got="$outs_got --output $tmp/got$i.npy"
  i=$((i + 1))
done
# shellcheck disable=SC2086
"$vitc" run "$model" $ins $outs_want
for opt in -O3 -O0; do
  "$vitc" compile "$model" -o "$tmp/model.so" $opt
  test -f "$tmp/model.h"
  for threads in 1 3; do
    rm -f "$tmp"/got*.npy
    # shellcheck disable=SC2086
    "$vitc" run "$tmp/model.so" --threads $threads $ins $outs_got
    i=0
    while [ $i -lt "$n_out" ]; do
      "$vitc" compare "$tmp/got$i.npy" "$tmp/want$i.npy" --atol "$atol" >/dev/null
      i=$((i + 1))
    done
  done
done
# The header works for a program that links the model directly.
${CC:-cc} -std=c11 -Wall -Werror -I"$tmp" -o "$tmp/run_model" "$examples/run_model.c" "$tmp/model.so" -Wl,-rpath,"$tmp"
"$tmp/run_model" 2 >/dev/null
# No temporaries left next to the output.
left=$(ls "$tmp" | grep -c -e '\.tmp' -e '\.weights' || true)
[ "$left" -eq 0 ] || { echo "temporaries left in $tmp"; ls "$tmp"; exit 1; }
echo "PASS $(basename "$model"): $n_out output(s) match the interpreter"
