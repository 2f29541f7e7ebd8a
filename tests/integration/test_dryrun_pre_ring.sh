#!/usr/bin/env bash
# The capture filter's dry run (GET /api/v1/agents/ID/filter_dryrun) against an agent from
# before GetPackets.whole_ring: netscope-agent-pre-ring, the agent built to answer a whole-ring
# request as agents before it did (a flow request for a flow of no packet). The collector must
# fall back to the frames of the agent's recent live flows: "scope":"flows", every flow asked
# answered (not "truncated", and well before the 6 s the collector waits at most), the counts
# those flows' frames give (what a filter keeps plus what its negation keeps is every packet;
# "greater 0" keeps all of them, a filter matching nothing none). The current agent on the same
# capture answers with "scope":"ring". Processes are stopped by PID.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
OLD=$NS_BUILD/agent/netscope-agent-pre-ring
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
GEN=$NS_BUILD/bench/gen_traffic
[[ -x $OLD && -x $AGENT && -x $COLLECTOR && -x $GEN ]] || { echo "skip: agents/collector/gen_traffic not built"; exit 77; }
for t in curl python3; do
  command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# One capture of 40 concurrent UDP/TCP flows, then a frame 300 s later: replayed at the
# recorded speed, an agent holds the whole capture in its ring and keeps its flows live while
# it waits for that frame.
"$GEN" --mix --packets 2000 --active 40 --seed 11 -w "$tmp/cap.pcap" >/dev/null
python3 "$NS_SRC/tests/integration/pcap_late_frame.py" "$tmp/cap.pcap" "$tmp/late.pcap"

HPORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$HPORT" --ws off \
  --state-out /dev/null 2>"$tmp/collector.log" &
pids+=($!)
EP=
for _ in $(seq 200); do
  EP=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/collector.log" | head -1 | sed 's/listening on //')
  [[ -n $EP ]] && break
  sleep 0.05
done
[[ -n $EP ]] || { echo "FAIL: the collector did not start: $(cat "$tmp/collector.log")"; exit 1; }
BASE=http://127.0.0.1:$HPORT
for who in old new; do
  bin=$OLD
  [[ $who == new ]] && bin=$AGENT
  "$bin" --insecure --collector "$EP" --id "$who-agent" --replay "$tmp/late.pcap" --replay-speed 1 \
    2>"$tmp/$who-agent.log" &
  pids+=($!)
done

# dry AGENT FILTER: the answer's JSON, with "seconds" (how long it took) added
dry() {
  local t0=$EPOCHREALTIME out
  out=$(curl -s -m 20 "$BASE/api/v1/agents/$1/filter_dryrun?bpf=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$2")")
  python3 -c 'import json, sys; d = json.loads(sys.argv[1]); d["seconds"] = float(sys.argv[2]); print(json.dumps(d))' \
    "$out" "$(python3 -c "print($EPOCHREALTIME - $t0)")" 2>/dev/null || echo "$out"
}
# wait until the collector has the old agent's live flows (the replay takes about a second)
for _ in $(seq 30); do
  [[ $(dry old-agent 'greater 0') == *'"answered": 31,'* ]] && break
  sleep 0.5
done
sleep 1 # the last updates of the replay

# the old agent: the fallback over its flows
declare -A got
for f in 'greater 0' 'tcp' 'not tcp' 'ether proto 0x88b5'; do
  got[$f]=$(dry old-agent "$f")
  echo "old agent, '$f': ${got[$f]}"
  if python3 - "${got[$f]}" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if (d["scope"], d["truncated"]) == ("flows", False) and d["flows"] == d["answered"] == 31
         and d["packets"] > 0 and d["seconds"] < 5 else 1)
PY
  then ok; else bad "old agent's dry run of '$f': ${got[$f]}"; fi
done
if python3 - "${got[greater 0]}" "${got[tcp]}" "${got[not tcp]}" "${got[ether proto 0x88b5]}" <<'PY'
import json, sys
every, tcp, ntcp, none = (json.loads(a) for a in sys.argv[1:])
packets = every["packets"]
ok = (every["kept"] == packets and none["kept"] == 0 and 0 < tcp["kept"] < packets
      and tcp["kept"] + ntcp["kept"] == packets
      and all(d["packets"] == packets for d in (tcp, ntcp, none)))
sys.exit(0 if ok else 1)
PY
then ok; else bad "old agent's counts do not add up: all ${got[greater 0]} tcp ${got[tcp]} not tcp ${got[not tcp]}"; fi

# the current agent on the same capture: the whole ring
total=$(python3 -c 'import sys
d = open(sys.argv[1], "rb").read(); at, n = 24, 0
while at < len(d):
    at += 16 + int.from_bytes(d[at + 8:at + 12], "little"); n += 1
print(n)' "$tmp/cap.pcap")
new=$(dry new-agent 'greater 0')
echo "new agent, 'greater 0': $new"
if python3 - "$new" "$total" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if (d["scope"], d["truncated"], d["packets"], d["kept"]) == ("ring", False, int(sys.argv[2]), int(sys.argv[2])) else 1)
PY
then ok; else bad "new agent's dry run: $new (capture: $total frames)"; fi

echo "dry run fallback: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
