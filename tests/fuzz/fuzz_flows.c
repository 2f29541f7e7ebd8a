/* fuzz_flows.c - libFuzzer target for the flow engine: hostile packet sequences.
 *
 * Input: a sequence of records, each a 2-byte big-endian frame length, a 1-byte time step
 * (milliseconds) and that many bytes of an Ethernet frame. Every frame is decoded and fed to
 * a small flow engine (64 flows, so eviction runs; the HTTP/DNS layer on, with small limits
 * so reassembly buffers fill), idle flows expire as time advances, and the rest are flushed
 * at the end. Every record is also read back through the accessors the CLI uses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/decode.h"
#include "netscope/flow_app.h"
#include "netscope/flow_engine.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
on_record(void *ud, const ns_flow_engine_t *eng, uint32_t idx, ns_flow_end_t reason,
          uint64_t now_ns)
{
    (void)now_ns;
    char uid[32];
    size_t n = ns_flow_engine_uid(eng, idx, uid, sizeof(uid));
    if (n >= sizeof(uid))
        abort();
    (void)ns_flow_engine_interim_n(eng, idx, reason);
    (*(uint64_t *)ud)++;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 64;
    o.seed = 1;
    o.app_limits.max_flows = 8;
    o.app_limits.reasm_bytes = 256;
    uint64_t records = 0;
    ns_flow_engine_t *eng = ns_flow_engine_new(&o, on_record, &records);
    if (eng == NULL)
        return 0;
    ns_pkt_t *pkt = calloc(1, sizeof(*pkt));
    uint64_t now = 1000000000ull * 1700000000ull;
    size_t off = 0;
    while (pkt && off + 3 <= size) {
        uint32_t len = (uint32_t)data[off] << 8 | data[off + 1];
        now += (uint64_t)data[off + 2] * 1000000ull;
        off += 3;
        if (len > size - off)
            len = (uint32_t)(size - off);
        /* Exact-size copy: an over-read of the frame is an ASan report. */
        uint8_t *frame = malloc(len ? len : 1);
        if (frame == NULL)
            break;
        memcpy(frame, data + off, len);
        off += len;
        pkt->ts_ns = now;
        (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, frame, len, len, pkt, NULL, NULL);
        ns_flow_engine_add(eng, pkt, frame);
        free(frame);
    }
    ns_flow_engine_flush(eng, NS_FLOW_END_END_OF_INPUT, 0);
    const ns_flow_engine_stats_t *st = ns_flow_engine_stats(eng);
    if (st->in_flows > st->packets)
        abort(); /* every packet is in at most one flow */
    free(pkt);
    ns_flow_engine_destroy(&eng);
    return 0;
}
