/* flow_dns.c - DNS transactions of a flow: queries paired with their responses.
 *
 * Spec: RFC 1035 (message), RFC 7766 (DNS over TCP: each message is preceded by a two-byte
 * length; several may share a segment, one may span several).
 *
 * Messages come parsed: from the decoder for UDP (pkt->dns), and from ns_dns_parse() over the
 * reassembly buffer for TCP. A query opens a transaction; a response closes the newest open
 * transaction with the same id and question type (ids are what resolvers match on, RFC 5452
 * asks for random ones). A query seen again while its transaction is open is a resend
 * (`retries`), not a new transaction. A response that matches nothing opens a transaction
 * of its own (capture started late, or mDNS announcements). Beyond max_dns_tx transactions
 * are only counted, and responses are attributed to the uncounted queries first, so the
 * unanswered count stays right in the common case without storing them.
 */
#include <string.h>

#include "flow_app_int.h"

#define DNS_QR 0x8000u
#define DNS_HDR_LEN 12u

/* The newest kept transaction with a query that `m` answers or repeats; `answered` selects
 * closed or open ones. */
static dns_rec_t *
find_tx(const ns_app_pool_t *p, const app_slot_t *s, const ns_dns_t *m, bool answered)
{
    for (uint32_t i = s->dns_kept; i-- > 0;) {
        dns_rec_t *r = app_dns_rec(p, s, i);
        if (!(r->flags & DNS_HAS_QUERY) || ((r->flags & DNS_ANSWERED) != 0) != answered)
            continue;
        if (r->id == m->id && (!m->has_question || r->qtype == m->qtype))
            return r;
    }
    return NULL;
}

/* A new kept transaction with the question of `m`, or NULL (counted) when full. */
static dns_rec_t *
tx_new(ns_app_pool_t *p, app_slot_t *s, const ns_dns_t *m, bool tcp)
{
    s->dns_n++;
    if (s->dns_kept >= p->lim.max_dns_tx) {
        p->st.dns_tx_dropped++;
        return NULL;
    }
    dns_rec_t *r = app_dns_rec(p, s, s->dns_kept++);
    memset(r, 0, p->dns_rec_size);
    r->id = m->id;
    r->flags = tcp ? DNS_TCP : 0u;
    if (m->has_question) {
        r->qtype = m->qtype;
        ns_cur_t c;
        uint32_t n = m->qname_len <= NS_DNS_NAME_MAX ? m->qname_len : NS_DNS_NAME_MAX;
        ns_cur_init(&c, (const uint8_t *)m->qname, n);
        if (app_copy_text(app_dns_qname(r), p->lim.max_str_len, &c, 0, n))
            r->flags |= DNS_TRUNC;
    }
    return r;
}

void
app_dns_message(ns_app_pool_t *p, app_slot_t *s, const ns_dns_t *m, uint64_t ts_ns, bool tcp)
{
    if (s->service == SVC_NONE)
        s->service = SVC_DNS;
    if (!(m->flags & DNS_QR)) {
        dns_rec_t *r = find_tx(p, s, m, false);
        if (r) {
            if (r->retries < UINT8_MAX)
                r->retries++;
            return;
        }
        r = tx_new(p, s, m, tcp);
        if (r == NULL) {
            s->dns_over_q++;
            return;
        }
        r->flags |= DNS_HAS_QUERY;
        r->q_ts_ns = ts_ns;
        return;
    }

    dns_rec_t *r = find_tx(p, s, m, false);
    if (r == NULL) {
        if (find_tx(p, s, m, true))
            return; /* a duplicate of a response already seen */
        if (s->dns_over_q > s->dns_over_r) {
            s->dns_over_r++; /* most likely the answer to a query we did not keep */
            return;
        }
        r = tx_new(p, s, m, tcp);
        if (r == NULL)
            return;
    }
    r->flags |= DNS_ANSWERED;
    r->r_ts_ns = ts_ns;
    r->rcode = m->rcode;
    r->ancount = m->ancount;
    uint32_t n = m->n_answers < NS_APP_DNS_ANSWERS ? m->n_answers : NS_APP_DNS_ANSWERS;
    if (n > NS_DNS_MAX_ANSWERS)
        n = NS_DNS_MAX_ANSWERS;
    memcpy(r->ans, m->answers, n * sizeof(r->ans[0]));
    r->n_answers = (uint8_t)n;
}

uint32_t
app_dns_consume(ns_app_pool_t *p, app_slot_t *s, unsigned dir, const uint8_t *buf, uint32_t used,
                uint64_t now_ns)
{
    app_dir_t *d = &s->d[dir];
    uint32_t off = 0;
    /* Every pass consumes at least two bytes or returns. */
    for (uint32_t pass = 0; off < used && pass <= used; pass++) {
        if (d->st == ST_BODY) { /* the rest of a message too large to hold */
            uint32_t n = d->body_left < used - off ? (uint32_t)d->body_left : used - off;
            d->body_left -= n;
            off += n;
            if (d->body_left == 0) {
                d->st = ST_MSG;
                d->msg_ts_ns = now_ns;
            }
            continue;
        }
        if (d->st != ST_MSG) {
            p->st.bytes_resync += used - off;
            return used;
        }
        ns_cur_t c;
        ns_cur_init(&c, buf + off, used - off);
        uint16_t mlen = ns_cur_be16(&c);
        if (!ns_cur_ok(&c))
            return off; /* the length prefix itself is split */
        if (2u + mlen > p->lim.reasm_bytes) {
            p->st.bytes_overflow += mlen;
            d->tx = 0;
            d->chunked = false;
            d->body_left = mlen;
            d->st = ST_BODY;
            off += 2;
            continue;
        }
        if (used - off < 2u + mlen)
            return off; /* the message goes on in a later segment */
        ns_cur_t m;
        ns_cur_init(&m, buf + off + 2, mlen);
        ns_dns_t msg;
        if (mlen >= DNS_HDR_LEN && ns_dns_parse(&m, &msg, NULL) == NS_PARSE_OK)
            app_dns_message(p, s, &msg, d->msg_ts_ns, true);
        else
            p->st.parse_errors++;
        off += 2u + mlen;
        d->msg_ts_ns = now_ns;
    }
    return off;
}
