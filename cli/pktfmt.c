/* pktfmt.c - packets as tcpdump-style text lines and as JSON objects.
 *
 * Text: "HH:MM:SS.uuuuuu [vlan N] [mpls L] IP a.p > b.q: <transport> <application>", times in
 * UTC so output is the same on every machine. Each layer that was truncated or invalid adds
 * "[<layer>: truncated]". The writer below appends to a fixed buffer and never overflows: a
 * line that would not fit ends in "...".
 *
 * JSON: the field list as display-filter names, through jansson, which escapes strings; text
 * from packets that is not valid UTF-8 is written with \xNN escapes for the offending bytes.
 */
#include "pktfmt.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------- text writer */

typedef struct {
    char *p;
    size_t n;
    size_t cap; /* room for text; the buffer has 4 more bytes for "..." */
} sbuf_t;

static void
put_mem(sbuf_t *b, const char *s, size_t n)
{
    if (n > b->cap - b->n) {
        n = b->cap - b->n;
        memcpy(b->p + b->n, s, n);
        b->n += n;
        memcpy(b->p + b->n, "...", 3);
        b->n += 3;
        b->cap = b->n; /* full: later writes are dropped */
        return;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

static void
put(sbuf_t *b, const char *s)
{
    put_mem(b, s, strlen(s));
}

static void
put_c(sbuf_t *b, char c)
{
    put_mem(b, &c, 1);
}

static void
put_u64(sbuf_t *b, uint64_t v)
{
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_mem(b, tmp + i, sizeof(tmp) - i);
}

/* 0x and at least `width` hex digits (ethertypes are written 0x0800, as tcpdump does). */
static void
put_hex(sbuf_t *b, uint64_t v, size_t width)
{
    static const char digits[] = "0123456789abcdef";
    char tmp[18];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = digits[v & 15];
        v >>= 4;
    } while (v || sizeof(tmp) - i < width);
    put_mem(b, "0x", 2);
    put_mem(b, tmp + i, sizeof(tmp) - i);
}

/* Zero-padded decimal of exactly `width` digits. */
static void
put_dec_w(sbuf_t *b, uint64_t v, int width)
{
    char tmp[20];
    for (int i = width - 1; i >= 0; i--) {
        tmp[i] = (char)('0' + v % 10);
        v /= 10;
    }
    put_mem(b, tmp, (size_t)width);
}

/* Text from the packet: printable ASCII as is, anything else as \xNN, at most `max` bytes. */
static void
put_safe(sbuf_t *b, const uint8_t *s, size_t n, size_t max)
{
    static const char digits[] = "0123456789abcdef";
    size_t lim = n < max ? n : max;
    for (size_t i = 0; i < lim; i++) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x7f) {
            put_c(b, (char)c);
        } else {
            char esc[4] = {'\\', 'x', digits[c >> 4], digits[c & 15]};
            put_mem(b, esc, 4);
        }
    }
    if (n > max)
        put(b, "...");
}

static void
put_span(sbuf_t *b, const uint8_t *frame, ns_span_t s, size_t max)
{
    put_safe(b, frame + s.off, s.len, max);
}

size_t
ns_pktfmt_addr(char *out, const ns_addr_t *a, unsigned ip_ver)
{
    if (ip_ver == 4) {
        char *p = out;
        for (int i = 0; i < 4; i++) {
            unsigned v = a->b[i];
            if (v >= 100)
                *p++ = (char)('0' + v / 100);
            if (v >= 10)
                *p++ = (char)('0' + v / 10 % 10);
            *p++ = (char)('0' + v % 10);
            if (i < 3)
                *p++ = '.';
        }
        *p = '\0';
        return (size_t)(p - out);
    }
    if (inet_ntop(AF_INET6, a->b, out, 46) == NULL)
        out[0] = '\0';
    return strlen(out);
}

static void
put_addr(sbuf_t *b, const ns_addr_t *a, unsigned ip_ver)
{
    char tmp[48];
    put_mem(b, tmp, ns_pktfmt_addr(tmp, a, ip_ver));
}

/* Mnemonics from the IANA "Resource Record (RR) TYPEs" registry, the ones in use (the names
 * tcpdump, Wireshark and Zeek print); the rest are written TYPEnnn (RFC 3597). */
const char *
ns_pktfmt_dns_type(uint16_t type)
{
    switch (type) {
    case 1: return "A";
    case 2: return "NS";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 10: return "NULL";
    case 11: return "WKS";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 14: return "MINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 24: return "SIG";
    case 25: return "KEY";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 33: return "SRV";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 53: return "SMIMEA";
    case 55: return "HIP";
    case 59: return "CDS";
    case 60: return "CDNSKEY";
    case 61: return "OPENPGPKEY";
    case 62: return "CSYNC";
    case 63: return "ZONEMD";
    case 64: return "SVCB";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 255: return "ANY";
    case 256: return "URI";
    case 257: return "CAA";
    default: return NULL;
    }
}

const char *
ns_pktfmt_dns_rcode(uint16_t rcode)
{
    static const char *const names[] = {"NoError", "FormErr", "ServFail", "NXDomain",
                                        "NotImp",  "Refused", "YXDomain", "YXRRSet",
                                        "NXRRSet", "NotAuth", "NotZone"};
    if (rcode < sizeof(names) / sizeof(names[0]))
        return names[rcode];
    if (rcode == 16)
        return "BADVERS";
    return NULL;
}

const char *
ns_pktfmt_dns_rcode_zeek(uint16_t rcode)
{
    static const char *const names[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN",
                                        "NOTIMP",  "REFUSED", "YXDOMAIN", "YXRRSET",
                                        "NXRRSET", "NOTAUTH", "NOTZONE"};
    return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

static void
put_dns_type(sbuf_t *b, uint16_t type)
{
    const char *t = ns_pktfmt_dns_type(type);
    if (t) {
        put(b, t);
    } else {
        put(b, "TYPE");
        put_u64(b, type);
    }
}

/* ---------------------------------------------------------------- layers */

static void
put_time(sbuf_t *b, uint64_t ts_ns)
{
    uint64_t secs = ts_ns / 1000000000u;
    uint64_t day = secs % 86400u;
    put_dec_w(b, day / 3600, 2);
    put_c(b, ':');
    put_dec_w(b, day / 60 % 60, 2);
    put_c(b, ':');
    put_dec_w(b, day % 60, 2);
    put_c(b, '.');
    put_dec_w(b, ts_ns % 1000000000u / 1000u, 6);
}

static void
put_tcp_flags(sbuf_t *b, uint16_t f)
{
    /* tcpdump's letters: S F P R U E W, '.' for ACK, 'N' for NS; "none" when empty. */
    put(b, "Flags [");
    size_t start = b->n;
    if (f & NS_TCP_SYN)
        put_c(b, 'S');
    if (f & NS_TCP_FIN)
        put_c(b, 'F');
    if (f & NS_TCP_PSH)
        put_c(b, 'P');
    if (f & NS_TCP_RST)
        put_c(b, 'R');
    if (f & NS_TCP_URG)
        put_c(b, 'U');
    if (f & NS_TCP_ECE)
        put_c(b, 'E');
    if (f & NS_TCP_CWR)
        put_c(b, 'W');
    if (f & NS_TCP_NS)
        put_c(b, 'N');
    if (f & NS_TCP_ACK)
        put_c(b, '.');
    if (b->n == start)
        put(b, "none");
    put_c(b, ']');
}

static void
put_tcp(sbuf_t *b, const ns_pkt_t *pkt)
{
    put_c(b, ' ');
    put_tcp_flags(b, pkt->tcp_flags);
    put(b, ", seq ");
    put_u64(b, pkt->seq);
    if (pkt->tcp_flags & NS_TCP_ACK) {
        put(b, ", ack ");
        put_u64(b, pkt->ack);
    }
    put(b, ", win ");
    put_u64(b, pkt->win);
    if (pkt->tcp_opts) {
        put(b, ", options [");
        const char *sep = "";
        if (pkt->tcp_opts & NS_TCPOPT_MSS) {
            put(b, "mss ");
            put_u64(b, pkt->mss);
            sep = ",";
        }
        if (pkt->tcp_opts & NS_TCPOPT_SACK_PERM) {
            put(b, sep);
            put(b, "sackOK");
            sep = ",";
        }
        if (pkt->tcp_opts & NS_TCPOPT_TS) {
            put(b, sep);
            put(b, "TS val ");
            put_u64(b, pkt->tsval);
            put(b, " ecr ");
            put_u64(b, pkt->tsecr);
            sep = ",";
        }
        if (pkt->tcp_opts & NS_TCPOPT_WSCALE) {
            put(b, sep);
            put(b, "wscale ");
            put_u64(b, pkt->wscale);
            sep = ",";
        }
        if (pkt->tcp_opts & NS_TCPOPT_SACK) {
            put(b, sep);
            put(b, "sack ");
            put_u64(b, pkt->sack_n);
            for (unsigned i = 0; i < pkt->sack_n && i < NS_MAX_SACK; i++) {
                put(b, " {");
                put_u64(b, pkt->sack[i][0]);
                put_c(b, ':');
                put_u64(b, pkt->sack[i][1]);
                put_c(b, '}');
            }
        }
        put_c(b, ']');
    }
    put(b, ", length ");
    put_u64(b, pkt->payload_len);
}

static void
put_dns_answer(sbuf_t *b, const ns_dns_answer_t *a)
{
    put_dns_type(b, a->type);
    if (a->data_len == 0)
        return; /* a type whose data we do not render (NULL, RRSIG, ...): its name alone */
    put_c(b, ' ');
    if (a->type == 1 && a->data_len == 4) {
        ns_addr_t x = {{0}};
        memcpy(x.b, a->data, 4);
        put_addr(b, &x, 4);
    } else if (a->type == 28 && a->data_len == 16) {
        ns_addr_t x;
        memcpy(x.b, a->data, 16);
        put_addr(b, &x, 6);
    } else {
        put_safe(b, a->data, a->data_len, NS_DNS_RDATA_MAX);
    }
}

static void
put_dns(sbuf_t *b, const ns_pkt_t *pkt)
{
    const ns_dns_t *d = &pkt->dns;
    bool response = (d->flags & 0x8000u) != 0;
    put(b, " DNS ");
    put_u64(b, d->id);
    put(b, response ? " response" : " query");
    if (response) {
        const char *rc = ns_pktfmt_dns_rcode(d->rcode);
        put_c(b, ' ');
        if (rc)
            put(b, rc);
        else {
            put(b, "rcode ");
            put_u64(b, d->rcode);
        }
    }
    if (d->has_question) {
        put_c(b, ' ');
        put_dns_type(b, d->qtype);
        put(b, "? ");
        put_safe(b, (const uint8_t *)d->qname, d->qname_len, NS_DNS_NAME_MAX);
    }
    if (response) {
        put_c(b, ' ');
        put_u64(b, d->ancount);
        put_c(b, '/');
        put_u64(b, d->nscount);
        put_c(b, '/');
        put_u64(b, d->arcount);
        for (unsigned i = 0; i < d->n_answers; i++) {
            put(b, i == 0 ? " " : ", ");
            put_dns_answer(b, &d->answers[i]);
        }
        if (d->ancount > d->n_answers)
            put(b, d->n_answers ? ", ..." : " ..."); /* answers not (all) decoded */
    }
}

static void
put_http(sbuf_t *b, const ns_pkt_t *pkt, const uint8_t *frame)
{
    const ns_http_t *h = &pkt->http;
    put(b, " HTTP");
    if (h->kind == NS_HTTP_REQUEST) {
        put_c(b, ' ');
        put_span(b, frame, h->method, 32);
        put_c(b, ' ');
        put_span(b, frame, h->uri, 256);
        if (h->host.len) {
            put(b, " host ");
            put_span(b, frame, h->host, 128);
        }
    } else if (h->kind == NS_HTTP_RESPONSE) {
        put_c(b, ' ');
        put_u64(b, h->status);
        if (h->reason.len) {
            put_c(b, ' ');
            put_span(b, frame, h->reason, 64);
        }
    }
    if (h->content_length >= 0) {
        put(b, " content-length ");
        put_u64(b, (uint64_t)h->content_length);
    }
}

static const char *
icmp_name(const ns_pkt_t *pkt)
{
    bool v6 = pkt->ip_proto == 58;
    uint8_t t = pkt->icmp_type;
    if (!v6) {
        switch (t) {
        case 0: return "echo reply";
        case 3: return "unreachable";
        case 4: return "source quench";
        case 5: return "redirect";
        case 8: return "echo request";
        case 9: return "router advertisement";
        case 10: return "router solicitation";
        case 11: return "time exceeded";
        case 12: return "parameter problem";
        case 13: return "timestamp request";
        case 14: return "timestamp reply";
        default: return NULL;
        }
    }
    switch (t) {
    case 1: return "unreachable";
    case 2: return "packet too big";
    case 3: return "time exceeded";
    case 4: return "parameter problem";
    case 128: return "echo request";
    case 129: return "echo reply";
    case 133: return "router solicitation";
    case 134: return "router advertisement";
    case 135: return "neighbor solicitation";
    case 136: return "neighbor advertisement";
    case 137: return "redirect";
    case 143: return "multicast listener report v2";
    default: return NULL;
    }
}

static void
put_icmp(sbuf_t *b, const ns_pkt_t *pkt)
{
    bool v6 = pkt->ip_proto == 58;
    put(b, v6 ? " ICMP6 " : " ICMP ");
    const char *name = icmp_name(pkt);
    if (name) {
        put(b, name);
    } else {
        put(b, "type ");
        put_u64(b, pkt->icmp_type);
    }
    put(b, ", code ");
    put_u64(b, pkt->icmp_code);
    bool echo = v6 ? (pkt->icmp_type == 128 || pkt->icmp_type == 129)
                   : (pkt->icmp_type == 0 || pkt->icmp_type == 8);
    if (echo) {
        put(b, ", id ");
        put_u64(b, pkt->icmp_id);
        put(b, ", seq ");
        put_u64(b, pkt->icmp_seq);
    }
    if (pkt->icmp_quote) {
        unsigned ver = v6 ? 6 : 4;
        put(b, ", for proto ");
        put_u64(b, pkt->inner_proto);
        put_c(b, ' ');
        put_addr(b, &pkt->inner_src, ver);
        if (pkt->inner_proto == 6 || pkt->inner_proto == 17) {
            put_c(b, '.');
            put_u64(b, pkt->inner_sport);
        }
        put(b, " > ");
        put_addr(b, &pkt->inner_dst, ver);
        if (pkt->inner_proto == 6 || pkt->inner_proto == 17) {
            put_c(b, '.');
            put_u64(b, pkt->inner_dport);
        }
    }
    /* tcpdump's ICMP length is the whole message: the header the decoder read (from l4_off to
     * payload_off) plus the bytes after it. */
    uint32_t hdr = pkt->payload_off > pkt->l4_off ? pkt->payload_off - pkt->l4_off : 0;
    put(b, ", length ");
    put_u64(b, (uint64_t)hdr + pkt->payload_len);
}

static const char *
ethertype_name(uint16_t t)
{
    switch (t) {
    case 0x0806: return "ARP";
    case 0x8035: return "RARP";
    case 0x88cc: return "LLDP";
    case 0x888e: return "EAPOL";
    case 0x8863: return "PPPoE-discovery";
    case 0x88e5: return "MACsec";
    case 0x8906: return "FCoE";
    case 0x22f0: return "AVTP";
    case 0x88f7: return "PTP";
    case 0x9000: return "Loopback";
    default: return NULL;
    }
}

static bool
has_layer(const ns_pkt_t *pkt, ns_layer_t l)
{
    return (pkt->layers & NS_HAS(l)) != 0;
}

static void
put_endpoint(sbuf_t *b, const ns_pkt_t *pkt, const ns_addr_t *a, uint16_t port, bool ports)
{
    put_addr(b, a, pkt->ip_ver);
    if (ports) {
        put_c(b, '.');
        put_u64(b, port);
    }
}

static void
put_l3(sbuf_t *b, const ns_pkt_t *pkt, const uint8_t *frame)
{
    bool tcp = has_layer(pkt, NS_LAYER_TCP) && pkt->ip_proto == 6;
    bool udp = has_layer(pkt, NS_LAYER_UDP) && pkt->ip_proto == 17;
    bool ports = (tcp || udp) && (pkt->sport || pkt->dport || pkt->err_rc == NS_PARSE_OK);
    put(b, pkt->ip_ver == 6 ? "IP6 " : "IP ");
    put_endpoint(b, pkt, &pkt->src, pkt->sport, ports);
    put(b, " > ");
    put_endpoint(b, pkt, &pkt->dst, pkt->dport, ports);
    put_c(b, ':');
    if ((pkt->ip_flags & NS_IP_FRAG) && pkt->frag_off != 0) {
        put(b, " fragment id ");
        put_u64(b, pkt->frag_id);
        put(b, ", offset ");
        put_u64(b, pkt->frag_off);
        put(b, (pkt->ip_flags & NS_IP_MF) ? ", more" : ", last");
        put(b, ", proto ");
        put_u64(b, pkt->ip_proto);
        put(b, ", length ");
        put_u64(b, pkt->payload_len);
        return;
    }
    if (tcp && pkt->l4_off + 20u > pkt->cap_len) {
        put(b, " TCP"); /* fixed header cut: flags, seq and win were not captured */
    } else if (tcp) {
        put_tcp(b, pkt);
    } else if (udp) {
        put(b, " UDP, length ");
        put_u64(b, pkt->payload_len);
    } else if (has_layer(pkt, NS_LAYER_ICMP) || has_layer(pkt, NS_LAYER_ICMPV6)) {
        put_icmp(b, pkt);
    } else {
        put(b, " proto ");
        put_u64(b, pkt->ip_proto);
        put(b, ", length ");
        put_u64(b, pkt->payload_len);
    }
    if (pkt->app == NS_APP_DNS)
        put_dns(b, pkt);
    else if (pkt->app == NS_APP_HTTP)
        put_http(b, pkt, frame);
    if (pkt->ip_flags & NS_IP_FRAG)
        put(b, " (first fragment)");
}

size_t
ns_pktfmt_text(const ns_pkt_t *pkt, const uint8_t *frame, char *buf)
{
    sbuf_t b = {buf, 0, NS_PKTFMT_LINE_MAX - 4};
    put_time(&b, pkt->ts_ns);
    put_c(&b, ' ');
    for (unsigned i = 0; i < pkt->vlan_n && i < NS_MAX_VLAN; i++) {
        put(&b, "vlan ");
        put_u64(&b, pkt->vlan[i]);
        put_c(&b, ' ');
    }
    if (pkt->vlan_n > NS_MAX_VLAN) {
        put(&b, "(+");
        put_u64(&b, pkt->vlan_n - NS_MAX_VLAN);
        put(&b, " vlan) ");
    }
    for (unsigned i = 0; i < pkt->mpls_n && i < NS_MAX_MPLS; i++) {
        put(&b, "mpls ");
        put_u64(&b, pkt->mpls[i]);
        put_c(&b, ' ');
    }
    bool ip = pkt->ip_ver == 4 || pkt->ip_ver == 6;
    if (ip) {
        put_l3(&b, pkt, frame);
    } else if (has_layer(pkt, NS_LAYER_ETH) && pkt->ethertype == 0 &&
               pkt->err_rc == NS_PARSE_UNSUPPORTED) {
        put(&b, "802.3 LLC (not decoded)");
    } else if (pkt->ethertype != 0) {
        const char *name = ethertype_name(pkt->ethertype);
        if (name) {
            put(&b, name);
        } else {
            put(&b, "ethertype ");
            put_hex(&b, pkt->ethertype, 4);
        }
        if (pkt->err_rc == NS_PARSE_UNSUPPORTED)
            put(&b, " (not decoded)");
    } else if (pkt->err_layer == NS_LAYER_COUNT) {
        put(&b, "link type ");
        put_u64(&b, pkt->linktype);
        put(&b, " (not decoded)");
    } else {
        put(&b, ns_layer_name((ns_layer_t)pkt->err_layer));
    }
    if (!ip) {
        put(&b, ", length ");
        put_u64(&b, pkt->wire_len);
    }
    if (pkt->err_rc == NS_PARSE_TRUNCATED || pkt->err_rc == NS_PARSE_INVALID) {
        put(&b, " [");
        put(&b, ns_layer_name((ns_layer_t)pkt->err_layer));
        put(&b, ": ");
        put(&b, ns_parse_rc_name((ns_parse_rc_t)pkt->err_rc));
        put_c(&b, ']');
    }
    return b.n;
}

/* ---------------------------------------------------------------- JSON */

/* A JSON string for bytes from a packet: as is when valid UTF-8 without NULs, else with every
 * non-ASCII or control byte written as \xNN. */
static json_t *
json_text(const char *s, size_t n)
{
    json_t *j = memchr(s, 0, n) ? NULL : json_stringn(s, n);
    if (j)
        return j;
    char tmp[4 * 1024 + 4];
    sbuf_t b = {tmp, 0, sizeof(tmp) - 4};
    put_safe(&b, (const uint8_t *)s, n, sizeof(tmp) / 4 - 1);
    return json_stringn(tmp, b.n);
}

/* Text values come from ns_field_text(), the formatter the WebAssembly inspector shows too. */
static json_t *
field_value(const ns_field_t *x, const uint8_t *buf, uint32_t buf_len)
{
    switch ((ns_ftype_t)x->type) {
    case NS_FT_UINT:
        return json_integer((json_int_t)x->u);
    case NS_FT_INT:
        return json_integer((json_int_t)x->i);
    case NS_FT_BOOL:
        return json_boolean(x->u != 0);
    case NS_FT_MAC:
    case NS_FT_IPV4:
    case NS_FT_IPV6:
    case NS_FT_BYTES:
        if (buf == NULL)
            return json_null();
        /* fall through */
    case NS_FT_HEX: {
        char tmp[NS_FIELD_TEXT_MAX];
        size_t n = ns_field_text(x, buf, buf_len, tmp, sizeof(tmp));
        return n || x->type == NS_FT_BYTES ? json_stringn(tmp, n) : json_null();
    }
    case NS_FT_STR:
        return json_text(x->str ? x->str : "", x->str ? x->str_len : 0);
    case NS_FT_PROTO:
    case NS_FT_COUNT:
        break;
    }
    return NULL;
}

/* Add `v` under `name`; a second value turns the member into an array. Steals `v`. */
static void
json_add(json_t *obj, const char *name, json_t *v)
{
    json_t *cur = json_object_get(obj, name);
    if (cur == NULL) {
        json_object_set_new(obj, name, v);
    } else if (json_is_array(cur)) {
        json_array_append_new(cur, v);
    } else {
        json_t *arr = json_array();
        json_array_append(arr, cur);
        json_array_append_new(arr, v);
        json_object_set_new(obj, name, arr);
    }
}

json_t *
ns_pktfmt_json(const ns_pkt_t *pkt, const ns_fields_t *fields, uint64_t number)
{
    json_t *o = json_object();
    if (o == NULL)
        return NULL;
    char ts[40];
    snprintf(ts, sizeof(ts), "%llu.%09llu", (unsigned long long)(pkt->ts_ns / 1000000000u),
             (unsigned long long)(pkt->ts_ns % 1000000000u));
    json_object_set_new(o, "frame.number", json_integer((json_int_t)number));
    json_object_set_new(o, "frame.time_epoch", json_string(ts));
    json_object_set_new(o, "frame.len", json_integer(pkt->wire_len));
    json_object_set_new(o, "frame.cap_len", json_integer(pkt->cap_len));

    char protos[256];
    size_t pn = 0;
    protos[0] = '\0';
    for (uint32_t i = 0; fields && i < fields->n; i++) {
        const ns_field_t *x = &fields->v[i];
        if (x->type != NS_FT_PROTO)
            continue;
        int w = snprintf(protos + pn, sizeof(protos) - pn, "%s%s", pn ? ":" : "", x->name);
        if (w > 0 && (size_t)w < sizeof(protos) - pn)
            pn += (size_t)w;
    }
    json_object_set_new(o, "frame.protocols", json_string(protos));
    for (uint32_t i = 0; fields && i < fields->n; i++) {
        const ns_field_t *x = &fields->v[i];
        json_t *v = x->type == NS_FT_PROTO ? NULL : field_value(x, fields->buf, pkt->cap_len);
        if (v)
            json_add(o, x->name, v);
    }
    if (fields && fields->truncated)
        json_object_set_new(o, "fields_truncated", json_true());
    if (pkt->err_rc == NS_PARSE_TRUNCATED || pkt->err_rc == NS_PARSE_INVALID) {
        char err[64];
        snprintf(err, sizeof(err), "%s: %s", ns_layer_name((ns_layer_t)pkt->err_layer),
                 ns_parse_rc_name((ns_parse_rc_t)pkt->err_rc));
        json_object_set_new(o, "error", json_string(err));
    }
    return o;
}
