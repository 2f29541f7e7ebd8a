#!/usr/bin/env python3
"""verify.py - does the collector report what happened on the wire and what the generators did?

    verify.py --flows API_FLOWS.json --frames TSHARK.tsv --traffic TRAFFIC.json
              --alerts API_ALERTS.json [--replay FLOWS.jsonl] [--since UNIX-TIME]
              [--host ADDR ...] [--ignore-port N ...]
    verify.py --capture-replay --flows API_FLOWS.json --frames TSHARK.tsv --replay FLOWS.jsonl

--frames is `tshark -T fields -E separator=/t` with the fields of FIELDS below, from a capture
of the interface(s) of the host(s) named by --host (default: the traffic's server_addr); --traffic is `lab.sh traffic`'s JSON; --flows and --alerts are the
collector's GET /api/v1/flows and /api/v1/alerts answers for the same time span; --replay,
`netscope flows -r` over the same capture. Each connection of the capture (IPv4: TCP, UDP,
ICMP; ports in --ignore-port, such as the agents' own link to the collector, left out) must be
one flow in the collector with the capture's packets and frame bytes per direction and the
conn_state its packets imply; the numbers of flows per kind must be what the generators say
they did; no alert may have been raised. Prints a table of differences; exits 1 when there is
any, 0 when everything agrees.

--capture-replay: the flows of a bundled capture that an agent replayed (the collector's flows
of that agent alone, as --flows) and `netscope flows -r` of the same files (--replay), each
against tshark's reading of them (--frames): every connection, nothing else, no generators.
"""
import argparse
import json
import sys

FIELDS = ["frame.len", "ip.src", "ip.dst", "ip.proto", "tcp.srcport", "tcp.dstport",
          "udp.srcport", "udp.dstport", "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset",
          "tcp.flags.fin", "icmp.type"]
PROTO = {"6": "tcp", "17": "udp", "1": "icmp"}


def conn_key(proto, a, ap, b, bp):
    """The same key for both directions of a connection."""
    return (proto,) + tuple(sorted([(a, ap), (b, bp)]))


def read_frames(path, ignore):
    """Connections of the capture: originator, packets/bytes per direction, TCP flags."""
    conns = {}
    for line in open(path):
        v = dict(zip(FIELDS, line.rstrip("\n").split("\t")))
        proto = PROTO.get(v.get("ip.proto", ""))
        if proto is None or "," in v["ip.proto"]:  # not IPv4 or tunnelled: not the lab's traffic
            continue
        src, dst = v["ip.src"], v["ip.dst"]
        if proto == "icmp":
            sp = dp = 0
        else:
            sp, dp = int(v[proto + ".srcport"]), int(v[proto + ".dstport"])
        if sp in ignore or dp in ignore:
            continue
        k = conn_key(proto, src, sp, dst, dp)
        c = conns.get(k)
        if c is None:
            c = conns[k] = {"proto": proto, "orig": (src, sp), "resp": (dst, dp),
                            "pkts": [0, 0], "bytes": [0, 0], "syn": [0, 0], "synack": 0,
                            "rst": [0, 0], "fin": [0, 0], "echo_req": 0}
        d = 0 if (src, sp) == c["orig"] else 1
        c["pkts"][d] += 1
        c["bytes"][d] += int(v["frame.len"])
        if proto == "tcp":
            syn, ack = v["tcp.flags.syn"] in ("1", "True"), v["tcp.flags.ack"] in ("1", "True")
            c["syn"][d] += syn and not ack
            c["synack"] += syn and ack
            c["rst"][d] += v["tcp.flags.reset"] in ("1", "True")
            c["fin"][d] += v["tcp.flags.fin"] in ("1", "True")
        if proto == "icmp" and v["icmp.type"] == "8":
            c["echo_req"] += 1
    return conns


def expected_state(c):
    """The Zeek conn_state the capture implies, for the shapes the lab's traffic has."""
    if c["proto"] == "udp":
        return "SF" if c["pkts"][1] else "S0"
    if c["proto"] != "tcp":
        return None
    if c["syn"][0] and not c["synack"] and c["rst"][1]:
        return "REJ"
    if c["syn"][0] and c["synack"] and c["fin"][0] and c["fin"][1] and not any(c["rst"]):
        return "SF"
    return None


def flow_key(f):
    proto = f.get("proto")
    if proto == "icmp":
        return conn_key(proto, f["id.orig_h"], 0, f["id.resp_h"], 0)
    return conn_key(proto, f["id.orig_h"], f["id.orig_p"], f["id.resp_h"], f["id.resp_p"])


def index_flows(flows, label, problems):
    by_key = {}
    for f in flows:
        k = flow_key(f)
        if k in by_key:
            # An ICMP echo flow is per address pair here: several pings are one flow.
            problems.append((label, fmt(k), "flows", "1", "2 or more"))
        by_key[k] = f
    return by_key


def fmt(k):
    proto, a, b = k
    if proto == "icmp":
        return f"icmp {a[0]} <-> {b[0]}"
    return f"{proto} {a[0]}:{a[1]} <-> {b[0]}:{b[1]}"


def compare_flows(conns, by_key, label, problems):
    for k, c in sorted(conns.items()):
        f = by_key.get(k)
        if f is None:
            problems.append((label, fmt(k), "flow", "present (in the capture)", "missing"))
            continue
        fwd = (f["id.orig_h"], f.get("id.orig_p", 0) if c["proto"] != "icmp" else 0) == c["orig"]
        pk = [f.get("orig_pkts", 0), f.get("resp_pkts", 0)]
        by = [f.get("orig_wire_bytes", 0), f.get("resp_wire_bytes", 0)]
        if not fwd:
            pk.reverse()
            by.reverse()
        for i, side in enumerate(("orig", "resp")):
            if pk[i] != c["pkts"][i]:
                problems.append((label, fmt(k), f"{side} packets", str(c["pkts"][i]), str(pk[i])))
            if by[i] != c["bytes"][i]:
                problems.append((label, fmt(k), f"{side} wire bytes", str(c["bytes"][i]), str(by[i])))
        want = expected_state(c)
        if want is not None and f.get("conn_state") != want:
            problems.append((label, fmt(k), "conn_state", want, str(f.get("conn_state"))))
    for k in sorted(set(by_key) - set(conns)):
        problems.append((label, fmt(k), "flow", "absent (not in the capture)", "present"))


def report(problems, n_flows, agreed):
    """The table of differences (exit status 1), or the line that says everything agreed (0)."""
    if problems:
        w = [max(len(p[i]) for p in problems + [("source", "connection", "field", "expected", "got")])
             for i in range(5)]
        line = "  ".join("{:<%d}" % x for x in w)
        print(line.format("source", "connection", "field", "expected", "got"))
        for p in problems:
            print(line.format(*p))
        print(f"verify: {len(problems)} difference(s) over {n_flows} connections")
        return 1
    print(agreed)
    return 0


def capture_replay(a):
    """--capture-replay: the collector's and `netscope flows -r`'s flows of replayed files."""
    conns = read_frames(a.frames, set())
    problems = []
    flows = json.load(open(a.flows))["flows"]
    compare_flows(conns, index_flows(flows, "collector", problems), "collector", problems)
    replay = [json.loads(line) for line in open(a.replay) if line.strip()]
    compare_flows(conns, index_flows(replay, "replay", problems), "replay", problems)
    if not conns:
        problems.append(("capture", "every connection", "count", "1 or more", "0"))
    return report(problems, len(conns),
                  f"verify: replay: {len(conns)} connections of the replayed captures agree "
                  "(packets, wire bytes, conn_state) in tshark, the collector and netscope flows -r")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--flows", required=True)
    ap.add_argument("--frames", required=True)
    ap.add_argument("--capture-replay", action="store_true",
                    help="compare the flows of replayed capture files (no --traffic, --alerts)")
    ap.add_argument("--traffic")
    ap.add_argument("--alerts")
    ap.add_argument("--replay")
    ap.add_argument("--ignore-port", type=int, action="append", default=[])
    ap.add_argument("--host", action="append", default=[],
                    help="only flows with this address (default: the traffic's server_addr)")
    ap.add_argument("--since", type=float, default=0.0, help="flows that began before: not ours")
    a = ap.parse_args()
    if a.capture_replay:
        if not a.replay:
            ap.error("--capture-replay needs --replay")
        return capture_replay(a)
    if not a.traffic or not a.alerts:
        ap.error("--traffic and --alerts are required (without --capture-replay)")

    ignore = set(a.ignore_port)
    conns = read_frames(a.frames, ignore)
    traffic = json.load(open(a.traffic))
    hosts = set(a.host) or {traffic["server_addr"]}

    def ours(f):  # a flow of the lab's traffic to the server, other than an ignored port
        if f.get("ts", 0) < a.since - 1:
            return False
        if not hosts & {f.get("id.orig_h"), f.get("id.resp_h")}:
            return False
        return f.get("proto") == "icmp" or not ({f.get("id.orig_p"), f.get("id.resp_p")} & ignore)

    problems = []
    flows = [f for f in json.load(open(a.flows))["flows"] if ours(f)]
    compare_flows(conns, index_flows(flows, "collector", problems), "collector", problems)
    if a.replay:
        replay = [json.loads(line) for line in open(a.replay) if line.strip()]
        replay = [f for f in replay if ours(f)]
        compare_flows(conns, index_flows(replay, "replay", problems), "replay", problems)

    # What the generators did, against the capture and the collector's flows.
    def count(src, pred):
        return sum(1 for x in src if pred(x))

    kinds = [
        ("HTTP connections", "http_requests",
         lambda c: c["proto"] == "tcp" and c["resp"][1] == traffic["http_port"],
         lambda f: f.get("proto") == "tcp" and f.get("id.resp_p") == traffic["http_port"]
         and f.get("service") == "http"),
        ("DNS query flows", "dns_queries",
         lambda c: c["proto"] == "udp" and c["resp"][1] == traffic["dns_port"],
         lambda f: f.get("proto") == "udp" and f.get("id.resp_p") == traffic["dns_port"]
         and f.get("service") == "dns"),
        ("refused connections", "rejected",
         lambda c: c["proto"] == "tcp" and c["resp"][1] == traffic["closed_port"],
         lambda f: f.get("proto") == "tcp" and f.get("id.resp_p") == traffic["closed_port"]
         and f.get("conn_state") == "REJ"),
    ]
    for what, key, in_capture, in_flows in kinds:
        want = traffic[key]
        got_cap = count(conns.values(), in_capture)
        got_col = count(flows, in_flows)
        if got_cap != want:
            problems.append(("capture", what, "count", f"{want} (generators)", str(got_cap)))
        if got_col != want:
            problems.append(("collector", what, "count", f"{want} (generators)", str(got_col)))
    echo_cap = sum(c["echo_req"] for c in conns.values())
    echo_col = sum(f.get("orig_pkts", 0) for f in flows if f.get("proto") == "icmp" and f.get("id.orig_p") == 8)
    if echo_cap != traffic["pings"]:
        problems.append(("capture", "echo requests", "count", f"{traffic['pings']} (generators)", str(echo_cap)))
    if echo_col != traffic["pings"]:
        problems.append(("collector", "echo requests", "count", f"{traffic['pings']} (generators)", str(echo_col)))

    alerts = json.load(open(a.alerts)).get("alerts", [])
    for al in alerts:
        problems.append(("collector", f"alert {al.get('detector')} {al.get('subject', '')}", "alert",
                         "none (ordinary traffic)", str(al.get("state"))))

    n_flows = len(conns)
    return report(problems, n_flows,
                  f"verify: {n_flows} connections agree (packets, wire bytes, conn_state); "
                  f"{traffic['http_requests']} HTTP, {traffic['dns_queries']} DNS, {traffic['pings']} pings, "
                  f"{traffic['rejected']} refused as generated; no alert")


if __name__ == "__main__":
    sys.exit(main())
