/* fuzz_frame.c - libFuzzer target for the frame decoder and the packet formatters.
 *
 * Input: one byte choosing the link type, then the frame. Each input is decoded twice (fast
 * path and with a protocol tree: the outcome must not differ), every field's value is written
 * as text (ns_field_text, what the WebAssembly API hands out), and the packet is formatted as
 * text and as JSON, so everything `netscope print` does with hostile bytes runs here.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/decode.h"
#include "pktfmt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint32_t linktypes[] = {
    NS_LINKTYPE_ETHERNET, NS_LINKTYPE_LINUX_SLL, NS_LINKTYPE_LINUX_SLL2, NS_LINKTYPE_NULL,
    NS_LINKTYPE_LOOP,     NS_LINKTYPE_RAW,       NS_LINKTYPE_IPV4,       NS_LINKTYPE_IPV6,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static ns_field_t fv[2048];
    static char arena[16384];
    if (size < 1 || size > 65536 + 1)
        return 0;
    uint32_t linktype = linktypes[data[0] % (sizeof(linktypes) / sizeof(linktypes[0]))];
    /* An exact-size copy, so a one-byte over-read is an ASan report. */
    size_t len = size - 1;
    uint8_t *frame = malloc(len ? len : 1);
    if (frame == NULL)
        return 0;
    memcpy(frame, data + 1, len);

    ns_pkt_t pkt;
    memset(&pkt, 0, sizeof(pkt));
    ns_parse_rc_t fast = ns_decode_frame(linktype, frame, (uint32_t)len, (uint32_t)len, &pkt,
                                         NULL, NULL);
    ns_fields_t fields;
    ns_fields_init(&fields, fv, 2048, arena, sizeof(arena));
    ns_decode_stats_t stats;
    memset(&stats, 0, sizeof(stats));
    ns_parse_rc_t full = ns_decode_frame(linktype, frame, (uint32_t)len, (uint32_t)len, &pkt,
                                         &fields, &stats);
    if (fast != full)
        abort(); /* the protocol tree must never change the outcome */
    for (uint32_t i = 0; i < fields.n; i++)
        if ((uint64_t)fields.v[i].off + fields.v[i].len > len && fields.v[i].type != NS_FT_STR)
            abort(); /* every field lies inside the captured bytes */
    /* Every value as the WebAssembly inspector gets it: printable ASCII, NUL-terminated. */
    static char text[NS_FIELD_TEXT_MAX];
    for (uint32_t i = 0; i < fields.n; i++) {
        size_t tl = ns_field_text(&fields.v[i], frame, (uint32_t)len, text, sizeof(text));
        if (tl >= sizeof(text) || text[tl] != '\0')
            abort();
        for (size_t k = 0; k < tl; k++)
            if (text[k] < 0x20 || text[k] > 0x7e)
                abort();
    }

    char line[NS_PKTFMT_LINE_MAX + 1];
    size_t n = ns_pktfmt_text(&pkt, frame, line);
    if (n > NS_PKTFMT_LINE_MAX)
        abort();
    json_t *j = ns_pktfmt_json(&pkt, &fields, 1);
    char *s = json_dumps(j, JSON_COMPACT);
    free(s);
    json_decref(j);
    free(frame);
    return 0;
}
