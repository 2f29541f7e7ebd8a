#!/usr/bin/env bash
# Live capture: `netscope print -i` on a veth pair between two network namespaces this test
# creates (and removes), with UDP datagrams sent across it (bash's /dev/udp: no extra tools). Needs root and iproute2; otherwise
# skipped (exit 77). Traffic stays inside the namespaces.
set -u
: "${NS_BIN:?}"
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }
command -v ip >/dev/null || { echo "skip: needs iproute2"; exit 77; }
ns_a="nsprint-a-$$" ns_b="nsprint-b-$$"
tmp=$(mktemp -d)
cap_pid=""
cleanup() {
  [[ -n "$cap_pid" ]] && kill "$cap_pid" 2>/dev/null
  ip netns del "$ns_a" 2>/dev/null
  ip netns del "$ns_b" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
ip netns add "$ns_a" && ip netns add "$ns_b" || { echo "skip: cannot create namespaces"; exit 77; }
ip link add veth-a netns "$ns_a" type veth peer name veth-b netns "$ns_b" || { echo "skip: no veth"; exit 77; }
ip -n "$ns_a" addr add 10.254.0.1/30 dev veth-a
ip -n "$ns_b" addr add 10.254.0.2/30 dev veth-b
ip -n "$ns_a" link set veth-a up; ip -n "$ns_b" link set veth-b up
ip -n "$ns_a" link set lo up; ip -n "$ns_b" link set lo up

pass=0 fail=0
ip netns exec "$ns_b" "$NS_BIN" print -i veth-b -c 4 -f 'udp port 9999' >"$tmp/out" 2>"$tmp/err" &
cap_pid=$!
sleep 1
for i in 1 2 3 4 5; do
  ip netns exec "$ns_a" bash -c "echo netscope-live-$i > /dev/udp/10.254.0.2/9999" 2>/dev/null
  sleep 0.2
done
for _ in $(seq 1 50); do kill -0 "$cap_pid" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$cap_pid" 2>/dev/null; then kill "$cap_pid"; fi
wait "$cap_pid" 2>/dev/null; rc=$?; cap_pid=""

n_udp=$(grep -cE '^[0-9:.]+ IP 10\.254\.0\.1\.[0-9]+ > 10\.254\.0\.2\.9999: UDP, length 1[56]$' "$tmp/out")
if [[ $rc -eq 0 && $n_udp -eq 4 ]]; then pass=$((pass + 1)); else
  fail=$((fail + 1)); echo "FAIL: rc=$rc datagrams=$n_udp"; cat "$tmp/out" "$tmp/err"; fi
grep -q 'listening on veth-b' "$tmp/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: no listening line"; }
grep -q '4 packets captured' "$tmp/err" && pass=$((pass + 1)) || { fail=$((fail + 1)); echo "FAIL: summary: $(cat "$tmp/err")"; }
echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
