#!/bin/sh
# batch.sh VITC MODELS_DIR [IMAGES]: `make bench-batch`. Throughput of vitc-batch (python/vitc/batch.py)
# through a Dask LocalCluster with 1 worker (2 session threads) and 2 workers (1 thread each), against one
# `vitc run MODEL.so --image` process (2 threads) on the same files, for the bundled digits model and, when
# MODELS_DIR has it (`make models`), ViT-S/16. Prints one markdown row per run: wall time from start to
# the last row (cluster start and model loads included) and vitc-batch's own rate after its set-up.
set -eu
vitc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") dir=$2 n=${3:-256}
root=$(cd "$(dirname "$0")/.." && pwd)
tmp=${TMPDIR:-/tmp}/vitc_bench_batch
rm -rf "$tmp"
mkdir -p "$tmp"
export PYTHONPATH="$root/python" VITC_IMAGE_LIB="$(dirname "$vitc")/libvitimg.so"

now() { date +%s.%N; }
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }

# photo-sized JPEGs (500x375, smooth random colour fields) for ViT-S/16; the digits samples for digits
/usr/bin/python3 - "$tmp/photos" "$n" <<'EOF'
import os, sys
import numpy as np
from PIL import Image
out, n = sys.argv[1], int(sys.argv[2])
os.makedirs(out)
rng = np.random.default_rng(0)
for i in range(n):
    small = rng.integers(0, 256, (12, 16, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((500, 375), Image.BICUBIC)
    img.save(os.path.join(out, f"{i:05d}.jpg"), quality=90)
EOF
mkdir -p "$tmp/digits"
i=0
while [ $i -lt $((n * 8 / 15 + 1)) ]; do  # 8 x IMAGES digits (they decode in microseconds)
  for f in "$root"/examples/digits/images/*.png; do cp "$f" "$tmp/digits/${i}_$(basename "$f")"; done
  i=$((i + 1))
done

echo "vitc-batch throughput, $(date -u +%Y-%m-%d), $(lscpu | sed -n 's/^Model name: *//p' | head -n 1), $(nproc) CPUs"
echo
echo "| model | images | runner | wall s | images/s (wall) | images/s after set-up |"
echo "|---|---|---|---|---|---|"
row() {  # row MODEL.so NAME IMAGES_DIR
  so=$1 name=$2 images=$3
  count=$(ls "$images" | wc -l)
  t0=$(now)
  "$vitc" run "$so" --image "$images"/* --threads 2 >"$tmp/run.txt"
  t1=$(now)
  echo "| $name | $count | vitc run --image, 1 process, 2 threads | $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') | $(rate "$count" "$t0" "$t1") | — |"
  for cfg in "1 2" "2 1"; do
    set -- $cfg
    t0=$(now)
    /usr/bin/python3 -m vitc.batch "$so" "$images" --out "$tmp/out.csv" --local-workers "$1" \
      --threads-per-worker "$2" 2>"$tmp/batch.log"
    t1=$(now)
    after=$(sed -n 's/.*then \([0-9.]*\) images\/s.*/\1/p' "$tmp/batch.log")
    echo "| $name | $count | vitc-batch, $1 worker(s) x $2 thread(s) | $(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", b-a}') | $(rate "$count" "$t0" "$t1") | $after |"
  done
}
"$vitc" compile "$root/examples/digits/digits_vit.onnx" --dynamic-batch --max-batch 8 -o "$tmp/digits.so" -q
row "$tmp/digits.so" digits "$tmp/digits"
if [ -f "$dir/vit_s16_op17.onnx" ]; then
  "$vitc" compile "$dir/vit_s16_op17.onnx" --dynamic-batch --max-batch 8 -o "$tmp/vit_s16.so" -q
  row "$tmp/vit_s16.so" "ViT-S/16" "$tmp/photos"
else
  echo "(ViT-S/16: $dir/vit_s16_op17.onnx not found; run make models)"
fi
