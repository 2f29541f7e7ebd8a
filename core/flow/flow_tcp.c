/* flow_tcp.c - per-packet TCP analysis (see flow_tcp.h for the definitions used).
 *
 * History letters (Zeek, base/protocols/conn/main.zeek): S SYN, H SYN-ACK, A pure ACK,
 * D data, F FIN, R RST, T retransmission, G content gap, W zero window, I inconsistent
 * (FIN+RST), Q multi-flag (SYN+FIN, SYN+RST), ^ flipped, X analysis partial; upper case for
 * the originator. Zeek's documentation of the field: "The 'a', 'd', 'i' and 'q' flags are
 * recorded a maximum of one time in either direction regardless of how many are actually seen.
 * 'f', 'h', 'r' and 's' can be recorded multiple times for either direction if the associated
 * sequence number differs from the last-seen packet of the same flag type. 'c', 'g', 't' and
 * 'w' are recorded in a logarithmic fashion: the second instance represents that the event was
 * seen (at least) 10 times; the third instance, 100 times; etc." and "x: connection analysis
 * partial (e.g. limits exceeded)". Checksums are not verified (offload makes them unreliable in
 * captures), so there is no 'C'.
 */
#include "netscope/flow_tcp.h"

#include "netscope/flow_table.h"

#define SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define SEQ_GE(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)

/* Bits of hist_seen, per direction (responder's shifted by 8). */
#define H_SYN 0x01u
#define H_FIN 0x02u
#define H_RST 0x04u
#define H_DATA 0x08u
#define H_ACK 0x10u
#define H_MULTI 0x20u
#define H_CORRUPT 0x40u

/* Our limit is the record's room for letters: Zeek's history has none. A letter that does not
 * fit makes the last one 'X' (Zeek's "connection analysis partial (e.g. limits exceeded)"),
 * so a reader knows the string stops short; nothing is recorded after it. */
static void
hist_add(ns_flow_tcp_t *t, unsigned dir, char c)
{
    if (t->hist_len >= NS_FLOW_HIST_MAX) {
        t->hist[NS_FLOW_HIST_MAX - 1] = 'X';
        return;
    }
    if (dir && c >= 'A' && c <= 'Z')
        c = (char)(c - 'A' + 'a');
    t->hist[t->hist_len++] = c;
}

/* Record `c` the first time `mask` is seen in `dir`; returns true when it had been seen. */
static bool
hist_once(ns_flow_tcp_t *t, unsigned dir, unsigned mask, char c)
{
    uint16_t m = (uint16_t)(mask << (dir ? 8 : 0));
    if (t->hist_seen & m)
        return true;
    t->hist_seen |= m;
    hist_add(t, dir, c);
    return false;
}

/* Zeek's scaled entries: a letter when a counter reaches 1, 10, 100, ... */
static void
hist_scaled(ns_flow_tcp_t *t, unsigned dir, char c, uint32_t count)
{
    uint32_t p = 1;
    while (p < count && p <= UINT32_MAX / 10)
        p *= 10;
    if (p == count)
        hist_add(t, dir, c);
}

void
ns_flow_tcp_flipped(ns_flow_tcp_t *t)
{
    hist_add(t, 0, '^');
}

static void
update_history(ns_flow_tcp_t *t, unsigned dir, unsigned flags, uint32_t rel_seq, uint32_t len)
{
    bool syn = flags & NS_TCP_SYN, fin = flags & NS_TCP_FIN, rst = flags & NS_TCP_RST;
    unsigned bits = (unsigned)syn + (unsigned)fin + (unsigned)rst;
    ns_flow_tcp_dir_t *e = &t->d[dir];
    if (bits > 1) {
        if (fin && rst)
            (void)hist_once(t, dir, H_CORRUPT, 'I');
        else
            (void)hist_once(t, dir, H_MULTI, 'Q');
    } else if (bits == 1) {
        if (syn) {
            char c = (flags & NS_TCP_ACK) ? 'H' : 'S';
            /* isn holds the previous SYN's sequence number until this one is recorded. */
            if (hist_once(t, dir, H_SYN, c) && rel_seq != 0)
                hist_add(t, dir, c);
        }
        if (fin) {
            /* A FIN's number is at the end of its data. Only its low 8 bits are kept: a
             * repeat whose number differs by a multiple of 256 is not logged again. */
            uint8_t s = (uint8_t)(rel_seq + len);
            if (hist_once(t, dir, H_FIN, 'F') && s != e->fin8)
                hist_add(t, dir, 'F');
            e->fin8 = s;
        }
        if (rst) {
            uint8_t s = (uint8_t)rel_seq;
            if (hist_once(t, dir, H_RST, 'R') && s != e->rst8)
                hist_add(t, dir, 'R');
            e->rst8 = s;
        }
    } else if (len > 0) {
        (void)hist_once(t, dir, H_DATA, 'D');
    } else if (flags & NS_TCP_ACK) {
        (void)hist_once(t, dir, H_ACK, 'A');
    }
}

/* Endpoint state machine, after Zeek's TCPSessionAdapter::Update*State. */
static void
update_state(ns_flow_t *f, unsigned dir, unsigned flags, uint32_t len, bool peer_fin)
{
    uint8_t *e = &f->state[dir], *p = &f->state[dir ^ 1u];
    bool syn = flags & NS_TCP_SYN, ack = flags & NS_TCP_ACK;
    bool fin = flags & NS_TCP_FIN, rst = flags & NS_TCP_RST;
    switch (*e) {
    case NS_TCP_EP_INACTIVE:
        if (syn && !rst && !fin) {
            if (ack && dir == 1) {
                /* A SYN-ACK from the responder: Zeek's connection_established. */
                *e = NS_TCP_EP_ESTABLISHED;
                if (*p == NS_TCP_EP_SYN_SENT)
                    *p = NS_TCP_EP_ESTABLISHED;
            } else {
                *e = ack ? NS_TCP_EP_SYN_ACK_SENT : NS_TCP_EP_SYN_SENT;
            }
        } else if (rst) {
            *e = NS_TCP_EP_RESET;
        } else if (fin) {
            *e = NS_TCP_EP_CLOSED;
        } else if (dir == 1 && len == 0 && *p == NS_TCP_EP_SYN_SENT) {
            /* Zeek's UpdateInactiveState: "some eccentric TCP's will ack an initial SYN prior
             * to sending a SYN reply"; such an ACK does not make the connection partial. */
        } else if (ack && *p == NS_TCP_EP_ESTABLISHED) {
            /* ... and an ACK after the peer's SYN-ACK (the SYN was missed) establishes it. */
            *e = NS_TCP_EP_ESTABLISHED;
        } else {
            *e = NS_TCP_EP_PARTIAL;
        }
        break;
    case NS_TCP_EP_SYN_SENT:
    case NS_TCP_EP_SYN_ACK_SENT:
        if (rst)
            *e = NS_TCP_EP_RESET;
        else if (fin)
            *e = NS_TCP_EP_CLOSED;
        else if (syn && ack && dir == 1 && *p == NS_TCP_EP_SYN_SENT)
            *e = *p = NS_TCP_EP_ESTABLISHED; /* simultaneous open answered */
        else if (ack && !syn && (*p == NS_TCP_EP_ESTABLISHED || *p == NS_TCP_EP_SYN_ACK_SENT))
            *e = *p = NS_TCP_EP_ESTABLISHED;
        break;
    case NS_TCP_EP_PARTIAL:
    case NS_TCP_EP_ESTABLISHED:
        if (rst) {
            *e = NS_TCP_EP_RESET;
        } else if (fin) {
            *e = NS_TCP_EP_CLOSED;
            /* Zeek's UpdateEstablishedState: a peer that sent a FIN and then a RST is turned
             * back to CLOSED when this side's FIN arrives ("this was actually normal
             * termination"). Zeek keeps the peer's previous state; its FIN count says the
             * same here. */
            if (*p == NS_TCP_EP_RESET && peer_fin)
                *p = NS_TCP_EP_CLOSED;
        }
        else if (syn && !ack && *e == NS_TCP_EP_PARTIAL && *p == NS_TCP_EP_INACTIVE)
            *e = NS_TCP_EP_SYN_SENT;
        break;
    case NS_TCP_EP_CLOSED:
        /* Zeek's UpdateClosedState: once both sides have sent a FIN, a RST does not change
         * the state ("this connection has already seen a FIN exchange"), so conn_state
         * stays SF. */
        if (rst && *p != NS_TCP_EP_CLOSED)
            *e = NS_TCP_EP_RESET;
        break;
    default:
        break;
    }
}

static void
rtt_sample(ns_flow_tcp_ext_t *t, uint32_t us)
{
    if (t->rtt_n == UINT32_MAX)
        return;
    if (t->rtt_n == 0 || us < t->rtt_min_us)
        t->rtt_min_us = us;
    if (us > t->rtt_max_us)
        t->rtt_max_us = us;
    t->rtt_last_us = us;
    t->rtt_n++;
    /* Running mean in integers: mean += (x - mean) / n, rounded. */
    int64_t d = (int64_t)us - (int64_t)t->rtt_mean_us;
    t->rtt_mean_us = (uint32_t)((int64_t)t->rtt_mean_us + d / (int64_t)t->rtt_n);
}

/* Time since the flow's first packet, if it fits in 32 bits of the unit. */
static bool
rel_time(const ns_flow_t *f, uint64_t now_ns, uint64_t unit_ns, uint32_t *out)
{
    uint64_t d = (now_ns - f->first_ns) / unit_ns;
    if (d > UINT32_MAX)
        return false;
    *out = (uint32_t)d;
    return true;
}

/* Time from `from` to `to` (relative times): 0, never a wrapped value, when the capture's
 * timestamps go backwards between the two packets. */
static inline uint32_t
since(uint32_t to, uint32_t from)
{
    return to >= from ? to - from : 0;
}

/* Wireshark's tcp.analysis.initial_rtt: from the most recent SYN to the first packet after it
 * that has ACK and not SYN, from either side (a RST-ACK answering a SYN counts). When that
 * packet is the originator's ACK of a SYN-ACK seen after that SYN, the time splits into the
 * server half (SYN -> SYN-ACK) and the client half (SYN-ACK -> ACK); otherwise only the total
 * is known (NS_TCPHS_NOSPLIT: hs_srv_ns holds it, hs_cli_ns is 0). */
static void
update_handshake(ns_flow_t *f, ns_flow_tcp_t *t, unsigned dir, unsigned flags, uint64_t now_ns)
{
    bool syn = flags & NS_TCP_SYN, ackf = flags & NS_TCP_ACK;
    uint32_t rel;
    if (t->hs & NS_TCPHS_DONE || !rel_time(f, now_ns, 1, &rel))
        return;
    if (syn && !ackf) {
        t->hs_srv_ns = rel; /* the most recent SYN: a repeated one restarts the handshake */
        t->hs = NS_TCPHS_SYN;
    } else if (dir == 1 && syn && ackf && (t->hs & NS_TCPHS_SYN) &&
               !(t->hs & NS_TCPHS_SYNACK)) {
        t->hs_srv_ns = since(rel, t->hs_srv_ns);
        t->hs_cli_ns = rel;
        t->hs |= NS_TCPHS_SYNACK;
    } else if (!syn && ackf && (t->hs & NS_TCPHS_SYN)) {
        if ((t->hs & NS_TCPHS_SYNACK) && dir == 0) {
            t->hs_cli_ns = since(rel, t->hs_cli_ns);
            t->hs |= NS_TCPHS_DONE;
        } else {
            uint32_t syn_at = (t->hs & NS_TCPHS_SYNACK) ? t->hs_cli_ns - t->hs_srv_ns
                                                         : t->hs_srv_ns;
            t->hs_srv_ns = since(rel, syn_at);
            t->hs_cli_ns = 0;
            t->hs = NS_TCPHS_SYN | NS_TCPHS_DONE | NS_TCPHS_NOSPLIT;
        }
    }
}

/* Bytes [e->seq_hi, seq) were skipped: count them missed and remember them as the hole an
 * out-of-order segment may fill. */
static void
open_gap(ns_flow_table_t *tab, uint32_t idx, ns_flow_t *f, ns_flow_tcp_dir_t *e, unsigned dir,
         uint32_t seq)
{
    ns_flow_tcp_ext_t *ext = ns_flow_table_tcp_ext(tab, idx);
    if (ext != NULL) {
        ns_flow_tcp_xdir_t *x = &ext->d[dir];
        uint32_t gap = seq - e->seq_hi;
        x->hole_lo = e->seq_hi;
        x->hole_hi = seq;
        e->dfl = (uint8_t)((e->dfl | NS_TCPD_HOLE) & ~NS_TCPD_GAPLOG);
        x->missed = UINT32_MAX - x->missed < gap ? UINT32_MAX : x->missed + gap;
        if (x->gaps < UINT16_MAX)
            x->gaps++;
    }
    f->quality |= NS_FLOW_Q_GAP;
}

/* Zeek's 'G'/'g' ("a content gap", scaled like 't'): its reassembler reports a gap when the
 * peer acknowledges sequence space the capture never delivered (the bytes Zeek counts in
 * missed_bytes). So a hole in `dir`'s data is a content gap once an ACK from the other side
 * goes past its start, recorded once per hole; a hole an out-of-order segment fills before
 * that is not one. Zeek's TCP_Reassembler is the rule here, read from its behaviour as
 * documented for conn.log's missed_bytes ("bytes missed in content gaps"): from knowledge,
 * not checked against a running Zeek. */
static void
ack_past_hole(ns_flow_table_t *tab, uint32_t idx, ns_flow_tcp_t *t, unsigned dir, uint32_t ack)
{
    ns_flow_tcp_dir_t *e = &t->d[dir];
    ns_flow_tcp_ext_t *ext = ns_flow_table_tcp_ext(tab, idx);
    if (ext == NULL || (e->dfl & NS_TCPD_GAPLOG) || !SEQ_GT(ack, ext->d[dir].hole_lo))
        return;
    ns_flow_tcp_xdir_t *x = &ext->d[dir];
    e->dfl |= NS_TCPD_GAPLOG;
    if (x->gaps_acked < UINT16_MAX) {
        x->gaps_acked++;
        hist_scaled(t, dir, 'G', x->gaps_acked);
    }
}

/* Sequence analysis of one segment of `seglen` sequence numbers (payload + SYN + FIN). */
static void
update_seq(ns_flow_table_t *tab, uint32_t idx, ns_flow_t *f, ns_flow_tcp_t *t, unsigned dir,
           const ns_pkt_t *pkt, uint32_t seglen, uint64_t now_ns)
{
    ns_flow_tcp_dir_t *e = &t->d[dir];
    uint32_t seq = pkt->seq, len = pkt->payload_len;
    bool syn = pkt->tcp_flags & NS_TCP_SYN;
    if (!(e->dfl & NS_TCPD_SEQ) || (syn && !(e->dfl & NS_TCPD_SYN))) {
        /* First packet of this endpoint, or its first SYN: the start of sequence space, as
         * Zeek counts it (as though a SYN preceded a mid-stream start). */
        e->isn = syn ? seq : seq - 1u;
        e->seq_hi = seq + seglen;
        e->dfl = (uint8_t)((e->dfl & NS_TCPD_ACK) | NS_TCPD_SEQ | (syn ? NS_TCPD_SYN : 0));
        if (len > 0 && t->karn_dir == 0xff && rel_time(f, now_ns, 1000, &t->karn_us)) {
            t->karn_dir = (uint8_t)dir;
            t->karn_seq = seq + seglen;
        }
        return;
    }
    if (seglen == 0) {
        /* A segment that occupies no sequence space still tells where its sender is: an ACK
         * ahead of the highest number seen means bytes were sent that the capture missed (as
         * Wireshark reads it too). Not a RST: its number need not be in the window. */
        if (SEQ_GT(seq, e->seq_hi) && !(pkt->tcp_flags & NS_TCP_RST)) {
            open_gap(tab, idx, f, e, dir, seq);
            e->seq_hi = seq;
        }
        return;
    }
    uint32_t end = seq + seglen;
    if (SEQ_LT(seq, e->seq_hi)) {
        bool keepalive = len <= 1 && seq + 1u == e->seq_hi &&
                         !(pkt->tcp_flags & (NS_TCP_SYN | NS_TCP_FIN));
        if (keepalive)
            return; /* one byte (or none) just below the next expected number */
        ns_flow_tcp_ext_t *ext = ns_flow_table_tcp_ext(tab, idx);
        if (ext == NULL)
            return;
        ns_flow_tcp_xdir_t *x = &ext->d[dir];
        bool hole = (e->dfl & NS_TCPD_HOLE) && SEQ_LT(seq, x->hole_hi) && SEQ_GT(end, x->hole_lo);
        if (hole) {
            uint32_t lo = SEQ_GT(seq, x->hole_lo) ? seq : x->hole_lo;
            uint32_t hi = SEQ_LT(end, x->hole_hi) ? end : x->hole_hi;
            x->missed -= x->missed >= hi - lo ? hi - lo : x->missed;
            if (lo == x->hole_lo)
                x->hole_lo = hi;
            else
                x->hole_hi = lo; /* a fill in the middle: the upper part stays missed */
            if (!SEQ_LT(x->hole_lo, x->hole_hi))
                e->dfl &= (uint8_t)~(NS_TCPD_HOLE | NS_TCPD_GAPLOG);
            if (x->ooo < UINT32_MAX)
                x->ooo++;
        } else {
            if (x->retrans < UINT32_MAX)
                x->retrans++;
            if (len > 0 && x->retrans_data < UINT16_MAX) {
                /* Zeek's 'T' is about payload; a repeated SYN or FIN is not one. */
                x->retrans_data++;
                hist_scaled(t, dir, 'T', x->retrans_data);
            }
            if (t->karn_dir == dir && SEQ_GT(t->karn_seq, seq))
                t->karn_dir = 0xff; /* Karn: an ambiguous ACK is no sample */
        }
        if (SEQ_GT(end, e->seq_hi))
            e->seq_hi = end;
        return;
    }
    if (SEQ_GT(seq, e->seq_hi))
        open_gap(tab, idx, f, e, dir, seq);
    e->seq_hi = end;
    if (len > 0 && t->karn_dir == 0xff && rel_time(f, now_ns, 1000, &t->karn_us)) {
        t->karn_dir = (uint8_t)dir;
        t->karn_seq = end;
    }
}

void
ns_flow_tcp_update(ns_flow_table_t *tab, uint32_t idx, unsigned dir, const ns_pkt_t *pkt,
                   uint64_t now_ns)
{
    ns_flow_t *f = ns_flow_table_get(tab, idx);
    ns_flow_tcp_t *t = ns_flow_table_tcp(tab, idx);
    unsigned flags = pkt->tcp_flags;
    ns_flow_tcp_dir_t *e = &t->d[dir];
    bool syn = flags & NS_TCP_SYN, fin = flags & NS_TCP_FIN, rst = flags & NS_TCP_RST;
    bool ack = flags & NS_TCP_ACK;
    uint32_t len = pkt->payload_len;

    f->tcp_flags[dir] |= (uint8_t)flags;
    if (syn && e->syn < UINT8_MAX)
        e->syn++;
    if (fin && e->fin < UINT8_MAX)
        e->fin++;
    if (rst && e->rst < UINT8_MAX)
        e->rst++;
    if (dir == 0 && f->d[0].pkts == 1 && !syn)
        f->quality |= NS_FLOW_Q_MIDSTREAM;

    /* Relative sequence number against the previous SYN (or start) for history repeats. */
    uint32_t rel = (e->dfl & NS_TCPD_SEQ) ? pkt->seq - e->isn : 0;
    update_history(t, dir, flags, rel, len);
    update_state(f, dir, flags, len, t->d[dir ^ 1u].fin > 0);

    uint32_t seglen = len + (syn ? 1u : 0u) + (fin ? 1u : 0u);
    update_seq(tab, idx, f, t, dir, pkt, seglen, now_ns);
    update_handshake(f, t, dir, flags, now_ns);

    if (!syn && !fin && !rst && pkt->win == 0) {
        ns_flow_tcp_ext_t *x = ns_flow_table_tcp_ext(tab, idx);
        if (x != NULL && x->d[dir].zero_win < UINT16_MAX) {
            x->d[dir].zero_win++;
            hist_scaled(t, dir, 'W', x->d[dir].zero_win);
        }
    }
    if (ack) {
        /* Wireshark's test: nothing new but the same ACK and non-zero window again. */
        if (len == 0 && !syn && !fin && !rst && (e->dfl & NS_TCPD_ACK) && pkt->ack == e->ack_hi &&
            pkt->win != 0 && pkt->win == e->win && pkt->seq == e->seq_hi) {
            ns_flow_tcp_ext_t *x = ns_flow_table_tcp_ext(tab, idx);
            if (x != NULL && x->d[dir].dup_ack < UINT32_MAX)
                x->d[dir].dup_ack++;
        }
        if (t->d[dir ^ 1u].dfl & NS_TCPD_HOLE)
            ack_past_hole(tab, idx, t, dir ^ 1u, pkt->ack);
        if (!(e->dfl & NS_TCPD_ACK) || SEQ_GT(pkt->ack, e->ack_hi))
            e->ack_hi = pkt->ack;
        e->dfl |= NS_TCPD_ACK;
        uint32_t now_us;
        if (t->karn_dir == (dir ^ 1u) && SEQ_GE(pkt->ack, t->karn_seq) &&
            rel_time(f, now_ns, 1000, &now_us) && now_us >= t->karn_us) {
            ns_flow_tcp_ext_t *x = ns_flow_table_tcp_ext(tab, idx);
            if (x != NULL)
                rtt_sample(x, now_us - t->karn_us);
            t->karn_dir = 0xff;
        }
    }
    e->win = pkt->win;
}
