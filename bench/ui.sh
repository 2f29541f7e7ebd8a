# bench/ui.sh - the dashboard's benchmark, section (k); sourced by bench/run.sh after
# bench/pipeline.sh (its keys, collectors, namespace rig and process helpers).
#
#   (k) rendering: bench/ui_bench.mjs in headless Chromium, NS_BENCH_UI_RUNS times, medians:
#       the dashboard's Chart with 12 series x 36,000 points and its host graph page with
#       2,000 nodes, fed stream frames at every animation frame;
#       capture to screen: the namespace rig of (g) and (h); a collector (CURVE, serving the
#       dashboard from build/bench/ui) and an agent capturing on the rig's veth end, both in
#       the capture namespace; bench/ui_capture.mjs opens the flow table in Chromium in that
#       namespace and sends NS_BENCH_UI_PROBES probe datagrams from the sender's namespace
#       (bench/probe_udp.py, each stamped at its send): the time from the send to the probe's
#       row on screen, and the stream's collector-to-screen latency in the same run.
# Needs root for the rig, node, ui/node_modules (npm ci) and Chromium; says what is missing.

UI_RUNS=${NS_BENCH_UI_RUNS:-3}
UI_PROBES=${NS_BENCH_UI_PROBES:-40}
UI_CHROMIUM=${NS_CHROMIUM:-/usr/bin/chromium}
UI_FPS_GOAL=60
UI_C2S_GOAL_MS=50
UI_CAP_GOAL_MS=500

ui_section() {
    log "(k) dashboard: rendering x $UI_RUNS, capture to screen over $UI_PROBES probes"
    emit "## (k) Dashboard: rendering, capture to screen, collector to screen"
    emit ""
    measured_line
    emit ""
    if ! have node || [[ ! -x $UI_CHROMIUM || ! -d ui/node_modules/playwright-core || ! -f $BUILD/ui/index.html ]]; then
        emit "Not measured: needs node, $UI_CHROMIUM, ui/node_modules (npm ci in ui/) and the built dashboard ($BUILD/ui)."
        emit ""
        return 0
    fi
    emit "Headless $("$UI_CHROMIUM" --version 2>/dev/null | head -n 1), which draws WebGL in software"
    emit "(SwiftShader) where there is no GPU, as on this machine."
    emit ""
    ui_render
    ui_capture
    emit "Stream cost of 10 clients: (k2), measured by hand."
    emit ""
}

# ui_render: ui_bench.mjs UI_RUNS times; the median of each of its lines' fps.
ui_render() {
    local r line
    : >"$TMP/ui_bench.txt"
    for ((r = 1; r <= UI_RUNS; r++)); do
        log "  rendering, run $r/$UI_RUNS"
        node bench/ui_bench.mjs >>"$TMP/ui_bench.txt" 2>"$TMP/ui_bench.err" ||
            { emit "ui_bench.mjs failed: $(tail -n 1 "$TMP/ui_bench.err")"; emit ""; return 0; }
    done
    emit "Rendering, frames per second (animation frames the page got), median of $UI_RUNS runs of"
    emit "\`node bench/ui_bench.mjs\` (every run's value in brackets); load average $(cut -d' ' -f1-3 /proc/loadavg) after them:"
    emit ""
    python3 - "$TMP/ui_bench.txt" "$UI_FPS_GOAL" >"$TMP/ui_rows.txt" <<'PY'
import re, statistics, sys
runs, goal = {}, float(sys.argv[2])
for line in open(sys.argv[1]):
    m = re.match(r"(host graph.*): ([0-9.]+) fps in the first 5 s, ([0-9.]+) fps from the (\w+) s", line)
    pairs = [(m[1] + " (first 5 s)", m[2]), (f"{m[1]} (from the {m[4]} s)", m[3])] if m else []
    m = re.match(r"(chart.*|uplot.*|sigma.*): ([0-9.]+) fps", line)
    pairs += [(m[1], m[2])] if m else []
    for label, v in pairs:
        runs.setdefault(label, []).append(float(v))
print("| what | fps | goal: %g fps |" % goal)
print("| --- | ---: | --- |")
for label, v in runs.items():
    med = statistics.median(v)
    print(f"| {label} | {med:.1f} ({', '.join(f'{x:.1f}' for x in v)}) | {'met' if med >= goal else 'not met'} |")
PY
    while IFS= read -r line; do emit "$line"; done <"$TMP/ui_rows.txt"
    emit ""
}

# ui_capture: the rig, a collector serving the dashboard, an agent, ui_capture.mjs.
ui_capture() {
    make_keys
    rig_ok || return 0
    local hport=18080 wport=18081 out=$TMP/ui_capture.txt
    collector_start ui-coll "$RIG_AGT" "$(curve_collector) --state-out /dev/null --http 127.0.0.1:$hport --ws 127.0.0.1:$wport --ui-dir $BUILD/ui" ||
        { rig_down; return 0; }
    local cpid=$COLL_PID
    COLL_LOG=$TMP/ui-coll.log
    if ! wait_for "$cpid" "$COLL_LOG" 'live stream on' || ! agent_start ui-agent ui-agent; then
        emit "Not measured: the collector or the agent did not start ($(tail -n 1 "$COLL_LOG"))."
        emit ""
        stop_pid "$cpid"
        rig_down
        return 0
    fi
    local load0 rc=0
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    log "  capture to screen: $UI_PROBES probes"
    ip netns exec "$RIG_AGT" node bench/ui_capture.mjs "http://127.0.0.1:$hport" "$UI_PROBES" -- \
        ip netns exec "$RIG_SND" python3 -u bench/probe_udp.py "$RIG_DST" >"$out" 2>"$TMP/ui_capture.err" || rc=$?
    stop_pid "$AGENT_PID"
    stop_pid "$cpid"
    rig_down
    if ((rc != 0)) || ! grep -q '^capture-to-screen: .* median' "$out"; then
        emit "Capture to screen not measured: ui_capture.mjs failed ($(tail -n 1 "$TMP/ui_capture.err") $(tail -n 1 "$out"))."
        emit ""
        return 0
    fi
    local cap c2s
    cap=$(grep '^capture-to-screen:' "$out")
    c2s=$(grep '^collector-to-screen:' "$out" || echo "collector-to-screen: no frames")
    emit "Latency, one run of \`bench/ui_capture.mjs\` over $UI_PROBES probes, load average $load0 at its start,"
    emit "$(cut -d' ' -f1-3 /proc/loadavg) at its end. A probe: one UDP datagram to a port of its own (a new flow),"
    emit "sent from the sender's namespace and stamped just before the send (CLOCK_REALTIME); on screen:"
    emit "the animation frame after its row appeared in the flow table (an upper bound by one frame)."
    emit "Collector to screen: every state frame of the stream in the same run, from its \`ts\` to the"
    emit "animation frame after its arrival. In between: the agent's capture (\`capture.poll_ms\` 10), its"
    emit "export interval (250 ms), CURVE, the collector's merge, the stream's tick (30 Hz), the render."
    emit ""
    emit "| what | samples | median ms | **p95 ms** | goal |"
    emit "| --- | ---: | ---: | ---: | --- |"
    emit "$(sed -n 's/^capture-to-screen: \([0-9]*\) probes, \([0-9]*\) lost, median \([0-9.]*\) ms, p95 \([0-9.]*\) ms, max \([0-9.]*\) ms/\1 \2 \3 \4 \5/p' <<<"$cap" |
        awk -v goal="$UI_CAP_GOAL_MS" '{ printf "| capture to screen (probe sent to its row on screen; %s lost, max %.0f ms) | %d | %.0f | **%.0f** | p95 < %d ms: %s |", $2, $5, $1 - $2, $3, $4, goal, ($4 < goal && $2 == 0) ? "met" : "not met" }')"
    emit "$(sed -n 's/^collector-to-screen: \([0-9]*\) frames, median \([0-9.]*\) ms, p95 \([0-9.]*\) ms/\1 \2 \3/p' <<<"$c2s" |
        awk -v goal="$UI_C2S_GOAL_MS" '{ printf "| collector to screen (state frame ts to the next animation frame) | %d | %.1f | **%.1f** | p95 < %d ms: %s |", $1, $2, $3, goal, ($3 < goal) ? "met" : "not met" }')"
    emit ""
    emit '```'
    emit "$(shown "ip netns exec $RIG_AGT $COLLECTOR --listen 'tcp://127.0.0.1:*' $(curve_collector) --http 127.0.0.1:$hport --ws 127.0.0.1:$wport --ui-dir $BUILD/ui")"
    emit "$(shown "ip netns exec $RIG_AGT $AGENT -i $RIG_IF --collector EP $(curve_agent 0) --id ui-agent")"
    emit "ip netns exec $RIG_AGT node bench/ui_capture.mjs http://127.0.0.1:$hport $UI_PROBES -- ip netns exec $RIG_SND python3 -u bench/probe_udp.py $RIG_DST"
    emit '```'
    emit ""
    emit "$KEYS_NOTE The namespaces: \`rig_up\` in bench/pipeline.sh."
    emit ""
}
