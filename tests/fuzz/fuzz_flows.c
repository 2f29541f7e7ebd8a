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
on_record(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    char uid[32];
    size_t n = ns_flow_engine_uid(eng, idx, uid, sizeof(uid));
    if (n >= sizeof(uid) || strcmp(uid, rec->uid) != 0)
        abort();
    (void)ns_flow_engine_interim_n(eng, idx, (ns_flow_end_t)rec->end_reason);
    /* every string of the record is terminated, every transaction readable */
    if (strnlen(rec->history, sizeof(rec->history)) == sizeof(rec->history) ||
        strnlen(rec->conn_state, sizeof(rec->conn_state)) == sizeof(rec->conn_state))
        abort();
    for (uint32_t i = 0; i < rec->n_http; i++)
        n += strlen(rec->http[i].uri) + strlen(rec->http[i].host);
    for (uint32_t i = 0; i < rec->n_dns; i++)
        n += strlen(rec->dns[i].qname);
    (void)n;
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
    /* Inputs of odd length also run the export path (an export after every packet whose time
     * byte is odd). */
    o.export_live = size & 1;
    uint64_t records = 0;
    ns_flow_engine_t *eng = ns_flow_engine_new(&o, on_record, &records);
    if (eng == NULL)
        return 0;
    ns_pkt_t *pkt = calloc(1, sizeof(*pkt));
    uint64_t now = 1000000000ull * 1700000000ull;
    uint64_t tunnelled = 0; /* packets whose tunnel carrier is a flow too */
    size_t off = 0;
    while (pkt && off + 3 <= size) {
        uint32_t len = (uint32_t)data[off] << 8 | data[off + 1];
        uint8_t tb = data[off + 2];
        /* time byte: milliseconds since the previous packet; 255: this packet alone is stamped
         * far in the future; 254: the capture jumps an hour ahead. */
        uint64_t ts = now;
        if (tb == 255)
            ts = now + (1ull << 60);
        else if (tb == 254)
            ts = now += 3600ull * 1000000000ull;
        else
            ts = now += (uint64_t)tb * 1000000ull;
        off += 3;
        if (len > size - off)
            len = (uint32_t)(size - off);
        /* Exact-size copy: an over-read of the frame is an ASan report. */
        uint8_t *frame = malloc(len ? len : 1);
        if (frame == NULL)
            break;
        memcpy(frame, data + off, len);
        off += len;
        pkt->ts_ns = ts;
        (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, frame, len, len, pkt, NULL, NULL);
        pkt->iface = (uint8_t)(len & 1);
        if (pkt->tun_n != 0 && pkt->l3_off != pkt->tun.l3_off)
            tunnelled++;
        ns_flow_engine_add(eng, pkt, frame);
        free(frame);
        if (tb & 1)
            (void)ns_flow_engine_export(eng, now);
    }
    ns_flow_engine_flush(eng, NS_FLOW_END_END_OF_INPUT, 0);
    const ns_flow_engine_stats_t *st = ns_flow_engine_stats(eng);
    /* Every packet is in at most one flow, a tunnelled one also in its carrier's flow. */
    if (st->in_flows > st->packets + tunnelled)
        abort();
    free(pkt);
    ns_flow_engine_destroy(&eng);
    return 0;
}
