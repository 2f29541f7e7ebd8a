#!/usr/bin/env bash
# Anomaly detection end to end on the namespace lab (deploy/lab/lab.sh): a collector in col with
# a database and a webhook receiver, agents in h1 (the lab's server), h2 (the attacker) and h3
# (an ordinary client), real tools from Debian, and what GET /api/v1/alerts says:
#   0. ordinary traffic (lab.sh traffic: ping, DNS with an NXDOMAIN, HTTP, a refused
#      connection; iperf3; curl) -> no alert;
#   1. hping3 SYN flood from h2 to h1:80, rate-limited -> exactly one syn_flood alert, naming
#      h1 as the victim; it clears after the flood stops;
#   2. nmap -sS over ports 1-1000 of h1 -> one port_scan alert naming scanner, victim and a port
#      count; it clears;
#   3. SIGHUP re-reads the [detect] keys: the sweep detector, off in the first configuration,
#      is turned on;
#   4. nmap -sn -PE --send-ip over the lab's /24 -> one sweep alert naming h2; it clears;
#   5. every change reached the webhook (raised and cleared for each alert) and /metrics counts
#      them; the cleared alerts come from the store (history); the SYN flood's evidence pcap
#      (fetched from the agents' packet rings) opens in tshark and holds SYNs to the victim.
# Needs root, `ip netns`, hping3, nmap, iperf3, curl, jq, python3 and the built binaries:
# otherwise skipped (77). Artifacts of a failed run: $NS_BUILD/test_detect_lab.failed.
set -u
: "${NS_SRC:?}" "${NS_BUILD:?}"
lab_sh=$NS_SRC/deploy/lab/lab.sh
cli=${NS_BIN:-$NS_BUILD/cli/netscope}
agent_bin=$NS_BUILD/agent/netscope-agent
collector_bin=$NS_BUILD/collector/netscope-collector
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }
for tool in ip hping3 nmap iperf3 curl jq python3 tshark; do
  command -v "$tool" >/dev/null || { echo "skip: needs $tool"; exit 77; }
done
for bin in "$cli" "$agent_bin" "$collector_bin"; do
  [[ -x $bin ]] || { echo "skip: $bin is not built"; exit 77; }
done
probe=nsaprobe-$$
if ! ip netns add "$probe" 2>/dev/null; then echo "skip: ip netns unavailable"; exit 77; fi
ip netns del "$probe"

tmp=$(mktemp -d)
prefix=nsa$$
state=$tmp/lab
h1_addr=10.77.0.11 h2_addr=10.77.0.12
# Short windows so that the test is quick; thresholds are the defaults unless named. The sweep
# detector starts off (turned on by SIGHUP in step 3).
conf=$tmp/collector.toml
write_conf() { # write_conf SWEEP_ENABLED
  cat >"$conf" <<TOML
[detect]
clear_after = 3
[detect.syn_flood]
threshold = 300
window = 5
[detect.port_scan]
window = 10
[detect.sweep]
enabled = $1
window = 10
[alerts]
webhook = "http://127.0.0.1:9099/hook"
webhook_retries = 5
TOML
}
write_conf false
lab() {
  LAB_PREFIX=$prefix LAB_DIR=$state LAB_HOSTS=3 NS_CLI=$cli NS_COLLECTOR=$collector_bin \
    NS_AGENT=$agent_bin NS_COLLECTOR_ARGS="--config $conf --db $tmp/db --state-out $tmp/state.json" \
    NS_AGENT_ARGS="--set flows.idle_timeout=2 --set flows.linger=1" \
    bash "$lab_sh" "$@"
}

pass=0 fail=0
mine=()
eq() {
  if [[ $2 == "$3" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $1: got '$2', want '$3'"
  fi
}
running() {
  local st
  st=$(ps -o stat= -p "$1" 2>/dev/null)
  [[ -n $st && $st != Z* ]]
}
start() { # start NAME NODE CMD...: in NODE's namespace, output in $tmp/NAME.log, PID in $started
  local name=$1 node=$2
  shift 2
  LAB_PREFIX=$prefix LAB_DIR=$state bash "$lab_sh" exec "$node" "$@" </dev/null >"$tmp/$name.log" 2>&1 &
  started=$!
  mine+=("$started")
}
stop() { # stop PID: SIGTERM, 5 s, SIGKILL
  local pid=$1 deadline=$((SECONDS + 5)) i
  kill -TERM "$pid" 2>/dev/null
  while running "$pid" && ((SECONDS <= deadline)); do sleep 0.1; done
  running "$pid" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  for i in "${!mine[@]}"; do [[ ${mine[i]} == "$pid" ]] && unset 'mine[i]'; done
}
until_ok() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.5
  done
}
in_ns() { LAB_PREFIX=$prefix LAB_DIR=$state bash "$lab_sh" exec "$@"; }
api() { in_ns col curl -s --max-time 5 "http://127.0.0.1:8080$1"; }
alerts() { api "/api/v1/alerts?$1" > "$tmp/alerts.json" && cat "$tmp/alerts.json"; }
n_alerts() { alerts "$1" | jq '.alerts | length'; } # n_alerts QUERY
# has_alert QUERY JQ: some alert of QUERY satisfies JQ
has_alert() { [[ $(alerts "$1" | jq "[.alerts[] | select($2)] | length") -ge 1 ]]; }

cleanup() {
  local pid
  for pid in "${mine[@]}"; do stop "$pid"; done
  if [[ $fail -gt 0 ]]; then
    rm -rf "$NS_BUILD/test_detect_lab.failed"
    cp -r "$tmp" "$NS_BUILD/test_detect_lab.failed" 2>/dev/null
    echo "kept for inspection: $NS_BUILD/test_detect_lab.failed"
  fi
  lab down >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

lab up >"$tmp/up.out" 2>&1
rc=$?
eq "lab up" "$rc" 0
if [[ $rc -ne 0 ]]; then
  cat "$tmp/up.out"
  exit 1
fi
collector_log=$state/logs/collector.log
col_pid=$(awk '{ print $1 }' "$state/pids/collector.pid")
for h in h1 h2 h3; do
  until_ok 10 grep -q "agent $h (.*) new" "$collector_log"
  eq "agent $h said Hello" "$?" 0
done
# The webhook receiver: one JSON body per line.
start hook col python3 -c '
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(sys.argv[1], "ab") as f:
            f.write(body + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", 9099), H).serve_forever()
' "$tmp/hook.jsonl"
: >"$tmp/hook.jsonl"
until_ok 10 api /api/v1/health >/dev/null
eq "API answers" "$?" 0

# ---- 0: ordinary traffic -> no alert ----------------------------------------------------------
start iperf_server h1 iperf3 -s -B "$h1_addr" -p 5201
iperf_pid=$started
sleep 1
lab traffic 3 >"$tmp/traffic.json" 2>"$tmp/traffic.err"
eq "lab traffic" "$?" 0
in_ns h3 iperf3 -c "$h1_addr" -p 5201 -t 5 -b 50M >"$tmp/iperf.log" 2>&1
eq "iperf3 h3 -> h1" "$?" 0
for i in 1 2 3 4 5; do in_ns h3 curl -s -o /dev/null "http://$h1_addr/" ; done
stop "$iperf_pid"
sleep 6 # the agents' idle timeout and an export interval: every record is in
eq "ordinary traffic: no alert" "$(n_alerts state=all)" 0

# ---- 1: SYN flood -------------------------------------------------------------------------------
# 2000 SYNs at ~400/s (hping3 increments the source port: each is a new connection attempt).
flood_start=$(date +%s.%N)
start hping h2 hping3 -S -p 80 -i u2500 -c 2000 "$h1_addr"
hping_pid=$started
until_ok 20 has_alert "detector=syn_flood" '.victim == "'$h1_addr'"'
eq "SYN flood: alert raised naming the victim" "$?" 0
# from the first SYN to the alert: the agents' export interval, the ingest, and the 300 SYNs
# the threshold needs (0.75 s at 400/s)
echo "SYN flood: raised $(jq -r --arg t "$flood_start" '[.alerts[] | select(.detector == "syn_flood")][0].raised - ($t | tonumber) | . * 100 | round / 100' "$tmp/alerts.json") s after hping3 started"
until_ok 20 bash -c "! kill -0 $hping_pid 2>/dev/null"
stop "$hping_pid"
until_ok 30 has_alert "detector=syn_flood&state=cleared" 'true'
eq "SYN flood: alert cleared after the flood" "$?" 0
eq "SYN flood: exactly one alert" "$(n_alerts detector=syn_flood)" 1
eq "SYN flood: subject" "$(jq -r '.alerts[0].subject' "$tmp/alerts.json")" "$h1_addr port 80/tcp"
eq "SYN flood: evidence uids" "$(jq '.alerts[0].evidence.uids | length > 0' "$tmp/alerts.json")" true
eq "SYN flood: nothing else alerted" "$(n_alerts state=all)" 1

# ---- 2: port scan --------------------------------------------------------------------------------
in_ns h2 nmap -n -Pn -sS -p 1-1000 --max-rate 400 "$h1_addr" >"$tmp/nmap_ss.log" 2>&1
eq "nmap -sS" "$?" 0
until_ok 20 has_alert "detector=port_scan" '.source == "'$h2_addr'" and .victim == "'$h1_addr'"'
eq "port scan: alert naming scanner and victim" "$?" 0
eq "port scan: port count at least the threshold (50)" \
  "$(jq '[.alerts[] | select(.detector == "port_scan")][0].peak >= 50' "$tmp/alerts.json")" true
until_ok 30 has_alert "detector=port_scan&state=cleared" 'true'
eq "port scan: cleared" "$?" 0
eq "port scan: exactly one alert" "$(n_alerts detector=port_scan)" 1
eq "port scan: no SYN-flood alert besides the first" "$(n_alerts detector=syn_flood)" 1

# ---- 3: SIGHUP turns the sweep detector on ---------------------------------------------------------
write_conf true
kill -HUP "$col_pid"
until_ok 10 grep -q "SIGHUP: detectors reconfigured" "$collector_log"
eq "SIGHUP: detectors reconfigured" "$?" 0

# ---- 4: ping sweep ---------------------------------------------------------------------------------
# Neighbour entries for the whole /24 let h2's echo requests leave for addresses nobody holds
# (the bridge floods them inside the lab); without them the kernel would wait for ARP.
for i in $(seq 1 254); do
  in_ns h2 ip neigh replace "10.77.0.$i" lladdr "02:4e:53:00:01:$(printf %02x "$i")" dev eth0 nud permanent 2>/dev/null
done
in_ns h2 ip neigh del "$h1_addr" dev eth0 2>/dev/null
in_ns h2 ip neigh del 10.77.0.2 dev eth0 2>/dev/null
in_ns h2 ip neigh del 10.77.0.13 dev eth0 2>/dev/null
in_ns h2 nmap -n -sn -PE --send-ip -T4 10.77.0.0/24 >"$tmp/nmap_sn.log" 2>&1
eq "nmap -sn" "$?" 0
until_ok 20 has_alert "detector=sweep" '.source == "'$h2_addr'"'
eq "sweep: alert naming the source" "$?" 0
until_ok 30 has_alert "detector=sweep&state=cleared" 'true'
eq "sweep: cleared" "$?" 0
eq "sweep: exactly one alert" "$(n_alerts detector=sweep)" 1

# ---- 5: history, notifications, metrics, pcap -----------------------------------------------------
eq "three alerts in all, all cleared (from the store)" "$(n_alerts state=cleared)" 3
eq "no active alert" "$(n_alerts state=active)" 0
id=$(alerts detector=syn_flood | jq -r '.alerts[0].id')
eq "one alert by id" "$(api "/api/v1/alerts/$id" | jq -r .id)" "$id"
eq "the SYN flood alert has a pcap" "$(api "/api/v1/alerts/$id" | jq -r .pcap)" true
code=$(in_ns col curl -s -o "$tmp/evidence.pcap" -w '%{http_code}' "http://127.0.0.1:8080/api/v1/alerts/$id/pcap")
eq "evidence pcap: served" "$code" 200
syns=$(tshark -r "$tmp/evidence.pcap" -Y "ip.dst == $h1_addr && tcp.dstport == 80 && tcp.flags.syn == 1 && tcp.flags.ack == 0" 2>/dev/null | wc -l)
[[ $syns -ge 1 ]]
eq "evidence pcap: opens in tshark with SYNs to the victim ($syns)" "$?" 0
for d in syn_flood port_scan sweep; do
  for st in raised cleared; do
    until_ok 10 grep -q "\"detector\":\"$d\",\"state\":\"$st\"" "$tmp/hook.jsonl"
    eq "webhook: $d $st" "$?" 0
  done
done
api /metrics >"$tmp/metrics.txt"
for d in syn_flood port_scan sweep; do
  eq "metrics: $d raised" "$(awk -v k="netscope_collector_alerts_raised_total{detector=\"$d\"}" '$1 == k { print $2 }' "$tmp/metrics.txt")" 1
done
eq "metrics: notifications sent" \
  "$(awk '$1 == "netscope_collector_alert_notifications_total{result=\"sent\"}" { print ($2 >= 6) }' "$tmp/metrics.txt")" 1

# ---- the collector stops cleanly (a sanitizer build reports leaks and errors at exit) -----------
kill -TERM "$col_pid"
until_ok 20 bash -c "! kill -0 $col_pid 2>/dev/null"
eq "collector stopped on SIGTERM" "$?" 0
eq "no sanitizer report in the collector's log" \
  "$(grep -c -E 'Sanitizer|runtime error' "$collector_log")" 0

echo "$pass passed, $fail failed (${SECONDS} s)"
[[ $fail -eq 0 ]]
