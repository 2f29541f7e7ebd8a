#!/usr/bin/env bash
# netscope-agent -> netscope-collector on loopback, CURVE on: replayed captures arrive with
# exactly the records `netscope flows` writes for the same files (every field but the uid),
# transactions once; live updates come before the final record; an agent with an unknown key
# and a plain-text agent get nothing in; check-config and every kind of bad input give one
# sentence and the documented exit status. Needs no root; the namespace lab test
# (test_distributed.sh) covers live capture.
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
[[ -x $AGENT && -x $COLLECTOR ]] || { echo "skip: agent/collector not built"; exit 77; }
[[ -d $NS_PCAPS/ndpi ]] || { echo "skip: $NS_PCAPS not found (../shared/pcaps)"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
# LeakSanitizer cannot stop the world once the agent has switched to another user
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp" # the agent reads its replay file as root, but runs as nobody after
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [[ $fail -gt 0 ]]; then
    mkdir -p "$NS_BUILD/test_agent_collector.failed" && cp -r "$tmp"/. "$NS_BUILD/test_agent_collector.failed/"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

"$NS_BIN" keygen "$tmp/col" >/dev/null && "$NS_BIN" keygen "$tmp/a1" >/dev/null &&
  "$NS_BIN" keygen "$tmp/a2" >/dev/null && "$NS_BIN" keygen "$tmp/stranger" >/dev/null ||
  { echo "FAIL: keygen"; exit 1; }
mkdir "$tmp/allowed" && cp "$tmp/a1.key" "$tmp/a2.key" "$tmp/allowed/"

# start_collector NAME ARGS...: a CURVE collector on a free port; sets EP and CPID
start_collector() {
  local name=$1; shift
  "$COLLECTOR" --listen 'tcp://127.0.0.1:*' --http '' --ws off --key "$tmp/col.key_secret" \
    --allowed-keys "$tmp/allowed" --flows-out "$tmp/$name.jsonl" --state-out "$tmp/$name.state" \
    "$@" 2>"$tmp/$name.log" &
  CPID=$!
  pids+=("$CPID")
  EP=
  for _ in $(seq 100); do
    EP=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/$name.log" | head -1 | sed 's/listening on //')
    [[ -n $EP ]] && return 0
    sleep 0.05
  done
  echo "FAIL: collector $name did not start: $(cat "$tmp/$name.log")"
  exit 1
}
stop_collector() {
  kill -TERM "$CPID"
  wait "$CPID"
}
agent() { # agent KEYNAME ARGS...
  local key=$1; shift
  "$AGENT" --collector "$EP" --collector-key "$tmp/col.key" --key "$tmp/$key.key_secret" "$@"
}

# ---- replayed captures: the collector's records are `netscope flows`' --------------------
cat >"$tmp/cmp.py" <<'EOF'
import json, sys
def load(path, strip):
    recs = {}
    rows = [json.loads(line) for line in open(path)]
    rows = [r for r in rows if r.get('record') != 'update']
    key = lambda r: (r['ts'], r['id.orig_h'], r['id.orig_p'], r['id.resp_h'], r['id.resp_p'], r['proto'])
    # tunnel_parents names the carrier flow by its uid, and uids differ between two runs:
    # compare the carrier's connection instead
    by_uid = {r['uid']: key(r) for r in rows}
    for r in rows:
        k = key(r)
        if 'tunnel_parents' in r:
            r['tunnel_parents'] = [by_uid.get(u, 'unknown uid ' + u) for u in r['tunnel_parents']]
        for f in strip:
            r.pop(f, None)
        if k in recs:
            sys.exit(f"{path}: two records for {k}")
        recs[k] = r
    return recs
want = load(sys.argv[1], ['uid'])
got = load(sys.argv[2], ['uid', 'agent'])
if set(want) != set(got):
    sys.exit(f"flows differ: {len(set(want) - set(got))} missing, {len(set(got) - set(want))} extra")
for k in want:
    if want[k] != got[k]:
        diff = [f for f in set(want[k]) | set(got[k]) if want[k].get(f) != got[k].get(f)]
        sys.exit(f"{k}: fields differ: {diff}")
print(len(want))
EOF
start_collector replay
n=0
for f in http.pcapng dns.pcap teams.pcap 443-curl.pcap vxlan.pcap bad-dns-traffic.pcap; do
  cap=$NS_PCAPS/ndpi/$f
  [[ -f $cap ]] || continue
  cp "$cap" "$tmp/$f"
  chmod 644 "$tmp/$f"
  if ! agent a1 --id "replay-$f" --replay "$tmp/$f" --replay-speed max 2>"$tmp/agent-$f.log"; then
    bad "agent replay of $f failed: $(tail -2 "$tmp/agent-$f.log")"
    continue
  fi
  grep -q 'final records: \([0-9]*\) produced, \1 acknowledged.*0 dropped' "$tmp/agent-$f.log" &&
    ok || bad "$f: not every final record acknowledged: $(tail -1 "$tmp/agent-$f.log")"
  n=$((n + 1))
done
stop_collector
[[ $n -ge 3 ]] || bad "fewer than 3 captures replayed"
for f in http.pcapng dns.pcap teams.pcap 443-curl.pcap vxlan.pcap bad-dns-traffic.pcap; do
  [[ -f $tmp/$f ]] || continue
  "$NS_BIN" flows -r "$tmp/$f" >"$tmp/want-$f.jsonl" 2>/dev/null
  python3 - "$tmp/replay.jsonl" "replay-$f" "$tmp/got-$f.jsonl" <<'EOF'
import json, sys
with open(sys.argv[3], 'w') as out:
    for line in open(sys.argv[1]):
        if json.loads(line).get('agent') == sys.argv[2]:
            out.write(line)
EOF
  if r=$(python3 "$tmp/cmp.py" "$tmp/want-$f.jsonl" "$tmp/got-$f.jsonl" 2>&1); then ok; else bad "$f: $r"; fi
done
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$tmp/replay.state" && ok ||
  bad "the exit state is not JSON"

# ---- live updates at recorded speed come before the final record ---------------------------
start_collector live --set output.updates=true
cap=$NS_PCAPS/ndpi/http_auth.pcap
cp "$cap" "$tmp/live.pcap" && chmod 644 "$tmp/live.pcap"
agent a1 --id live --replay "$tmp/live.pcap" --replay-speed 4 --set export.interval_ms=50 \
  2>"$tmp/agent-live.log" || bad "agent live replay failed"
stop_collector
python3 - "$tmp/live.jsonl" <<'EOF' && ok || bad "live updates: see above"
import json, sys
by_uid = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    by_uid.setdefault(r['uid'], []).append(r)
updated = [u for u, rs in by_uid.items() if any(r.get('record') == 'update' for r in rs)]
if not updated:
    sys.exit("no live update reached the collector")
for u in updated:
    rs = by_uid[u]
    if rs[-1].get('record') == 'update' or 'end_reason' not in rs[-1]:
        sys.exit(f"{u}: the final record is not last")
    pk = [r['orig_pkts'] + r['resp_pkts'] for r in rs]
    if pk != sorted(pk):
        sys.exit(f"{u}: packet counts go backwards: {pk}")
EOF

# ---- who gets in -------------------------------------------------------------------------
start_collector auth
agent stranger --id stranger --replay "$tmp/live.pcap" --replay-speed max \
  --set export.drain_ms=1500 2>"$tmp/agent-stranger.log"
[[ $? -eq 1 ]] && ok || bad "an agent with an unknown key should exit 1 (nothing acknowledged)"
"$AGENT" --collector "$EP" --insecure --id plain --replay "$tmp/live.pcap" --replay-speed max \
  --set export.drain_ms=1500 2>"$tmp/agent-plain.log"
[[ $? -eq 1 ]] && ok || bad "a plain-text agent should exit 1 (nothing acknowledged)"
# an enrolled agent claiming another's id (with its own key) is refused; the first keeps its
# acknowledgements
agent a1 --id same --replay "$tmp/live.pcap" --replay-speed 3 2>"$tmp/agent-same1.log" &
first=$!
sleep 0.7
agent a2 --id same --replay "$tmp/live.pcap" --replay-speed max --set export.drain_ms=1500 \
  2>"$tmp/agent-same2.log"
[[ $? -eq 1 ]] && ok || bad "an agent claiming another's id should get nothing acknowledged"
wait "$first" && ok || bad "the first agent lost its acknowledgements to an impostor: $(tail -1 "$tmp/agent-same1.log")"
stop_collector
grep -q "agent same said Hello with key .*not the key it first used" "$tmp/auth.log" && ok ||
  bad "the impostor is not logged"
# Z85 keys hold regular-expression characters: a fixed-string match
grep -qF "refused agent key $(sed -n 's/.*public-key = "\(.*\)"/\1/p' "$tmp/stranger.key")" \
  "$tmp/auth.log" && ok || bad "the refused key is not logged: $(cat "$tmp/auth.log")"
python3 - "$tmp/auth.state" "$tmp/auth.jsonl" <<'EOF' && ok || bad "auth counters: see above"
import json, sys
s = json.load(open(sys.argv[1]))
c = s['counters']
if c['refused_keys'] < 1 or c['handshake_failures'] < 1:
    sys.exit(f"refusals not counted: {c}")
if [a['id'] for a in s['agents']] != ['same'] or c['key_mismatches'] < 1:
    sys.exit(f"agents: {[a['id'] for a in s['agents']]}, key mismatches {c['key_mismatches']}")
if any(json.loads(l)['agent'] != 'same' for l in open(sys.argv[2])):
    sys.exit("a refused agent's record got in")
EOF

# ---- bad input: one sentence, documented exit status --------------------------------------
# expect STATUS PATTERN CMD...: the command fails with STATUS and stderr matches PATTERN
expect() {
  local want=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $want ]]; then bad "$*: exit $rc, want $want ($(head -c 300 "$tmp/err"))"; return; fi
  grep -qiE "$pattern" "$tmp/err" && ok || bad "$*: stderr lacks /$pattern/: $(head -c 300 "$tmp/err")"
}
expect 2 "unknown option '--bogus'" "$AGENT" --bogus
expect 2 "unknown option" "$COLLECTOR" --frobnicate
expect 2 "nothing to capture" "$AGENT" --insecure
expect 2 "CURVE needs" "$AGENT" -i lo
expect 2 "CURVE needs" "$COLLECTOR"
expect 1 "no such interface" "$AGENT" --insecure -i ns-nosuch0
expect 1 "bad filter" "$AGENT" --insecure --replay "$tmp/live.pcap" -f 'tcp port'
expect 1 "cannot read|not a pcap" "$AGENT" --insecure --replay "$tmp/missing.pcap"
expect 1 "port|endpoint|address" "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:99999'
expect 1 "endpoint|address" "$AGENT" --insecure --replay "$tmp/live.pcap" --collector 'nonsense'
cp "$tmp/a1.key_secret" "$tmp/open.key_secret" && chmod 644 "$tmp/open.key_secret"
expect 1 "group|others|0600" "$AGENT" --replay "$tmp/live.pcap" --key "$tmp/open.key_secret" \
  --collector-key "$tmp/col.key"
expect 1 "cannot|no such" "$AGENT" --replay "$tmp/live.pcap" --key "$tmp/none.key_secret" \
  --collector-key "$tmp/col.key"
printf '[capture]\ninterfaces = ["eth0"]\nsnaplen = "big"\n' >"$tmp/bad.toml"
expect 2 "bad.toml:3:11: capture.snaplen must be an integer" "$AGENT" --config "$tmp/bad.toml"
expect 1 "bad.toml:3:11:" "$NS_BIN" check-config "$tmp/bad.toml"
printf '[merge]\nlinger = 5\nlingre = 6\n' >"$tmp/col.toml"
expect 1 "col.toml:3:1: unknown key merge.lingre" "$NS_BIN" check-config "$tmp/col.toml"
expect 2 "capture.snaplen must be between" "$AGENT" --insecure -i lo --set capture.snaplen=1
for f in agent collector; do
  "$NS_BIN" check-config "$NS_SRC/deploy/$f.toml.example" >"$tmp/out" 2>&1 &&
    grep -q "valid $f configuration" "$tmp/out" && ok || bad "deploy/$f.toml.example: $(cat "$tmp/out")"
done
"$AGENT" --version | grep -qE '^netscope-agent [0-9]' && ok || bad "agent --version"
"$COLLECTOR" --help | grep -q -- '--allowed-keys' && ok || bad "collector --help"

echo "agent/collector: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
