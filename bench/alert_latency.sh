#!/usr/bin/env bash
# bench/alert_latency.sh - time from the first packet of an attack to the alert, on the
# namespace lab (deploy/lab/lab.sh), at the agents' default export interval (250 ms).
#
#   bench/alert_latency.sh [ROUNDS]      as root; ROUNDS (default 20) SYN floods in a row
#
# A collector in the lab's `col` namespace with the default detector settings except the
# clearing delay (3 s, so that rounds follow each other quickly), agents on h1 (the victim)
# and h2 (the attacker). Each round: hping3 sends SYNs from h2 to h1:80 at RATE per second
# (default 400), twice the threshold's count; the time is taken from the first SYN to the
# `raised` time of the new syn_flood alert (collector clock; same machine, same clock),
# then the next round waits for it to clear. Printed: every round, then the median and p99
# of the raw time and of the time after the threshold-th SYN (the part NetScope adds: export
# interval, ingest, detection; the rest is the attack reaching the threshold).
#
# Environment: NS_BUILD [build/dev], RATE [400], THRESHOLD [300, the default], WINDOW [5].
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
B=${NS_BUILD:-$ROOT/build/dev}
ROUNDS=${1:-20}
RATE=${RATE:-400}
THRESHOLD=${THRESHOLD:-300}
WINDOW=${WINDOW:-5}
[[ $(id -u) -eq 0 ]] || { echo "alert_latency: needs root (network namespaces)" >&2; exit 1; }
for t in hping3 jq curl python3; do
  command -v "$t" >/dev/null || { echo "alert_latency: needs $t (make bench installs it)" >&2; exit 1; }
done
for b in "$B/cli/netscope" "$B/agent/netscope-agent" "$B/collector/netscope-collector"; do
  [[ -x $b ]] || { echo "alert_latency: $b is not built (make)" >&2; exit 1; }
done

tmp=$(mktemp -d)
prefix=nsbal$$
conf=$tmp/collector.toml
cat >"$conf" <<TOML
[detect]
clear_after = 3
[detect.syn_flood]
threshold = $THRESHOLD
window = $WINDOW
TOML
lab() {
  LAB_PREFIX=$prefix LAB_DIR=$tmp/lab LAB_HOSTS=2 NS_CLI=$B/cli/netscope \
    NS_COLLECTOR=$B/collector/netscope-collector NS_AGENT=$B/agent/netscope-agent \
    NS_COLLECTOR_ARGS="--config $conf --state-out /dev/null" \
    bash "$ROOT/deploy/lab/lab.sh" "$@"
}
flood_pid=
cleanup() {
  [[ -n $flood_pid ]] && kill "$flood_pid" 2>/dev/null && wait "$flood_pid" 2>/dev/null
  lab down >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT
lab up >"$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; exit 1; }
api() { lab exec col curl -s --max-time 5 "http://127.0.0.1:8080$1"; }
for i in $(seq 100); do api /api/v1/health >/dev/null && break; sleep 0.2; done
for i in $(seq 100); do
  [[ $(api /api/v1/agents | jq '[.agents[] | select(.connected)] | length') -ge 2 ]] && break
  sleep 0.2
done

interval_us=$((1000000 / RATE))
raw=() net=()
for r in $(seq "$ROUNDS"); do
  before=$(api '/api/v1/alerts?detector=syn_flood&state=all&limit=1000' | jq '.alerts | length')
  start=$(date +%s.%N)
  # a fixed count (twice the threshold) rather than a kill: the PID here is lab.sh's, not
  # hping3's inside the namespace
  lab exec h2 hping3 -q -S -p 80 -i "u$interval_us" -c $((2 * THRESHOLD)) 10.77.0.11 >/dev/null 2>&1 &
  flood_pid=$!
  got=
  for i in $(seq 300); do # 15 s
    json=$(api '/api/v1/alerts?detector=syn_flood&state=all&limit=1000')
    if [[ $(jq '.alerts | length' <<<"$json") -gt $before ]]; then
      got=$(jq -r '[.alerts[].raised] | max' <<<"$json")
      break
    fi
    sleep 0.05
  done
  wait "$flood_pid" 2>/dev/null; flood_pid=
  if [[ -z $got ]]; then echo "round $r: no alert in 15 s" >&2; continue; fi
  t=$(python3 -c "print(f'{$got - $start:.3f}')")
  n=$(python3 -c "print(f'{$got - $start - $THRESHOLD / $RATE:.3f}')")
  raw+=("$t") net+=("$n")
  echo "round $r: alert $t s after the first SYN ($n s after the ${THRESHOLD}th)"
  cleared=
  for i in $(seq 120); do
    if [[ $(api '/api/v1/alerts?detector=syn_flood&state=active' | jq '.alerts | length') -eq 0 ]]; then
      cleared=1
      break
    fi
    sleep 0.5
  done
  [[ -n $cleared ]] || { echo "alert_latency: the alert of round $r did not clear in 60 s" >&2; break; }
done
[[ ${#raw[@]} -gt 0 ]] || { echo "alert_latency: no alert in any round" >&2; exit 1; }
python3 - "${raw[*]}" "${net[*]}" "$RATE" "$THRESHOLD" <<'EOF'
import sys, statistics
raw = sorted(float(x) for x in sys.argv[1].split())
net = sorted(float(x) for x in sys.argv[2].split())
def p99(v): return v[min(len(v) - 1, int(round(0.99 * (len(v) - 1))))]
print(f"rounds: {len(raw)}, {sys.argv[3]} SYN/s, threshold {sys.argv[4]}")
print(f"first SYN -> alert, s: median {statistics.median(raw):.3f}, p99 {p99(raw):.3f}, max {raw[-1]:.3f}")
print(f"threshold-th SYN -> alert, s: median {statistics.median(net):.3f}, p99 {p99(net):.3f}")
EOF
