#!/usr/bin/env bash
# `deploy/lab/lab.sh verify` on the namespace lab with the built collector and agents: one
# traffic round captured on h1, and the collector's flows and alerts must agree with tshark's
# reading of the capture, with `netscope flows` replaying it, and with the generators' counts.
# Then verify.py must catch a collector that is wrong: the same inputs with one flow missing, a
# packet count off by one, a conn_state changed and an alert added each give exit 1 and a line
# naming the difference.
# Needs root, ip netns, tshark, curl, python3 and the built binaries: otherwise skipped (77).
set -u
: "${NS_SRC:?}" "${NS_BUILD:?}"
lab_sh=$NS_SRC/deploy/lab/lab.sh
cli=${NS_BIN:-$NS_BUILD/cli/netscope}
agent_bin=$NS_BUILD/agent/netscope-agent
collector_bin=$NS_BUILD/collector/netscope-collector
[[ $(id -u) -eq 0 ]] || { echo "skip: needs root"; exit 77; }
for tool in ip tshark curl python3 tcpdump; do
  command -v "$tool" >/dev/null || { echo "skip: needs $tool"; exit 77; }
done
for bin in "$cli" "$agent_bin" "$collector_bin"; do
  [[ -x $bin ]] || { echo "skip: $bin is not built"; exit 77; }
done
probe=nsvprobe-$$
if ! ip netns add "$probe" 2>/dev/null; then echo "skip: ip netns unavailable"; exit 77; fi
ip netns del "$probe"

tmp=$(mktemp -d)
prefix=nsv$$
state=$tmp/lab
pass=0 fail=0
eq() {
  if [[ $2 == "$3" ]]; then pass=$((pass + 1)); else
    fail=$((fail + 1))
    echo "FAIL: $1: got '$2', want '$3'"
  fi
}
lab() {
  LAB_PREFIX=$prefix LAB_DIR=$state NS_CLI=$cli NS_COLLECTOR=$collector_bin NS_AGENT=$agent_bin \
    NS_COLLECTOR_ARGS="--db $tmp/db" bash "$lab_sh" "$@"
}
cleanup() {
  if [[ $fail -gt 0 ]]; then
    rm -rf "$NS_BUILD/test_lab_verify.failed"
    cp -r "$tmp" "$NS_BUILD/test_lab_verify.failed" 2>/dev/null
    echo "kept for inspection: $NS_BUILD/test_lab_verify.failed"
  fi
  lab down >/dev/null 2>&1
  rm -rf "$tmp"
}
trap cleanup EXIT

lab up >"$tmp/up.out" 2>&1
rc=$?
eq "lab up" "$rc" 0
if [[ $rc -ne 0 ]]; then
  cat "$tmp/up.out"
  exit 1
fi
lab verify >"$tmp/verify.out" 2>"$tmp/verify.err"
eq "lab.sh verify" "$?" 0
cat "$tmp/verify.out"
v=$state/verify
# 3 HTTP, 3 DNS, the ping flow and the refused connection of one round from h2.
eq "verify compared every connection of the round" \
  "$(grep -c . <(python3 -c 'import json,sys; [print(f["uid"]) for f in json.load(open(sys.argv[1]))["flows"] if f.get("id.resp_p") != 5556]' "$v/flows.json"))" 8
grep -q '^verify: 8 connections agree' "$tmp/verify.out"
eq "verify's summary names 8 connections" "$?" 0

# ---- verify.py catches what is wrong ----------------------------------------------------------
args=(--frames "$v/frames.tsv" --traffic "$v/traffic.json" --ignore-port 5556)
broken() { # broken NAME PYTHON-EDIT EXPECTED-PATTERN: edit flows.json (f) or alerts.json (a)
  python3 - "$v/flows.json" "$v/alerts.json" "$tmp/f.json" "$tmp/a.json" <<PY
import json, sys
f = json.load(open(sys.argv[1])); a = json.load(open(sys.argv[2]))
fl = [x for x in f["flows"] if x.get("id.resp_p") != 5556]
$2
json.dump(f, open(sys.argv[3], "w")); json.dump(a, open(sys.argv[4], "w"))
PY
  python3 "$NS_SRC/deploy/lab/verify.py" --flows "$tmp/f.json" --alerts "$tmp/a.json" "${args[@]}" >"$tmp/diff.txt"
  eq "verify.py: $1: exit status" "$?" 1
  grep -qE "$3" "$tmp/diff.txt"
  eq "verify.py: $1: the difference is named" "$?" 0
}
broken "a DNS flow missing" \
  'f["flows"].remove(next(x for x in fl if x.get("service") == "dns"))' \
  '^collector +udp .*:53 .* +flow +present \(in the capture\) +missing'
broken "a packet count off by one" \
  'next(x for x in fl if x.get("service") == "http")["resp_pkts"] += 1' \
  '^collector +tcp .*:80 .* +resp packets'
broken "a conn_state changed" \
  'next(x for x in fl if x.get("conn_state") == "REJ")["conn_state"] = "S0"' \
  '^collector +tcp .*:7999 .* +conn_state +REJ +S0'
broken "an alert" \
  'a["alerts"] = [{"detector": "port_scan", "subject": "x", "state": "active"}]' \
  '^collector +alert port_scan'
python3 "$NS_SRC/deploy/lab/verify.py" --flows "$v/flows.json" --alerts "$v/alerts.json" "${args[@]}" >/dev/null
eq "verify.py: the untouched inputs agree" "$?" 0

echo "$pass passed, $fail failed (${SECONDS} s)"
[[ $fail -eq 0 ]]
