#!/usr/bin/env bash
# NetScope's TOML reader (core/toml.c, through tests/tools/toml_dump) against Python's tomllib,
# over every tests/data/toml/*.toml. The file name says what each case is:
#   valid_*        tomllib accepts it and it uses only what NetScope supports: we accept it too,
#                  with the same tables (keys in the same order), types and values (floats by
#                  value: nan equals nan, -0.0 differs from 0.0);
#   invalid_*      tomllib rejects it (a syntax error, or bytes that are not UTF-8): so do we;
#   unsupported_*  tomllib accepts it but it uses what NetScope refuses (dates and times, inline
#                  tables, arrays of tables, integers past 64 bits, nesting past the limit):
#                  we reject it.
# A first line "# expect error at LINE:COL" also checks where our error points. A valid_* case
# whose tomllib result holds a date, a table inside an array or a big integer is misfiled.
set -u
: "${NS_BUILD:?}" "${NS_SRC:?}"
python3 -c 'import tomllib' 2>/dev/null || { echo "skip: python3 lacks tomllib (3.11+)"; exit 77; }
dump="$NS_BUILD/tests/tools/toml_dump"
[[ -x $dump ]] || { echo "FAIL: $dump is not built"; exit 1; }

exec python3 - "$dump" "$NS_SRC/tests/data/toml" <<'PY'
import datetime, glob, json, math, os, re, subprocess, sys, tomllib

dump, data_dir = sys.argv[1], sys.argv[2]
failures = []
counts = {}


def tag(v):
    """tomllib's value in toml_dump's tagged form."""
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tag(x) for x in v]
    if isinstance(v, bool):
        return {"type": "bool", "value": "true" if v else "false"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": repr(v)}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    raise TypeError(type(v))


def unsupported(v):
    """Why NetScope must refuse tomllib's value `v`, or None."""
    if isinstance(v, (datetime.date, datetime.time)):
        return "a date or time"
    if isinstance(v, int) and not isinstance(v, bool) and not -2**63 <= v < 2**63:
        return "an integer past 64 bits"
    if isinstance(v, dict):
        return next((r for r in map(unsupported, v.values()) if r), None)
    if isinstance(v, list):
        if any(isinstance(x, dict) for x in v):
            return "a table in an array"
        return next((r for r in map(unsupported, v) if r), None)
    return None


def is_leaf(x):
    return isinstance(x, dict) and isinstance(x.get("type"), str) and isinstance(x.get("value"), str)


def same_float(a, b):
    fa, fb = float(a), float(b)
    if math.isnan(fa) or math.isnan(fb):
        return math.isnan(fa) and math.isnan(fb)
    return fa == fb and math.copysign(1, fa) == math.copysign(1, fb)


def compare(ours, want, path):
    """Differences between our tagged tree and tomllib's, as sentences."""
    if is_leaf(want):
        if not is_leaf(ours) or ours["type"] != want["type"]:
            return [f"{path}: got {ours!r}, want {want!r}"]
        if want["type"] == "float":
            ok = same_float(ours["value"], want["value"])
        else:
            ok = ours["value"] == want["value"]
        return [] if ok else [f"{path}: got {ours['value']!r}, want {want['value']!r}"]
    if isinstance(want, dict):
        if not isinstance(ours, dict) or is_leaf(ours) or list(ours) != list(want):
            return [f"{path}: got keys {list(ours) if isinstance(ours, dict) else ours!r}, "
                    f"want {list(want)!r}"]
        return [d for k in want for d in compare(ours[k], want[k], f"{path}.{k}")]
    if not isinstance(ours, list) or len(ours) != len(want):
        return [f"{path}: got {ours!r}, want an array of {len(want)}"]
    return [d for i, w in enumerate(want) for d in compare(ours[i], w, f"{path}[{i}]")]


for path in sorted(glob.glob(os.path.join(data_dir, "*.toml"))):
    name = os.path.basename(path)
    kind = name.split("_", 1)[0]
    counts[kind] = counts.get(kind, 0) + 1
    raw = open(path, "rb").read()
    def bad(msg):
        failures.append(f"{name}: {msg}")

    try:
        theirs, why_theirs = tomllib.loads(raw.decode("utf-8")), None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        theirs, why_theirs = None, str(e)
    run = subprocess.run([dump, path], capture_output=True, text=True, errors="replace")
    if run.returncode not in (0, 1):
        bad(f"toml_dump exited {run.returncode}: {run.stderr.strip()[:300]}")
        continue
    ours_ok = run.returncode == 0

    # The case is filed right: tomllib agrees with its name.
    reason = unsupported(theirs) if theirs is not None else None
    if kind == "valid" and (theirs is None or reason):
        bad(f"misfiled: tomllib says {why_theirs or reason}")
    elif kind == "invalid" and theirs is not None:
        bad("misfiled: tomllib accepts it")
    elif kind == "unsupported" and theirs is None:
        bad(f"misfiled: tomllib rejects it ({why_theirs})")
    elif kind not in ("valid", "invalid", "unsupported"):
        bad("name must start with valid_, invalid_ or unsupported_")

    if kind == "valid":
        if not ours_ok:
            bad(f"we reject what tomllib accepts: {run.stdout.strip()}")
        else:
            diffs = compare(json.loads(run.stdout), tag(theirs), "$")
            if diffs:
                bad("; ".join(diffs[:5]))
        continue
    if ours_ok:
        bad(f"we accept it (tomllib: {why_theirs or reason or 'uses an unsupported feature'})")
        continue
    m = re.match(r"^error (.*\.toml):(\d+):(\d+): (.+)$", run.stdout.strip())
    if not m or m.group(1) != path:
        bad(f"error not in the form 'PATH:LINE:COL: message': {run.stdout.strip()!r}")
        continue
    want = re.match(rb"# expect error at (\d+):(\d+)\n", raw)
    if want and (m.group(2), m.group(3)) != (want.group(1).decode(), want.group(2).decode()):
        bad(f"error at {m.group(2)}:{m.group(3)}, want {want.group(1).decode()}:"
            f"{want.group(2).decode()} ({m.group(4)})")
    if kind == "unsupported" and "not supported" not in m.group(4) and "64 bits" not in \
            m.group(4) and "deeper than" not in m.group(4):
        bad(f"the error does not say the feature is unsupported: {m.group(4)}")

total = sum(counts.values())
print(f"{total} cases: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures or total < 40 else 0)
PY
