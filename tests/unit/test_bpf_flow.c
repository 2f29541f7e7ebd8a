/* test_bpf_flow.c - BPF over flow keys (capture/bpf_flow.c): name refusal, matching. */
#include <check.h>
#include <string.h>

#include "netscope/bpf_flow.h"
#include "runner.h"

static ns_bpf_flow_key_t
key4(uint8_t proto, uint8_t o4, uint16_t op, uint8_t r4, uint16_t rp, uint16_t vlan)
{
    ns_bpf_flow_key_t k;
    memset(&k, 0, sizeof(k));
    k.ip_ver = 4;
    k.proto = proto;
    k.vlan = vlan;
    k.orig_h[0] = 10, k.orig_h[3] = o4;
    k.resp_h[0] = 10, k.resp_h[3] = r4;
    k.orig_p = op;
    k.resp_p = rp;
    return k;
}

static bool
match(const char *expr, const ns_bpf_flow_key_t *k)
{
    char err[256];
    ns_bpf_flow_t *f = ns_bpf_flow_new(expr, err, sizeof(err));
    ck_assert_msg(f != NULL, "%s: %s", expr, err);
    bool m = ns_bpf_flow_match(f, k);
    ns_bpf_flow_destroy(&f);
    ck_assert_ptr_null(f);
    return m;
}

START_TEST(valid_check)
{
    char err[256];
    ck_assert(ns_bpf_flow_check("tcp and port 443 and net 10.0.0.0/8", err, sizeof(err)));
    ck_assert(ns_bpf_flow_check("host fe80::1 or ether host 00:11:22:33:44:55", err, sizeof(err)));
    ck_assert(ns_bpf_flow_check("icmp[icmptype] == icmp-echo", err, sizeof(err)));
    ck_assert(ns_bpf_flow_check("tcp[0:2] > 1023 and not vlan", err, sizeof(err)));
    ck_assert(ns_bpf_flow_check("ip proto \\tcp", err, sizeof(err)));
    ck_assert(ns_bpf_flow_check("", err, sizeof(err)));
}
END_TEST

START_TEST(invalid_names)
{
    char err[256];
    ck_assert(!ns_bpf_flow_check("host example.com", err, sizeof(err)));
    ck_assert(strstr(err, "example.com") != NULL);
    ck_assert(!ns_bpf_flow_check("port http", err, sizeof(err)));
    ck_assert(!ns_bpf_flow_check("host my-host", err, sizeof(err)));
    ck_assert(!ns_bpf_flow_check("host 10.0.0.ab", err, sizeof(err)));
    ck_assert(!ns_bpf_flow_check("gateway router", err, sizeof(err)));
    ck_assert(!ns_bpf_flow_check("host 1e100.net", err, sizeof(err)));
    ck_assert(!ns_bpf_flow_check("host \"x\"", err, sizeof(err)));
    ck_assert(ns_bpf_flow_new("tcp and and", err, sizeof(err)) == NULL);
    ck_assert(strstr(err, "bad filter") != NULL);
}
END_TEST

START_TEST(valid_match)
{
    ns_bpf_flow_key_t k = key4(6, 1, 40000, 2, 443, 0);
    ck_assert(match("tcp port 443", &k));
    ck_assert(match("src port 443", &k)); /* the reply direction */
    ck_assert(match("dst host 10.0.0.1", &k));
    ck_assert(match("net 10.0.0.0/24 and tcp", &k));
    ck_assert(!match("udp", &k));
    ck_assert(!match("port 80", &k));
    ck_assert(!match("host 10.0.0.3", &k));
    ck_assert(!match("ip6", &k));
    ns_bpf_flow_key_t u = key4(17, 1, 5353, 2, 53, 10);
    ck_assert(match("udp dst port 53", &u));
    ck_assert(match("vlan 10", &u));
    ck_assert(!match("vlan 11", &u));
    ns_bpf_flow_key_t ic = key4(1, 1, 8, 2, 0, 0);
    ck_assert(match("icmp[icmptype] == icmp-echo", &ic));
    ns_bpf_flow_key_t v6;
    memset(&v6, 0, sizeof(v6));
    v6.ip_ver = 6;
    v6.proto = 6;
    v6.orig_h[0] = 0xfe, v6.orig_h[1] = 0x80, v6.orig_h[15] = 1;
    v6.resp_h[0] = 0xfe, v6.resp_h[1] = 0x80, v6.resp_h[15] = 2;
    v6.orig_p = 1234;
    v6.resp_p = 22;
    ck_assert(match("ip6 and tcp port 22 and host fe80::2", &v6));
    ck_assert(!match("ip", &v6));
}
END_TEST

static Suite *
bpf_flow_suite(void)
{
    Suite *s = suite_create("bpf_flow");
    TCase *v = tcase_create("valid");
    tcase_add_test(v, valid_check);
    tcase_add_test(v, valid_match);
    suite_add_tcase(s, v);
    TCase *i = tcase_create("invalid");
    tcase_add_test(i, invalid_names);
    suite_add_tcase(s, i);
    return s;
}

NS_TEST_MAIN(bpf_flow_suite)
