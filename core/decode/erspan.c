/* erspan.c - ERSPAN, Cisco's Encapsulated Remote SPAN, carried in GRE.
 *
 * Spec: draft-foschiano-erspan-03. The GRE protocol type says which header follows:
 *
 *   Type I   (0x88BE, GRE without a sequence number): no ERSPAN header, the mirrored
 *            Ethernet frame follows GRE directly (gre.c hands it straight on).
 *   Type II  (0x88BE, GRE with a sequence number), 8 bytes:
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Ver  |          VLAN         | COS | En|T|    Session ID     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |      Reserved         |                  Index                |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 *   Type III (0x22EB), 12 bytes, and 8 more of platform-specific subheader when O is set:
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Ver  |          VLAN         | COS |BSO|T|    Session ID     |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                          Timestamp                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |             SGT               |P|    FT   |   Hw ID   |D|Gra|O|
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * The version field must match the type (1 for II, 2 for III): otherwise INVALID. A type III
 * frame type (FT) other than 0 (Ethernet) is UNSUPPORTED.
 */
#include "decode_int.h"

#define ERSPAN_II_VER 1u
#define ERSPAN_III_VER 2u
#define ERSPAN_III_O 0x0001u /* platform-specific subheader present */
#define ERSPAN_PLATFORM_LEN 8u

/* The first word, common to types II and III; returns the version. */
static uint32_t
erspan_word0(ns_cur_t *c, ns_fields_t *f, uint32_t start)
{
    uint32_t w = ns_cur_be32(c);
    if (ns_cur_ok(c)) {
        ns_field_uint(f, "erspan.version", start, 2, w >> 28);
        ns_field_uint(f, "erspan.vlan", start, 2, (w >> 16) & 0xfffu);
        ns_field_uint(f, "erspan.cos", start + 2, 2, (w >> 13) & 0x7u);
        ns_field_uint(f, "erspan.spanid", start + 2, 2, w & 0x3ffu);
    }
    return w >> 28;
}

ns_parse_rc_t
ns_decode_erspan2(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "erspan", start);
    uint32_t ver = erspan_word0(c, d->f, start);
    uint32_t index = ns_cur_be32(c) & 0xfffffu;
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    ns_field_uint(d->f, "erspan.index", start + 4, 4, index);
    if (ver != ERSPAN_II_VER)
        return NS_PARSE_INVALID;
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_erspan3(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "erspan", start);
    uint32_t ver = erspan_word0(c, d->f, start);
    uint32_t ts = ns_cur_be32(c);
    uint16_t sgt = ns_cur_be16(c);
    uint16_t bits = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "erspan.timestamp", start + 4, 4, ts);
    ns_field_uint(d->f, "erspan.sgt", start + 8, 2, sgt);
    ns_field_uint(d->f, "erspan.ft", start + 10, 2, (bits >> 10) & 0x1fu);
    ns_field_bool(d->f, "erspan.o", start + 10, 2, (bits & ERSPAN_III_O) != 0);
    if (bits & ERSPAN_III_O)
        ns_cur_skip(c, ERSPAN_PLATFORM_LEN);
    ns_field_close(d->f, node, c->off);
    if (ver != ERSPAN_III_VER)
        return NS_PARSE_INVALID;
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    if (((bits >> 10) & 0x1fu) != 0)
        return NS_PARSE_UNSUPPORTED; /* not an Ethernet frame (e.g. FT 2, IP) */
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}
