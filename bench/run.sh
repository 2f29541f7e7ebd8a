#!/usr/bin/env bash
# bench/run.sh - the benchmarks in one command: build, generate workloads, measure, report.
#
#   bench/run.sh [SECTION...]   from anywhere (as root for e2e and live); prints the results
#
# SECTIONs: decode (a, a2), print (b), flows (c), memory (d), export (e), ingest (f), e2e (g),
# live (h), store (i), ui (k); none: all of them, written to bench/results.md. With some, only those are
# measured and replace their sections in bench/results.md (the others are kept as they were;
# each section of (e)-(h) says when it was measured).
#
# Steps: a Release build in build/bench; deterministic workloads from bench/gen_traffic.c in
# bench/out/ (git-ignored; regenerated only when the generator or the sizes change); then
#   (a) decode cost, ns/packet, fast path and protocol-tree path (bench_decode), with the
#       clock the thread got around each round (GHz-equivalent) and ns x clock per packet,
#       and (a2) its instructions per packet, counted by callgrind (valgrind): immune to load;
#   (b) `netscope print -r` against `tcpdump -n -r`, to /dev/null;
#   (c) `netscope flows -r` against tshark conversations, softflowd, ndpiReader and argus;
#   (d) flow-table memory: max RSS of `netscope flows` over 1,000,000 concurrent TCP flows;
#   (e)-(h) the distributed pipeline (bench/pipeline.sh): the agent's export cost against
#       `flows -r`, the collector's ingest rate per core (bench_ingest), capture-to-collector
#       latency and the live capture rate without drops (network namespaces, send_udp);
#   (i) the collector's history store (bench_store): write rate of final flow records
#       through its queue and writer thread, database bytes per flow, and query latency
#       (one host's flows, top 10 talkers, last hour) over NS_BENCH_STORE_FLOWS records;
#       side by side, the same records loaded through the collector's ClickHouse sink into a
#       clickhouse-server started here on loopback, and the same queries as SQL over HTTP;
#   (k) the dashboard (bench/ui.sh): rendering in headless Chromium, and capture to screen
#       (probes sent in one namespace, captured by an agent in another, their rows timed on
#       the dashboard's flow table) with the stream's collector-to-screen latency.
# In (b), (c) and (e) the commands run interleaved (round 1 of every command, then round 2,
# ...), so a burst of load on this shared machine hits all of them rather than one; each
# command is timed by wall clock and by CPU time (user + sys from /usr/bin/time), medians
# reported. A peer that is not installed is reported as such, never dropped.
#
# Environment (defaults in brackets):
#   NS_BENCH_PACKETS [1000000]   packets in the mix
#   NS_BENCH_HANDSHAKE_PACKETS [300000]
#   NS_BENCH_FLOWS [1000000]     concurrent flows for the memory benchmark
#   NS_BENCH_RUNS [5]            runs per command (>= 5 for the headline numbers)
#   NS_BENCH_SLOW_RUNS [3]       runs for a peer whose first run took > NS_BENCH_SLOW_S [30] s
#   NS_BENCH_SEED [1]
#   NS_BENCH_INSTR_PACKETS [20000] packets per workload counted under callgrind
#   NS_BENCH_SKIP_BUILD [0]      1: use the binaries already in build/bench
#   and for (e)-(h) (bench/pipeline.sh): NS_BENCH_EXPORT_RUNS [9],
#   NS_BENCH_EXPORT_INSTR_PACKETS [200000],
#   NS_BENCH_INGEST_AGENTS [4], NS_BENCH_INGEST_SECONDS [10], NS_BENCH_INGEST_RUNS [3],
#   NS_BENCH_INGEST_INSTR_SECONDS [8], NS_BENCH_E2E_PPS [250], NS_BENCH_E2E_SECONDS [20],
#   NS_BENCH_E2E_RUNS [3], NS_BENCH_LIVE_RATES ["100000 200000 300000 400000 500000 700000"],
#   NS_BENCH_LIVE_SECONDS [5], NS_BENCH_LIVE_RUNS [2]
#   and for (i): NS_BENCH_STORE_FLOWS [10000000] (about 13 GB of disk while it runs, LMDB
#   and ClickHouse together; ~30 min at 10 million), NS_BENCH_STORE_ROUNDS [200] rounds of
#   the host query on each engine (the top-10 query: 20 at most)
#   and for (k) (bench/ui.sh): NS_BENCH_UI_RUNS [3] runs of the rendering benchmark,
#   NS_BENCH_UI_PROBES [40] probes; NS_CHROMIUM [/usr/bin/chromium]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=build/bench
OUT=bench/out
RESULTS=bench/results.md
PACKETS=${NS_BENCH_PACKETS:-1000000}
HS_PACKETS=${NS_BENCH_HANDSHAKE_PACKETS:-300000}
FLOWS=${NS_BENCH_FLOWS:-1000000}
RUNS=${NS_BENCH_RUNS:-5}
SLOW_RUNS=${NS_BENCH_SLOW_RUNS:-3}
SLOW_S=${NS_BENCH_SLOW_S:-30}
SEED=${NS_BENCH_SEED:-1}
MEM_TARGET_MIB=200
DECODE_TARGET_NS=50

NETSCOPE=$BUILD/cli/netscope
GEN=$BUILD/bench/gen_traffic
BENCH_DECODE=$BUILD/bench/bench_decode
MIX=$OUT/mix.pcap
HS=$OUT/handshakes.pcap
CONC=$OUT/concurrent_1M.pcap
TMP=$(mktemp -d)
trap 'pipeline_cleanup; ch_stop; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
START_S=$SECONDS
SECTIONS=(decode print flows memory export ingest e2e live store ui)

log() { printf '[bench %4ds] %s\n' $((SECONDS - START_S)) "$*" >&2; }
die() { log "error: $*"; exit 1; }

# ---- build ---------------------------------------------------------------------------------
build() {
    [[ ${NS_BENCH_SKIP_BUILD:-0} == 1 ]] && return 0
    log "building (Release) in $BUILD"
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >"$TMP/cmake.log" 2>&1 ||
        { cat "$TMP/cmake.log" >&2; die "cmake configure failed"; }
    cmake --build "$BUILD" -j"$(nproc)" --target netscope gen_traffic bench_decode \
        netscope-agent netscope-collector bench_ingest send_udp bench_store $BUILD_EXTRA \
        >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log" >&2; die "build failed"; }
}

# ---- workloads -----------------------------------------------------------------------------
# gen FILE STAMP ARGS...: regenerate FILE unless its stamp (generator hash + arguments) matches.
gen() {
    local file=$1 stamp=$2
    shift 2
    local want
    want="$(sha256sum "$GEN" | cut -c1-16) $*"
    if [[ -s $file && -f $stamp && "$(head -n 1 "$stamp")" == "$want" ]]; then
        log "workload $file is up to date"
        return 0
    fi
    log "generating $file: gen_traffic $*"
    "$GEN" -w "$file.tmp" "$@" 2>"$TMP/gen.log" || { cat "$TMP/gen.log" >&2; die "gen_traffic failed"; }
    mv "$file.tmp" "$file"
    cat "$TMP/gen.log" >&2
    # The stamp: what made the file, then its packet count ("gen_traffic: PATH: N packets, ...").
    { printf '%s\n' "$want"; awk '{ print $3; exit }' "$TMP/gen.log"; } >"$stamp"
}

# Packets in a generated workload, from its stamp.
packets_of() { sed -n 2p "$1"; }

workloads() {
    mkdir -p "$OUT"
    gen "$MIX" "$OUT/.mix.stamp" --mix -c "$PACKETS" --seed "$SEED"
    gen "$HS" "$OUT/.hs.stamp" --handshakes -c "$HS_PACKETS" --seed "$SEED"
    gen "$CONC" "$OUT/.conc.stamp" --concurrent-flows "$FLOWS" --seed "$SEED"
    # Reads from the page cache from here on: no tool pays for the disk.
    cat "$MIX" "$HS" "$CONC" >/dev/null
}

# ---- timing --------------------------------------------------------------------------------
# Results per command id: $TMP/<id>.runs, lines "wall_s cpu_s maxrss_kb exit".
declare -A CMD SLOW
IDS=()

add_cmd() { # id command (a shell command line; output redirections included)
    IDS+=("$1")
    CMD[$1]=$2
    SLOW[$1]=0
    : >"$TMP/$1.runs"
}

# Run command `id` once; append its timing line; keep the first lines of stderr.
time_once() {
    local id=$1 t0 t1 rc=0
    t0=$EPOCHREALTIME
    /usr/bin/time -f '%U %S %M' -o "$TMP/$id.time" sh -c "exec ${CMD[$id]}" 2>"$TMP/$id.err" || rc=$?
    t1=$EPOCHREALTIME
    local usr sys rss
    read -r usr sys rss < <(tail -n 1 "$TMP/$id.time")
    awk -v a="$t0" -v b="$t1" -v u="$usr" -v s="$sys" -v m="$rss" -v rc="$rc" \
        'BEGIN { printf "%.4f %.2f %d %d\n", b - a, u + s, m, rc }' >>"$TMP/$id.runs"
    if ((rc != 0)); then
        log "  $id exited with status $rc: $(head -c 300 "$TMP/$id.err" | head -n 2 | tr '\n' ' ')"
    fi
}

# Interleaved rounds over the given ids; a command slower than SLOW_S s is run SLOW_RUNS times.
run_rounds() {
    local r id wall
    for ((r = 1; r <= RUNS; r++)); do
        log "round $r/$RUNS"
        for id in "$@"; do
            if ((r > SLOW_RUNS)) && [[ ${SLOW[$id]} == 1 ]]; then continue; fi
            time_once "$id"
            wall=$(tail -n 1 "$TMP/$id.runs" | cut -d' ' -f1)
            if ((r == 1)) && awk -v w="$wall" -v s="$SLOW_S" 'BEGIN { exit !(w > s) }'; then
                SLOW[$id]=1
                log "  $id took ${wall}s: $SLOW_RUNS runs only"
            fi
        done
    done
}

# median <id> <column>: median over the runs (column 1 wall s, 2 cpu s, 3 max RSS KiB).
median() {
    cut -d' ' -f"$2" "$TMP/$1.runs" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
              else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

nruns() { wc -l <"$TMP/$1.runs" | tr -d ' '; }

# failed <id>: true when any run exited non-zero.
failed() { awk '$4 != 0 { bad = 1 } END { exit !bad }' "$TMP/$1.runs"; }

have() { command -v "$1" >/dev/null 2>&1; }

# ---- report helpers ------------------------------------------------------------------------
md=()
emit() { md+=("$*"); }

# A table row for a timed command: label, id, packets, base id. Ratios are peer/base medians:
# above 1 the base (NetScope) is faster.
TABLE_HEAD="| command | runs | wall s | CPU s | packets/s | ns/packet | max RSS MiB | wall ratio (peer/netscope) | CPU ratio |"
TABLE_SEP="| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
timed_row() {
    local label=$1 id=$2 pkts=$3 base=$4 base_ok=1
    if failed "$id"; then
        emit "| $label | failed: exit $(awk '$4 != 0 { print $4; exit }' "$TMP/$id.runs"), $(head -n 1 "$TMP/$id.err" | cut -c1-100 | tr '|' '/') | | | | | | | |"
        return
    fi
    failed "$base" && base_ok=0
    emit "$(awk -v l="$label" -v w="$(median "$id" 1)" -v c="$(median "$id" 2)" \
        -v m="$(median "$id" 3)" -v bw="$(median "$base" 1)" -v bc="$(median "$base" 2)" \
        -v ok="$base_ok" -v p="$pkts" -v n="$(nruns "$id")" 'BEGIN {
        rw = (ok && bw > 0) ? sprintf("%.2f", w / bw) : "n/a";
        rc = (ok && bc > 0) ? sprintf("%.2f", c / bc) : "n/a";
        printf "| %s | %d | %.2f | %.2f | %.0f | %.0f | %.0f | %s | %s |",
               l, n, w, c, p / w, w * 1e9 / p, m / 1024, rw, rc }')"
}

not_installed_row() { emit "| $1 | not installed ($2) | | | | | | | |"; }

# ---- (a) decode ----------------------------------------------------------------------------
bench_decode_section() {
    log "(a) decode cost: bench_decode -n $RUNS"
    "$BENCH_DECODE" -n "$RUNS" "$HS" "$MIX" >"$TMP/decode.txt" 2>"$TMP/decode.err" ||
        log "bench_decode failed: $(head -n 3 "$TMP/decode.err")"
    cat "$TMP/decode.txt" >&2
    emit "## (a) Decode cost: \`ns_decode_frame\`, packets in memory"
    emit ""
    emit "ns/packet over $RUNS rounds after a warm-up round: median (min-max) by wall clock"
    emit "(CLOCK_MONOTONIC), and the median by the thread's CPU clock, which other jobs on this"
    emit "machine inflate less. *Streamed*: one pass over the whole capture in memory, so every"
    emit "frame's first bytes come from DRAM. *In cache*: batches of 256 frames copied (untimed)"
    emit "into a 512 KiB buffer first, as libpcap's read buffer hands them over: the decoder's own"
    emit "cost. Target: < ${DECODE_TARGET_NS} ns/packet (requirement: < 1 µs) on the wall-clock medians."
    emit "*Clock*: the rate of a chain of dependent additions (one per cycle) timed around each round,"
    emit "in GHz-equivalent: the speed this thread was getting from the shared machine; *≈ cycles*:"
    emit "the median over rounds of ns/packet × that clock, a cost that moves less with the load."
    emit ""
    emit "| workload | packets | fast path, streamed: wall | CPU | fast path, in cache: wall | clock GHz-eq (streamed / in cache) | ≈ cycles/packet in cache | protocol tree, streamed: wall | CPU | all layers OK | < ${DECODE_TARGET_NS} ns (streamed / in cache) |"
    emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
    local f name
    for f in "$HS" "$MIX"; do
        name=$(basename "$f")
        awk -v f="$f" -v name="$name" -v target="$DECODE_TARGET_NS" '
            function kv(line, key,   re) { re = key "=[^ ]*"; if (match(line, re)) return substr(line, RSTART + length(key) + 1, RLENGTH - length(key) - 1); return "" }
            $1 == "outcomes" && kv($0, "file") == f { pk = kv($0, "packets"); ok = kv($0, "ok") }
            $1 == "decode" && kv($0, "file") == f && kv($0, "path") == "fast" { fast = sprintf("%s (%s-%s)", kv($0, "median_ns"), kv($0, "min_ns"), kv($0, "max_ns")); fm = kv($0, "median_ns"); fc = kv($0, "cpu_median_ns"); fg = kv($0, "ghz_median") }
            $1 == "decode" && kv($0, "file") == f && kv($0, "path") == "cached" { cached = sprintf("%s (%s-%s)", kv($0, "median_ns"), kv($0, "min_ns"), kv($0, "max_ns")); cm = kv($0, "median_ns"); cg = kv($0, "ghz_median"); cc = kv($0, "cycles_median") }
            $1 == "decode" && kv($0, "file") == f && kv($0, "path") == "fields" { tree = sprintf("%s (%s-%s)", kv($0, "median_ns"), kv($0, "min_ns"), kv($0, "max_ns")); tc = kv($0, "cpu_median_ns") }
            END {
                if (pk == "") { printf "| %s | | bench_decode failed | | | | | | | | |\n", name; exit }
                printf "| %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %.1f%% | %s / %s |\n", name, pk, fast, fc, cached, fg, cg, cc, tree, tc, 100 * ok / pk,
                       (fm + 0 < target) ? "yes" : "**no**", (cm + 0 < target) ? "yes" : "**no**"
            }' "$TMP/decode.txt" >"$TMP/row"
        emit "$(cat "$TMP/row")"
    done
    local notes
    # Outcome counters of the layers that were not OK, e.g. "http.unsupported=5030".
    notes=$(awk '$1 == "outcomes" { n = split($0, w, " "); bad = ""
                for (i = 5; i <= n; i++) bad = bad " `" w[i] "`"
                if (bad != "") print "- " w[2] ": layers not OK:" bad }' "$TMP/decode.txt")
    [[ -n $notes ]] && { emit ""; emit "$notes"; }
    emit ""
}

# ---- (a2) decode instructions ---------------------------------------------------------------
# Instructions per packet, counted by callgrind on the first INSTR_PKTS packets of each
# workload: exact and repeatable, whatever the clock speed or load of the machine, so a change
# in the decoder's cost shows even when the wall-clock medians above swing with other jobs.
INSTR_PKTS=${NS_BENCH_INSTR_PACKETS:-20000}
instr_section() {
    emit "## (a2) Decode instructions per packet (callgrind, first $INSTR_PKTS packets)"
    emit ""
    if ! have valgrind; then
        emit "valgrind is not installed (\`make bench\` installs it): not measured."
        emit ""
        return 0
    fi
    log "(a2) instructions per packet: callgrind on $INSTR_PKTS packets"
    emit "\`ns_decode_frame\` inclusive instructions per call: unlike time, the same on any load."
    emit ""
    emit "| workload | fast path | protocol tree |"
    emit "| --- | ---: | ---: |"
    local f name path per row
    for f in "$HS" "$MIX"; do
        name=$(basename "$f")
        "$NETSCOPE" print -r "$f" -c "$INSTR_PKTS" -w "$TMP/sample.pcap" >/dev/null
        row="| $name"
        for path in cached fields; do
            valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.out" \
                "$BENCH_DECODE" -n 1 --path "$path" "$TMP/sample.pcap" >/dev/null 2>&1 ||
                log "callgrind on $name ($path) failed"
            per=$(python3 bench/callgrind_per_call.py "$TMP/cg.out" ns_decode_frame 2>/dev/null |
                  sed -n 's/.*instr_per_call=//p')
            row="$row | ${per:-failed}"
        done
        emit "$row |"
    done
    emit ""
}

# ---- (b) print vs tcpdump ------------------------------------------------------------------
print_section() {
    log "(b) netscope print vs tcpdump"
    local ids=()
    add_cmd ns_print "$NETSCOPE print -r $MIX >/dev/null"
    ids+=(ns_print)
    if have tcpdump; then
        add_cmd tcpdump "tcpdump -n -r $MIX >/dev/null"
        ids+=(tcpdump)
    fi
    run_rounds "${ids[@]}"
    emit "## (b) Packet printing: \`netscope print -r\` vs \`tcpdump -n -r\` ($MIX_PKTS packets, text to /dev/null)"
    emit ""
    emit "$TABLE_HEAD"
    emit "$TABLE_SEP"
    timed_row "netscope print -r" ns_print "$MIX_PKTS" ns_print
    if have tcpdump; then
        timed_row "tcpdump -n -r" tcpdump "$MIX_PKTS" ns_print
    else
        not_installed_row "tcpdump -n -r" "Debian package tcpdump"
    fi
    emit ""
}

# ---- (c) flows vs peers --------------------------------------------------------------------
flows_section() {
    log "(c) netscope flows vs flow tools"
    local ids=(ns_flows ns_flows_csv)
    add_cmd ns_flows "$NETSCOPE flows -r $MIX >/dev/null"
    add_cmd ns_flows_csv "$NETSCOPE flows -r $MIX --format csv >/dev/null"
    if have tshark; then
        add_cmd tshark "tshark -q -z conv,tcp -z conv,udp -r $MIX >/dev/null"
        ids+=(tshark)
    fi
    if have softflowd; then
        # -r: read the file, no fork, exit at its end; exports go to the discard port on
        # loopback only. -6 tracks IPv6 too, -m gives it NetScope's table capacity.
        add_cmd softflowd "softflowd -r $MIX -n 127.0.0.1:9 -6 -m 1048576 >/dev/null"
        ids+=(softflowd)
    fi
    if have ndpiReader; then
        add_cmd ndpi "ndpiReader -q -i $MIX >/dev/null"
        ids+=(ndpi)
    fi
    if have argus; then
        add_cmd argus "argus -r $MIX -w /dev/null"
        ids+=(argus)
    fi
    run_rounds "${ids[@]}"
    emit "## (c) Flow records: \`netscope flows -r\` vs flow tools ($MIX_PKTS packets)"
    emit ""
    emit "Ratios are the peer's median over NetScope's: above 1, NetScope is faster."
    emit ""
    emit "$TABLE_HEAD"
    emit "$TABLE_SEP"
    timed_row "netscope flows -r" ns_flows "$MIX_PKTS" ns_flows
    timed_row "netscope flows -r --format csv (same work, cheaper output)" ns_flows_csv "$MIX_PKTS" ns_flows
    if have tshark; then timed_row "tshark -q -z conv,tcp -z conv,udp" tshark "$MIX_PKTS" ns_flows
    else not_installed_row "tshark -q -z conv,tcp -z conv,udp" "Debian package tshark"; fi
    if have softflowd; then timed_row "softflowd -r (NetFlow to 127.0.0.1:9)" softflowd "$MIX_PKTS" ns_flows
    else not_installed_row "softflowd -r" "Debian package softflowd"; fi
    if have ndpiReader; then timed_row "ndpiReader -i" ndpi "$MIX_PKTS" ns_flows
    else not_installed_row "ndpiReader -i" "Debian package libndpi-bin"; fi
    if have argus; then timed_row "argus -r" argus "$MIX_PKTS" ns_flows
    else not_installed_row "argus -r" "Debian package argus-server"; fi
    emit ""
}

# ---- (d) memory ----------------------------------------------------------------------------
memory_section() {
    log "(d) flow-table memory: $FLOWS concurrent flows"
    local cmd="$NETSCOPE flows -r $CONC --max-flows 1048576 --idle-timeout 100000 >/dev/null"
    local rc=0
    /usr/bin/time -v sh -c "exec $cmd" 2>"$TMP/mem.txt" || rc=$?
    local kb wall
    kb=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$TMP/mem.txt")
    wall=$(awk '/Elapsed \(wall clock\)/ { print $NF }' "$TMP/mem.txt")
    emit "## (d) Flow-table memory: $FLOWS concurrent TCP flows ($CONC_PKTS packets)"
    emit ""
    emit "| command | exit | max RSS MiB | wall | target | within target |"
    emit "| --- | ---: | ---: | ---: | ---: | --- |"
    if ((rc != 0)); then
        emit "| \`netscope flows --max-flows 1048576\` | $rc ($(grep -v -e '^\s' "$TMP/mem.txt" | head -n 1 | cut -c1-80 | tr '|' '/')) | | | < $MEM_TARGET_MIB MiB | n/a |"
    else
        awk -v kb="$kb" -v w="$wall" -v t="$MEM_TARGET_MIB" 'BEGIN {
            printf "| `netscope flows --max-flows 1048576` | 0 | %.1f | %s | < %d MiB | %s |\n",
                   kb / 1024, w, t, (kb / 1024 < t) ? "yes" : "**no**" }' >"$TMP/row"
        emit "$(cat "$TMP/row")"
    fi
    emit ""
}

# ---- (i) history store ----------------------------------------------------------------------
# ch_server DIR: Debian's clickhouse-server on loopback for (i), configuration and data in DIR,
# started as tests/integration/test_clickhouse.sh starts it; sets CH_PORT and CH_PID. False
# when it is not installed or did not start.
# shellcheck source=tests/integration/clickhouse_server.sh
source "$ROOT/tests/integration/clickhouse_server.sh"
CH_PID=
ch_server() {
    local bin= b
    for b in /usr/bin/clickhouse-server /usr/sbin/clickhouse-server; do
        [[ -x $b ]] && { bin=$b; break; }
    done
    [[ -n $bin ]] || return 1
    if ! ns_ch_start "$1" "$bin"; then
        log "clickhouse-server did not start: $(tail -n 3 "$1/server.err.log" "$1/stdout.log" 2>/dev/null | tr '\n' ' ')"
        return 1
    fi
    CH_PORT=$NS_CH_PORT CH_PID=$NS_CH_PID
}
ch_stop() {
    ns_ch_stop
    CH_PID=
}

store_section() {
    local n=${NS_BENCH_STORE_FLOWS:-10000000} r=${NS_BENCH_STORE_ROUNDS:-200} rc=0 dir ch=()
    local chv=none load line
    load=$(cut -d' ' -f1-3 /proc/loadavg)
    log "(i) history store: $n flow records, then queries (LMDB, and ClickHouse if installed)"
    dir=$(mktemp -d "${TMPDIR:-/tmp}/bench_store.XXXXXX")
    if ch_server "$dir/ch"; then
        ch=(-c "http://127.0.0.1:$CH_PORT")
        chv=$(curl -s "http://127.0.0.1:$CH_PORT/?query=SELECT%20version()")
    fi
    "$BUILD/bench/bench_store" -n "$n" -r "$r" -d "$dir/db" "${ch[@]}" >"$TMP/store.txt" 2>&1 || rc=$?
    ch_stop
    rm -rf "$dir"
    emit "## (i) History store: $n final flow records into LMDB, then queries"
    emit ""
    emit "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), load average $load at the start and"
    emit "$(cut -d' ' -f1-3 /proc/loadavg) at the end (2 cores shared with other jobs):"
    emit "\`bench_store -n $n -r $r -d DIR ${ch[*]}\` (exit $rc). One producer"
    emit "thread puts records as the collector's ingest does; the writer commits every 250 ms"
    emit "(sync meta). Goals: 500,000 records/s; p99 < 20 ms (host), < 50 ms (top 10)."
    if ((${#ch[@]})); then
        emit "Then the same records (same generator, same times) go through the collector's"
        emit "ClickHouse sink into clickhouse-server $chv, started on loopback for the run (its"
        emit "own data directory, fresh ports, stopped by PID), and the same two queries run there"
        emit "as SQL over HTTP from bench_store (a new connection per query, timed from connect to"
        emit "the last byte of the answer), as many rounds, for the same hosts. LMDB's times are"
        emit "in process (no HTTP). \"Exact window\" selects on the record's end as the store does"
        emit "(\`ts + duration\`, no index); \"window on ts\" on the flow's start, the table's sort"
        emit "key (a flow that straddles the hour's start may differ)."
    else
        emit "clickhouse-server is not installed (Debian package clickhouse-server): ClickHouse not measured."
    fi
    emit ""
    if grep -q '^|' "$TMP/store.txt"; then
        while IFS= read -r line; do emit "$line"; done < <(grep '^|' "$TMP/store.txt")
        emit ""
    fi
    emit '```'
    while IFS= read -r line; do emit "$line"; done < <(grep -v '^|' "$TMP/store.txt")
    emit '```'
    emit ""
}

# ---- header and commands -------------------------------------------------------------------
header() {
    local cpu cores mem
    cpu=$(lscpu | awk -F: '/^Model name/ { sub(/^ +/, "", $2); print $2; exit }')
    cores=$(nproc)
    mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
    emit "# NetScope benchmarks"
    emit ""
    emit "Generated by \`bench/run.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    emit ""
    emit "| | |"
    emit "| --- | --- |"
    emit "| machine | $cpu, $cores cores (\`nproc\`), $mem RAM, Linux $(uname -r) |"
    emit "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg) (shared machine: other jobs run alongside) |"
    emit "| commit | $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- . ':(exclude)bench/results.md' 2>/dev/null || echo ' (with uncommitted changes)') |"
    emit "| compiler | $(cc --version | head -n 1), CMAKE_BUILD_TYPE=Release (-O3, link-time optimisation) |"
    emit "| workloads | \`$MIX\` $MIX_PKTS packets ($(du -m "$MIX" | cut -f1) MB), \`$HS\` $HS_PKTS packets, \`$CONC\` $CONC_PKTS packets; seed $SEED |"
    emit "| runs | $RUNS per command, interleaved; peers slower than ${SLOW_S} s per run: $SLOW_RUNS |"
    emit ""
}

versions_and_commands() {
    emit "## Commands and versions"
    emit ""
    emit '```'
    emit "$GEN -w $MIX --mix -c $PACKETS --seed $SEED"
    emit "$GEN -w $HS --handshakes -c $HS_PACKETS --seed $SEED"
    emit "$GEN -w $CONC --concurrent-flows $FLOWS --seed $SEED"
    emit "$BENCH_DECODE -n $RUNS $HS $MIX"
    emit "$NETSCOPE print -r <workload> -c $INSTR_PKTS -w sample.pcap   # then, for PATH in cached, fields:"
    emit "valgrind --tool=callgrind --callgrind-out-file=cg.out $BENCH_DECODE -n 1 --path PATH sample.pcap"
    emit "bench/callgrind_per_call.py cg.out ns_decode_frame"
    have valgrind && emit "# $(valgrind --version 2>/dev/null)"
    local id
    for id in "${IDS[@]}"; do
        [[ $id == exp_* ]] && continue # (e) lists its own commands
        emit "${CMD[$id]}"
    done
    emit "$NETSCOPE flows -r $CONC --max-flows 1048576 --idle-timeout 100000 >/dev/null   # under /usr/bin/time -v"
    emit '```'
    emit ""
    have tcpdump && emit "- $(tcpdump --version 2>&1 | head -n 1)"
    have tshark && emit "- $(tshark -v 2>/dev/null | head -n 1)"
    have softflowd && emit "- softflowd $(dpkg-query -W -f='${Version}' softflowd 2>/dev/null)"
    have ndpiReader && emit "- nDPI $(dpkg-query -W -f='${Version}' libndpi-bin 2>/dev/null)"
    have argus && emit "- argus $(dpkg-query -W -f='${Version}' argus-server 2>/dev/null)"
    emit "- Timing: our own interleaved loop (EPOCHREALTIME around /usr/bin/time), not hyperfine,"
    emit "  whose runs of one command are consecutive."
    emit "- Wall time is what a user waits; CPU time (user + sys) is less disturbed by other jobs on"
    emit "  this shared machine. packets/s and ns/packet use the median wall time."
    emit "- Total run time of this script: $((SECONDS - START_S)) s."
}

# ---- main ----------------------------------------------------------------------------------

# shellcheck source=bench/pipeline.sh
source "$ROOT/bench/pipeline.sh"
# shellcheck source=bench/ui.sh
source "$ROOT/bench/ui.sh"

# Replace the sections of $RESULTS that were measured now (keyed by their "## (x)" heading)
# with the new ones in $1; new sections missing from the file go before "Commands and
# versions". Everything else stays as it was. With $2 = all ($1 has every section): $1, then
# the sections of $RESULTS written by hand (headings without "(x)", e.g. notes), kept.
merge_results() {
    python3 - "$RESULTS" "$1" "${2:-}" <<'EOF'
import re, sys
def blocks(text):
    out, key = [], "head"
    for line in text.splitlines(keepends=True):
        m = re.match(r"## \(([a-z0-9]+)\)|## (.*)", line)
        if m:
            key = m.group(1) or "~" + m.group(2)
        if not out or out[-1][0] != key:
            out.append([key, ""])
        out[-1][1] += line
    return out
old = blocks(open(sys.argv[1]).read())
fresh = {k: v for k, v in blocks(open(sys.argv[2]).read()) if k != "head"}
known = {k for k, _ in old}
result, placed = [], set()
if sys.argv[3] == "all":
    # a run of every section: its file, then the sections written by hand (no "(x)")
    text = open(sys.argv[2]).read()
    kept = [v for k, v in old if k.startswith("~") and k not in fresh]
    open(sys.argv[1], "w").write(text + "".join("\n" + v.rstrip("\n") + "\n" for v in kept))
    sys.exit(0)
for key, text in old:
    if key.startswith("~Commands"):
        result += [v for k, v in fresh.items() if k not in known]
        placed |= fresh.keys() - known
    result.append(fresh.get(key, text))
    placed.add(key)
result += [v for k, v in fresh.items() if k not in placed]
open(sys.argv[1], "w").write("".join(result))
EOF
}

main() {
    [[ -x /usr/bin/time ]] || die "/usr/bin/time is missing: apt-get install -y time"
    local want=() s
    for s in "$@"; do
        [[ " ${SECTIONS[*]} " == *" $s "* ]] || die "unknown section '$s' (sections: ${SECTIONS[*]})"
        want+=("$s")
    done
    local partial=0
    ((${#want[@]} > 0)) || want=("${SECTIONS[@]}")
    ((${#want[@]} < ${#SECTIONS[@]})) && partial=1
    ((partial)) && [[ ! -f $RESULTS ]] && die "$RESULTS does not exist yet: run every section once"
    # the dashboard's bundle (npm ci, esbuild) only for the section that opens it
    BUILD_EXTRA=
    [[ " ${want[*]} " == *" ui "* ]] && BUILD_EXTRA=netscope_ui
    build
    if [[ " ${want[*]} " != " ui " ]]; then # (k) alone reads no workload
        workloads
        MIX_PKTS=$(packets_of "$OUT/.mix.stamp")
        HS_PKTS=$(packets_of "$OUT/.hs.stamp")
        CONC_PKTS=$(packets_of "$OUT/.conc.stamp")
    fi
    ((partial)) || header
    for s in "${want[@]}"; do
        case $s in
        decode) bench_decode_section; instr_section ;;
        print) print_section ;;
        flows) flows_section ;;
        memory) memory_section ;;
        *) "${s}_section" ;;
        esac
    done
    if ((partial)); then
        printf '%s\n' "${md[@]}" >"$TMP/new.md"
        merge_results "$TMP/new.md"
        printf '%s\n' "${md[@]}"
    else
        versions_and_commands
        printf '%s\n' "${md[@]}" >"$TMP/new.md"
        [[ -f $RESULTS ]] || : >"$RESULTS"
        merge_results "$TMP/new.md" all
        cat "$RESULTS"
    fi
    log "wrote $RESULTS"
}

main "$@"
