#!/usr/bin/env bash
# The dashboard in a real browser: a collector (with history, serving build/<preset>/ui) fed by
# an agent replaying lab-like traffic whose DNS names, HTTP Host headers, URIs and user agents
# carry 30 cross-site scripting payloads (ui_xss_pcap.py), and ui_browser.mjs driving headless
# Chromium through playwright-core (ui/node_modules): every page renders live data, a click on
# a host in the graph filters the flow table, a bad filter shows libpcap's error verbatim, no
# payload runs and none becomes an element. Screenshots of every page go to
# $NS_BUILD/ui_screenshots. Skipped (77) without chromium, node, the built UI or
# playwright-core. Processes are stopped by PID.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
CHROMIUM=${NS_CHROMIUM:-/usr/bin/chromium}
[[ -x $AGENT && -x $COLLECTOR ]] || { echo "skip: agent/collector not built"; exit 77; }
[[ -x $CHROMIUM ]] || { echo "skip: $CHROMIUM missing (scripts/deps.sh installs chromium)"; exit 77; }
command -v node >/dev/null || { echo "skip: node missing"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 missing"; exit 77; }
[[ -f $NS_BUILD/ui/index.html ]] || { echo "skip: the dashboard is not built in $NS_BUILD/ui"; exit 77; }
[[ -d $NS_SRC/ui/node_modules/playwright-core ]] || { echo "skip: ui/node_modules/playwright-core missing"; exit 77; }

tmp=$(mktemp -d)
chmod 755 "$tmp"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
# two distinct free ports: both sockets are bound before either is closed (two bind-and-close
# probes in a row can get the same port back)
free_ports2() {
  python3 -c 'import socket
a, b = socket.socket(), socket.socket()
a.bind(("127.0.0.1", 0)); b.bind(("127.0.0.1", 0))
print(a.getsockname()[1], b.getsockname()[1])'
}

python3 "$NS_SRC/tests/integration/ui_xss_pcap.py" "$tmp/lab.pcap" 10 120
chmod 644 "$tmp/lab.pcap"
read -r HPORT WPORT < <(free_ports2)
"$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http "127.0.0.1:$HPORT" \
  --ws "127.0.0.1:$WPORT" --db "$tmp/db" --ui-dir "$NS_BUILD/ui" --state-out "$tmp/state.json" \
  2>"$tmp/collector.log" &
pids+=($!)
EP=
for _ in $(seq 200); do
  EP=$(grep -o 'listening on tcp://127.0.0.1:[0-9]*' "$tmp/collector.log" | head -1 | sed 's/listening on //')
  [[ -n $EP ]] && grep -q 'live stream on' "$tmp/collector.log" && break
  sleep 0.05
done
[[ -n $EP ]] || { echo "FAIL: the collector did not start: $(cat "$tmp/collector.log")"; exit 1; }
"$AGENT" --insecure --collector "$EP" --id lab-agent --replay "$tmp/lab.pcap" --replay-speed 1 \
  --set flows.idle_timeout=20 2>"$tmp/agent.log" &
pids+=($!)

shots=$NS_BUILD/ui_screenshots
rm -rf "$shots"
mkdir -p "$shots"
rc=0
timeout 150 node "$NS_SRC/tests/integration/ui_browser.mjs" \
  "http://127.0.0.1:$HPORT" "$shots" "$CHROMIUM" || rc=$?
if [[ $rc -ne 0 ]]; then
  echo "--- collector log"; tail -20 "$tmp/collector.log"
  echo "--- agent log"; tail -5 "$tmp/agent.log"
  exit 1
fi
echo "screenshots in $shots"
