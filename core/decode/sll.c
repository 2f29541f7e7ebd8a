/* sll.c - Linux "cooked" capture headers, v1 (LINKTYPE_LINUX_SLL) and v2 (LINKTYPE_LINUX_SLL2).
 *
 * Spec: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL.html and LINKTYPE_LINUX_SLL2.html.
 * The kernel writes these pseudo-headers for captures on "any" and on devices without an
 * Ethernet header (tun, ppp, ...). All fields are in network byte order.
 *
 *   v1 (16 bytes)
 *    0               2               4               6                              14      16
 *   +---------------+---------------+---------------+------------------------------+-------+
 *   |  Packet type  | ARPHRD type   | Address len   | Link-layer address (8 bytes) | Proto |
 *   +---------------+---------------+---------------+------------------------------+-------+
 *
 *   v2 (20 bytes)
 *    0       2       4               8        10     11     12                             20
 *   +-------+-------+---------------+--------+------+------+------------------------------+
 *   | Proto | Rsvd  | Interface idx | ARPHRD | Pkt  | Addr | Link-layer address (8 bytes) |
 *   |       |       |               |  type  | type | len  |                              |
 *   +-------+-------+---------------+--------+------+------+------------------------------+
 *
 * The protocol field is an ethertype, except for values below 0x0600, which the kernel uses
 * for frames without one (0x0001 Novell 802.3, 0x0004 802.2 LLC, 0x000C CAN, 0x000D CAN FD,
 * ...), and except on netlink captures (ARPHRD_NETLINK), where it is the netlink family. Those
 * payloads are not decoded: UNSUPPORTED. The address is the sender's; a 6-byte one is a MAC
 * and is kept as pkt->eth_src. An address length above 8 is legal (InfiniBand) and only the
 * first 8 bytes are present.
 */
#include "decode_int.h"

#define SLL_ADDR_LEN 8u /* bytes reserved for the address in both versions */
#define SLL_MIN_ETHERTYPE 0x0600u
#define SLL_ARPHRD_NETLINK 824u

/* Report the sender's address (the first min(halen, 8) bytes at `off`); keep a MAC. */
static void
sll_addr(const ns_cur_t *c, ns_dec_t *d, uint32_t halen, uint32_t off)
{
    if (halen == 6) {
        for (uint32_t i = 0; i < 6; i++)
            d->pkt->eth_src[i] = ns_cur_at(c, off + i);
        ns_field_raw(d->f, "sll.src.eth", off, 6, NS_FT_MAC);
    } else if (halen == 4) {
        ns_field_raw(d->f, "sll.src.ipv4", off, 4, NS_FT_IPV4);
    } else if (halen > 0) {
        ns_field_raw(d->f, "sll.src.other", off, halen < SLL_ADDR_LEN ? halen : SLL_ADDR_LEN,
                     NS_FT_BYTES);
    }
}

/* Report the protocol field at `off` and name the payload. Values that are not ethertypes go
 * under sll.ltype (netlink.family on netlink captures), as Wireshark shows them. */
static ns_parse_rc_t
sll_proto(ns_dec_t *d, uint32_t hatype, uint16_t proto, uint32_t off)
{
    if (hatype == SLL_ARPHRD_NETLINK) {
        ns_field_uint(d->f, "netlink.family", off, 2, proto);
        return NS_PARSE_UNSUPPORTED;
    }
    if (proto < SLL_MIN_ETHERTYPE) {
        ns_field_hex(d->f, "sll.ltype", off, 2, proto);
        return NS_PARSE_UNSUPPORTED; /* 802.2 LLC, Novell 802.3, CAN, ...: not decoded */
    }
    ns_field_hex(d->f, "sll.etype", off, 2, proto);
    d->pkt->ethertype = proto;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = proto;
    return NS_PARSE_OK;
}

ns_parse_rc_t
ns_decode_sll(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "sll", start);

    uint16_t pkttype = ns_cur_be16(c);
    uint16_t hatype = ns_cur_be16(c);
    uint16_t halen = ns_cur_be16(c);
    uint32_t addr_off = ns_cur_take(c, SLL_ADDR_LEN);
    uint16_t proto = ns_cur_be16(c);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_field_uint(d->f, "sll.pkttype", start, 2, pkttype);
    ns_field_uint(d->f, "sll.hatype", start + 2, 2, hatype);
    ns_field_uint(d->f, "sll.halen", start + 4, 2, halen);
    sll_addr(c, d, halen, addr_off);
    ns_parse_rc_t rc = sll_proto(d, hatype, proto, start + 14);
    ns_field_close(d->f, node, c->off);
    return rc;
}

ns_parse_rc_t
ns_decode_sll2(ns_cur_t *c, ns_dec_t *d)
{
    uint32_t start = c->off;
    int32_t node = ns_field_open(d->f, "sll", start);

    uint16_t proto = ns_cur_be16(c);
    ns_cur_skip(c, 2); /* reserved (MBZ); not checked, the kernel owns it */
    uint32_t ifindex = ns_cur_be32(c);
    uint16_t hatype = ns_cur_be16(c);
    uint8_t pkttype = ns_cur_u8(c);
    uint8_t halen = ns_cur_u8(c);
    uint32_t addr_off = ns_cur_take(c, SLL_ADDR_LEN);
    if (!ns_cur_ok(c)) {
        ns_field_close(d->f, node, c->off);
        return NS_PARSE_TRUNCATED;
    }
    ns_parse_rc_t rc = sll_proto(d, hatype, proto, start);
    ns_field_uint(d->f, "sll.ifindex", start + 4, 4, ifindex);
    ns_field_uint(d->f, "sll.hatype", start + 8, 2, hatype);
    ns_field_uint(d->f, "sll.pkttype", start + 10, 1, pkttype);
    ns_field_uint(d->f, "sll.halen", start + 11, 1, halen);
    sll_addr(c, d, halen, addr_off);
    ns_field_close(d->f, node, c->off);
    return rc;
}
