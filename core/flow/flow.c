/* flow.c - values derived from a flow record: Zeek's conn_state, history and byte counts,
 * throughput over the sliding window, end reason names. */
#include "netscope/flow.h"

#include <string.h>

#define IPPROTO_TCP_ 6
#define IPPROTO_UDP_ 17

static bool
inactive(uint8_t s)
{
    return s == NS_TCP_EP_INACTIVE || s == NS_TCP_EP_PARTIAL;
}

/* The history matches /^\^?S[^HAFGIQ]*R/ (a prefix of the letters is enough). */
static bool
syn_then_rst(const ns_flow_tcp_t *t)
{
    unsigned i = 0, n = t->hist_len;
    if (i < n && t->hist[i] == '^')
        i++;
    if (i >= n || t->hist[i] != 'S')
        return false;
    for (i++; i < n; i++) {
        char c = t->hist[i];
        if (c == 'R')
            return true;
        if (strchr("HAFGIQ", c) != NULL)
            return false;
    }
    return false;
}

/* Zeek's conn_state() (base/protocols/conn/main.zeek), over our endpoint states. */
const char *
ns_flow_conn_state(const ns_flow_view_t *v)
{
    const ns_flow_t *f = &v->f;
    if (f->proto == IPPROTO_UDP_) {
        bool o = v->pkts[0] > 0, r = v->pkts[1] > 0;
        if (o)
            return r ? "SF" : "S0";
        return r ? "SHR" : "OTH";
    }
    if (f->proto != IPPROTO_TCP_ || !v->is_tcp)
        return "OTH";
    uint8_t os = f->state[0], rs = f->state[1];
    if (rs == NS_TCP_EP_RESET) {
        if (os == NS_TCP_EP_SYN_SENT || os == NS_TCP_EP_SYN_ACK_SENT ||
            (os == NS_TCP_EP_RESET && ns_flow_app_bytes(v, 0) == 0 &&
             ns_flow_app_bytes(v, 1) == 0))
            return "REJ";
        return inactive(os) ? "RSTRH" : "RSTR";
    }
    if (os == NS_TCP_EP_RESET) {
        if (!inactive(rs))
            return "RSTO";
        /* main.zeek: RSTOS0 only when c$history matches the pattern ^?S[^HAFGIQ]*R (the
         * originator's SYN, then its RST, with no originator letter of HAFGIQ in between);
         * any other reset of an originator whose peer stayed inactive is OTH. */
        return syn_then_rst(&v->tcp) ? "RSTOS0" : "OTH";
    }
    if (rs == NS_TCP_EP_CLOSED && os == NS_TCP_EP_CLOSED)
        return "SF";
    if (os == NS_TCP_EP_CLOSED)
        return inactive(rs) ? "SH" : "S2";
    if (rs == NS_TCP_EP_CLOSED)
        return inactive(os) ? "SHR" : "S3";
    if (os == NS_TCP_EP_SYN_SENT && rs == NS_TCP_EP_INACTIVE)
        return "S0";
    if (os == NS_TCP_EP_ESTABLISHED && rs == NS_TCP_EP_ESTABLISHED)
        return "S1";
    return "OTH";
}

size_t
ns_flow_history(const ns_flow_view_t *v, char *out, size_t outlen)
{
    if (outlen == 0)
        return 0;
    size_t n = 0;
    const ns_flow_tcp_t *tcp = &v->tcp;
    if (v->f.proto == IPPROTO_TCP_ && v->is_tcp) {
        n = tcp->hist_len < outlen - 1 ? tcp->hist_len : outlen - 1;
        memcpy(out, tcp->hist, n);
    } else if (v->f.proto == IPPROTO_UDP_) {
        /* Zeek's UDPAnalyzer::DeliverPacket: CheckHistory(HIST_ORIG_DATA_PKT, 'D') for every
         * datagram of the originator (payload or not), 'd' for the responder's; each letter
         * once (the conn.log "history" field, base/protocols/conn/main.zeek). */
        char l[2];
        size_t k = 0;
        uint8_t h = v->f.uhist;
        if (h & NS_FLOW_UH_RESP_FIRST) {
            l[k++] = 'd';
            if (h & NS_FLOW_UH_ORIG)
                l[k++] = 'D';
        } else {
            if (h & NS_FLOW_UH_ORIG)
                l[k++] = 'D';
            if (h & NS_FLOW_UH_RESP)
                l[k++] = 'd';
        }
        n = k < outlen - 1 ? k : outlen - 1;
        memcpy(out, l, n);
    }
    out[n] = '\0';
    return n;
}

#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)

uint64_t
ns_flow_app_bytes(const ns_flow_view_t *v, unsigned dir)
{
    if (v->f.proto != IPPROTO_TCP_ || !v->is_tcp)
        return v->payload_bytes[dir];
    const ns_flow_tcp_dir_t *e = &v->tcp.d[dir], *p = &v->tcp.d[dir ^ 1u];
    if (!(e->dfl & NS_TCPD_SEQ))
        return 0;
    /* Zeek's TCP_Endpoint::Size(): the greater of the highest sequence number sent and the
     * highest acknowledged by the peer (the ACK may cover data the capture missed), less the
     * start, the SYN and the FIN. */
    uint32_t hi = e->seq_hi;
    if ((p->dfl & NS_TCPD_ACK) && SEQ_GT(p->ack_hi, hi) && SEQ_GT(p->ack_hi, e->isn))
        hi = p->ack_hi;
    uint64_t size = (uint32_t)(hi - e->isn);
    /* 32-bit sequence space wraps every 4 GiB: take the number of wraps that brings the span
     * closest to the bytes actually counted. */
    uint64_t seen = v->payload_bytes[dir] + v->x.d[dir].missed;
    if (seen > size + (1ull << 31))
        size += ((seen - size + (1ull << 31)) >> 32) << 32;
    if (size != 0)
        size--;
    if (e->fin > 0 && size != 0)
        size--;
    return size;
}

uint64_t
ns_flow_missed_bytes(const ns_flow_view_t *v)
{
    return (uint64_t)v->x.d[0].missed + v->x.d[1].missed;
}

#define NS_PER_S 1000000000ull

void
ns_flow_rate_add(ns_flow_t *f, uint64_t now_ns, uint32_t wire_len)
{
    uint64_t sec = now_ns / NS_PER_S, last = f->last_ns / NS_PER_S;
    unsigned b = 0;
    if (sec < last) {
        /* An old packet (captures reorder a little): the previous second's bucket takes it,
         * an older one is outside the window; neither resets the buckets. */
        if (sec + 1 != last)
            return;
        b = 1;
    } else if (sec == last + 1) {
        f->thr_bytes[1] = f->thr_bytes[0];
        f->thr_pkts[1] = f->thr_pkts[0];
        f->thr_bytes[0] = 0;
        f->thr_pkts[0] = 0;
    } else if (sec != last) {
        f->thr_bytes[0] = f->thr_bytes[1] = 0;
        f->thr_pkts[0] = f->thr_pkts[1] = 0;
    }
    f->thr_bytes[b] = UINT32_MAX - f->thr_bytes[b] < wire_len ? UINT32_MAX
                                                               : f->thr_bytes[b] + wire_len;
    if (f->thr_pkts[b] < UINT16_MAX)
        f->thr_pkts[b]++;
    else
        f->fl |= NS_FLOW_F_THR_SAT;
}

void
ns_flow_rate(const ns_flow_t *f, uint64_t now_ns, double *bps, double *pps)
{
    uint64_t sec = now_ns / NS_PER_S, last = f->last_ns / NS_PER_S;
    double frac = (double)(now_ns % NS_PER_S) / (double)NS_PER_S;
    double bytes = 0, pkts = 0;
    if (sec == last) {
        bytes = f->thr_bytes[0] + f->thr_bytes[1] * (1.0 - frac);
        pkts = f->thr_pkts[0] + f->thr_pkts[1] * (1.0 - frac);
    } else if (sec == last + 1) {
        bytes = f->thr_bytes[0] * (1.0 - frac);
        pkts = f->thr_pkts[0] * (1.0 - frac);
    }
    *bps = bytes * 8.0;
    *pps = pkts;
}

const char *
ns_flow_end_name(ns_flow_end_t reason)
{
    static const char *const names[] = {"none",    "fin",     "rst",           "idle",
                                        "evicted", "active_timeout", "end_of_input",
                                        "shutdown"};
    return (unsigned)reason < NS_FLOW_END_COUNT ? names[reason] : "?";
}
