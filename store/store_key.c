/* store_key.c - the store's key, value and cursor layouts (see store_key.h for the diagrams).
 *
 * Design: one function per key shape, each writing big-endian integers after a fixed or
 * length-prefixed prefix, so that every index sorts by (prefix, time, fid). The host and
 * port indexes put the minute first, the uid and community id indexes the hour (see
 * store_key.h). Decoding a value
 * trusts nothing: every length is checked against the bytes present before it is used.
 */
#include "netscope/store_key.h"

#include <stdio.h>
#include <string.h>

/* ---- big-endian integers ------------------------------------------------------------- */

void
ns_store_be16_put(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

void
ns_store_be64_put(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

uint16_t
ns_store_be16_get(const uint8_t *p)
{
    return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

uint64_t
ns_store_be64_get(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/* ---- index keys ------------------------------------------------------------------------ */

static size_t
put_tail(uint8_t *k, size_t off, uint64_t t, uint64_t fid)
{
    ns_store_be64_put(k + off, t);
    ns_store_be64_put(k + off + 8, fid);
    return off + 16;
}

size_t
ns_store_key_time(uint8_t *k, uint64_t t, uint64_t fid)
{
    return put_tail(k, 0, t, fid);
}

size_t
ns_store_key_host(uint8_t *k, uint8_t ver, const ns_addr_t *a, uint64_t t, uint64_t fid)
{
    ns_store_be64_put(k, t / NS_STORE_MINUTE_NS);
    k[8] = ver;
    memcpy(k + 9, a->b, 16);
    return put_tail(k, 25, t, fid);
}

size_t
ns_store_key_port(uint8_t *k, uint16_t port, uint64_t t, uint64_t fid)
{
    ns_store_be64_put(k, t / NS_STORE_MINUTE_NS);
    ns_store_be16_put(k + 8, port);
    return put_tail(k, 10, t, fid);
}

size_t
ns_store_key_agent(uint8_t *k, const char *agent, uint64_t t, uint64_t fid)
{
    size_t n = strlen(agent);
    if (n > NS_STORE_AGENT_MAX)
        return 0;
    k[0] = (uint8_t)n;
    memcpy(k + 1, agent, n);
    return put_tail(k, 1 + n, t, fid);
}

size_t
ns_store_key_str(uint8_t *k, uint64_t t, const char *s, size_t max, uint64_t fid)
{
    size_t n = strlen(s);
    if (n > max || n + 17 > NS_STORE_KEY_MAX)
        return 0;
    ns_store_be64_put(k, t / NS_STORE_HOUR_NS);
    memcpy(k + 8, s, n);
    k[8 + n] = 0;
    ns_store_be64_put(k + n + 9, fid);
    return n + 17;
}

size_t
ns_store_key_conn(uint8_t *k, uint64_t conn, uint64_t fid)
{
    return put_tail(k, 0, conn, fid);
}

size_t
ns_store_key_series(uint8_t *k, ns_store_res_t res, const char *name, uint64_t start_s)
{
    size_t n = strlen(name);
    if (n > NS_STORE_SERIES_MAX || (unsigned)res >= NS_STORE_RES_COUNT)
        return 0;
    k[0] = (uint8_t)res;
    k[1] = (uint8_t)n;
    memcpy(k + 2, name, n);
    ns_store_be64_put(k + 2 + n, start_s);
    return n + 10;
}

size_t
ns_store_key_top(uint8_t *k, uint8_t span_min, uint64_t bucket_min, uint8_t ver,
                 const ns_addr_t *a)
{
    ns_store_be64_put(k, bucket_min);
    k[8] = span_min;
    k[9] = ver;
    memcpy(k + 10, a->b, 16);
    return NS_STORE_TOP_KEY_LEN;
}

bool
ns_store_key_tail(const uint8_t *k, size_t len, uint64_t *t, uint64_t *fid)
{
    if (len < 16)
        return false;
    *t = ns_store_be64_get(k + len - 16);
    *fid = ns_store_be64_get(k + len - 8);
    return true;
}

/* ---- record values --------------------------------------------------------------------- */

/* strnlen of a char array that the codec filled: a missing NUL counts as the whole array. */
static size_t
field_len(const char *s, size_t size)
{
    const char *z = memchr(s, 0, size);
    return z ? (size_t)(z - s) : size;
}

size_t
ns_store_vhdr_encode(uint8_t *out, size_t cap, const ns_flow_rec_t *rec, const ns_store_meta_t *m)
{
    size_t a = field_len(m->agent, sizeof(m->agent));
    size_t u = field_len(rec->uid, sizeof(rec->uid));
    size_t c = field_len(rec->community_id, sizeof(rec->community_id));
    size_t sv = field_len(rec->service, sizeof(rec->service));
    size_t cs = field_len(rec->conn_state, sizeof(rec->conn_state));
    if (a > NS_STORE_AGENT_MAX || u > NS_FLOW_UID_LEN || c >= NS_FLOW_CID_MAX || sv > 8 ||
        cs > 8)
        return 0;
    size_t n = NS_STORE_VHDR_LEN + a + u + c;
    if (n > cap)
        return 0;
    memset(out, 0, NS_STORE_VHDR_LEN);
    out[0] = NS_STORE_VFMT;
    out[1] = m->primary ? 1 : 0;
    out[2] = m->observers;
    out[3] = rec->ip_ver;
    out[4] = rec->proto;
    out[5] = rec->kind;
    ns_store_be16_put(out + 6, rec->orig_p);
    ns_store_be16_put(out + 8, rec->resp_p);
    out[10] = (uint8_t)a;
    out[11] = (uint8_t)u;
    out[12] = (uint8_t)c;
    ns_store_be64_put(out + 16, m->received_ns);
    ns_store_be64_put(out + 24, m->conn);
    ns_store_be64_put(out + 32, rec->first_ns);
    ns_store_be64_put(out + 40, rec->last_ns);
    ns_store_be64_put(out + 48, rec->wire_bytes[0] + rec->wire_bytes[1]);
    ns_store_be64_put(out + 56, rec->pkts[0] + rec->pkts[1]);
    memcpy(out + 64, rec->orig_h.b, 16);
    memcpy(out + 80, rec->resp_h.b, 16);
    memcpy(out + 96, rec->service, sv);
    memcpy(out + 104, rec->conn_state, cs);
    memcpy(out + NS_STORE_VHDR_LEN, m->agent, a);
    memcpy(out + NS_STORE_VHDR_LEN + a, rec->uid, u);
    memcpy(out + NS_STORE_VHDR_LEN + a + u, rec->community_id, c);
    return n;
}

/* Copy n bytes and a NUL into dst; the caller checked n against dst's size. */
static void
copy_str(char *dst, const uint8_t *src, size_t n)
{
    memcpy(dst, src, n);
    dst[n] = '\0';
}

bool
ns_store_vhdr_decode(const uint8_t *v, size_t len, ns_store_vhdr_t *h)
{
    if (len < NS_STORE_VHDR_LEN || v[0] != NS_STORE_VFMT)
        return false;
    size_t a = v[10], u = v[11], c = v[12];
    if (a > NS_STORE_AGENT_MAX || u > NS_FLOW_UID_LEN || c >= NS_FLOW_CID_MAX ||
        NS_STORE_VHDR_LEN + a + u + c > len)
        return false;
    h->primary = (v[1] & 1u) != 0;
    h->observers = v[2];
    h->ip_ver = v[3];
    h->proto = v[4];
    h->kind = v[5];
    h->orig_p = ns_store_be16_get(v + 6);
    h->resp_p = ns_store_be16_get(v + 8);
    h->received_ns = ns_store_be64_get(v + 16);
    h->conn = ns_store_be64_get(v + 24);
    h->first_ns = ns_store_be64_get(v + 32);
    h->last_ns = ns_store_be64_get(v + 40);
    h->bytes = ns_store_be64_get(v + 48);
    h->pkts = ns_store_be64_get(v + 56);
    memcpy(h->orig_h.b, v + 64, 16);
    memcpy(h->resp_h.b, v + 80, 16);
    /* 8-byte fields NUL padded; the record's arrays hold at most 7 characters. */
    copy_str(h->service, v + 96, field_len((const char *)v + 96, NS_FLOW_SERVICE_MAX - 1));
    copy_str(h->conn_state, v + 104, field_len((const char *)v + 104, NS_FLOW_STATE_MAX - 1));
    const uint8_t *s = v + NS_STORE_VHDR_LEN;
    copy_str(h->agent, s, a);
    copy_str(h->uid, s + a, u);
    copy_str(h->cid, s + a + u, c);
    h->codec = s + a + u + c;
    h->codec_len = len - (NS_STORE_VHDR_LEN + a + u + c);
    return true;
}

/* ---- series points --------------------------------------------------------------------- */

void
ns_store_point_encode(uint8_t *b, const ns_store_point_t *p)
{
    const uint64_t v[8] = {p->bytes,      p->pkts,       p->new_flows, p->ended_flows,
                           p->active_max, p->rtt_sum_us, p->rtt_n,     p->retrans};
    for (int i = 0; i < 8; i++)
        ns_store_be64_put(b + 8 * i, v[i]);
}

void
ns_store_point_decode(const uint8_t *b, ns_store_point_t *p)
{
    p->bytes = ns_store_be64_get(b);
    p->pkts = ns_store_be64_get(b + 8);
    p->new_flows = ns_store_be64_get(b + 16);
    p->ended_flows = ns_store_be64_get(b + 24);
    p->active_max = ns_store_be64_get(b + 32);
    p->rtt_sum_us = ns_store_be64_get(b + 40);
    p->rtt_n = ns_store_be64_get(b + 48);
    p->retrans = ns_store_be64_get(b + 56);
}

void
ns_store_point_add(ns_store_point_t *to, const ns_store_point_t *p)
{
    to->bytes += p->bytes;
    to->pkts += p->pkts;
    to->new_flows += p->new_flows;
    to->ended_flows += p->ended_flows;
    if (p->active_max > to->active_max)
        to->active_max = p->active_max;
    to->rtt_sum_us += p->rtt_sum_us;
    to->rtt_n += p->rtt_n;
    to->retrans += p->retrans;
}

/* ---- top_host sums -------------------------------------------------------------------- */

void
ns_store_top_sums_encode(uint8_t *b, const ns_store_top_sums_t *t)
{
    ns_store_be64_put(b, t->bytes);
    ns_store_be64_put(b + 8, t->pkts);
    ns_store_be64_put(b + 16, t->flows);
}

void
ns_store_top_sums_decode(const uint8_t *b, ns_store_top_sums_t *t)
{
    t->bytes = ns_store_be64_get(b);
    t->pkts = ns_store_be64_get(b + 8);
    t->flows = ns_store_be64_get(b + 16);
}

/* ---- paging cursors ------------------------------------------------------------------- */

static const char cursor_letter[] = {'t', 'a', 'b', 'p', 'd'}; /* by ns_store_sort_t */

void
ns_store_cursor_encode(char out[NS_STORE_CURSOR_MAX], ns_store_sort_t sort, uint64_t value,
                       uint64_t fid)
{
    char letter = (unsigned)sort < sizeof(cursor_letter) ? cursor_letter[sort] : 't';
    snprintf(out, NS_STORE_CURSOR_MAX, "%c%016llx%016llx", letter, (unsigned long long)value,
             (unsigned long long)fid);
}

static bool
hex64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < 16; i++) {
        char ch = s[i];
        unsigned d;
        if (ch >= '0' && ch <= '9')
            d = (unsigned)(ch - '0');
        else if (ch >= 'a' && ch <= 'f')
            d = (unsigned)(ch - 'a' + 10);
        else
            return false;
        v = v << 4 | d;
    }
    *out = v;
    return true;
}

bool
ns_store_cursor_decode(const char *s, ns_store_sort_t sort, uint64_t *value, uint64_t *fid)
{
    if ((unsigned)sort >= sizeof(cursor_letter) || strlen(s) != 33 || s[0] != cursor_letter[sort])
        return false;
    return hex64(s + 1, value) && hex64(s + 17, fid);
}

void
ns_store_proto_name(uint8_t proto, char out[8])
{
    switch (proto) {
    case 1: snprintf(out, 8, "icmp"); break;
    case 6: snprintf(out, 8, "tcp"); break;
    case 17: snprintf(out, 8, "udp"); break;
    case 47: snprintf(out, 8, "gre"); break;
    case 50: snprintf(out, 8, "esp"); break;
    case 58: snprintf(out, 8, "icmp6"); break;
    case 132: snprintf(out, 8, "sctp"); break;
    default: snprintf(out, 8, "%u", proto); break;
    }
}
