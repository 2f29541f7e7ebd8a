/* wasm_api.c - the exported layer of netscope_decode.wasm (contracts in wasm_api.h).
 *
 * A thin shell over ns_decode_frame() and ns_field_text(): it owns the module's only state (the
 * frame buffer, the field list and its text arena, one packet, one text buffer), all static, so
 * the module needs no allocator. Each accessor is a bounds check and a load; nothing here
 * decodes or formats on its own, so the browser sees exactly the native field list.
 *
 * The statics are this file's deliberate exception to "no globals written" in the decoders: a
 * WebAssembly instance is one single-threaded object, and its exports can only take integers.
 */
#include "netscope/wasm_api.h"

#include "netscope/decode.h"

/* In the wasm build every function below is an export under its own name; natively they are
 * ordinary functions of libnetscope_decode. */
#if defined(__wasm__)
#define NS_WASM_EXPORT(name) __attribute__((export_name(#name))) name
#else
#define NS_WASM_EXPORT(name) name
#endif

static uint8_t g_frame[NS_WASM_FRAME_MAX];
static ns_field_t g_field[NS_WASM_FIELDS_MAX];
static char g_arena[NS_WASM_ARENA_MAX];
static char g_text[NS_FIELD_TEXT_MAX];
static ns_fields_t g_fields;
static ns_pkt_t g_pkt;
static uint32_t g_cap_len;

uint32_t
NS_WASM_EXPORT(ns_wasm_abi_version)(void)
{
    return NS_WASM_ABI_VERSION;
}

uint8_t *
NS_WASM_EXPORT(ns_wasm_buf)(uint32_t size)
{
    return size <= NS_WASM_FRAME_MAX ? g_frame : NULL;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_buf_cap)(void)
{
    return NS_WASM_FRAME_MAX;
}

int32_t
NS_WASM_EXPORT(ns_wasm_decode)(uint32_t linktype, uint32_t cap_len, uint32_t wire_len)
{
    ns_fields_init(&g_fields, g_field, NS_WASM_FIELDS_MAX, g_arena, NS_WASM_ARENA_MAX);
    g_pkt.err_rc = NS_PARSE_OK;
    g_pkt.err_layer = 0;
    g_cap_len = 0;
    if (cap_len > NS_WASM_FRAME_MAX)
        return -1;
    g_cap_len = cap_len;
    g_pkt.ts_ns = 0;
    ns_decode_frame(linktype, g_frame, cap_len, wire_len, &g_pkt, &g_fields, NULL);
    return (int32_t)g_fields.n;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_outcome)(void)
{
    return g_pkt.err_rc;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_err_layer)(void)
{
    return g_pkt.err_layer;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_fields_truncated)(void)
{
    return g_fields.truncated ? 1u : 0u;
}

/* ---------------------------------------------------------------- the field list */

uint32_t
NS_WASM_EXPORT(ns_wasm_field_count)(void)
{
    return g_fields.n;
}

static const ns_field_t *
field_at(uint32_t i)
{
    return i < g_fields.n ? &g_fields.v[i] : NULL;
}

const char *
NS_WASM_EXPORT(ns_wasm_field_name)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    return x ? x->name : NULL;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_field_off)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    return x ? x->off : 0;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_field_len)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    return x ? x->len : 0;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_field_depth)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    return x ? x->depth : 0;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_field_type)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    return x ? x->type : 0;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_field_text)(uint32_t i)
{
    const ns_field_t *x = field_at(i);
    if (x == NULL) {
        g_text[0] = '\0';
        return 0;
    }
    return (uint32_t)ns_field_text(x, g_frame, g_cap_len, g_text, sizeof(g_text));
}

const char *
NS_WASM_EXPORT(ns_wasm_text)(void)
{
    return g_text;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_text_cap)(void)
{
    return NS_FIELD_TEXT_MAX;
}

/* ---------------------------------------------------------------- names */

const char *
NS_WASM_EXPORT(ns_wasm_outcome_name)(uint32_t rc)
{
    return ns_parse_rc_name((ns_parse_rc_t)rc);
}

const char *
NS_WASM_EXPORT(ns_wasm_layer_name)(uint32_t layer)
{
    return ns_layer_name((ns_layer_t)layer);
}

const char *
NS_WASM_EXPORT(ns_wasm_type_name)(uint32_t type)
{
    return ns_field_type_name(type);
}

uint32_t
NS_WASM_EXPORT(ns_wasm_outcome_count)(void)
{
    return NS_PARSE_RC_COUNT;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_layer_count)(void)
{
    return NS_LAYER_COUNT;
}

uint32_t
NS_WASM_EXPORT(ns_wasm_type_count)(void)
{
    return NS_FT_COUNT;
}
