#!/usr/bin/env bash
# The WebAssembly decoder against the native one: every capture under NS_PCAPS decoded through
# netscope_decode.wasm's exported API (core/include/netscope/wasm_api.h) and through the native
# build (tests/tools/fields_dump) must give identical field lists, packet by packet: name,
# offset, length, depth, type and value text (wasm_fields.test.mjs, node:test).
# Skipped (77) without node, without the .wasm (NS_WASM=OFF, as in the asan preset, or no
# clang/wasm-ld) or without the shared captures.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
command -v node >/dev/null || { echo "skip: node is not installed"; exit 77; }
wasm="$NS_BUILD/core/netscope_decode.wasm"
[[ -f $wasm ]] || { echo "skip: $wasm is not built (NS_WASM=OFF or no clang/wasm-ld)"; exit 77; }
[[ -d $NS_PCAPS ]] || { echo "skip: no captures at $NS_PCAPS"; exit 77; }
dump="$NS_BUILD/tests/tools/fields_dump"
[[ -x $dump ]] || { echo "FAIL: $dump is not built"; exit 1; }

NS_WASM="$wasm" NS_FIELDS_DUMP="$dump" NS_PCAPS="$NS_PCAPS" \
    exec node --test --test-reporter=tap "$NS_SRC/tests/integration/wasm_fields.test.mjs"
