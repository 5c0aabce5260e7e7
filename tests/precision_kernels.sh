#!/bin/sh
# precision_kernels.sh VITC TMP: the compiled bf16 and int8 products (docs/precision.md) against the
# reference interpreter's, one node at a time, so both quantise identical inputs: the integers (int8) and
# roundings (bf16) are the same and only the summation order differs. Tolerances, relative to the largest
# |output|: int8 linear 1e-6 (exact int32 sums; one rounding when a sum passes 2^24, then two multiplies),
# bf16 and attention 1e-5 (fp32 accumulation of K exact products instead of the interpreter's double;
# attention's softmax and p v in fp32).
# Shapes: K not a multiple of 4, K over one K block (3072: partial int32 sums through the output), N past
# a panel edge, M past a tile edge, batch dims, bias/residual/every activation, attention (self, and a
# pooling head's with a known query), rows with NaN or infinity, threads.
# Paths: the native CPU's, x86-64 (plain IR, no SIMD assumptions) and x86-64-v3 (AVX2) when the CPU runs
# them; AVX-512BW, VNNI (AVX-512 and AVX-VNNI) and AVX512-BF16 are compiled for a CPU that has them and
# the assembly checked for their instructions; each run on this CPU only if it has them, else the test
# prints "skipped: CPU lacks X".
set -e
vitc=$1 tmp=$2
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
/usr/bin/python3 - <<'PY'
import numpy as np
rng = np.random.default_rng(11)
def const(name, a):
    dims = ",".join(str(d) for d in a.shape)
    return f"const %{name}: f32[{dims}] = [" + ",".join("%.9g" % v for v in a.ravel()) + "]\n"
# name: (x dims, K, N, extra inputs/attributes)
cases = [
    ("lin_small", (2, 13, 37), 40, "gelu", True, False),
    ("lin_res", (5, 19), 33, "none", False, True),
    ("lin_vit", (197, 192), 576, "quick_gelu", True, True),
    ("lin_deep", (7, 3072), 24, "relu", True, False),
    ("lin_odd", (3, 1, 5), 17, "silu", False, False),
]
for name, xd, n, act, bias, res in cases:
    k = xd[-1]
    w = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    b = rng.uniform(-1, 1, (n,)).astype(np.float32)
    for prec in ("int8", "bf16"):
        with open(f"{name}_{prec}.vir", "w") as f:
            dims = ",".join(map(str, xd))
            ydims = ",".join(map(str, xd[:-1] + (n,)))
            f.write(f'graph "{name}" opset 17\ninput %x: f32[{dims}]\n')
            if res:
                f.write(f"input %r: f32[{ydims}]\n")
            f.write(const("w", w))
            if bias:
                f.write(const("b", b))
            ins = "%x, %w" + (", %b" if bias else (", _" if res else "")) + (", %r" if res else "")
            f.write(f'%y: f32[{ydims}] = linear({ins}) {{act="{act}", precision="{prec}"}} @"t"\noutput %y\n')
    np.save(f"{name}.x.npy", rng.uniform(-2, 2, xd).astype(np.float32))
    if res:
        np.save(f"{name}.r.npy", rng.uniform(-2, 2, xd[:-1] + (n,)).astype(np.float32))
# A pooling head: attention with a known query [1, M, E] (only k | v projected, narrow).
c, e, heads, m = 48, 32, 2, 3
w = rng.uniform(-0.5, 0.5, (c, 2 * e)).astype(np.float32)
b = rng.uniform(-0.5, 0.5, (2 * e,)).astype(np.float32)
q = rng.uniform(-1, 1, (1, m, e)).astype(np.float32)
for prec in ("int8", "bf16"):
    with open(f"attn_pool_{prec}.vir", "w") as f:
        f.write(f'graph "attn_pool" opset 17\ninput %x: f32[2,29,{c}]\n' + const("w", w) + const("b", b) + const("q", q))
        f.write(f'%y: f32[2,{m},{e}] = attention(%x, %w, %b, _, %q) {{heads={heads}, precision="{prec}"}} @"t"\noutput %y\n')
np.save("attn_pool.x.npy", rng.uniform(-2, 2, (2, 29, c)).astype(np.float32))
# Rows with a NaN or an infinity: int8 gives the whole row NaN (the row's scale is poisoned, as
# ir_quant_row_int8 defines), bf16 what fp32 would give; every other row stays finite.
w = rng.uniform(-1, 1, (20, 8)).astype(np.float32)
for prec in ("int8", "bf16"):
    with open(f"nonfinite_{prec}.vir", "w") as f:
        f.write('graph "nonfinite" opset 17\ninput %x: f32[4,20]\n' + const("w", w))
        f.write(f'%y: f32[4,8] = linear(%x, %w) {{precision="{prec}"}} @"t"\noutput %y\n')
x = rng.uniform(-2, 2, (4, 20)).astype(np.float32)
x[1, 3], x[2, 17] = np.nan, np.inf
np.save("nonfinite.x.npy", x)
# An int8 product too long for exact int32 sums (K = 131073: 131073 * 127 * 127 > 2^31) is refused.
with open("too_long.vir", "w") as f:
    f.write('graph "too_long" opset 17\ninput %x: f32[2,131073]\n' + const("w", rng.uniform(-1, 1, (131073, 2)).astype(np.float32)))
    f.write('%y: f32[2,2] = linear(%x, %w) {precision="int8"} @"t"\noutput %y\n')
for name, (bt, nt, c, heads, hd) in (("attn", (2, 29, 48, 3, 16)), ("attn_wide", (1, 50, 64, 4, 16))):
    e = heads * hd
    w = rng.uniform(-0.5, 0.5, (c, 3 * e)).astype(np.float32)
    b = rng.uniform(-0.5, 0.5, (3 * e,)).astype(np.float32)
    for prec in ("int8", "bf16"):
        with open(f"{name}_{prec}.vir", "w") as f:
            f.write(f'graph "{name}" opset 17\ninput %x: f32[{bt},{nt},{c}]\n' + const("w", w) + const("b", b))
            f.write(f'%y: f32[{bt},{nt},{e}] = attention(%x, %w, %b) {{heads={heads}, precision="{prec}"}} @"t"\noutput %y\n')
    np.save(f"{name}.x.npy", rng.uniform(-2, 2, (bt, nt, c)).astype(np.float32))
PY

# Which instruction sets this CPU has (the kernel's, from /proc/cpuinfo's flags).
flags=$(grep -m1 '^flags' /proc/cpuinfo || true)
cpu_has() { case " $flags " in *" $1 "*) return 0 ;; esac; return 1; }

# compare NAME PREC SUFFIX TOL: the outputs of NAME_PREC under the interpreter and compiled as SUFFIX.
compare() {
  /usr/bin/python3 - "$1" "$2" "$3" "$4" <<'PY'
import sys
import numpy as np
name, prec, suffix, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
ref = np.load(f"{name}_{prec}.interp.npy")
got = np.load(f"{name}_{prec}.{suffix}.npy")
if name == "nonfinite":
    same = np.array_equal(np.isfinite(got), np.isfinite(ref)) and np.array_equal(np.isnan(got), np.isnan(ref))
    if prec == "int8":
        same = same and np.isnan(got[1:3]).all()
    print(f"{name} {prec} {suffix}: NaN and infinities where the interpreter has them: {same}")
    assert same and np.isfinite(got[[0, 3]]).all(), f"{name} {prec} {suffix}: {got} vs {ref}"
    fin = np.isfinite(ref)
    got, ref = np.where(fin, got, 0), np.where(fin, ref, 0)
err = float(np.abs(got - ref).max() / np.abs(ref).max())
print(f"{name} {prec} {suffix}: max |compiled - interpreter| / max |y| = {err:.2e} (tolerance {tol:g})")
assert (name == "nonfinite" or np.isfinite(got).all()) and err <= tol, f"{name} {prec} {suffix}: off by {err:.2e}"
PY
}

inputs() { set -- "$1.x.npy"; [ -f "${1%.x.npy}.r.npy" ] && set -- "$1" "${1%.x.npy}.r.npy"; for f; do printf ' --input %s' "$f"; done; }

# target SUFFIX CPU RUNS: compiles every case for CPU; runs and compares when RUNS is "yes".
target() {
  suffix=$1 cpu=$2 runs=$3
  for v in *_int8.vir *_bf16.vir; do
    base=${v%.vir} name=${base%_*} prec=${base##*_}
    "$vitc" compile "$v" --target-cpu "$cpu" -o "$base.$suffix.so"
    [ "$runs" = yes ] || continue
    # shellcheck disable=SC2046
    "$vitc" run "$base.$suffix.so" --threads 2 $(inputs "$name") --output "$base.$suffix.npy"
    tol=1e-5 # attention's fp32 parts (softmax, p v) and bf16's fp32 sums
    [ "$prec.${name%%_*}" = int8.lin ] && tol=1e-6
    compare "$name" "$prec" "$suffix" "$tol"
  done
}

if "$vitc" compile too_long.vir -o too_long.so 2>too_long.err; then echo "FAIL: an int8 product of K = 131073 compiled"; exit 1; fi
grep -q "int8 dot products of 131073 terms could overflow their int32 sums (at most 131072)" too_long.err ||
  { echo "FAIL: too_long: $(cat too_long.err)"; exit 1; }
echo "too_long: refused: $(cat too_long.err)"
for v in *_int8.vir *_bf16.vir; do
  base=${v%.vir}
  # shellcheck disable=SC2046
  "$vitc" run "$v" $(inputs "${base%_*}") --output "$base.interp.npy"
done
target native native yes
target plain x86-64 yes
if cpu_has avx2 && cpu_has fma; then target avx2 x86-64-v3 yes; else echo "x86-64-v3 (AVX2) run: skipped: CPU lacks avx2"; fi

# asm_has CPU PREC INSTRUCTION...: the products of lin_vit at PREC compiled for CPU use the instructions.
asm_has() {
  cpu=$1 prec=$2
  shift 2
  "$vitc" compile "lin_vit_$prec.vir" --target-cpu "$cpu" --emit asm -o "lin_vit_$prec.$cpu.s"
  for ins; do
    grep -q "[[:space:]]$ins[[:space:]]" "lin_vit_$prec.$cpu.s" || { echo "FAIL: $cpu $prec: no $ins in the assembly"; exit 1; }
  done
  echo "$cpu $prec: assembly has $*"
}
asm_has x86-64-v3 int8 vpmaddubsw vpmaddwd
asm_has skylake-avx512 int8 vpmaddubsw vpmaddwd
asm_has cascadelake int8 vpdpbusd
asm_has alderlake int8 vpdpbusd "{vex}" # AVX-VNNI: the VEX form
asm_has znver4 bf16 vdpbf16ps
asm_has x86-64-v3 bf16 vfmadd231ps

# Each path that needs more than AVX2 runs where the CPU has it.
for p in "skylake-avx512 avx512bw" "cascadelake avx512_vnni" "alderlake avx_vnni" "cooperlake avx512_bf16"; do
  set -- $p
  if cpu_has "$2"; then target "$1" "$1" yes; else echo "$1 run: skipped: CPU lacks $2"; fi
done
echo "precision kernels: all compiled paths match the interpreter"
