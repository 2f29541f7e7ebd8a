#!/usr/bin/env bash
# lab.sh - a NetScope test network on one machine, made of network namespaces (no Docker).
#
#   lab.sh up | down | status | traffic [ROUNDS] | exec NODE CMD... |
#          capture NODE FILE [FILTER...] | capture-stop NODE | verify
#
# deploy/lab/README.md has the topology, the settings (LAB_*, NS_*) and what `traffic` sends.
#
# Every object of a lab is named from LAB_PREFIX: the namespaces <prefix>-br (a Linux bridge),
# <prefix>-col and <prefix>-h1..hN, one veth pair from each node to the bridge. The pairs are
# created directly inside their namespaces (`ip link add ... netns A type veth peer ... netns B`),
# so the root namespace never holds a lab interface and deleting the namespaces removes every
# link. Each process `up` starts is recorded in LAB_DIR as "PID START-TIME": a PID is signalled
# only while /proc still shows that start time, so a PID the kernel has recycled for another
# process is never hit, and no process is ever looked up by name. `down` also finds the lab's
# namespaces by name and stops whatever still runs inside them, so it cleans up after an `up`
# that died half-way or whose state directory is gone.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

HTTP_PORT=80
DNS_PORT=53
CLOSED_PORT=7999 # nothing listens here: a connection attempt is answered with a RST (REJ)
COLLECTOR_PORT=5556
COL_OCTET=2
HOST_OCTET_BASE=10 # hN is .(10+N)
MAX_HOSTS=50
DNS_DOMAIN=lab
# One traffic round, from each client host to the server host h1 (the README's table):
HTTP_PATHS=(/ /data.bin /missing.html) # 200, 200, 404
HTTP_EXPECT=(200 200 404)
DNS_NAMES=(h1.lab col.lab nosuch.lab) # answer, answer, NXDOMAIN
PING_COUNT=3
PING_INTERVAL_S=0.2
CURL_MAX_S=5
READY_S=10 # how long a server may take to listen, tcpdump to start
STATE_MARK=.netscope-lab

# ---- messages and configuration --------------------------------------------------------------

note() { echo "lab: $*" >&2; }
die() {
  echo "lab: $*" >&2
  exit 1
}

usage() { # usage [EXIT-CODE]: the synopsis from this file's head
  sed -n '4,5p' "${BASH_SOURCE[0]}" | sed 's/^#/ /' >&2
  echo "  (see $here/README.md)" >&2
  exit "${1:-2}"
}

# Settings come from the environment for `up`; every later command reads back what `up` wrote
# into lab.env, so `traffic` or `down` need not repeat LAB_HOSTS or LAB_SUBNET.
load_config() {
  prefix=${LAB_PREFIX:-nslab}
  [[ $prefix =~ ^[a-z][a-z0-9-]{0,23}$ ]] ||
    die "LAB_PREFIX '$prefix': use 1 to 24 characters a-z, 0-9 or '-', starting with a letter"
  state=${LAB_DIR:-/run/netscope-lab-$prefix}
  hosts=${LAB_HOSTS:-2}
  subnet=${LAB_SUBNET:-10.77.0.0/24}
  stop_timeout_s=${LAB_STOP_TIMEOUT:-5}
  py=${LAB_PYTHON:-}
  if [[ -z $py ]]; then
    if [[ -x /usr/bin/python3 ]]; then py=/usr/bin/python3; else py=python3; fi
  fi
  if [[ -f $state/lab.env ]]; then
    local key value
    while IFS='=' read -r key value; do
      case $key in
      hosts) hosts=$value ;;
      subnet) subnet=$value ;;
      esac
    done <"$state/lab.env"
  fi
  if ! [[ $hosts =~ ^[0-9]+$ ]] || ((hosts < 2 || hosts > MAX_HOSTS)); then
    die "LAB_HOSTS '$hosts': a number from 2 to $MAX_HOSTS"
  fi
  [[ $stop_timeout_s =~ ^[0-9]+$ ]] || die "LAB_STOP_TIMEOUT '$stop_timeout_s': whole seconds"
  if [[ $subnet =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.0/24$ ]] &&
    ((BASH_REMATCH[1] <= 255 && BASH_REMATCH[2] <= 255 && BASH_REMATCH[3] <= 255)); then
    net="${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.${BASH_REMATCH[3]}"
  else
    die "LAB_SUBNET '$subnet': a /24 written A.B.C.0/24 (default 10.77.0.0/24)"
  fi
}

need_root() { [[ $(id -u) -eq 0 ]] || die "needs root (network namespaces)"; }
need_tool() { command -v "$1" >/dev/null 2>&1 || die "needs '$1' (Debian package $2)"; }

# ---- nodes -----------------------------------------------------------------------------------

host_nodes() {
  local i
  for ((i = 1; i <= hosts; i++)); do echo "h$i"; done
}
all_nodes() {
  echo br
  echo col
  host_nodes
}
ns_of() { echo "$prefix-$1"; }
if_of() { if [[ $1 == br ]]; then echo br0; else echo eth0; fi; }
octet_of() {
  case $1 in
  col) echo "$COL_OCTET" ;;
  h[0-9]*) echo $((HOST_OCTET_BASE + ${1#h})) ;;
  *) return 1 ;;
  esac
}
addr_of() { echo "$net.$(octet_of "$1")"; }
# Fixed, locally administered MACs (02:...): captures of two runs differ only in time and ports.
mac_of() { printf '02:4e:53:00:00:%02x' "$(octet_of "$1")"; }

valid_node() {
  local n
  for n in $(all_nodes); do [[ $n == "$1" ]] && return 0; done
  die "unknown node '$1' (nodes: $(all_nodes | tr '\n' ' '))"
}

# The lab's namespaces that exist now, found by name (state may be gone).
lab_namespaces() {
  ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$prefix-(br|col|h[0-9]+)\$" || true
}
ns_exists() { [[ -e /run/netns/$(ns_of "$1") ]]; }

# ---- processes: started in the background, stopped by recorded PID ----------------------------

# Field 22 of /proc/PID/stat (start time in clock ticks since boot); fails when PID is gone or a
# zombie. The command name (field 2) may hold spaces and parentheses: split after the last ')'.
start_time() {
  local stat fields
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  read -ra fields <<<"${stat##*) }"
  [[ ${fields[0]} != Z ]] || return 1
  echo "${fields[19]}"
}

# same_proc PID START: PID runs and is the process that started at START.
same_proc() {
  local now
  [[ $1 =~ ^[0-9]+$ && -n $2 ]] && now=$(start_time "$1") && [[ $now == "$2" ]]
}

# Whether the process recorded as NAME still runs.
proc_alive() {
  local pid st
  [[ -f $state/pids/$1.pid ]] && read -r pid st <"$state/pids/$1.pid" && same_proc "$pid" "$st"
}
proc_pid() { awk '{print $1}' "$state/pids/$1.pid" 2>/dev/null || true; }

# start_bg NAME NODE CMD...: run CMD in NODE's namespace, detached (own session, no terminal,
# output to logs/NAME.log), and record it. `ip netns exec` and `setsid` both exec (setsid forks
# only for a process-group leader, which a job of this non-interactive shell is not), so $! is
# the PID of CMD itself.
start_bg() {
  local name=$1 node=$2 pid st
  shift 2
  ip netns exec "$(ns_of "$node")" setsid "$@" </dev/null >>"$state/logs/$name.log" 2>&1 &
  pid=$!
  st=$(start_time "$pid") || fail_log "$name" "exited at once"
  echo "$pid $st" >"$state/pids/$name.pid"
}

fail_log() {
  note "$1 $2; the end of $state/logs/$1.log:"
  tail -n 15 "$state/logs/$1.log" >&2 || true
  exit 1
}

# wait_ready NAME CMD...: poll CMD until it succeeds, READY_S at most; fails when NAME exits.
wait_ready() {
  local name=$1 deadline=$((SECONDS + READY_S))
  shift
  until "$@"; do
    proc_alive "$name" || fail_log "$name" "exited"
    ((SECONDS <= deadline)) || fail_log "$name" "was not ready after $READY_S s"
    sleep 0.1
  done
}
listening() { # NODE tcp|udp PORT
  [[ -n $(ip netns exec "$(ns_of "$1")" ss -Hln"${2:0:1}" "sport = :$3" 2>/dev/null) ]]
}

# wait_gone SECONDS "PID START"...: until none of them runs, SECONDS at most (SECONDS counts
# whole seconds: <= waits at least the full time).
wait_gone() {
  local deadline=$((SECONDS + $1)) entry alive
  shift
  while ((SECONDS <= deadline)); do
    alive=0
    for entry in "$@"; do
      if same_proc "${entry% *}" "${entry#* }"; then alive=1; fi
    done
    ((alive)) || return 0
    sleep 0.1
  done
  return 1
}

# signal_gone "PID START"...: SIGTERM, a bounded wait, then SIGKILL what is left.
signal_gone() {
  local entry
  (($#)) || return 0
  for entry in "$@"; do kill -TERM "${entry% *}" 2>/dev/null || true; done
  wait_gone "$stop_timeout_s" "$@" && return 0
  for entry in "$@"; do
    if same_proc "${entry% *}" "${entry#* }"; then
      note "pid ${entry% *} ignored SIGTERM for ${stop_timeout_s} s: SIGKILL"
      kill -KILL "${entry% *}" 2>/dev/null || true
    fi
  done
  wait_gone 2 "$@" || note "pid(s) still present after SIGKILL: $*"
}

# Stop the recorded processes whose names match the glob, all at once.
stop_recorded() {
  local file pid st entries=()
  for file in "$state"/pids/$1.pid; do
    [[ -f $file ]] || continue
    read -r pid st <"$file" || true
    if same_proc "$pid" "$st"; then entries+=("$pid $st"); fi
  done
  signal_gone "${entries[@]}"
  # shellcheck disable=SC2086 # $1 is a glob on purpose
  rm -f "$state"/pids/$1.pid
}

# ---- up --------------------------------------------------------------------------------------

make_topology() {
  local node ns brns
  brns=$(ns_of br)
  for node in $(all_nodes); do
    ns=$(ns_of "$node")
    ip netns add "$ns"
    # IPv4 only: no router solicitations, MLD or DAD in the captures, so every packet of a
    # traffic round is one `traffic` accounts for (plus ARP).
    if [[ -d /proc/sys/net/ipv6 ]]; then
      ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
    fi
    ip -n "$ns" link set lo up
  done
  ip -n "$brns" link add br0 type bridge stp_state 0
  ip -n "$brns" link set br0 up
  for node in col $(host_nodes); do
    ns=$(ns_of "$node")
    ip link add eth0 address "$(mac_of "$node")" netns "$ns" type veth peer name "$node" netns "$brns"
    ip -n "$brns" link set "$node" master br0 up
    ip -n "$ns" addr add "$(addr_of "$node")/24" dev eth0
    # A veth hands the peer whole TSO super-segments (7 kB "packets" in a capture); one
    # segment per send makes every frame fit the 1500-byte MTU, as on a real wire.
    ip -n "$ns" link set eth0 gso_max_segs 1
    ip -n "$ns" link set eth0 up
  done
}

start_servers() {
  local node records=() saddr
  saddr=$(addr_of h1)
  mkdir -p "$state/www"
  printf '<!doctype html>\n<title>NetScope lab</title>\n<p>served by h1\n' >"$state/www/index.html"
  # 20000 bytes: a response that takes several TCP segments.
  head -c 20000 <(yes 'netscope lab data') >"$state/www/data.bin"
  start_bg http h1 "$py" -m http.server --bind "$saddr" --directory "$state/www" "$HTTP_PORT"
  for node in col $(host_nodes); do records+=(--record "$node.$DNS_DOMAIN=$(addr_of "$node")"); done
  start_bg dnsd h1 "$py" "$here/dnsd.py" serve --addr "$saddr" --port "$DNS_PORT" "${records[@]}"
  wait_ready http listening h1 tcp "$HTTP_PORT"
  wait_ready dnsd listening h1 udp "$DNS_PORT"
}

# Checked before anything is made: a wrong setting is not a partial lab.
check_netscope_settings() {
  local bin
  [[ -n ${NS_COLLECTOR:-}${NS_AGENT:-} ]] || return 0
  [[ -n ${NS_COLLECTOR:-} ]] || die "NS_AGENT needs NS_COLLECTOR: the agents send to the lab's collector"
  [[ -n ${NS_CLI:-} ]] || die "NS_CLI (the netscope tool) is needed for 'netscope keygen'"
  for bin in NS_CLI NS_COLLECTOR NS_AGENT; do
    [[ -z ${!bin:-} || -x ${!bin} ]] || die "$bin=${!bin} is not an executable"
  done
}

# The collector in col and one agent per host, when their binaries are given.
start_netscope() {
  local h coladdr cargs=() aargs=()
  if [[ -z ${NS_COLLECTOR:-} && -z ${NS_AGENT:-} ]]; then
    note "NS_COLLECTOR and NS_AGENT unset: no NetScope processes (servers, traffic and captures only)"
    return 0
  fi
  coladdr=$(addr_of col)
  mkdir -p "$state/keys" "$state/allowed-keys"
  chmod 700 "$state/keys"
  for h in col $(host_nodes); do
    "$NS_CLI" keygen "$state/keys/$h" >>"$state/logs/keygen.log" 2>&1 ||
      fail_log keygen "failed for $h"
    [[ -f $state/keys/$h.key && -f $state/keys/$h.key_secret ]] ||
      fail_log keygen "did not write $state/keys/$h.key and .key_secret"
  done
  for h in $(host_nodes); do cp "$state/keys/$h.key" "$state/allowed-keys/$h.key"; done

  read -ra cargs <<<"${NS_COLLECTOR_ARGS:-}"
  start_bg collector col "$NS_COLLECTOR" --listen "tcp://$coladdr:$COLLECTOR_PORT" \
    --key "$state/keys/col.key_secret" --allowed-keys "$state/allowed-keys" \
    --flows-out "$state/flows.out" "${cargs[@]}"
  wait_ready collector listening col tcp "$COLLECTOR_PORT"
  if [[ -z ${NS_AGENT:-} ]]; then
    note "NS_AGENT unset: collector only"
    return 0
  fi
  read -ra aargs <<<"${NS_AGENT_ARGS:-}"
  # --id: the namespaces share the machine's host name, the agents' default id; agents with
  # one id and different keys are refused by the collector (an id is bound to its first key).
  for h in $(host_nodes); do
    start_bg "agent-$h" "$h" "$NS_AGENT" -i eth0 --collector "tcp://$coladdr:$COLLECTOR_PORT" \
      --collector-key "$state/keys/col.key" --key "$state/keys/$h.key_secret" --id "$h" --user nobody "${aargs[@]}"
  done
  # An agent that cannot open its interface or read its keys exits within moments.
  sleep 1
  for h in $(host_nodes); do proc_alive "agent-$h" || fail_log "agent-$h" "exited"; done
}

cmd_up() {
  local node
  need_root
  need_tool ip iproute2
  need_tool "$py" python3
  check_netscope_settings
  [[ -z $(lab_namespaces) ]] || die "lab '$prefix' is already up (lab.sh status; lab.sh down)"
  if [[ -e $state ]]; then
    [[ -f $state/$STATE_MARK ]] || die "LAB_DIR $state exists and is not a lab state directory"
    die "state directory $state is left from an earlier lab: run lab.sh down first"
  fi
  mkdir -p "$state/pids" "$state/logs"
  echo "$prefix" >"$state/$STATE_MARK"
  printf 'hosts=%s\nsubnet=%s\n' "$hosts" "$subnet" >"$state/lab.env"
  # Any exit before the end (die, a failed command under set -e) leaves a partial lab.
  trap 'note "up failed; the partial lab is left for inspection in $state: lab.sh down removes it"' EXIT

  make_topology
  start_servers
  start_netscope
  trap - EXIT

  echo "lab $prefix is up: $subnet, state in $state"
  for node in $(all_nodes); do
    if [[ $node == br ]]; then
      printf '  %-4s %-16s bridge br0\n' "$node" "$(ns_of "$node")"
    else
      printf '  %-4s %-16s eth0 %s\n' "$node" "$(ns_of "$node")" "$(addr_of "$node")"
    fi
  done
}

# ---- down ------------------------------------------------------------------------------------

cmd_down() {
  local ns pid st entries
  need_root
  if [[ -d $state/pids ]]; then
    # Agents first, so they can hand their last flows to a collector that still runs.
    stop_recorded 'agent-*'
    stop_recorded collector
    stop_recorded '*'
  fi
  for ns in $(lab_namespaces); do
    # Anything else inside (an interrupted `traffic`, a command from `lab.sh exec`) would keep
    # the namespace, and with it the veths, alive after `ip netns del`.
    entries=()
    for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
      st=$(start_time "$pid") && entries+=("$pid $st")
    done
    if ((${#entries[@]})); then
      note "stopping what still runs in $ns: ${entries[*]%% *}"
      signal_gone "${entries[@]}"
    fi
    ip netns del "$ns"
  done
  if [[ -d $state ]]; then
    if [[ -f $state/$STATE_MARK ]]; then
      rm -rf -- "$state"
    else
      note "leaving $state: not a lab state directory"
    fi
  fi
  echo "lab $prefix is down"
}

# ---- status ----------------------------------------------------------------------------------

cmd_status() {
  local node ns link addr file name peer line results problems=0
  need_root
  if [[ -z $(lab_namespaces) && ! -d $state ]]; then
    echo "lab $prefix is not up"
    return 3
  fi
  echo "lab $prefix: $subnet, $hosts hosts, state in $state"
  for node in $(all_nodes); do
    ns=$(ns_of "$node")
    if ! ns_exists "$node"; then
      printf '  %-4s %-16s MISSING\n' "$node" "$ns"
      problems=$((problems + 1))
      continue
    fi
    link=$(ip -n "$ns" -br link show dev "$(if_of "$node")" 2>/dev/null | awk '{print $2}')
    addr=$(ip -n "$ns" -br -4 addr show dev "$(if_of "$node")" 2>/dev/null | awk '{print $3}')
    [[ $link == UP ]] || problems=$((problems + 1))
    printf '  %-4s %-16s %-5s %-5s %s\n' "$node" "$ns" "$(if_of "$node")" "${link:-MISSING}" "${addr:--}"
  done
  echo "processes:"
  for file in "$state"/pids/*.pid; do
    [[ -f $file ]] || continue
    name=$(basename "$file" .pid)
    if proc_alive "$name"; then
      printf '  %-14s pid %-8s running\n' "$name" "$(proc_pid "$name")"
    else
      printf '  %-14s pid %-8s GONE (log: %s)\n' "$name" "$(proc_pid "$name")" "$state/logs/$name.log"
      problems=$((problems + 1))
    fi
  done
  echo "reachability (one ping from each host):"
  # All pings at once: a status stays about a second long however many hosts there are.
  results=$(mktemp -d)
  for node in $(host_nodes); do
    ns_exists "$node" || continue
    for peer in col $(host_nodes); do
      [[ $peer == "$node" ]] && continue
      if ip netns exec "$(ns_of "$node")" ping -n -q -c 1 -W 1 "$(addr_of "$peer")" >/dev/null 2>&1; then
        echo ok >"$results/$node-$peer"
      fi &
    done
  done
  wait
  for node in $(host_nodes); do
    ns_exists "$node" || continue
    line="  $node ->"
    for peer in col $(host_nodes); do
      [[ $peer == "$node" ]] && continue
      if [[ -f $results/$node-$peer ]]; then
        line+=" $peer ok"
      else
        line+=" $peer FAIL"
        problems=$((problems + 1))
      fi
    done
    echo "$line"
  done
  rm -rf "$results"
  ((problems == 0)) || {
    echo "$problems problem(s)"
    return 1
  }
}

# ---- traffic ---------------------------------------------------------------------------------

# One deterministic round from client host $1 to the server h1; adds to the t_* counters.
traffic_round() {
  local client=$1 ns saddr out tx rx i code rc q a nx f
  ns=$(ns_of "$client")
  saddr=$(addr_of h1)

  out=$(ip netns exec "$ns" ping -n -q -c "$PING_COUNT" -i "$PING_INTERVAL_S" -W 2 "$saddr" 2>&1) || true
  if [[ $out =~ ([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
    tx=${BASH_REMATCH[1]} rx=${BASH_REMATCH[2]}
  else
    note "$client: ping said: $out"
    tx=0 rx=0
  fi
  t_pings=$((t_pings + tx)) t_ping_replies=$((t_ping_replies + rx))

  out=$(ip netns exec "$ns" "$py" "$here/dnsd.py" query --server "$saddr" --port "$DNS_PORT" \
    "${DNS_NAMES[@]}" 2>>"$state/logs/traffic.log") || true
  if [[ $out =~ ^queries=([0-9]+)\ answers=([0-9]+)\ nxdomain=([0-9]+)\ failed=([0-9]+)$ ]]; then
    q=${BASH_REMATCH[1]} a=${BASH_REMATCH[2]} nx=${BASH_REMATCH[3]} f=${BASH_REMATCH[4]}
  else
    note "$client: DNS queries said: $out"
    q=0 a=0 nx=0 f=0
  fi
  t_dns=$((t_dns + q)) t_dns_answers=$((t_dns_answers + a)) t_dns_nx=$((t_dns_nx + nx))
  t_dns_failed=$((t_dns_failed + f))

  for i in "${!HTTP_PATHS[@]}"; do
    code=$(ip netns exec "$ns" curl -sS --noproxy '*' --max-time "$CURL_MAX_S" -o /dev/null \
      -w '%{http_code}' "http://$saddr:$HTTP_PORT${HTTP_PATHS[i]}" 2>>"$state/logs/traffic.log") || true
    t_http=$((t_http + 1))
    case $code in
    200) t_http_200=$((t_http_200 + 1)) ;;
    404) t_http_404=$((t_http_404 + 1)) ;;
    *) t_http_failed=$((t_http_failed + 1)) ;;
    esac
    [[ $code == "${HTTP_EXPECT[i]}" ]] || note "$client: GET ${HTTP_PATHS[i]} gave '$code', not ${HTTP_EXPECT[i]}"
  done

  rc=0
  ip netns exec "$ns" curl -sS --noproxy '*' --max-time "$CURL_MAX_S" -o /dev/null \
    "http://$saddr:$CLOSED_PORT/" 2>/dev/null || rc=$?
  t_rej_attempts=$((t_rej_attempts + 1))
  # curl's exit 7 is "could not connect": the SYN was answered with a RST.
  if ((rc == 7)); then t_rejected=$((t_rejected + 1)); else note "$client: port $CLOSED_PORT: curl exit $rc, not 7"; fi
}

cmd_traffic() {
  local rounds=${1:-1} r c clients=() ok=true n
  need_root
  need_tool curl curl
  need_tool ping iputils-ping
  if ! [[ $rounds =~ ^[0-9]+$ ]] || ((rounds < 1 || rounds > 1000)); then
    die "ROUNDS '$rounds': 1 to 1000"
  fi
  [[ -f $state/lab.env ]] || die "lab $prefix is not up (lab.sh up)"
  if ! proc_alive http || ! proc_alive dnsd; then
    die "the lab's HTTP or DNS server is not running (lab.sh status)"
  fi
  mapfile -t clients < <(host_nodes | tail -n +2)
  t_pings=0 t_ping_replies=0 t_dns=0 t_dns_answers=0 t_dns_nx=0 t_dns_failed=0
  t_http=0 t_http_200=0 t_http_404=0 t_http_failed=0 t_rej_attempts=0 t_rejected=0
  for ((r = 1; r <= rounds; r++)); do
    for c in "${clients[@]}"; do traffic_round "$c"; done
  done

  n=$((rounds * ${#clients[@]}))
  ((t_pings == n * PING_COUNT && t_ping_replies == t_pings)) || ok=false
  ((t_dns == n * ${#DNS_NAMES[@]} && t_dns_answers == n * 2 && t_dns_nx == n)) || ok=false
  ((t_http == n * ${#HTTP_PATHS[@]} && t_http_200 == n * 2 && t_http_404 == n)) || ok=false
  ((t_rejected == t_rej_attempts)) || ok=false
  printf '{"rounds": %d, "server": "h1", "server_addr": "%s", "clients": [%s],\n' \
    "$rounds" "$(addr_of h1)" "$(printf '"%s", ' "${clients[@]}" | sed 's/, $//')"
  printf ' "http_port": %d, "http_requests": %d, "http_200": %d, "http_404": %d, "http_failed": %d,\n' \
    "$HTTP_PORT" "$t_http" "$t_http_200" "$t_http_404" "$t_http_failed"
  printf ' "dns_port": %d, "dns_queries": %d, "dns_answers": %d, "dns_nxdomain": %d, "dns_failed": %d,\n' \
    "$DNS_PORT" "$t_dns" "$t_dns_answers" "$t_dns_nx" "$t_dns_failed"
  printf ' "pings": %d, "ping_replies": %d,\n' "$t_pings" "$t_ping_replies"
  printf ' "closed_port": %d, "rej_attempts": %d, "rejected": %d,\n' "$CLOSED_PORT" "$t_rej_attempts" "$t_rejected"
  printf ' "as_expected": %s}\n' "$ok"
  [[ $ok == true ]] || {
    note "the round did not go as expected (details above and in $state/logs/traffic.log)"
    return 1
  }
}

# ---- exec, capture ---------------------------------------------------------------------------

cmd_exec() {
  (($# >= 2)) || usage
  need_root
  valid_node "$1"
  ns_exists "$1" || die "lab $prefix has no node $1 (lab.sh up)"
  local ns
  ns=$(ns_of "$1")
  shift
  exec ip netns exec "$ns" "$@"
}

cmd_capture() {
  (($# >= 2)) || usage
  local node=$1 file=$2 name
  shift 2
  need_root
  need_tool tcpdump tcpdump
  valid_node "$node"
  if ! ns_exists "$node" || [[ ! -d $state/pids ]]; then die "lab $prefix is not up (lab.sh up)"; fi
  name=capture-$node
  ! proc_alive "$name" || die "a capture on $node is running (lab.sh capture-stop $node)"
  [[ $file == /* ]] || file=$PWD/$file
  : >"$state/logs/$name.log"
  # --immediate-mode: packets reach tcpdump at once, not when a TPACKET_V3 block times out, so
  # nothing captured just before capture-stop is lost; -U: each packet is written as it
  # arrives, so the file can be read while tcpdump runs; -Z root: root writes the file; -B: a
  # veth offers offloads, so libpcap sizes each ring frame for 64 kB and the default 2 MB ring
  # holds ~32 frames: a busy machine then drops frames of one HTTP response (kernel drops).
  start_bg "$name" "$node" tcpdump -i "$(if_of "$node")" -n -U --immediate-mode -B 16384 -Z root -w "$file" "$@"
  wait_ready "$name" grep -q 'listening on' "$state/logs/$name.log"
  proc_pid "$name"
}

cmd_capture_stop() {
  (($# == 1)) || usage
  need_root
  valid_node "$1"
  [[ -f $state/pids/capture-$1.pid ]] || die "no capture on $1"
  stop_recorded "capture-$1"
  grep -E 'packets (captured|received by filter|dropped by kernel)' "$state/logs/capture-$1.log" >&2 || true
}

# ---- verify --------------------------------------------------------------------------------

# One traffic round with a capture on h1's eth0; then what the collector reports (GET
# /api/v1/flows and /api/v1/alerts in col) must match the capture decoded by tshark, the
# capture replayed through `netscope flows`, and the round's own counts (verify.py).
cmd_verify() {
  local v from api rc=1 deadline
  need_root
  need_tool tshark tshark
  need_tool curl curl
  [[ -f $state/lab.env ]] || die "lab $prefix is not up (lab.sh up)"
  proc_alive collector || die "verify needs the lab up with NS_COLLECTOR and NS_AGENT set: no collector runs"
  proc_alive agent-h1 || die "verify needs the agents: agent-h1 does not run"
  [[ -n ${NS_CLI:-} && -x $NS_CLI ]] || die "verify needs NS_CLI (netscope flows replays the capture)"
  api=${LAB_API:-http://127.0.0.1:8080}
  v=$state/verify
  rm -rf "$v"
  mkdir -p "$v"
  from=$(date +%s)
  cmd_capture h1 "$v/h1.pcap" >/dev/null
  cmd_traffic 1 >"$v/traffic.json" || note "the traffic round did not go as generated: verify compares what it did"
  # The last FIN's linger and a capture block on its way to tcpdump.
  sleep 1
  cmd_capture_stop h1 2>/dev/null
  tshark -r "$v/h1.pcap" -n -T fields -E separator=/t \
    $("$py" -c 'import sys; sys.path.insert(0, sys.argv[1]); import verify; print(" ".join("-e " + f for f in verify.FIELDS))' "$here") \
    >"$v/frames.tsv" 2>"$v/tshark.log" || die "tshark could not read $v/h1.pcap: $v/tshark.log"
  "$NS_CLI" flows -r "$v/h1.pcap" >"$v/replay.jsonl" 2>"$v/replay.log" || die "netscope flows -r failed: $v/replay.log"
  # The agents export live updates every 250 ms after their capture block is handed over: poll
  # until the collector agrees or VERIFY_WAIT seconds pass.
  deadline=$((SECONDS + ${LAB_VERIFY_WAIT:-20}))
  while :; do
    ip netns exec "$(ns_of col)" curl -sf --noproxy '*' --max-time 5 \
      "$api/api/v1/flows?host=$(addr_of h1)&from=$from&limit=1000" >"$v/flows.json" &&
      ip netns exec "$(ns_of col)" curl -sf --noproxy '*' --max-time 5 \
        "$api/api/v1/alerts?state=all&from=$from" >"$v/alerts.json" ||
      die "the collector's API ($api in col) did not answer"
    rc=0
    "$py" "$here/verify.py" --flows "$v/flows.json" --frames "$v/frames.tsv" --traffic "$v/traffic.json" \
      --alerts "$v/alerts.json" --replay "$v/replay.jsonl" --since "$from" \
      --ignore-port "$COLLECTOR_PORT" >"$v/report.txt" || rc=$?
    ((rc != 0 && SECONDS < deadline)) || break
    sleep 1
  done
  cat "$v/report.txt"
  echo "verify: files in $v" >&2
  return "$rc"
}

# ---- main ------------------------------------------------------------------------------------

(($# >= 1)) || usage
cmd=$1
shift
load_config
case $cmd in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
traffic) cmd_traffic "$@" ;;
exec) cmd_exec "$@" ;;
capture) cmd_capture "$@" ;;
capture-stop) cmd_capture_stop "$@" ;;
verify) cmd_verify ;;
-h | --help | help) usage 0 ;;
*)
  note "unknown command '$cmd'"
  usage
  ;;
esac
