#!/usr/bin/env bash
# `cmake --install` into a DESTDIR: the tree (binaries in bin/sbin, configs in /etc/netscope,
# units, man pages, the dashboard when the build has one), the installed binaries run
# (--version, check-config on the installed configs), and the installed configs name every
# key the daemons' --help lists (set or commented out).
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
command -v python3 >/dev/null || { echo "skip: python3 not found"; exit 77; }
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1

# the prefix the build was configured with: the units and the collector's dashboard path
# are written for it (cmake --install --prefix X would not change them)
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$NS_BUILD/CMakeCache.txt")
[[ -n $prefix ]] || { echo "FAIL: no CMAKE_INSTALL_PREFIX in $NS_BUILD/CMakeCache.txt"; exit 1; }
dest=$tmp/dest
# /etc/netscope is absolute: with DESTDIR it lands in the DESTDIR tree, not on this host
if ! DESTDIR=$dest cmake --install "$NS_BUILD" >"$tmp/log" 2>&1; then
  echo "FAIL: cmake --install: $(tail -5 "$tmp/log")"; exit 1
fi
r=$dest$prefix
for f in bin/netscope sbin/netscope-agent sbin/netscope-collector; do
  [[ -x $r/$f ]] && ok || bad "$f not installed"
done
for f in lib/systemd/system/netscope-agent.service lib/systemd/system/netscope-collector.service \
         share/man/man1/netscope.1.gz share/man/man8/netscope-agent.8.gz \
         share/man/man8/netscope-collector.8.gz share/doc/netscope/copyright \
         share/doc/netscope/changelog.Debian.gz; do
  [[ -f $r/$f ]] && ok || bad "$f not installed"
done
for f in agent.toml collector.toml; do
  [[ -f $dest/etc/netscope/$f ]] && ok || bad "/etc/netscope/$f not installed"
done
if [[ -d $NS_BUILD/ui ]]; then
  [[ -f $r/share/netscope/ui/index.html ]] && ok || bad "the dashboard is not in share/netscope/ui"
fi
# nothing else: every installed file is one of the above or under share/netscope/ui
extra=$(cd "$dest" && find . -type f | grep -vE 'netscope(-agent|-collector)?(\.[18]\.gz|\.service)?$|/etc/netscope/(agent|collector)\.toml$|/share/netscope/ui/|/share/doc/netscope/(copyright|changelog\.Debian\.gz)$' || true)
[[ -z $extra ]] && ok || bad "unexpected files installed: $extra"
# the units start the installed binaries
grep -qx "ExecStart=$prefix/sbin/netscope-agent --config /etc/netscope/agent.toml" \
  "$r/lib/systemd/system/netscope-agent.service" && ok || bad "agent unit ExecStart"
grep -qx "ExecStart=$prefix/sbin/netscope-collector --config /etc/netscope/collector.toml" \
  "$r/lib/systemd/system/netscope-collector.service" && ok || bad "collector unit ExecStart"

# the installed man pages are the source's, compressed
for p in man1/netscope.1 man8/netscope-agent.8 man8/netscope-collector.8; do
  gzip -dc "$r/share/man/$p.gz" | cmp -s - "$NS_SRC/docs/man/${p#*/}" && ok || bad "$p.gz differs"
done

# the installed binaries run
for b in bin/netscope sbin/netscope-agent sbin/netscope-collector; do
  out=$("$r/$b" --version 2>&1)
  [[ $out =~ ^$(basename "$b")\ [0-9]+\.[0-9]+\.[0-9]+$ ]] && ok || bad "$b --version: $out"
done
"$r/bin/netscope" check-config --agent "$dest/etc/netscope/agent.toml" >"$tmp/out" 2>&1 && ok ||
  bad "installed agent.toml: $(cat "$tmp/out")"
"$r/bin/netscope" check-config --collector "$dest/etc/netscope/collector.toml" >"$tmp/out" 2>&1 &&
  ok || bad "installed collector.toml: $(cat "$tmp/out")"
# the collector's built-in dashboard path is share/netscope/ui of its install prefix
"$r/sbin/netscope-collector" --help | grep -qF "$prefix/share/netscope/ui" && ok ||
  bad "the collector's --ui-dir default is not under $prefix"

# every key of --help is in the installed file (a line "key =" or "# key =" in its section)
keys_in_toml() {
  python3 - "$1" "$2" <<'PY'
import re, sys
keys, on = [], False
for line in open(sys.argv[1]):
    if line.startswith("Configuration keys"):
        on = True
        continue
    m = re.match(r"^  ([a-z_0-9.]+)\s", line)
    if on and m:
        keys.append(m.group(1))
found, sec = set(), ""
for line in open(sys.argv[2]):
    m = re.match(r"^#?\s*\[([a-z_0-9.]+)\]", line)
    if m:
        sec = m.group(1)
        continue
    m = re.match(r"^#?\s*([a-z_0-9]+)\s*=", line)
    if m:
        found.add(sec + "." + m.group(1))
missing = [k for k in keys if k not in found]
print("%d keys, missing: %s" % (len(keys), " ".join(missing) or "none"))
sys.exit(1 if missing or len(keys) < 20 else 0)
PY
}
"$r/sbin/netscope-agent" --help >"$tmp/h" 2>&1
keys_in_toml "$tmp/h" "$dest/etc/netscope/agent.toml" >"$tmp/out" && ok || bad "agent.toml: $(cat "$tmp/out")"
"$r/sbin/netscope-collector" --help >"$tmp/h" 2>&1
keys_in_toml "$tmp/h" "$dest/etc/netscope/collector.toml" >"$tmp/out" && ok ||
  bad "collector.toml: $(cat "$tmp/out")"

echo "install: $pass checks passed, $fail failed"
[[ $fail -eq 0 ]]
