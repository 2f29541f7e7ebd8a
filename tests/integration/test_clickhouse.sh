#!/usr/bin/env bash
# The ClickHouse export (collector/chsink.c) against Debian's clickhouse-server (18.16), started
# here on loopback with its own configuration in a temporary directory:
#   1. netscope-agents replay captures into a netscope-collector whose [clickhouse] url points
#      at the server: the rows of `flows` are the final records the collector wrote to
#      --flows-out, field for field (same count, same uids, same bytes, every other column);
#      the collector's exit counters say every row was sent and none dropped; the same rows
#      are the records of the collector's LMDB history (--db) of the run, and the roll-ups the
#      collector's store reported hold every wire byte of them;
#   2. roll-ups through the sink (tests/tools/chsink_put; the collector's come from the store's
#      writer): the rows of `rollups_1m` are the buckets put, hostile series names included;
#   3. a server that is stopped while the collector runs: the rows wait, are retried, and
#      arrive once it is back (the schema created again in a fresh data directory).
# Skips (77) only when clickhouse-server is not installed (scripts/deps.sh installs it).
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_SRC:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
PUT=$NS_BUILD/tests/tools/chsink_put

server=()
for b in /usr/bin/clickhouse-server /usr/sbin/clickhouse-server; do
  [[ -x $b ]] && { server=("$b"); break; }
done
if [[ ${#server[@]} -eq 0 ]] && command -v clickhouse >/dev/null; then server=(clickhouse server); fi
[[ ${#server[@]} -gt 0 ]] ||
  { echo "skip: clickhouse-server is not installed (scripts/deps.sh installs it)"; exit 77; }
for f in "$AGENT" "$COLLECTOR" "$PUT"; do
  [[ -x $f ]] || { echo "FAIL: $f is not built"; exit 1; }
done
for t in python3 curl; do
  command -v $t >/dev/null || { echo "FAIL: $t is missing (scripts/deps.sh)"; exit 1; }
done
[[ -d $NS_PCAPS/ndpi ]] || { echo "FAIL: $NS_PCAPS/ndpi not found (../shared/pcaps)"; exit 1; }
# LeakSanitizer cannot stop the world once the agent has switched to another user
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp" # the agent reads its replay file as root, but runs as nobody after
SPID= CPID=
cleanup() {
  for p in $CPID $SPID; do kill -TERM "$p" 2>/dev/null; done
  for p in $CPID $SPID; do wait "$p" 2>/dev/null; done
  if [[ $fail -gt 0 ]]; then
    mkdir -p "$NS_BUILD/test_clickhouse.failed" &&
      cp -r "$tmp"/*.log "$tmp"/*.jsonl "$tmp"/*.state "$tmp"/ch/*.log "$NS_BUILD/test_clickhouse.failed/" 2>/dev/null
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- the server ----------------------------------------------------------------------------
# shellcheck source=tests/integration/clickhouse_server.sh
source "$NS_SRC/tests/integration/clickhouse_server.sh"
# start_server: a server on fresh ports over $tmp/ch (kept across restarts); sets HP and SPID
start_server() {
  ns_ch_start "$tmp/ch" "${server[@]}" || {
    echo "FAIL: clickhouse-server did not start: $(tail -5 "$tmp/ch/server.err.log" "$tmp/ch/stdout.log" 2>/dev/null)"
    exit 1
  }
  HP=$NS_CH_PORT SPID=$NS_CH_PID
}
stop_server() {
  kill -TERM "$SPID"; wait "$SPID" 2>/dev/null; SPID=
}
# q SQL: the answer of the running server (64-bit integers as JSON numbers)
q() {
  curl -sS --data-binary "$1" "http://127.0.0.1:$HP/?output_format_json_quote_64bit_integers=0"
}

# ---- the collector -------------------------------------------------------------------------
# start_collector NAME ARGS...: a plain-text collector on a free port; sets EP and CPID
start_collector() {
  local name=$1; shift
  "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http '' --ws off --flows-out "$tmp/$name.jsonl" \
    --state-out "$tmp/$name.state" "$@" 2>"$tmp/$name.log" &
  CPID=$!
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
  kill -TERM "$CPID"; wait "$CPID"; local rc=$?; CPID=
  return $rc
}
# replay ID FILE: an agent replays a capture at full speed; true when all was acknowledged
replay() {
  cp "$2" "$tmp/$(basename "$2")" && chmod 644 "$tmp/$(basename "$2")"
  "$AGENT" --collector "$EP" --insecure --id "$1" --replay "$tmp/$(basename "$2")" \
    --replay-speed max 2>"$tmp/agent-$1.log"
}

# compare.py JSONL DB: the final records of JSONL against the rows of DB.flows, field by field
cat >"$tmp/compare.py" <<'EOF'
import json, math, sys, urllib.request
jsonl, db, port = sys.argv[1], sys.argv[2], sys.argv[3]
def query(sql):
    url = f"http://127.0.0.1:{port}/?output_format_json_quote_64bit_integers=0"
    with urllib.request.urlopen(url, data=sql.encode()) as r:
        return [json.loads(l) for l in r.read().decode().splitlines()]
cols = [r["name"] for r in query(f"SELECT name FROM system.columns WHERE database = '{db}' "
                                 "AND table = 'flows' AND default_kind != 'MATERIALIZED' FORMAT JSONEachRow")]
if len(cols) < 60:
    sys.exit(f"{db}.flows has {len(cols)} columns")
rows = query(f"SELECT * FROM {db}.flows FORMAT JSONEachRow")
want = [json.loads(l) for l in open(jsonl)]
want = [r for r in want if r.get("record", "final") == "final"]
if not want:
    sys.exit("the collector wrote no final record: nothing to compare")
if len(rows) != len(want):
    sys.exit(f"{len(rows)} rows in ClickHouse, {len(want)} final records in {jsonl}")
key = lambda r: (r["agent"], r["uid"])
got = {key(r): r for r in rows}
if len(got) != len(rows):
    sys.exit("a record is in ClickHouse twice")
bytes_total = 0
for w in want:
    g = got.get(key(w))
    if g is None:
        sys.exit(f"{key(w)} is not in ClickHouse")
    for c in cols:
        if c in ("conn", "primary", "observers", "received"):
            continue  # the collector's meta, checked below
        v, have = w.get(c), g[c]
        if v is None:  # a member the record lacks: the column's default
            v = "" if isinstance(have, str) else 0
        if isinstance(v, bool):
            v = int(v)
        same = (math.isclose(v, have, rel_tol=1e-12, abs_tol=1e-9)
                if isinstance(v, float) or isinstance(have, float) else v == have)
        if not same:
            sys.exit(f"{key(w)}: {c} is {have!r} in ClickHouse, {v!r} in the flows file")
    if g["received"] < w["ts"]:
        sys.exit(f"{key(w)}: received {g['received']} before the flow began")
    # one agent per capture: each connection's only observer, numbered by the collector
    if g["conn"] == 0 or (g["primary"], g["observers"]) != (1, 1):
        sys.exit(f"{key(w)}: conn/primary/observers {g['conn']}/{g['primary']}/{g['observers']}")
    bytes_total += w["orig_wire_bytes"] + w["resp_wire_bytes"]
if bytes_total == 0:
    sys.exit("no bytes in any record: nothing was compared")
print(f"{len(rows)} rows, {len(cols)} columns, {bytes_total} wire bytes")
EOF
# counters.py STATE NAME=VALUE...: the collector's exit counters
cat >"$tmp/counters.py" <<'EOF'
import json, sys
c = json.load(open(sys.argv[1]))["counters"]
for kv in sys.argv[2:]:
    if ">" in kv:
        k, _, v = kv.partition(">")
        if not c[k] > int(v):
            sys.exit(f"{k} = {c[k]}, want > {v}")
        continue
    k, _, v = kv.partition("=")
    if c[k] != (c[v] if v in c else int(v)):
        sys.exit(f"{k} = {c[k]}, want {v} ({c.get(v, v)})")
print(c["clickhouse_flows_sent"])
EOF

start_server

# ---- 1. a lab run: ClickHouse's rows are the collector's records ----------------------------
start_collector run --set clickhouse.url="http://127.0.0.1:$HP" --set clickhouse.database=ns_run \
  --set clickhouse.batch_rows=25 --set clickhouse.batch_ms=100 --db "$tmp/run.db"
n=0
for f in http.pcapng dns.pcap teams.pcap 443-curl.pcap bad-dns-traffic.pcap; do
  [[ -f $NS_PCAPS/ndpi/$f ]] || continue
  if replay "replay-$f" "$NS_PCAPS/ndpi/$f"; then n=$((n + 1)); else
    bad "agent replay of $f: $(tail -2 "$tmp/agent-replay-$f.log")"; fi
done
[[ $n -ge 3 ]] && ok || bad "fewer than 3 captures replayed"
stop_collector && ok || bad "the collector exited non-zero: $(tail -3 "$tmp/run.log")"
if r=$(python3 "$tmp/compare.py" "$tmp/run.jsonl" ns_run "$HP" 2>&1); then ok; echo "run: $r"; else bad "run: $r"; fi
# the same rows as the collector's history (LMDB) of the same run
if "$NS_BIN" history --db "$tmp/run.db" --all-observations >"$tmp/run.hist.jsonl" 2>"$tmp/hist.log" &&
  h=$(python3 "$tmp/compare.py" "$tmp/run.hist.jsonl" ns_run "$HP" 2>&1); then ok; echo "history: $h"
else bad "ClickHouse against LMDB: $h $(cat "$tmp/hist.log")"; fi
# the collector's own roll-ups (the store's writer, each minute once it is over, the rest at
# exit; a minute reported again carries its new total): series "all" holds every wire byte
want_bytes=${r##*, }; want_bytes=${want_bytes% wire bytes}
got_bytes=$(q "SELECT sum(b) FROM (SELECT max(bytes) AS b FROM ns_run.rollups_1m WHERE series = 'all' GROUP BY minute)")
[[ -n $want_bytes && $got_bytes == "$want_bytes" ]] && ok ||
  bad "rollups_1m: series all holds $got_bytes bytes, the records $want_bytes"
[[ $(q "SELECT count() FROM ns_run.rollups_1m WHERE series LIKE 'agent:replay-%'") -ge 3 ]] && ok ||
  bad "no per-agent roll-ups from the collector: $(q "SELECT DISTINCT series FROM ns_run.rollups_1m")"
r=$(python3 "$tmp/counters.py" "$tmp/run.state" clickhouse_flows_sent=final_records_written \
  clickhouse_flows_queued=final_records_written clickhouse_drops=0 clickhouse_failures=0 \
  clickhouse_queue_rows=0 'clickhouse_batches_sent>1' 2>&1) && ok || bad "run counters: $r"
grep -q "tables ns_run.flows and ns_run.rollups_1m ready" "$tmp/run.log" && ok ||
  bad "the schema was not logged: $(grep -i clickhouse "$tmp/run.log" | head -3)"
[[ $(q "EXISTS TABLE ns_run.rollups_1m") == 1 ]] && ok || bad "ns_run.rollups_1m was not created"
[[ $(q "SELECT partition_key FROM system.tables WHERE database = 'ns_run' AND name = 'flows'") == "toYYYYMMDD(day)" ]] &&
  ok || bad "flows is not partitioned by day"
# the README's top-talkers query runs on it and finds the captures' hosts
# (over every day: the captures are older than yesterday)
top=$(sed -n '/^-- top talkers/,/^```/p' "$NS_SRC/README.md" | sed '1d;$d')
[[ $top == *"day >= yesterday()"* ]] || bad "README.md's top-talkers query has changed: $top"
top=$(printf '%s\n' "$top" | sed 's/\bnetscope\./ns_run./g; s/day >= yesterday()/1/')
r=$(q "$top FORMAT TSV" 2>&1)
[[ $(printf '%s\n' "$r" | grep -c .) -ge 1 && $r != *Exception* ]] && ok || bad "top talkers: $r"

# ---- 2. roll-ups through the sink: every bucket, every value, every name ---------------------
"$PUT" "http://127.0.0.1:$HP" ns_put >"$tmp/put.jsonl" 2>"$tmp/put.log" && ok ||
  bad "chsink_put: $(cat "$tmp/put.log")"
q "SELECT series, toUnixTimestamp(minute) AS minute, bytes, pkts, new_flows, ended_flows,
     active_max, rtt_sum_us, rtt_n, retrans FROM ns_put.rollups_1m ORDER BY minute
     FORMAT JSONEachRow" >"$tmp/rollups.jsonl"
python3 - "$tmp/put.jsonl" "$tmp/rollups.jsonl" <<'EOF' && ok || bad "rollups_1m: see above"
import json, sys
want = [json.loads(l) for l in open(sys.argv[1])]
got = [json.loads(l) for l in open(sys.argv[2])]
if len(want) < 5 or want != got:
    sys.exit(f"{len(got)} rows, {len(want)} buckets put; first difference: "
             f"{next(((w, g) for w, g in zip(want, got) if w != g), None)}")
EOF

# ---- 3. the server goes away and comes back: rows wait and arrive once -----------------------
start_collector outage --set clickhouse.url="http://127.0.0.1:$HP" --set clickhouse.database=ns_outage \
  --set clickhouse.batch_ms=100 --set clickhouse.timeout_ms=500
old_hp=$HP
stop_server
mv "$tmp/ch/data" "$tmp/ch/data.old" # a fresh server: the schema must be created again
replay outage-1 "$NS_PCAPS/ndpi/http.pcapng" || bad "agent replay during the outage"
sleep 1 # a few failed attempts
grep -q "ClickHouse at .*: .*next try in" "$tmp/outage.log" && ok ||
  bad "the failure was not logged: $(grep -i clickhouse "$tmp/outage.log" | tail -3)"
# the same port again: the collector's URL does not change
start_server_on() {
  local want=$1
  sed -i "s|<http_port>[0-9]*</http_port>|<http_port>$want</http_port>|" "$tmp/ch/config.xml"
  mkdir -p "$tmp/ch/data"
  "${server[@]}" --config-file="$tmp/ch/config.xml" >>"$tmp/ch/stdout.log" 2>&1 &
  SPID=$!
  HP=$want
  for _ in $(seq 200); do
    [[ $(curl -s "http://127.0.0.1:$HP/?query=SELECT%201" 2>/dev/null) == 1 ]] && return 0
    sleep 0.05
  done
  return 1
}
start_server_on "$old_hp" || bad "clickhouse-server did not restart on port $old_hp"
for _ in $(seq 100); do
  [[ $(q "SELECT count() FROM ns_outage.flows" 2>/dev/null) =~ ^[1-9] ]] && break
  sleep 0.1
done
stop_collector && ok || bad "the collector exited non-zero after the outage"
if r=$(python3 "$tmp/compare.py" "$tmp/outage.jsonl" ns_outage "$HP" 2>&1); then ok; echo "outage: $r"; else bad "outage: $r"; fi
r=$(python3 "$tmp/counters.py" "$tmp/outage.state" clickhouse_flows_sent=final_records_written \
  'clickhouse_failures>0' 'clickhouse_retries>0' clickhouse_drops=0 2>&1) && ok ||
  bad "outage counters: $r"

echo "clickhouse: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
