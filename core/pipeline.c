/* pipeline.c - decode each frame and feed it to the flow engine (see pipeline.h). */
#include "netscope/pipeline.h"

#include <stdlib.h>
#include <string.h>

#include "netscope/flow_key.h"

struct ns_pipeline {
    ns_flow_engine_t *engine;
    ns_decode_stats_t ds;
    ns_decode_cfg_t dcfg;
    ns_pipeline_stats_t st;
    ns_pkt_t pkt; /* about 1 KiB: reused for every frame, never on the stack */
};

ns_pipeline_t *
ns_pipeline_new(const ns_flow_engine_opts_t *o, ns_flow_emit_fn emit, void *ud)
{
    ns_pipeline_t *self = calloc(1, sizeof(*self));
    if (self == NULL)
        return NULL;
    self->dcfg = (ns_decode_cfg_t)NS_DECODE_CFG_DEFAULT;
    self->engine = ns_flow_engine_new(o, emit, ud);
    if (self->engine == NULL)
        ns_pipeline_destroy(&self);
    return self;
}

void
ns_pipeline_set_decode_cfg(ns_pipeline_t *self, const ns_decode_cfg_t *cfg)
{
    self->dcfg = *cfg;
}

void
ns_pipeline_destroy(ns_pipeline_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_flow_engine_destroy(&(*self_p)->engine);
    free(*self_p);
    *self_p = NULL;
}

void
ns_pipeline_frame(ns_pipeline_t *self, uint8_t iface, uint32_t linktype, const uint8_t *data,
                  uint32_t cap_len, uint32_t wire_len, uint64_t ts_ns)
{
    ns_pkt_t *pkt = &self->pkt;
    pkt->ts_ns = ts_ns;
    (void)ns_decode_frame_cfg(&self->dcfg, linktype, data, cap_len, wire_len, pkt, NULL,
                              &self->ds);
    if (iface >= NS_FLOW_KEY_IFACE_MAX) {
        self->st.bad_iface++;
        iface = NS_FLOW_KEY_IFACE_MAX - 1;
    }
    pkt->iface = iface;
    ns_flow_engine_add(self->engine, pkt, data);
    if (self->st.frames++ == 0)
        self->st.first_ns = ts_ns;
    self->st.last_ns = ts_ns;
}

void
ns_pipeline_tick(ns_pipeline_t *self, uint64_t now_ns)
{
    ns_flow_engine_expire(self->engine, now_ns);
}

uint32_t
ns_pipeline_export(ns_pipeline_t *self, uint64_t now_ns)
{
    return ns_flow_engine_export(self->engine, now_ns);
}

void
ns_pipeline_finish(ns_pipeline_t *self, ns_flow_end_t reason, uint64_t now_ns)
{
    ns_flow_engine_flush(self->engine, reason, now_ns);
}

ns_flow_engine_t *
ns_pipeline_engine(ns_pipeline_t *self)
{
    return self->engine;
}

const ns_pkt_t *
ns_pipeline_last(const ns_pipeline_t *self)
{
    return &self->pkt;
}

const ns_decode_stats_t *
ns_pipeline_decode_stats(const ns_pipeline_t *self)
{
    return &self->ds;
}

const ns_pipeline_stats_t *
ns_pipeline_stats(const ns_pipeline_t *self)
{
    return &self->st;
}
