/* pipeline.h - frames in, flow records out: the decode -> flow engine step of one thread.
 *
 * `netscope flows` and the agent's capture thread both run frames through this module: each
 * frame is decoded into a ns_pkt_t, tagged with the interface it came from, and accounted by
 * the flow engine, which hands records to the caller's callback (flow_engine.h). The caller
 * owns the loop around it (reading a capture, polling several, pacing a replay) and the
 * clock: ns_pipeline_tick() with the wall clock when the capture is quiet, so idle flows end
 * on a silent link too.
 *
 * Design: everything is allocated by ns_pipeline_new(); ns_pipeline_frame() does no
 * allocation. Not thread-safe: one pipeline per thread.
 */
#ifndef NETSCOPE_PIPELINE_H
#define NETSCOPE_PIPELINE_H

#include <stdint.h>

#include "netscope/decode.h"
#include "netscope/flow_engine.h"

typedef struct ns_pipeline ns_pipeline_t;

typedef struct {
    uint64_t frames;   /* passed to ns_pipeline_frame() */
    uint64_t first_ns; /* timestamp of the first frame (0 before it) */
    uint64_t last_ns;  /* of the latest frame */
    uint64_t bad_iface;/* frames with an interface index >= NS_FLOW_KEY_IFACE_MAX (counted
                        * under interface 15) */
} ns_pipeline_stats_t;

/* A pipeline running an engine made with `o`, handing records to `emit` with `ud`. Returns
 * NULL when out of memory or the options are out of range (see ns_flow_engine_new()). */
ns_pipeline_t *ns_pipeline_new(const ns_flow_engine_opts_t *o, ns_flow_emit_fn emit, void *ud);

/* Decode with the tunnel ports of `cfg` (copied) from the next frame on; a new pipeline uses
 * NS_DECODE_CFG_DEFAULT. */
void ns_pipeline_set_decode_cfg(ns_pipeline_t *self, const ns_decode_cfg_t *cfg);

/* Free the pipeline and its engine (without writing open flows: ns_pipeline_finish() first)
 * and NULL the pointer. NULL-safe. */
void ns_pipeline_destroy(ns_pipeline_t **self_p);

/* Decode one frame captured on interface `iface` (0 .. NS_FLOW_KEY_IFACE_MAX - 1) with link
 * type `linktype` and account it. `data` holds cap_len bytes and is read during the call only. */
void ns_pipeline_frame(ns_pipeline_t *self, uint8_t iface, uint32_t linktype,
                       const uint8_t *data, uint32_t cap_len, uint32_t wire_len,
                       uint64_t ts_ns);

/* The capture is quiet at wall-clock time `now_ns`: end the flows whose time is up. */
void ns_pipeline_tick(ns_pipeline_t *self, uint64_t now_ns);

/* Hand over the flows changed since the last export (the engine was made with export_live);
 * returns how many. */
uint32_t ns_pipeline_export(ns_pipeline_t *self, uint64_t now_ns);

/* The input ended (or the process stops): write every open flow with `reason` (end_of_input
 * or shutdown) at `now_ns` (0: each flow's last packet time). */
void ns_pipeline_finish(ns_pipeline_t *self, ns_flow_end_t reason, uint64_t now_ns);

/* The packet summary of the latest frame (valid until the next ns_pipeline_frame()). */
const ns_pkt_t *ns_pipeline_last(const ns_pipeline_t *self);

/* The parts, for summaries. Valid until the pipeline is destroyed. */
ns_flow_engine_t *ns_pipeline_engine(ns_pipeline_t *self);
const ns_decode_stats_t *ns_pipeline_decode_stats(const ns_pipeline_t *self);
const ns_pipeline_stats_t *ns_pipeline_stats(const ns_pipeline_t *self);

#endif /* NETSCOPE_PIPELINE_H */
