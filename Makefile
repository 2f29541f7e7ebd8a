# NetScope - a thin wrapper around CMake presets (see CMakePresets.json).
#   make          build (dev preset: gcc, optimised, debug info) into build/dev
#   make deps     install the Debian packages that are missing (root or sudo)
#   make test     deps + every test: -Werror build, ASan+UBSan build, fuzz smoke
#   make run      deps + build + run NetScope (live capture, or a bundled sample)
#   make bench    run the benchmarks (bench/run.sh) and write bench/results.md
#   make package  the Debian package: a release build for /usr in build/pkg, cpack -G DEB
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps build test run bench clean format package

all: build

deps:
	@scripts/deps.sh

build: deps
	@cmake --preset dev >/dev/null
	@cmake --build --preset dev -j $(JOBS)

test: deps
	@JOBS=$(JOBS) scripts/test.sh

run: build
	@scripts/run.sh

bench:
	@scripts/deps.sh bench
	@bench/run.sh

package: deps
	@cmake --preset ci -B build/pkg -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
	  -DNS_WERROR=OFF >/dev/null
	@cmake --build build/pkg -j $(JOBS) --target netscope netscope-agent netscope-collector netscope_ui
	@cd build/pkg && cpack -G DEB
	@ls -l build/pkg/*.deb

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build
