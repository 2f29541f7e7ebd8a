#!/usr/bin/env bash
# run.sh - what `make run` starts: `netscope print` live on the default interface when this
# user may capture, otherwise on a small sample capture made by the workload generator.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=build/dev/cli/netscope
gen=build/dev/bench/gen_traffic

# Can we capture? Open the default interface for up to 2 s: a timeout means it opened fine.
probe=$(mktemp)
rc=0
timeout 2 "$bin" print -c 1 >/dev/null 2>"$probe" || rc=$?
why=$(grep -m1 'netscope print:' "$probe" | grep -v 'listening on' || true)
rm -f "$probe"
if [[ $rc -eq 0 || $rc -eq 124 ]]; then
  echo "make run: live capture on the default interface; Ctrl-C stops it" >&2
  exec "$bin" print
fi

sample="$(mktemp -d)/sample.pcap"
"$gen" --mix --packets 300 --active 20 --seed 1 -w "$sample" >/dev/null
echo "make run: live capture is not possible here (${why#netscope print: }); printing a generated sample capture ($sample) instead" >&2
exec "$bin" print -r "$sample"
