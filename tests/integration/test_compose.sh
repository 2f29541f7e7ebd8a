#!/usr/bin/env bash
# The docker-compose lab (docker-compose.yml, deploy/docker/) really runs:
#   0. docker.io, docker-compose and debootstrap are installed when missing; a dockerd is
#      started when none answers and stopped by PID at the end (docker_env.sh);
#   1. the dashboard is built on the host when this build has not yet, and staged
#      (deploy/docker/stage-ui.sh); the base image is made with deploy/docker/base-image.sh, the
#      two images are built on it with the defaults (NS_UI=staged);
#   2. `docker-compose up -d` (a unique project name, the API on a free loopback port): the
#      dashboard is published on 127.0.0.1 only, and /, app.js, app.css, the FA2 worker and the
#      WebAssembly decoder are served with their content types and the staged bytes; both
#      agents are connected (GET /api/v1/agents), the generators' flows are in GET
#      /api/v1/flows with services http and dns, counts that agree with the generators' logs;
#      `docker-compose run verify` finds the collector in agreement with its own capture, and
#      the replay service's flows of the bundled captures in agreement with tshark and
#      `netscope flows -r`; with one frame left out on purpose the same check fails;
#   3. the attack profile's nmap scan raises a port_scan alert naming the attacker and web;
#   4. `docker-compose down -v` leaves no container, network or volume with the project label.
# Root only (77 otherwise); 77 too when this kernel cannot run containers at all (no namespaces).
# Artifacts of a failed run: $NS_BUILD/test_compose.failed.
set -u
: "${NS_SRC:?}" "${NS_BUILD:?}"
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }
if ! unshare --net --mount --pid --fork true 2>/dev/null; then
  echo "skip: cannot create namespaces here: containers cannot run"
  exit 77
fi
t0=$SECONDS
base_tag=netscope/bookworm-base:local
project=nstest$$
tmp=$(mktemp -d)
pass=0 fail=0
eq() {
  if [[ $2 == "$3" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $1: got '$2', want '$3'"
  fi
}
note() { echo "compose: $* ($((SECONDS - t0)) s)"; }
until_ok() { # until_ok SECONDS CMD...
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 1
  done
}

# shellcheck source=docker_env.sh
. "$NS_SRC/tests/integration/docker_env.sh"
compose() { docker-compose -p "$project" --project-directory "$NS_SRC" -f "$NS_SRC/docker-compose.yml" "$@"; }
labelled() { # labelled [PROJECT]: the project's containers, networks and volumes that exist
  "$docker" ps -aq --filter "label=com.docker.compose.project=${1:-$project}"
  "$docker" network ls -q --filter "label=com.docker.compose.project=${1:-$project}"
  "$docker" volume ls -q --filter "label=com.docker.compose.project=${1:-$project}"
}
remove_project() { # remove_project PROJECT: whatever an interrupted `up` or `down` left
  local ids
  ids=$("$docker" ps -aq --filter "label=com.docker.compose.project=$1")
  [[ -z $ids ]] || "$docker" rm -f -v $ids >/dev/null 2>&1
  ids=$("$docker" network ls -q --filter "label=com.docker.compose.project=$1")
  [[ -z $ids ]] || "$docker" network rm $ids >/dev/null 2>&1
  ids=$("$docker" volume ls -q --filter "label=com.docker.compose.project=$1")
  [[ -z $ids ]] || "$docker" volume rm -f $ids >/dev/null 2>&1
}
cleanup() {
  trap - EXIT INT TERM
  docker_env_stop_children
  if "$docker" info >/dev/null 2>&1; then
    if [[ $fail -gt 0 ]]; then compose logs --no-color >"$tmp/compose.log" 2>&1; fi
    compose --profile attack --profile verify down -v --remove-orphans >/dev/null 2>&1
    remove_project "$project"
  fi
  docker_env_stop
  if [[ $fail -gt 0 ]]; then
    rm -rf "$NS_BUILD/test_compose.failed"
    cp -r "$tmp" "$NS_BUILD/test_compose.failed" 2>/dev/null
    echo "kept for inspection: $NS_BUILD/test_compose.failed"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- 0: tools and a daemon ---------------------------------------------------------------------
docker_env_start compose
eq "dockerd answers" "$?" 0
((fail == 0)) || exit 1
if [[ -n $our_dockerd ]]; then
  # This data root is the test's own: projects of earlier runs killed before their cleanup
  # (SIGKILL) are removed, so their networks' bridges do not come back with every start.
  for old in $("$docker" network ls --format '{{.Label "com.docker.compose.project"}}'; \
    "$docker" ps -a --format '{{.Label "com.docker.compose.project"}}'); do
    [[ $old == nstest[0-9]* && $old != "$project" ]] && remove_project "$old"
  done
fi

# ---- 1: images ------------------------------------------------------------------------------------
# The dashboard the image serves: this build's, built here (host npm) when it has not been yet.
ui=$NS_BUILD/ui
if [[ ! -s $ui/app.js || ! -s $ui/netscope_decode.wasm ]]; then
  note "building the dashboard (netscope_ui)"
  step cmake --build "$NS_BUILD" -j "${JOBS:-2}" --target netscope_ui >"$tmp/ui-build.log" 2>&1
  eq "dashboard built on the host (cmake --build --target netscope_ui)" "$?" 0
fi
bash "$NS_SRC/deploy/docker/stage-ui.sh" "$ui" >"$tmp/stage-ui.log" 2>&1
eq "stage-ui.sh" "$?" 0
staged=$NS_SRC/deploy/docker/ui-dist
eq "staged dashboard has the WebAssembly decoder" "$([[ -s $staged/netscope_decode.wasm ]] && echo yes)" yes
((fail == 0)) || { cat "$tmp/stage-ui.log"; tail -n 20 "$tmp/ui-build.log" 2>/dev/null; exit 1; }
docker_base_image "$base_tag" >"$tmp/base.log" 2>&1
eq "base image" "$?" 0
note "base image ready"
# --network host: the build's apt-get reaches the mirror without the bridge and NAT rules this
# daemon does not make. Both images at once: one compiles while the other unpacks packages.
images=("Dockerfile netscope:lab" "Dockerfile.labtools netscope-labtools:lab")
# The default NS_UI=staged: the dashboard staged above goes into the image.
for img in "${images[@]}"; do
  set -- $img
  started "$docker" build -q --network host -f "$NS_SRC/deploy/docker/$1" --build-arg "BASE_IMAGE=$base_tag" \
    -t "$2" "$NS_SRC" >"$tmp/build-${2%%:*}.log" 2>&1
done
wait_started
for i in "${!images[@]}"; do
  set -- ${images[i]}
  rc=${child_rc[i]}
  eq "docker build $2" "$rc" 0
  ((rc == 0)) || { tail -n 30 "$tmp/build-${2%%:*}.log"; exit 1; }
done
note "images built"
# ---- 2: the lab -----------------------------------------------------------------------------------
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export NS_LAB_HTTP_PORT=$port BASE_IMAGE=$base_tag
api() { curl -sf --max-time 5 "http://127.0.0.1:$port$1"; }
step docker-compose -p "$project" --project-directory "$NS_SRC" -f "$NS_SRC/docker-compose.yml" up -d --no-build >"$tmp/up.log" 2>&1
eq "docker-compose up -d" "$?" 0 || true
note "lab up (project $project, API on 127.0.0.1:$port)"

agents_connected() {
  api /api/v1/agents >"$tmp/agents.json" 2>/dev/null &&
    python3 - "$tmp/agents.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))
a = a.get("agents", a) if isinstance(a, dict) else a
ids = {x["id"] for x in a if x.get("connected", x.get("state") == "connected")}
sys.exit(0 if {"web", "dns"} <= ids else 1)
PY
}
# The dashboard: published on the host's loopback only, each file with its content type and
# the very bytes that were staged.
collector=$(compose ps -q collector)
eq "dashboard port published on 127.0.0.1 only" \
  "$("$docker" port "$collector" 8080/tcp | sort -u | tr '\n' ' ')" "127.0.0.1:$port "
listeners=$(ss -Hltn "sport = :$port" | awk '{ print $4 }' | sort -u | tr '\n' ' ')
eq "host listens on 127.0.0.1:$port alone (not 0.0.0.0, not ::)" "$listeners" "127.0.0.1:$port "
served() { # served PATH FILE TYPE
  local got
  got=$(curl -s --max-time 5 -o "$tmp/served" -w '%{http_code} %{content_type}' "http://127.0.0.1:$port$1")
  eq "GET $1: status and content type" "$got" "200 $3"
  cmp -s "$tmp/served" "$staged/$2"
  eq "GET $1: the staged $2, byte for byte" "$?" 0
}
until_ok 60 api / >/dev/null
served / index.html "text/html; charset=utf-8"
served /app.js app.js "text/javascript; charset=utf-8"
served /app.css app.css "text/css; charset=utf-8"
served /fa2_worker.js fa2_worker.js "text/javascript; charset=utf-8"
served /netscope_decode.wasm netscope_decode.wasm application/wasm
note "dashboard served"

until_ok 120 agents_connected
eq "both agents connected" "$?" 0
note "agents connected"
# The agent runs as the image's unprivileged user, with NET_RAW the only capability it could
# ever hold (the bounding set), and none left in effect after opening its capture.
pid=$("$docker" inspect -f '{{.State.Pid}}' "$(compose ps -q agent-web)")
eq "agent-web: user" "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 10001
eq "agent-web: bounding set is NET_RAW only" "$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")" 0000000000002000
eq "agent-web: no capability in effect" "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" 0000000000000000

# Flows per service from the API, checked against the generators' own running totals. The
# generators may start before the agents capture (compose starts them side by side): only what
# they did after both agents were first seen (their timestamped log lines) is counted, and
# only the flows that began after that line.
flows_ok() {
  api "/api/v1/flows?limit=1000&from=-1h" >"$tmp/flows.json" 2>/dev/null || return 1
  api /api/v1/agents >"$tmp/agents-now.json" 2>/dev/null || return 1
  compose logs --no-color --timestamps http-client dns-client >"$tmp/gen.log" 2>&1
  python3 - "$tmp/flows.json" "$tmp/gen.log" "$1" "$tmp/agents-now.json" <<'PY'
import datetime, json, re, sys
flows = json.load(open(sys.argv[1]))["flows"]
log = open(sys.argv[2]).read()
final = sys.argv[3] == "final"
agents = {a["id"]: a for a in json.load(open(sys.argv[4]))["agents"]}
if not {"web", "dns"} <= agents.keys():
    sys.exit(1)
t0 = max(agents["web"]["first_seen"], agents["dns"]["first_seen"])
def stamp(t):  # docker's RFC 3339 with nanoseconds, UTC
    day, frac = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z", t).groups()
    base = datetime.datetime.strptime(day, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return base.timestamp() + float("0." + (frac or "0"))
def counts(pattern):
    """(time, totals) of each log line of the pattern, in order."""
    return [(stamp(m[1]), tuple(int(x) for x in m.groups()[1:]))
            for m in re.finditer(r"(\S+Z) " + pattern, log)]
def window(pattern):
    """Totals at the first line after t0 and at the last line, and that first line's time."""
    lines = counts(pattern)
    after = [(t, v) for t, v in lines if t > t0 + 1.0]
    if len(after) < 3:
        return None
    return after[0][1], lines[-1][1], after[0][0]
h = window(r"http requests=(\d+) ok=(\d+)")
d = window(r"dns queries=(\d+) answers=(\d+) nxdomain=(\d+)")
if h is None or d is None:
    if final:
        print("flows: the generators have not logged 3 rounds since the agents came up")
    sys.exit(1)
http_n, http_ok = h[1][0] - h[0][0], h[1][1] - h[0][1]
dns_q = d[1][0] - d[0][0]
http_all = [f for f in flows if f.get("service") == "http" and f.get("id.resp_p") == 80]
dns_all = [f for f in flows if f.get("service") == "dns" and f.get("id.resp_p") == 53]
http = [f for f in http_all if f["ts"] > h[2]]
dns = [f for f in dns_all if f["ts"] > d[2]]
msgs = []
# Every HTTP request is one connection; the API may not have the newest few yet, and the
# log may lag the capture by a round: allow one round (2 requests, 3 queries) either way.
if not (http_ok >= 4 and abs(len(http) - http_n) <= 2):
    msgs.append(f"http: {len(http)} flows, the client made {http_n} requests ({http_ok} ok)")
if not (dns_q >= 6 and abs(len(dns) - dns_q) <= 3):
    msgs.append(f"dns: {len(dns)} flows, the client sent {dns_q} queries")
# Plausible sizes: an HTTP exchange is at least a handshake and a response, /data.bin 20000 bytes.
big = [f for f in http_all if f.get("resp_bytes", 0) >= 20000]
if http_all and not big:
    msgs.append("http: no flow carried the 20000-byte /data.bin")
if any(f.get("orig_pkts", 0) + f.get("resp_pkts", 0) < 6 for f in http_all if f.get("conn_state") == "SF"):
    msgs.append("http: a complete (SF) connection with fewer than 6 packets")
if dns_all and any(f.get("orig_pkts") != 1 or f.get("resp_pkts") != 1 for f in dns_all if f.get("conn_state") == "SF"):
    msgs.append("dns: a finished query flow without exactly one datagram each way")
if final:
    print(f"flows since the agents came up: http {len(http)} (client {http_n}), dns {len(dns)} (client {dns_q})")
    for m in msgs:
        print("  " + m)
sys.exit(1 if msgs else 0)
PY
}
until_ok 90 flows_ok quiet
flows_ok final
eq "generators' flows (http, dns) in the API, counts as the generators say" "$?" 0
note "flows checked"

# The compose lab's self-check: a round of known traffic from the verify container, compared
# with what the collector reports (deploy/lab/verify.py).
compose --profile verify run --rm verify >"$tmp/verify.log" 2>&1
rc=$?
eq "docker-compose run verify" "$rc" 0
grep -q '^verify: 8 connections agree' "$tmp/verify.log"
eq "verify compared the round's 8 connections" "$?" 0
grep -q '^verify: replay: 3 connections of the replayed captures agree' "$tmp/verify.log"
eq "verify compared the replayed captures' 3 connections (collector, netscope flows -r, tshark)" "$?" 0
((rc == 0)) || cat "$tmp/verify.log"
note "verify passed"
# The replay comparison catches a mismatch: the capture's first frame left out.
compose --profile verify run --rm verify labtraffic.sh verify-replay http://collector:8080 tamper \
  >"$tmp/verify-tamper.log" 2>&1
eq "verify-replay with a frame left out fails" "$?" 1
grep -qE '^collector +(tcp|udp) [0-9.:]+ <-> [0-9.:]+ +(orig|resp) packets +[0-9]+ +[0-9]+' "$tmp/verify-tamper.log"
eq "the difference table names the connection and its packets" "$?" 0
grep -qE '^replay +(tcp|udp) [0-9.:]+ <-> [0-9.:]+ +(orig|resp) packets' "$tmp/verify-tamper.log"
eq "the difference shows in netscope flows -r too" "$?" 0
note "a mismatch is caught"

# ---- 3: the attack profile -------------------------------------------------------------------------
web_addr=$("$docker" inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$(compose ps -q web)")
compose --profile attack up -d --no-build attacker >"$tmp/attack-up.log" 2>&1
eq "attacker started" "$?" 0
scan_alert() {
  api "/api/v1/alerts?detector=port_scan&state=all" >"$tmp/alerts.json" 2>/dev/null &&
    python3 - "$tmp/alerts.json" "$web_addr" <<'PY'
import json, sys
a = json.load(open(sys.argv[1]))["alerts"]
sys.exit(0 if any(x.get("victim") == sys.argv[2] for x in a) else 1)
PY
}
until_ok 90 scan_alert
eq "port scan alert naming web ($web_addr) as the victim" "$?" 0
attacker_addr=$(compose logs --no-color attacker 2>/dev/null | sed -n 's/.*attack: from \([0-9.]*\).*/\1/p' | head -n 1)
eq "the scan alert names the attacker" \
  "$(python3 -c 'import json,sys; print([x for x in json.load(open(sys.argv[1]))["alerts"]][0].get("source"))' "$tmp/alerts.json")" \
  "$attacker_addr"
note "scan alert seen"

# ---- 4: down -v ------------------------------------------------------------------------------------
compose --profile attack --profile verify down -v --remove-orphans >"$tmp/down.log" 2>&1
eq "docker-compose down -v" "$?" 0
eq "nothing of the project is left (containers, networks, volumes)" "$(labelled | wc -l)" 0

echo "$pass passed, $fail failed ($((SECONDS - t0)) s)"
[[ $fail -eq 0 ]]
