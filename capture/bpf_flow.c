/* bpf_flow.c - BPF over flow keys: name-free validation, libpcap compile, synthetic frames
 * (see bpf_flow.h).
 *
 * The tokeniser follows libpcap's scanner closely enough for one purpose: any word that
 * libpcap would take as a host, network, port or protocol NAME (and so look up) is refused.
 * Words are runs of [A-Za-z0-9_.:-]; a word passes when it is a keyword below, decimal
 * digits and dots (a number, an IPv4 address or prefix), 0x and hex digits, an IPv6 address,
 * a MAC address, or digits and colons (a byte slice "tcp[0:2]"). Everything else in the
 * expression is an operator character libpcap knows, or it is refused too.
 *
 * Frame synthesis writes bytes in network order into a local array; checksums are left 0
 * (BPF does not verify them).
 */
#include "netscope/bpf_flow.h"

#include <arpa/inet.h>
#include <pcap.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPLEN 256
#define ETH_LEN 14
#define VLAN_TAG_LEN 4
#define IP4_LEN 20
#define IP6_LEN 40
#define TCP_LEN 20
#define UDP_LEN 8
#define ICMP_LEN 8
#define FRAME_MAX (ETH_LEN + VLAN_TAG_LEN + IP6_LEN + TCP_LEN)
#define WORD_MAX 64

struct ns_bpf_flow {
    struct bpf_program prog;
};

/* libpcap's reserved words (its scanner.l) that name no host or service, plus the named
 * values of icmp/icmp6/tcp header fields. "gateway" is left out on purpose: it resolves a
 * name. */
static const char *const keywords[] = {
    "aarp", "ah", "and", "arp", "atalk", "broadcast", "byte", "carp", "clnp", "csnp",
    "decnet", "dir", "direction", "dst", "es-is", "esis", "esp", "ether", "fddi", "geneve",
    "greater", "host", "icmp", "icmp6", "igmp", "igrp", "iih", "inbound", "ip", "ip6",
    "ipx", "is-is", "isis", "iso", "l1", "l2", "lat", "len", "less", "link", "llc", "lsp",
    "mask", "mopdl", "moprc", "mpls", "multicast", "net", "netbeui", "not", "or",
    "outbound", "pim", "port", "portrange", "ppp", "pppoed", "pppoes", "proto",
    "protochain", "psnp", "rarp", "sca", "sctp", "slip", "snp", "src", "stp", "tcp", "tr",
    "udp", "vlan", "vrrp", "wlan",
    /* header field names and values */
    "icmptype", "icmpcode", "icmp6type", "icmp6code", "tcpflags",
    "icmp-echoreply", "icmp-unreach", "icmp-sourcequench", "icmp-redirect", "icmp-echo",
    "icmp-routeradvert", "icmp-routersolicit", "icmp-timxceed", "icmp-paramprob",
    "icmp-tstamp", "icmp-tstampreply", "icmp-ireq", "icmp-ireqreply", "icmp-maskreq",
    "icmp-maskreply", "icmp6-destinationunreach", "icmp6-packettoobig",
    "icmp6-timeexceeded", "icmp6-parameterproblem", "icmp6-echo", "icmp6-echoreply",
    "icmp6-multicastlistenerquery", "icmp6-multicastlistenerreportv1",
    "icmp6-multicastlistenerdone", "icmp6-routersolicit", "icmp6-routeradvert",
    "icmp6-neighborsolicit", "icmp6-neighboradvert", "icmp6-redirect",
    "tcp-fin", "tcp-syn", "tcp-rst", "tcp-push", "tcp-ack", "tcp-urg", "tcp-ece", "tcp-cwr",
    NULL,
};

static void
set_err(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

static bool
is_word_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == ':' || c == '-';
}

static bool
all_of(const char *w, const char *set)
{
    for (; *w; w++)
        if (strchr(set, *w) == NULL)
            return false;
    return true;
}

static bool
is_mac(const char *w)
{
    unsigned groups = 0, len = 0;
    for (const char *p = w;; p++) {
        if (*p == ':' || *p == '\0') {
            if (len < 1 || len > 2)
                return false;
            groups++;
            len = 0;
            if (*p == '\0')
                break;
        } else if (strchr("0123456789abcdefABCDEF", *p) && *p != '\0') {
            len++;
        } else {
            return false;
        }
    }
    return groups == 6;
}

static bool
word_ok(const char *w)
{
    static const char hex[] = "0123456789abcdefABCDEF";
    if (strchr(w, ':')) {
        unsigned char a6[16];
        return inet_pton(AF_INET6, w, a6) == 1 || is_mac(w) || all_of(w, "0123456789:");
    }
    if (w[0] >= '0' && w[0] <= '9') {
        if (all_of(w, "0123456789."))
            return true;
        return (w[1] == 'x' || w[1] == 'X') && w[0] == '0' && w[2] != '\0' && all_of(w + 2, hex);
    }
    for (const char *const *k = keywords; *k; k++)
        if (strcmp(*k, w) == 0)
            return true;
    return false;
}

bool
ns_bpf_flow_check(const char *expr, char *errbuf, size_t errlen)
{
    if (expr == NULL) {
        set_err(errbuf, errlen, "no filter expression");
        return false;
    }
    size_t n = strlen(expr);
    if (n > NS_BPF_FLOW_EXPR_MAX) {
        set_err(errbuf, errlen, "filter longer than %u bytes", NS_BPF_FLOW_EXPR_MAX);
        return false;
    }
    for (size_t i = 0; i < n;) {
        char c = expr[i];
        if (is_word_char(c)) {
            size_t j = i;
            while (j < n && is_word_char(expr[j]))
                j++;
            char w[WORD_MAX + 1];
            if (j - i > WORD_MAX) {
                set_err(errbuf, errlen, "filter word too long at offset %zu", i);
                return false;
            }
            memcpy(w, expr + i, j - i);
            w[j - i] = '\0';
            if (!word_ok(w)) {
                set_err(errbuf, errlen,
                        "'%s' in the filter is not a keyword, number or address (host and "
                        "port names are not resolved: use addresses and port numbers)",
                        w);
                return false;
            }
            i = j;
        } else if (c == ' ' || c == '\t' || strchr("()[]!&|<>=+*/%^\\", c)) {
            i++;
        } else {
            set_err(errbuf, errlen, "character 0x%02x at offset %zu is not allowed in a filter",
                    (unsigned)(unsigned char)c, i);
            return false;
        }
    }
    return true;
}

/* Compile a checked expression for link type `dlt` into `prog`. */
static bool
compile(const char *expr, int dlt, struct bpf_program *prog, char *errbuf, size_t errlen)
{
    if (!ns_bpf_flow_check(expr, errbuf, errlen))
        return false;
    pcap_t *dead = pcap_open_dead(dlt, SNAPLEN);
    if (dead == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return false;
    }
    bool ok = pcap_compile(dead, prog, expr, 1, PCAP_NETMASK_UNKNOWN) == 0;
    if (!ok)
        set_err(errbuf, errlen, "bad filter: %s", pcap_geterr(dead));
    pcap_close(dead);
    return ok;
}

ns_bpf_flow_t *
ns_bpf_flow_new(const char *expr, char *errbuf, size_t errlen)
{
    ns_bpf_flow_t *self = calloc(1, sizeof(*self));
    if (self == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    if (!compile(expr, DLT_EN10MB, &self->prog, errbuf, errlen)) {
        free(self);
        return NULL;
    }
    return self;
}

void
ns_bpf_flow_destroy(ns_bpf_flow_t **self_p)
{
    ns_bpf_flow_t *self = *self_p;
    if (self == NULL)
        return;
    pcap_freecode(&self->prog);
    free(self);
    *self_p = NULL;
}

/* ---- frames ------------------------------------------------------------------------------ */

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Build the frame of one direction (src = side `dir` of the key) into f; returns its length. */
static size_t
frame(const ns_bpf_flow_key_t *k, unsigned dir, bool tagged, uint8_t f[FRAME_MAX])
{
    const uint8_t *src = dir ? k->resp_h : k->orig_h;
    const uint8_t *dst = dir ? k->orig_h : k->resp_h;
    uint16_t sport = dir ? k->resp_p : k->orig_p;
    uint16_t dport = dir ? k->orig_p : k->resp_p;
    memset(f, 0, FRAME_MAX);
    /* MACs: locally administered, unicast, not broadcast, so "ether broadcast" is false */
    f[0] = 0x02;
    f[5] = (uint8_t)(dir ? 1 : 2);
    f[6] = 0x02;
    f[11] = (uint8_t)(dir ? 2 : 1);
    size_t off = 12;
    if (tagged) {
        put16(f + off, 0x8100);
        put16(f + off + 2, (uint16_t)(k->vlan & 0x0fffu));
        off += VLAN_TAG_LEN;
    }
    put16(f + off, k->ip_ver == 6 ? 0x86dd : 0x0800);
    off += 2;
    size_t l4len;
    switch (k->proto) {
    case 6:
        l4len = TCP_LEN;
        break;
    case 17:
        l4len = UDP_LEN;
        break;
    case 1:
    case 58:
        l4len = ICMP_LEN;
        break;
    default:
        l4len = 0;
        break;
    }
    uint8_t *ip = f + off;
    if (k->ip_ver == 6) {
        ip[0] = 0x60;
        put16(ip + 4, (uint16_t)l4len);
        ip[6] = k->proto;
        ip[7] = 64;
        memcpy(ip + 8, src, 16);
        memcpy(ip + 24, dst, 16);
        off += IP6_LEN;
    } else {
        ip[0] = 0x45;
        put16(ip + 2, (uint16_t)(IP4_LEN + l4len));
        ip[8] = 64;
        ip[9] = k->proto;
        memcpy(ip + 12, src, 4);
        memcpy(ip + 16, dst, 4);
        off += IP4_LEN;
    }
    uint8_t *l4 = f + off;
    if (k->proto == 6) {
        put16(l4, sport);
        put16(l4 + 2, dport);
        l4[12] = 0x50; /* data offset 5 words */
    } else if (k->proto == 17) {
        put16(l4, sport);
        put16(l4 + 2, dport);
        put16(l4 + 4, UDP_LEN);
    } else if (k->proto == 1 || k->proto == 58) {
        l4[0] = (uint8_t)sport; /* type; the code is not in the key */
    }
    return off + l4len;
}

static bool
run(const ns_bpf_flow_t *self, const ns_bpf_flow_key_t *k, bool tagged)
{
    uint8_t f[FRAME_MAX];
    for (unsigned dir = 0; dir < 2; dir++) {
        size_t len = frame(k, dir, tagged, f);
        struct pcap_pkthdr h;
        memset(&h, 0, sizeof(h));
        h.caplen = h.len = (bpf_u_int32)len;
        if (pcap_offline_filter(&self->prog, &h, f) != 0)
            return true;
    }
    return false;
}

bool
ns_bpf_flow_match(const ns_bpf_flow_t *self, const ns_bpf_flow_key_t *k)
{
    if (k->ip_ver != 4 && k->ip_ver != 6)
        return false;
    /* A flow on a VLAN matches both "port 80" (as if untagged) and "vlan 10" (tagged). */
    return run(self, k, false) || (k->vlan != 0 && run(self, k, true));
}

void
ns_bpf_flow_key_of(const ns_flow_rec_t *rec, ns_bpf_flow_key_t *k)
{
    k->ip_ver = rec->ip_ver;
    k->proto = rec->proto;
    k->vlan = rec->vlan;
    memcpy(k->orig_h, rec->orig_h.b, 16);
    memcpy(k->resp_h, rec->resp_h.b, 16);
    k->orig_p = rec->orig_p;
    k->resp_p = rec->resp_p;
}

bool
ns_bpf_flow_match_rec(const ns_bpf_flow_t *self, const ns_flow_rec_t *rec)
{
    ns_bpf_flow_key_t k;
    ns_bpf_flow_key_of(rec, &k);
    return ns_bpf_flow_match(self, &k);
}

/* ---- a filter over a capture file ------------------------------------------------------- */

#define PCAP_FILE_HDR 24u
#define PCAP_REC_HDR 16u

static uint32_t
rd32(const uint8_t *p, bool swap)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return swap ? __builtin_bswap32(v) : v;
}

bool
ns_bpf_pcap_count(const char *expr, const uint8_t *data, size_t len, uint64_t *packets,
                  uint64_t *kept, char *errbuf, size_t errlen)
{
    *packets = *kept = 0;
    if (len < PCAP_FILE_HDR) {
        set_err(errbuf, errlen, "not a pcap file: %zu bytes", len);
        return false;
    }
    uint32_t magic = rd32(data, false);
    bool swap = magic == 0xd4c3b2a1u || magic == 0x4d3cb2a1u;
    if (!swap && magic != 0xa1b2c3d4u && magic != 0xa1b23c4du) {
        set_err(errbuf, errlen, "not a classic pcap file (magic %08x)", magic);
        return false;
    }
    struct bpf_program prog;
    int dlt = (int)(rd32(data + 20, swap) & 0x0fffffffu); /* the upper bits are FCS flags */
    if (!compile(expr, dlt, &prog, errbuf, errlen))
        return false;
    /* records: bounded by the file, a record's captured length by what is left of it */
    for (size_t off = PCAP_FILE_HDR; len - off >= PCAP_REC_HDR;) {
        uint32_t cap = rd32(data + off + 8, swap), wire = rd32(data + off + 12, swap);
        if (cap > len - off - PCAP_REC_HDR)
            break; /* truncated file: what was whole is counted */
        struct pcap_pkthdr h = {.caplen = cap, .len = wire};
        (*packets)++;
        if (pcap_offline_filter(&prog, &h, data + off + PCAP_REC_HDR) != 0)
            (*kept)++;
        off += PCAP_REC_HDR + cap;
    }
    pcap_freecode(&prog);
    return true;
}
