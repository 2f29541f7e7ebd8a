#!/usr/bin/env bash
# The collector's history (LMDB, --db) end to end on loopback: the stored records are exactly
# the final records the collector wrote to --flows-out; `netscope history` filters, pages and
# formats them; history and the agent inventory survive a collector restart (a query by host
# returns flows from before it); a tiny storage.max_size makes retention run while ingest goes
# on, counted; bad input gets one sentence and the documented exit status. Needs no root.
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
[[ -x $AGENT && -x $COLLECTOR ]] || { echo "skip: agent/collector not built"; exit 77; }
[[ -d $NS_PCAPS/ndpi ]] || { echo "skip: $NS_PCAPS not found (../shared/pcaps)"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  if [[ $fail -gt 0 ]]; then
    mkdir -p "$NS_BUILD/test_history.failed" && cp -r "$tmp"/. "$NS_BUILD/test_history.failed/"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# start_collector NAME ARGS...: a plain-text collector on a free loopback port; sets EP, CPID
start_collector() {
  local name=$1; shift
  "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http '' --ws off --flows-out "$tmp/$name.jsonl" \
    --state-out "$tmp/$name.state" --set storage.commit_interval=0.1 "$@" 2>"$tmp/$name.log" &
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
stop_collector() { kill -TERM "$CPID"; wait "$CPID"; }
replay() { # replay AGENT_ID PCAP
  cp "$NS_PCAPS/ndpi/$2" "$tmp/$2" && chmod 644 "$tmp/$2"
  "$AGENT" --insecure --collector "$EP" --id "$1" --replay "$tmp/$2" --replay-speed max \
    2>"$tmp/agent-$1-$2.log" || bad "agent $1 replay of $2 failed: $(tail -2 "$tmp/agent-$1-$2.log")"
}
history() { "$NS_BIN" history --db "$tmp/db" "$@"; }

# same_records A B: the final records of JSON Lines file A and B are the same set (all fields)
cat >"$tmp/same.py" <<'EOF'
import json, sys
def load(path):
    out = {}
    for line in open(path):
        r = json.loads(line)
        if r.get('record') == 'update':
            continue
        k = (r['agent'], r['uid'])
        if k in out:
            sys.exit(f"{path}: two records for {k}")
        out[k] = r
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
if set(a) != set(b):
    sys.exit(f"{len(set(a) - set(b))} records only in {sys.argv[1]}, {len(set(b) - set(a))} only in {sys.argv[2]}")
for k in a:
    if a[k] != b[k]:
        diff = sorted(f for f in set(a[k]) | set(b[k]) if a[k].get(f) != b[k].get(f))
        sys.exit(f"{k}: fields differ: {diff}")
if len(a) < int(sys.argv[3]):
    sys.exit(f"only {len(a)} records")
print(len(a))
EOF

# ---- stored = written ---------------------------------------------------------------------
start_collector one --db "$tmp/db"
replay rp1 http.pcapng
replay rp1 dns.pcap
replay rp1 teams.pcap
stop_collector
grep -q "history in $tmp/db" "$tmp/one.log" && ok || bad "the collector does not say where history goes"
history >"$tmp/h1.jsonl" && ok || bad "netscope history failed"
n1=$(python3 "$tmp/same.py" "$tmp/one.jsonl" "$tmp/h1.jsonl" 50) && ok ||
  bad "history differs from --flows-out: $n1"

# ---- filters, paging, formats ----------------------------------------------------------------
python3 - "$tmp/h1.jsonl" "$NS_BIN" "$tmp/db" <<'EOF' && ok || bad "history filters: see above"
import json, subprocess, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
def hist(*args):
    out = subprocess.run([sys.argv[2], 'history', '--db', sys.argv[3], *args],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"history {args}: exit {out.returncode}: {out.stderr}")
    return [json.loads(l) for l in out.stdout.splitlines()]
def uids(rs):
    return sorted(r['uid'] for r in rs)
# newest first by default
ts = [r['ts'] + r.get('duration', 0) for r in recs]
if any(a < b - 1e-6 for a, b in zip(ts, ts[1:])):
    sys.exit("default order is not newest first")
host = recs[len(recs) // 2]['id.orig_h']
want = uids(r for r in recs if host in (r['id.orig_h'], r['id.resp_h']))
if uids(hist('--host', host)) != want or not want:
    sys.exit(f"--host {host}: {len(hist('--host', host))} records, want {len(want)}")
want = uids(r for r in recs if 53 in (r['id.orig_p'], r['id.resp_p']))
if uids(hist('--port', '53')) != want or not want:
    sys.exit("--port 53 differs")
want = uids(r for r in recs if r['proto'] == 'udp')
if uids(hist('--proto', 'udp')) != want:
    sys.exit("--proto udp differs")
want = uids(r for r in recs if r.get('service') == 'dns')
if uids(hist('--service', 'dns')) != want or not want:
    sys.exit("--service dns differs")
if len(hist('--limit', '7')) != 7:
    sys.exit("--limit 7")
if hist('--from', '-1m', '--to', 'now') != [] and min(ts) < 1e9:
    sys.exit("a time window far from the capture's times is not empty")
first, last = min(r['ts'] for r in recs), max(ts)
if uids(hist('--from', str(int(first)), '--to', str(int(last) + 2))) != uids(recs):
    sys.exit("a window holding everything does not return everything")
got = hist('--sort', 'bytes')
if sorted(uids(got)) != uids(recs):
    sys.exit("--sort bytes does not return every record")
one = recs[0]['uid']
if uids(hist('--uid', one)) != [one]:
    sys.exit("--uid")
if uids(hist('--agent', 'nobody')) != []:
    sys.exit("--agent nobody is not empty")
EOF
history --format csv >"$tmp/h1.csv" && [[ $(($(wc -l <"$tmp/h1.csv") - 1)) -eq $n1 ]] && ok ||
  bad "CSV: $(wc -l <"$tmp/h1.csv") lines for $n1 records"

# ---- a restart keeps history and the inventory ------------------------------------------------
start_collector two --db "$tmp/db"
replay rp2 443-curl.pcap
kill -USR1 "$CPID"; sleep 0.5
stop_collector
history >"$tmp/h2.jsonl"
cat "$tmp/one.jsonl" "$tmp/two.jsonl" >"$tmp/both.jsonl"
python3 "$tmp/same.py" "$tmp/both.jsonl" "$tmp/h2.jsonl" "$((n1 + 1))" >/dev/null && ok ||
  bad "after a restart, history is not both runs' records"
host=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id.resp_h"])' "$tmp/one.jsonl")
[[ $(history --host "$host" --agent rp1 | wc -l) -ge 1 ]] && ok ||
  bad "a query by host returns nothing from before the restart"
python3 - "$tmp/two.state" <<'EOF' && ok || bad "inventory after a restart: see above"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[0])
ids = {a['id']: a for a in s['agents']}
if 'rp1' not in ids or 'rp2' not in ids:
    sys.exit(f"agents {sorted(ids)}: rp1 (from before the restart) or rp2 missing")
EOF

# ---- a tiny database: retention runs, ingest goes on ------------------------------------------
# How much one replay stores depends on the build (bytes per record) and on how the agent's
# batches fall into commits, so four replays did not always fill 1 MiB (once: no eviction
# counted). Replay until the database holds fewer records than were received (the read-only
# history is safe while the collector runs), at least four times and at most twelve.
start_collector tiny --db "$tmp/tinydb" --set storage.max_size=1
n_replays=0
for i in $(seq 12); do
  replay "t$i" 1kxun.pcap
  n_replays=$i
  [[ $i -lt 4 ]] && continue
  sleep 0.3 # a commit (commit_interval 0.1)
  n_db=$("$NS_BIN" history --db "$tmp/tinydb" --all-observations 2>/dev/null | wc -l)
  [[ $n_db -lt $(wc -l <"$tmp/tiny.jsonl") ]] && break
done
stop_collector
python3 - "$tmp/tiny.state" "$tmp/tiny.jsonl" <<'EOF' && ok || bad "tiny database: see above"
import json, sys
s = json.loads(open(sys.argv[1]).read().strip().splitlines()[-1])
c = s['counters']
if c['store_size_evictions'] < 1:
    sys.exit(f"no size eviction counted: {c}")
if c['store_records_written'] < sum(1 for _ in open(sys.argv[2])):
    sys.exit(f"records written {c['store_records_written']} < records received")
EOF
# every agent replays the same capture: t2..t4 observe t1's connections again (not primary)
n_tiny=$("$NS_BIN" history --db "$tmp/tinydb" --all-observations | wc -l)
n_all=$(wc -l <"$tmp/tiny.jsonl")
[[ $n_tiny -ge 1 && $n_tiny -lt $n_all ]] && ok ||
  bad "tiny database holds $n_tiny of $n_all records (want some, not all)"
grep -q "\"agent\":\"t$n_replays\"" <("$NS_BIN" history --db "$tmp/tinydb" --all-observations --limit 50) &&
  ok || bad "the newest records (agent t$n_replays) are not kept"

# ---- bad input -------------------------------------------------------------------------------
expect() { # expect STATUS PATTERN CMD...
  local want=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $want ]]; then bad "$*: exit $rc, want $want ($(head -c 300 "$tmp/err"))"; return; fi
  grep -qiE -- "$pattern" "$tmp/err" && ok || bad "$*: stderr lacks /$pattern/: $(head -c 300 "$tmp/err")"
}
expect 2 "--db DIR is required" "$NS_BIN" history
expect 2 "not a time" "$NS_BIN" history --db "$tmp/db" --from yesterday
expect 2 "not an IP address" "$NS_BIN" history --db "$tmp/db" --host example.com
expect 2 "not a port" "$NS_BIN" history --db "$tmp/db" --port 70000
expect 2 "json or csv" "$NS_BIN" history --db "$tmp/db" --format xml
expect 2 "unknown option" "$NS_BIN" history --db "$tmp/db" --bogus
expect 1 "$tmp/nosuch" "$NS_BIN" history --db "$tmp/nosuch"
expect 2 "storage.sync" "$COLLECTOR" --insecure --set storage.sync=sometimes

echo "history: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
