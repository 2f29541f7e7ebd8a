#!/usr/bin/env python3
"""ws_client.py - a small WebSocket client (RFC 6455) on the standard library, and the checks
test_stream.sh runs against the collector's live stream (docs/stream.md).

The client: the opening handshake (Sec-WebSocket-Key / Accept checked, subprotocol
netscope.v1), masked client frames, server frames parsed with their 7/16/64-bit lengths,
continuation frames joined, ping answered, close reported. Each check is a subcommand that
prints what it saw and exits 0 on success, 1 on a failed expectation.
"""
import base64
import hashlib
import json
import os
import socket
import struct
import sys
import time
import urllib.request

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class HandshakeError(Exception):
    def __init__(self, status, body):
        super().__init__(f"handshake refused: {status}")
        self.status = status
        self.body = body


class WS:
    def __init__(self, url, origin=None, headers=None, rcvbuf=None, timeout=10.0):
        assert url.startswith("ws://")
        hostport, _, path = url[5:].partition("/")
        host, _, port = hostport.rpartition(":")
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.settimeout(timeout)
        self.sock.connect((host.strip("[]"), int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        lines = [f"GET /{path} HTTP/1.1", f"Host: {hostport}", "Upgrade: websocket",
                 "Connection: Upgrade", f"Sec-WebSocket-Key: {key}",
                 "Sec-WebSocket-Version: 13", "Sec-WebSocket-Protocol: netscope.v1"]
        if origin:
            lines.append(f"Origin: {origin}")
        for k, v in (headers or {}).items():
            lines.append(f"{k}: {v}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise HandshakeError(0, self.buf)
            self.buf += chunk
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        status_line, *hdrs = head.decode("latin-1").split("\r\n")
        status = int(status_line.split()[1])
        self.headers = {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip()
                        for h in hdrs if ":" in h}
        if status != 101:
            raise HandshakeError(status, self.buf)
        want = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
        if self.headers.get("sec-websocket-accept") != want:
            raise RuntimeError("bad Sec-WebSocket-Accept")

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("connection closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, payload, opcode=1):
        if isinstance(payload, str):
            payload = payload.encode()
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + masked)

    def send_json(self, obj):
        self.send(json.dumps(obj))

    def recv(self):
        """One message: (opcode, payload bytes); pings are answered, close raises EOFError."""
        parts, first_op = [], None
        while True:
            b0, b1 = self._read(2)
            fin, op, n = b0 & 0x80, b0 & 0x0F, b1 & 0x7F
            if b1 & 0x80:
                raise RuntimeError("server frames must not be masked")
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            data = self._read(n)
            if op == 9:
                self.send(data, opcode=10)
                continue
            if op == 8:
                raise EOFError(f"close {data[:2].hex()} {data[2:]!r}")
            if op != 0:
                first_op = op
            parts.append(data)
            if fin:
                return first_op, b"".join(parts)

    def recv_json(self):
        while True:
            op, data = self.recv()
            if op == 1:
                return json.loads(data.decode("utf-8"))

    def close(self):
        try:
            self.send(b"\x03\xe8", opcode=8)
        except OSError:
            pass
        self.sock.close()


def fail(msg):
    print(f"FAIL: {msg}")
    sys.exit(1)


def http_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def next_state(ws):
    while True:
        m = ws.recv_json()
        if m["type"] == "state":
            return m
        if m["type"] == "error":
            fail(f"unexpected error frame {m}")


def check_frames(url, base, seconds):
    """hello first, then state frames at <= rate_hz with increasing seq and ts, consistent with
    /api/v1/flows and /api/v1/health."""
    ws = WS(url)
    hello = ws.recv_json()
    if hello["type"] != "hello" or hello["seq"] != 1 or hello["rate_hz"] != 30:
        fail(f"first frame {hello}")
    t0, frames, last_seq, last_ts, first = time.monotonic(), [], 1, hello["ts"], None
    while time.monotonic() - t0 < seconds:
        m = next_state(ws)
        if m["seq"] <= last_seq or m["ts"] <= last_ts:
            fail(f"seq/ts not increasing: {last_seq},{last_ts} then {m['seq']},{m['ts']}")
        last_seq, last_ts = m["seq"], m["ts"]
        first = first or m
        frames.append(m)
    elapsed = time.monotonic() - t0
    rate = len(frames) / elapsed
    print(f"{len(frames)} state frames in {elapsed:.2f} s ({rate:.1f}/s)")
    if rate > 30 * 1.1 + 1 or rate < 5:
        fail(f"state rate {rate:.1f}/s, want <= 30 (and a live stream)")
    if not first["flows"]["full"] or not first["graph"]["full"]:
        fail("first state frame is not full")
    for k in ("bps", "pps", "flows_active", "new_flows_ps", "rtt_ms_p50", "rtt_ms_p95",
              "retrans_ps"):
        if k not in first["global"]:
            fail(f"global lacks {k}")
    if not any(f["global"]["bps"] > 0 for f in frames):
        fail("bps stayed 0 while the agent replays")
    if not any(f["top_talkers"] for f in frames) or not any(f["protocols"] for f in frames):
        fail("no top talkers / protocols")
    # the flows delta, applied, gives the live flows; compare with the REST API right away
    ws.send_json({"type": "pause"})
    time.sleep(0.3)
    api = http_json(base + "/api/v1/flows?live=only&limit=10000")
    live = {f["uid"] for f in api["flows"]}
    ws.send_json({"type": "filter", "bpf": ""})  # forces a full flow list
    ws.send_json({"type": "resume"})
    m = next_state(ws)
    while not m["flows"]["full"]:
        m = next_state(ws)
    got = {f["uid"] for f in m["flows"]["upsert"]}
    total = m["flows"]["total"]
    print(f"stream: {total} live flows ({len(got)} listed), REST: {len(live)}")
    if abs(total - len(live)) > max(5, len(live) // 5):
        fail(f"stream total {total} vs REST live flows {len(live)}")
    if len(live) <= 500 and len(got & live) < min(len(got), len(live)) * 0.8:
        fail("stream flow uids differ from /api/v1/flows")
    rest = {f["uid"]: f for f in api["flows"]}
    same = [f for f in m["flows"]["upsert"] if f["uid"] in rest]
    if not same or set(same[0]) != set(rest[same[0]["uid"]]):
        fail(f"flow objects differ from /api/v1/flows: {sorted(same[0]) if same else None}")
    health = http_json(base + "/api/v1/health")
    if health.get("stream") != url:
        fail(f"health stream {health.get('stream')} != {url}")
    ws.close()
    print("ok frames")


def check_refused(url, origin, want, headers=None):
    try:
        ws = WS(url, origin=origin or None, headers=headers)
    except HandshakeError as e:
        if e.status != int(want):
            fail(f"origin {origin!r}: status {e.status}, want {want}")
        print(f"ok refused {e.status}")
        return
    ws.close()
    if int(want) == 101:
        print("ok accepted")
        return
    fail(f"origin {origin!r} accepted, want {want}")


def check_filter(url, bpf, port):
    ws = WS(url)
    ws.recv_json()
    base = next_state(ws)
    while not base["flows"]["full"]:
        base = next_state(ws)
    ws.send_json({"type": "filter", "bpf": bpf})
    m = next_state(ws)
    while not m["flows"]["full"]:
        m = next_state(ws)
    flows = m["flows"]["upsert"]
    print(f"filter {bpf!r}: {m['flows']['total']} of {base['flows']['total']} flows")
    if m["flows"]["total"] >= base["flows"]["total"] or not flows:
        fail("the filter did not narrow the flows")
    for f in flows:
        if int(port) not in (f.get("id.orig_p"), f.get("id.resp_p")):
            fail(f"flow {f['uid']} does not match {bpf!r}")
    # later deltas stay within the filter
    for _ in range(10):
        for f in next_state(ws)["flows"]["upsert"]:
            if int(port) not in (f.get("id.orig_p"), f.get("id.resp_p")):
                fail(f"delta flow {f['uid']} does not match {bpf!r}")
    ws.send_json({"type": "filter", "bpf": "port 53 and and"})
    while True:
        m = ws.recv_json()
        if m["type"] == "error":
            break
    print(f"bad filter -> {m}")
    if m["request"] != "filter" or "syntax error" not in m["message"]:
        fail(f"bad filter error frame {m}")
    ws.send_json({"type": "no_such"})
    while True:
        m = ws.recv_json()
        if m["type"] == "error":
            break
    ws.send(b'{"type":"filter","bpf":"\\u0000"}')
    while True:
        m = ws.recv_json()
        if m["type"] == "error":
            break
    ws.close()
    print("ok filter")


def check_packets(url, base, out):
    ws = WS(url)
    ws.recv_json()
    flows = http_json(base + "/api/v1/flows?live=only&limit=10000&sort=bytes")["flows"]
    tcp = [f for f in flows if f.get("proto") == "tcp"] or flows
    if not tcp:
        fail("no live flow to ask packets for")
    uid = tcp[0]["uid"]
    ws.send_json({"type": "get_packets", "id": 7, "uid": uid})
    ws.send_json({"type": "get_packets", "id": 8, "uid": "Cnosuchflow000000"})
    got_bin, got_err = None, None
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and (got_bin is None or got_err is None):
        op, data = ws.recv()
        if op == 2:
            got_bin = data
        elif op == 1:
            m = json.loads(data)
            if m["type"] == "error" and m.get("request") == "get_packets":
                if m.get("id") == 8:
                    got_err = m
                else:
                    fail(f"get_packets {uid}: {m}")
    if got_err is None:
        fail("no error frame for an unknown flow")
    if got_bin is None:
        fail("no binary frame")
    rid = struct.unpack("<I", got_bin[:4])[0]
    if rid != 7:
        fail(f"request id {rid}")
    with open(out, "wb") as f:
        f.write(got_bin[4:])
    print(f"ok packets: {len(got_bin) - 4} bytes of pcap for {uid}")
    ws.close()


def skipped_total(base):
    with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith("netscope_stream_frames_skipped_total "):
                return int(float(line.split()[1]))
    fail("/metrics lacks netscope_stream_frames_skipped_total")


def choke(ws, base):
    """Stop reading until the collector skips frames for this client: from then on a state
    frame is due and waits for the socket to drain. The caller's client must be the only one
    connected (the counter in /metrics is global). Asking for no filter again and again makes
    every frame carry the whole flow list, which fills the socket's buffers in seconds."""
    before = skipped_total(base)
    deadline = time.monotonic() + 60
    while skipped_total(base) < before + 30:  # a second of them: not a busy moment
        if time.monotonic() > deadline:
            fail("the collector never skipped a frame for a client that does not read")
        ws.send_json({"type": "filter", "bpf": ""})
        time.sleep(0.1)


def state_within(ws, seconds, want):
    """The first state frame for which want(frame) holds, read within `seconds`."""
    deadline = time.monotonic() + seconds
    ws.sock.settimeout(seconds)
    try:
        while time.monotonic() < deadline:
            m = ws.recv_json()
            if m["type"] == "state" and want(m):
                return m
    except (socket.timeout, TimeoutError):
        pass
    return None


def check_wake(url, base, bpf, port):
    """A frame written ahead of a due state frame (an error frame; nothing while paused) must
    not leave that state frame unsent: the collector asks for the socket again after each
    frame (lws coalesces those requests), and on resume. Both cases are made deterministic by
    a client that stops reading until the collector has skipped frames for it."""
    port = int(port)

    def filtered(m):
        f = m["flows"]
        return f["full"] and all(port in (x.get("id.orig_p"), x.get("id.resp_p"))
                                 for x in f["upsert"])

    # 1. an error frame goes first; the state frame due with the new filter must follow
    ws = WS(url, rcvbuf=2048, timeout=30)
    choke(ws, base)
    ws.send_json({"type": "filter", "bpf": bpf})
    ws.send_json({"type": "no_such"})
    t0 = time.monotonic()
    states, after_error, narrowed = 0, None, None
    ws.sock.settimeout(5)
    try:
        while after_error in (None, 0) or narrowed is None:
            if time.monotonic() - t0 > 20:
                break
            m = ws.recv_json()
            if m["type"] == "error":
                after_error = after_error or 0
                err_at = time.monotonic()
            elif m["type"] == "state":
                states += 1
                # the connection's first full list, read only now, predates the filter
                if states > 1 and filtered(m):
                    narrowed = m
                if after_error == 0:
                    after_error = m
                    state_dt = time.monotonic() - err_at
    except (socket.timeout, TimeoutError):
        pass
    if after_error is None:
        fail("no error frame for an unknown message type")
    if after_error == 0:
        fail(f"no state frame within 5 s after an error frame (the due frame was dropped; "
             f"error {err_at - t0:.2f} s after the filter, {states} state frames before it)")
    if narrowed is None:
        fail("no full flow list under the new filter")
    print(f"ok wake after error: state seq {after_error['seq']} {state_dt:.2f} s after it; {narrowed['flows']['total']} flows "
          f"match {bpf!r}")
    ws.close()

    # 2. paused while a state frame was due, then resumed: frames must come again
    ws = WS(url, rcvbuf=2048, timeout=30)
    choke(ws, base)
    ws.send_json({"type": "pause"})
    drain_until = time.monotonic() + 1.5
    ws.sock.settimeout(0.2)
    while time.monotonic() < drain_until:  # whatever was in flight before the pause
        try:
            ws.recv()
        except (socket.timeout, TimeoutError):
            pass
    ws.send_json({"type": "resume"})
    t0 = time.monotonic()
    m = state_within(ws, 5, lambda m: True)
    if m is None:
        fail("no state frame within 5 s after resume")
    print(f"ok wake after resume: state seq {m['seq']} {time.monotonic() - t0:.2f} s later")
    ws.close()


def check_slow(url, seconds):
    """Connect with a tiny receive window and never read: the collector must skip."""
    ws = WS(url, rcvbuf=2048)
    time.sleep(float(seconds))
    ws.sock.close()
    print("ok slow")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "frames":
        check_frames(args[0], args[1], float(args[2]))
    elif cmd == "refused":
        hdrs = dict(h.split(": ", 1) for h in args[3:])
        check_refused(args[0], args[1], args[2], hdrs)
    elif cmd == "filter":
        check_filter(args[0], args[1], args[2])
    elif cmd == "packets":
        check_packets(args[0], args[1], args[2])
    elif cmd == "wake":
        check_wake(args[0], args[1], args[2], args[3])
    elif cmd == "slow":
        check_slow(args[0], args[1])
    else:
        fail(f"unknown check {cmd}")


if __name__ == "__main__":
    main()
