#!/bin/bash
# Golden tests: each capture in tests/golden/flows/ run through `netscope flows --seed 1`
# must give exactly the checked-in .json next to it. Regenerate (after checking the diff!)
# with NS_GOLDEN_UPDATE=1.
set -u
dir="$NS_SRC/tests/golden/flows"
fail=0
for pcap in "$dir"/*.pcap; do
    want="${pcap%.pcap}.json"
    got=$(mktemp)
    if ! "$NS_BIN" flows -r "$pcap" --seed 1 >"$got" 2>/dev/null; then
        echo "FAIL: netscope flows failed on $(basename "$pcap")"
        fail=1
    elif [ "${NS_GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$got" "$want"
    elif ! diff -u "$want" "$got"; then
        echo "FAIL: $(basename "$pcap") differs from $(basename "$want")"
        fail=1
    else
        echo "ok: $(basename "$pcap")"
    fi
    rm -f "$got"
done
exit $fail
