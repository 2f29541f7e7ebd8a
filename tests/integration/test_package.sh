#!/usr/bin/env bash
# The Debian package (deploy/CMakeLists.txt, CPack): a Release build for /usr in
# $NS_BUILD/pkg, `cpack -G DEB` twice (revision 1 and 2), lintian without errors, then in a
# Debian 12 chroot (debootstrap --variant=minbase once, cached in $NS_BUILD/deb12-base; each
# run works on a fresh copy, in a mount namespace of its own):
#   apt-get install ./netscope_*-1.deb resolves the dependencies from the mirror apt uses;
#   the dashboard is in /usr/share/netscope/ui, the collector's default --ui-dir;
#   the netscope user exists, the collector's key pair is made, the collector is enabled (the
#   agent is not), the installed binaries run, the configs are valid;
#   reinstalling the same version and upgrading to -2 keep an edited conffile and the key;
#   remove keeps configuration and state; purge removes both (and the unit's enablement).
# Root only (chroot, mounts). It takes minutes: not in the asan stage (scripts/test.sh).
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root (chroot)"; exit 77; }
for t in cpack lintian debootstrap dpkg-deb unshare chroot; do
  command -v "$t" >/dev/null || { echo "skip: $t not found"; exit 77; }
done
[[ ${NS_SANITIZED:-0} == 1 ]] && { echo "skip: the package is checked in the ci build"; exit 77; }
start=$(date +%s)
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

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
for lib in libpcap0.8 libzmq5 liblmdb0 libmicrohttpd12 libwebsockets17 libjansson4 adduser; do
  [[ $depends == *"$lib"* ]] && ok || bad "Depends lacks $lib: $depends"
done
dpkg-deb -I "$deb1" conffiles | grep -qx /etc/netscope/agent.toml && ok || bad "agent.toml is not a conffile"

# ---- lintian: no errors (warnings are printed)
lintian --fail-on error --tag-display-limit 0 "$deb1" >"$tmp/lintian" 2>&1; rc=$?
sed 's/^/lintian: /' "$tmp/lintian"
[[ $rc -eq 0 ]] && ok || bad "lintian reports errors"
grep -q '^E:' "$tmp/lintian" && bad "lintian E: tags" || ok

# ---- the chroot
base=$NS_BUILD/deb12-base
mirror=$(grep -rhoE 'https?://[^ ]*debian[^ ]*' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
  grep -vE 'security|snapshot' | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
if [[ ! -x $base/usr/bin/apt-get ]]; then
  rm -rf "$base.tmp"
  echo "debootstrap bookworm from $mirror into $base (once)"
  if ! debootstrap --variant=minbase bookworm "$base.tmp" "$mirror" >"$tmp/dbs.log" 2>&1; then
    echo "FAIL: debootstrap: $(tail -5 "$tmp/dbs.log")"; rm -rf "$base.tmp"; exit 1
  fi
  mv "$base.tmp" "$base"
fi
root=$tmp/root
cp -a "$base" "$root"
mkdir -p "$NS_BUILD/deb12-apt-archives/partial" "$root/var/cache/apt/archives"
cp "$deb1" "$deb2" "$root/tmp/"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null
echo "deb $mirror bookworm main" >"$root/etc/apt/sources.list"

# inside.sh runs in the chroot: one line "ok NAME" or "bad NAME: why" per check
cat >"$root/tmp/inside.sh" <<'IN'
#!/bin/sh
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
d1=$(ls /tmp/netscope_*-1_*.deb) d2=$(ls /tmp/netscope_*-2_*.deb)
check() { name=$1; shift; if "$@" >/tmp/check.out 2>&1; then echo "ok $name"; else echo "bad $name: $(head -c 300 /tmp/check.out | tr '\n' ' ')"; fi; }
apt-get update -q >/tmp/apt.log 2>&1 || { echo "bad apt-get update: $(tail -3 /tmp/apt.log)"; exit 0; }
check "install resolves dependencies" apt-get install -y -q "$d1"
check "installed version -1" sh -c 'dpkg-query -W -f "\${Version}" netscope | grep -q -- "-1$"'
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
check "list-agents reads the keys" sh -c 'netscope-collector --list-agents | grep -q "enrolled keys in /etc/netscope/agents: 0"'
sha256sum /etc/netscope/collector.key_secret >/tmp/key.sum
echo "# edited by the admin" >>/etc/netscope/agent.toml
mkdir -p /var/lib/netscope/db && echo state >/var/lib/netscope/db/data.mdb
check "reinstall same version" apt-get install -y -q --reinstall "$d1"
check "upgrade to -2" apt-get install -y -q "$d2"
check "installed version -2" sh -c 'dpkg-query -W -f "\${Version}" netscope | grep -q -- "-2$"'
check "edited conffile kept" grep -q "edited by the admin" /etc/netscope/agent.toml
check "key kept across upgrades" sha256sum -c /tmp/key.sum
check "still enabled after upgrade" test -L /etc/systemd/system/multi-user.target.wants/netscope-collector.service
check "remove" apt-get remove -y -q netscope
check "binaries gone after remove" test ! -e /usr/sbin/netscope-collector
check "dashboard gone after remove" test ! -e /usr/share/netscope
check "conffiles kept after remove" test -f /etc/netscope/collector.toml
check "state kept after remove" test -f /var/lib/netscope/db/data.mdb
check "purge" apt-get purge -y -q netscope
check "package gone" sh -c '! dpkg-query -W -f "\${Status}" netscope 2>/dev/null | grep -q installed'
check "state gone after purge" test ! -e /var/lib/netscope
check "config gone after purge" test ! -e /etc/netscope
check "enablement gone after purge" test ! -e /etc/systemd/system/multi-user.target.wants/netscope-collector.service
IN
chmod +x "$root/tmp/inside.sh"
expected=$(grep -c '^check ' "$root/tmp/inside.sh")
t0=$(date +%s)
unshare --mount --propagation private bash -c '
  mount --bind "$1" "$2/var/cache/apt/archives" && mount -t proc proc "$2/proc" &&
  chroot "$2" /tmp/inside.sh' _ "$NS_BUILD/deb12-apt-archives" "$root" >"$tmp/inside.out" 2>&1
while read -r verdict rest; do
  case $verdict in
    ok) ok ;;
    bad) bad "chroot: $rest" ;;
    *) echo "chroot: $verdict $rest" ;;
  esac
done <"$tmp/inside.out"
[[ $(grep -cE '^(ok|bad) ' "$tmp/inside.out") -eq $expected ]] && ok ||
  bad "the chroot ran $(grep -cE '^(ok|bad) ' "$tmp/inside.out") of $expected checks"
echo "chroot checks took $(( $(date +%s) - t0 )) s"
rm -rf "$root"

echo "package: $pass checks passed, $fail failed, $(( $(date +%s) - start )) s"
[[ $fail -eq 0 ]]
