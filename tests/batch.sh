#!/bin/sh
# batch.sh VITC TMP: vitc-batch (python/vitc/batch.py) classifies a folder of the digits samples through a
# 2-worker Dask LocalCluster and must match `vitc run MODEL.so --image` on the same files exactly, with one
# row per image in input order, an error row for a corrupt and a missing image, a worker killed half-way
# (its chunk retried: every image still exactly once), and a worker that dies on one image every time
# (only that image lost). Needs python3-distributed (scripts/install-deps.sh test).
set -e
vitc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") tmp=$2
here=$(cd "$(dirname "$0")" && pwd)
root=$here/..
rm -rf "$tmp"
mkdir -p "$tmp/images/a/b" "$tmp/images/c"
tmp=$(cd "$tmp" && pwd)
export PYTHONPATH="$root/python" VITC_IMAGE_LIB="$(dirname "$vitc")/libvitimg.so" PYTHONDONTWRITEBYTECODE=1
batch() { /usr/bin/python3 -m vitc.batch "$@"; }

"$vitc" compile "$root/examples/digits/digits_vit.onnx" --dynamic-batch --max-batch 8 -o "$tmp/dyn.so" -q
"$vitc" compile "$root/examples/digits/digits_vit.onnx" --batch 4 -o "$tmp/b4.so" -q

# 45 images in nested folders (the 15 samples, 3 times), a corrupt PNG, a list naming two more (one missing)
for f in "$root"/examples/digits/images/*.png; do
  n=$(basename "$f" .png)
  cp "$f" "$tmp/images/a/$n.png"
  cp "$f" "$tmp/images/a/b/$n.png"
  cp "$f" "$tmp/images/c/$n.png"
done
head -c 200 "$root/examples/digits/digits_vit.onnx" >"$tmp/images/a/b/corrupt.png"
printf '# a list file: paths relative to it\nimages/c/7_0003.png\n\nimages/c/missing.png\n' >"$tmp/list.txt"

good=$(find "$tmp/images" -name '[0-9]_*.png' | sort)
"$vitc" run "$tmp/dyn.so" --image $good "$tmp/images/c/7_0003.png" --top 3 >"$tmp/expected.txt"

check() {  # check CSV [LOST_IMAGE]: every image once, in input order, as vitc run printed it
  /usr/bin/python3 - "$tmp" "$@" <<'EOF'
import csv, os, sys
tmp, out = sys.argv[1], sys.argv[2]
lost = sys.argv[3] if len(sys.argv) > 3 else None
expected, cur = {}, None
for line in open(os.path.join(tmp, "expected.txt")):  # `PATH: LABEL (PCT%)`, then `  LABEL (PCT%)` lines
    if line.startswith("  "):
        expected[cur].append(line.strip())
    else:
        cur, first = line.rstrip("\n").rsplit(": ", 1)
        expected[cur] = [first]
rows = list(csv.DictReader(open(out, newline="")))
walk = []
for root, dirs, files in os.walk(os.path.join(tmp, "images")):
    dirs.sort()
    walk += [os.path.join(root, f) for f in sorted(files)]
want = walk + [os.path.join(tmp, "images/c/7_0003.png"), os.path.join(tmp, "images/c/missing.png")]
got = [r["path"] for r in rows]
assert got == want, (len(got), len(want), [g for g in got if g not in want][:3])
for r in rows:
    p = r["path"]
    if p.endswith("corrupt.png"):
        assert r["error"] == "not a PNG or JPEG image" and not r["label"], r
    elif p.endswith("missing.png"):
        assert r["error"].startswith("cannot open: No such file"), r
    elif lost and p.endswith(lost):
        assert r["error"].startswith("the worker process died while classifying this image"), r
        assert not r["label"], r
    else:
        shown = [f"{r[l]} ({100 * float(r[c]):.1f}%)" for l, c in
                 (("label", "confidence"), ("label_2", "confidence_2"), ("label_3", "confidence_3"))]
        assert shown == expected[p] and not r["error"], (p, shown, expected[p])
print(f"{out}: {len(rows)} rows in input order, each image once, equal to vitc run --image"
      f"{'; lost only ' + lost if lost else ''}")
EOF
}

echo "== dynamic batch (8), 2 workers, chunks of 4 images"
batch "$tmp/dyn.so" "$tmp/images" "$tmp/list.txt" --out "$tmp/dyn.csv" --top 3 --local-workers 2 \
  --threads-per-worker 1 --chunk 4 2>"$tmp/dyn.log"
cat "$tmp/dyn.log"
check "$tmp/dyn.csv"
# each worker process loads the model once, not once per chunk (12 chunks)
grep -Eq '12 chunks of up to 4, batch 8, ([12]) worker processes, \1 model loads' "$tmp/dyn.log"
test ! -e "$tmp/dyn.csv.partial"

echo "== fixed batch 4 (padded), 2 workers, one killed half-way through a chunk"
rm -f "$tmp/killed"
VITC_BATCH_KILL_ONCE="$tmp/killed" batch "$tmp/b4.so" "$tmp/images" "$tmp/list.txt" --out "$tmp/b4.csv" \
  --top 3 --local-workers 2 --chunk 8 2>"$tmp/b4.log"
cat "$tmp/b4.log"
test -e "$tmp/killed"  # the kill happened
check "$tmp/b4.csv"

echo "== a worker dies on every try of one image: only that image is lost"
DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES=1 VITC_BATCH_KILL_ON=a/b/4_0013.png \
  batch "$tmp/dyn.so" "$tmp/images" "$tmp/list.txt" --out "$tmp/poison.csv" --top 3 --local-workers 2 \
  --chunk 4 2>"$tmp/poison.log"
cat "$tmp/poison.log"
grep -q '1 images lost to crashed workers' "$tmp/poison.log"
check "$tmp/poison.csv" a/b/4_0013.png

echo "== an existing cluster (dask scheduler, dask worker with 2 processes) through --scheduler"
cd "$tmp"  # the workers' scratch space (dask-worker-space) goes here
trap 'kill $pids 2>/dev/null || true' EXIT
dask scheduler --scheduler-file sched.json --port 0 --no-dashboard >sched.log 2>&1 &
pids=$!
for _ in $(seq 100); do [ -s sched.json ] && break; sleep 0.2; done
dask worker --scheduler-file sched.json --nworkers 2 --nthreads 1 --no-dashboard >workers.log 2>&1 &
pids="$pids $!"
address=$(/usr/bin/python3 -c "import json; print(json.load(open('sched.json'))['address'])")
batch "$tmp/dyn.so" "$tmp/images" "$tmp/list.txt" --out "$tmp/sched.csv" --top 3 --scheduler "$address" \
  --chunk 4 2>"$tmp/sched_run.log"
cat "$tmp/sched_run.log"
check "$tmp/sched.csv"
kill $pids
wait 2>/dev/null || true
trap - EXIT

echo "== errors: one line, exit 1, no results file"
expect_error() {  # expect_error TEXT ARGS...: vitc-batch fails with `vitc-batch: error: ...TEXT...`
  text=$1
  shift
  if batch "$@" --local-workers 1 >"$tmp/err.out" 2>&1; then echo "vitc-batch $* succeeded" >&2; exit 1; fi
  grep -q "^vitc-batch: error: .*$text" "$tmp/err.out" || { cat "$tmp/err.out" >&2; exit 1; }
  echo "ok: $(grep '^vitc-batch: error' "$tmp/err.out")"
}
expect_error "no such file or folder" "$tmp/dyn.so" "$tmp/nothing" --out "$tmp/e.csv"
expect_error "compiled for batch 4, not 8" "$tmp/b4.so" "$tmp/images" --batch 8 --out "$tmp/e.csv"
expect_error "over the model's max_batch 8" "$tmp/dyn.so" "$tmp/images" --batch 9 --out "$tmp/e.csv"
printf 'zero\none\n' >"$tmp/labels2.txt"
expect_error "2 labels, the model has 10 classes" "$tmp/dyn.so" "$tmp/images" --labels "$tmp/labels2.txt" \
  --out "$tmp/e.csv"
expect_error "not a vitc model\|cannot load" "$root/examples/digits/labels.txt" "$tmp/images" --out "$tmp/e.csv"
VITC_IMAGE_LIB=$tmp/nowhere/libvitimg.so expect_error "cannot load vitc's image library" "$tmp/dyn.so" "$tmp/images" \
  --out "$tmp/e.csv"
test ! -e "$tmp/e.csv"
echo "batch: ok"
