/* flow_rec.c - the flat flow record filled from the flow table (see flow_rec.h).
 *
 * Everything here is derived from the table's compact records through ns_flow_table_view():
 * the originator's side of the canonical key, Zeek's derived values, the TCP analysis and the
 * rates. The engine adds what only it knows (uid, kind, interim count, transactions).
 */
#include "netscope/flow_rec.h"

#include <string.h>

#include "netscope/community_id.h"
#include "netscope/flow_key.h"
#include "netscope/flow_table.h"
#include "flow_rec_int.h"

#define IPPROTO_ICMP_ 1
#define IPPROTO_ICMPV6_ 58

const char *
ns_flow_rec_kind_name(ns_flow_rec_kind_t kind)
{
    switch (kind) {
    case NS_FLOW_REC_UPDATE:
        return "update";
    case NS_FLOW_REC_INTERIM:
        return "interim";
    case NS_FLOW_REC_FINAL:
        return "final";
    }
    return "?";
}

void
ns_flow_rec_avg_rate(const ns_flow_rec_t *r, double *bps, double *pps)
{
    double dur = r->last_ns > r->first_ns ? (double)(r->last_ns - r->first_ns) / 1e9 : 0.0;
    uint64_t pk = r->pkts[0] + r->pkts[1];
    uint64_t wb = r->wire_bytes[0] + r->wire_bytes[1];
    *bps = dur > 0 ? (double)wb * 8.0 / dur : 0.0;
    *pps = dur > 0 ? (double)pk / dur : 0.0;
}

/* The TCP part: flags, counts, endpoint states, handshake and running RTT, loss. */
static void
fill_tcp(ns_flow_rec_t *r, const ns_flow_view_t *v)
{
    const ns_flow_tcp_t *tcp = &v->tcp;
    const ns_flow_tcp_ext_t *x = &v->x;
    r->is_tcp = true;
    for (unsigned d = 0; d < 2; d++) {
        r->tcp_flags[d] = v->f.tcp_flags[d];
        r->syn[d] = tcp->d[d].syn;
        r->fin[d] = tcp->d[d].fin;
        r->rst[d] = tcp->d[d].rst;
        r->tcp_state[d] = v->f.state[d];
        r->retrans[d] = x->d[d].retrans;
        r->ooo[d] = x->d[d].ooo;
        r->dup_ack[d] = x->d[d].dup_ack;
        r->zero_win[d] = x->d[d].zero_win;
        r->gaps[d] = x->d[d].gaps;
        r->missed[d] = x->d[d].missed;
    }
    if ((tcp->hs & NS_TCPHS_DONE) && (tcp->hs & NS_TCPHS_NOSPLIT)) {
        r->hs = NS_FLOW_REC_HS_TOTAL;
        r->rtt_hs_ns = tcp->hs_srv_ns;
    } else if (tcp->hs & NS_TCPHS_DONE) {
        r->hs = NS_FLOW_REC_HS_TOTAL | NS_FLOW_REC_HS_SERVER | NS_FLOW_REC_HS_CLIENT;
        r->rtt_hs_ns = (uint64_t)tcp->hs_srv_ns + tcp->hs_cli_ns;
        r->rtt_hs_server_ns = tcp->hs_srv_ns;
        r->rtt_hs_client_ns = tcp->hs_cli_ns;
    } else if (tcp->hs & NS_TCPHS_SYNACK) {
        r->hs = NS_FLOW_REC_HS_SERVER;
        r->rtt_hs_server_ns = tcp->hs_srv_ns;
    }
    r->rtt_n = x->rtt_n;
    if (x->rtt_n > 0) {
        r->rtt_min_us = x->rtt_min_us;
        r->rtt_mean_us = x->rtt_mean_us;
        r->rtt_max_us = x->rtt_max_us;
        r->rtt_last_us = x->rtt_last_us;
    }
}

void
ns_flow_rec_fill_table(ns_flow_rec_t *r, const ns_flow_table_t *t, uint32_t idx)
{
    ns_flow_view_t v;
    ns_flow_table_view(t, idx, &v);
    const ns_flow_t *f = &v.f;
    ns_flow_key_t k;
    ns_flow_table_key(t, idx, &k);
    unsigned o = (f->fl & NS_FLOW_F_ORIG_HI) ? 1u : 0u, p = o ^ 1u;

    memset(r, 0, sizeof(*r));
    r->ip_ver = k.ip_ver;
    r->proto = k.proto;
    r->vlan = (uint16_t)(k.vlan & NS_FLOW_KEY_VLAN_MASK);
    r->iface = (uint8_t)(k.vlan >> NS_FLOW_KEY_IFACE_SHIFT);
    r->orig_h = k.addr[o];
    r->resp_h = k.addr[p];
    r->orig_p = k.port[o];
    r->resp_p = k.port[p];

    /* Community ID: ICMP passes type and code; the code of a two-way message is 0. */
    uint16_t sp = k.port[o], dp = k.port[p];
    if (k.proto == IPPROTO_ICMP_ || k.proto == IPPROTO_ICMPV6_) {
        uint16_t a, c;
        if (ns_flow_key_icmp_ports(k.ip_ver, (uint8_t)sp, 0, &a, &c))
            dp = 0;
    }
    (void)ns_community_id_v1(0, k.ip_ver, &k.addr[o], &k.addr[p], k.proto, sp, dp, r->community_id,
                             sizeof(r->community_id));

    r->first_ns = f->first_ns;
    r->last_ns = f->last_ns;
    const char *cs = ns_flow_conn_state(&v);
    size_t n = strlen(cs);
    memcpy(r->conn_state, cs, n < NS_FLOW_STATE_MAX ? n + 1 : NS_FLOW_STATE_MAX);
    r->conn_state[NS_FLOW_STATE_MAX - 1] = '\0';
    ns_flow_history(&v, r->history, sizeof(r->history));
    for (unsigned d = 0; d < 2; d++) {
        r->app_bytes[d] = ns_flow_app_bytes(&v, d);
        r->pkts[d] = v.pkts[d];
        r->ip_bytes[d] = v.ip_bytes[d];
        r->wire_bytes[d] = v.wire_bytes[d];
        r->payload_bytes[d] = v.payload_bytes[d];
    }
    r->missed_bytes = ns_flow_missed_bytes(&v);
    if (v.is_tcp)
        fill_tcp(r, &v);
    r->quality = f->quality;
    ns_flow_rate(f, f->last_ns, &r->bps, &r->pps);
}
