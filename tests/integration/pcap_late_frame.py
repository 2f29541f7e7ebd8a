#!/usr/bin/env python3
"""pcap_late_frame.py IN OUT [SECONDS]: IN (a classic pcap) followed by a copy of its first frame
stamped SECONDS (default 300) after its last one, written to OUT.

Replayed at the recorded speed, an agent then holds the whole of IN in its ring, and keeps its
flows live, while it waits for that last frame: the tests of the capture filter's dry run
count over such a ring.
"""
import struct
import sys


def main():
    data = open(sys.argv[1], "rb").read()
    later = int(sys.argv[3]) if len(sys.argv) > 3 else 300
    endian = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    at, first, last_sec = 24, None, 0
    while at < len(data):
        sec, _frac, incl, _orig = struct.unpack(endian + "IIII", data[at:at + 16])
        first = first or data[at:at + 16 + incl]
        last_sec = sec
        at += 16 + incl
    late = struct.pack(endian + "I", last_sec + later) + first[4:]
    open(sys.argv[2], "wb").write(data + late)


main()
