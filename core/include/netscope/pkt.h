/* pkt.h - ns_pkt_t, the compact per-packet summary that one decoding pass fills.
 *
 * The fast path (flows, counters) reads only this struct; the protocol tree (fields.h) is the
 * optional second output of the same pass. Strings from the packet are kept as spans (offset
 * and length into the decoded buffer), never copied, except DNS names, which compression
 * forces us to rebuild into a bounded buffer.
 *
 * Design: only the "hot" scalars before `vlan` are cleared for every packet (154 bytes); the
 * arrays after them are meaningful up to their counts (vlan_n, mpls_n, sack_n, icmp_quote) and
 * the application parts only when `app` says so, so a packet pays for the bytes it uses.
 */
#ifndef NETSCOPE_PKT_H
#define NETSCOPE_PKT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_MAX_VLAN 4          /* VLAN tags kept (deeper stacks are still walked, to a cap) */
#define NS_MAX_MPLS 4          /* MPLS labels kept */
#define NS_MAX_SACK 4          /* SACK blocks kept */
#define NS_DNS_NAME_MAX 255    /* presentation-form name, escaped, without NUL */
#define NS_DNS_MAX_ANSWERS 8   /* answers kept in the summary (all go to the field list) */
#define NS_DNS_RDATA_MAX 64    /* text/name data kept per answer */

/* Parse outcomes: data, not errors (STYLE.md). */
typedef enum {
    NS_PARSE_OK = 0,
    NS_PARSE_TRUNCATED,   /* the capture ended inside the layer (snaplen or short frame) */
    NS_PARSE_INVALID,     /* the bytes contradict the spec or each other */
    NS_PARSE_UNSUPPORTED, /* a protocol we do not decode (counted, not an error) */
    NS_PARSE_RC_COUNT
} ns_parse_rc_t;

/* Layers, for outcome counters and error reports. */
typedef enum {
    NS_LAYER_ETH = 0,
    NS_LAYER_SLL,
    NS_LAYER_LOOP, /* DLT_NULL / DLT_LOOP */
    NS_LAYER_RAW,  /* DLT_RAW, DLT_IPV4, DLT_IPV6 */
    NS_LAYER_VLAN,
    NS_LAYER_MPLS,
    NS_LAYER_IPV4,
    NS_LAYER_IPV6,
    NS_LAYER_TCP,
    NS_LAYER_UDP,
    NS_LAYER_ICMP,
    NS_LAYER_ICMPV6,
    NS_LAYER_DNS,
    NS_LAYER_HTTP,
    NS_LAYER_VXLAN,
    NS_LAYER_GTP,
    NS_LAYER_PPP, /* PPP, PPPoE, Cisco HDLC */
    NS_LAYER_GRE,
    NS_LAYER_GENEVE,
    NS_LAYER_TEREDO,
    NS_LAYER_AYIYA,
    NS_LAYER_CAPWAP,
    NS_LAYER_ERSPAN,
    NS_LAYER_WLAN,  /* IEEE 802.11 and its LLC/SNAP header */
    NS_LAYER_RADIO, /* radiotap, PPI */
    NS_LAYER_COUNT
} ns_layer_t;

/* Bits of ns_pkt_t.layers. */
#define NS_HAS(layer) (1u << (layer))

/* TCP flag bits as on the wire (low 8 bits of the flags byte, NS as bit 8). */
#define NS_TCP_FIN 0x001u
#define NS_TCP_SYN 0x002u
#define NS_TCP_RST 0x004u
#define NS_TCP_PSH 0x008u
#define NS_TCP_ACK 0x010u
#define NS_TCP_URG 0x020u
#define NS_TCP_ECE 0x040u
#define NS_TCP_CWR 0x080u
#define NS_TCP_NS 0x100u

/* Bits of ns_pkt_t.tcp_opts: which options were present. */
#define NS_TCPOPT_MSS 0x01u
#define NS_TCPOPT_WSCALE 0x02u
#define NS_TCPOPT_SACK_PERM 0x04u
#define NS_TCPOPT_SACK 0x08u
#define NS_TCPOPT_TS 0x10u

/* Bits of ns_pkt_t.ip_flags. */
#define NS_IP_DF 0x01u
#define NS_IP_MF 0x02u
#define NS_IP_CKSUM_BAD 0x04u /* IPv4 header checksum does not verify */
#define NS_IP_FRAG 0x08u      /* a fragment (MF set or offset > 0) */

typedef enum { NS_APP_NONE = 0, NS_APP_DNS, NS_APP_HTTP } ns_app_t;

/* An address: IPv4 in the first 4 bytes (rest zero), IPv6 in all 16. */
typedef struct {
    uint8_t b[16];
} ns_addr_t;

/* Bytes [off, off+len) of the decoded buffer. */
typedef struct {
    uint32_t off;
    uint32_t len;
} ns_span_t;

/* The outermost packet that carries a tunnel: IP/UDP (VXLAN, Geneve, GTP-U, Teredo, AYIYA, GRE
 * in UDP, CAPWAP), IP/GRE (ports 0) or IP-in-IP (4in4, 6in4, 4in6, 6in6; ports 0): the
 * summary's addresses and ports are the innermost ones, this keeps the outer connection,
 * which is a flow of its own (Zeek's tunnel parent). */
typedef struct {
    ns_addr_t src, dst;
    uint16_t sport, dport;
    uint32_t ip_len;      /* declared outer IP length */
    uint32_t payload_len; /* declared outer UDP payload */
    uint32_t l3_off;      /* offset of the outer IP header */
    uint32_t frag_id;     /* outer IPv4 id / IPv6 fragment id (its later fragments) */
    uint8_t ip_ver;
    uint8_t ip_flags;     /* NS_IP_* of the outer header */
    uint8_t ip_proto;     /* of the outer header: UDP, GRE, IPIP or IPv6 */
    uint8_t layer;        /* ns_layer_t of the tunnel (the inner IP's for IP-in-IP) */
} ns_tun_carrier_t;

typedef struct {
    uint16_t type;   /* DNS RR type */
    uint16_t rclass;
    uint32_t ttl;
    uint8_t data_len;
    /* A: 4 address bytes; AAAA: 16; CNAME/NS/PTR/MX(exchange)/SRV(target)/SOA(mname): the
     * name in presentation form; TXT: the first string; others: empty. */
    uint8_t data[NS_DNS_RDATA_MAX];
} ns_dns_answer_t;

typedef struct {
    uint16_t id;
    uint16_t flags;          /* QR(15) opcode(14..11) AA TC RD RA Z AD CD rcode(3..0) */
    uint16_t qdcount, ancount, nscount, arcount;
    bool has_question;       /* the first question parsed */
    uint16_t qtype, qclass;
    uint16_t qname_len;
    char qname[NS_DNS_NAME_MAX + 1]; /* NUL-terminated; "<Root>" for the root, as tshark */
    uint8_t n_answers;       /* answers kept (<= NS_DNS_MAX_ANSWERS) */
    ns_dns_answer_t answers[NS_DNS_MAX_ANSWERS];
    bool edns;
    uint16_t edns_udp_size;
    uint16_t rcode;          /* full rcode: header rcode | EDNS extended bits << 4 */
    bool tcp;                /* carried over TCP (2-byte length prefix) */
} ns_dns_t;

typedef enum { NS_HTTP_NONE = 0, NS_HTTP_REQUEST, NS_HTTP_RESPONSE } ns_http_kind_t;

typedef struct {
    uint8_t kind;            /* ns_http_kind_t */
    bool headers_complete;   /* the empty line ending the headers was seen */
    uint16_t status;         /* responses */
    ns_span_t method, uri, version, reason;
    ns_span_t host, user_agent, content_type;
    int64_t content_length;  /* -1 when absent or invalid */
    uint32_t header_len;     /* bytes up to and including the empty line, when complete */
} ns_http_t;

typedef struct {
    /* ---- frame (set by the caller of ns_decode_frame) ---- */
    uint64_t ts_ns;
    uint32_t wire_len;
    uint32_t cap_len;
    uint16_t linktype;

    /* ---- outcome ---- */
    uint8_t err_layer;       /* ns_layer_t of the first layer that was not OK */
    uint8_t err_rc;          /* its ns_parse_rc_t; NS_PARSE_OK when every layer was */
    uint32_t layers;         /* NS_HAS(layer) for every layer decoded (even partly) */

    /* ---- link ---- */
    uint8_t eth_src[6], eth_dst[6];
    uint16_t ethertype;      /* the last ethertype seen (after VLAN/MPLS) */
    uint8_t vlan_n;          /* tags seen (capped); vlan[0] is the outermost */
    uint8_t mpls_n;

    /* ---- network ---- */
    uint8_t ip_ver;          /* 0 (none), 4 or 6: the innermost IP header */
    uint8_t ip_proto;        /* upper-layer protocol after IPv6 extension headers */
    uint8_t ttl;             /* TTL / hop limit */
    uint8_t ip_flags;        /* NS_IP_* */
    uint8_t tos;             /* IPv4 TOS / IPv6 traffic class */
    uint8_t encap;           /* IP-in-IP levels crossed */
    uint16_t frag_off;       /* fragment offset in bytes */
    uint32_t frag_id;        /* IPv4 id or IPv6 fragment id */
    ns_addr_t src, dst;
    uint32_t ip_len;         /* declared IP packet length (header + payload), wire bytes */
    uint32_t l3_off, l4_off; /* offsets of the innermost IP and L4 headers */

    /* ---- transport ---- */
    uint16_t sport, dport;
    uint32_t payload_off;    /* first L4 payload byte */
    uint32_t payload_len;    /* declared L4 payload bytes (from IP/UDP lengths) */
    uint32_t payload_cap;    /* of those, bytes actually captured */
    uint16_t tcp_flags;      /* NS_TCP_* */
    uint8_t tcp_hlen;        /* TCP header length in bytes */
    uint8_t tcp_opts;        /* NS_TCPOPT_* present */
    uint32_t seq, ack;
    uint16_t win;
    uint16_t mss;
    uint8_t wscale;
    uint8_t sack_n;
    uint8_t tun_n;           /* 1: `tun` holds the outermost tunnel carrier (in the
                              * padding before tsval: the reset does not grow) */
    uint32_t tsval, tsecr;
    uint8_t icmp_type, icmp_code;
    uint16_t icmp_id, icmp_seq;
    bool icmp_quote;         /* an error message quoting an IP header (fields in inner_*) */
    uint8_t inner_proto;
    uint16_t inner_sport, inner_dport;
    uint8_t app;             /* ns_app_t: which of `dns` / `http` below is valid */
    uint8_t iface;           /* capture interface index (< 16), set by the caller after
                              * decoding (the decoder zeroes it): part of the flow key */

    /* ---- not reset: arrays valid up to their counts above ---- */
    uint16_t vlan[NS_MAX_VLAN];     /* vlan_n */
    uint32_t mpls[NS_MAX_MPLS];     /* mpls_n */
    uint32_t sack[NS_MAX_SACK][2];  /* sack_n */
    ns_addr_t inner_src, inner_dst; /* icmp_quote */
    ns_tun_carrier_t tun;           /* tun_n */

    /* ---- application (valid per `app`) ---- */
    ns_dns_t dns;
    ns_http_t http;
} ns_pkt_t;

/* The per-packet reset: the scalars, up to the count-guarded arrays. */
#define NS_PKT_HOT_SIZE offsetof(ns_pkt_t, vlan)

#endif /* NETSCOPE_PKT_H */
