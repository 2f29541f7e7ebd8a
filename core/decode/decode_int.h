/* decode_int.h - what the per-protocol decoders share with the dispatcher (not installed).
 *
 * A decoder reads its header through the cursor, fills its part of ns_pkt_t, reports fields,
 * narrows the cursor to its payload and names the next protocol in `d->next`. The dispatcher
 * (dispatch.c) owns the tables that map that name to the next decoder, the outcome counters
 * and the encapsulation cap.
 */
#ifndef NETSCOPE_DECODE_INT_H
#define NETSCOPE_DECODE_INT_H

#include "netscope/decode.h"

/* What follows the layer just decoded. */
typedef enum {
    NS_NEXT_NONE = 0,   /* nothing more to decode */
    NS_NEXT_ETHERTYPE,  /* d->next_val is an ethertype */
    NS_NEXT_IPPROTO,    /* d->next_val is an IP protocol number */
    NS_NEXT_APP,        /* an L4 payload: the dispatcher picks DNS/HTTP by port and content */
    NS_NEXT_ETH,        /* a whole Ethernet frame (VXLAN, GRE bridging) */
    NS_NEXT_WLAN,       /* a whole IEEE 802.11 frame (radiotap, PPI, CAPWAP); next_val 0 or
                         * NS_WLAN_FC_SWAPPED */
} ns_next_t;

typedef struct {
    ns_pkt_t *pkt;
    ns_fields_t *f;       /* NULL on the fast path */
    uint8_t next;         /* ns_next_t */
    uint16_t next_val;
} ns_dec_t;

/* next_val of NS_NEXT_WLAN: the two frame control bytes arrive swapped (Cisco access points
 * over CAPWAP; Wireshark's capwap.swap_frame_control, on by default). */
#define NS_WLAN_FC_SWAPPED 1u

typedef ns_parse_rc_t (*ns_decoder_fn)(ns_cur_t *c, ns_dec_t *d);

/* Link layers */
ns_parse_rc_t ns_decode_eth(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_sll(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_sll2(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_loop(ns_cur_t *c, ns_dec_t *d);   /* DLT_NULL: host byte order */
ns_parse_rc_t ns_decode_loop_be(ns_cur_t *c, ns_dec_t *d); /* DLT_LOOP: network order */
ns_parse_rc_t ns_decode_raw(ns_cur_t *c, ns_dec_t *d);    /* version nibble picks v4/v6 */
ns_parse_rc_t ns_decode_chdlc(ns_cur_t *c, ns_dec_t *d);  /* Cisco HDLC */
ns_parse_rc_t ns_decode_ppp(ns_cur_t *c, ns_dec_t *d);    /* PPP, or C-HDLC by its first byte */
ns_parse_rc_t ns_decode_radiotap(ns_cur_t *c, ns_dec_t *d); /* radiotap.c */
ns_parse_rc_t ns_decode_ppi(ns_cur_t *c, ns_dec_t *d);      /* radiotap.c */
ns_parse_rc_t ns_decode_wlan(ns_cur_t *c, ns_dec_t *d);     /* IEEE 802.11 + LLC/SNAP */
/* Ethertype payloads */
ns_parse_rc_t ns_decode_vlan(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_mpls(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_pppoe(ns_cur_t *c, ns_dec_t *d); /* PPPoE session stage */
ns_parse_rc_t ns_decode_ipv4(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_ipv6(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_pbb(ns_cur_t *c, ns_dec_t *d);        /* 802.1ah I-TAG */
ns_parse_rc_t ns_decode_fabricpath(ns_cur_t *c, ns_dec_t *d); /* Cisco FP tag */
void ns_tunnel_carrier(ns_pkt_t *pkt, ns_layer_t layer); /* tunnel.c */
/* An IP header (`layer`) found below another: counts the level in pkt->encap and keeps the
 * outer packet as the carrier (IP-in-IP). Cold: only tunnelled packets call it. */
__attribute__((cold, noinline)) void ns_decode_ip_inner(ns_pkt_t *pkt, ns_layer_t layer);
ns_parse_rc_t ns_decode_erspan2(ns_cur_t *c, ns_dec_t *d); /* GRE 0x88BE with a sequence no. */
ns_parse_rc_t ns_decode_erspan3(ns_cur_t *c, ns_dec_t *d); /* GRE 0x22EB */
/* IP payloads */
ns_parse_rc_t ns_decode_tcp(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_udp(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_icmp(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_icmpv6(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_gre(ns_cur_t *c, ns_dec_t *d);
/* Applications (cursor over the L4 payload) */
ns_parse_rc_t ns_decode_dns(ns_cur_t *c, ns_dec_t *d);      /* over UDP */
ns_parse_rc_t ns_decode_dns_tcp(ns_cur_t *c, ns_dec_t *d);  /* 2-byte length prefix */
ns_parse_rc_t ns_decode_http(ns_cur_t *c, ns_dec_t *d);
/* UDP tunnels (tunnel.c) */
ns_parse_rc_t ns_decode_vxlan(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_gtpu(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_geneve(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_teredo(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_ayiya(ns_cur_t *c, ns_dec_t *d);
ns_parse_rc_t ns_decode_capwap(ns_cur_t *c, ns_dec_t *d);

/* Ethertypes */
#define NS_ETH_IPV4 0x0800u
#define NS_ETH_ARP 0x0806u
#define NS_ETH_VLAN 0x8100u
#define NS_ETH_QINQ 0x88a8u
#define NS_ETH_QINQ_OLD 0x9100u
#define NS_ETH_IPV6 0x86ddu
#define NS_ETH_MPLS 0x8847u
#define NS_ETH_MPLS_MC 0x8848u
#define NS_ETH_PPPOE 0x8864u
#define NS_ETH_PBB 0x88e7u
#define NS_ETH_FABRICPATH 0x8903u
#define NS_ETH_ERSPAN2 0x88beu
#define NS_ETH_ERSPAN3 0x22ebu

/* IP protocols */
#define NS_IPPROTO_HOPOPTS 0
#define NS_IPPROTO_ICMP 1
#define NS_IPPROTO_IPIP 4
#define NS_IPPROTO_TCP 6
#define NS_IPPROTO_UDP 17
#define NS_IPPROTO_IPV6 41
#define NS_IPPROTO_ROUTING 43
#define NS_IPPROTO_FRAGMENT 44
#define NS_IPPROTO_GRE 47
#define NS_IPPROTO_ICMPV6 58
#define NS_IPPROTO_NONE 59
#define NS_IPPROTO_DSTOPTS 60

/* Hand the rest of the frame on as ethertype `type`; 0 means "not a payload we decode"
 * (UNSUPPORTED). For link layers whose own protocol numbers map onto ethertypes. */
static inline ns_parse_rc_t
ns_dec_next_ethertype(ns_dec_t *d, uint16_t type)
{
    if (type == 0)
        return NS_PARSE_UNSUPPORTED;
    d->pkt->ethertype = type;
    d->next = NS_NEXT_ETHERTYPE;
    d->next_val = type;
    return NS_PARSE_OK;
}

/* A decoder's body is written once, as an always-inlined function of the field list, and
 * NS_DECODER(name, body) defines the decoder `name` from it twice over: an out-of-line copy
 * for the protocol tree, and the fast path, instantiated with NULL, where every ns_field_*()
 * call and everything computed only for them fold away. The fast path runs the same code
 * with none of the protocol tree's weight (registers, stack frame). */
#define NS_ALWAYS_INLINE inline __attribute__((always_inline))
#define NS_DECODER(name, body)                                                                 \
    static NS_OUT_OF_LINE ns_parse_rc_t name##_tree(ns_cur_t *c, ns_dec_t *d)                 \
    {                                                                                          \
        return body(c, d, d->f);                                                               \
    }                                                                                          \
    ns_parse_rc_t name(ns_cur_t *c, ns_dec_t *d)                                               \
    {                                                                                          \
        return d->f ? name##_tree(c, d) : body(c, d, NULL);                                    \
    }

/* For code that rarely runs (malformed or cut headers, IPv4 options): out of line, so
 * the hot path's registers are not spent on it. */
#define NS_COLD __attribute__((cold, noinline))
/* For the protocol tree's code: out of line, but optimised for speed like the rest (`cold`
 * would compile it for size, and `print --json` and the inspector run it for every packet). */
#define NS_OUT_OF_LINE __attribute__((noinline))

/* Freestanding helpers (no libc in decoders). */
static inline bool
ns_bytes_eq(const uint8_t *a, const char *b, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        if (a[i] != (uint8_t)b[i])
            return false;
    return true;
}

#endif /* NETSCOPE_DECODE_INT_H */
