/* dispatch.c - walks a frame layer by layer through the decoder tables.
 *
 * Each decoder names what follows it (an ethertype, an IP protocol, or "application
 * payload"); the tables below map that name to the next decoder. Here, and only here, outcomes
 * are recorded: the first layer that is not OK is kept in the summary, every layer's outcome is
 * counted, and the number of nested layers is capped (NS_MAX_ENCAP) so a frame of a thousand
 * VLAN tags costs a bounded amount of work.
 */
#include "decode_int.h"

typedef struct {
    uint32_t key;
    ns_decoder_fn fn;
    ns_layer_t layer;
} ns_dispatch_t;

/* Ethernet first: ns_decode_frame and NS_NEXT_ETH take it as link_table[0]. */
static const ns_dispatch_t link_table[] = {
    {NS_LINKTYPE_ETHERNET, ns_decode_eth, NS_LAYER_ETH},
    {NS_LINKTYPE_LINUX_SLL, ns_decode_sll, NS_LAYER_SLL},
    {NS_LINKTYPE_LINUX_SLL2, ns_decode_sll2, NS_LAYER_SLL},
    {NS_LINKTYPE_NULL, ns_decode_loop, NS_LAYER_LOOP},
    {NS_LINKTYPE_LOOP, ns_decode_loop_be, NS_LAYER_LOOP},
    {NS_LINKTYPE_RAW, ns_decode_raw, NS_LAYER_RAW},
    {NS_LINKTYPE_C_HDLC, ns_decode_chdlc, NS_LAYER_PPP},
    {NS_LINKTYPE_PPP, ns_decode_ppp, NS_LAYER_PPP},
    {NS_LINKTYPE_PPP_HDLC, ns_decode_ppp, NS_LAYER_PPP},
    {NS_LINKTYPE_IPV4, ns_decode_raw, NS_LAYER_RAW},
    {NS_LINKTYPE_IPV6, ns_decode_raw, NS_LAYER_RAW},
    {12, ns_decode_raw, NS_LAYER_RAW}, /* DLT_RAW as some BSDs number it */
    {14, ns_decode_raw, NS_LAYER_RAW},
    {NS_LINKTYPE_IEEE802_11_RADIOTAP, ns_decode_radiotap, NS_LAYER_RADIO},
    {NS_LINKTYPE_IEEE802_11, ns_decode_wlan, NS_LAYER_WLAN},
    {NS_LINKTYPE_PPI, ns_decode_ppi, NS_LAYER_RADIO},
};

/* What NS_NEXT_WLAN hands on to. */
static const ns_dispatch_t wlan_entry = {0, ns_decode_wlan, NS_LAYER_WLAN};

/* IPv4 and IPv6 first: the walk in lookup() finds them in one or two steps. */
static const ns_dispatch_t ethertype_table[] = {
    {NS_ETH_IPV4, ns_decode_ipv4, NS_LAYER_IPV4},
    {NS_ETH_IPV6, ns_decode_ipv6, NS_LAYER_IPV6},
    {NS_ETH_VLAN, ns_decode_vlan, NS_LAYER_VLAN},
    {NS_ETH_QINQ, ns_decode_vlan, NS_LAYER_VLAN},
    {NS_ETH_QINQ_OLD, ns_decode_vlan, NS_LAYER_VLAN},
    {NS_ETH_MPLS, ns_decode_mpls, NS_LAYER_MPLS},
    {NS_ETH_MPLS_MC, ns_decode_mpls, NS_LAYER_MPLS},
    {NS_ETH_PPPOE, ns_decode_pppoe, NS_LAYER_PPP},
    {NS_ETH_PBB, ns_decode_pbb, NS_LAYER_VLAN},
    {NS_ETH_FABRICPATH, ns_decode_fabricpath, NS_LAYER_ETH},
    {NS_ETH_ERSPAN2, ns_decode_erspan2, NS_LAYER_ERSPAN},
    {NS_ETH_ERSPAN3, ns_decode_erspan3, NS_LAYER_ERSPAN},
};

/* Indexed by the protocol number itself: one load per packet. */
static const ns_dispatch_t ipproto_table[256] = {
    [NS_IPPROTO_TCP] = {NS_IPPROTO_TCP, ns_decode_tcp, NS_LAYER_TCP},
    [NS_IPPROTO_UDP] = {NS_IPPROTO_UDP, ns_decode_udp, NS_LAYER_UDP},
    [NS_IPPROTO_ICMP] = {NS_IPPROTO_ICMP, ns_decode_icmp, NS_LAYER_ICMP},
    [NS_IPPROTO_ICMPV6] = {NS_IPPROTO_ICMPV6, ns_decode_icmpv6, NS_LAYER_ICMPV6},
    [NS_IPPROTO_IPIP] = {NS_IPPROTO_IPIP, ns_decode_ipv4, NS_LAYER_IPV4},
    [NS_IPPROTO_IPV6] = {NS_IPPROTO_IPV6, ns_decode_ipv6, NS_LAYER_IPV6},
    [NS_IPPROTO_GRE] = {NS_IPPROTO_GRE, ns_decode_gre, NS_LAYER_GRE},
};

#define COUNT_OF(a) (sizeof(a) / sizeof((a)[0]))

static const ns_dispatch_t *
lookup(const ns_dispatch_t *t, uint32_t n, uint32_t key)
{
    for (uint32_t i = 0; i < n; i++)
        if (t[i].key == key)
            return &t[i];
    return NULL;
}

static inline const ns_dispatch_t *
ipproto_lookup(uint32_t proto)
{
    return proto < COUNT_OF(ipproto_table) && ipproto_table[proto].fn ? &ipproto_table[proto]
                                                                       : NULL;
}

/* UDP ports whose payload is DNS wire format (DNS, mDNS, LLMNR). */
static bool
is_dns_udp_port(uint16_t p)
{
    return p == 53 || p == 5353 || p == 5355;
}

/* Does a UDP payload on a port we do not know have the shape of a whole DNS message? A cheap
 * look at the header rejects nearly all other traffic; the rest must parse as DNS and end
 * exactly where the datagram ends. Catches DNS on non-standard ports (e.g. DNSCrypt's
 * certificate queries on 443), as Wireshark's DNS heuristic does. Out of line: the rare case,
 * kept (with the DNS parser it calls) out of the flattened walk. */
static NS_OUT_OF_LINE bool
dns_shaped(const ns_cur_t *c, bool first_fragment)
{
    ns_cur_t h = *c;
    (void)ns_cur_be16(&h); /* id */
    uint16_t flags = ns_cur_be16(&h);
    uint16_t qd = ns_cur_be16(&h);
    uint16_t an = ns_cur_be16(&h);
    uint16_t ns = ns_cur_be16(&h);
    uint16_t ar = ns_cur_be16(&h);
    if (!ns_cur_ok(&h))
        return false;
    bool response = (flags & 0x8000u) != 0;
    uint16_t opcode = (flags >> 11) & 0xfu;
    if (opcode != 0 || (flags & 0x0040u) != 0 || qd != 1 || an > 64 || ns > 64 || ar > 64)
        return false;
    if (!response && (an != 0 || ns != 0 || ar > 2 || (flags & 0x000fu) != 0))
        return false;
    ns_cur_t m = *c;
    ns_dns_t scratch;
    ns_parse_rc_t rc = ns_dns_parse(&m, &scratch, NULL);
    if (first_fragment) /* the message goes on in the next fragment */
        return (rc == NS_PARSE_OK || rc == NS_PARSE_TRUNCATED) && scratch.has_question;
    return rc == NS_PARSE_OK && ns_cur_ok(&m) && ns_cur_left(&m) == 0;
}

/* The rarer UDP tunnels, by their registered ports (either side). Out of line: one call for
 * UDP payloads on ports nothing else claimed, nothing for other packets. */
static NS_OUT_OF_LINE const ns_dispatch_t *
udp_tunnel(const ns_pkt_t *pkt, uint16_t geneve_port)
{
    static const ns_dispatch_t geneve = {NS_GENEVE_PORT, ns_decode_geneve, NS_LAYER_GENEVE};
    static const ns_dispatch_t tunnels[] = {
        {3544, ns_decode_teredo, NS_LAYER_TEREDO}, /* RFC 4380 */
        {4754, ns_decode_gre, NS_LAYER_GRE},       /* GRE-in-UDP, RFC 8086 */
        {5072, ns_decode_ayiya, NS_LAYER_AYIYA},
        {5247, ns_decode_capwap, NS_LAYER_CAPWAP}, /* CAPWAP data, RFC 5415 */
    };
    if (pkt->dport == geneve_port || pkt->sport == geneve_port) /* RFC 8926, or configured */
        return &geneve;
    for (uint32_t i = 0; i < COUNT_OF(tunnels); i++)
        if (pkt->dport == tunnels[i].key || pkt->sport == tunnels[i].key)
            return &tunnels[i];
    return NULL;
}

/* Application decoder for an L4 payload: DNS by port, HTTP by port or by its first bytes,
 * UDP tunnels by their ports (VXLAN's and Geneve's from `cfg`). */
static const ns_dispatch_t *
app_lookup(const ns_pkt_t *pkt, const ns_cur_t *c, const ns_decode_cfg_t *cfg)
{
    static const ns_dispatch_t dns_udp = {0, ns_decode_dns, NS_LAYER_DNS};
    static const ns_dispatch_t dns_tcp = {0, ns_decode_dns_tcp, NS_LAYER_DNS};
    static const ns_dispatch_t http = {0, ns_decode_http, NS_LAYER_HTTP};
    static const ns_dispatch_t vxlan = {0, ns_decode_vxlan, NS_LAYER_VXLAN};
    static const ns_dispatch_t gtpu = {0, ns_decode_gtpu, NS_LAYER_GTP};

    if (pkt->payload_cap == 0 || ((pkt->ip_flags & NS_IP_FRAG) && pkt->frag_off != 0))
        return NULL;
    if (pkt->ip_proto == NS_IPPROTO_UDP) {
        if (is_dns_udp_port(pkt->sport) || is_dns_udp_port(pkt->dport))
            return &dns_udp;
        if (pkt->sport == 1900 || pkt->dport == 1900) /* SSDP: HTTP over UDP */
            return &http;
        if (pkt->dport == cfg->vxlan_port || pkt->sport == cfg->vxlan_port)
            return &vxlan;
        if (pkt->dport == 2152 || pkt->sport == 2152)
            return &gtpu;
        const ns_dispatch_t *tun = udp_tunnel(pkt, cfg->geneve_port);
        if (tun != NULL)
            return tun;
        /* NetBIOS name service shares DNS's wire format but is another protocol. */
        bool netbios = pkt->sport == 137 || pkt->dport == 137;
        if (!netbios && dns_shaped(c, (pkt->ip_flags & NS_IP_FRAG) != 0))
            return &dns_udp;
        return NULL;
    }
    if (pkt->ip_proto != NS_IPPROTO_TCP)
        return NULL;
    if (pkt->sport == 53 || pkt->dport == 53)
        return &dns_tcp;
    /* HTTP on any port, recognised by how a message starts. */
    uint8_t b0 = ns_cur_peek(c, 0);
    if (b0 >= 'A' && b0 <= 'Z')
        return &http;
    return NULL;
}

/* Clear the summary's hot part in pieces of at most 64 bytes: compilers expand each into a
 * few vector stores, where one larger memset becomes `rep stos` (gcc, x86-64), whose start-up
 * alone costs more than the whole reset. */
static inline void
reset_hot(ns_pkt_t *pkt)
{
    _Static_assert(NS_PKT_HOT_SIZE > 128 && NS_PKT_HOT_SIZE <= 192, "reset covers the hot part");
    uint8_t *p = (uint8_t *)pkt;
    __builtin_memset(p, 0, 64);
    __builtin_memset(p + 64, 0, 64);
    __builtin_memset(p + 128, 0, NS_PKT_HOT_SIZE - 128);
}

/* Keep the first layer whose outcome was not OK. */
static inline void
note_error(ns_pkt_t *pkt, ns_layer_t layer, ns_parse_rc_t rc)
{
    if (pkt->err_rc == NS_PARSE_OK) {
        pkt->err_layer = (uint8_t)layer;
        pkt->err_rc = (uint8_t)rc;
    }
}

/* `layer` was decoded but what it carries is not (no decoder, or the nesting cap): counted
 * against it as UNSUPPORTED. */
static void
not_decoded(ns_pkt_t *pkt, ns_decode_stats_t *stats, ns_layer_t layer)
{
    if (stats)
        stats->rc[layer][NS_PARSE_UNSUPPORTED]++;
    note_error(pkt, layer, NS_PARSE_UNSUPPORTED);
}

/* ns_decode_frame inlines every call it can (`flatten`: the hot decoders, with LTO), and
 * is itself never inlined into or cloned for a caller (`noipa`, gcc; clang has only
 * `noinline`): every caller runs, and a profile measures, the same function. */
#if defined(__clang__)
#define NS_WALK __attribute__((flatten, noinline))
#else
#define NS_WALK __attribute__((flatten, noipa))
#endif

/* Run the decoder of entry `e`. The five that nearly every packet goes through are called
 * directly, most frequent first, so that the walk can inline them: ns_decode_frame is
 * `flatten`ed, and release builds link with LTO, which shows the compiler their bodies. Tested
 * as conditional branches rather than a switch (an indirect jump per layer): measured faster
 * on the benchmark's mix. */
static inline ns_parse_rc_t
run(const ns_dispatch_t *e, ns_cur_t *c, ns_dec_t *d)
{
    ns_decoder_fn fn = e->fn;
    if (fn == ns_decode_ipv4)
        return ns_decode_ipv4(c, d);
    if (fn == ns_decode_tcp)
        return ns_decode_tcp(c, d);
    if (fn == ns_decode_eth)
        return ns_decode_eth(c, d);
    if (fn == ns_decode_udp)
        return ns_decode_udp(c, d);
    if (fn == ns_decode_ipv6)
        return ns_decode_ipv6(c, d);
    return fn(c, d);
}

bool
ns_decode_linktype_supported(uint32_t linktype)
{
    return lookup(link_table, COUNT_OF(link_table), linktype) != NULL;
}

/* The walk itself, written once for both entry points below: inlined into each, so that
 * ns_decode_frame() compares ports with constants and ns_decode_frame_cfg() with cfg's. */
static inline __attribute__((always_inline)) ns_parse_rc_t
walk(const ns_decode_cfg_t *cfg, uint32_t linktype, const uint8_t *frame, uint32_t cap_len,
     uint32_t wire_len, ns_pkt_t *pkt, ns_fields_t *fields, ns_decode_stats_t *stats)
{
    uint64_t ts_ns = pkt->ts_ns;
    reset_hot(pkt);
    pkt->ts_ns = ts_ns;
    pkt->wire_len = wire_len;
    pkt->cap_len = cap_len;
    pkt->linktype = (uint16_t)linktype;
    if (fields) {
        ns_fields_reset(fields);
        fields->buf = frame;
    }
    if (stats)
        stats->frames++;

    ns_cur_t c;
    ns_cur_init(&c, frame, cap_len);
    ns_dec_t d = {.pkt = pkt, .f = fields, .next = NS_NEXT_NONE, .next_val = 0};

    const ns_dispatch_t *e = linktype == NS_LINKTYPE_ETHERNET
                                 ? &link_table[0]
                                 : lookup(link_table, COUNT_OF(link_table), linktype);
    if (e == NULL) {
        pkt->err_layer = NS_LAYER_COUNT; /* "frame": the link type itself is unknown */
        pkt->err_rc = NS_PARSE_UNSUPPORTED;
        return NS_PARSE_UNSUPPORTED;
    }
    uint32_t layers = 0;
    for (uint32_t hops = 0;; hops++) {
        ns_layer_t layer = e->layer;
        ns_parse_rc_t rc = run(e, &c, &d);
        if (stats)
            stats->rc[layer][rc]++;
        /* An application decoder picked by a guess (HTTP on any port, DNS by shape) that
         * says "not mine" leaves no trace on the packet: the payload is just data. */
        if (rc == NS_PARSE_UNSUPPORTED && (layer == NS_LAYER_HTTP || layer == NS_LAYER_DNS))
            break;
        layers |= NS_HAS(layer);
        if (rc != NS_PARSE_OK) {
            note_error(pkt, layer, rc);
            /* A layer that is not OK ends the walk, except a UDP length that overstates the
             * payload: udp.c then hands on what the IP length bounds (still INVALID). */
            if (rc != NS_PARSE_INVALID || layer != NS_LAYER_UDP)
                break;
        }
        uint8_t next = d.next;
        if (next == NS_NEXT_NONE)
            break;
        d.next = NS_NEXT_NONE;
        if (next == NS_NEXT_IPPROTO)
            e = ipproto_lookup(d.next_val);
        else if (next == NS_NEXT_ETHERTYPE)
            e = lookup(ethertype_table, COUNT_OF(ethertype_table), d.next_val);
        else if (next == NS_NEXT_ETH)
            e = &link_table[0]; /* Ethernet */
        else if (next == NS_NEXT_WLAN)
            e = &wlan_entry;
        else
            e = app_lookup(pkt, &c, cfg);
        if (e == NULL) {
            /* Counted against the layer whose payload we do not decode. */
            if (next != NS_NEXT_APP)
                not_decoded(pkt, stats, layer);
            break;
        }
        if (hops >= NS_MAX_ENCAP) { /* nesting cap: decode no deeper */
            not_decoded(pkt, stats, layer);
            break;
        }
    }
    pkt->layers = layers;
    if (fields)
        while (fields->depth > 0)
            fields->depth--;
    return (ns_parse_rc_t)pkt->err_rc;
}

static const ns_decode_cfg_t default_cfg = NS_DECODE_CFG_DEFAULT;

NS_WALK ns_parse_rc_t
ns_decode_frame(uint32_t linktype, const uint8_t *frame, uint32_t cap_len, uint32_t wire_len,
                ns_pkt_t *pkt, ns_fields_t *fields, ns_decode_stats_t *stats)
{
    return walk(&default_cfg, linktype, frame, cap_len, wire_len, pkt, fields, stats);
}

NS_WALK ns_parse_rc_t
ns_decode_frame_cfg(const ns_decode_cfg_t *cfg, uint32_t linktype, const uint8_t *frame,
                    uint32_t cap_len, uint32_t wire_len, ns_pkt_t *pkt, ns_fields_t *fields,
                    ns_decode_stats_t *stats)
{
    return walk(cfg != NULL ? cfg : &default_cfg, linktype, frame, cap_len, wire_len, pkt,
                fields, stats);
}

const char *
ns_parse_rc_name(ns_parse_rc_t rc)
{
    static const char *const names[] = {"ok", "truncated", "invalid", "unsupported"};
    return (unsigned)rc < NS_PARSE_RC_COUNT ? names[rc] : "?";
}

const char *
ns_layer_name(ns_layer_t layer)
{
    static const char *const names[] = {"eth",  "sll",  "loop", "raw",    "vlan",
                                        "mpls", "ip",   "ipv6", "tcp",    "udp",
                                        "icmp", "icmpv6", "dns", "http",
                                        "vxlan", "gtp", "ppp", "gre",
                                        "geneve", "teredo", "ayiya", "capwap",
                                        "erspan", "wlan", "radio"};
    _Static_assert(sizeof(names) / sizeof(names[0]) == NS_LAYER_COUNT, "one name per layer");
    return (unsigned)layer < NS_LAYER_COUNT ? names[layer] : "frame";
}
