#!/usr/bin/env python3
"""dnsd.py - the lab's DNS responder and DNS query generator (Python standard library only).

    dnsd.py serve --addr ADDR [--port 53] --record NAME=IPV4 [--record ...]
    dnsd.py query --server ADDR [--port 53] [--timeout S] [--id-base N] NAME [NAME ...]

`serve` answers A queries for the recorded names, an empty NOERROR for another type of a
recorded name (what a real authoritative server says: the name exists, not with that type),
NXDOMAIN for every other name, FORMERR for a query it cannot parse, NOTIMP for an opcode other
than QUERY, and nothing at all to datagrams that are shorter than a header or are responses
(answering a response could start a loop between two responders).

`query` sends one A query per name, each from a fresh socket (so each is its own UDP flow, as a
flow-counting test expects) with a deterministic ID (--id-base + index), waits --timeout
seconds for the matching response without retrying (a retry would be traffic the caller did
not count), and prints `queries=N answers=N nxdomain=N failed=N` on stdout, one line per name
on stderr.

Every datagram is hostile, in both directions: names are read through a bounds-checked reader
that rejects labels over 63 bytes, names over 255 bytes, reserved label types, and compression
pointers that do not point strictly backwards (which also makes a pointer loop impossible),
with a cap on the pointers followed. A parse failure is an outcome (FORMERR, an ignored
datagram), never an exception out of the serving loop. Replies stay under 512 bytes.
"""
import argparse
import ipaddress
import socket
import struct
import sys

HEADER = struct.Struct("!HHHHHH")  # id, flags, qdcount, ancount, nscount, arcount
QTAIL = struct.Struct("!HH")  # qtype, qclass
RR_FIXED = struct.Struct("!HHIH")  # type, class, ttl, rdlength

TYPE_A = 1
CLASS_IN = 1
FLAG_QR = 0x8000
FLAG_AA = 0x0400
FLAG_RD = 0x0100
OPCODE_SHIFT = 11
OPCODE_MASK = 0xF
RCODE_MASK = 0xF
RCODE_NOERROR, RCODE_FORMERR, RCODE_NXDOMAIN, RCODE_NOTIMP = 0, 1, 3, 4

MAX_LABEL = 63
MAX_NAME = 255  # RFC 1035 2.3.4, counted on the wire including the root label
MAX_POINTERS = 16
MAX_ANSWERS_READ = 16
ANSWER_TTL = 60
PTR_TO_QUESTION = 0xC000 | HEADER.size  # the question name always starts right after the header
MAX_DATAGRAM = 65535
LOG_LIMIT = 1000  # query lines logged by `serve`; past that only a note, so a flood cannot fill /run


class Malformed(Exception):
    """The bytes are not a DNS message this program accepts (short, or against RFC 1035)."""


# ---- wire format -----------------------------------------------------------------------------

def read_name(buf, off, allow_pointers):
    """Read a domain name at buf[off:]; return (labels as bytes, offset just past the name).

    Compression pointers are followed only when allow_pointers (a question we parse is never
    compressed), only backwards, and at most MAX_POINTERS times."""
    labels = []
    wire_len = 1  # the root label
    end = None
    pointers = 0
    while True:
        if off >= len(buf):
            raise Malformed("name runs past the end of the message")
        length = buf[off]
        kind = length & 0xC0
        if kind == 0xC0:
            if not allow_pointers:
                raise Malformed("compression pointer where none is allowed")
            if off + 1 >= len(buf):
                raise Malformed("compression pointer cut short")
            target = ((length & 0x3F) << 8) | buf[off + 1]
            pointers += 1
            if target >= off or pointers > MAX_POINTERS:
                raise Malformed("compression pointer does not point backwards")
            if end is None:
                end = off + 2
            off = target
            continue
        if kind != 0:
            raise Malformed("reserved label type")
        off += 1
        if length == 0:
            break
        if off + length > len(buf):
            raise Malformed("label runs past the end of the message")
        wire_len += 1 + length
        if wire_len > MAX_NAME:
            raise Malformed("name longer than 255 bytes")
        labels.append(bytes(buf[off:off + length]))
        off += length
    return labels, (off if end is None else end)


def encode_name(name):
    """Encode a dotted name ("h1.lab") as uncompressed wire labels; ValueError if it cannot be."""
    out = bytearray()
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        if not 0 < len(raw) <= MAX_LABEL:
            raise ValueError(f"bad label {label!r} in {name!r}")
        out += bytes([len(raw)]) + raw
    out += b"\0"
    if len(out) > MAX_NAME:
        raise ValueError(f"name {name!r} is longer than 255 bytes")
    return bytes(out)


def name_key(labels):
    """Case-insensitive lookup key of a name (RFC 4343: ASCII letters compare without case)."""
    return b".".join(labels).lower()


def build_query(qid, name, qtype=TYPE_A):
    """A standard query (RD set) for one name."""
    return HEADER.pack(qid & 0xFFFF, FLAG_RD, 1, 0, 0, 0) + encode_name(name) + QTAIL.pack(qtype, CLASS_IN)


def respond(buf, records):
    """The reply to datagram buf, or None when it deserves none.

    records maps name_key(labels) to a packed IPv4 address (4 bytes)."""
    if len(buf) < HEADER.size:
        return None
    qid, flags, qdcount, _, _, _ = HEADER.unpack_from(buf, 0)
    if flags & FLAG_QR:
        return None
    opcode = (flags >> OPCODE_SHIFT) & OPCODE_MASK
    reply_flags = FLAG_QR | (opcode << OPCODE_SHIFT) | FLAG_AA | (flags & FLAG_RD)

    def bare(rcode):
        return HEADER.pack(qid, reply_flags | rcode, 0, 0, 0, 0)

    if opcode != 0:
        return bare(RCODE_NOTIMP)
    if qdcount != 1:
        return bare(RCODE_FORMERR)
    try:
        labels, off = read_name(buf, HEADER.size, allow_pointers=False)
    except Malformed:
        return bare(RCODE_FORMERR)
    if off + QTAIL.size > len(buf):
        return bare(RCODE_FORMERR)
    qtype, qclass = QTAIL.unpack_from(buf, off)
    question = bytes(buf[HEADER.size:off + QTAIL.size])
    addr = records.get(name_key(labels))
    if addr is None:
        return HEADER.pack(qid, reply_flags | RCODE_NXDOMAIN, 1, 0, 0, 0) + question
    if qtype != TYPE_A or qclass != CLASS_IN:
        return HEADER.pack(qid, reply_flags | RCODE_NOERROR, 1, 0, 0, 0) + question
    answer = struct.pack("!H", PTR_TO_QUESTION) + RR_FIXED.pack(TYPE_A, CLASS_IN, ANSWER_TTL, 4) + addr
    return HEADER.pack(qid, reply_flags | RCODE_NOERROR, 1, 1, 0, 0) + question + answer


def parse_response(buf, qid, question):
    """Check that buf answers the query (qid, question bytes); return (rcode, first A address
    or None). Malformed if it is not a response to that query or cannot be read."""
    if len(buf) < HEADER.size:
        raise Malformed("shorter than a DNS header")
    rid, flags, qdcount, ancount, _, _ = HEADER.unpack_from(buf, 0)
    if rid != qid or not flags & FLAG_QR or qdcount != 1:
        raise Malformed("not a response to this query")
    end = HEADER.size + len(question)
    if bytes(buf[HEADER.size:end]) != question:
        raise Malformed("response carries another question")
    rcode = flags & RCODE_MASK
    off = end
    for _ in range(min(ancount, MAX_ANSWERS_READ)):
        _, off = read_name(buf, off, allow_pointers=True)
        if off + RR_FIXED.size > len(buf):
            raise Malformed("answer record cut short")
        rtype, rclass, _, rdlen = RR_FIXED.unpack_from(buf, off)
        off += RR_FIXED.size
        if off + rdlen > len(buf):
            raise Malformed("answer data runs past the end of the message")
        if rtype == TYPE_A and rclass == CLASS_IN and rdlen == 4:
            return rcode, str(ipaddress.IPv4Address(bytes(buf[off:off + 4])))
        off += rdlen
    return rcode, None


# ---- serve -----------------------------------------------------------------------------------

def serve(sock, records, log):
    """Answer every datagram arriving on sock, forever."""
    logged = 0
    while True:
        buf, peer = sock.recvfrom(MAX_DATAGRAM)
        reply = respond(buf, records)
        if reply is not None:
            try:
                sock.sendto(reply, peer)
            except OSError:
                pass  # the asker is gone (or unreachable): a lost reply, not a reason to stop
        if logged < LOG_LIMIT:
            logged += 1
            outcome = "no reply" if reply is None else f"rcode {reply[3] & RCODE_MASK}"
            print(f"dnsd: {peer[0]}:{peer[1]} {len(buf)} bytes -> {outcome}", file=log, flush=True)
            if logged == LOG_LIMIT:
                print("dnsd: further queries are not logged", file=log, flush=True)


def parse_records(items):
    records = {}
    for item in items:
        name, sep, addr = item.partition("=")
        if not sep:
            raise ValueError(f"--record {item!r}: expected NAME=IPV4")
        encode_name(name)
        records[name.rstrip(".").lower().encode("ascii")] = ipaddress.IPv4Address(addr).packed
    return records


# ---- query -----------------------------------------------------------------------------------

def query_one(server, port, name, qid, timeout_s):
    """Send one A query and wait for its response: ("answer", addr), ("nxdomain", None),
    ("rcode N", None) or ("timeout", None)."""
    packet = build_query(qid, name)
    question = packet[HEADER.size:]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout_s)
        sock.connect((server, port))
        sock.send(packet)
        while True:
            try:
                buf = sock.recv(MAX_DATAGRAM)
            except (socket.timeout, ConnectionRefusedError):
                return "timeout", None
            try:
                rcode, addr = parse_response(buf, qid, question)
            except Malformed:
                continue  # not ours or unreadable: keep waiting until the timeout
            if rcode == RCODE_NOERROR and addr is not None:
                return "answer", addr
            if rcode == RCODE_NXDOMAIN:
                return "nxdomain", None
            return f"rcode {rcode}", None


def main(argv):
    parser = argparse.ArgumentParser(description="The NetScope lab's DNS responder and query generator.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_serve = sub.add_parser("serve", help="answer A queries for the given records")
    p_serve.add_argument("--addr", required=True)
    p_serve.add_argument("--port", type=int, default=53)
    p_serve.add_argument("--record", action="append", default=[], metavar="NAME=IPV4")
    p_query = sub.add_parser("query", help="send one A query per name")
    p_query.add_argument("--server", required=True)
    p_query.add_argument("--port", type=int, default=53)
    p_query.add_argument("--timeout", type=float, default=2.0)
    p_query.add_argument("--id-base", type=int, default=0x4E53)
    p_query.add_argument("names", nargs="+")
    args = parser.parse_args(argv)

    if args.cmd == "serve":
        try:
            records = parse_records(args.record)
        except ValueError as exc:
            parser.error(str(exc))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((args.addr, args.port))
            print(f"dnsd: serving {len(records)} names on {args.addr}:{args.port}", file=sys.stderr, flush=True)
            serve(sock, records, sys.stderr)
        return 0

    counts = {"queries": 0, "answers": 0, "nxdomain": 0, "failed": 0}
    for i, name in enumerate(args.names):
        outcome, addr = query_one(args.server, args.port, name, args.id_base + i, args.timeout)
        counts["queries"] += 1
        if outcome == "answer":
            counts["answers"] += 1
        elif outcome == "nxdomain":
            counts["nxdomain"] += 1
        else:
            counts["failed"] += 1
        print(f"dnsd: {name} A -> {outcome}{' ' + addr if addr else ''}", file=sys.stderr)
    print(" ".join(f"{k}={v}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
