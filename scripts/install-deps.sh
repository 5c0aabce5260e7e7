#!/bin/sh
# Installs the Debian packages vitc needs to build and test, skipping those already present.
# Usage: scripts/install-deps.sh [build|test|models|fuzz]
set -e
BUILD="cmake make gcc libprotobuf-c-dev protobuf-c-compiler llvm-19-dev libcmocka-dev libonnx-dev libpng-dev libjpeg-dev"
# python3: tests/backend/e2e.sh makes random inputs; python3-numpy: the Python module's tests;
# valgrind: leak checks; pkg-config: the install test; graphviz: `vitc ir --svg`; python3-distributed: vitc-batch.
TEST="libonnx-testdata python3 python3-numpy valgrind pkg-config graphviz python3-distributed"
MODELS="python3-torch python3-torchvision python3-onnx python3-numpy"
FUZZ="clang-19 libclang-rt-19-dev"  # libFuzzer and the sanitizer runtimes for make fuzz
case "${1:-build}" in
  build) want="$BUILD" ;;
  test) want="$BUILD $TEST" ;;
  models) want="$BUILD $TEST $MODELS" ;;
  fuzz) want="$BUILD $FUZZ" ;;
  *) echo "usage: $0 [build|test|models|fuzz]" >&2; exit 2 ;;
esac
missing=""
for p in $want; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "install-deps: installing:$missing"
SUDO=""
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends $missing
