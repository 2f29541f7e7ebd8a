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
*)
  sed -n '4,10p' "$0" | sed 's/^#//'
  [ "$role" = help ]
  ;;
esac
