#!/usr/bin/env bash
# test_golden_print.sh - golden tests for `netscope print`: small captures in, reviewed output out.
#
# For every tests/golden/print/X.pcap, `netscope print -r X.pcap` must print exactly X.txt and
# `netscope print --json -r X.pcap` exactly X.jsonl; on a difference the diff is printed and the
# test fails. The expected files were reviewed line by line against tshark and tcpdump -n on the
# same packets (tests/golden/print/README.md lists what each capture covers and the known,
# deliberate differences from tshark).
#
# After an intended change to a decoder or to the formatter, regenerate and review:
#   REGENERATE=1 NS_BIN=build/dev/cli/netscope NS_SRC=. bash tests/integration/test_golden_print.sh
#   git diff tests/golden/print    # every changed line must be explained by the change
#
# Environment (set by ctest, see CMakeLists.txt here): NS_BIN, NS_SRC.
set -u

dir="${NS_SRC:?NS_SRC not set}/tests/golden/print"
bin="${NS_BIN:?NS_BIN not set}"
[ -x "$bin" ] || { echo "netscope binary not found: $bin" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

status=0
n=0
for pcap in "$dir"/*.pcap; do
    name=$(basename "$pcap" .pcap)
    for mode in txt jsonl; do
        args=(print -r "$pcap")
        [ "$mode" = jsonl ] && args=(print --json -r "$pcap")
        if ! "$bin" "${args[@]}" >"$tmp/$name.$mode" 2>"$tmp/$name.$mode.err"; then
            echo "FAIL $name.$mode: netscope exited non-zero:" >&2
            cat "$tmp/$name.$mode.err" >&2
            status=1
            continue
        fi
        if [ "${REGENERATE:-0}" = 1 ]; then
            cp "$tmp/$name.$mode" "$dir/$name.$mode"
            echo "wrote $dir/$name.$mode"
        elif ! diff -u "$dir/$name.$mode" "$tmp/$name.$mode" >"$tmp/diff" 2>&1; then
            echo "FAIL $name.$mode differs from the expected output (- expected, + actual):"
            cat "$tmp/diff"
            status=1
        fi
        n=$((n + 1))
    done
done
[ "$n" -gt 0 ] || { echo "no captures in $dir" >&2; exit 1; }
[ "$status" = 0 ] && echo "golden print: $n outputs match"
exit "$status"
