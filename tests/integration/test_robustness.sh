#!/usr/bin/env bash
# Robustness: every capture in ../shared/pcaps (tcpdump's malformed-packet corpus and nDPI's
# real traffic) goes through `netscope print --json`. Each must exit 0, print no sanitizer
# report (in the ASan build the sanitizers abort the process, so that is a non-zero exit and a
# report on stderr) and finish within LIMIT seconds.
set -u
: "${NS_BIN:?}" "${NS_PCAPS:?}"
LIMIT=${NS_ROBUSTNESS_LIMIT_S:-2}
files=("$NS_PCAPS"/tcpdump/* "$NS_PCAPS"/ndpi/*)
[[ -e "${files[0]}" ]] || { echo "no captures under $NS_PCAPS"; exit 77; }

fail=0 n=0 slowest=0 slowest_file=""
err=$(mktemp)
for f in "${files[@]}"; do
  [[ -f "$f" ]] || continue
  n=$((n + 1))
  start=$(date +%s%N)
  timeout 30 "$NS_BIN" print --json -r "$f" >/dev/null 2>"$err"
  rc=$?
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  if (( ms > slowest )); then slowest=$ms; slowest_file=$f; fi
  if [[ $rc -ne 0 ]]; then
    echo "FAIL exit $rc: $f"; head -n 20 "$err"; fail=$((fail + 1)); continue
  fi
  if grep -qE 'Sanitizer|runtime error:' "$err"; then
    echo "FAIL sanitizer report: $f"; head -n 20 "$err"; fail=$((fail + 1)); continue
  fi
  if (( ms > LIMIT * 1000 )); then
    echo "FAIL too slow (${ms} ms > ${LIMIT} s): $f"; fail=$((fail + 1))
  fi
done
rm -f "$err"
echo "robustness: $n captures, $fail failed, slowest ${slowest} ms ($(basename "$slowest_file"))"
echo "$((n - fail)) passed, $fail failed"
[[ $fail -eq 0 ]]
