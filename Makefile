# Thin wrapper over CMake. `make test` and `make demo` install missing Debian packages first.
BUILD ?= build
JOBS ?= $(shell nproc)

PREFIX ?= /usr/local

FUZZ_SECONDS ?= 60

.PHONY: all deps test test-asan fuzz demo install models models-large test-models test-models-large bench bench-batch bench-precision clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

deps:
	@scripts/install-deps.sh build

test:
	@scripts/install-deps.sh test
	$(MAKE) all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The compiler, loader, image library and their tests under AddressSanitizer + UBSan (build-asan/): the unit,
# golden, conformance (interpreted, and --expect's own test), fixture, round-trip, bad-input, external-data,
# emit-kinds, digits, dynamic-batch, profile, large-graph and zero-size backend (backend_ops_zero) tests; not
# the ones that load the instrumented libraries into uninstrumented programs (Python's ctypes, the pkg-config
# example, the install test).
ASAN_TESTS = 'unit_|golden_|onnx_conformance$$|onnx_conformance_expect|emit_kinds|bad_input|external_data|model_|roundtrip_|einsum_import|digits|dynamic_batch|profile|large_graph|backend_ops_zero'
test-asan:
	@scripts/install-deps.sh test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVITC_SANITIZE=ON >/dev/null
	@cmake --build build-asan -j $(JOBS) -- --no-print-directory
	cd build-asan && VITC_VALGRIND=0 ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -R $(ASAN_TESTS)

# libFuzzer (clang-19) on the ONNX importer, the IR text parser and the .npy reader, FUZZ_SECONDS each
# (tests/fuzz/run.sh; CI runs a 20-second pass).
fuzz:
	@scripts/install-deps.sh fuzz
	@tests/fuzz/run.sh $(FUZZ_SECONDS)

demo: all
	@scripts/demo.sh $(BUILD)/vitc $(BUILD)/demo

# vitc, the runtime and image libraries, headers, vitrt.pc, the Python module and the docs under PREFIX.
install: all
	cmake --install $(BUILD) --prefix $(PREFIX)

# Larger torchvision ViTs (ViT-S/16, ViT-B/16 at opsets 13 and 17) into models/ (ignored by git).
models: all models/.exported

models/.exported: tools/export_vit.py
	@scripts/install-deps.sh models
	/usr/bin/python3 tools/export_vit.py --large --batch-outputs 3,8 --out models
	touch $@

test-models: models
	scripts/test-models.sh $(BUILD)/vitc models

# torchvision ViT-L/16 (1.2 GB) and ViT-H/14 (2.5 GB, ONNX external data: a .so over 2 GiB) into
# models/large/: interpreted and compiled against torch, with each compile's time and peak memory. Needs
# about 12 GB of disk and 10 GB of memory; the export takes several minutes.
models-large: all models/large/.exported

models/large/.exported: tools/export_vit.py
	@scripts/install-deps.sh models
	/usr/bin/python3 tools/export_vit.py --huge --out models/large
	touch $@

test-models-large: models-large
	scripts/test-models.sh $(BUILD)/vitc models/large

# vitc against ONNX Runtime (npm's onnxruntime-node, installed into bench/): ViT-S/16 and ViT-B/16 at batch 1
# and 8, and ViT-L/16 at batch 1 when `make models-large` has exported it, on 1 and 2 threads
# (docs/PERFORMANCE.md).
bench: models
	bench/bench.sh $(BUILD)/vitc models 10
	bench/precision.sh $(BUILD)/vitc models 10

# --precision fp32, bf16 and int8: the speed rows of `make bench`, then the logits of 64 seeded random
# inputs against torch's for ViT-S/16 and ViT-B/16 (docs/precision.md).
bench-precision: models
	bench/precision.sh $(BUILD)/vitc models 10 --accuracy

# vitc-batch (Dask LocalCluster, 1 and 2 workers) against one `vitc run --image` process: the digits model
# and ViT-S/16 on 256 generated photos (docs/batch.md, docs/PERFORMANCE.md).
bench-batch: models
	@scripts/install-deps.sh test
	bench/batch.sh $(BUILD)/vitc models 256

clean:
	rm -rf $(BUILD) build-asan build-fuzz
