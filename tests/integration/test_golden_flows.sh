#!/bin/bash
# Golden tests: for each expected output tests/golden/flows/NAME.json, the nDPI capture
# ../shared/pcaps/ndpi/NAME.pcap run through `netscope flows --seed 1` must give exactly that
# output. Regenerate (after checking the diff!) with NS_GOLDEN_UPDATE=1.
set -u
: "${NS_BIN:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
dir="$NS_SRC/tests/golden/flows"
[[ -d "$NS_PCAPS/ndpi" ]] || { echo "skip: $NS_PCAPS/ndpi not found"; exit 77; }
pass=0 fail=0
for want in "$dir"/*.json; do
    name=$(basename "$want" .json)
    pcap="$NS_PCAPS/ndpi/$name.pcap"
    got=$(mktemp)
    if ! "$NS_BIN" flows -r "$pcap" --seed 1 >"$got" 2>/dev/null; then
        echo "FAIL: netscope flows failed on $name.pcap"
        fail=$((fail + 1))
    elif [ "${NS_GOLDEN_UPDATE:-0}" = 1 ]; then
        cp "$got" "$want"
        pass=$((pass + 1))
    elif ! diff -u "$want" "$got"; then
        echo "FAIL: $name.pcap differs from $(basename "$want")"
        fail=$((fail + 1))
    else
        echo "ok: $name.pcap"
        pass=$((pass + 1))
    fi
    rm -f "$got"
done
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
