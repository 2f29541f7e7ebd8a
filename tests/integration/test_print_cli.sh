#!/usr/bin/env bash
# `netscope print` command line: options, filters, -c, -w, and the error for each kind of
# bad input (exit status and a message naming the problem); --vxlan-port in print and flows.
set -u
: "${NS_BIN:?}" "${NS_PCAPS:?}"
pass=0 fail=0
ok()   { pass=$((pass + 1)); }
bad()  { fail=$((fail + 1)); echo "FAIL: $*"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cap="$NS_PCAPS/ndpi/443-curl.pcap"
[[ -f "$cap" ]] || { echo "skip: $cap not found (../shared/pcaps)"; exit 77; }

# expect_error STATUS PATTERN -- ARGS: the command fails with STATUS and stderr matches PATTERN
expect_error() {
  local want=$1 pattern=$2; shift 3
  "$NS_BIN" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  if [[ $rc -ne $want ]]; then bad "netscope $*: exit $rc, want $want ($(head -c 200 "$tmp/err"))"; return; fi
  if ! grep -qiE "$pattern" "$tmp/err"; then bad "netscope $*: stderr lacks /$pattern/: $(head -c 200 "$tmp/err")"; return; fi
  ok
}

expect_error 1 'cannot read .*No such file' -- print -r "$tmp/missing.pcap"
printf 'this is not a capture file\n' >"$tmp/text.txt"
expect_error 1 'not a pcap or pcapng' -- print -r "$tmp/text.txt"
touch "$tmp/unreadable.pcap"; chmod 000 "$tmp/unreadable.pcap"
if [[ $(id -u) -ne 0 ]]; then expect_error 1 'cannot read' -- print -r "$tmp/unreadable.pcap"; fi
expect_error 1 'bad filter' -- print -r "$cap" -f 'tcp port bogus'
expect_error 1 'bad filter' -- print -r "$cap" 'host' 'and'
expect_error 1 'no such interface|cannot (open|capture)|permission' -- print -i ns-no-such-if0 -c 1
expect_error 2 'positive count' -- print -r "$cap" -c 0
expect_error 2 'positive count' -- print -r "$cap" -c abc
expect_error 2 'not both' -- print -r "$cap" -i lo
expect_error 2 'unknown command' -- frobnicate

"$NS_BIN" --version | grep -qE '^netscope [0-9]+\.[0-9]+' && ok || bad "--version"
"$NS_BIN" print --help | grep -q -- '--json' && ok || bad "print --help"

# -c stops after COUNT packets; a filter selects; words after the options are a filter.
n=$("$NS_BIN" print -r "$cap" -c 5 | wc -l); [[ $n -eq 5 ]] && ok || bad "-c 5 printed $n lines"
all=$("$NS_BIN" print -r "$cap" | wc -l)
syn=$("$NS_BIN" print -r "$cap" -f 'tcp[tcpflags] & tcp-syn != 0' | wc -l)
words=$("$NS_BIN" print -r "$cap" 'tcp[tcpflags]' '&' 'tcp-syn' '!=' 0 | wc -l)
[[ $syn -eq 2 && $words -eq 2 && $all -gt $syn ]] && ok || bad "filter: all=$all syn=$syn words=$words"

# -w writes exactly what was read; reading it back prints the same lines.
"$NS_BIN" print -r "$cap" -w "$tmp/copy.pcap" 2>"$tmp/err" >/dev/null
if cmp -s <("$NS_BIN" print -r "$cap") <("$NS_BIN" print -r "$tmp/copy.pcap"); then ok; else bad "-w copy differs"; fi
grep -q "$all packets written" "$tmp/err" && ok || bad "-w summary: $(cat "$tmp/err")"

# --json: one valid JSON object per packet, numbered from 1.
"$NS_BIN" print --json -r "$cap" -c 3 >"$tmp/j"
if python3 - "$tmp/j" <<'PY'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
assert [o["frame.number"] for o in objs] == [1, 2, 3]
assert objs[0]["tcp.flags.syn"] is True and objs[0]["ip.src"] == "192.168.1.13"
PY
then ok; else bad "--json output"; fi

# Standard input.
n=$("$NS_BIN" print -r - <"$cap" | wc -l); [[ $n -eq $all ]] && ok || bad "stdin: $n lines, want $all"

# --vxlan-port: VXLAN on a port of the network's choosing (8472, Linux's old default), in
# print and flows; without it the same packet is plain UDP to 8472.
python3 - "$tmp/vx.pcap" <<'PY'
import struct, sys
def ip4(proto, src, dst, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0,
                    bytes(src), bytes(dst))
    s = sum(struct.unpack("!10H", h))
    s = (s & 0xffff) + (s >> 16)
    return h[:10] + struct.pack("!H", ~s & 0xffff) + h[12:] + payload
def udp(sport, dport, payload):
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
macs = bytes([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1])
inner = macs + b"\x08\x00" + ip4(17, [192, 0, 2, 1], [198, 51, 100, 2], udp(1234, 5678, b"ping"))
vx = struct.pack("!II", 0x08000000, 77 << 8) + inner
frame = macs + b"\x08\x00" + ip4(17, [10, 0, 0, 1], [10, 0, 0, 2], udp(49152, 8472, vx))
with open(sys.argv[1], "wb") as f:
    f.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
    f.write(struct.pack("<IIII", 1700000000, 0, len(frame), len(frame)) + frame)
PY
"$NS_BIN" print -r "$tmp/vx.pcap" | grep -q '192.0.2.1' && bad "VXLAN decoded on 8472 without --vxlan-port" || ok
"$NS_BIN" print -r "$tmp/vx.pcap" --vxlan-port 8472 | grep -q '192.0.2.1.1234 > 198.51.100.2.5678' &&
  ok || bad "print --vxlan-port 8472: $("$NS_BIN" print -r "$tmp/vx.pcap" --vxlan-port 8472)"
"$NS_BIN" flows -r "$tmp/vx.pcap" --vxlan-port 8472 --seed 1 2>/dev/null >"$tmp/vx.json"
if python3 - "$tmp/vx.json" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
carrier = [r for r in recs if r["id.resp_p"] == 8472]
inner = [r for r in recs if r["id.resp_p"] == 5678]
assert len(recs) == 2 and carrier and inner, recs
assert inner[0]["tunnel_parents"] == [carrier[0]["uid"]], recs
PY
then ok; else bad "flows --vxlan-port 8472: $(cat "$tmp/vx.json")"; fi
expect_error 2 'UDP port 1..65535' -- print -r "$cap" --vxlan-port 0
expect_error 2 'UDP port 1..65535' -- flows -r "$cap" --geneve-port 70000

echo "$pass passed, $fail failed"
[[ $fail -eq 0 ]]
