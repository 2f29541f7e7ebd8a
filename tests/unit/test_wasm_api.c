/* test_wasm_api.c - unit tests for the WebAssembly API (core/decode/wasm_api.c), built natively.
 *
 * The module's exports are ordinary functions here; the field list they hand out must be the
 * one ns_decode_frame() builds for the same frame, with the values ns_field_text() writes.
 */
#include "testutil.h"
#include "runner.h"
#include "frame_dns.h"

#include "netscope/wasm_api.h"

/* ---- fixtures --------------------------------------------------------------------------- */

/* Copy `n` bytes of `bytes` into the module's buffer and decode them as Ethernet. */
static int32_t
wasm_decode(const uint8_t *bytes, uint32_t n, uint32_t wire_len)
{
    uint8_t *p = ns_wasm_buf(n);
    ck_assert_ptr_nonnull(p);
    memcpy(p, bytes, n);
    return ns_wasm_decode(NS_LINKTYPE_ETHERNET, n, wire_len);
}

/* Index of the first field called `name`, or -1. */
static int32_t
wasm_find(const char *name)
{
    for (uint32_t i = 0; i < ns_wasm_field_count(); i++)
        if (strcmp(ns_wasm_field_name(i), name) == 0)
            return (int32_t)i;
    return -1;
}

static const char *
wasm_text(const char *name)
{
    int32_t i = wasm_find(name);
    ck_assert_msg(i >= 0, "field %s missing", name);
    uint32_t n = ns_wasm_field_text((uint32_t)i);
    ck_assert_uint_eq(n, strlen(ns_wasm_text()));
    return ns_wasm_text();
}

/* ---- valid ------------------------------------------------------------------------------ */

START_TEST(decodes_a_frame)
{
    int32_t n = wasm_decode(frame_dns, sizeof(frame_dns), sizeof(frame_dns));
    ck_assert_int_gt(n, 10);
    ck_assert_uint_eq(ns_wasm_field_count(), (uint32_t)n);
    ck_assert_uint_eq(ns_wasm_outcome(), NS_PARSE_OK);
    ck_assert_uint_eq(ns_wasm_fields_truncated(), 0);
    ck_assert_str_eq(ns_wasm_field_name(0), "eth");
    ck_assert_uint_eq(ns_wasm_field_off(0), 0);
    ck_assert_uint_eq(ns_wasm_field_len(0), 14);
    ck_assert_uint_eq(ns_wasm_field_depth(0), 0);
    ck_assert_uint_eq(ns_wasm_field_type(0), NS_FT_PROTO);
    ck_assert_uint_eq(ns_wasm_field_text(0), 0);
    ck_assert_str_eq(wasm_text("eth.src"), "66:77:88:99:aa:bb");
    ck_assert_str_eq(wasm_text("ip.src"), "10.0.0.1");
    ck_assert_str_eq(wasm_text("ip.dst"), "10.0.0.53");
    ck_assert_str_eq(wasm_text("ip.ttl"), "64");
    ck_assert_str_eq(wasm_text("udp.dstport"), "53");
    ck_assert_str_eq(wasm_text("dns.qry.name"), "example.com");
    int32_t ip = wasm_find("ip");
    ck_assert_uint_eq(ns_wasm_field_off((uint32_t)ip), 14);
    ck_assert_uint_eq(ns_wasm_field_depth((uint32_t)wasm_find("ip.src")), 1);
    ck_assert_uint_eq(ns_wasm_field_off((uint32_t)wasm_find("ip.src")), 26);
    ck_assert_uint_eq(ns_wasm_field_len((uint32_t)wasm_find("ip.src")), 4);
}
END_TEST

/* The API hands out exactly the native field list (independent path: ns_decode_frame over a
 * heap copy, values through ns_field_text). */
START_TEST(same_list_as_native)
{
    int32_t n = wasm_decode(frame_dns, sizeof(frame_dns), sizeof(frame_dns));
    tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_dns, sizeof(frame_dns));
    ck_assert_uint_eq((uint32_t)n, r->f.n);
    char text[NS_FIELD_TEXT_MAX];
    for (uint32_t i = 0; i < r->f.n; i++) {
        const ns_field_t *x = &r->f.v[i];
        ck_assert_str_eq(ns_wasm_field_name(i), x->name);
        ck_assert_uint_eq(ns_wasm_field_off(i), x->off);
        ck_assert_uint_eq(ns_wasm_field_len(i), x->len);
        ck_assert_uint_eq(ns_wasm_field_depth(i), x->depth);
        ck_assert_uint_eq(ns_wasm_field_type(i), x->type);
        ns_field_text(x, r->f.buf, sizeof(frame_dns), text, sizeof(text));
        ns_wasm_field_text(i);
        ck_assert_str_eq(ns_wasm_text(), text);
    }
    tu_free(r);
}
END_TEST

START_TEST(names_and_sizes)
{
    ck_assert_uint_eq(ns_wasm_abi_version(), NS_WASM_ABI_VERSION);
    ck_assert_uint_eq(ns_wasm_buf_cap(), NS_WASM_FRAME_MAX);
    ck_assert_uint_eq(ns_wasm_text_cap(), NS_FIELD_TEXT_MAX);
    ck_assert_str_eq(ns_wasm_outcome_name(NS_PARSE_OK), "ok");
    ck_assert_str_eq(ns_wasm_outcome_name(NS_PARSE_UNSUPPORTED), "unsupported");
    ck_assert_str_eq(ns_wasm_outcome_name(ns_wasm_outcome_count()), "?");
    ck_assert_str_eq(ns_wasm_layer_name(NS_LAYER_ETH), "eth");
    ck_assert_str_eq(ns_wasm_layer_name(NS_LAYER_TCP), "tcp");
    ck_assert_str_eq(ns_wasm_layer_name(ns_wasm_layer_count()), "frame");
    ck_assert_str_eq(ns_wasm_type_name(NS_FT_MAC), "mac");
    ck_assert_str_eq(ns_wasm_type_name(ns_wasm_type_count()), "?");
    ck_assert_uint_eq(ns_wasm_outcome_count(), NS_PARSE_RC_COUNT);
    ck_assert_uint_eq(ns_wasm_layer_count(), NS_LAYER_COUNT);
    ck_assert_uint_eq(ns_wasm_type_count(), NS_FT_COUNT);
}
END_TEST

/* ---- truncated -------------------------------------------------------------------------- */

START_TEST(truncated_frame)
{
    /* The capture ends inside the IPv4 header. */
    int32_t n = wasm_decode(frame_dns, 20, sizeof(frame_dns));
    ck_assert_int_ge(n, 1);
    ck_assert_uint_eq(ns_wasm_outcome(), NS_PARSE_TRUNCATED);
    ck_assert_str_eq(ns_wasm_outcome_name(ns_wasm_outcome()), "truncated");
    ck_assert_str_eq(ns_wasm_layer_name(ns_wasm_err_layer()), "ip");
    for (uint32_t i = 0; i < (uint32_t)n; i++)
        ck_assert_uint_le(ns_wasm_field_off(i) + ns_wasm_field_len(i), 20);
}
END_TEST

START_TEST(every_prefix)
{
    for (uint32_t len = 0; len <= sizeof(frame_dns); len++) {
        int32_t n = wasm_decode(frame_dns, len, sizeof(frame_dns));
        tu_result_t *r = tu_decode(NS_LINKTYPE_ETHERNET, frame_dns, len);
        ck_assert_uint_eq((uint32_t)n, r->f.n);
        ck_assert_uint_eq(ns_wasm_outcome(), r->pkt.err_rc);
        if (r->pkt.err_rc != NS_PARSE_OK)
            ck_assert_uint_eq(ns_wasm_err_layer(), r->pkt.err_layer);
        for (uint32_t i = 0; i < (uint32_t)n; i++)
            ck_assert_uint_eq(ns_wasm_field_text(i), strlen(ns_wasm_text()));
        tu_free(r);
    }
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(bad_calls)
{
    ck_assert_ptr_null(ns_wasm_buf(NS_WASM_FRAME_MAX + 1));
    ck_assert_ptr_nonnull(ns_wasm_buf(NS_WASM_FRAME_MAX));
    ck_assert_ptr_eq(ns_wasm_buf(0), ns_wasm_buf(100));
    wasm_decode(frame_dns, sizeof(frame_dns), sizeof(frame_dns));
    ck_assert_int_eq(ns_wasm_decode(NS_LINKTYPE_ETHERNET, NS_WASM_FRAME_MAX + 1, 0), -1);
    ck_assert_uint_eq(ns_wasm_field_count(), 0); /* the previous list is gone */
    uint32_t past = 5;
    ck_assert_ptr_null(ns_wasm_field_name(past));
    ck_assert_uint_eq(ns_wasm_field_off(past), 0);
    ck_assert_uint_eq(ns_wasm_field_len(past), 0);
    ck_assert_uint_eq(ns_wasm_field_depth(past), 0);
    ck_assert_uint_eq(ns_wasm_field_type(past), 0);
    ck_assert_uint_eq(ns_wasm_field_text(past), 0);
    ck_assert_str_eq(ns_wasm_text(), "");
    /* An unknown link type is an outcome, not an error. */
    ck_assert_int_eq(ns_wasm_decode(147, 10, 10), 0);
    ck_assert_str_eq(ns_wasm_outcome_name(ns_wasm_outcome()), "unsupported");
}
END_TEST

static Suite *
wasm_api_suite(void)
{
    Suite *s = suite_create("wasm_api");
    TCase *valid = tcase_create("valid");
    tcase_add_test(valid, decodes_a_frame);
    tcase_add_test(valid, same_list_as_native);
    tcase_add_test(valid, names_and_sizes);
    suite_add_tcase(s, valid);
    TCase *trunc = tcase_create("truncated");
    tcase_add_test(trunc, truncated_frame);
    tcase_add_test(trunc, every_prefix);
    suite_add_tcase(s, trunc);
    TCase *inval = tcase_create("invalid");
    tcase_add_test(inval, bad_calls);
    suite_add_tcase(s, inval);
    return s;
}

NS_TEST_MAIN(wasm_api_suite)
