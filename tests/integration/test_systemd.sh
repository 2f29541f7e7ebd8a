#!/usr/bin/env bash
# The systemd side of the daemons:
#   1. the units (deploy/systemd), as `cmake --install` writes them into a temporary DESTDIR
#      with ExecStart= rewritten to that tree, pass `systemd-analyze verify` without a word on
#      stderr (binaries executable, man pages of Documentation= found);
#   2. `systemd-analyze security --offline=true` scores both units at most 2.5 ("OK") and the
#      README states the scores measured here; the agent keeps CAP_NET_RAW and nothing else;
#   3. the notify protocol end to end: a fake supervisor binds an abstract datagram socket,
#      the collector (and, as root, the agent on lo) run with NOTIFY_SOCKET and WATCHDOG_USEC
#      set, and READY=1, WATCHDOG=1, RELOADING=1 then READY=1 on SIGHUP, STOPPING=1 on SIGTERM
#      arrive in that order.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
command -v systemd-analyze >/dev/null || { echo "skip: systemd-analyze not found"; exit 77; }
command -v python3 >/dev/null || { echo "skip: python3 not found"; exit 77; }
AGENT=$NS_BUILD/agent/netscope-agent
COLLECTOR=$NS_BUILD/collector/netscope-collector
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- 1. verify
root=$tmp/root
if ! DESTDIR=$root cmake --install "$NS_BUILD" >"$tmp/install.log" 2>&1; then
  echo "FAIL: cmake --install: $(tail -5 "$tmp/install.log")"; exit 1
fi
unitdir=$(dirname "$(find "$root" -name netscope-agent.service | head -1)")
mandir=$(dirname "$(dirname "$(find "$root" -name netscope-agent.8.gz | head -1)")")
mkdir "$tmp/units"
for u in netscope-agent.service netscope-collector.service; do
  [[ -f $unitdir/$u ]] || { bad "$u not installed"; continue; }
  exec_path=$(sed -n 's/^ExecStart=\([^ ]*\).*/\1/p' "$unitdir/$u")
  [[ -x $root$exec_path ]] && ok || bad "$u: ExecStart=$exec_path is not in the installed tree"
  sed "s|^ExecStart=/|ExecStart=$root/|" "$unitdir/$u" >"$tmp/units/$u"
  if MANPATH=$mandir systemd-analyze verify "$tmp/units/$u" >"$tmp/verify.out" 2>&1 &&
     [[ ! -s $tmp/verify.out ]]; then ok
  else bad "$u: systemd-analyze verify: $(head -c 400 "$tmp/verify.out")"; fi
done
# the check can fail: a unit whose binary is missing is refused
sed "s|^ExecStart=/|ExecStart=/nonexistent/|" "$unitdir/netscope-agent.service" >"$tmp/broken.service"
MANPATH=$mandir systemd-analyze verify "$tmp/broken.service" >/dev/null 2>&1 &&
  bad "verify accepted a unit without its binary" || ok

# ---- 2. security scores
for u in netscope-agent netscope-collector; do
  systemd-analyze security --offline=true "$NS_SRC/deploy/systemd/$u.service" >"$tmp/sec" 2>&1
  score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$tmp/sec")
  echo "security: $u.service exposure $score"
  if [[ -z $score ]]; then bad "$u: no score: $(tail -3 "$tmp/sec")"; continue; fi
  python3 -c "import sys; sys.exit(0 if float('$score') <= 2.5 else 1)" && ok ||
    bad "$u: exposure $score above 2.5"
  grep -qE "$u\.service[^0-9]*$score" "$NS_SRC/README.md" && ok ||
    bad "README does not state $u.service's score $score"
done
grep -qx 'AmbientCapabilities=CAP_NET_RAW' "$NS_SRC/deploy/systemd/netscope-agent.service" &&
  grep -qx 'CapabilityBoundingSet=CAP_NET_RAW' "$NS_SRC/deploy/systemd/netscope-agent.service" &&
  ok || bad "the agent's unit grants more than CAP_NET_RAW"
grep -q '^RestrictAddressFamilies=.*AF_PACKET' "$NS_SRC/deploy/systemd/netscope-agent.service" &&
  ok || bad "the agent's unit does not allow AF_PACKET"

# ---- 3. notify protocol
# listen NAME OUT: a fake supervisor on the abstract socket @NAME, one line per datagram in OUT
listen() {
  python3 - "$1" "$2" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as out:
    out.write("BOUND\n")
    while True:
        msg = s.recv(4096).decode()
        out.write(msg.replace("\n", "|") + "\n")
PY
  pids+=($!)
  for _ in $(seq 100); do grep -q BOUND "$2" 2>/dev/null && return 0; sleep 0.05; done
  echo "FAIL: the notify listener did not start"; exit 1
}
# wait_for FILE REGEX: up to 10 s for a line matching REGEX
wait_for() {
  for _ in $(seq 200); do grep -qE "$2" "$1" && return 0; sleep 0.05; done
  return 1
}
# in_order FILE RE1 RE2 ...: the first lines matching each RE come in this order
in_order() {
  local f=$1 last=0 n; shift
  for re in "$@"; do
    n=$(grep -nE "$re" "$f" | awk -F: -v l="$last" '$1 > l {print $1; exit}')
    [[ -n $n ]] || return 1
    last=$n
  done
}
# notify_run WHO LOG -- CMD...: run CMD under the fake supervisor, reload, stop, check messages
notify_run() {
  local who=$1 out=$tmp/$1.notify; shift 2
  listen "ns-test-notify-$$-$who" "$out"
  NOTIFY_SOCKET="@ns-test-notify-$$-$who" WATCHDOG_USEC=400000 "$@" 2>"$tmp/$who.log" &
  local pid=$!
  pids+=("$pid")
  wait_for "$out" '^READY=1' && ok || { bad "$who: no READY=1 ($(tail -3 "$tmp/$who.log"))"; return; }
  grep -E '^READY=1\|STATUS=.+' "$out" >/dev/null && ok || bad "$who: READY=1 without STATUS="
  local before; before=$(grep -c '^WATCHDOG=1' "$out")
  sleep 1
  [[ $(grep -c '^WATCHDOG=1' "$out") -ge $((before + 2)) ]] && ok ||
    bad "$who: fewer than 2 WATCHDOG=1 within 1 s at WATCHDOG_USEC=400000"
  kill -HUP "$pid"
  wait_for "$out" '^RELOADING=1' && ok || bad "$who: SIGHUP sent no RELOADING=1"
  kill -TERM "$pid"
  wait "$pid"; local rc=$?
  [[ $rc -eq 0 ]] && ok || bad "$who: exit $rc after SIGTERM ($(tail -3 "$tmp/$who.log"))"
  sleep 0.2
  in_order "$out" '^READY=1' '^RELOADING=1' '^READY=1' '^STOPPING=1' && ok ||
    bad "$who: messages not READY, RELOADING, READY, STOPPING: $(tr '\n' ' ' <"$out")"
}
notify_run collector -- "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http '' \
  --ws off --state-out /dev/null --flows-out "$tmp/flows.jsonl"
if [[ $(id -u) -eq 0 ]]; then
  # an agent needs a collector to send to: a plain one on a free port
  "$COLLECTOR" --insecure --listen 'tcp://127.0.0.1:*' --http '' --ws off \
    --state-out /dev/null 2>"$tmp/sink.log" &
  pids+=($!)
  wait_for "$tmp/sink.log" 'listening on tcp://127.0.0.1:[0-9]+' || bad "sink collector did not start"
  ep=$(grep -oE 'listening on tcp://127.0.0.1:[0-9]+' "$tmp/sink.log" | head -1 | sed 's/listening on //')
  notify_run agent -- "$AGENT" --insecure -i lo --collector "$ep" --user nobody \
    --set export.drain_ms=2000
else
  echo "note: not root, the agent's notify messages are not checked"
fi

echo "systemd: $pass checks passed, $fail failed"
[[ $fail -eq 0 ]]
