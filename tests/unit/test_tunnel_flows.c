/* test_tunnel_flows.c - tunnelled traffic as Zeek's conn.log has it: the UDP connection that
 * carries a tunnel is a flow, the inner connection is another whose tunnel parent is the
 * carrier's uid. Built frames (VXLAN, Geneve, GRE in UDP and over IP), decoded, then run through
 * the flow engine; invalid and truncated tunnels make the carrier flow only. */
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

/* GRE in UDP (4754) has a UDP carrier; GRE straight over IP (protocol 47) has none: its inner
 * flow is the only one, without a parent. */
START_TEST(gre_carrier_only_over_udp)
{
    ef_t u, g;
    size_t ip, udp;
    ef_outer_udp(&u, 4754, &ip, &udp);
    ef_be32(&u, 0x00000800u); /* no flags, version 0, IPv4 */
    ef_inner4(&u);
    ef_close_udp(&u, ip, udp);
    g.n = 0;
    ef_eth(&g, 0x0800);
    size_t gip = ef_ipv4(&g, 47);
    ef_be32(&g, 0x00000800u);
    ef_inner4(&g);
    ef_ipv4_end(&g, gip);

    ns_pkt_t *p = calloc(1, sizeof(*p));
    ck_assert_ptr_nonnull(p);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, u.b, (uint32_t)u.n, (uint32_t)u.n, p, NULL, NULL);
    ef_assert_inner4(p);
    ck_assert_uint_eq(p->tun_n, 1);
    ck_assert_uint_eq(p->tun.layer, NS_LAYER_GRE);
    (void)ns_decode_frame(NS_LINKTYPE_ETHERNET, g.b, (uint32_t)g.n, (uint32_t)g.n, p, NULL, NULL);
    ef_assert_inner4(p);
    ck_assert_uint_eq(p->tun_n, 0);
    free(p);

    ef_t *frames[] = {&u, &g};
    size_t lens[] = {u.n, g.n};
    recs_t rs;
    run_frames(frames, lens, 1, &rs);
    ck_assert_int_eq(rs.n, 2);
    ck_assert_str_eq(find_port(&rs, 5678)->tunnel_parent, find_port(&rs, 4754)->uid);
    run_frames(frames + 1, lens + 1, 1, &rs);
    ck_assert_int_eq(rs.n, 1);
    ck_assert_uint_eq(rs.r[0].resp_p, 5678);
    ck_assert_str_eq(rs.r[0].tunnel_parent, "");
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
    tcase_add_test(tc, gre_carrier_only_over_udp);
    tcase_add_test(tc, fragmented_carrier);
    suite_add_tcase(s, tc);
    return ns_test_run(s);
}
