/* fabricpath.c - Cisco FabricPath: the FP tag (ethertype 0x8903) of a FabricPath frame.
 *
 * Spec: none published; the layout Wireshark's packet-cfp.c and Cisco's configuration guides
 * describe. A FabricPath frame is an outer Ethernet header (switch ID based addresses) whose
 * type is 0x8903, then:
 *
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *   |        FTag       |    TTL    |
 *   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *
 * and then the classic Ethernet frame (destination, source, ethertype ...), handed to the
 * Ethernet decoder so that the summary shows the host's addresses.
 */
#include "decode_int.h"

ns_parse_rc_t
ns_decode_fabricpath(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "cfp", start);
    uint16_t tag = ns_cur_be16(c);
    ns_field_close(d->f, node, c->off);
    if (!ns_cur_ok(c))
        return NS_PARSE_TRUNCATED;
    ns_field_uint(d->f, "cfp.ftag", start, 2, tag >> 6);
    ns_field_uint(d->f, "cfp.ttl", start, 2, tag & 0x3fu);
    d->next = NS_NEXT_ETH;
    return NS_PARSE_OK;
}
