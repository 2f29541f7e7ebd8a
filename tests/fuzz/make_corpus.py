#!/usr/bin/env python3
"""Seed corpus for fuzz_frame: a few frames from each classic-pcap capture in the given
directories, each written as <link-type selector byte> + <frame bytes>. Deterministic: the
same captures give the same corpus. Usage: make_corpus.py OUT_DIR PCAP_DIR... """
import hashlib
import os
import struct
import sys

# Must match the order of linktypes[] in fuzz_frame.c.
SELECTOR = {1: 0, 113: 1, 276: 2, 0: 3, 108: 4, 101: 5, 228: 6, 229: 7}
PER_FILE = 2


def frames(path):
    with open(path, "rb") as fh:
        data = fh.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        end = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        end = ">"
    else:
        return  # pcapng and others: skipped
    linktype = struct.unpack(end + "I", data[20:24])[0] & 0x0FFFFFFF
    if linktype not in SELECTOR:
        return
    off = 24
    while off + 16 <= len(data):
        _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
        off += 16
        if incl > 65535 or off + incl > len(data):
            return
        yield SELECTOR[linktype], data[off:off + incl]
        off += incl


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for d in sys.argv[2:]:
        for name in sorted(os.listdir(d)):
            seen = set()
            for sel, frame in frames(os.path.join(d, name)):
                if len(seen) >= PER_FILE:
                    break
                key = (len(frame) // 64, frame[12:14])  # prefer different sizes/ethertypes
                if key in seen:
                    continue
                seen.add(key)
                blob = bytes([sel]) + frame
                digest = hashlib.sha1(blob).hexdigest()[:16]
                with open(os.path.join(out, digest), "wb") as fh:
                    fh.write(blob)
                n += 1
    print(f"{n} corpus files in {out}")


if __name__ == "__main__":
    main()
