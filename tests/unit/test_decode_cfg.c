/* test_decode_cfg.c - the decoder's configuration (ns_decode_frame_cfg, dispatch.c): VXLAN and
 * Geneve on the UDP ports a configuration declares, and the registered ports under a changed
 * configuration (one port per protocol: the declared one replaces the registered one).
 *
 * Frames are built by encapframe.h: Ethernet, IPv4 10.0.0.1 -> 10.0.0.2, UDP 49152 -> the
 * port under test, the tunnel header, then an inner Ethernet frame with IPv4 192.0.2.1:1234 ->
 * 198.51.100.2:5678 ("ping").
 */
#include "encapframe.h"
#include "runner.h"
#include "testutil.h"

/* VXLAN (I flag, VNI 77) to UDP `port`, carrying ef_inner_eth4(). */
static void
vxlan_on(ef_t *f, uint16_t port)
{
    size_t ip, udp;
    ef_outer_udp(f, port, &ip, &udp);
    ef_be32(f, 0x08000000u); /* flags: I */
    ef_be32(f, 77u << 8);    /* VNI, reserved */
    ef_inner_eth4(f);
    ef_close_udp(f, ip, udp);
}

/* Geneve version 0 without options, Ethernet inside (0x6558), VNI 0x42, to UDP `port`. */
static void
geneve_on(ef_t *f, uint16_t port)
{
    size_t ip, udp;
    ef_outer_udp(f, port, &ip, &udp);
    ef_be16(f, 0x0000);
    ef_be16(f, 0x6558);
    ef_be32(f, 0x42u << 8);
    ef_inner_eth4(f);
    ef_close_udp(f, ip, udp);
}

/* The frame decoded as plain UDP to `port`: the outer addresses stay, nothing inside. */
static void
assert_plain_udp(const tu_result_t *r, uint16_t port)
{
    static const uint8_t outer_src[4] = {10, 0, 0, 1};
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(!(r->pkt.layers & (NS_HAS(NS_LAYER_VXLAN) | NS_HAS(NS_LAYER_GENEVE))));
    ck_assert_mem_eq(r->pkt.src.b, outer_src, 4);
    ck_assert_uint_eq(r->pkt.dport, port);
    ck_assert_uint_eq(r->pkt.encap, 0);
    ck_assert_uint_eq(r->pkt.tun_n, 0);
}

/* Build with `build` to `port`, decode with `cfg`: the tunnel `layer` is opened, the inner
 * packet is in the summary and the carrier kept. The caller frees the result. */
static tu_result_t *
decode_tunnel(void (*build)(ef_t *, uint16_t), uint16_t port, const ns_decode_cfg_t *cfg,
              ns_layer_t layer)
{
    ef_t f;
    build(&f, port);
    tu_result_t *r = tu_decode_cfg(cfg, NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(layer));
    ef_assert_inner4(&r->pkt);
    ck_assert_uint_eq(r->pkt.tun_n, 1);
    ck_assert_uint_eq(r->pkt.tun.dport, port);
    ck_assert_uint_eq(r->pkt.tun.layer, layer);
    return r;
}

START_TEST(tunnels_on_declared_ports)
{
    ns_decode_cfg_t cfg = {.vxlan_port = 8472, /* Linux's old default */ .geneve_port = 6090};
    tu_result_t *r = decode_tunnel(vxlan_on, 8472, &cfg, NS_LAYER_VXLAN);
    ck_assert_uint_eq(tu_uint(r, "vxlan.vni"), 77);
    tu_free(r);
    r = decode_tunnel(geneve_on, 6090, &cfg, NS_LAYER_GENEVE);
    ck_assert_uint_eq(tu_uint(r, "geneve.vni"), 0x42);
    tu_free(r);
}
END_TEST

/* Either side of the connection: the declared port is the source of a reply. */
START_TEST(declared_port_as_source)
{
    ns_decode_cfg_t cfg = NS_DECODE_CFG_DEFAULT;
    cfg.vxlan_port = 8472;
    ef_t f;
    vxlan_on(&f, 9999);
    ef_set16(&f, 34, 8472); /* UDP source port (Ethernet 14 + IPv4 20) */
    tu_result_t *r = tu_decode_cfg(&cfg, NS_LINKTYPE_ETHERNET, f.b, f.n);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_VXLAN));
    ef_assert_inner4(&r->pkt);
    tu_free(r);
}
END_TEST

/* The plain entry point and a NULL configuration keep the registered ports. */
START_TEST(defaults_without_config)
{
    tu_free(decode_tunnel(vxlan_on, NS_VXLAN_PORT, NULL, NS_LAYER_VXLAN));
    tu_free(decode_tunnel(geneve_on, NS_GENEVE_PORT, NULL, NS_LAYER_GENEVE));
    ef_t f;
    vxlan_on(&f, 8472);
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, f.b, f.n);
    assert_plain_udp(r, 8472);
    tu_free(r);
}
END_TEST

START_TEST(registered_ports_replaced)
{
    ns_decode_cfg_t cfg = {.vxlan_port = 8472, .geneve_port = 6090};
    ef_t f;
    vxlan_on(&f, NS_VXLAN_PORT);
    tu_result_t *r = tu_decode_cfg(&cfg, NS_LINKTYPE_ETHERNET, f.b, f.n);
    assert_plain_udp(r, NS_VXLAN_PORT);
    tu_free(r);
    geneve_on(&f, NS_GENEVE_PORT);
    r = tu_decode_cfg(&cfg, NS_LINKTYPE_ETHERNET, f.b, f.n);
    assert_plain_udp(r, NS_GENEVE_PORT);
    tu_free(r);
}
END_TEST

/* Ports are per protocol: Geneve's declared port does not make a VXLAN header Geneve. */
START_TEST(ports_are_per_protocol)
{
    ns_decode_cfg_t cfg = {.vxlan_port = 8472, .geneve_port = 6090};
    ef_t f;
    geneve_on(&f, 8472);
    tu_result_t *r = tu_decode_cfg(&cfg, NS_LINKTYPE_ETHERNET, f.b, f.n);
    /* Decoded as VXLAN, whose I flag is clear in a Geneve header: INVALID, not Geneve. */
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_VXLAN));
    ck_assert(!(r->pkt.layers & NS_HAS(NS_LAYER_GENEVE)));
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VXLAN);
    tu_free(r);
}
END_TEST

START_TEST(truncation_sweep_on_declared_port)
{
    ns_decode_cfg_t cfg = {.vxlan_port = 8472, .geneve_port = 6090};
    ef_t f;
    vxlan_on(&f, 8472);
    for (size_t n = 43; n < 42 + 8; n++) { /* the VXLAN header cut (42: no payload) */
        tu_result_t *r = tu_decode_cfg(&cfg, NS_LINKTYPE_ETHERNET, f.b, n);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        ck_assert_int_eq(r->pkt.err_layer, NS_LAYER_VXLAN);
        tu_free(r);
    }
}
END_TEST

static Suite *
decode_cfg_suite(void)
{
    Suite *s = suite_create("decode_cfg");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, tunnels_on_declared_ports);
    tcase_add_test(tc, declared_port_as_source);
    tcase_add_test(tc, defaults_without_config);
    tcase_add_test(tc, registered_ports_replaced);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, ports_are_per_protocol);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep_on_declared_port);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(decode_cfg_suite)
