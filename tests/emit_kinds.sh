#!/bin/sh
# emit_kinds.sh VITC FIXTURE TMP: `--emit obj` (one relocatable object: the code and the weights object,
# joined with `cc -r`) and `--emit asm` (assembly that .incbin's OUT.weights) each link with the runtime
# library into a .so that reproduces torch within 1e-4, with the weights in the large-data section
# `.lrodata.vitc_weights` (64-byte aligned) and no executable-stack request; the .so `vitc compile` links
# itself has them there too, attached after linking (not through the linker) and matches torch.
set -e
vitc=$1 fixture=$2 tmp=$3
rm -rf "$tmp"
mkdir -p "$tmp"
rt=$(dirname "$vitc")/libvitc_rt.a
link() { cc -shared -o "$2" "$1" -Wl,--whole-archive "$rt" -Wl,--no-whole-archive -lm -lpthread -Wl,-z,noexecstack \
           -Wl,--fatal-warnings; }
run() {
  "$vitc" run "$1" --input "$fixture.input.npy" --output "$tmp/out.npy"
  "$vitc" compare "$tmp/out.npy" "$fixture.output.npy" --atol 1e-4
}
"$vitc" compile "$fixture.onnx" --batch 1 --emit obj -o "$tmp/m.o" -q
readelf -SW "$tmp/m.o" | grep -Eq '\.lrodata\.vitc_weights +PROGBITS .* Al +0 +0 +64$' ||
  { echo "FAIL: no 64-byte aligned .lrodata.vitc_weights in the object"; readelf -SW "$tmp/m.o"; exit 1; }
link "$tmp/m.o" "$tmp/obj.so"
run "$tmp/obj.so"
echo "--emit obj links and matches torch"
"$vitc" compile "$fixture.onnx" --batch 1 --emit asm -o "$tmp/m.s" -q
[ -s "$tmp/m.s.weights" ] || { echo "FAIL: --emit asm wrote no m.s.weights"; exit 1; }
cc -c -o "$tmp/asm.o" "$tmp/m.s"
link "$tmp/asm.o" "$tmp/asm.so"
run "$tmp/asm.so"
echo "--emit asm assembles, links and matches torch"
"$vitc" compile "$fixture.onnx" --batch 1 -o "$tmp/m.so" -q -v 2>"$tmp/compile.log"
# linked with the stand-in weights and the real ones attached (backend/cg_attach.c), not the fallback
! grep -q 'linking the weights object instead' "$tmp/compile.log" ||
  { echo "FAIL: the weights were not attached after linking:"; cat "$tmp/compile.log"; exit 1; }
run "$tmp/m.so"
readelf -SW "$tmp/m.so" | grep -q '\.lrodata ' || { echo "FAIL: the .so has no .lrodata"; exit 1; }
addr=$(nm "$tmp/m.so" | sed -n 's/^\([0-9a-f]*\) r vitc_weights$/\1/p')
[ -n "$addr" ] && [ $((0x$addr % 64)) -eq 0 ] || { echo "FAIL: vitc_weights at '$addr' is not 64-byte aligned"; exit 1; }
echo "the .so keeps its weights in .lrodata, vitc_weights at 0x$addr"
