#!/usr/bin/env bash
# netscope-collector --list-agents: the enrolled keys of the allowed-keys directory with their
# fingerprints (as netscope keygen printed them), and from the running collector's API (with
# its token) the agents it has seen, connected or not, matched to their key files. Without a
# running collector, or with a wrong token, the keys are still listed and the exit status is 1.
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_PCAPS:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
pcap=$NS_PCAPS/tcpdump/02-sunrise-sunset-esp.pcap
[[ -f $pcap ]] || { echo "skip: $pcap not found"; exit 77; }
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
cpid=
trap '[[ -n $cpid ]] && { kill -TERM "$cpid"; wait "$cpid"; }; rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

for k in col web1 db1; do "$NS_BIN" keygen "$k" >"$k.fpr" || { echo "FAIL: keygen"; exit 1; }; done
fpr() { grep -oE '[0-9a-f]{16}' "$1.fpr" | head -1; }
mkdir allowed && cp web1.key db1.key allowed/
port=$((20000 + RANDOM % 20000))
cat >c.toml <<TOML
[collector]
listen = "tcp://127.0.0.1:*"
key = "$tmp/col.key_secret"
allowed_keys = "$tmp/allowed"
[http]
listen = "127.0.0.1:$port"
token = "t0ken-$RANDOM"
[output]
state = "/dev/null"
flows = ""
TOML

# no collector running: keys listed, exit 1, the reason on stderr
"$COLLECTOR" --config c.toml --list-agents >out 2>err; rc=$?
[[ $rc -eq 1 ]] && ok || bad "without a collector: exit $rc, want 1"
grep -qE "^  web1\.key +fingerprint $(fpr web1)\$" out && ok || bad "web1.key not listed: $(cat out)"
grep -qE "^  db1\.key +fingerprint $(fpr db1)\$" out && ok || bad "db1.key not listed: $(cat out)"
grep -q "enrolled keys in $tmp/allowed: 2" out && ok || bad "count of enrolled keys: $(cat out)"
grep -q "is the collector running" err && ok || bad "no reason given: $(cat err)"

"$COLLECTOR" --config c.toml --ws off 2>col.log &
cpid=$!
ep=
for _ in $(seq 100); do
  ep=$(grep -oE 'listening on tcp://127.0.0.1:[0-9]+' col.log | head -1 | sed 's/listening on //')
  [[ -n $ep ]] && break; sleep 0.05
done
[[ -n $ep ]] || { echo "FAIL: collector did not start: $(cat col.log)"; exit 1; }
"$AGENT" --collector "$ep" --collector-key col.key --key web1.key_secret --id web1 \
  --replay "$pcap" --replay-speed max --set export.drain_ms=3000 2>agent.log ||
  bad "agent failed: $(tail -3 agent.log)"

"$COLLECTOR" --config c.toml --list-agents >out 2>err; rc=$?
[[ $rc -eq 0 ]] && ok || bad "with the collector: exit $rc ($(cat err))"
grep -q "agents seen by the collector at 127.0.0.1:$port: 1, 1 connected" out && ok ||
  bad "seen count: $(cat out)"
grep -qE "^  web1 +connected +fingerprint $(fpr web1) key web1\.key\$" out && ok ||
  bad "web1 not listed as connected with its key: $(cat out)"
grep -qE "^  db1 " out && bad "db1 listed as seen though it never connected" || ok

# a wrong token: refused by the API, said so, exit 1
"$COLLECTOR" --config c.toml --list-agents --set http.token=wrong >out 2>err; rc=$?
[[ $rc -eq 1 ]] && ok || bad "wrong token: exit $rc, want 1"
grep -q "http.token missing or wrong" err && ok || bad "wrong token not explained: $(cat err)"

echo "list-agents: $pass checks passed, $fail failed"
[[ $fail -eq 0 ]]
