# Thin wrapper over CMake. `make test` and `make demo` install missing Debian packages first.
BUILD ?= build
JOBS ?= $(shell nproc)

PREFIX ?= /usr/local

.PHONY: all deps test demo install models test-models bench clean

all: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

deps:
	@scripts/install-deps.sh build

test:
	@scripts/install-deps.sh test
	$(MAKE) all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

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

# vitc against ONNX Runtime (npm's onnxruntime-node, installed into bench/): ViT-S/16 and ViT-B/16 (and
# ViT-L/16 when models/ has it) at batch 1 and 8 on 1 and 2 threads (docs/PERFORMANCE.md).
bench: models
	bench/bench.sh $(BUILD)/vitc models 10

clean:
	rm -rf $(BUILD)
