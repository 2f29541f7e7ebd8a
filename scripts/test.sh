#!/usr/bin/env bash
# test.sh - every test NetScope has, as `make test` and CI run them:
#   1. the ci preset (gcc, -Werror): unit, fuzz-corpus replay, integration (tshark, golden, ...)
#   2. the asan preset (clang, ASan+UBSan): unit, fuzz replay, the robustness sweep
#   3. a libFuzzer smoke run of every fuzz target (FUZZ_SECONDS each, default 60) with clang
# Exits non-zero on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS=${JOBS:-$(nproc)}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}

stage() { printf '\n==== %s ====\n' "$*"; }

stage "build: ci preset (gcc, -Werror)"
cmake --preset ci >/dev/null
cmake --build --preset ci -j "$JOBS"
stage "tests: ci preset"
ctest --preset ci -j "$JOBS"

if command -v clang >/dev/null 2>&1; then
  stage "build: asan preset (clang, address+undefined)"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$JOBS"
  stage "tests: asan preset (unit, fuzz replay, robustness)"
  # The comparisons with tshark check results, not memory safety: the ci run covers them;
  # so do the deployment tests (install tree, units, man pages, the Debian package), the
  # compose lab, whose images build their own binaries, and the dashboard's tests (JavaScript,
  # and a browser over the built daemons).
  ctest --preset asan -j "$JOBS" -E 'tshark|golden|test_install|test_systemd|test_manpages|test_package|compose|ui_browser|^ui/'

  stage "fuzz smoke: ${FUZZ_SECONDS}s per target"
  cmake --preset fuzz >/dev/null
  cmake --build --preset fuzz -j "$JOBS"
  for target in build/fuzz/tests/fuzz/fuzz_*; do
    [[ -x "$target" ]] || continue
    name=$(basename "$target"); name=${name#fuzz_}
    work=$(mktemp -d)
    echo "fuzz: $name"
    # New inputs go to a scratch corpus; the committed corpus is read-only seed material.
    log="$work.log"
    if ! "$target" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix=build/fuzz/ "$work" "tests/fuzz/corpus/$name" >"$log" 2>&1; then
      tail -n 60 "$log"
      echo "fuzz: $name found a failure" >&2
      exit 1
    fi
    tail -n 8 "$log"
    rm -rf "$work" "$log"
  done
else
  stage "clang not found: skipping the asan build and the fuzz smoke"
fi
stage "all tests passed"
