/* test_flow_key.c - canonical keys, ICMP port mapping, seeded hash. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/flow_key.h"
#include "runner.h"

static ns_addr_t
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ns_addr_t x;
    memset(&x, 0, sizeof(x));
    x.b[0] = a, x.b[1] = b, x.b[2] = c, x.b[3] = d;
    return x;
}

static void
pkt_udp(ns_pkt_t *p, ns_addr_t s, uint16_t sp, ns_addr_t d, uint16_t dp)
{
    memset(p, 0, sizeof(*p));
    p->ip_ver = 4;
    p->ip_proto = 17;
    p->src = s, p->dst = d, p->sport = sp, p->dport = dp;
}

START_TEST(both_directions_same_key)
{
    ns_pkt_t a, b;
    pkt_udp(&a, v4(10, 0, 0, 2), 5000, v4(10, 0, 0, 1), 53);
    pkt_udp(&b, v4(10, 0, 0, 1), 53, v4(10, 0, 0, 2), 5000);
    ns_flow_key_t ka, kb;
    unsigned sa = ns_flow_key_from_pkt(&a, &ka), sb = ns_flow_key_from_pkt(&b, &kb);
    ck_assert(ns_flow_key_eq(&ka, &kb));
    ck_assert_uint_ne(sa, sb);
    ck_assert_uint_eq(ns_flow_key_hash(&ka, 7), ns_flow_key_hash(&kb, 7));
}
END_TEST

START_TEST(vlan_and_proto_separate)
{
    ns_pkt_t a, b;
    pkt_udp(&a, v4(1, 1, 1, 1), 1, v4(2, 2, 2, 2), 2);
    b = a;
    b.vlan_n = 1;
    b.vlan[0] = 100;
    ns_flow_key_t ka, kb;
    ns_flow_key_from_pkt(&a, &ka);
    ns_flow_key_from_pkt(&b, &kb);
    ck_assert(!ns_flow_key_eq(&ka, &kb));
    b = a;
    b.ip_proto = 6;
    ns_flow_key_from_pkt(&b, &kb);
    ck_assert(!ns_flow_key_eq(&ka, &kb));
}
END_TEST

START_TEST(icmp_echo_pairs)
{
    ns_pkt_t req, rep;
    memset(&req, 0, sizeof(req));
    req.ip_ver = 4, req.ip_proto = 1, req.src = v4(1, 1, 1, 1), req.dst = v4(2, 2, 2, 2);
    req.icmp_type = 8;
    rep = req;
    rep.src = req.dst, rep.dst = req.src, rep.icmp_type = 0;
    ns_flow_key_t a, b;
    unsigned sa = ns_flow_key_from_pkt(&req, &a), sb = ns_flow_key_from_pkt(&rep, &b);
    ck_assert(ns_flow_key_eq(&a, &b));
    ck_assert_uint_eq(a.port[sa], 8);
    ck_assert_uint_eq(a.port[sb], 0);
    uint16_t s, d;
    ck_assert(!ns_flow_key_icmp_ports(4, 3, 1, &s, &d)); /* unreachable: one-way, code */
    ck_assert_uint_eq(s, 3);
    ck_assert_uint_eq(d, 1);
    ck_assert(ns_flow_key_icmp_ports(6, 128, 0, &s, &d));
    ck_assert_uint_eq(d, 129);
}
END_TEST

START_TEST(seeded_hash)
{
    ns_flow_key_t k;
    ns_addr_t a = v4(1, 2, 3, 4), b = v4(5, 6, 7, 8);
    ns_flow_key_make(&k, 4, 6, 0, &a, 1, &b, 2);
    ck_assert_uint_eq(ns_flow_key_hash(&k, 1), ns_flow_key_hash(&k, 1));
    ck_assert_uint_ne(ns_flow_key_hash(&k, 1), ns_flow_key_hash(&k, 2));
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("flow_key");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, both_directions_same_key);
    tcase_add_test(tc, vlan_and_proto_separate);
    tcase_add_test(tc, icmp_echo_pairs);
    tcase_add_test(tc, seeded_hash);
    suite_add_tcase(s, tc);
    return ns_test_run(s);
}
