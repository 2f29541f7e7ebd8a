/* teredo.c - Teredo, IPv6 over UDP through NATs (UDP 3544).
 *
 * Spec: RFC 4380 section 5.1.1. The UDP payload is an IPv6 packet, optionally preceded by an
 * authentication indicator and then an origin indicator (in that order when both are there):
 *
 *   Authentication:  +--------+--------+--------+--------+
 *                    |  0x00  |  0x01  | ID-len | AU-len |
 *                    +--------+--------+--------+--------+
 *                    | Client identifier (ID-len bytes)  |
 *                    | Authentication value (AU-len)     |
 *                    | Nonce (8 bytes)                   |
 *                    | Confirmation (1 byte)             |
 *                    +--------+--------+--------+--------+
 *
 *   Origin:          +--------+--------+--------+--------+
 *                    |  0x00  |  0x00  | Origin port ^ 0xffff
 *                    +--------+--------+--------+--------+
 *                    |  Origin IPv4 address ^ 0xffffffff |
 *                    +--------+--------+--------+--------+
 *
 * A bubble is an IPv6 header with no payload (next header 59): the IPv6 decoder handles it.
 * A payload that is not IPv6 after the indicators is not Teredo's: UNSUPPORTED, as Zeek and
 * Wireshark both check the version nibble before calling a datagram Teredo.
 */
#include "decode_int.h"

#define TEREDO_AUTH 0x0001u
#define TEREDO_ORIGIN 0x0000u
#define TEREDO_NONCE_LEN 8u
#define TEREDO_ORIGIN_LEN 8u

ns_parse_rc_t
ns_decode_teredo(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_TEREDO);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "teredo", start);
    ns_parse_rc_t rc = NS_PARSE_OK;
    if (ns_cur_has(c, 2) && ns_cur_peek(c, 0) == 0 && ns_cur_peek(c, 1) == 1) {
        uint32_t at = c->off;
        ns_cur_skip(c, 2);
        uint8_t id_len = ns_cur_u8(c);
        uint8_t au_len = ns_cur_u8(c);
        ns_cur_skip(c, (uint32_t)id_len + au_len + TEREDO_NONCE_LEN);
        uint8_t conf = ns_cur_u8(c);
        if (ns_cur_ok(c)) {
            ns_field_uint(d->f, "teredo.auth.idlen", at + 2, 1, id_len);
            ns_field_uint(d->f, "teredo.auth.aulen", at + 3, 1, au_len);
            ns_field_hex(d->f, "teredo.auth.conf", c->off - 1, 1, conf);
        } else {
            rc = NS_PARSE_TRUNCATED;
        }
    }
    if (rc == NS_PARSE_OK && ns_cur_has(c, 2) && ns_cur_peek(c, 0) == 0 &&
        ns_cur_peek(c, 1) == 0) {
        uint32_t at = c->off;
        ns_cur_skip(c, 2);
        uint16_t port = (uint16_t)(ns_cur_be16(c) ^ 0xffffu);
        uint32_t addr = ns_cur_be32(c) ^ 0xffffffffu;
        if (ns_cur_ok(c)) {
            ns_field_uint(d->f, "teredo.orig.port", at + 2, 2, port);
            ns_field_hex(d->f, "teredo.orig.addr", at + 4, 4, addr);
        } else {
            rc = NS_PARSE_TRUNCATED;
        }
    }
    ns_field_close(d->f, node, c->off);
    if (rc != NS_PARSE_OK)
        return rc;
    if (ns_cur_left(c) == 0)
        return c->off - start >= d->pkt->payload_len ? NS_PARSE_UNSUPPORTED : NS_PARSE_TRUNCATED;
    if ((ns_cur_peek(c, 0) >> 4) != 6)
        return NS_PARSE_UNSUPPORTED;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = NS_ETH_IPV6;
    return NS_PARSE_OK;
}
