/* test_dns.c - unit tests for the DNS decoder (core/decode/dns.c).
 *
 * Valid messages are annotated fixtures; hostile ones (pointer chains, overlong names, huge
 * counts) are built at run time by the small writer below, because their interest is in their
 * size.
 */
#include "testutil_l4.h"

#include <stdio.h>
#include <time.h>
#include "runner.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* Response for www.example.com: CNAME, A, AAAA, an SOA in authority, EDNS OPT (DO). Every
 * name after the question is compressed. Offsets on the right. */
static const uint8_t dns_resp[] = {
    0xbe, 0xef, 0x81, 0x80,                               /*   0 id, QR RD RA, rcode 0 */
    0x00, 0x01, 0x00, 0x03, 0x00, 0x01, 0x00, 0x01,       /*   4 qd 1, an 3, ns 1, ar 1 */
    0x03, 'w',  'w',  'w',                                /*  12 question: www */
    0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',        /*  16 example */
    0x03, 'c',  'o',  'm',  0x00,                         /*  24 com, root */
    0x00, 0x01, 0x00, 0x01,                               /*  29 A, IN */
    0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01,                   /*  33 www.example.com CNAME IN */
    0x00, 0x00, 0x0e, 0x10, 0x00, 0x06,                   /*  39 ttl 3600, rdlength 6 */
    0x03, 'c',  'd',  'n',  0xc0, 0x10,                   /*  45 cdn + ->16 example.com */
    0xc0, 0x2d, 0x00, 0x01, 0x00, 0x01,                   /*  51 ->45 cdn.example.com A IN */
    0x00, 0x00, 0x00, 0x3c, 0x00, 0x04,                   /*  57 ttl 60, rdlength 4 */
    0x5d, 0xb8, 0xd8, 0x22,                               /*  63 93.184.216.34 */
    0xc0, 0x2d, 0x00, 0x1c, 0x00, 0x01,                   /*  67 cdn.example.com AAAA IN */
    0x00, 0x00, 0x00, 0x3c, 0x00, 0x10,                   /*  73 ttl 60, rdlength 16 */
    0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00,       /*  79 2001:db8::1 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,       /* */
    0xc0, 0x10, 0x00, 0x06, 0x00, 0x01,                   /*  95 example.com SOA IN */
    0x00, 0x00, 0x03, 0x84, 0x00, 0x20,                   /* 101 ttl 900, rdlength 32 */
    0x02, 'n',  's',  0xc0, 0x10,                         /* 107 mname ns.example.com */
    0x04, 'h',  'o',  's',  't',  0xc0, 0x10,             /* 112 rname host.example.com */
    0x78, 0x49, 0x1a, 0x2b, 0x00, 0x00, 0x1c, 0x20,       /* 119 serial, refresh 7200 */
    0x00, 0x00, 0x0e, 0x10, 0x00, 0x12, 0x75, 0x00,       /* 127 retry 3600, expire */
    0x00, 0x00, 0x01, 0x2c,                               /* 135 minimum 300 */
    0x00, 0x00, 0x29, 0x10, 0x00,                         /* 139 OPT: root, type 41, 4096 */
    0x00, 0x00, 0x80, 0x00, 0x00, 0x00,                   /* 144 ext-rcode 0, v0, DO; len 0 */
};

/* Authoritative answer for example.com ANY: MX, SRV, TXT, NS and PTR data. */
static const uint8_t dns_rdata[] = {
    0x00, 0x01, 0x84, 0x00,                               /*   0 id 1, QR AA */
    0x00, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,       /*   4 qd 1, an 5 */
    0x07, 'e',  'x',  'a',  'm',  'p',  'l',  'e',        /*  12 example */
    0x03, 'c',  'o',  'm',  0x00, 0x00, 0xff, 0x00, 0x01, /*  20 com; ANY IN */
    0xc0, 0x0c, 0x00, 0x0f, 0x00, 0x01,                   /*  29 example.com MX IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x09,                   /*  35 ttl 300, rdlength 9 */
    0x00, 0x0a, 0x04, 'm',  'a',  'i',  'l',  0xc0, 0x0c, /*  41 pref 10, mail.example.com */
    0xc0, 0x0c, 0x00, 0x21, 0x00, 0x01,                   /*  50 SRV IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x0c,                   /*  56 ttl 300, rdlength 12 */
    0x00, 0x01, 0x00, 0x02, 0x13, 0xc4,                   /*  62 prio 1, weight 2, port 5060 */
    0x03, 's',  'i',  'p',  0xc0, 0x0c,                   /*  68 sip.example.com */
    0xc0, 0x0c, 0x00, 0x10, 0x00, 0x01,                   /*  74 TXT IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x0a,                   /*  80 ttl 300, rdlength 10 */
    0x05, 'h',  'e',  'l',  'l',  'o',  0x03, 'a',  '=',  'b', /* 86 "hello" "a=b" */
    0xc0, 0x0c, 0x00, 0x02, 0x00, 0x01,                   /*  96 NS IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x02, 0xc0, 0x2b,       /* 102 ttl, len 2, ->43 mail... */
    0xc0, 0x0c, 0x00, 0x0c, 0x00, 0x01,                   /* 110 PTR IN */
    0x00, 0x00, 0x01, 0x2c, 0x00, 0x02, 0xc0, 0x44,       /* 116 ttl, len 2, ->68 sip... */
};

/* The first frame of /work/shared/pcaps/ndpi/dns-invalid-chars.pcap: a query whose name holds
 * the bytes 4, 5, 6 (tshark: www.allyourba\004\005\006arebelongto.cn). */
static const uint8_t frame_invalid_chars[] = {
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* eth */
    0x08, 0x00,                                                             /* IPv4 */
    0x45, 0x00, 0x00, 0x4c, 0xc9, 0x12, 0x40, 0x00, 0x40, 0x11, 0x73, 0x8c, /* IPv4, UDP */
    0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01,                         /* 127.0.0.1 */
    0x8c, 0x8c, 0x00, 0x35, 0x00, 0x38, 0xfe, 0x4b,                         /* UDP -> 53 */
    0x9f, 0x6c, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* DNS query */
    0x03, 'w',  'w',  'w',  0x17, 'a',  'l',  'l',  'y',  'o',  'u',  'r',  /* www, 23: */
    'b',  'a',  0x04, 0x05, 0x06, 'a',  'r',  'e',  'b',  'e',  'l',  'o',  /* */
    'n',  'g',  't',  'o',  0x02, 'c',  'n',  0x00,                         /* cn */
    0x00, 0x01, 0x00, 0x01,                                                 /* A IN */
};

/* ---- a message writer for the hostile cases --------------------------------------------- */

typedef struct {
    uint8_t b[8192];
    size_t n;
} msg_t;

static void
put8(msg_t *m, unsigned v)
{
    ck_assert_uint_lt(m->n, sizeof(m->b));
    m->b[m->n++] = (uint8_t)v;
}

static void
put16(msg_t *m, unsigned v)
{
    put8(m, v >> 8);
    put8(m, v & 0xff);
}

static void
header(msg_t *m, unsigned flags, unsigned qd, unsigned an, unsigned ns, unsigned ar)
{
    m->n = 0;
    put16(m, 0x4242);
    put16(m, flags);
    put16(m, qd);
    put16(m, an);
    put16(m, ns);
    put16(m, ar);
}

static void
ptr(msg_t *m, size_t to)
{
    put16(m, 0xc000u | (unsigned)to);
}

/* An RR of type `type` with an empty name (root) and `rdlen` bytes of RDATA to follow. */
static void
rr_fixed(msg_t *m, unsigned type, unsigned rdlen)
{
    put16(m, type);
    put16(m, 1);
    put16(m, 0);
    put16(m, 0);
    put16(m, rdlen);
}

static tl4_result_t *
run_udp(const uint8_t *b, size_t n, bool fields)
{
    return tl4_run_ex(ns_decode_dns, 4, NS_IPPROTO_UDP, 0, b, n, (uint32_t)n, fields);
}

/* Both paths, same outcome; returns it. */
static ns_parse_rc_t
rc_both(const uint8_t *b, size_t n)
{
    tl4_result_t *a = run_udp(b, n, false);
    tl4_result_t *f = run_udp(b, n, true);
    ck_assert_int_eq(a->rc, f->rc);
    ns_parse_rc_t rc = a->rc;
    tl4_free(a);
    tl4_free(f);
    return rc;
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(response_summary)
{
    tl4_result_t *r = run_udp(dns_resp, sizeof(dns_resp), false);
    const ns_dns_t *d = &r->pkt.dns;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert_uint_eq(d->id, 0xbeef);
    ck_assert_uint_eq(d->flags, 0x8180);
    ck_assert_uint_eq(d->qdcount, 1);
    ck_assert_uint_eq(d->ancount, 3);
    ck_assert_uint_eq(d->nscount, 1);
    ck_assert_uint_eq(d->arcount, 1);
    ck_assert(d->has_question);
    ck_assert_str_eq(d->qname, "www.example.com");
    ck_assert_uint_eq(d->qname_len, 15);
    ck_assert_uint_eq(d->qtype, 1);
    ck_assert_uint_eq(d->qclass, 1);
    ck_assert_uint_eq(d->n_answers, 3);
    ck_assert_uint_eq(d->answers[0].type, 5);
    ck_assert_uint_eq(d->answers[0].ttl, 3600);
    ck_assert_uint_eq(d->answers[0].data_len, 15);
    ck_assert_mem_eq(d->answers[0].data, "cdn.example.com", 15);
    ck_assert_uint_eq(d->answers[1].type, 1);
    ck_assert_uint_eq(d->answers[1].data_len, 4);
    ck_assert_mem_eq(d->answers[1].data, "\x5d\xb8\xd8\x22", 4);
    ck_assert_uint_eq(d->answers[2].type, 28);
    ck_assert_uint_eq(d->answers[2].data_len, 16);
    ck_assert_uint_eq(d->answers[2].data[15], 1);
    ck_assert(d->edns);
    ck_assert_uint_eq(d->edns_udp_size, 4096);
    ck_assert_uint_eq(d->rcode, 0);
    ck_assert(!d->tcp);
    tl4_free(r);
}
END_TEST

START_TEST(response_fields)
{
    tl4_result_t *r = run_udp(dns_resp, sizeof(dns_resp), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tl4_uint(r, "dns.id", 0), 0xbeef);
    ck_assert_uint_eq(tl4_field(r, "dns.id", 0)->type, NS_FT_HEX);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags", 0), 0x8180);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags.response", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags.recavail", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags.rcode", 0), 0);
    ck_assert_uint_eq(tl4_uint(r, "dns.count.answers", 0), 3);
    ck_assert(tl4_str_is(r, "dns.qry.name", 0, "www.example.com"));
    const ns_field_t *q = tl4_field(r, "dns.qry.name", 0);
    ck_assert_uint_eq(q->off, 12);
    ck_assert_uint_eq(q->len, 17);
    ck_assert(tl4_str_is(r, "dns.resp.name", 0, "www.example.com"));
    ck_assert_uint_eq(tl4_field(r, "dns.resp.name", 0)->len, 2); /* the pointer */
    ck_assert(tl4_str_is(r, "dns.cname", 0, "cdn.example.com"));
    ck_assert(tl4_str_is(r, "dns.resp.name", 1, "cdn.example.com"));
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.ttl", 1), 60);
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.len", 1), 4);
    ck_assert_uint_eq(tl4_field(r, "dns.a", 0)->off, 63);
    ck_assert_uint_eq(tl4_field(r, "dns.aaaa", 0)->off, 79);
    ck_assert(tl4_str_is(r, "dns.soa.mname", 0, "ns.example.com"));
    ck_assert(tl4_str_is(r, "dns.soa.rname", 0, "host.example.com"));
    ck_assert_uint_eq(tl4_uint(r, "dns.soa.serial_number", 0), 0x78491a2b);
    ck_assert_uint_eq(tl4_uint(r, "dns.soa.minimum_ttl", 0), 300);
    ck_assert(tl4_str_is(r, "dns.resp.name", 4, "<Root>"));
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.type", 4), 41);
    ck_assert_uint_eq(tl4_uint(r, "dns.rr.udp_payload_size", 0), 4096);
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.ext_rcode", 0), 0);
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.edns0_version", 0), 0);
    ck_assert_ptr_null(tl4_field(r, "dns.resp.class", 4)); /* OPT has no class */
    const ns_field_t *node = tl4_field(r, "dns", 0);
    ck_assert_uint_eq(node->len, sizeof(dns_resp));
    tl4_free(r);
}
END_TEST

START_TEST(query_flags_as_tshark)
{
    /* A query shows no AA, RA or rcode (tshark does the same). */
    tu_result_t *r =
        tu_decode(NS_LINKTYPE_ETHERNET, frame_invalid_chars, sizeof(frame_invalid_chars));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_ptr_null(tu_field(r, "dns.flags.rcode", 0));
    ck_assert_ptr_null(tu_field(r, "dns.flags.authoritative", 0));
    ck_assert_uint_eq(tu_uint(r, "dns.flags.recdesired"), 1);
    ck_assert_uint_eq(tu_uint(r, "dns.qry.type"), 1);
    tu_free(r);
}
END_TEST

START_TEST(rdata_types)
{
    tl4_result_t *r = run_udp(dns_rdata, sizeof(dns_rdata), true);
    const ns_dns_t *d = &r->pkt.dns;
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags.authoritative", 0), 1);
    ck_assert_uint_eq(d->qtype, 255);
    ck_assert_uint_eq(tl4_uint(r, "dns.mx.preference", 0), 10);
    ck_assert(tl4_str_is(r, "dns.mx.mail_exchange", 0, "mail.example.com"));
    ck_assert_uint_eq(tl4_uint(r, "dns.srv.priority", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "dns.srv.weight", 0), 2);
    ck_assert_uint_eq(tl4_uint(r, "dns.srv.port", 0), 5060);
    ck_assert(tl4_str_is(r, "dns.srv.target", 0, "sip.example.com"));
    ck_assert(tl4_str_is(r, "dns.txt", 0, "hello"));
    ck_assert(tl4_str_is(r, "dns.txt", 1, "a=b"));
    ck_assert(tl4_str_is(r, "dns.ns", 0, "mail.example.com"));
    ck_assert(tl4_str_is(r, "dns.ptr.domain_name", 0, "sip.example.com"));
    /* The summary keeps the data of each answer. */
    ck_assert_uint_eq(d->n_answers, 5);
    ck_assert_mem_eq(d->answers[0].data, "mail.example.com", 16);
    ck_assert_mem_eq(d->answers[1].data, "sip.example.com", 15);
    ck_assert_uint_eq(d->answers[2].data_len, 5);
    ck_assert_mem_eq(d->answers[2].data, "hello", 5);
    ck_assert_uint_eq(d->answers[3].data_len, 16);
    ck_assert_uint_eq(d->answers[4].data_len, 15);
    tl4_free(r);
}
END_TEST

START_TEST(edns_extended_rcode)
{
    uint8_t b[sizeof(dns_resp)];
    memcpy(b, dns_resp, sizeof(b));
    b[3] = 0x83;   /* header rcode 3 */
    b[144] = 0x01; /* extended bits 1 */
    tl4_result_t *r = run_udp(b, sizeof(b), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.dns.rcode, 3 | 1 << 4);
    ck_assert_uint_eq(tl4_uint(r, "dns.resp.ext_rcode", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "dns.flags.rcode", 0), 3);
    tl4_free(r);
}
END_TEST

START_TEST(root_question)
{
    static const uint8_t q[] = {
        0x00, 0x07, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* header */
        0x00, 0x00, 0x02, 0x00, 0x01,                                           /* . NS IN */
    };
    tl4_result_t *r = run_udp(q, sizeof(q), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_str_eq(r->pkt.dns.qname, "<Root>");
    ck_assert(tl4_str_is(r, "dns.qry.name", 0, "<Root>"));
    ck_assert_uint_eq(tl4_field(r, "dns.qry.name", 0)->len, 1);
    tl4_free(r);
}
END_TEST

/* Names are shown as tshark 4.0 shows them. */
static void
check_label(const char *label, size_t n, const char *want)
{
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    put8(&m, (unsigned)n);
    for (size_t i = 0; i < n; i++)
        put8(&m, (uint8_t)label[i]);
    put8(&m, 3), put8(&m, 'c'), put8(&m, 'o'), put8(&m, 'm'), put8(&m, 0);
    put16(&m, 1), put16(&m, 1);
    tl4_result_t *r = run_udp(m.b, m.n, true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_msg(tl4_str_is(r, "dns.qry.name", 0, want), "label %s", want);
    ck_assert_str_eq(r->pkt.dns.qname, want);
    tl4_free(r);
}

START_TEST(escaping_as_tshark)
{
    check_label("a\ab\nc\\d", 7, "a\\ab\\nc\\d.com");
    check_label("x.y\x80\xff ", 6, "x.y\xef\xbf\xbd\xef\xbf\xbd .com");
    check_label("q\"'\t\x7f", 5, "q\"'\\t\\177.com");
    check_label("\xc3\xa9ok", 4, "\xc3\xa9ok.com");
    check_label("a\0b", 3, "a\\000b.com");
    check_label("\xe2\x82\xac" "AB", 5, "\xe2\x82\xac" "AB.com");
    check_label("\xe2\x82" "A", 3, "\xef\xbf\xbd" "A.com");
    check_label("\xc0\x80", 2, "\\u0000.com");
    check_label("\xed\xa0\x80", 3, "\xef\xbf\xbd.com");
    check_label("\xf4\x90\x80\x80", 4, "\xef\xbf\xbd.com");
    check_label("\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80.com");
    check_label("\xc3", 1, "\xef\xbf\xbd.com");
    check_label("\b\v\f\r\x1b", 5, "\\b\\v\\f\\r\\033.com");
    check_label("\xe2\x80\x8b", 3, "\\u200b.com"); /* zero width space: a format character */
}
END_TEST

/* Presentation form of ASCII label bytes, written independently of dns.c: printable as is,
 * \a..\r by letter, other controls and DEL in octal. */
static size_t
ascii_escaped(const uint8_t *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = s[i];
        if (b >= 0x20 && b <= 0x7e)
            out[o++] = (char)b;
        else if (b >= 7 && b <= 13)
            out[o++] = '\\', out[o++] = "abtnvfr"[b - 7];
        else
            o += (size_t)sprintf(out + o, "\\%03o", b);
    }
    out[o] = '\0';
    return o;
}

/* Labels of every length, clean or with one byte to escape at the start, the middle or the
 * end, after a first label of 0..8 bytes (so each lands at many offsets and alignments): the
 * word-at-a-time copy of printable labels and the byte walk must agree with the reference,
 * on the fast path and in the tree. */
START_TEST(label_lengths_and_offsets)
{
    static const uint8_t odd[] = {0x00, 0x07, 0x1f, 0x7f, 0x20, 0x5c, 0x7e};
    for (unsigned pre = 0; pre <= 8; pre++) {
        for (unsigned len = 1; len <= 63; len++) {
            unsigned where[] = {0, len / 2, len - 1, 99};
            for (unsigned w = 0; w < 4; w++) {
                for (unsigned k = 0; k < sizeof(odd); k++) {
                    if (where[w] == 99 && k > 0)
                        break; /* the clean label once */
                    uint8_t label[63];
                    for (unsigned i = 0; i < len; i++)
                        label[i] = (uint8_t)('a' + (i + pre) % 26);
                    if (where[w] != 99)
                        label[where[w]] = odd[k];
                    msg_t m;
                    header(&m, 0x0100, 1, 0, 0, 0);
                    char want[400];
                    size_t o = 0;
                    if (pre > 0) {
                        put8(&m, pre);
                        for (unsigned i = 0; i < pre; i++)
                            put8(&m, 'Z');
                        memset(want, 'Z', pre);
                        o = pre;
                        want[o++] = '.';
                    }
                    put8(&m, len);
                    for (unsigned i = 0; i < len; i++)
                        put8(&m, label[i]);
                    o += ascii_escaped(label, len, want + o);
                    strcpy(want + o, ".com");
                    put8(&m, 3), put8(&m, 'c'), put8(&m, 'o'), put8(&m, 'm'), put8(&m, 0);
                    put16(&m, 1), put16(&m, 1);
                    tl4_result_t *t = run_udp(m.b, m.n, true);
                    tl4_result_t *fast = run_udp(m.b, m.n, false);
                    ck_assert_int_eq(t->rc, NS_PARSE_OK);
                    ck_assert_int_eq(fast->rc, NS_PARSE_OK);
                    ck_assert_msg(tl4_str_is(t, "dns.qry.name", 0, want), "pre %u len %u: %s", pre,
                                  len, want);
                    ck_assert_str_eq(t->pkt.dns.qname, want);
                    ck_assert_str_eq(fast->pkt.dns.qname, want);
                    ck_assert_uint_eq(fast->pkt.dns.qname_len, strlen(want));
                    tl4_free(t);
                    tl4_free(fast);
                }
            }
        }
    }
}
END_TEST

/* A name in the first bytes of the message (a pointer into the header, whose ID spells the
 * label "A"): too close to the start for the word copy to reach back, so read byte by byte. */
START_TEST(name_in_header_bytes)
{
    msg_t m;
    header(&m, 0x0000, 1, 0, 0, 0);
    m.b[0] = 1, m.b[1] = 'A'; /* ID 0x0141: label "A", then the flags' 0x00 ends the name */
    ptr(&m, 0);
    put16(&m, 1), put16(&m, 1);
    tl4_result_t *t = run_udp(m.b, m.n, true);
    tl4_result_t *fast = run_udp(m.b, m.n, false);
    ck_assert_int_eq(t->rc, NS_PARSE_OK);
    ck_assert_str_eq(t->pkt.dns.qname, "A");
    ck_assert_str_eq(fast->pkt.dns.qname, "A");
    ck_assert(tl4_str_is(t, "dns.qry.name", 0, "A"));
    tl4_free(t);
    tl4_free(fast);
}
END_TEST

START_TEST(frame_with_invalid_chars)
{
    tu_result_t *r =
        tu_decode(NS_LINKTYPE_ETHERNET, frame_invalid_chars, sizeof(frame_invalid_chars));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert_str_eq(r->pkt.dns.qname, "www.allyourba\\004\\005\\006arebelongto.cn");
    ck_assert(tu_str_is(r, "dns.qry.name", 0, "www.allyourba\\004\\005\\006arebelongto.cn"));
    tu_free(r);
}
END_TEST

START_TEST(long_name_clipped_in_summary)
{
    /* 63 labels of 3 \001 bytes: 252 wire octets, shown as 63 x 12 characters + dots. The
     * summary keeps a clean prefix; the tree keeps it all. */
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    for (int l = 0; l < 63; l++) {
        put8(&m, 3);
        put8(&m, 1), put8(&m, 1), put8(&m, 1);
    }
    put8(&m, 0), put16(&m, 1), put16(&m, 1);
    tl4_result_t *r = run_udp(m.b, m.n, true);
    tl4_result_t *fast = run_udp(m.b, m.n, false);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(tl4_field(r, "dns.qry.name", 0)->str_len, 63 * 12 + 62);
    /* 19 labels and their dots (247 bytes), then two whole escapes of the 20th. */
    ck_assert_uint_eq(r->pkt.dns.qname_len, 255);
    ck_assert_mem_eq(r->pkt.dns.qname + 247, "\\001\\001", 8);
    ck_assert_str_eq(r->pkt.dns.qname, fast->pkt.dns.qname);
    tl4_free(r);
    tl4_free(fast);
}
END_TEST

START_TEST(fast_path_same_summary)
{
    const uint8_t *msgs[] = {dns_resp, dns_rdata};
    size_t lens[] = {sizeof(dns_resp), sizeof(dns_rdata)};
    for (int i = 0; i < 2; i++) {
        tl4_result_t *a = run_udp(msgs[i], lens[i], false);
        tl4_result_t *b = run_udp(msgs[i], lens[i], true);
        ck_assert_int_eq(a->rc, b->rc);
        ck_assert_int_eq(memcmp(&a->pkt.dns, &b->pkt.dns, sizeof(ns_dns_t)), 0);
        tl4_free(a);
        tl4_free(b);
    }
}
END_TEST

START_TEST(over_tcp)
{
    uint8_t b[2 + sizeof(dns_resp)];
    b[0] = 0, b[1] = sizeof(dns_resp);
    memcpy(b + 2, dns_resp, sizeof(dns_resp));
    tl4_result_t *r = tl4_run_ex(ns_decode_dns_tcp, 4, NS_IPPROTO_TCP, 0, b, sizeof(b),
                                 sizeof(b), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert(r->pkt.dns.tcp);
    ck_assert_str_eq(r->pkt.dns.qname, "www.example.com");
    ck_assert_uint_eq(r->pkt.dns.n_answers, 3);
    ck_assert_uint_eq(tl4_uint(r, "dns.length", 0), sizeof(dns_resp));
    /* Compression pointers count from the message, not from the length prefix. */
    ck_assert(tl4_str_is(r, "dns.cname", 0, "cdn.example.com"));
    ck_assert_uint_eq(tl4_field(r, "dns.a", 0)->off, 2 + 63);
    tl4_free(r);
}
END_TEST

START_TEST(over_tcp_split_across_segments)
{
    /* The first 60 bytes of the message in this segment, all of the segment captured: the
     * rest comes in the next segment, which is not an error. */
    uint8_t b[2 + 60];
    b[0] = 0, b[1] = sizeof(dns_resp);
    memcpy(b + 2, dns_resp, 60);
    tl4_result_t *r = tl4_run_ex(ns_decode_dns_tcp, 4, NS_IPPROTO_TCP, 0, b, sizeof(b),
                                 sizeof(b), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert_str_eq(r->pkt.dns.qname, "www.example.com");
    ck_assert_uint_eq(r->pkt.dns.n_answers, 1);
    tl4_free(r);
    /* The same bytes cut by the snaplen (the segment was longer): TRUNCATED. */
    r = tl4_run_ex(ns_decode_dns_tcp, 4, NS_IPPROTO_TCP, 0, b, sizeof(b), 2 + sizeof(dns_resp),
                   true);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    tl4_free(r);
}
END_TEST

START_TEST(over_tcp_prefix_only)
{
    static const uint8_t b[] = {0x00, 0x30}; /* some clients send the length on its own */
    tl4_result_t *r =
        tl4_run_ex(ns_decode_dns_tcp, 4, NS_IPPROTO_TCP, 0, b, sizeof(b), sizeof(b), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_ne(r->pkt.app, NS_APP_DNS);
    tl4_free(r);
}
END_TEST

START_TEST(many_records_bounded)
{
    /* 600 minimal RRs present, 65535 announced: the walk stops at its cap and is OK. */
    msg_t m;
    header(&m, 0x8180, 0, 0xffff, 0, 0);
    for (int i = 0; i < 600; i++) {
        put8(&m, 0);
        rr_fixed(&m, 99, 0);
    }
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_OK);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncation_sweep)
{
    tl4_truncation_sweep(ns_decode_dns, 4, NS_IPPROTO_UDP, dns_resp, sizeof(dns_resp),
                         sizeof(dns_resp));
    tl4_truncation_sweep(ns_decode_dns, 4, NS_IPPROTO_UDP, dns_rdata, sizeof(dns_rdata),
                         sizeof(dns_rdata));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_invalid_chars, sizeof(frame_invalid_chars),
                        42);
    for (size_t n = 0; n < sizeof(dns_resp); n++) {
        tl4_result_t *r = tl4_run_ex(ns_decode_dns, 4, NS_IPPROTO_UDP, 0, dns_resp, n,
                                     sizeof(dns_resp), false);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        ck_assert_uint_eq(r->pkt.app, n >= 12 ? NS_APP_DNS : NS_APP_NONE);
        tl4_free(r);
    }
}
END_TEST

/* DNS in the first fragment of a fragmented datagram (IPv4, MF set, offset 0): the header and
 * the records that fit are decoded, the rest is marked truncated, as tshark shows it. */
START_TEST(first_fragment)
{
    enum { CUT = 67 }; /* the fragment ends after the A answer, before the AAAA */
    uint16_t ulen = (uint16_t)(8 + sizeof(dns_resp));
    uint8_t f[14 + 20 + 8 + CUT] = {
        0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, /* Ethernet, IPv4 */
        0x45, 0, 0, 20 + 8 + CUT, 0x12, 0x34, 0x20, 0x00,    /* IPv4: MF, offset 0 */
        64,   17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,            /* UDP, 10.0.0.2 -> 10.0.0.1 */
        0, 53, 0x9c, 0x40, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, /* 53 -> 40000 */
    };
    memcpy(f + 42, dns_resp, CUT);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f, sizeof(f));
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_DNS);
    ck_assert_uint_eq(r->pkt.app, NS_APP_DNS);
    ck_assert_uint_eq(r->pkt.dns.id, 0xbeef);
    ck_assert_uint_eq(r->pkt.dns.ancount, 3);
    ck_assert_str_eq(r->pkt.dns.qname, "www.example.com");
    ck_assert_uint_eq(r->pkt.dns.n_answers, 2); /* CNAME and A; the AAAA is in the next */
    ck_assert_uint_eq(r->pkt.payload_len, sizeof(dns_resp));
    ck_assert_ptr_nonnull(tu_field(r, "dns.qry.name", 0));
    ck_assert_ptr_nonnull(tu_field(r, "dns.flags.rcode", 0));
    tu_free(r);
}
END_TEST

/* The shortest first fragment (8 bytes of data past the UDP header, IPv4 fragments being cut
 * at multiples of 8): the DNS header is cut after its fourth word. The words that are there
 * are shown (id, flags, queries, answers), the others are not, and the layer is TRUNCATED. */
START_TEST(first_fragment_header_cut)
{
    uint16_t ulen = (uint16_t)(8 + sizeof(dns_resp));
    uint8_t f[14 + 20 + 8 + 8] = {
        0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00, /* Ethernet, IPv4 */
        0x45, 0, 0, 20 + 8 + 8, 0x12, 0x34, 0x20, 0x00,      /* IPv4: MF, offset 0 */
        64,   17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,            /* UDP, 10.0.0.2 -> 10.0.0.1 */
        0, 53, 0x9c, 0x40, (uint8_t)(ulen >> 8), (uint8_t)ulen, 0, 0, /* 53 -> 40000 */
    };
    memcpy(f + 42, dns_resp, 8);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f, sizeof(f));
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_DNS);
    ck_assert_uint_eq(tu_uint(r, "dns.id"), 0xbeef);
    ck_assert_uint_eq(tu_uint(r, "dns.flags"), (uint32_t)(dns_resp[2] << 8 | dns_resp[3]));
    ck_assert_ptr_nonnull(tu_field(r, "dns.flags.rcode", 0));
    ck_assert_uint_eq(tu_uint(r, "dns.count.queries"), 1);
    ck_assert_uint_eq(tu_uint(r, "dns.count.answers"), 3);
    ck_assert_ptr_null(tu_field(r, "dns.count.auth_rr", 0));
    ck_assert_ptr_null(tu_field(r, "dns.count.add_rr", 0));
    ck_assert_ptr_null(tu_field(r, "dns.qry.name", 0));
    ck_assert_uint_eq(r->pkt.app, NS_APP_NONE); /* no whole header: no DNS summary */
    tu_free(r);
    /* every cut inside the header: only whole words become fields */
    for (size_t n = 0; n < 12; n++) {
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, dns_resp, n);
        ns_cur_t c;
        ns_cur_init(&c, b, (uint32_t)n);
        tu_result_t *t = calloc(1, sizeof(*t));
        ns_fields_init(&t->f, t->v, TU_MAX_FIELDS, t->arena, sizeof(t->arena));
        t->f.buf = b;
        ns_dns_t *d = calloc(1, sizeof(*d));
        ck_assert_int_eq(ns_dns_parse(&c, d, &t->f), NS_PARSE_TRUNCATED);
        ck_assert(!(n >= 2) == (tu_field(t, "dns.id", 0) == NULL));
        ck_assert(!(n >= 4) == (tu_field(t, "dns.flags", 0) == NULL));
        ck_assert(!(n >= 6) == (tu_field(t, "dns.count.queries", 0) == NULL));
        ck_assert(!(n >= 10) == (tu_field(t, "dns.count.auth_rr", 0) == NULL));
        ck_assert_ptr_null(tu_field(t, "dns.count.add_rr", 0));
        for (uint32_t i = 0; i < t->f.n; i++)
            ck_assert_uint_le(t->f.v[i].off + t->f.v[i].len, n);
        free(d);
        tu_free(t);
    }
}
END_TEST

START_TEST(parse_reports_truncated)
{
    /* ns_dns_parse itself cannot tell a short capture from a lying count: TRUNCATED. */
    uint8_t *b = malloc(40);
    memcpy(b, dns_resp, 40);
    ns_cur_t c;
    ns_cur_init(&c, b, 40);
    ns_dns_t *d = calloc(1, sizeof(*d));
    ck_assert_int_eq(ns_dns_parse(&c, d, NULL), NS_PARSE_TRUNCATED);
    ck_assert_str_eq(d->qname, "www.example.com");
    free(d);
    free(b);
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(pointer_to_self)
{
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    ptr(&m, 12);
    put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

START_TEST(pointer_loop)
{
    /* 12: "a" then a pointer back to 12: a loop through a label. */
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    put8(&m, 1), put8(&m, 'a');
    ptr(&m, 12);
    put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
    /* 12 -> 14 -> 12: two pointers chasing each other (the first points forward). */
    header(&m, 0x0100, 1, 0, 0, 0);
    ptr(&m, 14);
    ptr(&m, 12);
    put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

START_TEST(forward_pointer)
{
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    ptr(&m, 18); /* to the root byte below, after this name */
    put16(&m, 1), put16(&m, 1);
    put8(&m, 0);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

START_TEST(pointer_outside_message)
{
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    ptr(&m, 0x3fff);
    put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

/* An RR (root name) with opaque RDATA holding a root byte and `n` pointers, each to the one
 * before it; returns the offset of the last (a name of n jumps). */
static size_t
chain_rr(msg_t *m, int n)
{
    put8(m, 0);
    rr_fixed(m, 99, (unsigned)(1 + 2 * n));
    size_t prev = m->n;
    put8(m, 0);
    for (int i = 0; i < n; i++) {
        size_t here = m->n;
        ptr(m, prev);
        prev = here;
    }
    return prev;
}

/* chain_rr(), then an RR whose name is a pointer to the chain's last pointer: n + 1 jumps. */
static void
pointer_chain(msg_t *m, int n)
{
    header(m, 0x8180, 0, 2, 0, 0);
    ptr(m, chain_rr(m, n));
    rr_fixed(m, 99, 0);
}

START_TEST(pointer_chain_bounded)
{
    msg_t m;
    pointer_chain(&m, 62); /* 63 jumps: allowed */
    tl4_result_t *r = run_udp(m.b, m.n, true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(tl4_str_is(r, "dns.resp.name", 1, "<Root>"));
    tl4_free(r);
    pointer_chain(&m, 64); /* 65 jumps: one too many */
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

/* An answer whose owner name points to a CNAME's target that is itself `n` + 1 jumps long
 * (chain_rr(), then a CNAME to its last pointer): n + 2 jumps. The fast path
 * takes such an owner name from what it remembers of the CNAME's target; the limit must fall
 * in the same place as for a name read whole. */
static void
owner_through_cname(msg_t *m, int n)
{
    header(m, 0x8180, 0, 3, 0, 0);
    size_t last = chain_rr(m, n);
    put8(m, 0);
    rr_fixed(m, 5, 2); /* CNAME */
    size_t target = m->n;
    ptr(m, last);
    ptr(m, target); /* the owner name */
    rr_fixed(m, 1, 4);
    put16(m, 0x0a00), put16(m, 0x0001);
}

START_TEST(owner_name_through_cname_bounded)
{
    msg_t m;
    owner_through_cname(&m, 62); /* CNAME target 63 jumps, owner name 64: allowed */
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_OK);
    tl4_result_t *r = run_udp(m.b, m.n, false);
    ck_assert_uint_eq(r->pkt.dns.n_answers, 3);
    ck_assert_uint_eq(r->pkt.dns.answers[2].type, 1);
    ck_assert_uint_eq(r->pkt.dns.answers[2].data_len, 4);
    tl4_free(r);
    owner_through_cname(&m, 63); /* 64 and 65: one too many */
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

START_TEST(name_too_long)
{
    msg_t m;
    header(&m, 0x0100, 1, 0, 0, 0);
    for (int l = 0; l < 64; l++) { /* 64 x 4 = 256 octets before the root */
        put8(&m, 3);
        put8(&m, 'a'), put8(&m, 'b'), put8(&m, 'c');
    }
    put8(&m, 0), put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
    /* 254 octets + root = 255: the longest legal name. */
    header(&m, 0x0100, 1, 0, 0, 0);
    for (int l = 0; l < 63; l++) {
        put8(&m, 3);
        put8(&m, 'a'), put8(&m, 'b'), put8(&m, 'c');
    }
    put8(&m, 1), put8(&m, 'z');
    put8(&m, 0), put16(&m, 1), put16(&m, 1);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_OK);
}
END_TEST

START_TEST(name_too_long_through_pointers)
{
    /* Two 128-octet halves joined by a pointer: each part is fine, the whole is not. */
    msg_t m;
    header(&m, 0x8180, 1, 1, 0, 0);
    for (int l = 0; l < 32; l++) {
        put8(&m, 3);
        put8(&m, 'a'), put8(&m, 'b'), put8(&m, 'c');
    }
    put8(&m, 0), put16(&m, 1), put16(&m, 1);
    for (int l = 0; l < 32; l++) {
        put8(&m, 3);
        put8(&m, 'd'), put8(&m, 'e'), put8(&m, 'f');
    }
    ptr(&m, 12);
    rr_fixed(&m, 99, 0);
    ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
}
END_TEST

START_TEST(reserved_label_types)
{
    msg_t m;
    for (unsigned t = 0x40; t <= 0x80; t += 0x40) {
        header(&m, 0x0100, 1, 0, 0, 0);
        put8(&m, t | 1), put8(&m, 'a'), put8(&m, 0);
        put16(&m, 1), put16(&m, 1);
        ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID);
    }
}
END_TEST

START_TEST(huge_counts_fail_fast)
{
    msg_t m;
    header(&m, 0x8180, 0xffff, 0xffff, 0xffff, 0xffff);
    put8(&m, 0), put16(&m, 1), put16(&m, 1);
    clock_t t0 = clock();
    for (int i = 0; i < 1000; i++)
        ck_assert_int_eq(rc_both(m.b, m.n), NS_PARSE_INVALID); /* the datagram is complete */
    ck_assert_msg((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0, "too slow");
}
END_TEST

START_TEST(bad_rdata)
{
    uint8_t b[sizeof(dns_resp)];
    memcpy(b, dns_resp, sizeof(b));
    b[62] = 5; /* A with 5 bytes of RDATA (and the rest of the message shifted by one) */
    ck_assert_int_eq(rc_both(b, sizeof(b)), NS_PARSE_INVALID);
    memcpy(b, dns_resp, sizeof(b));
    b[44] = 5; /* CNAME RDATA ends inside its name */
    ck_assert_int_eq(rc_both(b, sizeof(b)), NS_PARSE_INVALID);
    memcpy(b, dns_resp, sizeof(b));
    b[106] = 0x1f; /* SOA one byte short of its five numbers */
    ck_assert_int_eq(rc_both(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

START_TEST(rdlength_past_end)
{
    uint8_t b[sizeof(dns_resp)];
    memcpy(b, dns_resp, sizeof(b));
    b[150 - 1] = 0x01; /* OPT claims one byte of options the datagram does not have */
    ck_assert_int_eq(rc_both(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

static Suite *
dns_suite(void)
{
    Suite *s = suite_create("dns");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, response_summary);
    tcase_add_test(tc, response_fields);
    tcase_add_test(tc, query_flags_as_tshark);
    tcase_add_test(tc, rdata_types);
    tcase_add_test(tc, edns_extended_rcode);
    tcase_add_test(tc, root_question);
    tcase_add_test(tc, escaping_as_tshark);
    tcase_add_test(tc, label_lengths_and_offsets);
    tcase_add_test(tc, name_in_header_bytes);
    tcase_add_test(tc, frame_with_invalid_chars);
    tcase_add_test(tc, long_name_clipped_in_summary);
    tcase_add_test(tc, fast_path_same_summary);
    tcase_add_test(tc, over_tcp);
    tcase_add_test(tc, over_tcp_split_across_segments);
    tcase_add_test(tc, over_tcp_prefix_only);
    tcase_add_test(tc, many_records_bounded);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep);
    tcase_add_test(tc, parse_reports_truncated);
    tcase_add_test(tc, first_fragment);
    tcase_add_test(tc, first_fragment_header_cut);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, pointer_to_self);
    tcase_add_test(tc, pointer_loop);
    tcase_add_test(tc, owner_name_through_cname_bounded);
    tcase_add_test(tc, forward_pointer);
    tcase_add_test(tc, pointer_outside_message);
    tcase_add_test(tc, pointer_chain_bounded);
    tcase_add_test(tc, name_too_long);
    tcase_add_test(tc, name_too_long_through_pointers);
    tcase_add_test(tc, reserved_label_types);
    tcase_add_test(tc, huge_counts_fail_fast);
    tcase_add_test(tc, bad_rdata);
    tcase_add_test(tc, rdlength_past_end);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(dns_suite)
