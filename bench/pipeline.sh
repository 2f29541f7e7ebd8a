# bench/pipeline.sh - the distributed pipeline's benchmarks; sourced by bench/run.sh, which
# provides the build, the workloads, the timing loop and the report helpers.
#
#   (e) export cost: `netscope-agent --replay mix.pcap --replay-speed max` exporting to a
#       collector over CURVE, against `netscope flows -r mix.pcap`, interleaved; variants that
#       take one cost away each (plain text, a 1 MB frame ring, final records only), and with
#       NS_BENCH_EXPORT_BASELINE=AGENT_BINARY an earlier build of the agent in the same rounds
#       (before/after); then the instructions of both by stage (callgrind), immune to the
#       load of this machine;
#   (f) collector ingest: bench_ingest (agents speaking the real protocol over CURVE) against
#       a fresh collector per run, the collector's CPU time from /proc/PID/stat; and where
#       its instructions go (callgrind);
#   (g) end to end: UDP flows started every few ms in one network namespace, captured by an
#       agent on the veth of another, merged by a collector writing every update with its
#       receive time (output.updates): latency from the first packet's capture to the merge;
#   (h) live capture: the agent and tcpdump, one after the other, on the same veth at paced
#       rates (send_udp), kernel drops from each one's own counters.
# (g) and (h) need root (network namespaces): without it they say so and measure nothing.
# Every process started here is stopped by its PID; the namespaces are removed at exit.

AGENT=$BUILD/agent/netscope-agent
COLLECTOR=$BUILD/collector/netscope-collector
BENCH_INGEST=$BUILD/bench/bench_ingest
SEND_UDP=$BUILD/bench/send_udp
EXPORT_RUNS=${NS_BENCH_EXPORT_RUNS:-9}
EXPORT_INSTR_PKTS=${NS_BENCH_EXPORT_INSTR_PACKETS:-200000}
EXPORT_BASELINE=${NS_BENCH_EXPORT_BASELINE:-} # an earlier agent binary, run in the same rounds
INGEST_AGENTS=${NS_BENCH_INGEST_AGENTS:-4}
INGEST_SECONDS=${NS_BENCH_INGEST_SECONDS:-10}
INGEST_RUNS=${NS_BENCH_INGEST_RUNS:-3}
INGEST_INSTR_SECONDS=${NS_BENCH_INGEST_INSTR_SECONDS:-8}
E2E_PPS=${NS_BENCH_E2E_PPS:-250}
E2E_SECONDS=${NS_BENCH_E2E_SECONDS:-20}
E2E_RUNS=${NS_BENCH_E2E_RUNS:-3}
LIVE_RATES=${NS_BENCH_LIVE_RATES:-"100000 200000 400000 700000 1000000 1500000"}
LIVE_SECONDS=${NS_BENCH_LIVE_SECONDS:-5}
LIVE_RUNS=${NS_BENCH_LIVE_RUNS:-2}
INGEST_GOAL=1000000
E2E_GOAL_MS=300
LIVE_GOAL_PPS=100000

KEYS=$TMP/keys
RIG_SND=nsbench-snd # the sender's namespace and veth end
RIG_AGT=nsbench-agt # the capture's namespace (agent, collector, tcpdump)
RIG_IF=nsbench-a
RIG_DST=10.203.0.9  # nobody's address: frames to it are captured, then dropped unanswered
STARTED=()          # PIDs to stop at exit
COLL_WRAP=          # a command the collector runs under (valgrind)

# ---- processes, keys, collectors ------------------------------------------------------------

# stop_pid PID: SIGTERM, then SIGKILL after 30 s.
stop_pid() {
    local pid=$1 i
    kill "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 300; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

pipeline_cleanup() {
    local pid
    for pid in "${STARTED[@]}"; do stop_pid "$pid"; done
    rig_down
}

# A collector key pair and INGEST_AGENTS agent key pairs, the agents' public keys allowed.
make_keys() {
    [[ -d $KEYS ]] && return 0
    mkdir -p "$KEYS/allowed"
    "$NETSCOPE" keygen "$KEYS/collector" >/dev/null
    local i
    for ((i = 0; i < INGEST_AGENTS; i++)); do
        "$NETSCOPE" keygen "$KEYS/ag$i" >/dev/null
        cp "$KEYS/ag$i.key" "$KEYS/allowed/"
    done
}

curve_collector() { printf '%s' "--key $KEYS/collector.key_secret --allowed-keys $KEYS/allowed"; }

# A command line as the report shows it: KEYS for the key directory, EP for an endpoint.
shown() { sed -e "s|$KEYS|KEYS|g" -e 's|tcp://127\.0\.0\.1:[0-9][0-9]*|EP|g' <<<"$1"; }
KEYS_NOTE="KEYS: \`netscope keygen KEYS/collector\`, \`netscope keygen KEYS/agN\` and each KEYS/agN.key copied into KEYS/allowed/."
curve_agent() { printf '%s' "--collector-key $KEYS/collector.key --key $KEYS/ag${1:-0}.key_secret"; }

# wait_for PID FILE PATTERN: true once FILE has a line matching PATTERN (grep -E); false
# when process PID ends first or 10 s pass.
wait_for() {
    local i
    for ((i = 0; i < 100; i++)); do
        grep -qE -- "$3" "$2" 2>/dev/null && return 0
        kill -0 "$1" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# collector_start NAME NETNS ARGS...: a collector on 127.0.0.1 (any free port) in network
# namespace NETNS ("" for this one), its log in $TMP/NAME.log. Sets COLL_PID and COLL_EP.
collector_start() {
    local name=$1 netns=$2
    shift 2
    local pre=()
    [[ -n $netns ]] && pre=(ip netns exec "$netns")
    COLL_EP=
    # shellcheck disable=SC2068,SC2086
    "${pre[@]}" $COLL_WRAP "$COLLECTOR" --listen 'tcp://127.0.0.1:*' $@ 2>"$TMP/$name.log" &
    COLL_PID=$!
    STARTED+=("$COLL_PID")
    if wait_for "$COLL_PID" "$TMP/$name.log" ' listening on '; then
        COLL_EP=$(sed -n 's/.* listening on \([^ ]*\) .*/\1/p' "$TMP/$name.log")
        return 0
    fi
    log "collector $name did not start: $(tail -n 2 "$TMP/$name.log" | tr '\n' ' ')"
    return 1
}

# proc_cpu PID: its user + system CPU seconds so far (every thread).
proc_cpu() {
    awk -v tck="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); print ($12 + $13) / tck }' "/proc/$1/stat"
}

# kv KEY LINE: the value of KEY=VALUE in a line of key=value pairs.
kv() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p" | head -n 1; }

# median of the numbers on standard input ("nan" when none).
median_of() {
    sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
                   else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

measured_line() {
    emit "Measured $(date -u '+%Y-%m-%d %H:%M UTC'), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown), load average $(cut -d' ' -f1-3 /proc/loadavg) at the start of the section."
}

# ---- (e) agent export cost ------------------------------------------------------------------

export_section() {
    log "(e) agent export cost: netscope-agent --replay against netscope flows -r"
    make_keys
    emit "## (e) Agent export cost: \`netscope-agent --replay\` against \`netscope flows -r\` ($MIX_PKTS packets)"
    emit ""
    measured_line
    emit ""
    if ! collector_start export-curve "" "$(curve_collector) --flows-out /dev/null --state-out /dev/null"; then
        emit "The collector did not start: $(tail -n 1 "$TMP/export-curve.log")"
        emit ""
        return 0
    fi
    local ep_curve=$COLL_EP pid_curve=$COLL_PID
    collector_start export-plain "" "--insecure --flows-out /dev/null --state-out /dev/null" || return 0
    local ep_plain=$COLL_EP pid_plain=$COLL_PID
    local cpu0_curve cpu0_plain
    cpu0_curve=$(proc_cpu "$pid_curve")
    cpu0_plain=$(proc_cpu "$pid_plain")
    local agent="$AGENT --replay $MIX --replay-speed max --id bench-export --set agent.log_level=warn"
    local curve="--collector $ep_curve $(curve_agent 0)"
    add_cmd exp_flows "$NETSCOPE flows -r $MIX >/dev/null"
    add_cmd exp_agent "$agent $curve"
    add_cmd exp_plain "$agent --collector $ep_plain --insecure"
    add_cmd exp_ring1 "$agent $curve --set ring.size_mb=1"
    add_cmd exp_finals "$agent $curve --set export.interval_ms=60000"
    local ids=(exp_flows exp_agent exp_plain exp_ring1 exp_finals)
    if [[ -n $EXPORT_BASELINE ]]; then
        add_cmd exp_base "${agent/#$AGENT/$EXPORT_BASELINE} $curve"
        ids+=(exp_base)
    fi
    local RUNS=$EXPORT_RUNS # run_rounds reads RUNS
    run_rounds "${ids[@]}"
    local ccpu_curve ccpu_plain
    ccpu_curve=$(awk -v a="$cpu0_curve" -v b="$(proc_cpu "$pid_curve")" 'BEGIN { printf "%.2f", b - a }')
    ccpu_plain=$(awk -v a="$cpu0_plain" -v b="$(proc_cpu "$pid_plain")" 'BEGIN { printf "%.2f", b - a }')
    export_perf "$agent $curve"
    stop_pid "$pid_curve"
    stop_pid "$pid_plain"

    emit "Each command runs $RUNS times, interleaved with the others; medians, and the median of the"
    emit "ratios within each round (*paired*: the two runs of a round are seconds apart, so they see"
    emit "the same load on this shared machine; the range is the lowest and highest round). The agent reads the file"
    emit "flat out, exports every 250 ms (its default) to a collector on this machine over"
    emit "CURVE, and exits once the collector has acknowledged every final record, so its wall"
    emit "time includes start-up (keys, a 262,144-flow table, the 64 MB frame ring), the session"
    emit "and the last acknowledgement. *Cost* is the agent's over \`flows -r\`'s, minus 1: the"
    emit "goal is under 10%. The variants each take one thing away: encryption (\`--insecure\`),"
    emit "the frame ring's size (\`ring.size_mb=1\`: every frame is still copied, into 1 MB that"
    emit "stays in cache), the live updates (\`export.interval_ms=60000\`: only final records,"
    emit "the same records \`flows -r\` writes)."
    emit ""
    emit "| command | runs | wall s | CPU s | packets/s | max RSS MiB | wall / flows -r | CPU / flows -r | CPU / flows -r, paired (range) | **cost (CPU, paired)** |"
    emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    local id label
    for id in "${ids[@]}"; do
        case $id in
        exp_flows) label="\`netscope flows -r\` (JSON to /dev/null)" ;;
        exp_agent) label="**\`netscope-agent --replay\`, CURVE**" ;;
        exp_plain) label="agent, \`--insecure\` (no encryption)" ;;
        exp_ring1) label="agent, CURVE, \`ring.size_mb=1\`" ;;
        exp_finals) label="agent, CURVE, \`export.interval_ms=60000\` (finals only)" ;;
        exp_base) label="before: \`$EXPORT_BASELINE\`, CURVE" ;;
        esac
        if failed "$id"; then
            emit "| $label | failed: exit $(awk '$4 != 0 { print $4; exit }' "$TMP/$id.runs"), $(head -n 1 "$TMP/$id.err" | cut -c1-100 | tr '|' '/') | | | | | | | | |"
            continue
        fi
        local paired
        paired=$(paste -d' ' "$TMP/$id.runs" "$TMP/exp_flows.runs" | awk '{ print $2 / $6 }' | sort -g |
            awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2;
                                     printf "%.3f %.2f %.2f", m, v[1], v[NR] }')
        emit "$(awk -v l="$label" -v w="$(median "$id" 1)" -v c="$(median "$id" 2)" \
            -v m="$(median "$id" 3)" -v bw="$(median exp_flows 1)" -v bc="$(median exp_flows 2)" \
            -v p="$MIX_PKTS" -v n="$(nruns "$id")" -v pr="$paired" 'BEGIN {
            split(pr, q, " ")
            printf "| %s | %d | %.2f | %.2f | %.0f | %.0f | %.2f | %.2f | %.2f (%.2f-%.2f) | **%+.0f%%** |",
                   l, n, w, c, p / w, m / 1024, w / bw, c / bc, q[1], q[2], q[3], 100 * (q[1] - 1) }')"
    done
    emit ""
    emit "The collectors' CPU over all the replays: ${ccpu_curve} s (CURVE, $((3 * RUNS)) replays), ${ccpu_plain} s (plain, $RUNS): they share the machine's 2 cores with the agent while it runs, which is in its wall time but not its CPU time."
    emit ""
    export_perf_emit
    export_instr
    emit "\`\`\`"
    local i
    emit "$(shown "$COLLECTOR --listen 'tcp://127.0.0.1:*' $(curve_collector) --flows-out /dev/null --state-out /dev/null")"
    emit "$COLLECTOR --listen 'tcp://127.0.0.1:*' --insecure --flows-out /dev/null --state-out /dev/null"
    for i in "${ids[@]}"; do emit "$(shown "${CMD[$i]}")"; done
    emit "\`\`\`"
    emit ""
    emit "$KEYS_NOTE"
    emit ""
}

PERF_HZ=4000

# export_perf AGENT_COMMAND: one run each of the agent and of flows -r under perf record
# (cpu-clock samples, every thread, kernel included): the functions whose time differs most,
# as table rows in $TMP/perf-rows (empty when perf is missing or failed).
export_perf() {
    : >"$TMP/perf-rows"
    have perf || return 0
    log "(e) profile: perf record of one agent run and one flows -r run"
    # shellcheck disable=SC2086
    perf record -q -e cpu-clock -F $PERF_HZ -o "$TMP/agent.perf" -- $1 >/dev/null 2>&1 || return 0
    perf record -q -e cpu-clock -F $PERF_HZ -o "$TMP/flows.perf" -- "$NETSCOPE" flows -r "$MIX" \
        >/dev/null 2>&1 || return 0
    python3 - "$TMP/agent.perf" "$TMP/flows.perf" "$PERF_HZ" >"$TMP/perf-rows" <<'EOF'
import collections, re, subprocess, sys
# one name per function whichever build it comes from: link-time optimisation renames local
# functions (add_to_flow.lto_priv.0 in one binary, add_to_flow in the other)
clone = re.compile(r"\.(lto_priv|isra|constprop|part|cold)\.\d+")
def samples(path):
    out = subprocess.run(["perf", "report", "-i", path, "-n", "--sort", "sym", "--stdio"],
                         capture_output=True, text=True).stdout
    per = collections.Counter()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and not line.startswith("#") and f[0].endswith("%"):
            per[clone.sub("", " ".join(f[3:]))] += int(f[1])
    return per
agent, flows, hz = samples(sys.argv[1]), samples(sys.argv[2]), int(sys.argv[3])
ms = lambda n: 1000.0 * n / hz
print(f"| everything | {ms(sum(flows.values())):.0f} | {ms(sum(agent.values())):.0f} | {ms(sum(agent.values()) - sum(flows.values())):+.0f} |")
for sym in sorted(set(agent) | set(flows), key=lambda k: -(agent[k] - flows[k]))[:10]:
    print(f"| `{sym}` | {ms(flows[sym]):.0f} | {ms(agent[sym]):.0f} | {ms(agent[sym] - flows[sym]):+.0f} |")
EOF
}

export_perf_emit() {
    if [[ ! -s $TMP/perf-rows ]]; then
        emit "(No profile: perf is not installed, or perf record failed.)"
        emit ""
        return 0
    fi
    emit "Where the agent's extra time goes: one run of each under \`perf record -e cpu-clock -F $PERF_HZ\` (every"
    emit "thread, the kernel included; this machine has no hardware counters), CPU milliseconds by"
    emit "function, the ten that grew most. \`ns_pktring_add\` and most of the \`memmove\` are the copy of"
    emit "every frame into the ring of recent frames; page faults and copies from the page cache"
    emit "show as kernel functions (\`pvm_irq_enable\` is where this paravirtualised kernel's time"
    emit "lands when interrupts are enabled again)."
    emit ""
    emit "| function | \`flows -r\` ms | agent ms | difference |"
    emit "| --- | ---: | ---: | ---: |"
    while IFS= read -r line; do emit "$line"; done <"$TMP/perf-rows"
    emit ""
}

# The agent (final records only, like flows -r) and flows -r under callgrind on the first
# EXPORT_INSTR_PKTS packets: instructions per packet, by thread and by stage.
export_instr() {
    if ! have valgrind || ! have runuser; then
        emit "(valgrind or runuser missing: no instruction counts.)"
        emit ""
        return 0
    fi
    log "(e) instructions: agent and flows -r under callgrind, $EXPORT_INSTR_PKTS packets"
    # callgrind writes its output at exit, after the agent dropped root: run it as nobody
    # from the start, with files nobody can read and write
    local dir=$TMP/cg-export
    mkdir -p "$dir"
    chmod 711 "$TMP"
    chmod 1777 "$dir"
    "$NETSCOPE" print -r "$MIX" -c "$EXPORT_INSTR_PKTS" -w "$dir/sample.pcap" >/dev/null
    cp "$KEYS/ag0.key_secret" "$KEYS/collector.key" "$dir/"
    chown nobody "$dir/ag0.key_secret"
    chmod 644 "$dir/sample.pcap"
    collector_start export-cg "" "$(curve_collector) --flows-out /dev/null --state-out /dev/null" || return 0
    local pid=$COLL_PID
    runuser -u nobody -- valgrind --tool=callgrind --vgdb=no --callgrind-out-file="$dir/agent.out" \
        "$AGENT" --replay "$dir/sample.pcap" --replay-speed max --id bench-export-cg \
        --collector "$COLL_EP" --collector-key "$dir/collector.key" --key "$dir/ag0.key_secret" \
        --user nobody --set export.interval_ms=60000 >/dev/null 2>"$dir/agent.err" ||
        log "the agent under callgrind failed: $(grep -v '^==' "$dir/agent.err" | tail -n 1)"
    stop_pid "$pid"
    valgrind --tool=callgrind --vgdb=no --callgrind-out-file="$dir/flows.out" \
        "$NETSCOPE" flows -r "$dir/sample.pcap" >/dev/null 2>&1 || log "flows -r under callgrind failed"
    local fa ff
    fa=$(python3 bench/callgrind_costs.py "$dir/agent.out" main exporter_main ns_pktring_add emit_rec \
        on_record ns_flow_rec_fill_table compress ns_flow_engine_add 2>/dev/null) || fa=""
    ff=$(python3 bench/callgrind_costs.py "$dir/flows.out" main emit_rec ns_flow_rec_fill_table \
        compress ns_flow_engine_add 2>/dev/null) || ff=""
    emit "Instructions (callgrind, every thread) on the first $EXPORT_INSTR_PKTS packets, the agent with"
    emit "\`export.interval_ms=60000\` so that both write the same records (finals only; under"
    emit "valgrind the replay is slow enough that a 250 ms interval would export far more often"
    emit "per packet than a real run does). Per packet, or per record where it says so; n/a: the"
    emit "function was inlined away by link-time optimisation."
    emit ""
    emit "| instructions | \`flows -r\` | agent |"
    emit "| --- | ---: | ---: |"
    awk -v fa="$fa" -v ff="$ff" -v p="$EXPORT_INSTR_PKTS" '
        function get(s, k,   n, i, a, kv) { n = split(s, a, "\n"); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] } return "" }
        function per(v, d) { return (v == "" || v == 0 || d == 0) ? "n/a" : sprintf("%.0f", v / d) }
        function objs(s, pat,   n, i, a, kv, t) { t = 0; n = split(s, a, "\n"); for (i = 1; i <= n; i++) { split(a[i], kv, "="); if (kv[1] ~ pat) t += kv[2] } return t }
        BEGIN {
            ra = get(fa, "calls.emit_rec"); rf = get(ff, "calls.emit_rec")
            printf "| total, per packet | %s | %s |\n", per(get(ff, "total"), p), per(get(fa, "total"), p)
            printf "| capture thread (`main`), per packet | %s | %s |\n", per(get(ff, "incl.main"), p), per(get(fa, "incl.main"), p)
            printf "| exporter thread, per packet | — | %s |\n", per(get(fa, "incl.exporter_main"), p)
            printf "| libzmq + libsodium (I/O thread, CURVE), per packet | — | %s |\n", per(objs(fa, "^object\\.lib(zmq|sodium)"), p)
            printf "| flow engine (`ns_flow_engine_add`), per packet | %s | %s |\n", per(get(ff, "incl.ns_flow_engine_add"), p), per(get(fa, "incl.ns_flow_engine_add"), p)
            printf "| frame ring (`ns_pktring_add`), per packet | — | %s |\n", per(get(fa, "incl.ns_pktring_add"), p)
            printf "| records written | %s | %s |\n", rf == "" || rf == 0 ? "n/a" : rf, ra == "" || ra == 0 ? "n/a" : ra
            printf "| a record (`emit_rec`: fill, Community ID, then JSON or protobuf), per record | %s | %s |\n", per(get(ff, "incl.emit_rec"), rf), per(get(fa, "incl.emit_rec"), ra)
            printf "| of which the Community ID'"'"'s SHA-1 (`compress`), per record | %s | %s |\n", per(get(ff, "incl.compress"), rf), per(get(fa, "incl.compress"), ra)
            printf "| of which the protobuf entry (`on_record`), per record | — | %s |\n", per(get(fa, "incl.on_record"), ra)
        }' >"$TMP/row"
    while IFS= read -r line; do emit "$line"; done <"$TMP/row"
    emit ""
}

# ---- (f) collector ingest -------------------------------------------------------------------

ingest_section() {
    log "(f) collector ingest: bench_ingest, $INGEST_AGENTS agents, ${INGEST_SECONDS} s x $INGEST_RUNS runs"
    make_keys
    emit "## (f) Collector ingest: flow updates per second per core, CURVE on"
    emit ""
    measured_line
    emit ""
    local keys="" i r cfg
    for ((i = 0; i < INGEST_AGENTS; i++)); do keys+=" --key $KEYS/ag$i.key_secret"; done
    local -A args=([typical]="" [finals]="-u 2")
    for cfg in typical finals; do : >"$TMP/ingest-$cfg.runs"; done
    for ((r = 1; r <= INGEST_RUNS; r++)); do
        for cfg in typical finals; do
            log "  run $r/$INGEST_RUNS: $cfg"
            collector_start "ingest-$cfg" "" "$(curve_collector) --flows-out /dev/null --state-out $TMP/ingest-state.json" ||
                return 0
            local pid=$COLL_PID line
            # shellcheck disable=SC2086
            line=$("$BENCH_INGEST" --endpoint "$COLL_EP" --server-key "$KEYS/collector.key" $keys \
                --pid "$pid" -s "$INGEST_SECONDS" ${args[$cfg]} 2>"$TMP/ingest.err") ||
                log "  bench_ingest: $(tail -n 1 "$TMP/ingest.err")"
            stop_pid "$pid"
            # the collector's own count of records, and of what it refused
            local counters
            counters=$(head -c 4096 "$TMP/ingest-state.json" 2>/dev/null | tr -d ' \n')
            printf '%s coll_records=%s coll_rejected=%s coll_dup=%s\n' "$line" \
                "$(sed -n 's/.*"records":\([0-9]*\).*/\1/p' <<<"$counters")" \
                "$(sed -n 's/.*"rejected_messages":\([0-9]*\).*/\1/p' <<<"$counters")" \
                "$(sed -n 's/.*"duplicate_batches":\([0-9]*\).*/\1/p' <<<"$counters")" \
                >>"$TMP/ingest-$cfg.runs"
            rm -f "$TMP/ingest-state.json"
        done
    done
    emit "\`bench_ingest\`: $INGEST_AGENTS agent identities (each its own CURVE key, allowed by the collector,"
    emit "its own connection and thread) say Hello, then send FlowBatch messages of 500 records built"
    emit "with the codec, at most 64 unacknowledged per agent (the agent's export.window), for"
    emit "$INGEST_SECONDS s, and wait for the last acknowledgement. The records are a live table's"
    emit "exports: 20,000 flows per agent visited round robin, each visit an update with grown"
    emit "counters, a flow's last visit its final record; 70% TCP, 20% DNS (one transaction, two"
    emit "answers), 10% HTTP (a transaction every fourth record). *Typical*: a final record every 10"
    emit "records; *finals-heavy* (\`-u 2\`): every 3rd, as when the agent replays the mix. The"
    emit "collector (a fresh one per run, \`--flows-out /dev/null\`: final records are still"
    emit "formatted as JSON) is measured from /proc/PID/stat over the load: per core = records /"
    emit "its CPU seconds (every thread: ingest, and libzmq's I/O thread, which decrypts). $INGEST_RUNS"
    emit "runs of each, alternating; medians. The load generator runs on the same 2 cores."
    emit ""
    emit "| load | runs | records acknowledged | wall s | records/s (wall) | collector CPU s (user / sys) | **records/s per collector core** | load generator CPU s | collector's count, refused, duplicates | goal ${INGEST_GOAL}/s per core |"
    emit "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    for cfg in typical finals; do
        local f=$TMP/ingest-$cfg.runs label
        [[ $cfg == typical ]] && label="typical (1 record in 10 final)" || label="finals-heavy (1 in 3)"
        if ! grep -q '^ingest ' "$f"; then
            emit "| $label | failed: $(tail -n 1 "$TMP/ingest.err" | tr '|' '/') | | | | | | | | |"
            continue
        fi
        local med_rec med_wall med_rate med_cpu med_user med_sys med_core med_self checks
        med_rec=$(while read -r l; do kv records "$l"; done <"$f" | median_of)
        med_wall=$(while read -r l; do kv seconds "$l"; done <"$f" | median_of)
        med_rate=$(while read -r l; do kv rate "$l"; done <"$f" | median_of)
        med_cpu=$(while read -r l; do kv cpu_s "$l"; done <"$f" | median_of)
        med_user=$(while read -r l; do kv cpu_user_s "$l"; done <"$f" | median_of)
        med_sys=$(while read -r l; do kv cpu_sys_s "$l"; done <"$f" | median_of)
        med_core=$(while read -r l; do kv per_core "$l"; done <"$f" | median_of)
        med_self=$(while read -r l; do kv self_cpu_s "$l"; done <"$f" | median_of)
        # every run: the collector counted what the generator had acknowledged, nothing refused
        checks=$(awk '{ for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
                        if (v["records"] != v["coll_records"]) bad = bad " count " v["coll_records"] "!=" v["records"];
                        if (v["coll_rejected"] + 0 || v["coll_dup"] + 0) bad = bad " refused " v["coll_rejected"] " dup " v["coll_dup"] }
                      END { print bad == "" ? "equal, 0, 0 (every run)" : "**" bad "**" }' "$f")
        emit "$(awk -v l="$label" -v n="$(wc -l <"$f")" -v rec="$med_rec" -v w="$med_wall" -v rate="$med_rate" \
            -v cpu="$med_cpu" -v u="$med_user" -v s="$med_sys" -v core="$med_core" -v self="$med_self" \
            -v chk="$checks" -v goal="$INGEST_GOAL" 'BEGIN {
            printf "| %s | %d | %.0f | %.2f | %.0f | %.2f (%.2f / %.2f) | **%.0f** | %.2f | %s | %s |",
                   l, n, rec, w, rate, cpu, u, s, core, self, chk,
                   (core >= goal) ? "met" : sprintf("not met (%.2fx short)", goal / core) }')"
    done
    emit ""
    ingest_instr
    emit "\`\`\`"
    emit "$(shown "$COLLECTOR --listen 'tcp://127.0.0.1:*' $(curve_collector) --flows-out /dev/null --state-out STATE.json")"
    emit "$(shown "$BENCH_INGEST --endpoint EP --server-key $KEYS/collector.key$keys --pid PID -s $INGEST_SECONDS [-u 2]")"
    emit "\`\`\`"
    emit ""
    emit "$KEYS_NOTE"
    emit ""
}

# The collector under callgrind while bench_ingest feeds it (typical load), its profile
# dumped when the ingest loop ends (before the state dump at exit): instructions per record.
ingest_instr() {
    if ! have valgrind; then
        emit "(valgrind missing: no instruction counts.)"
        emit ""
        return 0
    fi
    log "(f) instructions: the collector under callgrind, ${INGEST_INSTR_SECONDS} s of load"
    local dir=$TMP/cg-ingest keys="" i
    mkdir -p "$dir"
    for ((i = 0; i < INGEST_AGENTS; i++)); do keys+=" --key $KEYS/ag$i.key_secret"; done
    COLL_WRAP="valgrind --tool=callgrind --vgdb=no --dump-before=ns_collector_dump --callgrind-out-file=$dir/coll.out"
    collector_start ingest-cg "" "$(curve_collector) --flows-out /dev/null --state-out /dev/null"
    local ok=$?
    COLL_WRAP=
    ((ok == 0)) || return 0
    local pid=$COLL_PID line
    # shellcheck disable=SC2086
    line=$("$BENCH_INGEST" --endpoint "$COLL_EP" --server-key "$KEYS/collector.key" $keys \
        -s "$INGEST_INSTR_SECONDS" 2>>"$TMP/ingest.err") || log "  bench_ingest under callgrind failed"
    stop_pid "$pid"
    local prof=$dir/coll.out.1
    [[ -s $prof ]] || prof=$dir/coll.out
    local c recs
    recs=$(kv records "$line")
    c=$(python3 bench/callgrind_costs.py "$prof" ns_collector_run read_msg batch_decode batch \
        write_final apply.lto_priv.0 put_app.lto_priv.0 2>/dev/null) || c=""
    emit "Where the collector's instructions go (callgrind, every thread, $(printf "%'d" "${recs:-0}") records of the typical load"
    emit "ingested under valgrind; the state dump at exit excluded), per record; n/a: inlined away."
    emit ""
    emit "| stage | instructions per record | share |"
    emit "| --- | ---: | ---: |"
    awk -v c="$c" -v n="${recs:-0}" '
        function get(k,   i, a, kv, m) { m = split(c, a, "\n"); for (i = 1; i <= m; i++) { split(a[i], kv, "="); if (kv[1] == k) return kv[2] + 0 } return 0 }
        function objs(pat,   i, a, kv, m, t) { t = 0; m = split(c, a, "\n"); for (i = 1; i <= m; i++) { split(a[i], kv, "="); if (kv[1] ~ pat) t += kv[2] } return t }
        function row(l, v) { if (v <= 0 || n == 0) printf "| %s | n/a | |\n", l; else printf "| %s | %.0f | %.0f%% |\n", l, v / n, 100 * v / tot }
        BEGIN {
            tot = get("total")
            dec = get("incl.read_msg") + get("incl.batch_decode")
            fin = get("incl.write_final")
            bat = get("incl.batch")
            zmq = objs("^object\\.lib(zmq|sodium)")
            row("total (every thread)", tot)
            row("decoding the batch (codec: `read_msg`, `batch_decode`)", dec)
            row("merge, transactions store, sequence (`batch` without the JSON)", bat - fin)
            row("final records as JSON lines (`write_final`), 1 record in 10", fin)
            row("of which the transactions (`put_app`, jansson)", get("incl.put_app.lto_priv.0"))
            row("libzmq and libsodium (receiving, CURVE decryption)", zmq)
            row("the rest (polling, acknowledgements, libc outside the above)", tot - dec - bat - zmq)
        }' >"$TMP/row"
    while IFS= read -r line; do emit "$line"; done <"$TMP/row"
    emit ""
}

# ---- the namespace rig for (g) and (h) ------------------------------------------------------

rig_down() {
    ip netns del "$RIG_SND" 2>/dev/null || true
    ip netns del "$RIG_AGT" 2>/dev/null || true
}

# Two namespaces joined by a veth pair: the sender's end 10.203.0.1, the capture end
# 10.203.0.2; the sender's neighbour entry sends frames for RIG_DST to a MAC nobody has, so
# the capture end receives them (promiscuous captures see them) and the kernel drops them
# without an answer.
rig_up() {
    rig_down
    ip netns add "$RIG_SND" && ip netns add "$RIG_AGT" &&
        ip link add nsbench-s type veth peer name "$RIG_IF" &&
        ip link set nsbench-s netns "$RIG_SND" && ip link set "$RIG_IF" netns "$RIG_AGT" &&
        ip -n "$RIG_SND" addr add 10.203.0.1/24 dev nsbench-s &&
        ip -n "$RIG_AGT" addr add 10.203.0.2/24 dev "$RIG_IF" &&
        ip -n "$RIG_SND" link set nsbench-s up && ip -n "$RIG_SND" link set lo up &&
        ip -n "$RIG_AGT" link set "$RIG_IF" up && ip -n "$RIG_AGT" link set lo up &&
        ip -n "$RIG_SND" neigh add "$RIG_DST" lladdr 02:00:00:00:00:09 dev nsbench-s nud permanent
}

rig_ok() {
    if (($(id -u) != 0)) || ! have ip; then
        emit "Not measured: network namespaces need root and iproute2."
        emit ""
        return 1
    fi
    if ! rig_up 2>"$TMP/rig.err"; then
        emit "Not measured: the namespaces could not be made ($(head -n 1 "$TMP/rig.err"))."
        emit ""
        rig_down
        return 1
    fi
    return 0
}

# agent_start NAME ID ARGS...: an agent on the rig's capture end; waits until the collector
# ($COLL_LOG) has its Hello. Sets AGENT_PID.
agent_start() {
    local name=$1 id=$2
    shift 2
    # shellcheck disable=SC2068
    ip netns exec "$RIG_AGT" "$AGENT" -i "$RIG_IF" --collector "$COLL_EP" $(curve_agent 0) \
        --id "$id" $@ 2>"$TMP/$name.log" &
    AGENT_PID=$!
    STARTED+=("$AGENT_PID")
    wait_for "$AGENT_PID" "$COLL_LOG" "agent $id \\(" && return 0
    log "agent $id did not connect: $(tail -n 1 "$TMP/$name.log")"
    return 1
}

# ---- (g) end to end -------------------------------------------------------------------------

e2e_section() {
    log "(g) end to end: new UDP flows at $E2E_PPS/s for ${E2E_SECONDS} s x $E2E_RUNS runs"
    make_keys
    emit "## (g) End to end: first packet captured to update merged in the collector"
    emit ""
    measured_line
    emit ""
    rig_ok || return 0
    local -A extra=([default]="" [poll100]="--set capture.poll_ms=100")
    local cfg r
    for cfg in default poll100; do : >"$TMP/e2e-$cfg.lat"; : >"$TMP/e2e-$cfg.runs"; done
    for ((r = 1; r <= E2E_RUNS; r++)); do
        for cfg in default poll100; do
            log "  run $r/$E2E_RUNS: $cfg"
            local out=/dev/shm/nsbench-e2e.$$.jsonl
            rm -f "$out"
            collector_start e2e-coll "$RIG_AGT" "$(curve_collector) --flows-out $out --state-out /dev/null --set output.updates=true" ||
                return 0
            local cpid=$COLL_PID
            COLL_LOG=$TMP/e2e-coll.log
            if agent_start e2e-agent "e2e-$cfg-$r" "${extra[$cfg]}"; then
                sleep 1
                ip netns exec "$RIG_SND" "$SEND_UDP" -d "$RIG_DST" -r "$E2E_PPS" -t "$E2E_SECONDS" \
                    --new-flows >"$TMP/e2e-send.txt"
                sleep 1 # the last export interval
            fi
            stop_pid "$AGENT_PID"
            stop_pid "$cpid"
            # latency of each flow: its first update's receive time - its first packet's time
            python3 - "$out" "$RIG_DST" >>"$TMP/e2e-$cfg.lat" <<'EOF'
import json, sys
first = {}
for line in open(sys.argv[1], encoding="utf-8"):
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if r.get("record") == "update" and r.get("id.resp_h") == sys.argv[2] and r["uid"] not in first:
        first[r["uid"]] = r["received"] - r["ts"]
for v in first.values():
    print(f"{v * 1e3:.3f}")
EOF
            printf '%s flows=%s\n' "$(cat "$TMP/e2e-send.txt")" "$(wc -l <"$TMP/e2e-$cfg.lat")" \
                >>"$TMP/e2e-$cfg.runs"
            rm -f "$out"
        done
    done
    rig_down
    emit "Sender in one namespace (\`send_udp --new-flows\`): $E2E_PPS UDP datagrams a second, each to a new"
    emit "destination port, so a new flow every $((1000 / E2E_PPS)) ms, for ${E2E_SECONDS} s; an agent (defaults: export every 250 ms,"
    emit "\`capture.poll_ms\` 10) on the veth end of the other namespace, and there a collector over"
    emit "CURVE with \`output.updates=true\`. Latency of a flow = the \"received\" time of its first"
    emit "update line (collector, CLOCK_REALTIME) - its \"ts\" (the first packet's kernel capture"
    emit "time, CLOCK_REALTIME): capture, the kernel ring's block timeout, the export interval, the"
    emit "exporter's queue, CURVE, the collector's merge. $E2E_RUNS runs of each configuration, alternating;"
    emit "percentiles over every flow of every run. \`capture.poll_ms\` is also the timeout after which"
    emit "the kernel hands a partly filled ring block to the agent; 100 ms was its default before"
    emit "commit 'agent: capture.poll_ms 10 by default'."
    emit ""
    emit "| agent configuration | flows | median ms | p90 ms | **p99 ms** | max ms | p99 of each run, ms | goal: p99 < ${E2E_GOAL_MS} ms |"
    emit "| --- | ---: | ---: | ---: | ---: | ---: | --- | --- |"
    for cfg in default poll100; do
        local label
        [[ $cfg == default ]] && label="defaults (export 250 ms, poll 10 ms)" || label="\`--set capture.poll_ms=100\`"
        emit "$(sort -g "$TMP/e2e-$cfg.lat" | awk -v l="$label" -v goal="$E2E_GOAL_MS" -v runs="$(e2e_run_p99 "$cfg")" '
            { v[NR] = $1 }
            function pct(q,   i) { i = int(q * NR + 0.5); if (i < 1) i = 1; if (i > NR) i = NR; return v[i] }
            END {
                if (NR == 0) { printf "| %s | 0 | | | | | | no flows seen |", l; exit }
                printf "| %s | %d | %.0f | %.0f | **%.0f** | %.0f | %s | %s |", l, NR, pct(0.5), pct(0.9),
                       pct(0.99), v[NR], runs, (pct(0.99) < goal) ? "met" : "not met" }')"
    done
    emit ""
    emit "Sender: $(head -n 1 "$TMP/e2e-default.runs" | cut -d' ' -f2-)."
    emit ""
    emit "\`\`\`"
    emit "$(shown "ip netns exec $RIG_AGT $COLLECTOR --listen 'tcp://127.0.0.1:*' $(curve_collector) --flows-out FLOWS.jsonl --set output.updates=true")"
    emit "$(shown "ip netns exec $RIG_AGT $AGENT -i $RIG_IF --collector EP $(curve_agent 0) [--set capture.poll_ms=100]")"
    emit "ip netns exec $RIG_SND $SEND_UDP -d $RIG_DST -r $E2E_PPS -t $E2E_SECONDS --new-flows"
    emit "\`\`\`"
    emit ""
    emit "$KEYS_NOTE The namespaces: \`rig_up\` in bench/pipeline.sh."
    emit ""
}

# The p99 of each run of configuration $1, from the per-run flow counts in its .runs file.
e2e_run_p99() {
    local cfg=$1 from=0 n out="" line
    while read -r line; do
        n=$(kv flows "$line")
        out+="$(sed -n "$((from + 1)),${n}p" "$TMP/e2e-$cfg.lat" | sort -g |
            awk '{ v[NR] = $1 } END { i = int(0.99 * NR + 0.5); if (i < 1) i = 1; printf "%.0f", NR ? v[i] : 0 }') "
        from=$n
    done <"$TMP/e2e-$cfg.runs"
    printf '%s' "${out% }"
}

# ---- (h) live capture -----------------------------------------------------------------------

# softnet_drops: packets the kernel dropped before any capture could see them (all CPUs).
softnet_drops() {
    local _ dropped sum=0
    while read -r _ dropped _; do sum=$((sum + 16#$dropped)); done </proc/net/softnet_stat
    echo "$sum"
}

# live_agent RATE RUN: one agent trial; appends "tool rate run sent got drops softnet" to live.txt
live_agent() {
    local rate=$1 run=$2 id="live-$1-$2" sn0 sn1 cpu0 cpu1
    agent_start live-agent "$id" || return 0
    sleep 0.5
    sn0=$(softnet_drops)
    cpu0=$(proc_cpu "$AGENT_PID")
    ip netns exec "$RIG_SND" "$SEND_UDP" -d "$RIG_DST" -r "$rate" -t "$LIVE_SECONDS" >"$TMP/live-send.txt"
    sn1=$(softnet_drops)
    sleep 2.5 # a heartbeat (every second) with the counters after the last packet
    cpu1=$(proc_cpu "$AGENT_PID")
    kill -USR1 "$COLL_PID"
    local i
    for ((i = 0; i < 50; i++)); do
        (($(grep -c 'state written' "$COLL_LOG") >= LIVE_DUMPS + 1)) && break
        sleep 0.1
    done
    LIVE_DUMPS=$((LIVE_DUMPS + 1))
    stop_pid "$AGENT_PID"
    local counters
    counters=$(python3 - "$TMP/live-state.json" "$id" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for a in d.get("agents", []):
    if a.get("id") == sys.argv[2] and a.get("interfaces"):
        f = a["interfaces"][0]
        print(f["packets"], f["kernel_drops"])
        break
else:
    print("nan nan")
EOF
)
    local frames
    frames=$(sed -n 's/.* \([0-9]*\) frames$/\1/p' "$TMP/live-agent.log" | tail -n 1)
    echo "agent $rate $run $(kv sent "$(cat "$TMP/live-send.txt")") $(kv rate "$(cat "$TMP/live-send.txt")") ${counters% *} ${counters#* } $((sn1 - sn0)) ${frames:-nan} $(cpu_pct "$cpu0" "$cpu1")" >>"$TMP/live.txt"
}

# cpu_pct CPU0 CPU1: the CPU seconds between two readings as a percentage of one core over
# the sending time.
cpu_pct() { awk -v a="$1" -v b="$2" -v t="$LIVE_SECONDS" 'BEGIN { printf "%.0f", 100 * (b - a) / t }'; }

# live_tcpdump TOOL RATE RUN ARGS...: one tcpdump trial.
live_tcpdump() {
    local tool=$1 rate=$2 run=$3 sn0 sn1 cpu0 cpu1
    shift 3
    ip netns exec "$RIG_AGT" tcpdump -i "$RIG_IF" -n -w /dev/null "$@" 2>"$TMP/tcpdump.err" &
    local pid=$!
    STARTED+=("$pid")
    wait_for "$pid" "$TMP/tcpdump.err" 'listening on' || log "tcpdump did not start: $(tail -n 1 "$TMP/tcpdump.err")"
    sleep 0.5
    sn0=$(softnet_drops)
    cpu0=$(proc_cpu "$pid")
    ip netns exec "$RIG_SND" "$SEND_UDP" -d "$RIG_DST" -r "$rate" -t "$LIVE_SECONDS" >"$TMP/live-send.txt"
    sn1=$(softnet_drops)
    sleep 1
    cpu1=$(proc_cpu "$pid")
    kill -INT "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    local got drops captured
    got=$(sed -n 's/^\([0-9]*\) packets received by filter.*/\1/p' "$TMP/tcpdump.err")
    drops=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$TMP/tcpdump.err")
    captured=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$TMP/tcpdump.err")
    echo "$tool $rate $run $(kv sent "$(cat "$TMP/live-send.txt")") $(kv rate "$(cat "$TMP/live-send.txt")") ${got:-nan} ${drops:-nan} $((sn1 - sn0)) ${captured:-nan} $(cpu_pct "$cpu0" "$cpu1")" >>"$TMP/live.txt"
}

# live_cell WHAT RATE: one cell of the table from live.txt (lines "tool rate run sent
# achieved received drops softnet processed cpu%"): a tool's most drops over its runs ("n/a"
# when a run has no count), the lowest achieved rate, the agent's processed / sent per run,
# a tool's CPU per run (WHAT cpu_TOOL), the most softnet drops.
live_cell() {
    awk -v what="$1" -v r="$2" '
        $2 != r { next }
        what == "achieved" { if (a == "" || $5 < a) a = $5 }
        what == "softnet" { if ($8 > a) a = $8 }
        what == "processed" && $1 == "agent" { a = a (a == "" ? "" : ", ") $9 " / " $4 }
        what == "cpu_" $1 { a = a (a == "" ? "" : ", ") $10 }
        $1 == what { if ($7 == "nan" || a == "n/a") a = "n/a"; else if (a == "" || $7 + 0 > a + 0) a = $7 }
        END { if (what == "achieved") printf "%.0f", a; else if (what == "softnet") print a + 0;
              else print (a == "" ? "n/a" : a) }' "$TMP/live.txt"
}

live_section() {
    log "(h) live capture: rates $LIVE_RATES, ${LIVE_SECONDS} s each, $LIVE_RUNS runs"
    make_keys
    emit "## (h) Live capture on a veth: the highest rate without kernel drops"
    emit ""
    measured_line
    emit ""
    rig_ok || return 0
    if ! have tcpdump; then
        emit "(tcpdump is not installed: the agent alone.)"
        emit ""
    fi
    collector_start live-coll "$RIG_AGT" "$(curve_collector) --flows-out /dev/null --state-out $TMP/live-state.json" ||
        return 0
    COLL_LOG=$TMP/live-coll.log
    LIVE_DUMPS=0
    : >"$TMP/live.txt"
    local rate run
    for rate in $LIVE_RATES; do
        for ((run = 1; run <= LIVE_RUNS; run++)); do
            log "  $rate packets/s, run $run/$LIVE_RUNS"
            live_agent "$rate" "$run"
            if have tcpdump; then
                live_tcpdump tcpdump "$rate" "$run"
                live_tcpdump tcpdump_b64 "$rate" "$run" -B 65536
            fi
        done
    done
    stop_pid "$COLL_PID"
    rig_down
    emit "\`send_udp\` in one namespace sends 64-byte frames (UDP, 64 flows) at a paced rate for ${LIVE_SECONDS} s"
    emit "(sendmmsg, bursts of up to 64) to the veth end in the other namespace, where one capture runs at a"
    emit "time: the agent (defaults: 64 MB ring, snaplen 262144, exporting to a collector there over CURVE),"
    emit "then \`tcpdump -w /dev/null\` (libpcap's 2 MB default buffer), then \`tcpdump -B 65536\` (the agent's"
    emit "64 MB). Drops are each tool's own count of packets the kernel dropped for want of room in its"
    emit "ring (the agent's: its interface counters as the collector's state dump has them; tcpdump's:"
    emit "\"packets dropped by kernel\"); *softnet* counts drops before any capture (the receive backlog),"
    emit "which neither tool can see. $LIVE_RUNS runs per rate, each cell the worst run; *achieved*: the sender's"
    emit "own rate (this 2-core machine's sender, its softirq and the capture share the cores)."
    emit ""
    emit "| target packets/s | achieved packets/s | agent: kernel drops | agent: processed / sent | agent: CPU % of a core | tcpdump: kernel drops | tcpdump: CPU % | tcpdump -B 65536: kernel drops | softnet drops |"
    emit "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    local tool best ok
    for rate in $LIVE_RATES; do
        emit "| $rate | $(live_cell achieved "$rate") | $(live_cell agent "$rate") | $(live_cell processed "$rate") | $(live_cell cpu_agent "$rate") | $(live_cell tcpdump "$rate") | $(live_cell cpu_tcpdump "$rate") | $(live_cell tcpdump_b64 "$rate") | $(live_cell softnet "$rate") |"
    done
    emit ""
    for tool in agent tcpdump tcpdump_b64; do
        [[ $tool != agent ]] && ! have tcpdump && continue
        best=0
        ok=1
        for rate in $LIVE_RATES; do
            [[ $(live_cell "$tool" "$rate") == 0 ]] || ok=0
            ((ok)) && best=$rate
        done
        local at="no kernel drops up to **$best** packets/s"
        if [[ $best == "${LIVE_RATES##* }" ]]; then
            at="no kernel drops at any rate tried, up to the sender's limit: **$(live_cell achieved "$best")** packets/s achieved (aiming at $best)"
        fi
        case $tool in
        agent)
            emit "- the agent: $at; goal $LIVE_GOAL_PPS packets/s without loss: $( ((best >= LIVE_GOAL_PPS)) && echo met || echo '**not met**')" ;;
        tcpdump) emit "- \`tcpdump -w /dev/null\`: $at" ;;
        tcpdump_b64) emit "- \`tcpdump -B 65536 -w /dev/null\`: $at" ;;
        esac
    done
    emit ""
    emit "\`\`\`"
    emit "$(shown "ip netns exec $RIG_AGT $COLLECTOR --listen 'tcp://127.0.0.1:*' $(curve_collector) --flows-out /dev/null --state-out STATE.json")"
    emit "$(shown "ip netns exec $RIG_AGT $AGENT -i $RIG_IF --collector EP $(curve_agent 0)")"
    emit "ip netns exec $RIG_AGT tcpdump -i $RIG_IF -n -w /dev/null [-B 65536]"
    emit "ip netns exec $RIG_SND $SEND_UDP -d $RIG_DST -r RATE -t $LIVE_SECONDS"
    emit "\`\`\`"
    emit ""
    emit "$KEYS_NOTE"
    emit ""
}
