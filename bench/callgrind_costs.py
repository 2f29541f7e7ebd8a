#!/usr/bin/env python3
"""callgrind_costs.py - where a process's instructions went, from one callgrind output file.

    callgrind_costs.py CALLGRIND.OUT [FUNCTION...]

Prints one `key=value` per line:
    total=N                   every instruction of the profile (all threads)
    object.NAME=N             self instructions of each object file (the executable,
                              libzmq.so.5, libsodium.so.23, libc.so.6, ...), by its base name
    calls.FUNCTION=N          for each FUNCTION asked for: calls, over every call site
    incl.FUNCTION=N           and the inclusive instructions of those calls (0 and 0 when the
                              function does not appear, e.g. inlined by link-time optimisation)
Used by bench/pipeline.sh to split the agent's and the collector's cost into stages without
the noise of this shared machine's load.

Format (valgrind's callgrind format): "ob=(id) name" and "fn=(id) name" set the object and
function of the cost lines that follow ("positions cost"); "cob=", "cfn=" and "calls=N ..."
announce a call, whose inclusive cost is the next cost line (not the caller's self cost).
Names are given once with their id, later by id alone.
"""
import os
import re
import sys

NAMED = re.compile(r"(c?ob|c?fn|c?fi|c?fe|fl)=\((\d+)\)(?: (.*))?$")


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, wanted = sys.argv[1], sys.argv[2:]
    names = {"ob": {}, "fn": {}}
    npos = 1
    ob = None
    target = None
    in_call = False
    total = 0
    by_object = {}
    calls = {f: 0 for f in wanted}
    incl = {f: 0 for f in wanted}
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line:
                continue
            if line.startswith("positions:"):
                npos = len(line.split()[1:])
                continue
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
                continue
            m = NAMED.match(line)
            if m:
                kind, ident, name = m.group(1), m.group(2), m.group(3)
                space = "ob" if kind.endswith("ob") else "fn" if kind.endswith("fn") else None
                if space and name is not None:
                    names[space][ident] = name
                if kind == "ob":
                    ob = names["ob"].get(ident)
                elif kind == "cfn":
                    target = names["fn"].get(ident)
                continue
            if line.startswith("calls="):
                in_call = True
                n = int(line.split("=", 1)[1].split()[0])
                if target in calls:
                    calls[target] += n
                continue
            if line[0].isdigit() or line[0] in "+-*":
                fields = line.split()
                cost = int(fields[npos]) if len(fields) > npos else 0
                if in_call:
                    if target in incl:
                        incl[target] += cost
                    in_call = False
                else:
                    key = os.path.basename(ob or "?")
                    by_object[key] = by_object.get(key, 0) + cost
    print(f"total={total or sum(by_object.values())}")
    for key, cost in sorted(by_object.items(), key=lambda kv: -kv[1]):
        print(f"object.{key}={cost}")
    for f in wanted:
        print(f"calls.{f}={calls[f]}")
        print(f"incl.{f}={incl[f]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
