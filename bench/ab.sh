#!/usr/bin/env bash
# bench/ab.sh - is decoder B faster than decoder A? Both measured in one process, alternating.
#
#   bench/ab.sh [-n ROUNDS] REV_A REV_B PCAP...
#
# REV_A and REV_B are git revisions (HEAD, main~3, a commit id), or directories holding a
# source tree as it is, uncommitted changes included (`.` for this one, or a scratch copy).
# Each one's core/decode/*.c is compiled the way Release builds compile it (gcc -O3, link-time
# optimisation) into a shared library, and `bench_decode --ab` loads both and decodes every
# 256-frame batch of each capture with A and then B (the order alternating), in cache. It
# prints, per capture, each side's median ns/packet and the median of the per-round ratios
# A/B with its quartiles: above 1, B is the faster. On this shared machine separate runs of
# the same binary differ by 10-50%; the two sides of a batch are microseconds apart and see
# the same machine, so the ratio holds still to about 1%.
#
# The libraries are position-independent code (both sides alike), so their ns/packet run a
# little above the static build's (bench_decode, make bench): read the ratio, not those.
# AB_CFLAGS_A and AB_CFLAGS_B add compiler options to one side (the same revision twice with
# AB_CFLAGS_B=-O2 compares optimisation levels).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build/bench
ROUNDS=41

die() { printf 'ab.sh: %s\n' "$*" >&2; exit 1; }
usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }

while getopts n:h opt; do
    case $opt in
    n) ROUNDS=$OPTARG ;;
    *) usage ;;
    esac
done
shift $((OPTIND - 1))
(($# >= 3)) || usage
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || die "-n wants a positive number, not '$ROUNDS'"
REV_A=$1 REV_B=$2
shift 2
for f in "$@"; do [[ -r $f ]] || die "$f: not a readable file"; done

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# lib SIDE REV EXTRA_CFLAGS: the decoder of REV as $TMP/SIDE.so
lib() {
    local side=$1 rev=$2 extra=$3 src=$TMP/$1
    mkdir -p "$src"
    if [[ -d $rev/core/decode ]]; then
        cp -r "$rev/core" "$src/"
    else
        git -C "$ROOT" rev-parse --verify --quiet "$rev^{commit}" >/dev/null ||
            die "$rev: not a revision of $ROOT"
        git -C "$ROOT" archive "$rev" core | tar -x -C "$src"
    fi
    # -fno-semantic-interposition and -Bsymbolic: calls inside the library stay direct, as in
    # the static build; only ns_decode_frame is looked up from outside.
    gcc -std=c11 -O3 -DNDEBUG -D_GNU_SOURCE -flto=auto -fPIC -shared \
        -fno-semantic-interposition -Wl,-Bsymbolic $extra -I"$src/core/include" \
        -o "$TMP/$side.so" "$src"/core/decode/*.c 2>"$TMP/$side.log" ||
        { cat "$TMP/$side.log" >&2; die "$rev: the decoder does not build"; }
}

lib a "$REV_A" "${AB_CFLAGS_A:-}"
lib b "$REV_B" "${AB_CFLAGS_B:-}"
if [[ ! -x $BUILD/bench/bench_decode ]]; then
    cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$TMP/cmake.log" 2>&1 ||
        { cat "$TMP/cmake.log" >&2; die "cmake configure failed"; }
fi
cmake --build "$BUILD" --target bench_decode >"$TMP/build.log" 2>&1 ||
    { tail -40 "$TMP/build.log" >&2; die "bench_decode does not build"; }

printf 'A = %s %s, B = %s %s\n' "$REV_A" "${AB_CFLAGS_A:-}" "$REV_B" "${AB_CFLAGS_B:-}"
"$BUILD/bench/bench_decode" --ab "$TMP/a.so,$TMP/b.so" -n "$ROUNDS" "$@" |
    awk '/^ab / {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        printf "%s: A %s ns, B %s ns per packet; A/B %s (quartiles %s-%s, %s rounds)\n",
               v["file"], v["a_median_ns"], v["b_median_ns"], v["ratio_median"],
               v["ratio_q1"], v["ratio_q3"], v["rounds"]
    }'
