/* fuzz_dns.c - libFuzzer target for the DNS message parser (and the HTTP head parser).
 *
 * The input is one DNS message as it follows a UDP header. Each input is parsed
 * - by ns_dns_parse without a field list (the fast path) and with one, which must agree on the
 *   outcome and on the summary;
 * - by ns_decode_dns_tcp, as a TCP payload (the first two bytes become the length prefix);
 * - by ns_http_parse, with and without a field list.
 * Every reported field must lie inside the input and every string inside the input or the
 * field arena. A disagreement is a crash (__builtin_trap), so libFuzzer keeps the input.
 * In gcc builds replay.c runs the corpus (tests/fuzz/corpus/dns) through this function.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../core/decode/decode_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_FIELDS 4096

static ns_field_t field_store[FUZZ_FIELDS];
static char arena_store[1 << 16];

static void
check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

/* Every field inside the input, every string inside the input or the arena. */
static void
check_fields(const ns_fields_t *f, const uint8_t *data, size_t size)
{
    for (uint32_t i = 0; i < f->n; i++) {
        const ns_field_t *x = &f->v[i];
        check((size_t)x->off + x->len <= size);
        if (x->type == NS_FT_STR && x->str_len > 0) {
            const char *s = x->str;
            bool in_data = s >= (const char *)data && s + x->str_len <= (const char *)data + size;
            bool in_arena = s >= f->arena && s + x->str_len <= f->arena + f->arena_used;
            check(in_data || in_arena);
        }
    }
    check(f->depth == 0);
}

static void
check_same_dns(const ns_dns_t *a, const ns_dns_t *b)
{
    check(a->id == b->id && a->flags == b->flags && a->rcode == b->rcode);
    check(a->has_question == b->has_question && a->qname_len == b->qname_len);
    check(a->qname_len <= NS_DNS_NAME_MAX && a->qname[a->qname_len] == '\0');
    check(memcmp(a->qname, b->qname, a->qname_len) == 0);
    check(a->qtype == b->qtype && a->qclass == b->qclass);
    check(a->n_answers == b->n_answers && a->n_answers <= NS_DNS_MAX_ANSWERS);
    for (uint32_t i = 0; i < a->n_answers; i++) {
        const ns_dns_answer_t *x = &a->answers[i], *y = &b->answers[i];
        check(x->type == y->type && x->ttl == y->ttl && x->data_len == y->data_len);
        check(x->data_len <= NS_DNS_RDATA_MAX && memcmp(x->data, y->data, x->data_len) == 0);
    }
    check(a->edns == b->edns && a->edns_udp_size == b->edns_udp_size);
}

static void
fuzz_dns(const uint8_t *data, uint32_t len)
{
    static ns_dns_t fast, full;
    ns_fields_t f;
    ns_fields_init(&f, field_store, FUZZ_FIELDS, arena_store, sizeof(arena_store));

    ns_cur_t c1, c2;
    ns_cur_init(&c1, data, len);
    ns_cur_init(&c2, data, len);
    ns_parse_rc_t rc1 = ns_dns_parse(&c1, &fast, NULL);
    ns_parse_rc_t rc2 = ns_dns_parse(&c2, &full, &f);
    check(rc1 == rc2);
    check(c1.off == c2.off && c1.off <= len);
    check_same_dns(&fast, &full);
    check_fields(&f, data, len);
}

static void
fuzz_dns_tcp(const uint8_t *data, uint32_t len)
{
    static ns_pkt_t pkt;
    ns_fields_t f;
    ns_fields_init(&f, field_store, FUZZ_FIELDS, arena_store, sizeof(arena_store));
    for (int with_fields = 0; with_fields < 2; with_fields++) {
        memset(&pkt, 0, NS_PKT_HOT_SIZE);
        pkt.ip_proto = NS_IPPROTO_TCP;
        pkt.payload_len = len;
        pkt.payload_cap = len;
        ns_cur_t c;
        ns_cur_init(&c, data, len);
        ns_dec_t d = {.pkt = &pkt, .f = with_fields ? &f : NULL};
        ns_parse_rc_t rc = ns_decode_dns_tcp(&c, &d);
        check(rc < NS_PARSE_RC_COUNT && c.off <= len);
    }
    check_fields(&f, data, len);
}

static void
fuzz_http(const uint8_t *data, uint32_t len)
{
    static ns_http_t a, b;
    ns_fields_t f;
    ns_fields_init(&f, field_store, FUZZ_FIELDS, arena_store, sizeof(arena_store));
    ns_cur_t c1, c2;
    ns_cur_init(&c1, data, len);
    ns_cur_init(&c2, data, len);
    ns_parse_rc_t rc1 = ns_http_parse(&c1, &a, NULL);
    ns_parse_rc_t rc2 = ns_http_parse(&c2, &b, &f);
    check(rc1 == rc2 && a.kind == b.kind && a.status == b.status);
    check(a.content_length == b.content_length && a.content_length >= -1);
    const ns_span_t *spans[] = {&a.method, &a.uri,  &a.version,      &a.reason,
                                &a.host,   &a.user_agent, &a.content_type};
    for (size_t i = 0; i < sizeof(spans) / sizeof(spans[0]); i++)
        check((size_t)spans[i]->off + spans[i]->len <= len);
    check(!a.headers_complete || a.header_len <= len);
    check_fields(&f, data, len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 70000)
        return 0; /* past any DNS message (TCP: 2 + 65535 bytes) */
    uint32_t len = (uint32_t)size;
    fuzz_dns(data, len);
    fuzz_dns_tcp(data, len);
    fuzz_http(data, len);
    return 0;
}
