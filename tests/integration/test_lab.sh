#!/usr/bin/env bash
# The namespace lab (deploy/lab/lab.sh), end to end, with unique prefixes:
#   1. a 3-host lab without NetScope: up, status, two traffic rounds captured with tcpdump on
#      h1's eth0 (where an agent captures), every count `traffic` reported found in the capture
#      by tshark and equal to the README's per-round numbers, then down leaving nothing;
#   2. stand-in NetScope binaries: the exact command lines, keys and namespaces `up` uses, and
#      an agent that ignores SIGTERM stopped by SIGKILL after LAB_STOP_TIMEOUT;
#   3. an `up` that fails half-way (the collector exits) cleaned by `down`, twice; settings
#      refused before anything is made; a LAB_DIR that is not a lab's neither used nor removed.
# Needs root, iproute2 with `ip netns`, tcpdump, tshark, curl, ping, python3: otherwise skipped (77).
# shellcheck disable=SC2016,SC2012 # awk programs in single quotes; ls of files named by lab.sh
set -u
: "${NS_SRC:?}"
lab=$NS_SRC/deploy/lab/lab.sh
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }
for tool in ip ss tcpdump tshark curl ping python3; do
  command -v "$tool" >/dev/null || { echo "skip: needs $tool"; exit 77; }
done
probe=nslabprobe-$$
# It runs no NetScope binary yet: a sanitizer build would repeat the ci build's run.
[[ ${NS_SANITIZED:-0} == 1 ]] && { echo "skip: no NetScope binary to sanitize; the ci build runs it"; exit 77; }
if ! ip netns add "$probe" 2>/dev/null; then echo "skip: ip netns unavailable"; exit 77; fi
ip netns del "$probe"

tmp=$(mktemp -d)
p1=nst$$a p2=nst$$b p3=nst$$c
lab1() { LAB_PREFIX=$p1 LAB_DIR=$tmp/$p1 LAB_HOSTS=3 bash "$lab" "$@"; }
lab2() {
  LAB_PREFIX=$p2 LAB_DIR=$tmp/$p2 LAB_STOP_TIMEOUT=1 NS_CLI=$tmp/bin/netscope \
    NS_COLLECTOR=$tmp/bin/netscope-collector NS_AGENT=$tmp/bin/netscope-agent \
    NS_COLLECTOR_ARGS="--api-listen :8080" NS_AGENT_ARGS="--export-ms 500 --snaplen 128" bash "$lab" "$@"
}
lab3() {
  LAB_PREFIX=$p3 LAB_DIR=$tmp/$p3 NS_CLI=$tmp/bin/netscope NS_COLLECTOR=$tmp/bin/bad-collector \
    NS_AGENT=$tmp/bin/netscope-agent bash "$lab" "$@"
}
cleanup() {
  if [[ $fail -gt 0 && -n ${NS_BUILD:-} ]]; then # keep the capture and the logs to look at
    rm -rf "$NS_BUILD/test_lab.failed"
    cp -r "$tmp" "$NS_BUILD/test_lab.failed" 2>/dev/null
    echo "kept for inspection: $NS_BUILD/test_lab.failed"
  fi
  lab1 down >/dev/null 2>&1
  lab2 down >/dev/null 2>&1
  lab3 down >/dev/null 2>&1
  rm -rf "$tmp"
}
pass=0 fail=0
trap cleanup EXIT
eq() { # eq WHAT GOT WANT
  if [[ $2 == "$3" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $1: got '$2', want '$3'"
  fi
}
# Frames of the capture, one line each, decoded once by tshark without TCP reassembly (an HTTP
# status line is counted in the segment that carries it, however the body was cut); count
# counts those matching an awk condition over the columns:
#   $1 frame.len  $2 ip.src  $3 icmp.type  $4 tcp.srcport  $5 tcp.dstport  $6 tcp.flags.syn
#   $7 tcp.flags.ack  $8 tcp.flags.reset  $9 udp.dstport  $10 dns.flags.response
#   $11 dns.flags.rcode  $12 dns.a  $13 http.request.method  $14 http.response.code  $15 ipv6.src
decode_capture() {
  tshark -n -r "$1" -o tcp.desegment_tcp_streams:FALSE -T fields -E occurrence=f -e frame.len -e ip.src -e icmp.type -e tcp.srcport \
    -e tcp.dstport -e tcp.flags.syn -e tcp.flags.ack -e tcp.flags.reset -e udp.dstport \
    -e dns.flags.response -e dns.flags.rcode -e dns.a -e http.request.method \
    -e http.response.code -e ipv6.src 2>/dev/null >"$tmp/frames.tsv"
}
count() { # booleans print as 1/0 (tshark 4.0) or True/False (later): on() takes both
  awk -F'\t' "function on(x) { return x == \"1\" || x == \"True\" } $1 { n++ } END { print n + 0 }" "$tmp/frames.tsv"
}
lab_left() { # namespaces and root-namespace links named with prefix $1
  { ip netns list | awk '{print $1}'; ip -o link show | awk -F': ' '{print $2}'; } | grep -c "^$1-"
}
pids_alive() { # "RUNNING/RECORDED" for the PID files in directory $1
  local f n=0 total=0 st
  for f in "$1"/*.pid; do
    [[ -f $f ]] || continue
    total=$((total + 1))
    # A zombie has stopped; it lingers until PID 1 (which may be slow here) reaps it.
    st=$(ps -o stat= -p "$(awk '{print $1}' "$f")")
    [[ -n $st && $st != Z* ]] && n=$((n + 1))
  done
  echo "$n/$total"
}
veths_before=$(ip -o link show type veth | wc -l)

# ---- 1. a lab without NetScope: traffic against an independent capture ------------------------

lab1 up >"$tmp/up1.out" 2>&1
rc=$?
eq "up (3 hosts)" "$rc" 0
[[ $rc -eq 0 ]] || cat "$tmp/up1.out"
lab1 status >"$tmp/status1.out" 2>&1
eq "status of a healthy lab" "$?" 0
eq "status: h3 reaches col, h1 and h2" "$(grep -c '^  h3 -> col ok h1 ok h2 ok$' "$tmp/status1.out")" 1
eq "h2's address" "$(lab1 exec h2 ip -4 -o addr show dev eth0 | awk '{print $4}')" 10.77.0.12/24
eq "h2 has no default route" "$(lab1 exec h2 ip route show default | wc -l)" 0
eq "root namespace: no lab link" "$(ip -o link show | grep -c "$p1-")" 0
eq "root namespace: no new veth" "$(ip -o link show type veth | wc -l)" "$veths_before"
eq "dnsd knows every host" "$(lab1 exec h2 python3 "$NS_SRC/deploy/lab/dnsd.py" query --server 10.77.0.11 h3.lab 2>/dev/null)" \
  "queries=1 answers=1 nxdomain=0 failed=0"

lab1 capture h1 "$tmp/h1.pcap" >/dev/null 2>"$tmp/capture.err"
eq "capture h1" "$?" 0
lab1 traffic 2 >"$tmp/traffic.json" 2>"$tmp/traffic.err"
eq "traffic 2" "$?" 0
lab1 capture-stop h1 2>/dev/null
declare -A j=()
while read -r key value; do j[$key]=$value; done < <(python3 -c '
import json, sys
for k, v in json.load(open(sys.argv[1])).items():
    print(k, json.dumps(v))' "$tmp/traffic.json" 2>/dev/null)
# The README's round, from each of the 2 clients (h2, h3) to h1, twice: n = 4 client rounds.
n=4
eq "traffic: as_expected" "${j[as_expected]:-}" true
eq "traffic: clients" "${j[clients]:-}" '["h2", "h3"]'
eq "traffic: http_requests" "${j[http_requests]:-}" $((3 * n))
eq "traffic: http_200" "${j[http_200]:-}" $((2 * n))
eq "traffic: http_404" "${j[http_404]:-}" "$n"
eq "traffic: dns_queries" "${j[dns_queries]:-}" $((3 * n))
eq "traffic: dns_answers" "${j[dns_answers]:-}" $((2 * n))
eq "traffic: dns_nxdomain" "${j[dns_nxdomain]:-}" "$n"
eq "traffic: pings" "${j[pings]:-}" $((3 * n))
eq "traffic: ping_replies" "${j[ping_replies]:-}" $((3 * n))
eq "traffic: rej_attempts" "${j[rej_attempts]:-}" "$n"
eq "traffic: rejected" "${j[rejected]:-}" "$n"
# What tcpdump saw on h1's eth0, decoded by tshark.
decode_capture "$tmp/h1.pcap"
eq "capture: HTTP requests" "$(count '$13 == "GET"')" "${j[http_requests]:-x}"
eq "capture: HTTP connections" "$(count '$5 == 80 && on($6) && !on($7)')" "${j[http_requests]:-x}"
eq "capture: HTTP 200" "$(count '$14 == 200')" "${j[http_200]:-x}"
eq "capture: HTTP 404" "$(count '$14 == 404')" "${j[http_404]:-x}"
eq "capture: DNS queries" "$(count '$9 == 53 && !on($10)')" "${j[dns_queries]:-x}"
eq "capture: DNS A answers" "$(count 'on($10) && $11 == 0 && $12 != ""')" "${j[dns_answers]:-x}"
eq "capture: DNS NXDOMAIN" "$(count 'on($10) && $11 == 3')" "${j[dns_nxdomain]:-x}"
eq "capture: echo requests" "$(count '$3 == 8')" "${j[pings]:-x}"
eq "capture: echo replies" "$(count '$3 == "0"')" "${j[ping_replies]:-x}"
eq "capture: SYNs to the closed port" "$(count '$5 == 7999 && on($6) && !on($7)')" "${j[rej_attempts]:-x}"
eq "capture: RSTs from the closed port" "$(count '$4 == 7999 && on($8)')" "${j[rejected]:-x}"
eq "capture: ping sources" "$(awk -F'\t' '$3 == 8 { print $2 }' "$tmp/frames.tsv" | sort -u | tr '\n' ' ')" \
  "10.77.0.12 10.77.0.13 "
eq "capture: no IPv6" "$(count '$15 != ""')" 0
eq "capture: frames fit the MTU" "$(count '$1 > 1514')" 0
eq "traffic 0 is refused" "$(lab1 traffic 0 >/dev/null 2>&1; echo $?)" 1

eq "processes recorded and running before down (http, dnsd)" "$(pids_alive "$tmp/$p1/pids")" 2/2
cp -r "$tmp/$p1/pids" "$tmp/pids1"
# A process `up` did not start (as from `lab.sh exec`) would keep h2's namespace alive.
lab1 exec h2 sh -c 'echo $$ >"$1"; exec sleep 300' sh "$tmp/stray.pid" >/dev/null 2>&1 &
for _ in $(seq 50); do [[ -s $tmp/stray.pid ]] && break; sleep 0.1; done
lab1 down >"$tmp/down1.out" 2>&1
eq "down" "$?" 0
eq "down: a process started with exec is stopped" \
  "$(st=$(ps -o stat= -p "$(cat "$tmp/stray.pid")"); [[ -z $st || $st == Z* ]] && echo stopped)" stopped
eq "down: nothing named $p1 left" "$(lab_left "$p1")" 0
eq "down: no veth left" "$(ip -o link show type veth | wc -l)" "$veths_before"
eq "down: recorded processes stopped" "$(pids_alive "$tmp/pids1")" 0/2
eq "down: state directory removed" "$([[ -e $tmp/$p1 ]] && echo present || echo gone)" gone
eq "down again" "$(lab1 down >/dev/null 2>&1; echo $?)" 0
eq "status of no lab" "$(lab1 status >/dev/null 2>&1; echo $?)" 3

# ---- 2. stand-in NetScope binaries -------------------------------------------------------------

mkdir -p "$tmp/bin"
cat >"$tmp/bin/netscope" <<'EOF'
#!/bin/bash
[[ $1 == keygen && $# -eq 2 ]] || exit 2
echo public >"$2.key" && echo secret >"$2.key_secret"
EOF
cat >"$tmp/bin/netscope-collector" <<'EOF'
#!/usr/bin/env python3
import os, signal, socket, sys
print("argv:", " ".join(sys.argv[1:]))
print("netns:", os.readlink("/proc/self/ns/net"), flush=True)
host, port = sys.argv[sys.argv.index("--listen") + 1][len("tcp://"):].rsplit(":", 1)
s = socket.socket()
s.bind((host, int(port)))
s.listen()
signal.pause()
EOF
cat >"$tmp/bin/netscope-agent" <<'EOF'
#!/bin/bash
echo "argv: $*"
echo "netns: $(readlink /proc/self/ns/net)"
trap '' TERM
exec sleep 300
EOF
printf '#!/bin/bash\necho "collector: cannot listen" >&2\nexit 1\n' >"$tmp/bin/bad-collector"
chmod +x "$tmp/bin"/*

lab2 up >"$tmp/up2.out" 2>&1
rc=$?
eq "up with NetScope stand-ins" "$rc" 0
[[ $rc -eq 0 ]] || cat "$tmp/up2.out"
s2=$tmp/$p2
eq "keys generated" "$(cd "$s2/keys" 2>/dev/null && ls | tr '\n' ' ')" \
  "col.key col.key_secret h1.key h1.key_secret h2.key h2.key_secret "
eq "agents' public keys enrolled" "$(ls "$s2/allowed-keys" 2>/dev/null | tr '\n' ' ')" "h1.key h2.key "
eq "collector command line" "$(sed -n 's/^argv: //p' "$s2/logs/collector.log" 2>/dev/null)" \
  "--listen tcp://10.77.0.2:5556 --key $s2/keys/col.key_secret --allowed-keys $s2/allowed-keys --flows-out $s2/flows.out --api-listen :8080"
for h in h1 h2; do
  eq "agent $h command line" "$(sed -n 's/^argv: //p' "$s2/logs/agent-$h.log" 2>/dev/null)" \
    "-i eth0 --collector tcp://10.77.0.2:5556 --collector-key $s2/keys/col.key --key $s2/keys/$h.key_secret --id $h --user nobody --export-ms 500 --snaplen 128"
  eq "agent $h runs in $h's namespace" "$(sed -n 's/^netns: //p' "$s2/logs/agent-$h.log" 2>/dev/null)" \
    "$(lab2 exec "$h" readlink /proc/self/ns/net)"
done
eq "collector runs in col's namespace" "$(sed -n 's/^netns: //p' "$s2/logs/collector.log" 2>/dev/null)" \
  "$(lab2 exec col readlink /proc/self/ns/net)"
lab2 status >"$tmp/status2.out" 2>&1
eq "status with NetScope" "$?" 0
eq "status lists the agents running" "$(grep -cE '^  agent-h[12] +pid [0-9]+ +running$' "$tmp/status2.out")" 2
cp -r "$s2/pids" "$tmp/pids2"
lab2 down >"$tmp/down2.out" 2>&1
eq "down with NetScope" "$?" 0
eq "agents that ignore SIGTERM are killed" "$(grep -c 'ignored SIGTERM for 1 s: SIGKILL' "$tmp/down2.out")" 2
eq "down: every recorded process stopped" "$(pids_alive "$tmp/pids2")" 0/5
eq "down: nothing named $p2 left" "$(lab_left "$p2")" 0

# ---- 3. a partial up, and a LAB_DIR that is not a lab's ---------------------------------------

mkdir -p "$tmp/notalab" && echo keep >"$tmp/notalab/file"
eq "up refuses a foreign LAB_DIR" "$(LAB_PREFIX=$p3 LAB_DIR=$tmp/notalab bash "$lab" up >/dev/null 2>&1; echo $?)" 1
eq "down leaves a foreign LAB_DIR" "$(LAB_PREFIX=$p3 LAB_DIR=$tmp/notalab bash "$lab" down >/dev/null 2>&1; cat "$tmp/notalab/file")" keep
eq "up refuses agents without a collector" \
  "$(LAB_PREFIX=$p3 LAB_DIR=$tmp/$p3 NS_AGENT=$tmp/bin/netscope-agent bash "$lab" up 2>&1 >/dev/null)" \
  "lab: NS_AGENT needs NS_COLLECTOR: the agents send to the lab's collector"
eq "a refused setting makes nothing" "$(lab_left "$p3")$([[ -e $tmp/$p3 ]] && echo ' state')" 0
lab3 up >"$tmp/up3.out" 2>&1
eq "up with a collector that exits fails" "$?" 1
eq "the failure names the collector" "$(grep -c '^lab: collector exited' "$tmp/up3.out")" 1
eq "the partial lab is left for down" "$(ip netns list | grep -c "^$p3-")" 4
cp -r "$tmp/$p3/pids" "$tmp/pids3" 2>/dev/null
lab3 down >/dev/null 2>&1
eq "down after a partial up" "$?" 0
eq "down: nothing named $p3 left" "$(lab_left "$p3")" 0
# The collector may be gone before up records it: the servers are what must be recorded.
eq "the partial lab's servers were recorded" \
  "$([[ -f $tmp/pids3/http.pid && -f $tmp/pids3/dnsd.pid ]] && echo both)" both
eq "down: the partial lab's processes stopped" "$(pids_alive "$tmp/pids3" | cut -d/ -f1)" 0
eq "down twice after a partial up" "$(lab3 down >/dev/null 2>&1; echo $?)" 0

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
