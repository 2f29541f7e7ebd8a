#!/bin/sh
# labtraffic.sh - the compose lab's traffic generators (one role per container).
#
#   labtraffic.sh http-server PORT              serve / (small) and /data.bin (20000 bytes)
#   labtraffic.sh http-client HOST PORT PERIOD  GET / and /data.bin every PERIOD seconds
#   labtraffic.sh dns-server PORT NAME=IPV4...  deploy/lab/dnsd.py on this container's address
#   labtraffic.sh dns-client HOST PORT PERIOD NAME...   one query per NAME every PERIOD seconds
#   labtraffic.sh ping HOST PERIOD              one echo request every PERIOD seconds
#   labtraffic.sh attack HOST PORT              nmap SYN scan of ports 1-1000, then a
#                                               rate-limited hping3 SYN flood (2000 SYNs, 400/s)
#   labtraffic.sh verify WEB DNS COLLECTOR_URL  one round of known traffic from here, captured on
#                                               every interface here; then verify.py compares the
#                                               collector's flows and alerts with the capture;
#                                               then verify-replay, when /replay is mounted
#   labtraffic.sh verify-replay COLLECTOR_URL [tamper]   the replay service's latest run (the
#                                               bundled captures in /pcaps, its results in
#                                               /replay): the collector's flows of that agent
#                                               and `netscope flows -r` against tshark; tamper
#                                               drops a frame first, so differences must show
#
# Each client prints one line per round with its running totals ("http requests=N ok=N"), which
# is what `docker-compose logs` shows and what a verification compares with the collector.
set -eu

die() {
  echo "labtraffic: $*" >&2
  exit 2
}
# addr_of NAME: the IPv4 address Docker's DNS gives NAME (waits for it, 30 s at most).
addr_of() {
  i=0
  while ! a=$(getent ahostsv4 "$1" | awk 'NR == 1 { print $1 }') || [ -z "$a" ]; do
    i=$((i + 1))
    [ $i -le 60 ] || die "cannot resolve $1"
    sleep 0.5
  done
  echo "$a"
}

role=${1:-help}
[ $# -eq 0 ] || shift
case $role in
http-server)
  [ $# -eq 1 ] || die "http-server PORT"
  www=$(mktemp -d)
  printf '<!doctype html>\n<title>NetScope compose lab</title>\n<p>served by web\n' >"$www/index.html"
  head -c 20000 /dev/zero | tr '\0' 'n' >"$www/data.bin"
  exec python3 -u -m http.server --directory "$www" "$1"
  ;;
http-client)
  [ $# -eq 3 ] || die "http-client HOST PORT PERIOD"
  host=$(addr_of "$1")
  n=0 ok=0
  while :; do
    for path in / /data.bin; do
      n=$((n + 1))
      code=$(curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "http://$host:$2$path" 2>/dev/null) || true
      [ "$code" != 200 ] || ok=$((ok + 1))
    done
    echo "http requests=$n ok=$ok"
    sleep "$3"
  done
  ;;
dns-server)
  [ $# -ge 2 ] || die "dns-server PORT NAME=IPV4..."
  port=$1
  shift
  records=
  for r in "$@"; do records="$records --record $r"; done
  # shellcheck disable=SC2086 # one word per record on purpose
  exec python3 -u /usr/local/bin/dnsd.py serve --addr "$(hostname -i | awk '{ print $1 }')" --port "$port" $records
  ;;
dns-client)
  [ $# -ge 4 ] || die "dns-client HOST PORT PERIOD NAME..."
  host=$(addr_of "$1") port=$2 period=$3
  shift 3
  q=0 a=0 nx=0
  while :; do
    out=$(python3 /usr/local/bin/dnsd.py query --server "$host" --port "$port" "$@" 2>/dev/null) || true
    q=$((q + $(echo "$out" | sed -n 's/.*queries=\([0-9]*\).*/\1/p')))
    a=$((a + $(echo "$out" | sed -n 's/.*answers=\([0-9]*\).*/\1/p')))
    nx=$((nx + $(echo "$out" | sed -n 's/.*nxdomain=\([0-9]*\).*/\1/p')))
    echo "dns queries=$q answers=$a nxdomain=$nx"
    sleep "$period"
  done
  ;;
ping)
  [ $# -eq 2 ] || die "ping HOST PERIOD"
  exec ping -n -i "$2" "$(addr_of "$1")"
  ;;
attack)
  [ $# -eq 2 ] || die "attack HOST PORT"
  host=$(addr_of "$1")
  echo "attack: from $(hostname -i | awk '{ print $1 }')"
  echo "attack: nmap -sS ports 1-1000 of $1 ($host)"
  nmap -n -Pn -sS -p 1-1000 --max-rate 400 "$host"
  echo "attack: hping3 SYN flood to $host:$2, 2000 SYNs at 400/s"
  hping3 -S -p "$2" -i u2500 -c 2000 "$host" 2>&1 | tail -n 3
  echo "attack: done"
  ;;
verify)
  [ $# -eq 3 ] || die "verify WEB DNS COLLECTOR_URL"
  web=$(addr_of "$1") dns=$(addr_of "$2") api=$3
  v=$(mktemp -d)
  from=$(date +%s)
  ifaces=$(ls /sys/class/net | grep -v '^lo$')
  mine= pids=
  for i in $ifaces; do
    mine="$mine --host $(ip -4 -o addr show dev "$i" 2>/dev/null | awk '{ split($4, a, "/"); print a[1] }')"
    # dumpcap, not tcpdump: tcpdump's switch to its own user needs capabilities this container
    # does not have. It writes everything out when stopped.
    dumpcap -q -P -i "$i" -B 16 -w "$v/$i.pcap" 2>"$v/$i.log" &
    pids="$pids $!"
  done
  for i in $ifaces; do
    n=0
    until grep -q 'Capturing on' "$v/$i.log" 2>/dev/null; do
      n=$((n + 1))
      [ $n -le 100 ] || die "dumpcap on $i did not start: $(cat "$v/$i.log")"
      sleep 0.1
    done
  done
  # dumpcap says "Capturing on" as it opens the interface, a moment before its ring gets the
  # first frames: without this pause the capture once missed the first of the three pings.
  sleep 0.5
  # The round: the namespace lab's (deploy/lab/README.md), against web and dns.
  out=$(ping -n -q -c 3 -i 0.2 -W 2 "$web" 2>&1) || true
  pings=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
  out=$(python3 /usr/local/bin/dnsd.py query --server "$dns" --port 53 web.lab dns.lab nosuch.lab 2>/dev/null) || true
  dnsq=$(echo "$out" | sed -n 's/.*queries=\([0-9]*\).*/\1/p')
  h=0 h200=0 h404=0
  for path in / /data.bin /missing.html; do
    h=$((h + 1))
    code=$(curl -sS --noproxy '*' --max-time 5 -o /dev/null -w '%{http_code}' "http://$web:80$path" 2>/dev/null) || true
    case $code in 200) h200=$((h200 + 1)) ;; 404) h404=$((h404 + 1)) ;; esac
  done
  rej=0
  curl -sS --noproxy '*' --max-time 5 -o /dev/null "http://$web:7999/" 2>/dev/null || [ $? -ne 7 ] || rej=1
  sleep 1
  # shellcheck disable=SC2086 # one word per PID
  kill $pids 2>/dev/null || true
  wait || true
  printf '{"server_addr": "%s", "http_port": 80, "dns_port": 53, "closed_port": 7999, "http_requests": %d, "http_200": %d, "http_404": %d, "dns_queries": %d, "pings": %d, "rejected": %d}\n' \
    "$web" "$h" "$h200" "$h404" "${dnsq:-0}" "${pings:-0}" "$rej" >"$v/traffic.json"
  : >"$v/frames.tsv"
  fields=$(python3 -c 'import sys; sys.path.insert(0, "/usr/local/bin"); import verify; print(" ".join("-e " + f for f in verify.FIELDS))')
  for i in $ifaces; do
    # shellcheck disable=SC2086 # one word per option
    tshark -r "$v/$i.pcap" -n -T fields -E separator=/t $fields >>"$v/frames.tsv" 2>/dev/null
  done
  # The agents' live updates reach the collector within moments: poll for up to 20 s.
  n=0
  while :; do
    curl -sf --max-time 5 "$api/api/v1/flows?from=$from&limit=1000" >"$v/flows.json" &&
      curl -sf --max-time 5 "$api/api/v1/alerts?state=all&from=$from" >"$v/alerts.json" ||
      die "the collector's API ($api) did not answer"
    rc=0
    # shellcheck disable=SC2086 # one word per option
    python3 /usr/local/bin/verify.py --flows "$v/flows.json" --frames "$v/frames.tsv" \
      --traffic "$v/traffic.json" --alerts "$v/alerts.json" --since "$from" --ignore-port 5556 $mine \
      >"$v/report.txt" || rc=$?
    n=$((n + 1))
    [ $rc -ne 0 ] && [ $n -lt 20 ] || break
    sleep 1
  done
  cat "$v/report.txt"
  [ $rc -eq 0 ] || exit $rc
  [ -d /replay ] || exit 0
  exec "$0" verify-replay "$api"
  ;;
verify-replay)
  [ $# -ge 1 ] || die "verify-replay COLLECTOR_URL [tamper]"
  api=$1
  # The replay service writes each run into /replay/ID (ID is also its agent id) and names the
  # last complete one in /replay/latest.
  n=0
  until [ -s /replay/latest ]; do
    n=$((n + 1))
    [ $n -le 240 ] || die "no replay finished in 120 s (the replay service: docker-compose logs replay)"
    sleep 0.5
  done
  id=$(cat /replay/latest)
  v=$(mktemp -d)
  : >"$v/frames.tsv"
  : >"$v/replay.jsonl"
  fields=$(python3 -c 'import sys; sys.path.insert(0, "/usr/local/bin"); import verify; print(" ".join("-e " + f for f in verify.FIELDS))')
  for f in /replay/"$id"/*.jsonl; do
    name=$(basename "$f" .jsonl)
    # shellcheck disable=SC2086 # one word per option
    tshark -r "/pcaps/$name.pcap" -n -T fields -E separator=/t $fields >>"$v/frames.tsv" 2>/dev/null ||
      die "tshark cannot read /pcaps/$name.pcap"
    cat "$f" >>"$v/replay.jsonl"
  done
  if [ "${2:-}" = tamper ]; then
    sed -i 1d "$v/frames.tsv"
    echo "verify-replay: the first frame of the capture left out on purpose: differences must show"
  fi
  # The agent exits once the collector acknowledged its last records: poll for up to 20 s.
  n=0
  while :; do
    curl -sf --max-time 5 "$api/api/v1/flows?agent=$id&limit=1000" >"$v/flows.json" ||
      die "the collector's API ($api) did not answer"
    rc=0
    python3 /usr/local/bin/verify.py --capture-replay --flows "$v/flows.json" --frames "$v/frames.tsv" \
      --replay "$v/replay.jsonl" >"$v/report.txt" || rc=$?
    n=$((n + 1))
    [ $rc -ne 0 ] && [ $n -lt 20 ] && [ "${2:-}" != tamper ] || break
    sleep 1
  done
  echo "verify-replay: agent $id, $(ls /replay/"$id" | sed 's/\.jsonl$/.pcap/' | tr '\n' ' ')"
  cat "$v/report.txt"
  exit $rc
  ;;
*)
  sed -n '4,19p' "$0" | sed 's/^#//'
  [ "$role" = help ]
  ;;
esac
