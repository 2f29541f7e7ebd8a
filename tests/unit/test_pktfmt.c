/* test_pktfmt.c - unit tests for the packet formatters (cli/pktfmt.c): the tcpdump-style text
 * line and the JSON object of `netscope print`.
 *
 * Most cases fill an ns_pkt_t by hand, so a line is checked against exactly the summary it was
 * given, independent of the decoders; a few decode a real frame end to end. Expected lines are
 * written out whole: a formatting change must show up here as a diff.
 */
#include "testutil.h"

#include <jansson.h>

#include "pktfmt.h"
#include "runner.h"

/* 2023-11-14 22:13:20.123456789 UTC */
#define TS_NS (1700000000ull * 1000000000ull + 123456789ull)
#define TIME "22:13:20.123456"

/* ---- helpers ----------------------------------------------------------------------------- */

static void
set_addr4(ns_addr_t *a, uint8_t b0, uint8_t b1, uint8_t b2, uint8_t b3)
{
    memset(a, 0, sizeof(*a));
    a->b[0] = b0;
    a->b[1] = b1;
    a->b[2] = b2;
    a->b[3] = b3;
}

/* An Ethernet/IPv4 summary 192.0.2.1 -> 198.51.100.2 carrying `proto`. */
static void
pkt_ip4(ns_pkt_t *p, uint8_t proto)
{
    memset(p, 0, sizeof(*p));
    p->ts_ns = TS_NS;
    p->linktype = NS_LINKTYPE_ETHERNET;
    p->layers = NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV4);
    p->ethertype = 0x0800;
    p->ip_ver = 4;
    p->ip_proto = proto;
    p->ttl = 64;
    set_addr4(&p->src, 192, 0, 2, 1);
    set_addr4(&p->dst, 198, 51, 100, 2);
    p->wire_len = p->cap_len = 60;
    p->dns.rcode = 0;
    p->http.content_length = -1;
}

/* Format `p` and compare with `want`; the buffer has NS_PKTFMT_LINE_MAX bytes, as documented,
 * plus a guard that must stay untouched. */
static void
assert_line(const ns_pkt_t *p, const uint8_t *frame, const char *want)
{
    char buf[NS_PKTFMT_LINE_MAX + 16];
    memset(buf, 0x5a, sizeof(buf));
    size_t n = ns_pktfmt_text(p, frame, buf);
    ck_assert_uint_le(n, NS_PKTFMT_LINE_MAX);
    for (size_t i = NS_PKTFMT_LINE_MAX; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 0x5a);
    buf[n] = '\0';
    ck_assert_str_eq(buf, want);
}

/* ---- text: transport --------------------------------------------------------------------- */

START_TEST(test_tcp_syn_options)
{
    ns_pkt_t p;
    pkt_ip4(&p, 6);
    p.layers |= NS_HAS(NS_LAYER_TCP);
    p.sport = 40000;
    p.dport = 80;
    p.tcp_flags = NS_TCP_SYN;
    p.seq = 1000;
    p.ack = 77; /* not shown: no ACK flag */
    p.win = 64240;
    p.tcp_opts = NS_TCPOPT_MSS | NS_TCPOPT_SACK_PERM | NS_TCPOPT_TS | NS_TCPOPT_WSCALE;
    p.mss = 1460;
    p.tsval = 3000000000u;
    p.tsecr = 0;
    p.wscale = 7;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [S], seq 1000, win 64240, "
                     "options [mss 1460,sackOK,TS val 3000000000 ecr 0,wscale 7], length 0");

    /* SYN-ACK with SACK blocks, and a data segment with every other flag */
    p.tcp_flags = NS_TCP_SYN | NS_TCP_ACK;
    p.ack = 1001;
    p.tcp_opts = NS_TCPOPT_SACK;
    p.sack_n = 2;
    p.sack[0][0] = 10;
    p.sack[0][1] = 20;
    p.sack[1][0] = 30;
    p.sack[1][1] = 40;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [S.], seq 1000, ack 1001, "
                     "win 64240, options [sack 2 {10:20} {30:40}], length 0");
    p.tcp_flags = NS_TCP_FIN | NS_TCP_PSH | NS_TCP_RST | NS_TCP_URG | NS_TCP_ECE | NS_TCP_CWR |
                  NS_TCP_ACK;
    p.tcp_opts = 0;
    p.payload_len = 100;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [FPRUEW.], seq 1000, "
                     "ack 1001, win 64240, length 100");
    p.tcp_flags = 0;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [none], seq 1000, "
                     "win 64240, length 100");
}
END_TEST

START_TEST(test_tcp_syn_decoded)
{
    static const uint8_t syn[] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x40, 0x00, /* IPv4, total 60, DF */
        0x40, 0x06, 0xd4, 0xc9, 0xc0, 0x00, 0x02, 0x01, /* ttl 64, TCP, 192.0.2.1 */
        0xc6, 0x33, 0x64, 0x02,                         /* 198.51.100.2 */
        0x9c, 0x40, 0x00, 0x50,                         /* 40000 -> 80 */
        0x00, 0x00, 0x03, 0xe8, 0x00, 0x00, 0x00, 0x00, /* seq 1000, ack 0 */
        0xa0, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00, /* hlen 40, SYN, win 64240 */
        0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
        0x04, 0x02,                                     /* SACK permitted */
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, /* TS 1, 0 */
        0x01, 0x03, 0x03, 0x07,                         /* NOP, window scale 7 */
    };
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, syn, sizeof(syn));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    r->pkt.ts_ns = TS_NS;
    assert_line(&r->pkt, r->f.buf,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [S], seq 1000, win 64240, "
                     "options [mss 1460,sackOK,TS val 1 ecr 0,wscale 7], length 0");
    tu_free(r);
}
END_TEST

START_TEST(test_udp_ipv6)
{
    ns_pkt_t p;
    pkt_ip4(&p, 17);
    p.ip_ver = 6;
    p.layers = NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV6) | NS_HAS(NS_LAYER_UDP);
    static const uint8_t s6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t d6[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 0, 0, 0x0a};
    memcpy(p.src.b, s6, 16);
    memcpy(p.dst.b, d6, 16);
    p.sport = 1234;
    p.dport = 5678;
    p.payload_len = 4;
    assert_line(&p, NULL, TIME " IP6 2001:db8::1.1234 > fe80::200:0:0:a.5678: UDP, length 4");
}
END_TEST

START_TEST(test_fragments)
{
    ns_pkt_t p;
    pkt_ip4(&p, 17);
    p.ip_flags = NS_IP_FRAG | NS_IP_MF;
    p.frag_off = 1480;
    p.frag_id = 0x1c46;
    p.payload_len = 1480;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1 > 198.51.100.2: fragment id 7238, offset 1480, more, "
                     "proto 17, length 1480");
    p.ip_flags = NS_IP_FRAG;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1 > 198.51.100.2: fragment id 7238, offset 1480, last, "
                     "proto 17, length 1480");

    /* the first fragment carries the transport header */
    p.ip_flags = NS_IP_FRAG | NS_IP_MF;
    p.frag_off = 0;
    p.layers |= NS_HAS(NS_LAYER_UDP);
    p.sport = 5000;
    p.dport = 6000;
    p.payload_len = 3000;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.5000 > 198.51.100.2.6000: UDP, length 3000 "
                     "(first fragment)");
}
END_TEST

START_TEST(test_icmp)
{
    ns_pkt_t p;
    pkt_ip4(&p, 1);
    p.layers |= NS_HAS(NS_LAYER_ICMP);
    p.icmp_type = 8;
    p.icmp_id = 0x1234;
    p.icmp_seq = 7;
    p.l4_off = 34;
    p.payload_off = 42;
    p.payload_len = 56; /* after the 8-byte header: tcpdump's length is the whole message */
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1 > 198.51.100.2: ICMP echo request, code 0, id 4660, seq 7, "
                     "length 64");

    /* port unreachable quoting the UDP datagram that caused it */
    p.icmp_type = 3;
    p.icmp_code = 3;
    p.icmp_quote = true;
    p.inner_proto = 17;
    set_addr4(&p.inner_src, 198, 51, 100, 2);
    set_addr4(&p.inner_dst, 192, 0, 2, 1);
    p.inner_sport = 53000;
    p.inner_dport = 53;
    p.payload_len = 28;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1 > 198.51.100.2: ICMP unreachable, code 3, for proto 17 "
                     "198.51.100.2.53000 > 192.0.2.1.53, length 36");

    /* ICMPv6 echo reply and an unknown type */
    p.ip_ver = 6;
    p.ip_proto = 58;
    p.layers = NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV6) | NS_HAS(NS_LAYER_ICMPV6);
    memset(&p.src, 0, sizeof(p.src));
    memset(&p.dst, 0, sizeof(p.dst));
    p.src.b[15] = 1;
    p.dst.b[15] = 2;
    p.icmp_quote = false;
    p.icmp_type = 129;
    p.icmp_code = 0;
    p.l4_off = 54;
    p.payload_off = 62;
    p.payload_len = 4;
    assert_line(&p, NULL,
                TIME " IP6 ::1 > ::2: ICMP6 echo reply, code 0, id 4660, seq 7, length 12");
    p.icmp_type = 200;
    assert_line(&p, NULL, TIME " IP6 ::1 > ::2: ICMP6 type 200, code 0, length 12");

    /* header cut: no length beyond what the IP layer declared */
    p.payload_off = p.l4_off;
    p.payload_len = 0;
    assert_line(&p, NULL, TIME " IP6 ::1 > ::2: ICMP6 type 200, code 0, length 0");
}
END_TEST

/* ---- text: applications ------------------------------------------------------------------ */

static void
dns_pkt(ns_pkt_t *p, bool response)
{
    pkt_ip4(p, 17);
    p->layers |= NS_HAS(NS_LAYER_UDP) | NS_HAS(NS_LAYER_DNS);
    p->app = NS_APP_DNS;
    p->sport = response ? 53 : 53000;
    p->dport = response ? 53000 : 53;
    p->payload_len = 29;
    memset(&p->dns, 0, sizeof(p->dns));
    p->dns.id = 0x1234;
    p->dns.flags = response ? 0x8180 : 0x0100;
    p->dns.qdcount = 1;
    p->dns.has_question = true;
    p->dns.qtype = 28;
    p->dns.qclass = 1;
    strcpy(p->dns.qname, "www.example.com");
    p->dns.qname_len = (uint16_t)strlen(p->dns.qname);
}

START_TEST(test_dns_query)
{
    ns_pkt_t p;
    dns_pkt(&p, false);
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53000 > 198.51.100.2.53: UDP, length 29 DNS 4660 query "
                     "AAAA? www.example.com");
    p.dns.qtype = 65280; /* no mnemonic */
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53000 > 198.51.100.2.53: UDP, length 29 DNS 4660 query "
                     "TYPE65280? www.example.com");
}
END_TEST

START_TEST(test_dns_response)
{
    static const uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10};
    ns_pkt_t p;
    dns_pkt(&p, true);
    p.dns.ancount = 3;
    p.dns.nscount = 0;
    p.dns.arcount = 1;
    p.dns.n_answers = 2;
    p.dns.answers[0].type = 5;
    p.dns.answers[0].data_len = 11;
    memcpy(p.dns.answers[0].data, "example.net", 11);
    p.dns.answers[1].type = 28;
    p.dns.answers[1].data_len = 16;
    memcpy(p.dns.answers[1].data, v6, 16);
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53 > 198.51.100.2.53000: UDP, length 29 DNS 4660 response "
                     "NoError AAAA? www.example.com 3/0/1 CNAME example.net, AAAA "
                     "2001:db8::10, ...");

    /* Answers whose data is not rendered: the type alone, with no space after it. */
    p.dns.ancount = 2;
    p.dns.answers[0].type = 10; /* NULL, as DNS tunnels use it */
    p.dns.answers[0].data_len = 0;
    p.dns.answers[1].type = 65280;
    p.dns.answers[1].data_len = 0;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53 > 198.51.100.2.53000: UDP, length 29 DNS 4660 response "
                     "NoError AAAA? www.example.com 2/0/1 NULL, TYPE65280");

    /* NXDomain, no answers; an unnamed rcode */
    p.dns.flags = 0x8183;
    p.dns.rcode = 3;
    p.dns.ancount = 0;
    p.dns.n_answers = 0;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53 > 198.51.100.2.53000: UDP, length 29 DNS 4660 response "
                     "NXDomain AAAA? www.example.com 0/0/1");
    p.dns.rcode = 23;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.53 > 198.51.100.2.53000: UDP, length 29 DNS 4660 response "
                     "rcode 23 AAAA? www.example.com 0/0/1");
}
END_TEST

START_TEST(test_http_request)
{
    static const char msg[] = "GET /a\"b\x01 HTTP/1.1\r\nHost: example.com\r\n\r\n";
    const uint8_t *frame = (const uint8_t *)msg;
    ns_pkt_t p;
    pkt_ip4(&p, 6);
    p.layers |= NS_HAS(NS_LAYER_TCP) | NS_HAS(NS_LAYER_HTTP);
    p.sport = 40000;
    p.dport = 80;
    p.tcp_flags = NS_TCP_PSH | NS_TCP_ACK;
    p.seq = 1;
    p.ack = 1;
    p.win = 502;
    p.payload_len = (uint32_t)strlen(msg);
    p.app = NS_APP_HTTP;
    memset(&p.http, 0, sizeof(p.http));
    p.http.kind = NS_HTTP_REQUEST;
    p.http.method = (ns_span_t){0, 3};
    p.http.uri = (ns_span_t){4, 5};
    p.http.version = (ns_span_t){10, 8};
    p.http.host = (ns_span_t){26, 11};
    p.http.content_length = -1;
    assert_line(&p, frame,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [P.], seq 1, ack 1, win 502, "
                     "length 41 HTTP GET /a\"b\\x01 host example.com");

    /* a response with a reason phrase and a length */
    static const char resp[] = "HTTP/1.1 404 Not Found\r\n";
    p.http.kind = NS_HTTP_RESPONSE;
    p.http.status = 404;
    p.http.reason = (ns_span_t){13, 9};
    p.http.content_length = 1234;
    p.sport = 80;
    p.dport = 40000;
    assert_line(&p, (const uint8_t *)resp,
                TIME " IP 192.0.2.1.80 > 198.51.100.2.40000: Flags [P.], seq 1, ack 1, win 502, "
                     "length 41 HTTP 404 Not Found content-length 1234");
}
END_TEST

/* ---- text: link layer, errors, limits ---------------------------------------------------- */

START_TEST(test_vlan_mpls_prefixes)
{
    ns_pkt_t p;
    pkt_ip4(&p, 17);
    p.layers |= NS_HAS(NS_LAYER_VLAN) | NS_HAS(NS_LAYER_UDP);
    p.sport = 1;
    p.dport = 2;
    p.vlan_n = 2;
    p.vlan[0] = 100;
    p.vlan[1] = 200;
    assert_line(&p, NULL, TIME " vlan 100 vlan 200 IP 192.0.2.1.1 > 198.51.100.2.2: UDP, length 0");

    p.vlan_n = 6; /* more tags than kept */
    p.vlan[2] = 3;
    p.vlan[3] = 4;
    assert_line(&p, NULL,
                TIME " vlan 100 vlan 200 vlan 3 vlan 4 (+2 vlan) IP 192.0.2.1.1 > "
                     "198.51.100.2.2: UDP, length 0");

    p.vlan_n = 1;
    p.mpls_n = 2;
    p.mpls[0] = 16;
    p.mpls[1] = 1048575;
    assert_line(&p, NULL,
                TIME " vlan 100 mpls 16 mpls 1048575 IP 192.0.2.1.1 > 198.51.100.2.2: UDP, "
                     "length 0");
}
END_TEST

START_TEST(test_not_decoded)
{
    ns_pkt_t p;
    memset(&p, 0, sizeof(p));
    p.ts_ns = TS_NS;
    p.layers = NS_HAS(NS_LAYER_ETH);
    p.ethertype = 0x0806;
    p.err_layer = NS_LAYER_ETH;
    p.err_rc = NS_PARSE_UNSUPPORTED;
    p.wire_len = 42;
    assert_line(&p, NULL, TIME " ARP (not decoded), length 42");

    p.ethertype = 0x88b5; /* no name */
    assert_line(&p, NULL, TIME " ethertype 0x88b5 (not decoded), length 42");

    p.ethertype = 0; /* 802.3 length: LLC */
    assert_line(&p, NULL, TIME " 802.3 LLC (not decoded), length 42");

    p.layers = 0;
    p.err_layer = NS_LAYER_COUNT;
    p.linktype = 147;
    assert_line(&p, NULL, TIME " link type 147 (not decoded), length 42");
}
END_TEST

START_TEST(test_truncated_suffix)
{
    /* IPv4 whole, TCP header cut after the ports */
    ns_pkt_t p;
    pkt_ip4(&p, 6);
    p.layers |= NS_HAS(NS_LAYER_TCP);
    p.sport = 40000;
    p.dport = 80;
    p.err_layer = NS_LAYER_TCP;
    p.err_rc = NS_PARSE_TRUNCATED;
    p.l4_off = 34;
    p.cap_len = 34 + 4;
    assert_line(&p, NULL, TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: TCP [tcp: truncated]");

    /* the whole fixed header, options cut: everything known is shown */
    p.cap_len = 34 + 24;
    p.tcp_hlen = 40;
    p.tcp_flags = NS_TCP_SYN;
    p.seq = 5;
    p.win = 1024;
    assert_line(&p, NULL,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: Flags [S], seq 5, win 1024, "
                     "length 0 [tcp: truncated]");

    /* the IP header itself cut: only the link layer is known */
    memset(&p, 0, sizeof(p));
    p.ts_ns = TS_NS;
    p.layers = NS_HAS(NS_LAYER_ETH) | NS_HAS(NS_LAYER_IPV4);
    p.ethertype = 0x0800;
    p.err_layer = NS_LAYER_IPV4;
    p.err_rc = NS_PARSE_TRUNCATED;
    p.wire_len = 60;
    assert_line(&p, NULL, TIME " ethertype 0x0800, length 60 [ip: truncated]");

    /* invalid */
    p.err_rc = NS_PARSE_INVALID;
    assert_line(&p, NULL, TIME " ethertype 0x0800, length 60 [ip: invalid]");
}
END_TEST

START_TEST(test_truncated_decoded)
{
    /* a real frame cut inside the TCP header */
    static const uint8_t cut[] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, /* IPv4, total 40 */
        0x40, 0x06, 0xd4, 0xdd, 0xc0, 0x00, 0x02, 0x01, /* TCP, 192.0.2.1 */
        0xc6, 0x33, 0x64, 0x02,                         /* 198.51.100.2 */
        0x9c, 0x40, 0x00, 0x50, 0x00, 0x00,             /* 40000 -> 80, seq cut */
    };
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, cut, sizeof(cut));
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    r->pkt.ts_ns = TS_NS;
    assert_line(&r->pkt, r->f.buf,
                TIME " IP 192.0.2.1.40000 > 198.51.100.2.80: TCP [tcp: truncated]");
    tu_free(r);
}
END_TEST

START_TEST(test_long_line_is_cut)
{
    /* an HTTP request whose URI alone is longer than the line */
    static char msg[4096];
    memcpy(msg, "GET /", 5);
    memset(msg + 5, 'a', sizeof(msg) - 5);
    ns_pkt_t p;
    pkt_ip4(&p, 6);
    p.layers |= NS_HAS(NS_LAYER_TCP) | NS_HAS(NS_LAYER_HTTP);
    p.app = NS_APP_HTTP;
    memset(&p.http, 0, sizeof(p.http));
    p.http.kind = NS_HTTP_REQUEST;
    p.http.method = (ns_span_t){0, 3};
    p.http.uri = (ns_span_t){4, sizeof(msg) - 4};
    p.http.host = (ns_span_t){4, sizeof(msg) - 4};
    p.http.content_length = -1;
    p.vlan_n = 4;
    char buf[NS_PKTFMT_LINE_MAX + 16];
    memset(buf, 0x5a, sizeof(buf));
    size_t n = ns_pktfmt_text(&p, (const uint8_t *)msg, buf);
    ck_assert_uint_le(n, NS_PKTFMT_LINE_MAX);
    for (size_t i = NS_PKTFMT_LINE_MAX; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 0x5a);
    ck_assert_uint_gt(n, 3);
    ck_assert_mem_eq(buf + n - 3, "...", 3);

    /* control bytes escape to 4 characters each: still bounded */
    memset(msg + 5, 0x01, sizeof(msg) - 5);
    n = ns_pktfmt_text(&p, (const uint8_t *)msg, buf);
    ck_assert_uint_le(n, NS_PKTFMT_LINE_MAX);
    ck_assert_mem_eq(buf + n - 3, "...", 3);
    for (size_t i = NS_PKTFMT_LINE_MAX; i < sizeof(buf); i++)
        ck_assert_int_eq(buf[i], 0x5a);
}
END_TEST

START_TEST(test_addr)
{
    char out[64];
    ns_addr_t a;
    set_addr4(&a, 0, 10, 100, 255);
    ck_assert_uint_eq(ns_pktfmt_addr(out, &a, 4), 12);
    ck_assert_str_eq(out, "0.10.100.255");
    memset(&a, 0, sizeof(a));
    ck_assert_uint_eq(ns_pktfmt_addr(out, &a, 6), 2);
    ck_assert_str_eq(out, "::");
    ck_assert_str_eq(ns_pktfmt_dns_type(28), "AAAA");
    ck_assert_str_eq(ns_pktfmt_dns_type(10), "NULL");
    ck_assert_str_eq(ns_pktfmt_dns_type(257), "CAA");
    ck_assert_ptr_null(ns_pktfmt_dns_type(9999));
    ck_assert_str_eq(ns_pktfmt_dns_rcode(3), "NXDomain");
    ck_assert_str_eq(ns_pktfmt_dns_rcode(16), "BADVERS");
    ck_assert_ptr_null(ns_pktfmt_dns_rcode(12));
}
END_TEST

/* ---- JSON -------------------------------------------------------------------------------- */

/* Serialise, check it re-parses as JSON, and return the re-parsed object. */
static json_t *
roundtrip(json_t *o)
{
    ck_assert_ptr_nonnull(o);
    char *s = json_dumps(o, JSON_COMPACT);
    ck_assert_ptr_nonnull(s);
    json_error_t err;
    json_t *back = json_loads(s, 0, &err);
    ck_assert_msg(back != NULL, "not JSON: %s (%s)", s, err.text);
    free(s);
    json_decref(o);
    return back;
}

START_TEST(test_json_frame_and_arrays)
{
    static const uint8_t buf[] = {10, 0, 0, 1, 192, 0, 2, 1, 0xde, 0xad};
    ns_field_t v[16];
    ns_fields_t f;
    ns_fields_init(&f, v, 16, NULL, 0);
    f.buf = buf;
    int32_t n1 = ns_field_open(&f, "ip", 0);
    ns_field_raw(&f, "ip.src", 0, 4, NS_FT_IPV4);
    ns_field_uint(&f, "ip.ttl", 0, 1, 64);
    ns_field_hex(&f, "ip.id", 0, 2, 0x1c);
    ns_field_bool(&f, "ip.flags.df", 0, 1, true);
    ns_field_close(&f, n1, 4);
    int32_t n2 = ns_field_open(&f, "ip", 4);
    ns_field_raw(&f, "ip.src", 4, 4, NS_FT_IPV4);
    ns_field_close(&f, n2, 8);
    int32_t n3 = ns_field_open(&f, "gre", 8);
    ns_field_raw(&f, "data.data", 8, 2, NS_FT_BYTES);
    ns_field_raw(&f, "ip.src", 4, 4, NS_FT_IPV4); /* a third: the array grows */
    ns_field_close(&f, n3, 10);

    ns_pkt_t p;
    pkt_ip4(&p, 47);
    p.wire_len = 1514;
    p.cap_len = 96;
    json_t *o = roundtrip(ns_pktfmt_json(&p, &f, 42));
    ck_assert_int_eq(json_integer_value(json_object_get(o, "frame.number")), 42);
    ck_assert_str_eq(json_string_value(json_object_get(o, "frame.time_epoch")),
                     "1700000000.123456789");
    ck_assert_int_eq(json_integer_value(json_object_get(o, "frame.len")), 1514);
    ck_assert_int_eq(json_integer_value(json_object_get(o, "frame.cap_len")), 96);
    ck_assert_str_eq(json_string_value(json_object_get(o, "frame.protocols")), "ip:ip:gre");
    json_t *src = json_object_get(o, "ip.src");
    ck_assert(json_is_array(src));
    ck_assert_uint_eq(json_array_size(src), 3);
    ck_assert_str_eq(json_string_value(json_array_get(src, 0)), "10.0.0.1");
    ck_assert_str_eq(json_string_value(json_array_get(src, 1)), "192.0.2.1");
    ck_assert_str_eq(json_string_value(json_array_get(src, 2)), "192.0.2.1");
    ck_assert(json_is_integer(json_object_get(o, "ip.ttl"))); /* single: not an array */
    ck_assert_str_eq(json_string_value(json_object_get(o, "ip.id")), "0x001c");
    ck_assert(json_is_true(json_object_get(o, "ip.flags.df")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "data.data")), "de:ad");
    ck_assert_ptr_null(json_object_get(o, "error")); /* decoded OK */
    ck_assert_ptr_null(json_object_get(o, "fields_truncated"));
    json_decref(o);
}
END_TEST

START_TEST(test_json_string_escapes)
{
    /* quotes, backslash, control bytes, a NUL, valid UTF-8 and invalid UTF-8 */
    static const char quoted[] = "say \"hi\" \\ \t\n\x7f";
    static const char utf8[] = "caf\xc3\xa9";
    static const char bad_utf8[] = "a\xff\xc3(b";
    static const char with_nul[] = {'a', 0, 'b'};
    ns_field_t v[8];
    ns_fields_t f;
    ns_fields_init(&f, v, 8, NULL, 0);
    ns_field_str(&f, "http.request.uri", 0, 0, quoted, (uint32_t)strlen(quoted));
    ns_field_str(&f, "http.host", 0, 0, utf8, (uint32_t)strlen(utf8));
    ns_field_str(&f, "http.user_agent", 0, 0, bad_utf8, (uint32_t)strlen(bad_utf8));
    ns_field_str(&f, "dns.qry.name", 0, 0, with_nul, sizeof(with_nul));

    ns_pkt_t p;
    pkt_ip4(&p, 6);
    json_t *o = roundtrip(ns_pktfmt_json(&p, &f, 1));
    ck_assert_str_eq(json_string_value(json_object_get(o, "http.request.uri")), quoted);
    ck_assert_str_eq(json_string_value(json_object_get(o, "http.host")), "caf\xc3\xa9");
    /* not UTF-8: each non-ASCII byte spelled out as \xNN */
    ck_assert_str_eq(json_string_value(json_object_get(o, "http.user_agent")), "a\\xff\\xc3(b");
    ck_assert_str_eq(json_string_value(json_object_get(o, "dns.qry.name")), "a\\x00b");
    json_decref(o);
}
END_TEST

START_TEST(test_json_error_member)
{
    static const uint8_t cut[] = {
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00,
        0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x40, 0x00, 0x40, 0x06, /* IPv4 header cut */
    };
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, cut, sizeof(cut));
    json_t *o = roundtrip(ns_pktfmt_json(&r->pkt, &r->f, 7));
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "ip: truncated");
    ck_assert_str_eq(json_string_value(json_object_get(o, "eth.type")), "0x0800");
    ck_assert_str_eq(json_string_value(json_object_get(o, "eth.src")), "02:00:00:00:00:01");
    json_decref(o);
    tu_free(r);

    /* UNSUPPORTED is not an error */
    ns_pkt_t p;
    pkt_ip4(&p, 253);
    p.err_layer = NS_LAYER_IPV4;
    p.err_rc = NS_PARSE_UNSUPPORTED;
    o = roundtrip(ns_pktfmt_json(&p, NULL, 1));
    ck_assert_ptr_null(json_object_get(o, "error"));
    json_decref(o);

    /* a full field list is flagged */
    ns_field_t v[1];
    ns_fields_t f;
    ns_fields_init(&f, v, 1, NULL, 0);
    ns_field_uint(&f, "ip.ttl", 0, 1, 1);
    ns_field_uint(&f, "ip.ttl", 0, 1, 2);
    p.err_rc = NS_PARSE_INVALID;
    o = roundtrip(ns_pktfmt_json(&p, &f, 1));
    ck_assert(json_is_true(json_object_get(o, "fields_truncated")));
    ck_assert_str_eq(json_string_value(json_object_get(o, "error")), "ip: invalid");
    json_decref(o);
}
END_TEST

static Suite *
pktfmt_suite(void)
{
    Suite *s = suite_create("pktfmt");
    TCase *tc = tcase_create("text");
    tcase_add_test(tc, test_tcp_syn_options);
    tcase_add_test(tc, test_tcp_syn_decoded);
    tcase_add_test(tc, test_udp_ipv6);
    tcase_add_test(tc, test_fragments);
    tcase_add_test(tc, test_icmp);
    tcase_add_test(tc, test_dns_query);
    tcase_add_test(tc, test_dns_response);
    tcase_add_test(tc, test_http_request);
    tcase_add_test(tc, test_vlan_mpls_prefixes);
    tcase_add_test(tc, test_not_decoded);
    tcase_add_test(tc, test_truncated_suffix);
    tcase_add_test(tc, test_truncated_decoded);
    tcase_add_test(tc, test_long_line_is_cut);
    tcase_add_test(tc, test_addr);
    suite_add_tcase(s, tc);

    tc = tcase_create("json");
    tcase_add_test(tc, test_json_frame_and_arrays);
    tcase_add_test(tc, test_json_string_escapes);
    tcase_add_test(tc, test_json_error_member);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(pktfmt_suite)
