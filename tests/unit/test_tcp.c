/* test_tcp.c - unit tests for the TCP decoder (core/decode/tcp.c).
 *
 * Direct runs (testutil_l4.h) test the decoder on its own; frame runs go through
 * ns_decode_frame and need the Ethernet and IPv4 decoders.
 */
#include "testutil_l4.h"
#include "runner.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* SYN with MSS, SACK permitted, timestamps, NOP, window scale. */
static const uint8_t tcp_syn[] = {
    0xc0, 0x01, 0x00, 0x50,                         /* sport 49153, dport 80 */
    0x00, 0x00, 0x03, 0xe8,                         /* seq 1000 */
    0x00, 0x00, 0x00, 0x00,                         /* ack 0 */
    0xa0, 0x02, 0xfa, 0xf0,                         /* doff 10 (40 bytes), SYN, window 64240 */
    0x12, 0x34, 0x00, 0x00,                         /* checksum 0x1234, urgent pointer 0 */
    0x02, 0x04, 0x05, 0xb4,                         /* MSS 1460 */
    0x04, 0x02,                                     /* SACK permitted */
    0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, /* TS: tsval 100 */
    0x00, 0x00,                                     /*     tsecr 0 */
    0x01,                                           /* NOP */
    0x03, 0x03, 0x07,                               /* window scale 7 */
};

/* ACK with timestamps and two SACK blocks, then 4 payload bytes. */
static const uint8_t tcp_sack[] = {
    0x00, 0x50, 0xc0, 0x01,                         /* sport 80, dport 49153 */
    0x80, 0x00, 0x00, 0x01,                         /* seq 0x80000001 */
    0x00, 0x00, 0x03, 0xe9,                         /* ack 1001 */
    0xd0, 0x10, 0x01, 0x00,                         /* doff 13 (52 bytes), ACK, window 256 */
    0x00, 0x00, 0x00, 0x00,                         /* checksum, urgent pointer */
    0x01, 0x01,                                     /* NOP NOP */
    0x08, 0x0a, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, /* TS: tsval 256 */
    0x00, 0x64,                                     /*     tsecr 100 */
    0x01, 0x01,                                     /* NOP NOP */
    0x05, 0x12,                                     /* SACK, 2 blocks */
    0x00, 0x00, 0x07, 0xd0, 0x00, 0x00, 0x0b, 0xb8, /*   2000-3000 */
    0x00, 0x00, 0x0f, 0xa0, 0x00, 0x00, 0x13, 0x88, /*   4000-5000 */
    'd',  'a',  't',  'a',                          /* payload */
};

/* Ethernet + IPv4 + TCP carrying the start of an HTTP request. */
static const uint8_t frame_http[] = {
    0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth dst, src */
    0x08, 0x00,                                                             /* IPv4 */
    0x45, 0x00, 0x00, 0x43, 0x00, 0x01, 0x40, 0x00, /* IPv4, total length 67, DF */
    0x40, 0x06, 0x00, 0x00,                         /* TTL 64, TCP, checksum (unchecked) */
    0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* 10.0.0.1 -> 10.0.0.2 */
    0xc0, 0x01, 0x00, 0x50,                         /* TCP 49153 -> 80 */
    0x00, 0x00, 0x03, 0xe9, 0x00, 0x00, 0x00, 0x01, /* seq 1001, ack 1 */
    0x50, 0x18, 0x01, 0x00,                         /* doff 5, PSH|ACK, window 256 */
    0x00, 0x00, 0x00, 0x00,                         /* checksum, urgent pointer */
    'G',  'E',  'T',  ' ',  '/',  ' ',  'H',  'T',  'T',  'P',  '/',  '1',  '.',  '1',
    '\r', '\n', 'H',  'o',  's',  't',  ':',  ' ',  'a',  '\r', '\n', '\r', '\n', /* 27 bytes */
};

/* Ethernet + IPv4 + the SYN above. */
static uint8_t frame_syn[14 + 20 + sizeof(tcp_syn)];

static void
build_frame_syn(void)
{
    static const uint8_t hdr[] = {
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, /* eth */
        0x08, 0x00,                                                             /* IPv4 */
        0x45, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x40, 0x00, /* IPv4, total length 60, DF */
        0x40, 0x06, 0x00, 0x00,                         /* TTL 64, TCP */
        0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, /* 10.0.0.1 -> 10.0.0.2 */
    };
    memcpy(frame_syn, hdr, sizeof(hdr));
    memcpy(frame_syn + sizeof(hdr), tcp_syn, sizeof(tcp_syn));
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(syn_options)
{
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, tcp_syn, sizeof(tcp_syn));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.sport, 49153);
    ck_assert_uint_eq(r->pkt.dport, 80);
    ck_assert_uint_eq(r->pkt.seq, 1000);
    ck_assert_uint_eq(r->pkt.ack, 0);
    ck_assert_uint_eq(r->pkt.win, 64240);
    ck_assert_uint_eq(r->pkt.tcp_hlen, 40);
    ck_assert_uint_eq(r->pkt.tcp_flags, NS_TCP_SYN);
    ck_assert_uint_eq(r->pkt.tcp_opts,
                      NS_TCPOPT_MSS | NS_TCPOPT_SACK_PERM | NS_TCPOPT_TS | NS_TCPOPT_WSCALE);
    ck_assert_uint_eq(r->pkt.mss, 1460);
    ck_assert_uint_eq(r->pkt.wscale, 7);
    ck_assert_uint_eq(r->pkt.tsval, 100);
    ck_assert_uint_eq(r->pkt.tsecr, 0);
    ck_assert_uint_eq(r->pkt.sack_n, 0);
    ck_assert_uint_eq(r->pkt.l4_off, 0);
    ck_assert_uint_eq(r->pkt.payload_off, 40);
    ck_assert_uint_eq(r->pkt.payload_len, 0);
    ck_assert_uint_eq(r->pkt.payload_cap, 0);
    ck_assert_uint_eq(r->next, NS_NEXT_NONE); /* no payload: nothing for an application */
    /* The tree, as tshark names it. */
    ck_assert_uint_eq(tl4_uint(r, "tcp.srcport", 0), 49153);
    ck_assert_uint_eq(tl4_uint(r, "tcp.hdr_len", 0), 40);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags", 0), 0x002);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.syn", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.ack", 0), 0);
    ck_assert_uint_eq(tl4_uint(r, "tcp.window_size_value", 0), 64240);
    ck_assert_uint_eq(tl4_uint(r, "tcp.checksum", 0), 0x1234);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.mss_val", 0), 1460);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.sack_perm", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.wscale.shift", 0), 7);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.timestamp.tsval", 0), 100);
    ck_assert_uint_eq(tl4_uint(r, "tcp.len", 0), 0);
    const ns_field_t *mss = tl4_field(r, "tcp.options.mss_val", 0);
    ck_assert_uint_eq(mss->off, 22);
    ck_assert_uint_eq(mss->len, 2);
    ck_assert_uint_eq(r->f.v[0].type, NS_FT_PROTO);
    ck_assert_uint_eq(r->f.v[0].len, 40); /* the tcp node covers the header */
    tl4_free(r);
}
END_TEST

START_TEST(sack_and_payload)
{
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, tcp_sack, sizeof(tcp_sack));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.seq, 0x80000001u);
    ck_assert_uint_eq(r->pkt.ack, 1001);
    ck_assert_uint_eq(r->pkt.tcp_flags, NS_TCP_ACK);
    ck_assert_uint_eq(r->pkt.tcp_opts, NS_TCPOPT_TS | NS_TCPOPT_SACK);
    ck_assert_uint_eq(r->pkt.sack_n, 2);
    ck_assert_uint_eq(r->pkt.sack[0][0], 2000);
    ck_assert_uint_eq(r->pkt.sack[0][1], 3000);
    ck_assert_uint_eq(r->pkt.sack[1][0], 4000);
    ck_assert_uint_eq(r->pkt.sack[1][1], 5000);
    ck_assert_uint_eq(r->pkt.tsval, 256);
    ck_assert_uint_eq(r->pkt.tsecr, 100);
    ck_assert_uint_eq(r->pkt.payload_off, 52);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 4);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.sack_le", 1), 4000);
    ck_assert_uint_eq(tl4_uint(r, "tcp.options.sack_re", 1), 5000);
    ck_assert_uint_eq(tl4_uint(r, "tcp.len", 0), 4);
    ck_assert_uint_eq(r->next, NS_NEXT_APP);
    /* The cursor is left on the payload. */
    ck_assert_uint_eq(r->cur.off, 52);
    ck_assert_uint_eq(ns_cur_left(&r->cur), 4);
    tl4_free(r);
}
END_TEST

START_TEST(all_flags_and_ns)
{
    static const uint8_t hdr[] = {
        0x00, 0x01, 0x00, 0x02, /* ports 1 -> 2 */
        0x00, 0x00, 0x00, 0x00, /* seq */
        0x00, 0x00, 0x00, 0x00, /* ack */
        0x5f, 0xff, 0x00, 0x00, /* doff 5, reserved 111, NS, all eight flags */
        0xff, 0xff, 0x00, 0x07, /* checksum 0xffff, urgent pointer 7 */
    };
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, hdr, sizeof(hdr));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.tcp_flags, 0x1ff);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags", 0), 0xfff);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.res", 0), 7);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.ae", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.cwr", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.ece", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.flags.fin", 0), 1);
    ck_assert_uint_eq(tl4_uint(r, "tcp.urgent_pointer", 0), 7);
    tl4_free(r);
}
END_TEST

START_TEST(unknown_option_skipped)
{
    static const uint8_t hdr[] = {
        0x00, 0x01, 0x00, 0x02, 0x00, 0x00, 0x00, 0x01, /* ports, seq */
        0x00, 0x00, 0x00, 0x00, 0x70, 0x10, 0x00, 0x10, /* ack, doff 7, ACK, window */
        0x00, 0x00, 0x00, 0x00,                         /* checksum, urgent pointer */
        0x1e, 0x04, 0xaa, 0xbb,                         /* kind 30 (MPTCP), length 4 */
        0x02, 0x03, 0x00, 0x00,                         /* MSS with a bad length: skipped */
    };
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, hdr, sizeof(hdr));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.tcp_opts, 0);
    ck_assert_uint_eq(r->pkt.mss, 0);
    tl4_free(r);
}
END_TEST

/* A payload cut by the snaplen is OK at the TCP layer; payload_cap says how much is there. */
START_TEST(payload_cut_by_snaplen)
{
    tl4_result_t *r = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, tcp_sack, 54,
                                 sizeof(tcp_sack), true);
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 2);
    tl4_free(r);
}
END_TEST

START_TEST(fast_path_same_summary)
{
    tl4_result_t *a = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, tcp_sack,
                                 sizeof(tcp_sack), sizeof(tcp_sack), false);
    tl4_result_t *b = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, tcp_sack, sizeof(tcp_sack));
    ck_assert_int_eq(a->rc, b->rc);
    ck_assert_int_eq(memcmp(&a->pkt, &b->pkt, NS_PKT_HOT_SIZE), 0);
    ck_assert_uint_eq(a->f.n, 0);
    tl4_free(a);
    tl4_free(b);
}
END_TEST

START_TEST(frame_syn_ok)
{
    build_frame_syn();
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_syn, sizeof(frame_syn));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert(r->pkt.layers & NS_HAS(NS_LAYER_TCP));
    ck_assert_uint_eq(r->pkt.l4_off, 34);
    ck_assert_uint_eq(r->pkt.sport, 49153);
    ck_assert_uint_eq(r->pkt.mss, 1460);
    ck_assert_uint_eq(r->pkt.payload_len, 0);
    ck_assert_uint_eq(tu_uint(r, "tcp.options.timestamp.tsval"), 100);
    tu_free(r);
}
END_TEST

START_TEST(frame_http_payload)
{
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_http, sizeof(frame_http));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.payload_off, 54);
    ck_assert_uint_eq(r->pkt.payload_len, 27);
    ck_assert_uint_eq(r->pkt.payload_cap, 27);
    ck_assert_uint_eq(r->pkt.tcp_flags, NS_TCP_PSH | NS_TCP_ACK);
    ck_assert_uint_eq(r->pkt.app, NS_APP_HTTP);
    ck_assert(tu_str_is(r, "http.host", 0, "a"));
    tu_free(r);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncation_sweep_direct)
{
    /* Every prefix shorter than the 52-byte header is TRUNCATED (declared: the whole). */
    tl4_truncation_sweep(ns_decode_tcp, 4, NS_IPPROTO_TCP, tcp_sack, sizeof(tcp_sack), 52);
    for (size_t n = 0; n < 52; n++) {
        tl4_result_t *r = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, tcp_sack, n,
                                     sizeof(tcp_sack), true);
        ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
        tl4_free(r);
    }
}
END_TEST

START_TEST(truncation_sweep_frame)
{
    build_frame_syn();
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_syn, sizeof(frame_syn), sizeof(frame_syn));
    tu_truncation_sweep(NS_LINKTYPE_ETHERNET, frame_http, sizeof(frame_http), 54);
}
END_TEST

START_TEST(truncated_keeps_ports_and_length)
{
    /* Options cut by the capture: ports and flags are known, so is the payload length. */
    tl4_result_t *r = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, tcp_sack, 30,
                                 sizeof(tcp_sack), true);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    ck_assert_uint_eq(r->pkt.sport, 80);
    ck_assert_uint_eq(r->pkt.tcp_flags, NS_TCP_ACK);
    ck_assert_uint_eq(r->pkt.payload_len, 4);
    ck_assert_uint_eq(r->pkt.payload_cap, 0);
    ck_assert_uint_ne(r->next, NS_NEXT_APP);
    tl4_free(r);
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

static ns_parse_rc_t
run_rc(const uint8_t *b, size_t n)
{
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, b, n);
    ns_parse_rc_t rc = r->rc;
    tl4_result_t *r2 =
        tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, b, n, (uint32_t)n, false);
    ck_assert_int_eq(rc, r2->rc);
    tl4_free(r);
    tl4_free(r2);
    return rc;
}

START_TEST(data_offset_too_small)
{
    uint8_t b[sizeof(tcp_syn)];
    memcpy(b, tcp_syn, sizeof(b));
    b[12] = 0x40; /* doff 4 */
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

START_TEST(data_offset_past_segment)
{
    uint8_t b[sizeof(tcp_syn)];
    memcpy(b, tcp_syn, sizeof(b));
    b[12] = 0xf0; /* 60 bytes of header in a 40-byte segment */
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

START_TEST(segment_shorter_than_header)
{
    /* The IP layer declares 12 bytes: not a TCP segment at all. */
    tl4_result_t *r = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, 0, tcp_syn, 12, 12, true);
    ck_assert_int_eq(r->rc, NS_PARSE_INVALID);
    tl4_free(r);
    /* ...unless it is a first fragment, which the next fragment completes. */
    r = tl4_run_ex(ns_decode_tcp, 4, NS_IPPROTO_TCP, NS_IP_FRAG | NS_IP_MF, tcp_syn, 12, 12,
                   true);
    ck_assert_int_eq(r->rc, NS_PARSE_TRUNCATED);
    tl4_free(r);
}
END_TEST

START_TEST(option_length_below_two)
{
    uint8_t b[sizeof(tcp_syn)];
    memcpy(b, tcp_syn, sizeof(b));
    b[21] = 1; /* MSS length 1 */
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
    b[21] = 0;
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

START_TEST(option_overruns_header)
{
    uint8_t b[sizeof(tcp_syn)];
    memcpy(b, tcp_syn, sizeof(b));
    b[38] = 0x05; /* window scale length 5: two bytes past the header */
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
    memcpy(b, tcp_syn, sizeof(b));
    b[36] = 0x01, b[37] = 0x01, b[38] = 0x01, b[39] = 0x02; /* NOPs, then a kind alone */
    ck_assert_int_eq(run_rc(b, sizeof(b)), NS_PARSE_INVALID);
}
END_TEST

START_TEST(eol_stops_options)
{
    uint8_t b[sizeof(tcp_syn)];
    memcpy(b, tcp_syn, sizeof(b));
    b[24] = 0x00; /* EOL where SACK permitted was: what follows is padding */
    tl4_result_t *r = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, b, sizeof(b));
    ck_assert_int_eq(r->rc, NS_PARSE_OK);
    ck_assert_uint_eq(r->pkt.tcp_opts, NS_TCPOPT_MSS);
    tl4_free(r);
}
END_TEST

/* The option walk takes stacks' 32-bit option groups whole (option_word in tcp.c) and
 * anything else a byte at a time. Four leading NOPs form no such group, so the same options
 * behind them go the byte way: both must give the same summary and the same fields (their
 * offsets shifted by the four NOPs). */
static void
check_layout(const uint8_t *opts, size_t olen)
{
    uint8_t a[20 + 40] = {0}, b[20 + 40] = {0};
    ck_assert_uint_le(olen + 4, 40);
    ck_assert_uint_eq(olen % 4, 0);
    memcpy(a, tcp_syn, 20);
    memcpy(b, tcp_syn, 20);
    a[12] = (uint8_t)(((20 + olen) / 4) << 4);
    b[12] = (uint8_t)(((20 + olen + 4) / 4) << 4);
    memcpy(a + 20, opts, olen);
    memset(b + 20, 0x01, 4);
    memcpy(b + 24, opts, olen);
    tl4_result_t *ra = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, a, 20 + olen);
    tl4_result_t *rb = tl4_run(ns_decode_tcp, NS_IPPROTO_TCP, b, 20 + olen + 4);
    ck_assert_int_eq(ra->rc, NS_PARSE_OK);
    ck_assert_int_eq(rb->rc, NS_PARSE_OK);
    ck_assert_uint_eq(ra->pkt.tcp_opts, rb->pkt.tcp_opts);
    ck_assert_uint_eq(ra->pkt.mss, rb->pkt.mss);
    ck_assert_uint_eq(ra->pkt.wscale, rb->pkt.wscale);
    ck_assert_uint_eq(ra->pkt.tsval, rb->pkt.tsval);
    ck_assert_uint_eq(ra->pkt.tsecr, rb->pkt.tsecr);
    ck_assert_uint_eq(ra->f.n, rb->f.n);
    for (uint32_t i = 0; i < ra->f.n; i++) {
        const ns_field_t *x = &ra->f.v[i], *y = &rb->f.v[i];
        ck_assert_str_eq(x->name, y->name);
        if (strncmp(x->name, "tcp.options.", 12) != 0)
            continue;
        ck_assert_uint_eq(x->off + 4, y->off);
        ck_assert_uint_eq(x->len, y->len);
        ck_assert_uint_eq(x->u, y->u);
    }
    tl4_free(ra);
    tl4_free(rb);
}

START_TEST(option_groups_match_byte_walk)
{
    static const uint8_t linux_syn[] = {0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a,
                                        0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00,
                                        0x01, 0x03, 0x03, 0x07};
    static const uint8_t windows_syn[] = {0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x08,
                                          0x01, 0x01, 0x04, 0x02};
    static const uint8_t ts_only[] = {0x01, 0x01, 0x08, 0x0a, 0x12, 0x34, 0x56, 0x78,
                                      0x9a, 0xbc, 0xde, 0xf0};
    /* A group, then bytes that are none (window scale first, EOL padding). */
    static const uint8_t mixed[] = {0x02, 0x04, 0x21, 0x00, 0x03, 0x03, 0x0e, 0x01,
                                    0x01, 0x01, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x09,
                                    0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00};
    check_layout(linux_syn, sizeof(linux_syn));
    check_layout(windows_syn, sizeof(windows_syn));
    check_layout(ts_only, sizeof(ts_only));
    check_layout(mixed, sizeof(mixed));
}
END_TEST

static Suite *
tcp_suite(void)
{
    Suite *s = suite_create("tcp");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, syn_options);
    tcase_add_test(tc, option_groups_match_byte_walk);
    tcase_add_test(tc, sack_and_payload);
    tcase_add_test(tc, all_flags_and_ns);
    tcase_add_test(tc, unknown_option_skipped);
    tcase_add_test(tc, payload_cut_by_snaplen);
    tcase_add_test(tc, fast_path_same_summary);
    tcase_add_test(tc, eol_stops_options);
    tcase_add_test(tc, frame_syn_ok);
    tcase_add_test(tc, frame_http_payload);
    suite_add_tcase(s, tc);
    tc = tcase_create("truncated");
    tcase_add_test(tc, truncation_sweep_direct);
    tcase_add_test(tc, truncation_sweep_frame);
    tcase_add_test(tc, truncated_keeps_ports_and_length);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, data_offset_too_small);
    tcase_add_test(tc, data_offset_past_segment);
    tcase_add_test(tc, segment_shorter_than_header);
    tcase_add_test(tc, option_length_below_two);
    tcase_add_test(tc, option_overruns_header);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(tcp_suite)
