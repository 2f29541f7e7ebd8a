#!/usr/bin/env bash
# The docker-compose lab (docker-compose.yml, deploy/docker/) really runs:
#   0. docker.io, docker-compose and debootstrap are installed when missing; a dockerd is
#      started when none answers (its own socket, exec root and pidfile; data root under the
#      build directory, so images and the base file system are cached between runs; no iptables
#      rules, no IP forwarding, no docker0: the machine's network is left as it was) and stopped
#      by PID at the end;
#   1. the base image is made with deploy/docker/base-image.sh, the two images are built on it;
#   2. `docker-compose up -d` (a unique project name, the API on a free loopback port): both
#      agents are connected (GET /api/v1/agents), the generators' flows are in GET
#      /api/v1/flows with services http and dns, counts that agree with the generators' logs;
#      `docker-compose run verify` finds the collector in agreement with its own capture;
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
cache=$NS_BUILD/docker-lab # the test's dockerd data root and the base file system
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

# ---- 0: tools and a daemon ---------------------------------------------------------------------
missing=()
for p in docker.io docker-compose debootstrap; do
  [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
done
if ((${#missing[@]})); then
  note "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$tmp/apt.log" 2>&1 ||
    { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$tmp/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$tmp/apt.log" 2>&1; } ||
    { tail -n 20 "$tmp/apt.log"; echo "FAIL: apt-get install ${missing[*]}"; exit 1; }
fi
# Debian's client, whatever else PATH holds; docker-compose talks to the daemon by DOCKER_HOST.
docker=/usr/bin/docker
[[ -x $docker ]] || docker=$(command -v docker)

start_time() { # field 22 of /proc/PID/stat, or nothing
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra fields <<<"${stat##*) }"
  [[ ${fields[0]} != Z ]] && echo "${fields[19]}"
}
# stop_pid PID START: SIGTERM, 30 s (dockerd stops its containers first), then SIGKILL; only
# while PID is still the process that started at START.
stop_pid() {
  local deadline=$((SECONDS + 30))
  [[ $(start_time "$1") == "$2" ]] || return 0
  kill -TERM "$1" 2>/dev/null
  while [[ $(start_time "$1") == "$2" ]] && ((SECONDS < deadline)); do sleep 0.2; done
  if [[ $(start_time "$1") == "$2" ]]; then
    echo "dockerd $1 ignored SIGTERM: SIGKILL"
    kill -KILL "$1" 2>/dev/null
  fi
}

# remove_run DIR: a stopped dockerd's exec root; it leaves the namespace file of its host
# network mounted there (netns/default).
remove_run() {
  local m
  [[ $1 == /run/netscope-test-docker-* && -d $1 ]] || return 0
  for m in $(awk -v d="$1/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r); do
    umount "$m" 2>/dev/null || umount -l "$m"
  done
  rm -rf "$1"
}

# step CMD...: run a long command in its own session and wait for it, so that a signal (ctest's
# timeout, ^C) runs the cleanup at once, which stops that session too. started CMD... only starts
# it (several at once; wait_started waits for them all).
children=()
started() {
  setsid "$@" &
  children+=($!)
}
wait_started() { # each one's exit status in child_rc (in order); fails when any failed
  local pid rc bad=0
  child_rc=()
  for pid in "${children[@]}"; do
    wait "$pid"
    rc=$?
    child_rc+=("$rc")
    ((rc == 0)) || bad=1
  done
  children=()
  return "$bad"
}
step() {
  started "$@"
  wait_started
}

our_dockerd= our_start= run=
mkdir -p "$cache"
# A dockerd that an aborted earlier run left behind on this data root is stopped first (by the
# PID and start time it recorded).
if [[ -f $cache/dockerd.pid ]]; then
  read -r old_pid old_start old_run <"$cache/dockerd.pid"
  stop_pid "$old_pid" "$old_start"
  remove_run "$old_run"
  rm -f "$cache/dockerd.pid"
fi
if "$docker" info >/dev/null 2>&1; then
  note "using the running dockerd (${DOCKER_HOST:-the default socket})"
else
  run=/run/netscope-test-docker-$$
  mkdir -p "$run"
  export DOCKER_HOST=unix://$run/docker.sock
  setsid dockerd --data-root "$cache/data-root" --exec-root "$run/exec" --pidfile "$run/dockerd.pid" \
    -H "$DOCKER_HOST" --bridge=none --iptables=false --ip6tables=false --ip-forward=false \
    </dev/null >"$tmp/dockerd.log" 2>&1 &
  our_dockerd=$!
  our_start=$(start_time "$our_dockerd")
  echo "$our_dockerd $our_start $run" >"$cache/dockerd.pid"
fi

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
  local pid
  for pid in "${children[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if "$docker" info >/dev/null 2>&1; then
    if [[ $fail -gt 0 ]]; then compose logs --no-color >"$tmp/compose.log" 2>&1; fi
    compose --profile attack down -v --remove-orphans >/dev/null 2>&1
    remove_project "$project"
  fi
  if [[ -n $our_dockerd ]]; then
    stop_pid "$our_dockerd" "$our_start"
    remove_run "$run"
    rm -f "$cache/dockerd.pid"
  fi
  if [[ $fail -gt 0 ]]; then
    rm -rf "$NS_BUILD/test_compose.failed"
    cp -r "$tmp" "$NS_BUILD/test_compose.failed" 2>/dev/null
    echo "kept for inspection: $NS_BUILD/test_compose.failed"
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [[ -n $our_dockerd ]]; then
  if ! until_ok 60 "$docker" info >/dev/null 2>&1; then
    tail -n 20 "$tmp/dockerd.log"
    eq "dockerd answers" no yes
    exit 1
  fi
  note "started dockerd $our_dockerd ($DOCKER_HOST)"
  # This data root is the test's own: projects of earlier runs killed before their cleanup
  # (SIGKILL) are removed, so their networks' bridges do not come back with every start.
  for old in $("$docker" network ls --format '{{.Label "com.docker.compose.project"}}'; \
    "$docker" ps -a --format '{{.Label "com.docker.compose.project"}}'); do
    [[ $old == nstest[0-9]* && $old != "$project" ]] && remove_project "$old"
  done
fi

# ---- 1: images ------------------------------------------------------------------------------------
NS_BASE_CACHE=$cache DOCKER=$docker step bash "$NS_SRC/deploy/docker/base-image.sh" "$base_tag" >"$tmp/base.log" 2>&1
eq "base image" "$?" 0
note "base image ready"
# --network host: the build's apt-get reaches the mirror without the bridge and NAT rules this
# daemon does not make. Both images at once: one compiles while the other unpacks packages.
images=("Dockerfile netscope:lab" "Dockerfile.labtools netscope-labtools:lab")
# NS_UI=off: npm inside a container does not trust the TLS certificate this machine's npm
# registry presents (SELF_SIGNED_CERT_IN_CHAIN); the dashboard is tested by test_ui_browser.
for img in "${images[@]}"; do
  set -- $img
  started "$docker" build -q --network host -f "$NS_SRC/deploy/docker/$1" --build-arg "BASE_IMAGE=$base_tag" \
    --build-arg NS_UI=off -t "$2" "$NS_SRC" >"$tmp/build-${2%%:*}.log" 2>&1
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
until_ok 120 agents_connected
eq "both agents connected" "$?" 0
note "agents connected"
# The agent runs as the image's unprivileged user, with NET_RAW the only capability it could
# ever hold (the bounding set), and none left in effect after opening its capture.
pid=$("$docker" inspect -f '{{.State.Pid}}' "$(compose ps -q agent-web)")
eq "agent-web: user" "$(awk '/^Uid:/ { print $2 }' "/proc/$pid/status")" 10001
eq "agent-web: bounding set is NET_RAW only" "$(awk '/^CapBnd:/ { print $2 }' "/proc/$pid/status")" 0000000000002000
eq "agent-web: no capability in effect" "$(awk '/^CapEff:/ { print $2 }' "/proc/$pid/status")" 0000000000000000

# Flows per service from the API, checked against the generators' own running totals.
flows_ok() {
  api "/api/v1/flows?limit=1000&from=-1h" >"$tmp/flows.json" 2>/dev/null || return 1
  compose logs --no-color http-client dns-client >"$tmp/gen.log" 2>&1
  python3 - "$tmp/flows.json" "$tmp/gen.log" "$1" <<'PY'
import json, re, sys
flows = json.load(open(sys.argv[1]))["flows"]
log = open(sys.argv[2]).read()
final = sys.argv[3] == "final"
def last(pattern):
    m = re.findall(pattern, log)
    return tuple(int(x) for x in m[-1]) if m else (0,) * re.compile(pattern).groups
http_n, http_ok = last(r"http requests=(\d+) ok=(\d+)")
dns_q, dns_a, dns_nx = last(r"dns queries=(\d+) answers=(\d+) nxdomain=(\d+)")
http = [f for f in flows if f.get("service") == "http" and f.get("id.resp_p") == 80]
dns = [f for f in flows if f.get("service") == "dns" and f.get("id.resp_p") == 53]
msgs = []
# Every HTTP request is one connection; the API may not have the newest few yet, and the
# log may lag the capture by a round: allow one round (2 requests, 3 queries) either way.
if not (http_ok >= 4 and abs(len(http) - http_n) <= 2):
    msgs.append(f"http: {len(http)} flows, the client made {http_n} requests ({http_ok} ok)")
if not (dns_q >= 6 and abs(len(dns) - dns_q) <= 3):
    msgs.append(f"dns: {len(dns)} flows, the client sent {dns_q} queries")
# Plausible sizes: an HTTP exchange is at least a handshake and a response, /data.bin 20000 bytes.
big = [f for f in http if f.get("resp_bytes", 0) >= 20000]
if http and not big:
    msgs.append("http: no flow carried the 20000-byte /data.bin")
if any(f.get("orig_pkts", 0) + f.get("resp_pkts", 0) < 6 for f in http if f.get("conn_state") == "SF"):
    msgs.append("http: a complete (SF) connection with fewer than 6 packets")
if dns and any(f.get("orig_pkts") != 1 or f.get("resp_pkts") != 1 for f in dns if f.get("conn_state") == "SF"):
    msgs.append("dns: a finished query flow without exactly one datagram each way")
if final:
    print(f"flows: http {len(http)} (client {http_n}), dns {len(dns)} (client {dns_q})")
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
((rc == 0)) || cat "$tmp/verify.log"
note "verify passed"

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
compose --profile attack down -v --remove-orphans >"$tmp/down.log" 2>&1
eq "docker-compose down -v" "$?" 0
eq "nothing of the project is left (containers, networks, volumes)" "$(labelled | wc -l)" 0

echo "$pass passed, $fail failed ($((SECONDS - t0)) s)"
[[ $fail -eq 0 ]]
