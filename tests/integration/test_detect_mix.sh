#!/usr/bin/env bash
# The benchmark's traffic mix (bench/gen_traffic.c --mix: DNS, HTTP, TLS, rejected and
# unanswered TCP, pings, NTP, RTP; 300,000 packets, 12,000 conversations) replayed by an agent
# into a collector:
#   - raises no alert: none of the scan, sweep or flood detectors fires on ordinary traffic,
#     even compressed into seconds by a replay at full speed;
#   - the analyses agree with `netscope flows` on the same capture: per service, as many
#     handshake RTT samples as flows with a handshake RTT, and as many flows; per host, the
#     packets it sent and its retransmissions.
# Needs the built agent, collector, netscope and gen_traffic, curl and python3 (else 77).
set -u
: "${NS_BUILD:?}" "${NS_BIN:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
GEN=$NS_BUILD/bench/gen_traffic
for b in "$AGENT" "$COLLECTOR" "$GEN" "$NS_BIN"; do
  [[ -x $b ]] || { echo "skip: $b not built"; exit 77; }
done
for t in curl python3; do command -v $t >/dev/null || { echo "skip: $t missing"; exit 77; }; done

pass=0 fail=0
tmp=$(mktemp -d)
cpid=
cleanup() {
  [[ -n $cpid ]] && { kill -TERM "$cpid" 2>/dev/null; wait "$cpid" 2>/dev/null; }
  if ((fail > 0)); then
    rm -rf "$NS_BUILD/test_detect_mix.failed"
    cp -r "$tmp" "$NS_BUILD/test_detect_mix.failed"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
check() { # check NAME COMMAND...: the command's exit status
  if "${@:2}"; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

"$GEN" -w "$tmp/mix.pcap" --mix -c 300000 --seed 7 2>"$tmp/gen.log" || { cat "$tmp/gen.log"; exit 1; }
"$NS_BIN" flows -r "$tmp/mix.pcap" >"$tmp/flows.jsonl" 2>"$tmp/flows.err"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$port" --state-out /dev/null \
  2>"$tmp/collector.log" &
cpid=$!
ep=
for _ in $(seq 200); do
  ep=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/collector.log" | head -1 | sed 's/listening on //')
  [[ -n $ep ]] && grep -q 'HTTP API on' "$tmp/collector.log" && break
  ep=
  sleep 0.05
done
[[ -n $ep ]] || { echo "FAIL: collector did not start: $(cat "$tmp/collector.log")"; exit 1; }
check "agent replayed the mix" \
  "$AGENT" --insecure --collector "$ep" --id mix --replay "$tmp/mix.pcap" --replay-speed max \
  2>"$tmp/agent.log"
base=http://127.0.0.1:$port/api/v1
# every final record is in once the agent has exited (it waits for the acks); the detectors
# tick every 250 ms: give them two windows' worth of ticks to speak
sleep 3
curl -s "$base/alerts?state=all" >"$tmp/alerts.json"
check "no alert on the mix ($(head -c 300 "$tmp/alerts.json"))" \
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["count"] == 0 and not d["alerts"] else 1)' "$tmp/alerts.json"
curl -s "$base/analysis/rtt?by=service&limit=256" >"$tmp/rtt.json"
curl -s "$base/analysis/retrans?by=host&limit=256" >"$tmp/retrans.json"
check "analyses agree with netscope flows" python3 - "$tmp/flows.jsonl" "$tmp/rtt.json" "$tmp/retrans.json" <<'PY'
import collections, json, sys
flows = [json.loads(l) for l in open(sys.argv[1])]
rtt = json.load(open(sys.argv[2]))["rows"]
ret = json.load(open(sys.argv[3]))["rows"]
def svc(f):
    if f.get("service"):
        return f["service"]
    return "%s/%d" % (f["proto"], f["id.resp_p"]) if f["proto"] in ("tcp", "udp") else "ip/%d" % {"icmp": 1}.get(f["proto"], 0)
want_hs, want_flows = collections.Counter(), collections.Counter()
for f in flows:
    want_flows[svc(f)] += 1
    if "rtt_handshake_us" in f:
        want_hs[svc(f)] += 1
got_hs = {r["service"]: r["handshake"]["samples"] for r in rtt if r["handshake"]["samples"]}
got_flows = {r["service"]: r["flows"] for r in rtt if r["flows"]}
bad = []
if got_hs != dict(want_hs):
    bad.append("handshake samples per service: got %s want %s" % (got_hs, dict(want_hs)))
# the API lists 256 services at most (the mix has ~350: RTP's random ports): each listed one
# as counted, and the mix's main services all there
diff = {k: (v, want_flows[k]) for k, v in got_flows.items() if v != want_flows[k] and not k.startswith("ip/")}
if diff:
    bad.append("flows per service (got, want): %s" % dict(list(diff.items())[:10]))
for k in ("dns", "http", "tcp/443", "tcp/22", "tcp/3389", "udp/123"):
    if got_flows.get(k) != want_flows[k]:
        bad.append("service %s: %s flows, want %d" % (k, got_flows.get(k), want_flows[k]))
sent, rt = collections.Counter(), collections.Counter()
for f in flows:
    sent[f["id.orig_h"]] += f["orig_pkts"]
    sent[f["id.resp_h"]] += f["resp_pkts"]
    rt[f["id.orig_h"]] += f.get("retrans_orig", 0)
    rt[f["id.resp_h"]] += f.get("retrans_resp", 0)
# the API lists the 256 hosts that retransmitted most: each as counted, and the first is the
# host that retransmitted most
if len(ret) != min(256, len(sent)):
    bad.append("%d host rows" % len(ret))
diff = {r["host"]: ((r["packets"], r["retrans"]), (sent[r["host"]], rt[r["host"]]))
        for r in ret if (r["packets"], r["retrans"]) != (sent[r["host"]], rt[r["host"]])}
if diff:
    bad.append("(packets sent, retransmitted) per host (got, want): %s" % dict(list(diff.items())[:10]))
if ret and ret[0]["retrans"] != max(rt.values()):
    bad.append("first host retransmitted %d, the most is %d" % (ret[0]["retrans"], max(rt.values())))
for b in bad:
    print(b)
print("%d services, %d handshakes, %d hosts" % (len(want_flows), sum(want_hs.values()), len(sent)))
sys.exit(1 if bad else 0)
PY
echo "$pass passed, $fail failed"
((fail == 0))
