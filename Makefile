# Thin wrapper over CMake. `make test` and `make demo` install missing Debian packages first.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps test demo models test-models clean

all: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

deps:
	@scripts/install-deps.sh build

test:
	@scripts/install-deps.sh test
	$(MAKE) all
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

demo: all
	@scripts/demo.sh $(BUILD)/vitc

# Larger torchvision ViTs (ViT-S/16, ViT-B/16 at opsets 13 and 17) into models/ (ignored by git).
models: all
	@scripts/install-deps.sh models
	/usr/bin/python3 tools/export_vit.py --large --out models

test-models: models
	scripts/test-models.sh $(BUILD)/vitc models

clean:
	rm -rf $(BUILD)
