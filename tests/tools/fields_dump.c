/* fields_dump.c - the native field list of every packet of a capture, the wasm test's reference.
 *
 * Usage: fields_dump FILE. Reads FILE (pcap or pcapng, through the capture module), decodes each
 * frame with ns_decode_frame() into a field list with the WebAssembly API's capacities, and
 * prints one JSON object per packet:
 *
 *   {"n":1,"linktype":1,"cap_len":60,"wire_len":60,"fnv":"811c9dc5","outcome":"ok",
 *    "layer":"eth","truncated":0,"fields":[["eth",0,14,0,"proto",""],["eth.dst",0,6,1,"mac",
 *    "00:11:22:33:44:55"],...]}
 *
 * fnv is FNV-1a (32-bit) over the captured bytes, so the test knows it fed the module the same
 * frame. Field values come from ns_field_text() (printable ASCII, so only `"` and `\` need
 * escaping). This is deliberately not wasm_api.c compiled natively: it is the path `netscope
 * print --json` takes, written independently of the exported layer it checks. Exit 1 when the
 * file cannot be opened or a read fails (after printing the packets read), 2 on usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/capture.h"
#include "netscope/decode.h"
#include "netscope/wasm_api.h"

static void
put_json_ascii(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            putchar('\\');
        putchar(s[i]);
    }
    putchar('"');
}

static uint32_t
fnv1a(const uint8_t *p, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: fields_dump FILE\n");
        return 2;
    }
    char err[512];
    ns_capture_opts_t opts = {.file = argv[1]};
    ns_capture_t *cap = ns_capture_open(&opts, err, sizeof(err));
    if (cap == NULL) {
        fprintf(stderr, "fields_dump: %s\n", err);
        return 1;
    }
    uint32_t linktype = ns_capture_linktype(cap);
    ns_field_t *fv = calloc(NS_WASM_FIELDS_MAX, sizeof(*fv));
    char *arena = malloc(NS_WASM_ARENA_MAX);
    ns_pkt_t *pkt = calloc(1, sizeof(*pkt));
    static char text[NS_FIELD_TEXT_MAX];
    int status = 0;
    if (fv == NULL || arena == NULL || pkt == NULL) {
        fprintf(stderr, "fields_dump: out of memory\n");
        status = 1;
        goto out;
    }
    ns_fields_t fields;
    ns_fields_init(&fields, fv, NS_WASM_FIELDS_MAX, arena, NS_WASM_ARENA_MAX);
    uint64_t n = 0;
    for (;;) {
        ns_frame_t fr;
        int got = ns_capture_next(cap, &fr);
        if (got == NS_CAPTURE_END)
            break;
        if (got == NS_CAPTURE_ERROR) {
            fprintf(stderr, "fields_dump: %s\n", ns_capture_error(cap));
            status = 1;
            break;
        }
        if (got != NS_CAPTURE_FRAME)
            continue;
        n++;
        ns_fields_reset(&fields);
        ns_decode_frame(linktype, fr.data, fr.cap_len, fr.wire_len, pkt, &fields, NULL);
        printf("{\"n\":%llu,\"linktype\":%u,\"cap_len\":%u,\"wire_len\":%u,\"fnv\":\"%08x\","
               "\"outcome\":\"%s\",\"layer\":\"%s\",\"truncated\":%d,\"fields\":[",
               (unsigned long long)n, linktype, fr.cap_len, fr.wire_len, fnv1a(fr.data, fr.cap_len),
               ns_parse_rc_name((ns_parse_rc_t)pkt->err_rc),
               ns_layer_name((ns_layer_t)pkt->err_layer), fields.truncated ? 1 : 0);
        for (uint32_t i = 0; i < fields.n; i++) {
            const ns_field_t *x = &fields.v[i];
            size_t tl = ns_field_text(x, fr.data, fr.cap_len, text, sizeof(text));
            printf("%s[", i ? "," : "");
            put_json_ascii(x->name, strlen(x->name));
            printf(",%u,%u,%u,\"%s\",", x->off, x->len, x->depth, ns_field_type_name(x->type));
            put_json_ascii(text, tl);
            putchar(']');
        }
        fputs("]}\n", stdout);
    }
    if (ns_capture_warning(cap))
        fprintf(stderr, "fields_dump: warning: %s ends early (%s)\n", argv[1],
                ns_capture_warning(cap));
out:
    free(pkt);
    free(arena);
    free(fv);
    ns_capture_destroy(&cap);
    return status;
}
