#!/usr/bin/env bash
# run.sh - what `make run` starts: a netscope-collector on 127.0.0.1:5556 (history in
# build/run/db, the API and the dashboard on http://127.0.0.1:8080, the live stream on
# ws://127.0.0.1:8081) and a local netscope-agent feeding it over
# CurveZMQ (keys made on first run in build/run/keys), then the final flow records as they
# arrive. The agent captures live on the default interface
# when this user may capture, otherwise it replays a small generated capture. Ctrl-C stops
# both (agent first, so its open flows are delivered) and prints the collector's summary.
set -euo pipefail
cd "$(dirname "$0")/.."
B=build/dev
cli=$B/cli/netscope agent=$B/agent/netscope-agent collector=$B/collector/netscope-collector
gen=$B/bench/gen_traffic
run=build/run
# the dashboard, when ui/ was built into the build tree (its own build, not this script's)
ui_args=()
[[ -d $B/ui ]] && ui_args=(--ui-dir "$B/ui")
mkdir -p "$run/keys" "$run/allowed"
[[ -f $run/keys/collector.key_secret ]] || "$cli" keygen "$run/keys/collector" >/dev/null
[[ -f $run/keys/local-agent.key_secret ]] || "$cli" keygen "$run/keys/local-agent" >/dev/null
cp "$run/keys/local-agent.key" "$run/allowed/"
: >"$run/flows.jsonl"

# Can we capture? Open the default interface for up to 2 s: a timeout means it opened fine.
probe=$(mktemp)
rc=0
timeout 2 "$cli" print -c 1 >/dev/null 2>"$probe" || rc=$?
iface=$(grep -m1 -o 'listening on [^,]*' "$probe" | sed 's/listening on //' || true)
why=$(grep -m1 'netscope print:' "$probe" | grep -v 'listening on' || true)
rm -f "$probe"
if [[ ($rc -eq 0 || $rc -eq 124) && -n $iface ]]; then
  source_args=(-i "$iface")
  what="live capture on $iface"
else
  sample="$run/sample.pcap"
  "$gen" --mix --packets 3000 --active 50 --seed 1 -w "$sample" >/dev/null
  chmod 644 "$sample"
  source_args=(--replay "$sample" --replay-speed 1)
  what="a generated sample capture (live capture is not possible here: ${why#netscope print: })"
fi

pids=()
stop() {
  trap - INT TERM EXIT
  # the agent first: its open flows become final records the collector still takes
  [[ -n ${apid:-} ]] && kill -TERM "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
  [[ -n ${cpid:-} ]] && kill -TERM "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
  [[ -n ${tpid:-} ]] && kill "$tpid" 2>/dev/null
  echo "make run: stopped; flows in $run/flows.jsonl and $run/db (netscope history --db $run/db)," \
       "the collector's state in $run/state.json, logs in $run/*.log" >&2
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

"$collector" --listen tcp://127.0.0.1:5556 --key "$run/keys/collector.key_secret" \
  --allowed-keys "$run/allowed" --flows-out "$run/flows.jsonl" --state-out "$run/state.json" \
  --db "$run/db" --http "${NS_HTTP:-127.0.0.1:8080}" --ws "${NS_WS:-127.0.0.1:8081}" \
  "${ui_args[@]}" 2>"$run/collector.log" &
cpid=$!
sleep 0.5
kill -0 "$cpid" 2>/dev/null || { cat "$run/collector.log" >&2; exit 1; }
"$agent" "${source_args[@]}" --id local --collector tcp://127.0.0.1:5556 \
  --collector-key "$run/keys/collector.key" --key "$run/keys/local-agent.key_secret" \
  --set flows.idle_timeout=15 2>"$run/agent.log" &
apid=$!
echo "make run: netscope-collector on tcp://127.0.0.1:5556 (CURVE) <- netscope-agent, $what" >&2
if grep -q 'HTTP API on' "$run/collector.log"; then
  echo "make run: API on http://${NS_HTTP:-127.0.0.1:8080}/api/v1/flows (history in $run/db:" \
       "$cli history --db $run/db)" >&2
  echo "dashboard: http://${NS_HTTP:-127.0.0.1:8080}/"
  [[ ${#ui_args[@]} -gt 0 ]] || echo "make run: (no dashboard files in $B/ui yet: build ui/ into it)" >&2
else
  echo "make run: no HTTP API: $(grep -m1 'HTTP API not started' "$run/collector.log" | sed 's/.*]: //')" >&2
fi
echo "make run: final flow records as they arrive (Ctrl-C stops; kill -USR1 $cpid writes the state):" >&2
tail -n +1 -f "$run/flows.jsonl" &
tpid=$!
wait "$apid" || true
echo "make run: the agent has finished ($(tail -1 "$run/agent.log" | sed 's/.*]: //'))" >&2
