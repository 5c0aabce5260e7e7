#!/bin/sh
# external_data.sh VITC DIR TMP: ONNX external data (DIR is tests/external/, from tools/make_external_data.py).
# model.onnx keeps its weights in weights.bin (two with a length, one misaligned, one to the end of the file,
# one a Constant's value): it must import as embedded.onnx does (same IR), run in the interpreter to the same
# output (numpy's within 1e-6) and compile to a .so that agrees; the same through a symbolic link inside the
# folder, and from big.bin at offsets past 2^32 (a sparse file of 4 GiB made here). Then DIR/bad's refused
# locations through bad_input.sh, with the symbolic links out of the folder, the directory, the FIFO and the
# ../escape.bin they name made here (git keeps links and FIFOs badly). The interpreter runs under valgrind
# (no leak, no bad read) when present, unless VITC_VALGRIND=0 (`make test-asan` runs it under ASan instead).
set -e
vitc=$1 src=$2
mkdir -p "$3"
tmp=$(cd "$3" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
rm -rf "$tmp/pos" "$tmp/root" "$tmp/bad_out"
mkdir -p "$tmp/pos"
cp "$src"/*.onnx "$src"/*.bin "$src"/*.npy "$tmp/pos/"
cd "$tmp/pos"
VG=""
[ "${VITC_VALGRIND:-1}" = 1 ] && command -v valgrind >/dev/null 2>&1 && VG="valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99"

# Runs MODEL through the interpreter and checks its output is the embedded model's, bit for bit.
same_as_embedded() {
  $VG "$vitc" run "$1" --input input.npy --output "got_$1.npy"
  "$vitc" compare "got_$1.npy" want.npy --atol 0
}

"$vitc" run embedded.onnx --input input.npy --output want.npy
"$vitc" compare want.npy output.npy --atol 1e-6
"$vitc" ir -O0 embedded.onnx | tail -n +2 >embedded.vir
"$vitc" ir -O0 model.onnx | tail -n +2 >model.vir
cmp embedded.vir model.vir
same_as_embedded model.onnx
"$vitc" compile model.onnx -o model.so -q
"$vitc" run model.so --input input.npy --output got_so.npy
"$vitc" compare got_so.npy want.npy --atol 1e-6

echo "== a symbolic link inside the model's folder"
mkdir real
mv weights.bin real/
ln -s real/weights.bin weights.bin
same_as_embedded model.onnx

echo "== offsets past 2^32: big.bin is 4 GiB of holes, then weights.bin"
truncate -s 4294967296 big.bin
cat real/weights.bin >>big.bin
same_as_embedded big.onnx
rm -f big.bin

echo "== refused locations"
mkdir -p "$tmp/root/models" "$tmp/root/outside"
cp "$src"/bad/* "$tmp/root/models/"
cp "$src/bad/data.bin" "$tmp/root/outside/secret.bin"
cp "$src/bad/data.bin" "$tmp/root/escape.bin"
cd "$tmp/root/models"
ln -s "$tmp/root/outside/secret.bin" link.bin
ln -s ../outside outdir
mkdir dir.bin
mkfifo fifo.bin
exec sh "$here/bad_input.sh" "$vitc" "$tmp/root/models" "$tmp/bad_out"
