/* decode.h - decode one captured frame into an ns_pkt_t (and optionally a protocol tree).
 *
 * Entry point of the decoder: it picks the link-layer decoder for the capture's link type,
 * then walks VLAN/MPLS/IP/transport/application layers through dispatch tables. Every layer's
 * outcome is counted in an ns_decode_stats_t the caller owns.
 *
 * Design: freestanding C (no libc, no allocation, no globals written), so the same objects build
 * for WebAssembly; the browser's packet inspector runs this very code.
 */
#ifndef NETSCOPE_DECODE_H
#define NETSCOPE_DECODE_H

#include "netscope/cursor.h"
#include "netscope/fields.h"
#include "netscope/pkt.h"

/* Link types (libpcap's LINKTYPE_* values, as stored in capture files). */
#define NS_LINKTYPE_NULL 0
#define NS_LINKTYPE_ETHERNET 1
#define NS_LINKTYPE_PPP 9
#define NS_LINKTYPE_PPP_HDLC 50
#define NS_LINKTYPE_RAW 101
#define NS_LINKTYPE_C_HDLC 104
#define NS_LINKTYPE_IEEE802_11 105
#define NS_LINKTYPE_IEEE802_11_RADIOTAP 127
#define NS_LINKTYPE_PPI 192
#define NS_LINKTYPE_LOOP 108
#define NS_LINKTYPE_LINUX_SLL 113
#define NS_LINKTYPE_IPV4 228
#define NS_LINKTYPE_IPV6 229
#define NS_LINKTYPE_LINUX_SLL2 276

/* Nested encapsulations (VLAN tags + MPLS labels + IP-in-IP) walked before giving up. */
#define NS_MAX_ENCAP 16

/* Per-layer outcome counters. */
typedef struct {
    uint64_t frames;
    uint64_t rc[NS_LAYER_COUNT][NS_PARSE_RC_COUNT];
} ns_decode_stats_t;

/* True when `linktype` has a decoder. */
bool ns_decode_linktype_supported(uint32_t linktype);

/* Where the decoder looks for tunnels whose UDP port is a local choice. One port per protocol:
 * a port set here replaces the registered one (a VXLAN on 8472 is not looked for on 4789 too).
 * Ports are matched on either side, as the registered ones are. */
typedef struct {
    uint16_t vxlan_port;  /* VXLAN, RFC 7348 (IANA: 4789) */
    uint16_t geneve_port; /* Geneve, RFC 8926 (IANA: 6081) */
} ns_decode_cfg_t;

#define NS_VXLAN_PORT 4789u
#define NS_GENEVE_PORT 6081u
#define NS_DECODE_CFG_DEFAULT {.vxlan_port = NS_VXLAN_PORT, .geneve_port = NS_GENEVE_PORT}

/* Decode `cap_len` captured bytes at `frame` (the frame was `wire_len` bytes on the wire).
 * The caller sets pkt->ts_ns beforehand if it wants it carried; everything else in the hot
 * part of `pkt` is overwritten. `fields` (may be NULL) receives the protocol tree; `stats`
 * (may be NULL) counts every layer's outcome. Returns the outcome of the first layer that was
 * not OK (also in pkt->err_layer / pkt->err_rc), or NS_PARSE_OK. Reads only [frame,
 * frame+cap_len); never allocates. UDP tunnels are looked for on their registered ports
 * (NS_DECODE_CFG_DEFAULT). */
ns_parse_rc_t ns_decode_frame(uint32_t linktype, const uint8_t *frame, uint32_t cap_len,
                              uint32_t wire_len, ns_pkt_t *pkt, ns_fields_t *fields,
                              ns_decode_stats_t *stats);

/* ns_decode_frame() with the tunnel ports of `cfg` (NULL: NS_DECODE_CFG_DEFAULT), for callers
 * whose configuration declares them (`--vxlan-port`, the agent's decode.vxlan_port). */
ns_parse_rc_t ns_decode_frame_cfg(const ns_decode_cfg_t *cfg, uint32_t linktype,
                                  const uint8_t *frame, uint32_t cap_len, uint32_t wire_len,
                                  ns_pkt_t *pkt, ns_fields_t *fields, ns_decode_stats_t *stats);

/* Short lower-case names, for reports: "truncated", "invalid", ... and "tcp", "ip", ... */
const char *ns_parse_rc_name(ns_parse_rc_t rc);
const char *ns_layer_name(ns_layer_t layer);

/* Parse a DNS message (without the TCP length prefix) from `c` into `out`; fields (may be
 * NULL) get dns.* entries. Offsets in `c` are kept absolute. Exposed for the flow engine, which
 * runs it over reassembled DNS-over-TCP messages. */
ns_parse_rc_t ns_dns_parse(ns_cur_t *c, ns_dns_t *out, ns_fields_t *fields);

/* Parse the start of an HTTP/1.1 message (request or status line and headers) from `c` into
 * `out`; spans are offsets in c's buffer. Returns NS_PARSE_UNSUPPORTED when the bytes do not
 * start an HTTP message, NS_PARSE_TRUNCATED when the headers end before the empty line. */
ns_parse_rc_t ns_http_parse(ns_cur_t *c, ns_http_t *out, ns_fields_t *fields);

#endif /* NETSCOPE_DECODE_H */
