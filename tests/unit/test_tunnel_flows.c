/* test_tunnel_flows.c - tunnelled traffic as Zeek's conn.log has it: the connection that
 * carries a tunnel (UDP, GRE, IP-in-IP) is a flow, the inner connection is another whose tunnel
 * parent is the carrier's uid. Built frames (VXLAN, Geneve, GRE in UDP and over IP with keys,
 * sequence numbers, bridging, ERSPAN II and PPTP, IP-in-IP 4in4/6in4/4in6), decoded, then run
 * through the flow engine; invalid and truncated tunnels make the carrier flow only. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encapframe.h"
#include "netscope/decode.h"
#include "netscope/flow_engine.h"
#include "runner.h"

#define MAX_RECS 8

typedef struct {
    ns_flow_rec_t r[MAX_RECS];
    int n;
} recs_t;

static void
grab(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    (void)eng;
    (void)idx;
    recs_t *rs = ud;
    ck_assert_int_lt(rs->n, MAX_RECS);
    rs->r[rs->n++] = *rec;
}

/* Decode `n` frames (one a millisecond) into summaries and run them through a fresh engine;
 * every record lands in *rs. */
static void
run_frames(ef_t *const *frames, const size_t *lens, size_t n, recs_t *rs)
{
    memset(rs, 0, sizeof(*rs));
    ns_flow_engine_opts_t o;
    ns_flow_engine_opts_default(&o);
    o.max_flows = 16;
    o.app = false;
    o.seed = 7;
    ns_flow_engine_t *e = ns_flow_engine_new(&o, grab, rs);
    ck_assert_ptr_nonnull(e);
    ns_pkt_t *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    for (size_t i = 0; i < n; i++) {
        p->ts_ns = (uint64_t)(i + 1) * 1000000u;
        (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, frames[i]->b, (uint32_t)lens[i],
                              (uint32_t)lens[i], p, NULL, NULL);
        ns_flow_engine_add(e, p, frames[i]->b);
    }
    ns_flow_engine_flush(e, NS_FLOW_END_END_OF_INPUT, 0);
    ns_flow_engine_destroy(&e);
    free(p);
}

static const ns_flow_rec_t *
find_port(const recs_t *rs, uint16_t resp_p)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->r[i].resp_p == resp_p)
            return &rs->r[i];
    return NULL;
}

/* Exactly two records: the VXLAN carrier's and the inner flow's. */
static void
vxlan_pair(const recs_t *rs, const ns_flow_rec_t **outer, const ns_flow_rec_t **inner)
{
    ck_assert_int_eq(rs->n, 2);
    *outer = find_port(rs, 4789);
    *inner = find_port(rs, 5678);
    ck_assert_ptr_nonnull(*outer);
    ck_assert_ptr_nonnull(*inner);
}

/* VXLAN carrying ef_inner4(): `i_flag` false makes the VXLAN header invalid. */
static void
vxlan_frame(ef_t *f, bool i_flag)
{
    size_t ip, udp;
    ef_outer_udp(f, 4789, &ip, &udp);
    ef_be32(f, i_flag ? 0x08000000u : 0);
    ef_be32(f, 12345u << 8);
    ef_inner_eth4(f);
    ef_close_udp(f, ip, udp);
}

/* One frame through a fresh engine. */
static void
run_one(ef_t *f, recs_t *rs)
{
    ef_t *frames[] = {f};
    size_t lens[] = {f->n};
    run_frames(frames, lens, 1, rs);
}

static const ns_flow_rec_t *
find_proto(const recs_t *rs, uint8_t proto)
{
    for (int i = 0; i < rs->n; i++)
        if (rs->r[i].proto == proto)
            return &rs->r[i];
    return NULL;
}

/* Exactly two records: a carrier of IP protocol `proto` (no ports, no parent, one packet of
 * `ip_bytes`, the whole outer packet) and the inner UDP flow to 5678, which names it. */
static void
carrier_pair(const recs_t *rs, uint8_t proto, size_t ip_bytes)
{
    ck_assert_int_eq(rs->n, 2);
    const ns_flow_rec_t *outer = find_proto(rs, proto);
    const ns_flow_rec_t *inner = find_port(rs, 5678);
    ck_assert_ptr_nonnull(outer);
    ck_assert_ptr_nonnull(inner);
    ck_assert_uint_eq(outer->orig_p, 0);
    ck_assert_uint_eq(outer->resp_p, 0);
    ck_assert_uint_eq(outer->pkts[0] + outer->pkts[1], 1);
    ck_assert_uint_eq(outer->ip_bytes[0] + outer->ip_bytes[1], ip_bytes);
    ck_assert_str_eq(outer->tunnel_parent, "");
    ck_assert_str_eq(inner->tunnel_parent, outer->uid);
    ck_assert_uint_eq(inner->proto, 17);
}

/* Ethernet + IPv4 10.0.0.1 -> 10.0.0.2 protocol 47 + GRE (flags and version `fv`, protocol
 * `proto`, then `n` optional words) + what `inner` writes (NULL: nothing; the caller closes
 * the IPv4 header then, with ef_ipv4_end(f, 14)). */
static void
gre_over_ip(ef_t *f, uint16_t fv, uint16_t proto, const uint32_t *words, int n,
            void (*inner)(ef_t *))
{
    f->n = 0;
    ef_eth(f, 0x0800);
    size_t ip = ef_ipv4(f, 47);
    ef_be16(f, fv);
    ef_be16(f, proto);
    for (int i = 0; i < n; i++)
        ef_be32(f, words[i]);
    if (inner != NULL) {
        inner(f);
        ef_ipv4_end(f, ip);
    }
}

/* Ethernet + an outer IP header of version `outer` (IPv4 10.0.0.1 -> 10.0.0.2, or IPv6
 * 2001:db8::a -> 2001:db8::b) whose payload is ef_inner4() or ef_inner6() (`inner`). */
static void
ipip_frame(ef_t *f, int outer, int inner)
{
    uint8_t proto = inner == 4 ? 4 : 41;
    f->n = 0;
    ef_eth(f, outer == 4 ? 0x0800 : 0x86dd);
    size_t ip = f->n;
    if (outer == 4) {
        (void)ef_ipv4(f, proto);
    } else {
        static const uint8_t h[8] = {0x60, 0, 0, 0, 0, 0, 0, 64};
        ef_put(f, h, 8);
        f->b[ip + 6] = proto;
        uint8_t a[16] = {0x20, 0x01, 0x0d, 0xb8};
        a[15] = 0x0a;
        ef_put(f, a, 16);
        a[15] = 0x0b;
        ef_put(f, a, 16);
    }
    if (inner == 4)
        ef_inner4(f);
    else
        ef_inner6(f);
    if (outer == 4)
        ef_ipv4_end(f, ip);
    else
        ef_set16(f, ip + 4, (uint16_t)(f->n - ip - 40));
}

START_TEST(decode_keeps_the_carrier)
{
    ef_t f;
    vxlan_frame(&f, true);
    ns_pkt_t *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(ns_decode_frame(NS_LINKTYPE_ETHERNET, f.b, (uint32_t)f.n, (uint32_t)f.n, p,
                                     NULL, NULL),
                     NS_PARSE_OK);
    ef_assert_inner4(p);
    ck_assert_uint_eq(p->tun_n, 1);
    static const uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    ck_assert_mem_eq(p->tun.src.b, a, 4);
    ck_assert_mem_eq(p->tun.dst.b, b, 4);
    ck_assert_uint_eq(p->tun.sport, 49152);
    ck_assert_uint_eq(p->tun.dport, 4789);
    ck_assert_uint_eq(p->tun.ip_ver, 4);
    ck_assert_uint_eq(p->tun.ip_len, f.n - 14);
    ck_assert_uint_eq(p->tun.payload_len, f.n - 14 - 28);
    ck_assert_uint_eq(p->tun.l3_off, 14);
    ck_assert_uint_eq(p->tun.layer, NS_LAYER_VXLAN);
    ck_assert_uint_ne(p->l3_off, p->tun.l3_off);

    /* a plain UDP packet afterwards: no carrier left over from the previous summary */
    ef_t u;
    size_t ip, udp;
    ef_outer_udp(&u, 5678, &ip, &udp);
    ef_put(&u, "ping", 4);
    ef_close_udp(&u, ip, udp);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, u.b, (uint32_t)u.n, (uint32_t)u.n, p, NULL, NULL);
    ck_assert_uint_eq(p->tun_n, 0);
    free(p);
}
END_TEST

START_TEST(vxlan_inner_flow_names_its_parent)
{
    ef_t f;
    vxlan_frame(&f, true);
    ef_t *frames[] = {&f, &f};
    size_t lens[] = {f.n, f.n};
    recs_t rs;
    run_frames(frames, lens, 2, &rs);
    const ns_flow_rec_t *outer, *inner;
    vxlan_pair(&rs, &outer, &inner);
    ck_assert_str_eq(outer->tunnel_parent, "");
    ck_assert_str_eq(inner->tunnel_parent, outer->uid);
    ck_assert_str_ne(inner->uid, outer->uid);
    /* the carrier counts the whole outer packets, the inner flow its own */
    ck_assert_uint_eq(outer->pkts[0], 2);
    ck_assert_uint_eq(outer->ip_bytes[0], 2 * (f.n - 14));
    ck_assert_uint_eq(outer->proto, 17);
    ck_assert_uint_eq(inner->pkts[0], 2);
    ck_assert_uint_eq(inner->ip_bytes[0], 2 * 32);
    ck_assert_str_eq(outer->history, "D");
    ck_assert_str_eq(inner->history, "D");
}
END_TEST

/* Geneve (6081) with its 8-byte header and no options, the inner frame an Ethernet one; a
 * second carrier (another source port) for the same inner flow: the first parent stays. */
START_TEST(geneve_first_parent_kept)
{
    ef_t a, b;
    size_t ip, udp;
    ef_outer_udp(&a, 6081, &ip, &udp);
    ef_be32(&a, 0x00006558u); /* version 0, no options, protocol: Ethernet */
    ef_be32(&a, 77u << 8);
    ef_inner_eth4(&a);
    ef_close_udp(&a, ip, udp);
    b = a;
    ef_set16(&b, udp, 49153); /* another outer source port: another carrier flow */
    ef_t *frames[] = {&a, &b};
    size_t lens[] = {a.n, b.n};
    recs_t rs;
    run_frames(frames, lens, 2, &rs);
    ck_assert_int_eq(rs.n, 3);
    const ns_flow_rec_t *inner = find_port(&rs, 5678);
    ck_assert_ptr_nonnull(inner);
    ck_assert_uint_eq(inner->pkts[0], 2);
    const ns_flow_rec_t *first = NULL;
    for (int i = 0; i < rs.n; i++)
        if (rs.r[i].resp_p == 6081 && rs.r[i].orig_p == 49152)
            first = &rs.r[i];
    ck_assert_ptr_nonnull(first);
    ck_assert_str_eq(inner->tunnel_parent, first->uid);
}
END_TEST

/* A VXLAN header without its I flag is invalid, and a frame cut inside the inner Ethernet
 * header has no inner packet: the carrier is the only flow either way. */
START_TEST(invalid_or_cut_tunnel_is_carrier_only)
{
    ef_t bad, cut;
    vxlan_frame(&bad, false);
    vxlan_frame(&cut, true);
    ef_t *frames[] = {&bad};
    size_t lens[] = {bad.n};
    recs_t rs;
    run_frames(frames, lens, 1, &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_uint_eq(rs.r[0].resp_p, 4789);
    ck_assert_str_eq(rs.r[0].tunnel_parent, "");

    for (size_t len = 14 + 28 + 8; len < 14 + 28 + 8 + 14; len++) {
        ef_t *fc[] = {&cut};
        size_t lc[] = {len};
        run_frames(fc, lc, 1, &rs);
        ck_assert_int_eq(rs.n, 1);
        ck_assert_uint_eq(rs.r[0].resp_p, 4789);
        ck_assert_str_eq(rs.r[0].tunnel_parent, "");
    }
    /* every shorter prefix: never more than the two flows, never a parent on the carrier */
    for (size_t len = 0; len <= cut.n; len++) {
        ef_t *fc[] = {&cut};
        size_t lc[] = {len};
        run_frames(fc, lc, 1, &rs);
        ck_assert_int_le(rs.n, 2);
        for (int i = 0; i < rs.n; i++)
            if (rs.r[i].resp_p == 4789)
                ck_assert_str_eq(rs.r[i].tunnel_parent, "");
    }
}
END_TEST

/* GRE in UDP (4754) has a UDP carrier; GRE straight over IP (protocol 47) has a GRE one. */
START_TEST(gre_carrier_over_udp_and_ip)
{
    ef_t u, g;
    size_t ip, udp;
    ef_outer_udp(&u, 4754, &ip, &udp);
    ef_be32(&u, 0x00000800u); /* no flags, version 0, IPv4 */
    ef_inner4(&u);
    ef_close_udp(&u, ip, udp);
    gre_over_ip(&g, 0x0000, 0x0800, NULL, 0, ef_inner4);

    ns_pkt_t *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, u.b, (uint32_t)u.n, (uint32_t)u.n, p, NULL, NULL);
    ef_assert_inner4(p);
    ck_assert_uint_eq(p->tun_n, 1);
    ck_assert_uint_eq(p->tun.layer, NS_LAYER_GRE);
    ck_assert_uint_eq(p->tun.ip_proto, 17);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, g.b, (uint32_t)g.n, (uint32_t)g.n, p, NULL, NULL);
    ef_assert_inner4(p);
    ck_assert_uint_eq(p->tun_n, 1);
    ck_assert_uint_eq(p->tun.layer, NS_LAYER_GRE);
    ck_assert_uint_eq(p->tun.ip_proto, 47);
    ck_assert_uint_eq(p->tun.sport, 0);
    ck_assert_uint_eq(p->tun.dport, 0);
    free(p);

    ef_t *frames[] = {&u, &g};
    size_t lens[] = {u.n, g.n};
    recs_t rs;
    run_frames(frames, lens, 1, &rs);
    ck_assert_int_eq(rs.n, 2);
    ck_assert_str_eq(find_port(&rs, 5678)->tunnel_parent, find_port(&rs, 4754)->uid);
    run_frames(frames + 1, lens + 1, 1, &rs);
    carrier_pair(&rs, 47, g.n - 14);
}
END_TEST

/* GRE with a key and a sequence number (RFC 2890), and with a checksum. */
START_TEST(gre_key_and_sequence)
{
    static const uint32_t key_seq[] = {0x0000abcd, 7};
    static const uint32_t cksum[] = {0}; /* checksum (not verified on this path) + reserved */
    ef_t g;
    recs_t rs;
    gre_over_ip(&g, 0x3000, 0x0800, key_seq, 2, ef_inner4);
    run_one(&g, &rs);
    carrier_pair(&rs, 47, g.n - 14);
    gre_over_ip(&g, 0x8000, 0x0800, cksum, 1, ef_inner4);
    run_one(&g, &rs);
    carrier_pair(&rs, 47, g.n - 14);
}
END_TEST

/* Transparent Ethernet bridging (0x6558: gretap, NVGRE with its key) and ERSPAN type II
 * (0x88be with a sequence number, then the 8-byte ERSPAN header): an Ethernet frame inside. */
START_TEST(gre_ethernet_inside)
{
    static const uint32_t nvgre_key[] = {0x00123400};
    static const uint32_t erspan2[] = {42, 0x10640001u, 0x00000005u}; /* seq; ver 1 vlan 100
                                                                           * span 1; index 5 */
    ef_t g;
    recs_t rs;
    gre_over_ip(&g, 0x2000, 0x6558, nvgre_key, 1, ef_inner_eth4);
    run_one(&g, &rs);
    carrier_pair(&rs, 47, g.n - 14);
    gre_over_ip(&g, 0x1000, 0x88be, erspan2, 3, ef_inner_eth4);
    ns_pkt_t *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(ns_decode_frame(NS_LINKTYPE_ETHERNET, g.b, (uint32_t)g.n, (uint32_t)g.n, p,
                                     NULL, NULL),
                     NS_PARSE_OK);
    ck_assert(p->layers & NS_HAS(NS_LAYER_ERSPAN));
    free(p);
    run_one(&g, &rs);
    carrier_pair(&rs, 47, g.n - 14);
}
END_TEST

/* PPTP's enhanced GRE (version 1) carries PPP, usually encrypted: the GRE flow only. */
START_TEST(pptp_gre_flow_only)
{
    static const uint32_t pptp[] = {0x00040009u, 1}; /* payload length 4, call id 9; seq 1 */
    ef_t g;
    recs_t rs;
    gre_over_ip(&g, 0x3001, 0x880b, pptp, 2, NULL);
    ef_put(&g, "\xff\x03\x00\xfd", 4); /* PPP: compressed data */
    ef_ipv4_end(&g, 14);
    run_one(&g, &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_uint_eq(rs.r[0].proto, 47);
    ck_assert_uint_eq(rs.r[0].orig_p, 0);
    ck_assert_uint_eq(rs.r[0].resp_p, 0);
    ck_assert_str_eq(rs.r[0].tunnel_parent, "");
    ck_assert_uint_eq(rs.r[0].ip_bytes[0], g.n - 14);
}
END_TEST

/* IP-in-IP: 4in4 (protocol 4), 6in4 (41) and 4in6 (next header 4). */
START_TEST(ip_in_ip_carriers)
{
    ef_t f;
    recs_t rs;
    ipip_frame(&f, 4, 4);
    run_one(&f, &rs);
    carrier_pair(&rs, 4, f.n - 14);
    ipip_frame(&f, 4, 6);
    run_one(&f, &rs);
    carrier_pair(&rs, 41, f.n - 14);
    ipip_frame(&f, 6, 4);
    run_one(&f, &rs);
    carrier_pair(&rs, 4, f.n - 14);
    ck_assert_uint_eq(find_proto(&rs, 4)->ip_ver, 6);
}
END_TEST

/* Every prefix of a GRE and an IP-in-IP frame: at most the two flows, and never a parent on
 * the carrier (a cut inner IP header leaves the carrier alone; a cut inner UDP header still
 * makes an inner flow, without ports, that names the carrier). */
START_TEST(cut_gre_and_ipip)
{
    static const uint32_t key_seq[] = {0x0000abcd, 7};
    ef_t g, i;
    gre_over_ip(&g, 0x3000, 0x0800, key_seq, 2, ef_inner4);
    ipip_frame(&i, 4, 6);
    const ef_t *fs[] = {&g, &i};
    for (int k = 0; k < 2; k++) {
        for (size_t len = 0; len <= fs[k]->n; len++) {
            ef_t *fc[] = {(ef_t *)fs[k]};
            size_t lc[] = {len};
            recs_t rs;
            run_frames(fc, lc, 1, &rs);
            ck_assert_int_le(rs.n, 2);
            for (int r = 0; r < rs.n; r++)
                if (rs.r[r].proto != 17) /* the carrier (the inner flow is UDP) */
                    ck_assert_str_eq(rs.r[r].tunnel_parent, "");
        }
    }
}
END_TEST

/* A carrier cut into IP fragments: the first one holds the tunnel and the inner packet, a
 * later one (no UDP header) is the carrier's too, found by its IP id. */
START_TEST(fragmented_carrier)
{
    ef_t a, b;
    size_t ip, udp;
    ef_outer_udp(&a, 4789, &ip, &udp);
    ef_be32(&a, 0x08000000u);
    ef_be32(&a, 9u << 8);
    ef_inner_eth4(&a);
    a.b[ip + 4] = 0x12; /* id 0x1234, more fragments, offset 0 */
    a.b[ip + 5] = 0x34;
    a.b[ip + 6] = 0x20;
    a.b[ip + 7] = 0;
    ef_close_udp(&a, ip, udp);
    b.n = 0;
    ef_eth(&b, 0x0800);
    size_t bip = ef_ipv4(&b, 17);
    b.b[bip + 4] = 0x12; /* same id, offset 64, last fragment */
    b.b[bip + 5] = 0x34;
    b.b[bip + 6] = 0;
    b.b[bip + 7] = 8;
    ef_put(&b, "8 bytes.", 8);
    ef_ipv4_end(&b, bip);
    ef_t *frames[] = {&a, &b};
    size_t lens[] = {a.n, b.n};
    recs_t rs;
    run_frames(frames, lens, 2, &rs);
    const ns_flow_rec_t *outer, *inner;
    vxlan_pair(&rs, &outer, &inner);
    ck_assert_uint_eq(outer->pkts[0], 2);
    ck_assert_uint_eq(outer->ip_bytes[0], (a.n - 14) + (b.n - 14));
    ck_assert_uint_eq(inner->pkts[0], 1);
    ck_assert_str_eq(inner->tunnel_parent, outer->uid);
}
END_TEST

int
main(void)
{
    Suite *s = suite_create("tunnel_flows");
    TCase *tc = tcase_create("tunnels");
    tcase_add_test(tc, decode_keeps_the_carrier);
    tcase_add_test(tc, vxlan_inner_flow_names_its_parent);
    tcase_add_test(tc, geneve_first_parent_kept);
    tcase_add_test(tc, invalid_or_cut_tunnel_is_carrier_only);
    tcase_add_test(tc, gre_carrier_over_udp_and_ip);
    tcase_add_test(tc, gre_key_and_sequence);
    tcase_add_test(tc, gre_ethernet_inside);
    tcase_add_test(tc, pptp_gre_flow_only);
    tcase_add_test(tc, ip_in_ip_carriers);
    tcase_add_test(tc, cut_gre_and_ipip);
    tcase_add_test(tc, fragmented_carrier);
    suite_add_tcase(s, tc);
    return ns_test_run(s);
}
