#!/bin/sh
# profile.sh VITC FIXTURE TMP: `vitc compile --profile` then `vitc run --profile --profile-json`: the nodes
# and the op kinds each sum to the total, linear, attention and layer_norm are there, linear/attention have a
# GFLOP/s, the output still matches torch; a model compiled without --profile is an error that says so.
set -e
vitc=$1 fixture=$2 tmp=$3
rm -rf "$tmp"
mkdir -p "$tmp"
"$vitc" compile "$fixture.onnx" --batch 1 --profile -o "$tmp/p.so" -q
"$vitc" run "$tmp/p.so" --input "$fixture.input.npy" --output "$tmp/y.npy"
"$vitc" compare "$tmp/y.npy" "$fixture.output.npy" --atol 1e-4
"$vitc" run "$tmp/p.so" --input "$fixture.input.npy" --threads 1 --bench 5 --profile-json "$tmp/p.json" >"$tmp/p.txt"
cat "$tmp/p.txt"
grep -q "^profile: 5 runs on 1 thread; .* ms/run in kernels, .* GFLOP/s = .*% of the measured .* peak" "$tmp/p.txt"
/usr/bin/python3 - "$tmp/p.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
nodes, ops = p["nodes"], p["ops"]
assert p["runs"] == 5 and p["threads"] == 1 and p["peak_gflops"] > 0, p
assert abs(sum(n["ms"] for n in nodes) - p["total_ms"]) < 1e-3 * max(1, p["total_ms"])
assert abs(sum(o["ms"] for o in ops) - p["total_ms"]) < 1e-3 * max(1, p["total_ms"])
kinds = {o["op"] for o in ops}
assert {"linear", "attention", "layer_norm"} <= kinds, kinds
assert all(n["gflops"] > 0 for n in nodes if n["op"] in ("linear", "attention"))
print("profile json: %d nodes, %d op kinds, %.3f ms/run" % (len(nodes), len(ops), p["total_ms"]))
PY
"$vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/plain.so" -q
if "$vitc" run "$tmp/plain.so" --input "$fixture.input.npy" --profile 2>"$tmp/plain.err"; then
  echo "FAIL: --profile on a model compiled without it"; exit 1
fi
grep -q "the model has no profile: compile it with --profile" "$tmp/plain.err"
