#!/usr/bin/env bash
# The collector's HTTP API and /metrics on loopback, and an agent's /metrics: a capture is
# replayed through netscope-agent into netscope-collector --insecure, then curl checks the
# routes (JSON and CSV), the errors (400 naming the parameter, 404, 405, 413, path tricks),
# token auth (401/403), 1,000 idle connections (a request still answered within 100 ms) and
# `promtool check metrics` on both /metrics. Processes are stopped by PID.
set -u
: "${NS_BUILD:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
PCAP=$NS_PCAPS/ndpi/443-curl.pcap
[[ -x $AGENT && -x $COLLECTOR ]] || { echo "skip: agent/collector not built"; exit 77; }
[[ -f $PCAP ]] || { echo "skip: $PCAP not found"; exit 77; }
for t in curl python3 promtool; do
  command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
cp "$PCAP" "$tmp/in.pcap" && chmod 644 "$tmp/in.pcap"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ $fail -gt 0 ]] && { mkdir -p "$NS_BUILD/test_api_http.failed"; cp -r "$tmp"/. "$NS_BUILD/test_api_http.failed/"; }
  rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start_collector NAME ARGS...: sets CPID, EP, BASE
start_collector() {
  local name=$1; shift
  HPORT=$(free_port)
  "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$HPORT" \
    --state-out "$tmp/$name.state" "$@" 2>"$tmp/$name.log" &
  CPID=$!
  pids+=("$CPID")
  BASE=http://127.0.0.1:$HPORT
  EP=
  for _ in $(seq 100); do
    EP=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/$name.log" | head -1 | sed 's/listening on //')
    [[ -n $EP ]] && grep -q 'HTTP API on' "$tmp/$name.log" && return 0
    sleep 0.05
  done
  echo "FAIL: collector $name did not start: $(cat "$tmp/$name.log")"
  exit 1
}

# expect STATUS CURL-ARGS...: the status code of one request
expect() {
  local want=$1; shift
  local got
  got=$(curl -s -o "$tmp/body" -w '%{http_code}' "$@")
  if [[ $got == "$want" ]]; then ok; else bad "$* -> $got, want $want: $(head -c 300 "$tmp/body")"; fi
}
# body_has PATTERN: the last body matches
body_has() { if grep -q -- "$1" "$tmp/body"; then ok; else bad "body lacks '$1': $(head -c 300 "$tmp/body")"; fi; }

# ---- a collector with data ------------------------------------------------------------------
start_collector main
APORT=$(free_port)
if ! "$AGENT" --insecure --collector "$EP" --id api-agent --replay "$tmp/in.pcap" \
  --replay-speed max --set "metrics.listen=127.0.0.1:$APORT" 2>"$tmp/agent.log"; then
  bad "agent replay failed: $(tail -3 "$tmp/agent.log")"
fi

expect 200 "$BASE/api/v1/health"
body_has '"status":"ok"'
expect 200 "$BASE/api/v1/agents"
body_has '"id":"api-agent"'
expect 200 "$BASE/api/v1/flows?limit=1000"
python3 - "$tmp/body" <<'PY' && ok || bad "flows JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert len(d["flows"]) >= 1, d
f = d["flows"][0]
for k in ("ts", "uid", "id.orig_h", "id.resp_p", "proto", "conn_state", "agent", "source"):
    assert k in f, k
assert f["agent"] == "api-agent" and f["source"] == "live"
open(sys.argv[1] + ".uid", "w").write(f["uid"])
PY
uid=$(cat "$tmp/body.uid" 2>/dev/null)
expect 200 -H 'Accept: text/csv' "$BASE/api/v1/flows"
if head -1 "$tmp/body" | grep -q '^ts,uid,id.orig_h' && [[ $(wc -l <"$tmp/body") -ge 2 ]]; then ok; else bad "CSV: $(head -2 "$tmp/body")"; fi
expect 200 "$BASE/api/v1/flows?format=csv&proto=tcp&port=443"
expect 200 "$BASE/api/v1/flows/$uid"
body_has "\"uid\":\"$uid\""
expect 200 "$BASE/api/v1/flows?filter=tcp%20port%20443&from=-1d"
expect 200 "$BASE/api/v1/top?by=bytes&group=port"
expect 200 "$BASE/api/v1/protocols"
# the analyses: the capture's one TCP connection, as `netscope flows` measures it
if [[ -n ${NS_BIN:-} && -x ${NS_BIN:-} ]]; then
  "$NS_BIN" flows -r "$tmp/in.pcap" >"$tmp/flows.jsonl" 2>/dev/null
  expect 200 "$BASE/api/v1/analysis/rtt?by=pair"
  python3 - "$tmp/body" "$tmp/flows.jsonl" <<'PY' && ok || bad "analysis/rtt by pair: $(head -c 400 "$tmp/body")"
import json, sys
d = json.load(open(sys.argv[1]))
f = [json.loads(l) for l in open(sys.argv[2])]
hs = [x for x in f if "rtt_handshake_us" in x]
assert len(d["rows"]) == len({(x["id.orig_h"], x["id.resp_h"]) for x in f}), d
row = d["rows"][0]
assert row["handshake"]["samples"] == len(hs), row
want = hs[0]["rtt_handshake_us"] / 1000
assert abs(row["handshake"]["p50_ms"] - want) <= 0.05 * want, (row, want)
assert row["running"]["samples"] == sum(x.get("rtt_samples", 0) for x in f), row
PY
  expect 200 "$BASE/api/v1/analysis/rtt?by=service&limit=5"
  body_has '"service":"tcp/443"'
  expect 200 "$BASE/api/v1/analysis/retrans?by=host&sort=rate"
  python3 - "$tmp/body" "$tmp/flows.jsonl" <<'PY' && ok || bad "analysis/retrans by host: $(head -c 400 "$tmp/body")"
import json, sys
d = json.load(open(sys.argv[1]))
f = [json.loads(l) for l in open(sys.argv[2])]
hosts = {x["id.orig_h"] for x in f} | {x["id.resp_h"] for x in f}
assert {r["host"] for r in d["rows"]} == hosts, d
assert sum(r["retrans"] for r in d["rows"]) == sum(x["retrans_orig"] + x["retrans_resp"] for x in f)
assert sum(r["packets"] for r in d["rows"]) == sum(x["orig_pkts"] + x["resp_pkts"] for x in f)
PY
  expect 200 "$BASE/api/v1/analysis/throughput?by=host"
  python3 - "$tmp/body" "$tmp/flows.jsonl" <<'PY' && ok || bad "analysis/throughput by host: $(head -c 400 "$tmp/body")"
import json, sys
d = json.load(open(sys.argv[1]))
f = [json.loads(l) for l in open(sys.argv[2])]
want = sum(x["orig_wire_bytes"] + x["resp_wire_bytes"] for x in f)
assert sum(r["bytes"] for r in d["rows"]) == want, (d, want)
assert all("bps" in r and "pps" in r for r in d["rows"]), d
PY
  expect 200 "$BASE/api/v1/analysis/loss"
  body_has '"rows":\[\]'
fi
expect 400 "$BASE/api/v1/analysis/rtt?by=host"
body_has '"parameter":"by"'
expect 400 "$BASE/api/v1/analysis/retrans?limit=0"
expect 404 "$BASE/api/v1/analysis/nope"

# ---- errors ---------------------------------------------------------------------------------
expect 400 "$BASE/api/v1/flows?colour=red"
body_has '"parameter":"colour"'
expect 400 "$BASE/api/v1/flows?from=2025-13-45T00:00:00Z"
body_has '"parameter":"from"'
expect 400 "$BASE/api/v1/flows?filter=host%20example.com"
expect 404 "$BASE/api/v1/nope"
expect 404 "$BASE/api/v1/flows/CNoSuchFlow"
expect 405 -X POST "$BASE/api/v1/flows"
if grep -qi '^allow: GET' <(curl -s -D - -o /dev/null -X DELETE "$BASE/api/v1/health"); then ok; else bad "405 without Allow"; fi
expect 413 "$BASE/api/v1/flows?x=$(head -c 70000 /dev/zero | tr '\0' a)"
expect 413 -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' b)" "$BASE/api/v1/health"
expect 413 -X POST --data-binary @<(head -c 100000 /dev/zero) "$BASE/api/v1/flows"
for p in '/api/v1/%2e%2e/%2e%2e/etc/passwd' '/api/v1/..%2f..%2fetc/passwd' '//etc/passwd' \
  '/api/v1/flows%2f..' '/%2e%2e/%2e%2e/etc/passwd' '/api/v1/flows/%00'; do
  code=$(curl -s --path-as-is -o "$tmp/body" -w '%{http_code}' "$BASE$p")
  if [[ $code == 400 || $code == 404 ]] && ! grep -q root: "$tmp/body"; then ok; else bad "$p -> $code"; fi
done
# security headers
hdrs=$(curl -s -D - -o /dev/null "$BASE/api/v1/health")
for h in 'X-Content-Type-Options: nosniff' "Content-Security-Policy: default-src 'none'" 'Cache-Control: no-store'; do
  if grep -qi "^$h" <<<"$hdrs"; then ok; else bad "missing header $h"; fi
done

# ---- metrics ----------------------------------------------------------------------------------
curl -s "$BASE/metrics" >"$tmp/metrics.txt"
if promtool check metrics <"$tmp/metrics.txt" >"$tmp/promtool.out" 2>&1; then ok; else bad "promtool (collector): $(cat "$tmp/promtool.out")"; fi
if grep -q '^netscope_http_requests_total{code="400"} [1-9]' "$tmp/metrics.txt" &&
  grep -q '^netscope_collector_batches_total [1-9]' "$tmp/metrics.txt"; then ok; else bad "metrics values: $(grep -E 'requests|batches_total' "$tmp/metrics.txt")"; fi

# the agent's /metrics: a second agent kept running (replay at recorded speed) to scrape it
APORT2=$(free_port)
"$AGENT" --insecure --collector "$EP" --id api-agent2 --replay "$tmp/in.pcap" --replay-speed 0.01 \
  --set "metrics.listen=127.0.0.1:$APORT2" 2>"$tmp/agent2.log" &
APID=$!
pids+=("$APID")
got=
for _ in $(seq 100); do
  curl -s -o "$tmp/agent_metrics.txt" "http://127.0.0.1:$APORT2/metrics" && { got=1; break; }
  sleep 0.05
done
if [[ -n $got ]] && promtool check metrics <"$tmp/agent_metrics.txt" >"$tmp/promtool2.out" 2>&1 &&
  grep -q '^netscope_agent_frames_total' "$tmp/agent_metrics.txt"; then ok; else bad "agent metrics: $(cat "$tmp/promtool2.out" "$tmp/agent2.log" 2>/dev/null | head -5)"; fi
kill -TERM "$APID"; wait "$APID" 2>/dev/null
kill -TERM "$CPID"; wait "$CPID" || bad "collector exit status"

# ---- history (--db): live + history once each, a restart, series, top -----------------------
start_collector hist --db "$tmp/db" --set storage.commit_interval=0.1 --flows-out "$tmp/hist.jsonl"
if ! "$AGENT" --insecure --collector "$EP" --id hist-agent --replay "$tmp/in.pcap" \
  --replay-speed max 2>"$tmp/agent-hist.log"; then
  bad "agent replay (history) failed: $(tail -3 "$tmp/agent-hist.log")"
fi
sleep 0.5 # a commit
expect 200 "$BASE/api/v1/flows?limit=1000&live=exclude&from=0"
cp "$tmp/body" "$tmp/hist_only.json"
expect 200 "$BASE/api/v1/flows?limit=1000&from=0"
cp "$tmp/body" "$tmp/both.json"
python3 - "$tmp/hist_only.json" "$tmp/both.json" "$tmp/hist.jsonl" <<'PY' && ok || bad "history before the restart: see above"
import json, sys
hist = json.load(open(sys.argv[1]))["flows"]
both = json.load(open(sys.argv[2]))["flows"]
finals = [json.loads(l) for l in open(sys.argv[3])]
finals = [r for r in finals if r.get("record", "final") == "final"]
assert finals, "no final record written"
assert all(f["source"] == "history" for f in hist), "live=exclude returned live flows"
assert sorted(f["uid"] for f in hist) == sorted(r["uid"] for r in finals), \
    f"{len(hist)} stored, {len(finals)} final records written"
uids = [f["uid"] for f in both]
assert len(uids) == len(set(uids)), "a connection is listed twice (live and history)"
assert set(uids) >= {r["uid"] for r in finals}, "live+history lacks a final record"
assert any(f["source"] == "live" for f in both), "nothing live: the overlap was not exercised"
PY
kill -TERM "$CPID"; wait "$CPID" || bad "collector (history) exit status"
start_collector hist2 --db "$tmp/db"
expect 200 "$BASE/api/v1/agents"
body_has '"id":"hist-agent"'
host=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["id.resp_h"])' "$tmp/hist.jsonl")
uid=$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["uid"])' "$tmp/hist.jsonl")
expect 200 "$BASE/api/v1/flows?host=$host&from=0"
python3 - "$tmp/body" "$uid" <<'PY' && ok || bad "a query by host after the restart: see above"
import json, sys
f = json.load(open(sys.argv[1]))["flows"]
assert f and all(x["source"] == "history" for x in f), f"{len(f)} flows"
assert sys.argv[2] in {x["uid"] for x in f}, "the flow from before the restart is missing"
PY
expect 200 "$BASE/api/v1/flows/$uid"
body_has "\"history\":\[{\"ts\""
expect 200 "$BASE/api/v1/timeseries?metric=all&from=-10m"
python3 - "$tmp/body" "$tmp/hist.jsonl" <<'PY' && ok || bad "timeseries: see above"
import json, sys
d = json.load(open(sys.argv[1]))
got = sum(p["bytes"] for p in d["points"])
want = sum(r["orig_wire_bytes"] + r["resp_wire_bytes"] for r in map(json.loads, open(sys.argv[2]))
           if r.get("record", "final") == "final")
assert d["resolution"] == "1s" and got == want and want > 0, f"series all: {got} bytes, records {want}"
PY
expect 200 "$BASE/api/v1/top?by=bytes&group=host&from=0"
body_has '"source":"history"'
body_has "\"label\":\"$host\""
expect 400 "$BASE/api/v1/timeseries?metric=all&from=-1h&step=often"
body_has '"parameter":"step"'
curl -s "$BASE/metrics" >"$tmp/metrics_db.txt"
if promtool check metrics <"$tmp/metrics_db.txt" >/dev/null 2>&1 &&
  grep -q '^netscope_store_flows [1-9]' "$tmp/metrics_db.txt"; then ok; else bad "store metrics: $(grep store "$tmp/metrics_db.txt" | head -5)"; fi
kill -TERM "$CPID"; wait "$CPID" || bad "collector (history, restarted) exit status"

# ---- token auth and 1,000 idle connections ---------------------------------------------------
start_collector auth --set http.token=s3cret --set http.max_connections=2000 --set http.per_client=2000
expect 401 "$BASE/api/v1/health"
if grep -qi '^www-authenticate: Bearer' <(curl -s -D - -o /dev/null "$BASE/api/v1/health"); then ok; else bad "401 without WWW-Authenticate"; fi
expect 403 -H 'Authorization: Bearer wrong' "$BASE/api/v1/health"
expect 403 -H 'Authorization: Bearer s3cre' "$BASE/api/v1/health"
expect 200 -H 'Authorization: Bearer s3cret' "$BASE/api/v1/health"
expect 401 "$BASE/metrics"
cat >"$tmp/idle.py" <<'PY'
import socket, sys, time, urllib.request
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = []
for _ in range(n):
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    socks.append(s)
time.sleep(0.3)
best = None
for _ in range(3):
    t0 = time.monotonic()
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/health",
                                 headers={"Authorization": "Bearer s3cret"})
    body = urllib.request.urlopen(req, timeout=5).read()
    dt = time.monotonic() - t0
    assert b'"status":"ok"' in body
    best = dt if best is None else min(best, dt)
# how many idle connections are still open
open_ = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            continue
    except BlockingIOError:
        open_ += 1
    except OSError:
        continue
print(f"{best * 1000:.1f} {open_}")
PY
if out=$(python3 "$tmp/idle.py" "$HPORT" 1000 2>&1); then
  ms=${out% *}; held=${out#* }
  echo "1000 idle connections: request answered in ${ms} ms, ${held} held open"
  if python3 -c "import sys; sys.exit(0 if float('$ms') < 100 else 1)"; then ok; else bad "request took ${ms} ms with 1000 idle connections"; fi
  if [[ $held -ge 1000 ]]; then ok; else bad "only $held of 1000 idle connections held"; fi
else
  bad "idle connections: $out"
fi
kill -TERM "$CPID"; wait "$CPID"

# default limits: connections beyond the per-client limit (32) are closed at once
start_collector limits
if out=$(python3 - "$HPORT" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(100)]
time.sleep(0.5)
open_ = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(1) == b"":
            continue
    except BlockingIOError:
        open_ += 1
    except OSError:
        continue
print(open_)
PY
); then
  if [[ $out -le 32 ]]; then ok; else bad "$out of 100 connections from one client held (limit 32)"; fi
else
  bad "limits: $out"
fi
kill -TERM "$CPID"; wait "$CPID"

# refusing a non-loopback address without a token
if "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http 0.0.0.0:0 2>"$tmp/refuse.log"; then
  bad "non-loopback without token started"
elif grep -q 'no-auth' "$tmp/refuse.log"; then ok; else bad "refusal sentence: $(cat "$tmp/refuse.log")"; fi

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
