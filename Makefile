# Makefile: the project's entry points (make run, make test, make install, make fuzz, make bench) over CMake.
# On Debian 12 as root, missing packages are installed with apt-get first.

BUILD ?= build
BUILD_ASAN ?= build-asan
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
HVX := $(BUILD)/tools/hvx/hvx

# Debian packages the build and tests need.
DEB_PACKAGES := build-essential cmake pkg-config clang libclang-rt-14-dev nasm python3 libzydis-dev libcmocka-dev
# The benchmark's peers (make bench only): QEMU TCG, Bochs 2.7 with its BIOS images, Unicorn 2.
BENCH_PACKAGES := qemu-system-x86 bochs bochsbios vgabios libunicorn-dev

.PHONY: all deps bench-deps build build-asan run test test-asan install bench clean help fuzz fuzz-mmio

all: build

help:
	@echo "make run      install missing packages, build, run the demo"
	@echo "make test     install missing packages, build, run every test (plus the ASan+UBSan build)"
	@echo "make install  PREFIX=/usr/local: headers, libhvx.so/.a, hvx.pc, CMake config, the hvx tool"
	@echo "make fuzz     build the emu libFuzzer target with clang in build-fuzz/ and run it for 10 minutes"
	@echo "make bench    install the peers (QEMU, Bochs, Unicorn), build, run bench/ and write bench/RESULTS.md"
	@echo "make exit-matrix  regenerate docs/exit-matrix.md from the conformance suite"
	@echo "make fuzz-mmio  10 minutes of the MMIO emulator's fuzz target (libFuzzer)"
	@echo "make clean    remove build directories"

deps:
	@missing=""; for p in $(DEB_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: packages missing ($$missing) and not root; install them with apt-get" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD_ASAN)/CMakeCache.txt:
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_ASAN) -DCMAKE_BUILD_TYPE=Debug -DHVX_SANITIZE=ON

build-asan: deps $(BUILD_ASAN)/CMakeCache.txt
	cmake --build $(BUILD_ASAN) -j $(JOBS)

run: build
	@echo "== hvx caps"; $(HVX) caps
	@echo; echo "== hvx run --stats $(BUILD)/src/vmm/demo.bin"; $(HVX) run --stats --timeout 60 --no-input $(BUILD)/src/vmm/demo.bin

test: build build-asan
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	cd $(BUILD_ASAN) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS) -L sanitize

install: build
	cmake -S . -B $(BUILD) -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --install $(BUILD)

BUILD_FUZZ ?= build-fuzz
FUZZ_TIME ?= 600

fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVX_SANITIZE=ON -DHVX_FUZZ=ON \
	  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
	cmake --build $(BUILD_FUZZ) --target emu_fuzz -j $(JOBS)
	mkdir -p $(BUILD_FUZZ)/corpus
	$(BUILD_FUZZ)/tests/emu_fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 -artifact_prefix=$(BUILD_FUZZ)/ $(BUILD_FUZZ)/corpus tests/fuzz/regressions

fuzz-mmio: deps
	CC=clang CXX=clang++ cmake -S . -B $(BUILD_FUZZ) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHVX_SANITIZE=ON -DHVX_FUZZ=ON \
	  -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link
	cmake --build $(BUILD_FUZZ) --target mmio_fuzz -j $(JOBS)
	mkdir -p $(BUILD_FUZZ)/mmio_corpus
	$(BUILD_FUZZ)/tests/mmio_fuzz -max_total_time=$(FUZZ_TIME) -timeout=10 -artifact_prefix=$(BUILD_FUZZ)/mmio- $(BUILD_FUZZ)/mmio_corpus tests/fuzz/mmio_regressions

bench-deps:
	@missing=""; for p in $(BENCH_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then echo "error: packages missing ($$missing) and not root; install them with apt-get" >&2; exit 1; fi; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

# Timed runs are not tests: every engine x workload in interleaved rounds, results in bench/RESULTS.md.
# (The peers are found at configure time, so the build directory is reconfigured after installing them.)
bench: deps bench-deps $(BUILD)/CMakeCache.txt
	cmake -S . -B $(BUILD) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	python3 bench/bench.py --build $(BUILD) --out bench/RESULTS.md

# docs/exit-matrix.md from a conformance run on every backend.
exit-matrix: build
	scripts/gen-exit-matrix.sh $(BUILD) docs/exit-matrix.md

clean:
	rm -rf $(BUILD) $(BUILD_ASAN)
