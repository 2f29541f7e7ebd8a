#!/usr/bin/env python3
"""ui_xss_pcap.py OUT.pcap [SECONDS [TOTAL]]: lab-like traffic for the dashboard's browser test.

Clients 10.1.0.1-5 ask a DNS server 10.2.0.53 for names and fetch pages over HTTP from
10.2.0.10-17; each of 30 cross-site scripting payloads (each calls __xss(N), N its number)
stands in a DNS query name, an HTTP Host header, a request URI and a User-Agent. TCP
connections are not closed, so their flows stay live while the capture is replayed. The
payload rounds are spread over SECONDS (default 15) of capture time; then, up to TOTAL
seconds (default 90), a DNS question and a new TCP connection (left open) a second keep
traffic flowing and live flows in view.
"""
import struct
import time
import sys

TEMPLATES = [
    "<img/src=x/onerror=__xss({n})>",
    "<svg/onload=__xss({n})>",
    "<script>__xss({n})</script>",
    "\"><img/src=x/onerror=__xss({n})>",
    "'><svg/onload=__xss({n})>",
    "<iframe/srcdoc=<script>__xss({n})</script>>",
    "<details/open/ontoggle=__xss({n})>",
    "<body/onload=__xss({n})>",
    "<math><mtext><img/src/onerror=__xss({n})>",
    "<a/href=javascript:__xss({n})>x</a>",
]


def payloads():
    return [TEMPLATES[n % len(TEMPLATES)].format(n=n) for n in range(30)]


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ip4(a):
    return bytes(int(x) for x in a.split("."))


def ipv4(src, dst, proto, payload):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, 64, proto, 0,
                    ip4(src), ip4(dst))
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload


def ether(ip):
    return b"\x02\0\0\0\0\x02" + b"\x02\0\0\0\0\x01" + b"\x08\x00" + ip


def udp(src, sp, dst, dp, data):
    u = struct.pack("!HHHH", sp, dp, 8 + len(data), 0) + data
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 17, len(u))
    c = csum(pseudo + u) or 0xFFFF
    u = u[:6] + struct.pack("!H", c) + u[8:]
    return ether(ipv4(src, dst, 17, u))


def tcp(src, sp, dst, dp, seq, ack, flags, data=b""):
    t = struct.pack("!HHIIBBHHH", sp, dp, seq, ack, 5 << 4, flags, 64240, 0, 0) + data
    pseudo = ip4(src) + ip4(dst) + struct.pack("!BBH", 0, 6, len(t))
    t = t[:16] + struct.pack("!H", csum(pseudo + t)) + t[18:]
    return ether(ipv4(src, dst, 6, t))


def qname(name):
    out = b""
    for label in name.split("."):
        raw = label.encode()
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def dns_query(qid, name):
    return struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0) + qname(name) + struct.pack("!HH", 1, 1)


def dns_answer(qid, name, addr):
    q = qname(name) + struct.pack("!HH", 1, 1)
    a = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + ip4(addr)
    return struct.pack("!HHHHHH", qid, 0x8180, 1, 1, 0, 0) + q + a


def main():
    out = sys.argv[1]
    span = float(sys.argv[2]) if len(sys.argv) > 2 else 15.0
    total = float(sys.argv[3]) if len(sys.argv) > 3 else 90.0
    t0 = float(int(time.time()))  # now: the dashboard asks the store for the last hour
    frames = []
    FIN, SYN, ACK, PSH = 0x01, 0x02, 0x10, 0x08
    for n, p in enumerate(payloads()):
        t = t0 + n * span / 30
        cli = "10.1.0.%d" % (1 + n % 5)
        srv = "10.2.0.%d" % (10 + n % 8)
        dport = 40000 + n
        # DNS: the payload as the first label of the name asked for
        name = p + ".lab.example"
        frames.append((t, udp(cli, 30000 + n, "10.2.0.53", 53, dns_query(n + 1, name))))
        frames.append((t + 0.002, udp("10.2.0.53", 53, cli, 30000 + n, dns_answer(n + 1, name, srv))))
        # HTTP: handshake, a request carrying the payload three times, an answer; no FIN
        c, s = 1000 * (n + 1), 5000 * (n + 1)
        frames.append((t + 0.010, tcp(cli, dport, srv, 80, c, 0, SYN)))
        frames.append((t + 0.011, tcp(srv, 80, cli, dport, s, c + 1, SYN | ACK)))
        frames.append((t + 0.012, tcp(cli, dport, srv, 80, c + 1, s + 1, ACK)))
        req = ("GET /search/%s?q=%d HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n\r\n"
               % (p, n, p, p)).encode()
        frames.append((t + 0.013, tcp(cli, dport, srv, 80, c + 1, s + 1, PSH | ACK, req)))
        body = b"<html>ok</html>"
        resp = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                % len(body)) + body
        frames.append((t + 0.015, tcp(srv, 80, cli, dport, s + 1, c + 1 + len(req), PSH | ACK, resp)))
        cs, ss = c + 1 + len(req), s + 1 + len(resp)
        frames.append((t + 0.016, tcp(cli, dport, srv, 80, cs, ss, ACK)))
        frames.append((t + 0.020, tcp(cli, dport, srv, 80, cs, ss, FIN | ACK)))
        frames.append((t + 0.021, tcp(srv, 80, cli, dport, ss, cs + 1, FIN | ACK)))
        frames.append((t + 0.022, tcp(cli, dport, srv, 80, cs + 1, ss + 1, ACK)))
    k = 0
    t = t0 + span
    while t < t0 + total:
        n = k % 30
        cli, srv = "10.1.0.%d" % (1 + n % 5), "10.2.0.%d" % (10 + n % 8)
        frames.append((t, udp(cli, 31000 + k % 1000, "10.2.0.53", 53, dns_query(1000 + k, "www.lab.example"))))
        frames.append((t + 0.001, udp("10.2.0.53", 53, cli, 31000 + k % 1000, dns_answer(1000 + k, "www.lab.example", srv))))
        frames.append((t + 0.5, tcp(cli, 41000 + k % 1000, srv, 80, 7, 0, SYN)))
        frames.append((t + 0.501, tcp(srv, 80, cli, 41000 + k % 1000, 9, 8, SYN | ACK)))
        frames.append((t + 0.502, tcp(cli, 41000 + k % 1000, srv, 80, 8, 10, ACK)))
        k += 1
        t += 1.0
    frames.sort(key=lambda f: f[0])
    with open(out, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for t, fr in frames:
            sec = int(t)
            f.write(struct.pack("<IIII", sec, int((t - sec) * 1e6), len(fr), len(fr)))
            f.write(fr)


if __name__ == "__main__":
    main()
