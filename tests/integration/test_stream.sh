#!/usr/bin/env bash
# The live stream (docs/stream.md) and the dashboard's files, end to end: a generated capture
# is replayed slowly through netscope-agent into netscope-collector --insecure, and
# ws_client.py (a stdlib WebSocket client) checks hello then state frames at <= 30 Hz with
# increasing seq and ts, the live numbers against /api/v1/flows and /api/v1/health, live
# flows' "app" (latest HTTP request or DNS query) against tshark's reading of the capture, Origin
# and token refusals (403/401), a filter narrowing the flow deltas, a bad filter's error frame
# with libpcap's text, a state frame due behind an error frame or a pause still sent,
# get_packets answered with a pcap tshark reads, and a client that never
# reads: its skipped frames are counted in /metrics while /api/v1/health keeps answering;
# the REST dry run of a capture filter over the agent's ring ({packets, kept}, libpcap's error),
# whose counts over a ring holding a whole capture are exactly tcpdump's.
# Then curl checks the UI files (content types, CSP, nosniff, traversal and symlinks refused),
# and the collector refuses a non-loopback stream without a token at startup.
# Processes are stopped by PID.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
GEN=$NS_BUILD/bench/gen_traffic
WSC=$NS_SRC/tests/integration/ws_client.py
[[ -x $AGENT && -x $COLLECTOR && -x $GEN ]] || { echo "skip: agent/collector/gen_traffic not built"; exit 77; }
for t in curl python3; do
  command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }
done

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ $fail -gt 0 ]] && { mkdir -p "$NS_BUILD/test_stream.failed"; cp -r "$tmp"/. "$NS_BUILD/test_stream.failed/"; }
  rm -rf "$tmp"
}
trap cleanup EXIT

# free_ports N: N distinct free ports (every socket held open until all are bound: two separate
# bind-and-close probes in a row can get the same port back, which once made the stream fail)
free_ports() {
  python3 -c 'import socket, sys
ss = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in ss: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in ss))' "$1"
}
run() { if "$@"; then ok; else bad "$*"; fi; }

# start_collector NAME ARGS...: sets CPID, EP, BASE, WSURL
start_collector() {
  local name=$1; shift
  read -r HPORT WPORT < <(free_ports 2)
  "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$HPORT" \
    --ws "127.0.0.1:$WPORT" --state-out "$tmp/$name.state" "$@" 2>"$tmp/$name.log" &
  CPID=$!
  pids+=("$CPID")
  BASE=http://127.0.0.1:$HPORT
  WSURL=ws://127.0.0.1:$WPORT/api/v1/stream
  EP=
  for _ in $(seq 200); do
    EP=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/$name.log" | head -1 | sed 's/listening on //')
    [[ -n $EP ]] && grep -q 'HTTP API on' "$tmp/$name.log" &&
      { [[ " $* " == *" --ws off "* ]] || grep -q 'live stream on' "$tmp/$name.log"; } && return 0
    sleep 0.05
  done
  echo "FAIL: collector $name did not start: $(cat "$tmp/$name.log")"
  exit 1
}

# ---- the dashboard's directory: files, a symlink out, a hidden file --------------------------
ui=$tmp/ui
mkdir -p "$ui/assets"
echo '<!doctype html><title>NetScope</title>' >"$ui/index.html"
echo 'console.log(1)' >"$ui/assets/app.js"
printf '\0asm\1\0\0\0' >"$ui/assets/dissect.wasm"
echo 'secret' >"$tmp/outside.txt"
ln -s "$tmp/outside.txt" "$ui/leak.txt"
echo 'x' >"$ui/.hidden"

# ---- a collector fed by a slow replay --------------------------------------------------------
"$GEN" --mix --packets 20000 --active 100 --seed 1 -w "$tmp/in.pcap" >/dev/null
chmod 644 "$tmp/in.pcap"
start_collector main --ui-dir "$ui"
"$AGENT" --insecure --collector "$EP" --id stream-agent --replay "$tmp/in.pcap" \
  --replay-speed 0.01 2>"$tmp/agent.log" & # 90 s: traffic for the whole test
pids+=($!)
n=0
for _ in $(seq 300); do # a loaded machine: up to 30 s
  n=$(curl -s "$BASE/api/v1/health" | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows_live"])' 2>/dev/null)
  [[ ${n:-0} -gt 20 ]] && break
  sleep 0.1
done
[[ ${n:-0} -gt 20 ]] || bad "only ${n:-0} live flows 30 s into the replay"

run python3 "$WSC" frames "$WSURL" "$BASE" 3
# live flows carry "app": their latest HTTP request or DNS query, as the capture has them
if command -v tshark >/dev/null; then
  tshark -r "$tmp/in.pcap" -Y 'http.request' -T fields -E separator='|' \
    -e http.request.method -e http.host -e http.request.uri >"$tmp/http.txt" 2>/dev/null
  tshark -r "$tmp/in.pcap" -Y 'dns.flags.response == 0' -T fields -e dns.qry.name >"$tmp/dns.txt" 2>/dev/null
  curl -s "$BASE/api/v1/flows?live=only&limit=10000" >"$tmp/live.json"
  if python3 - "$tmp/live.json" "$tmp/http.txt" "$tmp/dns.txt" <<'PY'
import json, sys
flows = json.load(open(sys.argv[1]))["flows"]
http = {"%s %s%s" % tuple(l.rstrip("\n").split("|")) for l in open(sys.argv[2]) if l.strip()}
dns = {l.strip() for l in open(sys.argv[3]) if l.strip()}
apps = [(f.get("service"), f["app"]) for f in flows if f["app"] is not None]
bad = [a for s, a in apps if a not in (http if a.split(" ")[0] in ("GET", "POST", "HEAD", "PUT") else dns)]
kinds = {("http" if a in http else "dns") for s, a in apps if a in http or a in dns}
print(f"app: {len(apps)} of {len(flows)} live flows, kinds {sorted(kinds)}, not in the capture: {bad[:3]}")
sys.exit(0 if all("app" in f for f in flows) and not bad and kinds == {"http", "dns"} else 1)
PY
  then ok; else bad "live flows' app"; fi
fi
run python3 "$WSC" refused "$WSURL" "http://evil.example" 403
run python3 "$WSC" refused "$WSURL" "http://127.0.0.1:$HPORT" 101
run python3 "$WSC" refused "$WSURL" "http://localhost:$HPORT" 101
run python3 "$WSC" refused "$WSURL" "" 101 # no Origin: a non-browser client on loopback
run python3 "$WSC" refused "${WSURL%/stream}/other" "" 404
run python3 "$WSC" filter "$WSURL" "port 53" 53
# a state frame due behind an error frame, or across pause/resume, is still sent (the only
# client connected: it watches the global skip counter)
run python3 "$WSC" wake "$WSURL" "$BASE" "port 53" 53
if python3 "$WSC" packets "$WSURL" "$BASE" "$tmp/flow.pcap"; then
  ok
  if command -v tshark >/dev/null; then
    n=$(tshark -r "$tmp/flow.pcap" 2>/dev/null | wc -l)
    if [[ $n -gt 0 ]]; then ok; else bad "tshark read no packet from the get_packets pcap"; fi
  fi
else
  bad "get_packets"
fi

# the capture filter's dry run over the agent's ring: part of the mix is kept ("ip6 or udp port
# 53": a fifth of its flows are IPv6); exact counts are checked below on a ring that holds a
# whole capture
curl -s -o "$tmp/dry" -w '%{http_code}' "$BASE/api/v1/agents/stream-agent/filter_dryrun?bpf=ip6%20or%20udp%20port%2053" >"$tmp/dry.code"
if [[ $(cat "$tmp/dry.code") == 200 ]] && python3 - "$tmp/dry" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print("dry run:", d)
sys.exit(0 if d["packets"] > 0 and 0 < d["kept"] < d["packets"] else 1)
PY
then ok; else bad "filter_dryrun: $(cat "$tmp/dry.code") $(cat "$tmp/dry")"; fi
code=$(curl -s -o "$tmp/dry" -w '%{http_code}' "$BASE/api/v1/agents/stream-agent/filter_dryrun?bpf=port%2053%20and%20and")
if [[ $code == 400 ]] && grep -q 'syntax error' "$tmp/dry"; then ok; else bad "bad dry-run filter: $code $(cat "$tmp/dry")"; fi
code=$(curl -s -o "$tmp/dry" -w '%{http_code}' "$BASE/api/v1/agents/nosuch/filter_dryrun?bpf=tcp")
if [[ $code == 404 ]]; then ok; else bad "dry run of an unknown agent: $code"; fi

# a client that never reads: skipped frames counted, the API still answering
python3 "$WSC" slow "$WSURL" 25 >"$tmp/slow.log" 2>&1 &
slow=$!
pids+=("$slow")
skipped=0 slowest=0
for _ in $(seq 40); do
  sleep 0.5
  t=$(curl -s -o /dev/null -m 5 -w '%{time_total}' "$BASE/api/v1/health")
  slowest=$(python3 -c "print(max($slowest, ${t:-9}))")
  skipped=$(curl -s "$BASE/metrics" | awk '/^netscope_stream_frames_skipped_total/ {print $2}')
  [[ ${skipped:-0} -gt 10 ]] && break
done
if [[ ${skipped:-0} -gt 10 ]]; then ok; else bad "no skipped frames counted for a client that never reads ($skipped)"; fi
if python3 -c "import sys; sys.exit(0 if $slowest < 1.0 else 1)"; then ok; else bad "health took ${slowest}s with a stuck client"; fi
curl -s "$BASE/metrics" >"$tmp/metrics"
for m in netscope_stream_clients netscope_stream_frames_sent_total netscope_stream_sent_bytes_total; do
  if grep -q "^$m " "$tmp/metrics"; then ok; else bad "/metrics lacks $m"; fi
done
if command -v promtool >/dev/null; then
  if promtool check metrics <"$tmp/metrics" >/dev/null 2>&1; then ok; else bad "promtool: $(promtool check metrics <"$tmp/metrics" 2>&1 | head -3)"; fi
fi
kill "$slow" 2>/dev/null

# ---- the dashboard's files -------------------------------------------------------------------
# expect STATUS URL [CURL-ARGS...]: status, headers in $tmp/h, body in $tmp/body
expect() {
  local want=$1 url=$2; shift 2
  local got
  got=$(curl -s -D "$tmp/h" -o "$tmp/body" -w '%{http_code}' "$@" "$url")
  if [[ $got == "$want" ]]; then ok; else bad "$url -> $got, want $want"; fi
}
hdr_has() { if grep -qi -- "$1" "$tmp/h"; then ok; else bad "headers lack '$1': $(tr -d '\r' <"$tmp/h" | tr '\n' '|')"; fi; }
expect 200 "$BASE/"
hdr_has '^Content-Type: text/html'
hdr_has "^Content-Security-Policy: default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ws://127.0.0.1:$WPORT; img-src 'self' data: blob:; style-src 'self'; object-src 'none'; frame-ancestors 'none'"
hdr_has '^X-Content-Type-Options: nosniff'
if grep -q NetScope "$tmp/body"; then ok; else bad "GET / is not index.html"; fi
expect 200 "$BASE/assets/app.js"
hdr_has '^Content-Type: text/javascript'
expect 200 "$BASE/assets/dissect.wasm"
hdr_has '^Content-Type: application/wasm'
expect 404 "$BASE/leak.txt"   # a symlink out of the directory
expect 404 "$BASE/.hidden"
expect 404 "$BASE/nosuch.js"
expect 400 "$BASE/../outside.txt" --path-as-is
expect 400 "$BASE/assets/../../outside.txt" --path-as-is
expect 400 "$BASE/%2e%2e/outside.txt"
expect 400 "$BASE/index.html%00.js"
expect 200 "$BASE/api/v1/health" # the API still wins over the files
if grep -q "\"stream\":\"$WSURL\"" "$tmp/body"; then ok; else bad "health: $(cat "$tmp/body")"; fi

# ---- the dry run over a whole ring: exactly tcpdump's count ----------------------------------
# The capture, then one more frame 300 s later: replayed at the recorded speed, the agent holds
# the whole capture in its ring (64 MB) while it waits for that last frame, and serves requests
# meanwhile.
"$GEN" --mix --packets 5000 --active 200 --seed 7 -w "$tmp/ring.pcap" >/dev/null
python3 "$NS_SRC/tests/integration/pcap_late_frame.py" "$tmp/ring.pcap" "$tmp/ring_late.pcap"
chmod 644 "$tmp/ring_late.pcap"
start_collector ring
"$AGENT" --insecure --collector "$EP" --id ring-agent --replay "$tmp/ring_late.pcap" \
  --replay-speed 1 2>"$tmp/ring-agent.log" &
pids+=($!)
total=$(tcpdump -nr "$tmp/ring.pcap" 2>/dev/null | wc -l)
dry() { curl -s -m 20 "$BASE/api/v1/agents/ring-agent/filter_dryrun?bpf=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1")"; }
got=
for _ in $(seq 60); do # the replay of the capture itself takes about a second
  got=$(dry tcp)
  [[ $got == *"\"packets\":$total,"* ]] && break
  sleep 0.5
done
for f in tcp 'udp port 53' 'ip6 or icmp' 'tcp[tcpflags] & tcp-syn != 0'; do
  want=$(tcpdump -nr "$tmp/ring.pcap" "$f" 2>/dev/null | wc -l)
  got=$(dry "$f")
  if python3 - "$got" "$total" "$want" <<'PY'
import json, sys
d, total, want = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
print(f"dry run {d['bpf']!r}: {d['kept']} of {d['packets']} ({d['scope']}), tcpdump: {want} of {total}")
sys.exit(0 if (d["scope"], d["truncated"], d["packets"], d["kept"]) == ("ring", False, total, want) else 1)
PY
  then ok; else bad "dry run of '$f' over the whole ring: $got (tcpdump: $want of $total)"; fi
done

# ---- tokens and startup checks ---------------------------------------------------------------
start_collector tok --set http.token=s3cret --ui-dir "$ui"
expect 200 "$BASE/"             # the dashboard loads without the token...
expect 401 "$BASE/api/v1/health" # ...the API does not
expect 401 "$BASE/metrics"
run python3 "$WSC" refused "$WSURL" "" 401
run python3 "$WSC" refused "$WSURL?token=wrong" "" 403
run python3 "$WSC" refused "$WSURL?token=s3cret" "" 101
run python3 "$WSC" refused "$WSURL" "" 101 "Authorization: Bearer s3cret"

read -r p hp < <(free_ports 2)
rc=0
"$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$hp" \
  --ws "0.0.0.0:$p" --state-out "$tmp/nt.state" 2>"$tmp/nt.log" || rc=$?
if [[ $rc -eq 2 ]] && grep -q 'not loopback' "$tmp/nt.log"; then ok; else bad "non-loopback stream without a token: rc $rc: $(cat "$tmp/nt.log")"; fi

start_collector off --ws off
curl -s "$BASE/api/v1/health" >"$tmp/body"
if grep -q '"stream":null' "$tmp/body"; then ok; else bad "--ws off: $(cat "$tmp/body")"; fi

echo "test_stream: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
