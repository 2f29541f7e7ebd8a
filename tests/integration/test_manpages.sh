#!/usr/bin/env bash
# The man pages (docs/man): groff renders each without a warning (-ww), and they cover every
# long option each binary's --help lists (netscope and each of its commands, the agent, the
# collector) and every configuration key the agent and the collector print.
set -u
: "${NS_BIN:?}" "${NS_BUILD:?}" "${NS_SRC:?}"
command -v groff >/dev/null || { echo "skip: groff not found"; exit 77; }
pass=0 fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
man_dir=$NS_SRC/docs/man
agent=$NS_BUILD/agent/netscope-agent
collector=$NS_BUILD/collector/netscope-collector

for page in netscope.1 netscope-agent.8 netscope-collector.8; do
  if [[ ! -f $man_dir/$page ]]; then bad "$page missing"; continue; fi
  if groff -man -ww -z "$man_dir/$page" 2>"$tmp/warn" && [[ ! -s $tmp/warn ]]; then ok
  else bad "$page: groff: $(head -c 300 "$tmp/warn")"; fi
  if command -v man >/dev/null; then
    # man -l formats through the same groff; nothing may go to stderr
    if MANWIDTH=80 man -l "$man_dir/$page" >"$tmp/out" 2>"$tmp/warn" && [[ ! -s $tmp/warn ]] &&
       [[ $(wc -l <"$tmp/out") -gt 20 ]]; then ok
    else bad "$page: man -l: $(head -c 300 "$tmp/warn")"; fi
  fi
  # the page's text with roff escapes removed: \- is -, fonts and \& go
  sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\&//g' "$man_dir/$page" >"$tmp/${page}.txt"
done

# covers PAGE HELP-FILE: every --long option and SECTION.KEY of the help text is in PAGE
covers() {
  local page=$1 help=$2 what=$3 n=0 w
  for w in $(grep -oE -- '--[a-z][a-z0-9-]+' "$help" | sort -u); do
    n=$((n + 1))
    if grep -qE -- "(^|[^a-z-])${w}([^a-z0-9-]|$)" "$tmp/${page}.txt"; then ok
    else bad "$page lacks $what option $w"; fi
  done
  for w in $(sed -n '/^Configuration keys/,$p' "$help" | awk '/^  [a-z]/ {print $1}'); do
    n=$((n + 1))
    if grep -qxF ".B $w" "$tmp/${page}.txt"; then ok
    else bad "$page lacks $what key $w"; fi
  done
  [[ $n -gt 0 ]] || bad "$what --help listed nothing"
}

"$NS_BIN" --help >"$tmp/h" 2>&1; covers netscope.1 "$tmp/h" netscope
for cmd in print flows keygen check-config history; do
  "$NS_BIN" "$cmd" --help >"$tmp/h" 2>&1; covers netscope.1 "$tmp/h" "netscope $cmd"
  grep -q "^\.SS $cmd\$" "$tmp/netscope.1.txt" && ok || bad "netscope.1 has no section for $cmd"
done
"$agent" --help >"$tmp/h" 2>&1; covers netscope-agent.8 "$tmp/h" netscope-agent
"$collector" --help >"$tmp/h" 2>&1; covers netscope-collector.8 "$tmp/h" netscope-collector
# the keys lists are long: a page that lost most of them fails here even if --help shrank too
[[ $(grep -c '^\.B [a-z_]*\.[a-z_.]*$' "$tmp/netscope-collector.8.txt") -ge 70 ]] && ok ||
  bad "netscope-collector.8 lists fewer than 70 keys"

echo "man pages: $pass checks passed, $fail failed"
[[ $fail -eq 0 ]]
