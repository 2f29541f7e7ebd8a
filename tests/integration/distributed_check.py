#!/usr/bin/python3
"""Helpers of test_distributed.sh: traffic, and readings of what the collector wrote.

    distributed_check.py send-udp ADDR COUNT RATE
    distributed_check.py capture-match FLOWS AGENT PCAP
    distributed_check.py traffic FLOWS TRAFFIC_JSON AGENT[,AGENT...]
    distributed_check.py merged STATE FLOWS SERVER_AGENT CLIENT_AGENT[,CLIENT_AGENT...]
    distributed_check.py live STATE AGENT HOST
    distributed_check.py rest STATE REST_FLOWS_JSON
    distributed_check.py stored REST_FLOWS_JSON FLOWS AGENT
    distributed_check.py count FLOWS... --agent ID [--end-reason R] [--src HOST]
    distributed_check.py dup-uids FLOWS... --agent ID
    distributed_check.py agents FLOWS... [--state STATE]
    distributed_check.py get JSON_FILE PATH
    distributed_check.py summary AGENT_LOG

Each reading prints plain values (one per line, or "NAME GOT WANT" triples) for the shell
script to compare with its own expectations; mismatches found inside a reading are printed as
"FAIL ..." lines, one per connection, so a failure names the connection.

A connection of a capture is what a flow is: TCP or UDP packets between two address:port
pairs in either direction, or ICMP packets between two addresses (the lab's pings: one echo
flow per client and capture window). The collector's own port (5556) is left out of both
sides: an agent's connection to the collector is still live while its records travel on it.
"""
import collections
import json
import re
import socket
import subprocess
import sys
import time

COLLECTOR_PORT = 5556
PROTO_NUM = {"icmp": 1, "tcp": 6, "udp": 17}
FIRST_PORT, LAST_PORT = 10000, 59999  # send-udp: destination ports of one socket
SUMMARY = re.compile(r"final records: (\d+) produced, (\d+) acknowledged by the collector, "
                     r"(\d+) dropped( \(the rest was not acknowledged in time\))?")


def records(paths, agent=None, finals_only=True):
    """Every JSON line of the flows files, in order; finals only unless told otherwise."""
    out = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                if not line.strip():
                    continue
                r = json.loads(line)
                if finals_only and r.get("record") == "update":
                    continue
                if agent is None or r.get("agent") == agent:
                    out.append(r)
    return out


def conn_key(proto, a, pa, b, pb):
    """Direction-free key of a connection: ports do not name an ICMP flow."""
    if proto == 1:
        return (proto, frozenset([(a, None), (b, None)]))
    return (proto, frozenset([(a, pa), (b, pb)]))


def rec_ends(r):
    """(protocol number, originator endpoint, responder endpoint) of a flow record."""
    proto = PROTO_NUM.get(r["proto"], -1)
    if proto == 1:
        return proto, (r["id.orig_h"], None), (r["id.resp_h"], None)
    return proto, (r["id.orig_h"], r["id.orig_p"]), (r["id.resp_h"], r["id.resp_p"])


def kernel_multicast(addr):
    """A link-local multicast group (224.0.0.0/24, ff02::/16): the kernel's own IGMP/MLD
    reports and the like, sent when a lab interface comes up, before or after the test's
    captures start; no generator makes them, so no count is checked on them."""
    return addr.startswith("224.0.0.") or addr.lower().startswith("ff02:")


def not_lab_traffic(r):
    """Not lab traffic: the agents' own export, or the kernel's link-local multicast."""
    return (COLLECTOR_PORT in (r.get("id.orig_p"), r.get("id.resp_p"))
            or kernel_multicast(r.get("id.resp_h", "")))


# ---- commands ----------------------------------------------------------------------------

def cmd_send_udp(addr, count, rate):
    """COUNT datagrams at RATE per second, each to a port of its own: COUNT UDP flows.

    One socket covers ports FIRST_PORT..LAST_PORT; past that a new socket (a new source port)
    starts again, so every (source port, destination port) pair is new. The sockets stay open
    to the end, so the kernel cannot hand a closed one's port to the next."""
    count, rate = int(count), float(rate)
    span = LAST_PORT - FIRST_PORT + 1
    socks = []
    start = time.monotonic()
    for i in range(count):
        if i % span == 0:
            socks.append(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
        socks[-1].sendto(b"netscope lab", (addr, FIRST_PORT + i % span))
        ahead = start + (i + 1) / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
    for s in socks:
        s.close()
    print(count)


def capture_conns(pcap):
    """Connections of a capture: key -> {source endpoint: packets}."""
    out = subprocess.run(
        ["tshark", "-n", "-r", pcap, "-T", "fields", "-E", "occurrence=f", "-e", "ip.src",
         "-e", "ip.dst", "-e", "ip.proto", "-e", "tcp.srcport", "-e", "tcp.dstport",
         "-e", "udp.srcport", "-e", "udp.dstport"],
        check=True, capture_output=True, text=True).stdout
    conns = collections.defaultdict(collections.Counter)
    for line in out.splitlines():
        src, dst, proto, tsp, tdp, usp, udp_ = (line.split("\t") + [""] * 7)[:7]
        if not src or not proto:
            continue  # ARP
        proto = int(proto)
        if proto == 6:
            sp, dp = int(tsp), int(tdp)
        elif proto == 17:
            sp, dp = int(usp), int(udp_)
        else:
            sp = dp = None
        if COLLECTOR_PORT in (sp, dp) or kernel_multicast(dst):
            continue
        key = conn_key(proto, src, sp, dst, dp)
        conns[key][(src, None if proto == 1 else sp)] += 1
    return conns


def cmd_capture_match(flows, agent, pcap):
    """Every connection of the capture has exactly one final record from AGENT and every
    record a connection, with per-direction packets equal. Prints the connections matched."""
    conns = capture_conns(pcap)
    seen = set()
    matched = 0
    for r in records([flows], agent):
        if not_lab_traffic(r):
            continue
        proto, orig, resp = rec_ends(r)
        key = conn_key(proto, orig[0], orig[1], resp[0], resp[1])
        name = f"{r['proto']} {orig[0]}:{orig[1]} -> {resp[0]}:{resp[1]} ({agent}, uid {r['uid']})"
        if key in seen:
            print(f"FAIL {name}: a second record for this connection")
            continue
        seen.add(key)
        if key not in conns:
            print(f"FAIL {name}: not in the capture")
            continue
        got = (r["orig_pkts"], r["resp_pkts"])
        want = (conns[key][orig], conns[key][resp])
        if got != want:
            print(f"FAIL {name}: packets {got[0]}/{got[1]}, the capture has {want[0]}/{want[1]}")
            continue
        matched += 1
    for key in conns:
        if key not in seen:
            ends = " ".join(f"{h}:{p}" for h, p in sorted(key[1], key=str))
            print(f"FAIL proto {key[0]} {ends}: in the capture, no record from {agent}")
    print(matched)


def cmd_traffic(flows, traffic_json, agents):
    """What `lab.sh traffic` reported, counted again in the final records of AGENTS (together):
    prints "NAME GOT WANT" per count."""
    with open(traffic_json, encoding="utf-8") as f:
        t = json.load(f)
    server = t["server_addr"]
    recs = [r for a in agents.split(",") for r in records([flows], a)]
    to_server = [r for r in recs if r["id.resp_h"] == server]
    http = [r for r in to_server if r["proto"] == "tcp" and r["id.resp_p"] == t["http_port"]]
    dns = [r for r in to_server if r["proto"] == "udp" and r["id.resp_p"] == t["dns_port"]]
    icmp = [r for r in to_server if r["proto"] == "icmp"]
    rej = [r for r in to_server if r["proto"] == "tcp" and r["id.resp_p"] == t["closed_port"]]
    codes = collections.Counter(h.get("status_code") for r in http for h in r.get("http", []))
    dtx = [d for r in dns for d in r.get("dns", [])]
    rows = [
        ("http_requests", len(http), t["http_requests"]),
        ("http_requests_complete", sum(r["conn_state"] == "SF" for r in http), t["http_requests"]),
        ("http_200", codes[200], t["http_200"]),
        ("http_404", codes[404], t["http_404"]),
        ("dns_queries", len(dns), t["dns_queries"]),
        ("dns_answers", sum(d.get("rcode") == 0 and len(d.get("answers", [])) > 0 for d in dtx),
         t["dns_answers"]),
        ("dns_nxdomain", sum(d.get("rcode") == 3 for d in dtx), t["dns_nxdomain"]),
        ("pings", sum(r["orig_pkts"] for r in icmp), t["pings"]),
        ("ping_replies", sum(r["resp_pkts"] for r in icmp), t["ping_replies"]),
        ("rejected", sum(r["conn_state"] == "REJ" for r in rej), t["rejected"]),
    ]
    for name, got, want in rows:
        print(name, got, want)


def load_state(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def cmd_merged(state, flows, server, clients):
    """Each connection between the server's agent and a client's agent (from their final
    records) must be one flow of the live view, observed by exactly those two agents, with
    loss 0 in both directions. Prints the connections checked."""
    view = collections.defaultdict(list)
    for f in load_state(state)["flows"]:
        proto = PROTO_NUM.get(f["proto"], -1)
        view[conn_key(proto, f["id.orig_h"], f["id.orig_p"], f["id.resp_h"],
                      f["id.resp_p"])].append(f)
    checked = 0
    for client in clients.split(","):
        wanted = sorted([server, client])
        keys = {}
        for r in records([flows], client):
            if not_lab_traffic(r):
                continue
            proto, orig, resp = rec_ends(r)
            keys[conn_key(proto, orig[0], orig[1], resp[0], resp[1])] = r
        for key, r in keys.items():
            name = f"{r['proto']} {r['id.orig_h']}:{r['id.orig_p']} -> {r['id.resp_h']}:{r['id.resp_p']}"
            found = view.get(key, [])
            if len(found) != 1:
                print(f"FAIL {name}: {len(found)} flows in the live view, want 1")
                continue
            f = found[0]
            agents = sorted(o["agent"] for o in f["observations"])
            if agents != wanted:
                print(f"FAIL {name}: observed by {agents}, want {wanted}")
                continue
            loss = [l if l is None else (l["pkts"], l["ip_bytes"]) for l in f["loss"]]
            if loss != [(0, 0), (0, 0)]:
                print(f"FAIL {name}: loss {f['loss']}, want 0 packets and 0 bytes each way")
                continue
            checked += 1
    print(checked)


def cmd_rest(state, rest):
    """The finished flows of the live view (a state dump) against the live flows the REST API
    listed (GET /api/v1/flows?live=only): the same connections, each once, with the same
    packets and wire bytes each way and the same number of observers. Prints the flows
    checked."""
    view = {}
    for f in load_state(state)["flows"]:
        if f["state"] != "final" or not_lab_traffic(f):
            continue
        proto = PROTO_NUM.get(f["proto"], -1)
        view[conn_key(proto, f["id.orig_h"], f["id.orig_p"], f["id.resp_h"], f["id.resp_p"])] = f
    listed = collections.defaultdict(list)
    for r in load_state(rest)["flows"]:
        if r.get("source") != "live" or not_lab_traffic(r):
            continue
        proto, orig, resp = rec_ends(r)
        listed[conn_key(proto, orig[0], orig[1], resp[0], resp[1])].append(r)
    checked = 0
    for key, f in view.items():
        name = f"{f['proto']} {f['id.orig_h']}:{f['id.orig_p']} -> {f['id.resp_h']}:{f['id.resp_p']}"
        got = listed.get(key, [])
        if len(got) != 1:
            print(f"FAIL {name}: listed {len(got)} times by the API, want once")
            continue
        r = got[0]
        want = (list(f["pkts"]), list(f["wire_bytes"]), len(f["observations"]))
        have = ([r.get("orig_pkts", 0), r.get("resp_pkts", 0)],
                [r.get("orig_wire_bytes", 0), r.get("resp_wire_bytes", 0)], r.get("observers", 1))
        if have != want:
            print(f"FAIL {name}: API packets/bytes/observers {have}, live view {want}")
            continue
        checked += 1
    print(checked)


def cmd_stored(rest, flows, agent):
    """Every final record of AGENT in FLOWS is in the REST answer (from history, same packets).
    Prints the records found."""
    listed = {r["uid"]: r for r in load_state(rest)["flows"] if r.get("source") == "history"}
    found = 0
    for r in records([flows], agent):
        if r.get("record", "final") != "final" or not_lab_traffic(r):
            continue
        got = listed.get(r["uid"])
        if got is None:
            print(f"FAIL {r['uid']} ({r['proto']} {r['id.orig_h']} -> {r['id.resp_h']}): not in history")
        elif (got["orig_pkts"], got["resp_pkts"]) != (r["orig_pkts"], r["resp_pkts"]):
            print(f"FAIL {r['uid']}: history packets differ from the record")
        else:
            found += 1
    print(found)


def cmd_live(state, agent, host):
    """Flows of the live view that AGENT observes, not yet final, with HOST at one end."""
    n = 0
    for f in load_state(state)["flows"]:
        if host not in (f["id.orig_h"], f["id.resp_h"]):
            continue
        n += any(o["agent"] == agent and not o["final"] for o in f["observations"])
    print(n)


def split_opts(args, names):
    """Positional arguments, and the values of the options `names` (--agent ID ...)."""
    pos, opts = [], {}
    it = iter(args)
    for a in it:
        if a in names:
            opts[a] = next(it)
        else:
            pos.append(a)
    return pos, opts


def cmd_count(args):
    paths, o = split_opts(args, ("--agent", "--end-reason", "--src"))
    reason, src = o.get("--end-reason"), o.get("--src")
    n = sum(1 for r in records(paths, o.get("--agent"))
            if (reason is None or r.get("end_reason") == reason)
            and (src is None or r["id.orig_h"] == src))
    print(n)


def cmd_dup_uids(args):
    """How many uids of AGENT's final records appear more than once in the files."""
    paths, o = split_opts(args, ("--agent",))
    uids = collections.Counter(r["uid"] for r in records(paths, o["--agent"]))
    print(sum(1 for n in uids.values() if n > 1))


def cmd_agents(args):
    """Agent ids named anywhere: in the records (finals and updates) and, with --state, the
    live view's agents and observations. One per line, sorted."""
    paths, o = split_opts(args, ("--state",))
    names = set()
    if "--state" in o:
        s = load_state(o["--state"])
        names.update(a["id"] for a in s["agents"])
        names.update(ob["agent"] for f in s["flows"] for ob in f["observations"])
    names.update(r.get("agent") for r in records(paths, finals_only=False))
    for n in sorted(names):
        print(n)


def cmd_get(state, path):
    """A value of a JSON document (state, traffic counts) by a dotted path; agents by id
    (agents.h3.connected)."""
    v = load_state(state)
    parts = path.split(".")
    while parts:
        p = parts.pop(0)
        if isinstance(v, list):
            v = next((a for a in v if a.get("id") == p), None)
        else:
            v = v.get(p) if isinstance(v, dict) else None
        if v is None:
            break
    print(json.dumps(v))


def cmd_summary(log):
    """The agent's last summary line: produced acknowledged dropped drained(0/1), or "none"."""
    last = None
    with open(log, encoding="utf-8", errors="replace") as f:
        for line in f:
            last = SUMMARY.search(line) or last
    if last is None:
        print("none")
        return
    print(" ".join(last.groups()[:3]), 0 if last.group(4) else 1)


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[1], argv[2:]
    table = {
        "send-udp": lambda: cmd_send_udp(*args),
        "capture-match": lambda: cmd_capture_match(*args),
        "traffic": lambda: cmd_traffic(*args),
        "merged": lambda: cmd_merged(*args),
        "live": lambda: cmd_live(*args),
        "rest": lambda: cmd_rest(*args),
        "stored": lambda: cmd_stored(*args),
        "count": lambda: cmd_count(args),
        "dup-uids": lambda: cmd_dup_uids(args),
        "agents": lambda: cmd_agents(args),
        "get": lambda: cmd_get(*args),
        "summary": lambda: cmd_summary(*args),
    }
    if cmd not in table:
        print(f"unknown command {cmd}\n{__doc__}", file=sys.stderr)
        return 2
    table[cmd]()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
