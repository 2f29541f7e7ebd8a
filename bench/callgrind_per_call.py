#!/usr/bin/env python3
"""callgrind_per_call.py - instructions per call of one function, from a callgrind output file.

    callgrind_per_call.py CALLGRIND.OUT FUNCTION

Sums, over every call site of FUNCTION in the profile, the number of calls and the inclusive
instruction count callgrind recorded for them, and prints `calls=N instr_per_call=X`. Used by
bench/run.sh: instruction counts do not depend on the clock speed or the load of this shared
machine, so they show a change in the decoder's cost that wall-clock times can hide.

Format (valgrind's callgrind format): "cfn=(id) name" (later just "cfn=(id)") names the called
function, then "calls=N target" and a line "positions inclusive-cost" (the header's
"positions:" says how many position columns: line, or instr and line).
"""
import re
import sys


def main() -> int:
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    path, want = sys.argv[1], sys.argv[2]
    names = {}
    npos = 1  # position columns before the costs ("positions: line" unless --dump-instr)
    target = None
    pending = None
    calls = cost = 0
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("positions:"):
                npos = len(line.split()[1:])
                continue
            m = re.match(r"c?fn=\((\d+)\)(?: (.*))?$", line)
            if m:
                if m.group(2) is not None:
                    names[m.group(1)] = m.group(2)
                if line.startswith("cfn="):
                    target = names.get(m.group(1))
                continue
            if line.startswith("calls="):
                pending = int(line.split("=", 1)[1].split()[0]) if target == want else None
                continue
            if pending is not None and line and (line[0].isdigit() or line[0] in "+-*"):
                fields = line.split()
                calls += pending
                cost += int(fields[npos]) if len(fields) > npos else 0
                pending = None
    if calls == 0:
        print(f"callgrind_per_call: no calls to {want} in {path}", file=sys.stderr)
        return 1
    print(f"calls={calls} instr_per_call={cost / calls:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
