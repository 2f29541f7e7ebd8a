#!/usr/bin/env python3
"""bench/stream_cost.py PID WS_URL [CLIENTS] [SECONDS]: the collector's CPU for its live stream.

Measures the collector process PID's CPU time (user + system, /proc/PID/stat) over SECONDS
(default 20) with no stream client, then with CLIENTS (default 10) clients reading every frame
(tests/integration/ws_client.py's client, one thread each), and prints both as % of a core,
the difference per client, and the frames the clients got. Run it against a collector that
has traffic, e.g. the one `make run` starts: bench/stream_cost.py $(pgrep -n netscope-coll)
ws://127.0.0.1:8081/api/v1/stream
"""
import os, sys, threading, time
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "integration"))
from ws_client import WS  # noqa: E402

def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

def measure(pid, seconds):
    c0, t0 = cpu_s(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_s(pid) - c0) / (time.monotonic() - t0) * 100

def main():
    pid, url = int(sys.argv[1]), sys.argv[2]
    clients = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    seconds = float(sys.argv[4]) if len(sys.argv) > 4 else 20
    idle = measure(pid, seconds)
    stop = threading.Event()
    frames = [0] * clients
    def reader(i):
        ws = WS(url)
        while not stop.is_set():
            ws.recv()
            frames[i] += 1
        ws.close()
    threads = [threading.Thread(target=reader, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    time.sleep(2)  # the first full frames
    busy = measure(pid, seconds)
    stop.set()
    print(f"collector CPU, % of a core: {idle:.1f} with no client, {busy:.1f} with {clients} clients"
          f" (+{(busy - idle) / clients:.2f} per client); {sum(frames) / clients / (seconds + 2):.1f}"
          f" frames/s per client")

main()
