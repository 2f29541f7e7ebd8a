/* ayiya.c - AYIYA, Anything In Anything (UDP 5072), as SixXS tunnel brokers used it.
 *
 * Spec: draft-massar-v6ops-ayiya-02 section 5.
 *
 *    0                   1                   2                   3
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   | IDLen | IDType| SigLen| HshMeth| AutMeth| OpCode|  Next Header |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |                         Epoch Time                            |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |  Identity (2^IDLen bytes)  |  Signature (SigLen * 4 bytes)    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * Only opcode 1 (forward) carries a packet, whose IP protocol is Next Header (41 IPv6, 4
 * IPv4); other opcodes (echo, MOTD, ...) end decoding with the header OK.
 */
#include "decode_int.h"

#define AYIYA_HDR_LEN 8u
#define AYIYA_OP_FORWARD 1u

ns_parse_rc_t
ns_decode_ayiya(ns_cur_t *c, ns_dec_t *d)
{
    ns_tunnel_carrier(d->pkt, NS_LAYER_AYIYA);
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "ayiya", start);
    uint8_t id = ns_cur_u8(c);
    uint8_t sig = ns_cur_u8(c);
    uint8_t op = ns_cur_u8(c);
    uint8_t next = ns_cur_u8(c);
    uint32_t epoch = ns_cur_be32(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    uint32_t id_len = 1u << (id >> 4); /* at most 2^15 bytes: no overflow */
    uint32_t sig_len = (uint32_t)(sig >> 4) * 4u;
    ns_field_uint(d->f, "ayiya.idlen", start, 1, id >> 4);
    ns_field_uint(d->f, "ayiya.idtype", start, 1, id & 0xfu);
    ns_field_uint(d->f, "ayiya.siglen", start + 1, 1, sig >> 4);
    ns_field_uint(d->f, "ayiya.hashmethod", start + 1, 1, sig & 0xfu);
    ns_field_uint(d->f, "ayiya.authmethod", start + 2, 1, op >> 4);
    ns_field_uint(d->f, "ayiya.opcode", start + 2, 1, op & 0xfu);
    ns_field_uint(d->f, "ayiya.nextheader", start + 3, 1, next);
    ns_field_uint(d->f, "ayiya.epoch", start + 4, 4, epoch);
    if (AYIYA_HDR_LEN + id_len + sig_len > d->pkt->payload_len) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_INVALID; /* identity and signature cannot end past the datagram */
    }
    ns_cur_skip(c, id_len + sig_len);
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    if ((op & 0xfu) != AYIYA_OP_FORWARD || ns_cur_left(c) == 0)
        return ns_cur_left(c) == 0 && c->off - start < d->pkt->payload_len ? NS_PARSE_TRUNCATED
                                                                            : NS_PARSE_OK;
    d->next = NS_NEXT_IPPROTO;
    d->next_val = next;
    return NS_PARSE_OK;
}
