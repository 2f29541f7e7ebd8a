#!/usr/bin/env bash
# The Debian package (deploy/CMakeLists.txt, CPack): a Release build for /usr in
# $NS_BUILD/pkg with the dashboard, `cpack -G DEB` twice (revision 1 and 2), lintian without
# errors, then in a container from the base image (deploy/docker/base-image.sh) with systemd
# as PID 1 (docker_env.sh: the test's own dockerd, stopped by PID):
#   apt-get install ./netscope_*-1.deb resolves the dependencies (procps among them: the
#   units' ExecReload= runs /bin/kill) from the mirror's lists, offline: a first container
#   with the host's network downloads them, the systemd container has no network at all;
#   the dashboard is in /usr/share/netscope/ui, the collector's default --ui-dir;
#   the netscope user exists, the collector's key pair is made, the collector is enabled (the
#   agent is not), the installed binaries run, the configs are valid;
#   `systemctl is-active netscope-collector`: Type=notify, READY with its status text, running
#   as netscope with no capability at all; /api/v1/health answers and / is the dashboard; the
#   LMDB database is in the StateDirectory; `systemctl reload` re-reads the keys (same PID);
#   reinstalling the same version and upgrading to -2 restart it and keep an edited conffile,
#   the key and the state; remove stops it and keeps configuration and state; purge removes
#   both, and no file named after netscope is left anywhere.
# Root only (dockerd). It takes minutes: not in the asan stage (scripts/test.sh). 77 when this
# kernel cannot run containers.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root (dockerd)"; exit 77; }
if ! unshare --net --mount --pid --fork true 2>/dev/null; then
  echo "skip: cannot create namespaces here: containers cannot run"
  exit 77
fi
for t in cpack lintian dpkg-deb; do
  command -v "$t" >/dev/null || { echo "skip: $t not found"; exit 77; }
done
[[ ${NS_SANITIZED:-0} == 1 ]] && { echo "skip: the package is checked in the ci build"; exit 77; }
start=$(date +%s)
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
note() { echo "package: $* ($(( $(date +%s) - start )) s)"; }
box=ns-package-$$ # the systemd container
# shellcheck source=docker_env.sh
. "$NS_SRC/tests/integration/docker_env.sh"
cleanup() {
  trap - EXIT INT TERM
  docker_env_stop_children
  if [[ -n $DOCKER_HOST ]] && "$docker" info >/dev/null 2>&1; then
    ((fail == 0)) || "$docker" exec "$box" journalctl --no-pager -n 200 >"$NS_BUILD/test_package.journal" 2>&1
    "$docker" rm -f -v "$box" >/dev/null 2>&1
  fi
  docker_env_stop
  rm -rf "$tmp"
}
DOCKER_HOST=${DOCKER_HOST:-}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- build the two packages
pkg=$NS_BUILD/pkg
if ! { cmake -S "$NS_SRC" -B "$pkg" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON \
         -DCMAKE_C_COMPILER=gcc -DNS_WERROR=OFF -DNS_SANITIZE=OFF -DNS_WASM=ON -DNS_UI=ON \
         -DNS_DEB_RELEASE=1 &&
       cmake --build "$pkg" -j "${JOBS:-2}" --target netscope netscope-agent netscope-collector netscope_ui; } \
     >"$tmp/build.log" 2>&1; then
  echo "FAIL: package build: $(tail -20 "$tmp/build.log")"; exit 1
fi
debs=()
for rel in 1 2; do
  rm -f "$pkg"/netscope_*.deb
  if ! { cmake "$pkg" -DNS_DEB_RELEASE=$rel && (cd "$pkg" && cpack -G DEB); } >"$tmp/cpack.log" 2>&1; then
    echo "FAIL: cpack (revision $rel): $(tail -20 "$tmp/cpack.log")"; exit 1
  fi
  deb=$(ls "$pkg"/netscope_*-"$rel"_*.deb 2>/dev/null | head -1)
  [[ -n $deb ]] || { echo "FAIL: no .deb for revision $rel: $(ls "$pkg")"; exit 1; }
  cp "$deb" "$tmp/"
  debs+=("$tmp/$(basename "$deb")")
done
cmake "$pkg" -DNS_DEB_RELEASE=1 >/dev/null 2>&1
echo "packages: ${debs[*]##*/} (built in $(( $(date +%s) - start )) s)"

# ---- what is in it
deb1=${debs[0]} deb2=${debs[1]}
dpkg-deb -c "$deb1" >"$tmp/contents"
for f in ./usr/bin/netscope ./usr/sbin/netscope-agent ./usr/sbin/netscope-collector \
         ./etc/netscope/agent.toml ./etc/netscope/collector.toml \
         ./lib/systemd/system/netscope-agent.service ./lib/systemd/system/netscope-collector.service \
         ./usr/share/man/man1/netscope.1.gz ./usr/share/man/man8/netscope-agent.8.gz \
         ./usr/share/doc/netscope/copyright ./usr/share/doc/netscope/changelog.Debian.gz \
         ./usr/share/netscope/ui/index.html ./usr/share/netscope/ui/app.js ./usr/share/netscope/ui/app.css \
         ./usr/share/netscope/ui/fa2_worker.js ./usr/share/netscope/ui/netscope_decode.wasm; do
  grep -qE " $f\$" "$tmp/contents" && ok || bad "$f not in the package"
done
depends=$(dpkg-deb -f "$deb1" Depends)
for lib in libpcap0.8 libzmq5 liblmdb0 libmicrohttpd12 libwebsockets17 libjansson4 adduser procps; do
  [[ $depends == *"$lib"* ]] && ok || bad "Depends lacks $lib: $depends"
done
dpkg-deb -I "$deb1" conffiles | grep -qx /etc/netscope/agent.toml && ok || bad "agent.toml is not a conffile"

# ---- lintian: no errors (warnings are printed)
lintian --fail-on error --tag-display-limit 0 "$deb1" >"$tmp/lintian" 2>&1; rc=$?
sed 's/^/lintian: /' "$tmp/lintian"
[[ $rc -eq 0 ]] && ok || bad "lintian reports errors"
grep -q '^E:' "$tmp/lintian" && bad "lintian E: tags" || ok

# ---- the container: systemd as PID 1 on the base image
docker_env_start package || { bad "no dockerd"; exit 1; }
docker_base_image netscope/bookworm-base:local >"$tmp/base.log" 2>&1 || { cat "$tmp/base.log"; bad "base image"; exit 1; }
# --network host: apt reaches the mirror without the bridge and NAT rules this daemon does not
# make. udev, logind and the consoles have nothing to do in a container.
mkdir -p "$tmp/systemd-image"
cat >"$tmp/systemd-image/Dockerfile" <<'DOCKERFILE'
ARG BASE_IMAGE
FROM ${BASE_IMAGE}
ENV DEBIAN_FRONTEND=noninteractive container=docker
RUN apt-get update -q && apt-get install -y -q --no-install-recommends systemd systemd-sysv \
    && rm -rf /var/lib/apt/lists/* \
    && systemctl mask systemd-udevd.service systemd-udev-trigger.service systemd-logind.service \
         getty.target console-getty.service systemd-remount-fs.service
STOPSIGNAL SIGRTMIN+3
CMD ["/sbin/init"]
DOCKERFILE
step "$docker" build -q --network host --build-arg BASE_IMAGE=netscope/bookworm-base:local \
  -t netscope-systemd:test "$tmp/systemd-image" >"$tmp/image.log" 2>&1
[[ $? -eq 0 ]] || { tail -20 "$tmp/image.log"; bad "systemd image"; exit 1; }
note "systemd image ready"
# The package's dependencies, downloaded into a cache kept between runs, with the lists they
# were resolved from.
apt_cache=$docker_cache/package/apt
mkdir -p "$apt_cache/archives/partial" "$apt_cache/lists/partial" "$tmp/debs"
cp "$deb1" "$deb2" "$tmp/debs/"
apt_mounts=(-v "$apt_cache/archives:/var/cache/apt/archives" -v "$apt_cache/lists:/var/lib/apt/lists")
step "$docker" run --rm --network host -v "$tmp/debs:/debs:ro" "${apt_mounts[@]}" netscope-systemd:test \
  sh -c 'apt-get update -q && apt-get install -y -q --download-only /debs/netscope_*-1_*.deb' >"$tmp/download.log" 2>&1
[[ $? -eq 0 ]] && ok || { tail -5 "$tmp/download.log"; bad "apt-get --download-only of the dependencies"; exit 1; }
note "dependencies downloaded"
# What systemd needs beyond Docker's defaults (--privileged is impossible here: this sandbox
# lacks CAP_SYS_RESOURCE): SYS_ADMIN for its mounts and the units' namespaces, SYS_PTRACE for
# reading /proc/PID of a process in the unit's user namespace (PrivateUsers=) through a /proc
# mounted with ProtectProc=invisible, as root on a host can (without it: 217/USER, "Failed to
# set up user namespacing", systemd#29656); the cgroup tree writable; /run a tmpfs. No network.
"$docker" run -d --name "$box" --network none --cap-add SYS_ADMIN --cap-add SYS_PTRACE \
  --security-opt seccomp=unconfined --security-opt apparmor=unconfined \
  --cgroupns=host -v /sys/fs/cgroup:/sys/fs/cgroup:rw --tmpfs /run --tmpfs /run/lock \
  -v "$tmp/debs:/debs:ro" "${apt_mounts[@]}" netscope-systemd:test >"$tmp/run.log" 2>&1 ||
  { cat "$tmp/run.log"; bad "docker run (systemd)"; exit 1; }
booted() {
  local state
  state=$("$docker" exec "$box" systemctl is-system-running 2>/dev/null)
  [[ $state == running || $state == degraded ]]
}
t0=$(date +%s)
until booted; do
  (( $(date +%s) - t0 < 60 )) || { bad "systemd did not boot: $("$docker" exec "$box" systemctl is-system-running 2>&1)"; exit 1; }
  sleep 0.5
done
note "systemd booted in the container"

# inside.sh runs in the container: one line "ok NAME" or "bad NAME: why" per check
cat >"$tmp/debs/inside.sh" <<'IN'
#!/bin/bash
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
d1=$(ls /debs/netscope_*-1_*.deb) d2=$(ls /debs/netscope_*-2_*.deb)
check() { name=$1; shift; if "$@" >/tmp/check.out 2>&1; then echo "ok $name"; else echo "bad $name: $(head -c 300 /tmp/check.out | tr '\n' ' ')"; fi; }
# get PATH OUT: GET on the collector's API (bash's /dev/tcp: the base image has no curl); the
# status line and headers in OUT.head, the body (Content-Length bytes) in OUT.
get() {
  exec 3<>/dev/tcp/127.0.0.1/8080 || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1:8080\r\n\r\n' "$1" >&3
  cat <&3 >"$2.raw"
  exec 3<&-
  head -c 4096 "$2.raw" | tr -d '\r' | sed '/^$/q' >"$2.head"
  len=$(sed -n 's/^Content-Length: *\([0-9]*\)$/\1/Ip' "$2.head")
  [ -n "$len" ] && tail -c "$len" "$2.raw" >"$2"
}
served() { # served PATH FILE TYPE: status 200, the content type, the installed file's bytes
  get "$1" /tmp/served && grep -q '^HTTP/1.[01] 200' /tmp/served.head &&
    grep -qix "Content-Type: $3" /tmp/served.head && cmp /tmp/served "$2"
}
active() { systemctl is-active --quiet netscope-collector; }
main_pid() { systemctl show -p MainPID --value netscope-collector; }
same_pid() { active && [ "$(main_pid)" = "$1" ]; }
new_pid() { active && [ "$(main_pid)" != "$1" ]; }
stopped() { ! active && ! pgrep -u netscope; }
# status() FIELD: the collector's /proc/PID/status line FIELD, its values only
status() { sed -n "s/^$1:[[:space:]]*//p" /proc/"$(main_pid)"/status | tr -s '\t' ' '; }
healthy() { get /api/v1/health /tmp/health && grep -q '"status":"ok"' /tmp/health && grep -q '"database":true' /tmp/health; }
# until_up: the API of a (re)started collector, 10 s at most
until_up() { for _ in $(seq 50); do healthy 2>/dev/null && return 0; sleep 0.2; done; healthy; }

check "install resolves dependencies (offline: no network here)" apt-get install -y -q "$d1"
check "installed version -1" sh -c 'dpkg-query -W -f "\${Version}" netscope | grep -q -- "-1$"'
check "procps (/bin/kill for ExecReload=) pulled in" test -x /bin/kill
check "netscope user" id netscope
check "netscope group" getent group netscope
check "dashboard installed" sh -c 'for f in index.html app.js app.css fa2_worker.js netscope_decode.wasm; do test -s /usr/share/netscope/ui/$f || exit 1; done'
check "collector's default --ui-dir is the installed dashboard" sh -c 'netscope-collector --help | tr -s " \n" " " | grep -q "(default /usr/share/netscope/ui when it exists)"'
check "binaries run" sh -c 'netscope --version && netscope-agent --version && netscope-collector --version'
check "agent.toml valid" netscope check-config --agent /etc/netscope/agent.toml
check "collector.toml valid" netscope check-config --collector /etc/netscope/collector.toml
check "collector key made" test -s /etc/netscope/collector.key_secret -a -s /etc/netscope/collector.key
check "collector key private" sh -c '[ "$(stat -c %U:%a /etc/netscope/collector.key_secret)" = netscope:600 ]'
check "allowed-keys dir" test -d /etc/netscope/agents
check "collector enabled" test -L /etc/systemd/system/multi-user.target.wants/netscope-collector.service
check "agent not enabled" test ! -e /etc/systemd/system/multi-user.target.wants/netscope-agent.service
check "systemctl is-active netscope-collector" active
check "Type=notify" sh -c '[ "$(systemctl show -p Type --value netscope-collector)" = notify ]'
check "READY with its status text" sh -c 'systemctl show -p StatusText --value netscope-collector | grep -q "^listening on tcp://"'
u=$(id -u netscope)
check "runs as netscope (real, effective, saved, fs uid)" test "$(status Uid)" = "$u $u $u $u"
for cap in CapInh CapPrm CapEff CapBnd CapAmb; do
  check "no capability: $cap" test "$(status $cap)" = 0000000000000000
done
check "NoNewPrivs" test "$(status NoNewPrivs)" = 1
check "/api/v1/health answers" until_up
check "the dashboard at /" served / /usr/share/netscope/ui/index.html "text/html; charset=utf-8"
check "the decoder at /netscope_decode.wasm" served /netscope_decode.wasm /usr/share/netscope/ui/netscope_decode.wasm application/wasm
check "LMDB in the StateDirectory" sh -c '[ "$(readlink /var/lib/netscope)" = private/netscope ] && [ "$(stat -c %U /var/lib/private/netscope/db/data.mdb)" = netscope ]'
pid=$(main_pid)
check "systemctl reload" systemctl reload netscope-collector
check "reload re-read the keys (SIGHUP)" sh -c 'sleep 0.5; journalctl -u netscope-collector --no-pager | grep -q "SIGHUP: 0 allowed agent keys from /etc/netscope/agents"'
check "reload kept the process" same_pid "$pid"
check "list-agents reads the keys" sh -c 'netscope-collector --list-agents | grep -q "enrolled keys in /etc/netscope/agents: 0"'
sha256sum /etc/netscope/collector.key_secret >/tmp/key.sum
echo "# edited by the admin" >>/etc/netscope/agent.toml
echo state >/var/lib/netscope/marker
check "reinstall same version" apt-get install -y -q --reinstall "$d1"
check "reinstall restarted the collector" new_pid "$pid"
check "API answers after reinstall" until_up
pid=$(main_pid)
check "upgrade to -2" apt-get install -y -q "$d2"
check "installed version -2" sh -c 'dpkg-query -W -f "\${Version}" netscope | grep -q -- "-2$"'
check "upgrade restarted the collector" new_pid "$pid"
check "API answers after upgrade" until_up
check "edited conffile kept" grep -q "edited by the admin" /etc/netscope/agent.toml
check "key kept across upgrades" sha256sum -c /tmp/key.sum
check "state kept across upgrades" test -f /var/lib/netscope/marker
check "still enabled after upgrade" test -L /etc/systemd/system/multi-user.target.wants/netscope-collector.service
check "remove" apt-get remove -y -q netscope
check "collector stopped by remove" stopped
check "binaries gone after remove" test ! -e /usr/sbin/netscope-collector
check "dashboard gone after remove" test ! -e /usr/share/netscope
check "conffiles kept after remove" test -f /etc/netscope/collector.toml
check "state kept after remove" test -f /var/lib/netscope/db/data.mdb
check "purge" apt-get purge -y -q netscope
check "package gone" sh -c '! dpkg-query -W -f "\${Status}" netscope 2>/dev/null | grep -q installed'
check "state gone after purge" test ! -e /var/lib/netscope -a ! -e /var/lib/private/netscope
check "config gone after purge" test ! -e /etc/netscope
check "enablement gone after purge" test ! -e /etc/systemd/system/multi-user.target.wants/netscope-collector.service
check "nothing named netscope left (purge)" sh -c 'left=$(find / -xdev -iname "*netscope*" 2>/dev/null); [ -z "$left" ] || { echo "$left"; exit 1; }'
IN
chmod +x "$tmp/debs/inside.sh"
expected=$(( $(grep -c '^check ' "$tmp/debs/inside.sh") + 5 )) # + the loop over 5 capability sets
t0=$(date +%s)
"$docker" exec "$box" /debs/inside.sh >"$tmp/inside.out" 2>&1
while read -r verdict rest; do
  case $verdict in
    ok) ok ;;
    bad) bad "container: $rest" ;;
    *) echo "container: $verdict $rest" ;;
  esac
done <"$tmp/inside.out"
[[ $(grep -cE '^(ok|bad) ' "$tmp/inside.out") -eq $expected ]] && ok ||
  bad "the container ran $(grep -cE '^(ok|bad) ' "$tmp/inside.out") of $expected checks"
echo "container checks took $(( $(date +%s) - t0 )) s"

echo "package: $pass checks passed, $fail failed, $(( $(date +%s) - start )) s"
[[ $fail -eq 0 ]]
