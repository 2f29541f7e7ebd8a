/* test_community_id.c - Community ID v1 against published vectors.
 *
 * Sources: corelight/community-id-spec baseline/baseline_deflt.json (seed 0) and
 * baseline_seed1.json (seed 1); corelight/pycommunityid tests/communityid_test.py (ICMP
 * one-way types, SCTP, plain IP); and tshark 4.0.17 (`--enable-protocol communityid`, field
 * `communityid`) over a hand-made capture of well-formed ICMPv4 router solicitation and
 * advertisement, echo, destination unreachable, timestamp and address mask messages between
 * 10.0.0.1 and 10.0.0.2. (tshark hashes a packet it flags as malformed ICMP without ports, so
 * the capture must be well-formed to compare.)
 */
#include <arpa/inet.h>
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/community_id.h"
#include "runner.h"

typedef struct {
    uint8_t proto;
    const char *saddr, *daddr;
    uint16_t sport, dport;
    const char *want_seed0;
    const char *want_seed1; /* NULL: not published */
} vec_t;

static void
parse_addr(const char *s, uint8_t *ver, ns_addr_t *a)
{
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, s, a->b) == 1) {
        *ver = 4;
        return;
    }
    ck_assert_int_eq(inet_pton(AF_INET6, s, a->b), 1);
    *ver = 6;
}

static void
check_vec(const vec_t *v, uint16_t seed, const char *want)
{
    uint8_t v1, v2;
    ns_addr_t s, d;
    parse_addr(v->saddr, &v1, &s);
    parse_addr(v->daddr, &v2, &d);
    ck_assert_int_eq(v1, v2);
    char out[NS_COMMUNITY_ID_BUFSZ];
    size_t n = ns_community_id_v1(seed, v1, &s, &d, v->proto, v->sport, v->dport, out, sizeof(out));
    ck_assert_msg(strcmp(out, want) == 0, "proto %u %s:%u -> %s:%u seed %u: got %s want %s",
                  v->proto, v->saddr, v->sport, v->daddr, v->dport, seed, out, want);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_uint_eq(n, NS_COMMUNITY_ID_LEN);
}

/* The spec's baseline, both seeds. */
static const vec_t baseline[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134,
     "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=", "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133,
     "1:pkvHqCL88/tg1k4cPigmZXUtL00=", "1:K/ee5UCqAMAQXDorP5nSa2CGLjc="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "192.168.0.1", "192.168.0.89", 0, 8,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0,
     "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    /* RSVP: no ports in the hash, whatever the caller passes */
    {46, "10.1.12.1", "10.1.12.2", 0, 0,
     "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {46, "10.1.12.2", "10.1.12.1", 1234, 99,
     "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

/* pycommunityid's unit tests (beyond the baseline). */
static const vec_t pyvec[] = {
    /* ICMP type 20 has no counterpart: one-way, the code is hashed */
    {1, "192.168.0.89", "192.168.0.1", 20, 0,
     "1:3o2RFccXzUgjl7zDpqmY7yJi8rI=", "1:lCXHHxavE1Vq3oX9NH5ladQg02o="},
    {1, "192.168.0.89", "192.168.0.1", 20, 1,
     "1:tz/fHIDUHs19NkixVVoOZywde+I=", "1:Ie3wmFyxiEyikbsbcO03d2nh+PM="},
    /* echo reply: the code is ignored (two-way types hash the counterpart type) */
    {1, "192.168.0.1", "192.168.0.89", 0, 20,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    /* ICMPv6 time exceeded (one-way): direction matters */
    {58, "3ffe:507:0:1:260:97ff:fe07:69ea", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:NdobDX8PQNJbAyfkWxhtL2Pqp5w=", "1:OlOWx9psIbBFi7lOCw/4MhlKR9M="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:507:0:1:260:97ff:fe07:69ea", 3, 0,
     "1:/OGBt9BN1ofenrmSPWYicpij2Vc=", "1:Ij4ZxnC87/MXzhOjvH2vHu7LRmE="},
    {132, "192.168.170.8", "192.168.170.56", 7, 80,
     "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="},
    {132, "192.168.170.56", "192.168.170.8", 80, 7,
     "1:jQgCxbku+pNGw8WPbEc/TS/uTpQ=", "1:Y1/0jQg6e+I3ZwZZ9LP65DNbTXU="},
    /* pycommunityid issue #3: ports compared as numbers */
    {6, "10.0.0.1", "10.0.0.2", 10, 11569,
     "1:SXBGMX1lBOwhhoDrZynfROxnhnM=", "1:HmBRGR+fUyXF4t8WEtal7Y0gEAo="},
    {46, "10.1.24.4", "10.1.12.1", 0, 0,
     "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=", "1:BK3BVW3U2eemuwVQVN3zd/GULno="},
    {46, "10.1.12.1", "10.1.24.4", 0, 0,
     "1:/nQI4Rh/TtY3mf0R2gJFBkVlgS4=", "1:BK3BVW3U2eemuwVQVN3zd/GULno="},
};

/* tshark 4.0.17 on a hand-made capture (seed 0). */
static const vec_t tshark_vec[] = {
    /* router advertisement <-> solicitation are counterparts in both directions */
    {1, "10.0.0.2", "10.0.0.1", 9, 0, "1:qhJTvE/Qez7ZPSOGlcKJAzRpSO0=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 9, 0, "1:DYhYhWnv1hFRoB3VRnwSDthRB4g=", NULL},
    {1, "10.0.0.2", "10.0.0.1", 10, 0, "1:DYhYhWnv1hFRoB3VRnwSDthRB4g=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 10, 0, "1:qhJTvE/Qez7ZPSOGlcKJAzRpSO0=", NULL},
    {1, "10.0.0.2", "10.0.0.1", 8, 0, "1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 0, 0, "1:E5tNYkCqpM09ZPfoLcq+JJj0QuQ=", NULL},
    /* destination unreachable, port unreachable: one-way */
    {1, "10.0.0.2", "10.0.0.1", 3, 1, "1:JHjlyD5IJJjl3wHWOMj46lLWZag=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 3, 1, "1:gkoOC4ouXvyYq0Ek/WqwbLoqcxM=", NULL},
    {1, "10.0.0.2", "10.0.0.1", 13, 0, "1:th9CqcxflNss8X17pecPidKDzKw=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 14, 0, "1:th9CqcxflNss8X17pecPidKDzKw=", NULL},
    {1, "10.0.0.2", "10.0.0.1", 17, 0, "1:l/VKACLiArrnbEnOQacsEqDOAlg=", NULL},
    {1, "10.0.0.1", "10.0.0.2", 18, 0, "1:l/VKACLiArrnbEnOQacsEqDOAlg=", NULL},
};

static void
run_table(const vec_t *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        check_vec(&t[i], 0, t[i].want_seed0);
        if (t[i].want_seed1)
            check_vec(&t[i], 1, t[i].want_seed1);
    }
}

/* ---- valid -------------------------------------------------------------------------- */

START_TEST(spec_baseline)
{
    run_table(baseline, sizeof(baseline) / sizeof(baseline[0]));
}
END_TEST

START_TEST(pycommunityid_vectors)
{
    run_table(pyvec, sizeof(pyvec) / sizeof(pyvec[0]));
}
END_TEST

START_TEST(tshark_icmp_vectors)
{
    run_table(tshark_vec, sizeof(tshark_vec) / sizeof(tshark_vec[0]));
}
END_TEST

/* Same address on both sides: the ports decide the order. */
START_TEST(equal_addresses_ports_decide)
{
    ns_addr_t a;
    memset(&a, 0, sizeof(a));
    a.b[0] = 127;
    a.b[3] = 1;
    char x[NS_COMMUNITY_ID_BUFSZ], y[NS_COMMUNITY_ID_BUFSZ], z[NS_COMMUNITY_ID_BUFSZ];
    ns_community_id_v1(0, 4, &a, &a, 6, 40000, 80, x, sizeof(x));
    ns_community_id_v1(0, 4, &a, &a, 6, 80, 40000, y, sizeof(y));
    ns_community_id_v1(0, 4, &a, &a, 6, 80, 40001, z, sizeof(z));
    ck_assert_str_eq(x, y);
    ck_assert_str_ne(x, z);
}
END_TEST

/* IPv4 hashing uses only the first 4 address bytes. */
START_TEST(ipv4_ignores_tail)
{
    ns_addr_t s, d;
    uint8_t v;
    parse_addr("192.168.1.52", &v, &s);
    parse_addr("8.8.8.8", &v, &d);
    s.b[10] = 0xaa; /* garbage past the IPv4 address must not matter */
    char out[NS_COMMUNITY_ID_BUFSZ];
    ns_community_id_v1(0, 4, &s, &d, 17, 54585, 53, out, sizeof(out));
    ck_assert_str_eq(out, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=");
}
END_TEST

/* ---- invalid ------------------------------------------------------------------------ */

START_TEST(bad_arguments)
{
    ns_addr_t a;
    memset(&a, 1, sizeof(a));
    char out[NS_COMMUNITY_ID_BUFSZ];
    memset(out, 'x', sizeof(out));
    ck_assert_uint_eq(ns_community_id_v1(0, 5, &a, &a, 6, 1, 2, out, sizeof(out)), 0);
    ck_assert_str_eq(out, "");
    memset(out, 'x', sizeof(out));
    ck_assert_uint_eq(ns_community_id_v1(0, 4, &a, &a, 6, 1, 2, out, NS_COMMUNITY_ID_LEN), 0);
    ck_assert_int_eq(out[0], '\0');
    ck_assert_int_eq(out[1], 'x'); /* nothing written past the terminator */
    ck_assert_uint_eq(ns_community_id_v1(0, 4, &a, &a, 6, 1, 2, NULL, 64), 0);
    ck_assert_uint_eq(ns_community_id_v1(0, 4, NULL, &a, 6, 1, 2, out, sizeof(out)), 0);
}
END_TEST

static Suite *
community_id_suite(void)
{
    Suite *s = suite_create("community_id");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, spec_baseline);
    tcase_add_test(tc, pycommunityid_vectors);
    tcase_add_test(tc, tshark_icmp_vectors);
    tcase_add_test(tc, equal_addresses_ports_decide);
    tcase_add_test(tc, ipv4_ignores_tail);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, bad_arguments);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(community_id_suite)
