# docker_env.sh - the Docker daemon and base image of the tests that run containers
# (test_compose.sh, test_package.sh). Sourced, not run:
#
#   docker_env_start NAME   installs docker.io, docker-compose and debootstrap when missing;
#                           uses the dockerd that answers, else starts one of its own: data root
#                           $NS_BUILD/docker-lab/NAME/data-root (each test its own, so two tests
#                           can run at once and images stay cached between runs), its own socket,
#                           exec root and pidfile; no iptables rules, no IP forwarding, no docker0
#                           (the machine's network is left as it was). Sets $docker (the client)
#                           and exports DOCKER_HOST. Returns non-zero when no daemon answers.
#   docker_env_stop         stops the dockerd it started by PID (SIGTERM, 30 s, SIGKILL), only
#                           while that PID is still the process it started; first the commands
#                           started below that still run (docker_env_stop_children: only those).
#   docker_base_image TAG   the debootstrap base image (deploy/docker/base-image.sh), its root
#                           file system cached in $NS_BUILD/docker-lab for every data root.
#   step CMD...             runs a long command in its own session and waits for it, so that a
#                           signal (ctest's timeout, ^C) reaches the cleanup at once, which stops
#                           that session too; started CMD... only starts one (several at once),
#                           wait_started waits for them all (statuses in child_rc, in order).
#
# Needs: NS_BUILD, NS_SRC, $tmp (a scratch directory; dockerd.log goes there), note MESSAGE.

docker_cache=$NS_BUILD/docker-lab
docker=/usr/bin/docker # Debian's client, whatever else PATH holds
our_dockerd= our_start= docker_run= docker_name=
children=()

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

started() {
  setsid "$@" &
  children+=($!)
}
wait_started() {
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

docker_env_start() {
  local p missing=() deadline pidfile
  docker_name=$1
  for p in docker.io docker-compose debootstrap; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == "install ok installed" ]] || missing+=("$p")
  done
  if ((${#missing[@]})); then
    note "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >"$tmp/apt.log" 2>&1 ||
      { DEBIAN_FRONTEND=noninteractive apt-get update -q >>"$tmp/apt.log" 2>&1 &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >>"$tmp/apt.log" 2>&1; } ||
      { tail -n 20 "$tmp/apt.log"; echo "apt-get install ${missing[*]} failed"; return 1; }
  fi
  [[ -x $docker ]] || docker=$(command -v docker)
  mkdir -p "$docker_cache/$docker_name"
  pidfile=$docker_cache/$docker_name/dockerd.pid
  # A dockerd that an aborted earlier run left behind on this data root is stopped first (by the
  # PID and start time it recorded).
  if [[ -f $pidfile ]]; then
    local old_pid old_start old_run
    read -r old_pid old_start old_run <"$pidfile"
    stop_pid "$old_pid" "$old_start"
    remove_run "$old_run"
    rm -f "$pidfile"
  fi
  if "$docker" info >/dev/null 2>&1; then
    note "using the running dockerd (${DOCKER_HOST:-the default socket})"
    return 0
  fi
  docker_run=/run/netscope-test-docker-$$
  mkdir -p "$docker_run"
  export DOCKER_HOST=unix://$docker_run/docker.sock
  setsid dockerd --data-root "$docker_cache/$docker_name/data-root" --exec-root "$docker_run/exec" \
    --pidfile "$docker_run/dockerd.pid" -H "$DOCKER_HOST" --bridge=none --iptables=false \
    --ip6tables=false --ip-forward=false </dev/null >"$tmp/dockerd.log" 2>&1 &
  our_dockerd=$!
  our_start=$(start_time "$our_dockerd")
  echo "$our_dockerd $our_start $docker_run" >"$pidfile"
  deadline=$((SECONDS + 60))
  until "$docker" info >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      tail -n 20 "$tmp/dockerd.log"
      return 1
    fi
    sleep 1
  done
  note "started dockerd $our_dockerd ($DOCKER_HOST)"
}

docker_env_stop_children() {
  local pid
  for pid in "${children[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  children=()
}

docker_env_stop() {
  docker_env_stop_children
  [[ -n $our_dockerd ]] || return 0
  stop_pid "$our_dockerd" "$our_start"
  remove_run "$docker_run"
  rm -f "$docker_cache/$docker_name/dockerd.pid"
  our_dockerd=
}

docker_base_image() {
  # flock: two tests starting at once would both debootstrap into the same cached tarball
  NS_BASE_CACHE=$docker_cache DOCKER=$docker step flock "$docker_cache/base.lock" \
    bash "$NS_SRC/deploy/docker/base-image.sh" "$1"
}
