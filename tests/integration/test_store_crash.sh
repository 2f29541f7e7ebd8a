#!/usr/bin/env bash
# Crash safety of the collector's history: SIGKILL the collector 20 times while agents feed
# it; each restart opens the database cleanly; every record it acknowledged is stored, once
# (agents resend what was not acknowledged, the store keeps one final per agent and uid), and
# no record is half there (each one is found through its indexes as through the time order).
# Needs no root.
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
[[ -x $AGENT && -x $COLLECTOR ]] || { echo "skip: agent/collector not built"; exit 77; }
[[ -d $NS_PCAPS/ndpi ]] || { echo "skip: $NS_PCAPS not found (../shared/pcaps)"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
KILLS=${KILLS:-20}

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
cpid= feeder=
cleanup() {
  [[ -n $feeder ]] && kill -TERM "$feeder" 2>/dev/null && wait "$feeder" 2>/dev/null
  [[ -n $cpid ]] && kill -KILL "$cpid" 2>/dev/null && wait "$cpid" 2>/dev/null
  if [[ $fail -gt 0 ]]; then
    mkdir -p "$NS_BUILD/test_store_crash.failed" && cp -r "$tmp"/. "$NS_BUILD/test_store_crash.failed/"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
EP=tcp://127.0.0.1:$port
start=0
start_collector() {
  start=$((start + 1))
  "$COLLECTOR" --insecure --listen "$EP" --db "$tmp/db" --state-out "$tmp/state.$start" --http '' --ws off \
    --set storage.commit_interval=0.05 2>"$tmp/collector.$start.log" &
  cpid=$!
  for _ in $(seq 200); do
    grep -q 'listening on' "$tmp/collector.$start.log" && return 0
    kill -0 "$cpid" 2>/dev/null || break
    sleep 0.02
  done
  bad "start $start: the collector did not come up: $(tail -3 "$tmp/collector.$start.log")"
  return 1
}

pcaps=(teams.pcap reddit.pcap netflix.pcap 443-firefox.pcap chrome.pcap facebook.pcap)
for f in "${pcaps[@]}"; do cp "$NS_PCAPS/ndpi/$f" "$tmp/$f" && chmod 644 "$tmp/$f"; done

# The feeder: agents one after another, each replaying a capture at 20x its recorded speed,
# until told to stop; each run's exit status and id recorded.
feed() {
  local i=0
  while [[ ! -f $tmp/stop ]]; do
    local f=${pcaps[$((i % ${#pcaps[@]}))]}
    "$AGENT" --insecure --collector "$EP" --id "run$i" --replay "$tmp/$f" --replay-speed 20 \
      --set export.drain_ms=20000 2>"$tmp/agent.$i.log"
    echo "run$i $f $?" >>"$tmp/runs"
    i=$((i + 1))
  done
}

start_collector || exit 1
feed &
feeder=$!
for k in $(seq "$KILLS"); do
  sleep "0.$((RANDOM % 6 + 3))"
  kill -KILL "$cpid"
  wait "$cpid" 2>/dev/null
  start_collector || break
done
touch "$tmp/stop"
wait "$feeder"
feeder=
kill -TERM "$cpid" && wait "$cpid"
cpid=

[[ $start -eq $((KILLS + 1)) ]] && ok || bad "only $start collector starts"
opened=$(grep -l "history in $tmp/db" "$tmp"/collector.*.log | wc -l)
[[ $opened -eq $start ]] && ok || bad "the database opened cleanly $opened times of $start"
grep -h -iE 'error|corrupt|malformed' "$tmp"/collector.*.log | head -5 | grep . && bad "errors logged" || ok

"$NS_BIN" history --db "$tmp/db" --all-observations >"$tmp/all.jsonl" || bad "history failed"
python3 - "$tmp/runs" "$tmp/all.jsonl" "$NS_BIN" "$tmp" <<'EOF' && ok || bad "records after $KILLS kills: see above"
import json, subprocess, sys, collections
runs = [l.split() for l in open(sys.argv[1])]
recs = [json.loads(l) for l in open(sys.argv[2])]
by_agent = collections.defaultdict(list)
for r in recs:
    by_agent[r['agent']].append(r)
want = {}
for run, pcap, rc in runs:
    if pcap not in want:
        out = subprocess.run([sys.argv[3], 'flows', '-r', f"{sys.argv[4]}/{pcap}"],
                             capture_output=True, text=True, check=True).stdout
        want[pcap] = len(out.splitlines())
complete = [r for r in runs if r[2] == '0']
if len(complete) < 3:
    sys.exit(f"only {len(complete)} agent runs had every record acknowledged: {runs}")
for run, pcap, rc in complete:
    got = by_agent.get(run, [])
    keys = [json.dumps(r, sort_keys=True) for r in got]
    if len(keys) != len(set(keys)):
        sys.exit(f"{run}: {len(keys) - len(set(keys))} records stored twice")
    if len(got) != want[pcap]:
        sys.exit(f"{run} ({pcap}): {len(got)} records stored, {want[pcap]} produced and acknowledged")
# no record half there: each is found by uid and by host, the same as in the time order
sample = recs[:: max(1, len(recs) // 40)]
for r in sample:
    for args in (['--uid', r['uid']], ['--host', r['id.orig_h'], '--agent', r['agent'], '--all-observations']):
        out = subprocess.run([sys.argv[3], 'history', '--db', f"{sys.argv[4]}/db", *args],
                             capture_output=True, text=True, check=True).stdout
        if not any(json.loads(l) == r for l in out.splitlines()):
            sys.exit(f"{r['agent']} {r['uid']} not found by {args}")
print(f"{len(complete)} complete runs, {len(recs)} records")
EOF

echo "store crash: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
