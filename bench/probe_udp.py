#!/usr/bin/env python3
"""bench/probe_udp.py DST: probe datagrams on request, each stamped at its send.

Reads lines "PORT SIZE" on standard input; for each, sends one UDP datagram of SIZE payload
bytes to DST:PORT from a fresh socket (a new flow per probe) and answers "PORT NS" on
standard output, NS the CLOCK_REALTIME nanoseconds read just before the send: the clock the
browser's Date.now() and performance.timeOrigin follow. Used by bench/ui_capture.mjs, run in
the sender's network namespace.
"""
import socket
import sys
import time


def main():
    dst = sys.argv[1]
    for line in sys.stdin:
        port, size = (int(v) for v in line.split())
        payload = b"netscope-probe-%d " % port
        payload += b"x" * max(0, size - len(payload))
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            t = time.time_ns()
            s.sendto(payload, (dst, port))
        print(port, t, flush=True)


main()
