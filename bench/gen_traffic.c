/* gen_traffic.c - deterministic workload generator: writes classic pcap files of synthetic traffic.
 *
 *   gen_traffic -w OUT.pcap [--mix | --handshakes | --concurrent-flows N]
 *               [-c PACKETS] [--flows N] [--active N] [--seed S]
 *
 * The benchmarks (bench/run.sh) need the same bytes on every machine and every run, so
 * everything here derives from one 64-bit seed through our own splitmix64 generator (never
 * rand()), simulated time starts at a fixed epoch, and the pcap file (classic format,
 * microsecond timestamps, LINKTYPE_ETHERNET) is written field by field in little-endian order
 * with stdio, without libpcap.
 *
 * Workloads:
 *   --mix (default)        concurrent conversations as a campus uplink sees them: DNS over
 *                          UDP (A+AAAA pairs, CNAME chains, compression, NXDOMAIN, EDNS,
 *                          retries), HTTP/1.1 keep-alive GET/POST with responses of heavy-tailed
 *                          size, TLS-framed bulk transfers, TCP handshakes with options, delayed
 *                          ACKs, losses with dup-ACKs + SACK and fast or timeout retransmission,
 *                          FIN and RST closes, rejected and unanswered SYNs, ICMP echo and
 *                          port-unreachable, NTP, RTP voice; 20% of conversations over IPv6,
 *                          10% in an 802.1Q VLAN, 2% QinQ, 5% under an MPLS label stack.
 *   --handshakes           only SYN / SYN-ACK / ACK of many distinct TCP connections.
 *   --concurrent-flows N   N distinct TCP connections, each opened with a handshake and left
 *                          open (the flow-table memory benchmark).
 *
 * Design: the mix is a discrete-event simulation. Each conversation is a small state machine
 * that, when its queue of pending packet descriptors runs dry, plans its next round (a
 * handshake, a window of data segments with the receiver's ACKs, a loss and its
 * retransmission, a close) into that queue; a min-heap on next-packet time interleaves the
 * conversations, so timestamps never go backwards. Frames are built from descriptors only
 * when emitted, so sequence/acknowledgement numbers, IP and UDP lengths, DNS counts and HTTP
 * Content-Length are consistent by construction. Checksums are computed too (cheap, and it
 * keeps tshark's expert info quiet). The capture point is next to the clients: server packets
 * arrive one RTT after the client packets they answer.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---------------------------------------------------------------------------------------- */
/* Pseudo-random numbers: splitmix64 (Steele, Lea, Flood 2014), our own so output is fixed.  */

typedef struct {
    uint64_t s;
} rng_t;

static uint64_t
rng_next(rng_t *r)
{
    uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [0, n); n > 0. The modulo bias (< 2^-32 for our n) does not matter here. */
static uint32_t
rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)((rng_next(r) >> 32) % n);
}

/* Uniform in [lo, hi]. */
static uint32_t
rng_range(rng_t *r, uint32_t lo, uint32_t hi)
{
    return lo + rng_below(r, hi - lo + 1u);
}

/* True with probability permille/1000. */
static bool
rng_chance(rng_t *r, uint32_t permille)
{
    return rng_below(r, 1000) < permille;
}

/* Log-uniform in [lo, hi]: heavy-tailed sizes and delays without libm. */
static uint32_t
rng_logu(rng_t *r, uint32_t lo, uint32_t hi)
{
    /* Pick a power-of-two band uniformly, then a value uniformly inside it. */
    uint32_t bands = 0;
    for (uint64_t v = lo; v < hi; v *= 2)
        bands++;
    if (bands == 0)
        return lo;
    uint32_t b = rng_below(r, bands);
    uint64_t a = (uint64_t)lo << b;
    uint64_t z = a * 2 > hi ? hi : a * 2;
    return (uint32_t)(a + rng_next(r) % (z - a + 1));
}

/* An independent generator for item `i` of a stream seeded with `seed`. */
static rng_t
rng_for(uint64_t seed, uint64_t i)
{
    rng_t r = {seed ^ (i * 0xd1b54a32d192ed03ull)};
    (void)rng_next(&r);
    return r;
}

/* ---------------------------------------------------------------------------------------- */
/* Byte writers and the Internet checksum.                                                  */

static void
be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void
be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static void
le16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void
le32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

/* One's-complement sum of `n` bytes (RFC 1071), not yet folded. */
static uint64_t
csum_add(uint64_t sum, const uint8_t *p, uint32_t n)
{
    uint32_t i = 0;
    for (; i + 1 < n; i += 2)
        sum += (uint32_t)(p[i] << 8 | p[i + 1]);
    if (i < n)
        sum += (uint32_t)p[i] << 8;
    return sum;
}

static uint16_t
csum_fold(uint64_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* ---------------------------------------------------------------------------------------- */
/* Classic pcap output (stdio; the format is 24 + 16 bytes of headers).                     */

#define PCAP_MAGIC_US 0xa1b2c3d4u
#define PCAP_SNAPLEN 262144u
#define LINKTYPE_ETHERNET 1u
#define EPOCH_S 1700000000ull /* 2023-11-14 22:13:20 UTC: the file's time zero */

typedef struct {
    FILE *fp;
    char *iobuf;
    uint64_t packets;
    uint64_t wire_bytes;
} pcap_out_t;

/* Create `path` and write the global header. Returns false (errno set) on failure. */
static bool
pcap_out_open(pcap_out_t *o, const char *path)
{
    memset(o, 0, sizeof *o);
    o->fp = fopen(path, "wb");
    if (o->fp == NULL)
        return false;
    o->iobuf = malloc(1u << 20);
    if (o->iobuf)
        setvbuf(o->fp, o->iobuf, _IOFBF, 1u << 20);
    uint8_t h[24];
    le32(h, PCAP_MAGIC_US);
    le16(h + 4, 2);
    le16(h + 6, 4);
    le32(h + 8, 0);  /* thiszone */
    le32(h + 12, 0); /* sigfigs */
    le32(h + 16, PCAP_SNAPLEN);
    le32(h + 20, LINKTYPE_ETHERNET);
    return fwrite(h, sizeof h, 1, o->fp) == 1;
}

/* Append one frame captured whole at simulated time `t_us`. */
static bool
pcap_out_write(pcap_out_t *o, uint64_t t_us, const uint8_t *frame, uint32_t len)
{
    uint8_t h[16];
    le32(h, (uint32_t)(EPOCH_S + t_us / 1000000u));
    le32(h + 4, (uint32_t)(t_us % 1000000u));
    le32(h + 8, len);
    le32(h + 12, len);
    o->packets++;
    o->wire_bytes += len;
    return fwrite(h, sizeof h, 1, o->fp) == 1 && fwrite(frame, len, 1, o->fp) == 1;
}

/* Flush and close; false when any write failed. */
static bool
pcap_out_close(pcap_out_t *o)
{
    bool ok = !ferror(o->fp);
    ok = fclose(o->fp) == 0 && ok;
    free(o->iobuf);
    o->fp = NULL;
    o->iobuf = NULL;
    return ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Content pools: payload bytes are slices of two fixed 64 KiB blocks, so a retransmission   */
/* carries the same bytes as the original and nothing is allocated per packet.              */

#define POOL_SIZE 65536u
#define POOL_MASK (POOL_SIZE - 1u)

static uint8_t g_bin_pool[POOL_SIZE];  /* random bytes: encrypted or compressed data */
static uint8_t g_text_pool[POOL_SIZE]; /* ASCII prose: text/html bodies */

static void
pools_init(uint64_t seed)
{
    static const char *const words[] = {"network", "packet", "flow",    "the",    "of",     "and",
                                        "latency", "<p>",    "</p>",    "router", "a",      "to",
                                        "stream",  "in",     "capture", "<div>",  "</div>", "host",
                                        "traffic", "with",   "time",    "is",     "window", "\n"};
    rng_t r = rng_for(seed, 0x706f6f6cu);
    for (uint32_t i = 0; i < POOL_SIZE; i += 4)
        be32(g_bin_pool + i, (uint32_t)rng_next(&r));
    uint32_t n = 0;
    while (n < POOL_SIZE) {
        const char *w = words[rng_below(&r, (uint32_t)(sizeof words / sizeof words[0]))];
        for (; *w && n < POOL_SIZE; w++)
            g_text_pool[n++] = (uint8_t)*w;
        if (n < POOL_SIZE)
            g_text_pool[n++] = ' ';
    }
}

/* Copy `len` bytes of `pool` starting at logical position `pos` (wrapping). */
static void
pool_copy(const uint8_t *pool, uint32_t pos, uint8_t *dst, uint32_t len)
{
    while (len > 0) {
        uint32_t at = pos & POOL_MASK;
        uint32_t n = POOL_SIZE - at < len ? POOL_SIZE - at : len;
        memcpy(dst, pool + at, n);
        dst += n;
        pos += n;
        len -= n;
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Conversations.                                                                           */

#define QCAP 128     /* descriptor ring per conversation (a round plans at most ~70) */
#define HDR_MAX 640  /* HTTP header text or DNS name of the current message */
#define MAX_MSGS 14  /* messages per TCP conversation */
#define CWND_INIT 10 /* segments in the first round (RFC 6928) */
#define CWND_MAX 32
#define LOSS_PERMILLE 8 /* per data segment: lost after the capture point */
#define TLS_REC 16389u  /* a full TLS record: 5-byte header + 2^14 bytes */

enum { C2S = 0, S2C = 1 };

/* Conversation kinds (the mix). */
typedef enum {
    FK_DNS,
    FK_HTTP,
    FK_TLS,
    FK_TCP_REJ, /* SYN answered by RST */
    FK_TCP_S0,  /* SYN never answered, retransmitted */
    FK_ICMP_ECHO,
    FK_ICMP_UNREACH,
    FK_NTP,
    FK_RTP,
    FK_COUNT
} flow_kind_t;

static const char *const g_kind_names[FK_COUNT] = {
    "dns",       "http",         "tls", "tcp-rejected", "tcp-unanswered",
    "icmp-echo", "icmp-unreach", "ntp", "rtp"};

/* Share of new conversations, in per mille; the heavy TCP ones carry most packets. */
static const uint16_t g_kind_weight[FK_COUNT] = {430, 110, 240, 40, 25, 60, 20, 50, 25};

/* Packet descriptor kinds. */
typedef enum {
    PK_TCP,
    PK_DNS_Q, /* `aux` = which of the conversation's queries */
    PK_DNS_R,
    PK_ICMP_REQ, /* `aux` = echo sequence number */
    PK_ICMP_REP,
    PK_UDP_PROBE,
    PK_ICMP_UNREACH,
    PK_NTP,
    PK_RTP
} pkt_kind_t;

/* One packet to emit: what the frame builder needs, nothing more. */
typedef struct {
    uint32_t delay_us; /* after the conversation's previous packet */
    uint32_t seq, ack;
    uint32_t len;            /* L4 payload bytes (TCP) */
    uint32_t msg_off;        /* TCP: offset of the payload in the current message */
    uint32_t sack_l, sack_r; /* one SACK block when sack_r != sack_l */
    uint16_t flags;          /* TCP flags */
    uint16_t aux;
    uint8_t dir;  /* C2S or S2C */
    uint8_t kind; /* pkt_kind_t */
} desc_t;

typedef enum { BODY_NONE, BODY_BIN, BODY_TEXT, BODY_TLS } body_kind_t;

/* A TCP message (HTTP request/response, a TLS flight) in one direction. */
typedef struct {
    uint8_t dir;
    uint8_t body;     /* body_kind_t */
    uint16_t hdr_len; /* bytes of f->hdr that precede the body */
    uint32_t body_len;
    uint32_t body_pos; /* where in the pool the body starts */
    uint32_t sent;     /* bytes of the message already planned */
} msg_t;

typedef enum { CLOSE_FIN_C, CLOSE_FIN_S, CLOSE_RST_C, CLOSE_RST_S, CLOSE_NONE } close_t;
typedef enum { PH_START, PH_DATA, PH_CLOSE, PH_DONE } phase_t;

typedef struct {
    uint64_t next_us; /* emission time of q[qhead] (heap key) */
    uint64_t last_us; /* emission time of the previous packet */
    uint32_t id;
    uint8_t kind, phase;
    bool v6;
    /* endpoints, indexed by C2S (client) / S2C (server) */
    uint8_t ip[2][16];
    uint8_t mac[2][6];
    uint16_t port[2];
    uint8_t ttl[2];
    uint16_t ipid[2];
    uint32_t flowlabel;
    /* encapsulation (same both ways) */
    uint8_t n_vlan, n_mpls;
    bool qinq;
    uint16_t vlan[2];
    uint32_t mpls[2];
    /* TCP */
    bool ts_opt;
    uint8_t wscale[2];
    uint16_t win[2], mss[2];
    uint32_t nxt[2];
    uint32_t ts_base[2], ts_last[2];
    uint8_t cwnd[2];
    uint32_t rtt_us;
    uint32_t pending_us; /* delay before the next round */
    uint8_t close_kind;
    /* the script: message directions/sizes, one current message */
    uint8_t n_msg, cur_msg;
    uint8_t msg_dir[MAX_MSGS];
    msg_t msg;
    char hdr[HDR_MAX];
    char host[48]; /* HTTP: the Host of every request on the connection */
    /* UDP/ICMP conversations */
    uint16_t app_id[2]; /* DNS ids of the A and AAAA queries; ICMP echo id */
    uint16_t qtype[2];
    uint8_t n_query;
    uint8_t rcode;
    bool cname, edns, nodata_aaaa;
    uint8_t n_answers;
    uint32_t count; /* pings, RTP packets still to plan */
    uint16_t rtp_seq[2];
    uint32_t rtp_ts[2], rtp_ssrc[2];
    rng_t rng;
    /* queued packets */
    desc_t q[QCAP];
    uint8_t qhead, qn;
} flow_t;

/* ---------------------------------------------------------------------------------------- */
/* Hosts: deterministic addresses, so a server or resolver recurs across conversations.     */

static const uint8_t g_gw_mac[6] = {0x00, 0x1b, 0x21, 0x3c, 0x9d, 0xf8};
static const uint8_t g_srv_v4_prefix[8][2] = {{151, 101}, {104, 16}, {142, 250}, {93, 184},
                                              {185, 199}, {13, 107}, {52, 84},   {34, 117}};

static void
client_addr(flow_t *f, uint32_t c)
{
    memset(f->ip[C2S], 0, 16);
    if (f->v6) {
        static const uint8_t p[8] = {0xfd, 0x00, 0x0a, 0x11, 0x00, 0x01, 0x00, 0x00};
        memcpy(f->ip[C2S], p, 8);
        be32(f->ip[C2S] + 12, c);
    } else {
        f->ip[C2S][0] = 10;
        f->ip[C2S][1] = (uint8_t)(c >> 16);
        f->ip[C2S][2] = (uint8_t)(c >> 8);
        f->ip[C2S][3] = (uint8_t)c;
    }
    uint8_t m[6] = {0x02,      0x00, (uint8_t)(c >> 24), (uint8_t)(c >> 16), (uint8_t)(c >> 8),
                    (uint8_t)c};
    memcpy(f->mac[C2S], m, 6);
}

static void
server_addr(flow_t *f, uint32_t s)
{
    uint32_t h = (uint32_t)rng_next(&(rng_t){s * 0x9e3779b9u});
    memset(f->ip[S2C], 0, 16);
    if (f->v6) {
        static const uint8_t p[6] = {0x26, 0x06, 0x47, 0x00, 0x00, 0x30};
        memcpy(f->ip[S2C], p, 6);
        be32(f->ip[S2C] + 12, h);
    } else {
        f->ip[S2C][0] = g_srv_v4_prefix[s & 7][0];
        f->ip[S2C][1] = g_srv_v4_prefix[s & 7][1];
        f->ip[S2C][2] = (uint8_t)(h >> 8);
        f->ip[S2C][3] = (uint8_t)(h | 1u);
    }
    memcpy(f->mac[S2C], g_gw_mac, 6); /* off-net: the router's MAC */
}

/* One of three resolvers per family. */
static void
resolver_addr(flow_t *f, uint32_t i)
{
    static const uint8_t v4[3][4] = {{10, 0, 0, 53}, {8, 8, 8, 8}, {1, 1, 1, 1}};
    static const uint8_t v6[3][16] = {
        {0xfd, 0x00, 0x0a, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53},
        {0x20, 0x01, 0x48, 0x60, 0x48, 0x60, 0, 0, 0, 0, 0, 0, 0, 0, 0x88, 0x88},
        {0x26, 0x06, 0x47, 0x00, 0x47, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0x11, 0x11}};
    memset(f->ip[S2C], 0, 16);
    memcpy(f->ip[S2C], f->v6 ? v6[i % 3] : v4[i % 3], f->v6 ? 16u : 4u);
    memcpy(f->mac[S2C], g_gw_mac, 6);
}

/* Popular servers recur (log-uniform index over 4096 servers). */
static uint32_t
pick_server(rng_t *r)
{
    return rng_logu(r, 1, 4096) - 1;
}

static uint16_t
ephemeral_port(rng_t *r)
{
    return (uint16_t)rng_range(r, 32768, 60999); /* Linux ip_local_port_range */
}

/* VLAN / QinQ / MPLS for a share of conversations. */
static void
pick_encap(flow_t *f)
{
    static const uint16_t vids[6] = {10, 20, 100, 101, 200, 3001};
    uint32_t x = rng_below(&f->rng, 1000);
    if (x < 100) {
        f->n_vlan = 1;
        f->vlan[0] = vids[rng_below(&f->rng, 6)];
    } else if (x < 120) {
        f->n_vlan = 2;
        f->qinq = true;
        f->vlan[0] = (uint16_t)rng_range(&f->rng, 100, 199);
        f->vlan[1] = vids[rng_below(&f->rng, 6)];
    } else if (x < 170) {
        f->n_mpls = (uint8_t)rng_range(&f->rng, 1, 2);
        f->mpls[0] = rng_range(&f->rng, 16, 1048575);
        f->mpls[1] = rng_range(&f->rng, 16, 1048575);
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Frame building: L2 + encapsulation, IP, then the transport; lengths and checksums last.  */

#define FRAME_MAX 2048
#define ETH_MIN 60 /* frames shorter than this are padded, as on the wire */

typedef struct {
    uint8_t b[FRAME_MAX];
    uint32_t len;
    uint32_t l3, l4;
    uint8_t proto;
} frame_t;

static void
put_l2(frame_t *fr, const flow_t *f, uint8_t dir)
{
    memcpy(fr->b, f->mac[dir ^ 1u], 6);
    memcpy(fr->b + 6, f->mac[dir], 6);
    uint32_t o = 12;
    for (uint8_t i = 0; i < f->n_vlan; i++) {
        be16(fr->b + o, (f->qinq && i == 0) ? 0x88a8u : 0x8100u);
        be16(fr->b + o + 2, f->vlan[i]);
        o += 4;
    }
    if (f->n_mpls > 0) {
        be16(fr->b + o, 0x8847);
        o += 2;
        for (uint8_t i = 0; i < f->n_mpls; i++) {
            uint32_t bos = i + 1u == f->n_mpls ? 1u : 0u;
            be32(fr->b + o, f->mpls[i] << 12 | bos << 8 | 64u);
            o += 4;
        }
    } else {
        be16(fr->b + o, f->v6 ? 0x86ddu : 0x0800u);
        o += 2;
    }
    fr->len = o;
}

/* IP header with the length and checksum left for ip_finish(). */
static void
put_ip(frame_t *fr, flow_t *f, uint8_t dir, uint8_t proto)
{
    uint8_t *p = fr->b + fr->len;
    fr->l3 = fr->len;
    fr->proto = proto;
    if (f->v6) {
        be32(p, 6u << 28 | f->flowlabel);
        be16(p + 4, 0);
        p[6] = proto;
        p[7] = f->ttl[dir];
        memcpy(p + 8, f->ip[dir], 16);
        memcpy(p + 24, f->ip[dir ^ 1u], 16);
        fr->len += 40;
    } else {
        p[0] = 0x45;
        p[1] = 0;
        be16(p + 2, 0);
        be16(p + 4, f->ipid[dir]++);
        be16(p + 6, proto == 17 || proto == 1 ? 0u : 0x4000u); /* DF on TCP, as Linux */
        p[8] = f->ttl[dir];
        p[9] = proto;
        be16(p + 10, 0);
        memcpy(p + 12, f->ip[dir], 4);
        memcpy(p + 16, f->ip[dir ^ 1u], 4);
        fr->len += 20;
    }
    fr->l4 = fr->len;
}

/* Fill IP/UDP lengths, the IPv4 header checksum and the transport checksum; pad to 60. */
static void
ip_finish(frame_t *fr, const flow_t *f)
{
    uint8_t *ip = fr->b + fr->l3;
    uint32_t l4_len = fr->len - fr->l4;
    uint64_t pseudo = 0;
    if (f->v6) {
        be16(ip + 4, l4_len);
        pseudo = csum_add(0, ip + 8, 32);
    } else {
        be16(ip + 2, fr->len - fr->l3);
        be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
        pseudo = csum_add(0, ip + 12, 8);
    }
    pseudo += fr->proto + l4_len;
    uint8_t *l4 = fr->b + fr->l4;
    uint32_t at = 0;
    if (fr->proto == 6) {
        at = 16;
    } else if (fr->proto == 17) {
        be16(l4 + 4, l4_len);
        at = 6;
    } else {
        at = 2;
        if (fr->proto == 1)
            pseudo = 0; /* ICMPv4 has no pseudo-header */
    }
    be16(l4 + at, 0);
    uint16_t sum = csum_fold(csum_add(pseudo, l4, l4_len));
    if (fr->proto == 17 && sum == 0)
        sum = 0xffff;
    be16(l4 + at, sum);
    while (fr->len < ETH_MIN)
        fr->b[fr->len++] = 0;
}

/* ---- TCP -------------------------------------------------------------------------------- */

/* Option writers: each returns the offset after what it wrote. */
static uint32_t
opt_mss(uint8_t *p, uint32_t o, uint16_t mss)
{
    p[o] = 2;
    p[o + 1] = 4;
    be16(p + o + 2, mss);
    return o + 4;
}

static uint32_t
opt_kind_len(uint8_t *p, uint32_t o, uint8_t kind, uint8_t len)
{
    p[o] = kind;
    p[o + 1] = len;
    return o + 2;
}

static uint32_t
opt_pair(uint8_t *p, uint32_t o, uint8_t kind, uint32_t a, uint32_t b)
{
    o = opt_kind_len(p, o, kind, 10);
    be32(p + o, a);
    be32(p + o + 4, b);
    return o + 8;
}

static uint32_t
opt_wscale(uint8_t *p, uint32_t o, uint8_t shift)
{
    p[o] = 3;
    p[o + 1] = 3;
    p[o + 2] = shift;
    return o + 3;
}

static uint32_t
opt_nop(uint8_t *p, uint32_t o)
{
    p[o] = 1;
    return o + 1;
}

/* TCP options as Linux sends them (MSS, SACK-permitted, timestamps, NOP, window scale), or
 * Windows' layout without timestamps; NOP-padded timestamps on every later segment and a SACK
 * block on duplicate ACKs. Returns the option bytes written (a multiple of 4). */
static uint32_t
put_tcp_opts(uint8_t *p, const flow_t *f, const desc_t *d, uint32_t tsval, uint32_t tsecr)
{
    uint32_t o = 0;
    if (d->flags & 0x02u) {
        o = opt_mss(p, o, f->mss[d->dir]);
        if (f->ts_opt) {
            o = opt_kind_len(p, o, 4, 2);
            o = opt_pair(p, o, 8, tsval, tsecr);
            o = opt_nop(p, o);
            return opt_wscale(p, o, f->wscale[d->dir]);
        }
        o = opt_nop(p, o);
        o = opt_wscale(p, o, f->wscale[d->dir]);
        o = opt_nop(p, opt_nop(p, o));
        return opt_kind_len(p, o, 4, 2);
    }
    if (f->ts_opt)
        o = opt_pair(p, opt_nop(p, opt_nop(p, o)), 8, tsval, tsecr);
    if (d->sack_r != d->sack_l)
        o = opt_pair(p, opt_nop(p, opt_nop(p, o)), 5, d->sack_l, d->sack_r);
    return o;
}

/* Payload bytes [off, off+len) of the current message: header text, then the body. */
static void
msg_fill(const flow_t *f, uint32_t off, uint8_t *dst, uint32_t len)
{
    const msg_t *m = &f->msg;
    while (len > 0) {
        uint32_t n = 1;
        if (off < m->hdr_len) {
            n = m->hdr_len - off < len ? m->hdr_len - off : len;
            memcpy(dst, f->hdr + off, n);
        } else if (m->body == BODY_TLS) {
            uint32_t b = off - m->hdr_len, rec = b / TLS_REC, r = b % TLS_REC;
            uint32_t rec_len = m->body_len - rec * TLS_REC;
            if (rec_len > TLS_REC)
                rec_len = TLS_REC;
            if (r < 5) {
                uint8_t h[5] = {0x17, 0x03, 0x03, (uint8_t)((rec_len - 5) >> 8),
                                (uint8_t)(rec_len - 5)};
                *dst = h[r];
            } else {
                n = rec_len - r < len ? rec_len - r : len;
                pool_copy(g_bin_pool, m->body_pos + b, dst, n);
            }
        } else {
            n = len;
            pool_copy(m->body == BODY_TEXT ? g_text_pool : g_bin_pool,
                      m->body_pos + off - m->hdr_len, dst, n);
        }
        dst += n;
        off += n;
        len -= n;
    }
}

static void
build_tcp(frame_t *fr, flow_t *f, const desc_t *d, uint64_t now_us)
{
    put_ip(fr, f, d->dir, 6);
    uint8_t *p = fr->b + fr->len;
    be16(p, f->port[d->dir]);
    be16(p + 2, f->port[d->dir ^ 1u]);
    be32(p + 4, d->seq);
    be32(p + 8, d->ack);
    p[13] = (uint8_t)d->flags;
    uint32_t win = f->win[d->dir];
    if (d->flags & 0x02u)
        win = d->dir == C2S ? 64240u : 65160u; /* SYN windows are never scaled */
    be16(p + 14, win);
    be16(p + 16, 0);
    be16(p + 18, 0);
    uint32_t tsval = f->ts_base[d->dir] + (uint32_t)(now_us / 1000u);
    uint32_t hl = 20 + put_tcp_opts(p + 20, f, d, tsval, f->ts_last[d->dir ^ 1u]);
    f->ts_last[d->dir] = tsval;
    p[12] = (uint8_t)(hl / 4 << 4);
    fr->len += hl;
    if (d->len > 0 && d->kind == PK_TCP)
        msg_fill(f, d->msg_off, fr->b + fr->len, d->len);
    fr->len += d->len;
}

/* ---- UDP, DNS ----------------------------------------------------------------------------- */

static uint8_t *
put_udp(frame_t *fr, flow_t *f, uint8_t dir)
{
    put_ip(fr, f, dir, 17);
    uint8_t *p = fr->b + fr->len;
    be16(p, f->port[dir]);
    be16(p + 2, f->port[dir ^ 1u]);
    fr->len += 8;
    return fr->b + fr->len;
}

/* Write `name` (dotted text) as labels at p+o; returns the new offset. */
static uint32_t
dns_put_name(uint8_t *p, uint32_t o, const char *name, uint32_t n)
{
    uint32_t start = 0;
    for (uint32_t i = 0; i <= n; i++) {
        if (i == n || name[i] == '.') {
            uint32_t l = i - start;
            if (l > 0) {
                p[o++] = (uint8_t)l;
                memcpy(p + o, name + start, l);
                o += l;
            }
            start = i + 1;
        }
    }
    p[o++] = 0;
    return o;
}

/* One label followed by a compression pointer to `target` (RFC 1035 4.1.4). */
static uint32_t
dns_put_label_ptr(uint8_t *p, uint32_t o, const char *label, uint32_t target)
{
    uint32_t l = (uint32_t)strlen(label);
    p[o++] = (uint8_t)l;
    memcpy(p + o, label, l);
    o += l;
    be16(p + o, 0xc000u | target);
    return o + 2;
}

/* Resource record header: compressed owner name, type, class IN, TTL; returns the offset of
 * the rdlength field (filled by dns_rr_end). */
static uint32_t
dns_rr(uint8_t *p, uint32_t *o, uint32_t owner, uint16_t type, uint32_t ttl)
{
    be16(p + *o, 0xc000u | owner);
    be16(p + *o + 2, type);
    be16(p + *o + 4, 1);
    be32(p + *o + 6, ttl);
    uint32_t rdlen_at = *o + 10;
    *o += 12;
    return rdlen_at;
}

static void
dns_rr_end(uint8_t *p, uint32_t rdlen_at, uint32_t o)
{
    be16(p + rdlen_at, o - rdlen_at - 2);
}

/* Offset (in the message) of the registered domain inside the question name. */
static uint32_t
dns_domain_off(const flow_t *f)
{
    const char *dot = memchr(f->hdr, '.', f->msg.hdr_len);
    if (dot == NULL || memchr(dot + 1, '.', (size_t)(f->hdr + f->msg.hdr_len - dot - 1)) == NULL)
        return 12;
    return 12 + (uint32_t)(dot - f->hdr) + 1;
}

/* SOA in the authority section of NXDOMAIN / NODATA answers. */
static uint32_t
dns_put_soa(uint8_t *p, uint32_t o, uint32_t dom)
{
    uint32_t rd = dns_rr(p, &o, dom, 6, 900);
    o = dns_put_label_ptr(p, o, "ns1", dom);
    o = dns_put_label_ptr(p, o, "hostmaster", dom);
    static const uint32_t v[5] = {2023111401u, 7200, 3600, 1209600, 300};
    for (int i = 0; i < 5; i++, o += 4)
        be32(p + o, v[i]);
    dns_rr_end(p, rd, o);
    return o;
}

/* The answer section for query `qi`; returns the new offset, counts in *an. */
static uint32_t
dns_put_answers(flow_t *f, uint8_t qi, uint8_t *p, uint32_t o, uint16_t *an)
{
    uint32_t dom = dns_domain_off(f), owner = 12;
    uint16_t qt = f->qtype[qi];
    rng_t r = rng_for(f->id, qi);
    if ((qt == 1 || qt == 28) && f->cname) {
        uint32_t rd = dns_rr(p, &o, 12, 5, 300);
        owner = o;
        char label[16];
        snprintf(label, sizeof label, "edge-%u", rng_below(&r, 100));
        o = dns_put_label_ptr(p, o, label, dom);
        dns_rr_end(p, rd, o);
        (*an)++;
    }
    if (qt == 1 || qt == 28) {
        for (uint8_t i = 0; i < f->n_answers; i++) {
            uint32_t rd = dns_rr(p, &o, owner, qt, rng_range(&r, 20, 3600));
            for (uint32_t k = 0; k < (qt == 1 ? 4u : 16u); k += 4)
                be32(p + o + k, (uint32_t)rng_next(&r));
            if (qt == 28)
                be16(p + o, 0x2a00), be16(p + o + 2, 0x1450);
            o += qt == 1 ? 4u : 16u;
            dns_rr_end(p, rd, o);
            (*an)++;
        }
    } else if (qt == 15) {
        for (uint16_t i = 1; i <= 2; i++) {
            uint32_t rd = dns_rr(p, &o, 12, 15, 3600);
            be16(p + o, i * 10u);
            o = dns_put_label_ptr(p, o + 2, i == 1 ? "mx1" : "mx2", dom);
            dns_rr_end(p, rd, o);
            (*an)++;
        }
    } else if (qt == 16) {
        static const char txt[] = "v=spf1 include:_spf.google.com ~all";
        uint32_t rd = dns_rr(p, &o, 12, 16, 3600);
        p[o++] = (uint8_t)(sizeof txt - 1);
        memcpy(p + o, txt, sizeof txt - 1);
        o += (uint32_t)sizeof txt - 1;
        dns_rr_end(p, rd, o);
        (*an)++;
    } else if (qt == 12) {
        uint32_t rd = dns_rr(p, &o, 12, 12, 86400);
        char name[48];
        int n = snprintf(name, sizeof name, "host-%u.static.example.net", rng_below(&r, 9999));
        o = dns_put_name(p, o, name, (uint32_t)n);
        dns_rr_end(p, rd, o);
        (*an)++;
    }
    return o;
}

/* A DNS query or response for the conversation's query `qi`, at p; returns its length. */
static uint32_t
dns_build(flow_t *f, uint8_t qi, bool response, uint8_t *p)
{
    uint16_t an = 0, ns = 0, ar = f->edns ? 1 : 0;
    bool nodata = response && f->qtype[qi] == 28 && f->nodata_aaaa;
    be16(p, f->app_id[qi]);
    be16(p + 2, response ? 0x8180u | f->rcode : 0x0100u);
    uint32_t o = dns_put_name(p, 12, f->hdr, f->msg.hdr_len);
    be16(p + o, f->qtype[qi]);
    be16(p + o + 2, 1);
    o += 4;
    if (response && f->rcode == 0 && !nodata)
        o = dns_put_answers(f, qi, p, o, &an);
    if (response && (f->rcode == 3 || nodata)) {
        o = dns_put_soa(p, o, dns_domain_off(f));
        ns = 1;
    }
    if (f->edns) { /* OPT pseudo-RR (RFC 6891): root owner, UDP size in the class field */
        p[o] = 0;
        be16(p + o + 1, 41);
        be16(p + o + 3, 1232);
        be32(p + o + 5, 0);
        be16(p + o + 9, 0);
        o += 11;
    }
    be16(p + 4, 1);
    be16(p + 6, an);
    be16(p + 8, ns);
    be16(p + 10, ar);
    return o;
}

/* ---- ICMP, NTP, RTP ----------------------------------------------------------------------- */

/* Echo request/reply (ICMP or ICMPv6) with Linux ping's 56-byte payload. */
static void
build_echo(frame_t *fr, flow_t *f, const desc_t *d, uint64_t now_us)
{
    put_ip(fr, f, d->dir, f->v6 ? 58 : 1);
    uint8_t *p = fr->b + fr->len;
    bool req = d->kind == PK_ICMP_REQ;
    p[0] = f->v6 ? (req ? 128 : 129) : (req ? 8 : 0);
    p[1] = 0;
    be16(p + 4, f->app_id[0]);
    be16(p + 6, d->aux);
    uint64_t sent = now_us - (req ? 0 : f->rtt_us);
    le32(p + 8, (uint32_t)(EPOCH_S + sent / 1000000u));
    le32(p + 12, 0);
    le32(p + 16, (uint32_t)(sent % 1000000u));
    le32(p + 20, 0);
    for (uint8_t i = 0; i < 40; i++)
        p[24 + i] = (uint8_t)(0x10 + i);
    fr->len += 64;
}

/* The UDP probe of a traceroute-like exchange, also quoted by the ICMP error. */
static void
build_probe(frame_t *fr, flow_t *f, const desc_t *d)
{
    uint8_t *p = put_udp(fr, f, d->dir);
    for (uint8_t i = 0; i < 32; i++)
        p[i] = (uint8_t)(0x40 + i);
    fr->len += 32;
    (void)d;
}

/* ICMP port unreachable from the server, quoting the probe's IP header and datagram. */
static void
build_unreach(frame_t *fr, flow_t *f, const desc_t *d)
{
    frame_t probe;
    desc_t pd = *d;
    pd.dir = C2S;
    f->ipid[C2S]--; /* the quoted datagram is the probe itself */
    put_l2(&probe, f, C2S);
    build_probe(&probe, f, &pd);
    ip_finish(&probe, f);
    uint32_t qlen = probe.l4 + 8 + 32 - probe.l3;
    put_ip(fr, f, S2C, 1);
    uint8_t *p = fr->b + fr->len;
    p[0] = 3;
    p[1] = 3;
    be32(p + 4, 0);
    memcpy(p + 8, probe.b + probe.l3, qlen);
    fr->len += 8 + qlen;
}

/* NTPv4 client request or server reply (RFC 5905), 48 bytes. */
static void
build_ntp(frame_t *fr, flow_t *f, const desc_t *d, uint64_t now_us)
{
    uint8_t *p = put_udp(fr, f, d->dir);
    memset(p, 0, 48);
    uint32_t sec = (uint32_t)(EPOCH_S + 2208988800ull + now_us / 1000000u);
    uint32_t frac = (uint32_t)((now_us % 1000000u) * 4294u);
    if (d->dir == C2S) {
        p[0] = 0x23; /* LI 0, VN 4, mode 3 */
        p[2] = 6;
        p[3] = 0xe9;
    } else {
        p[0] = 0x24; /* mode 4 */
        p[1] = 2;
        p[2] = 6;
        p[3] = 0xe9;
        be32(p + 4, 0x00000120);
        be32(p + 8, 0x00000340);
        memcpy(p + 12, "GPS\0", 4); /* reference id of a stratum-1 source */
        be32(p + 16, sec - 64);
        be32(p + 20, frac);
        be32(p + 24, sec - f->rtt_us / 1000000u); /* origin: the client's transmit time */
        be32(p + 28, frac);
        be32(p + 32, sec);
        be32(p + 36, frac);
    }
    be32(p + 40, sec);
    be32(p + 44, frac);
    fr->len += 48;
}

/* RTP (RFC 3550) G.711 voice: 12-byte header, 160 bytes of audio every 20 ms. */
static void
build_rtp(frame_t *fr, flow_t *f, const desc_t *d)
{
    uint8_t *p = put_udp(fr, f, d->dir);
    uint8_t dir = d->dir;
    p[0] = 0x80;
    p[1] = (uint8_t)(d->aux ? 0x80u : 0u); /* marker on the first packet, PT 0 (PCMU) */
    be16(p + 2, f->rtp_seq[dir]++);
    be32(p + 4, f->rtp_ts[dir]);
    f->rtp_ts[dir] += 160;
    be32(p + 8, f->rtp_ssrc[dir]);
    pool_copy(g_bin_pool, f->rtp_seq[dir] * 160u, p + 12, 160);
    fr->len += 172;
}

/* Build the frame for descriptor `d` of conversation `f`, emitted at `now_us`. */
static void
build_frame(frame_t *fr, flow_t *f, const desc_t *d, uint64_t now_us)
{
    put_l2(fr, f, d->dir);
    switch ((pkt_kind_t)d->kind) {
    case PK_TCP:
        build_tcp(fr, f, d, now_us);
        break;
    case PK_DNS_Q:
    case PK_DNS_R: {
        uint8_t *p = put_udp(fr, f, d->dir);
        fr->len += dns_build(f, (uint8_t)d->aux, d->kind == PK_DNS_R, p);
        break;
    }
    case PK_ICMP_REQ:
    case PK_ICMP_REP:
        build_echo(fr, f, d, now_us);
        break;
    case PK_UDP_PROBE:
        build_probe(fr, f, d);
        break;
    case PK_ICMP_UNREACH:
        build_unreach(fr, f, d);
        break;
    case PK_NTP:
        build_ntp(fr, f, d, now_us);
        break;
    case PK_RTP:
        build_rtp(fr, f, d);
        break;
    }
    ip_finish(fr, f);
}

/* ---------------------------------------------------------------------------------------- */
/* Planning: each call appends the next round of a conversation to its queue.               */

/* A round is planned with absolute offsets from its start, then sorted and turned into the
 * per-packet delays the queue holds. */
typedef struct {
    desc_t d[QCAP];
    uint32_t at[QCAP];
    uint32_t n;
} plan_t;

static desc_t *
plan_add(plan_t *pl, uint32_t at_us, uint8_t dir, uint8_t kind)
{
    desc_t *d = &pl->d[pl->n];
    memset(d, 0, sizeof *d);
    d->dir = dir;
    d->kind = kind;
    pl->at[pl->n++] = at_us;
    return d;
}

static desc_t *
plan_tcp(plan_t *pl, flow_t *f, uint32_t at_us, uint8_t dir, uint16_t flags)
{
    desc_t *d = plan_add(pl, at_us, dir, PK_TCP);
    d->seq = f->nxt[dir];
    d->ack = (flags & 0x10u) ? f->nxt[dir ^ 1u] : 0;
    d->flags = flags;
    return d;
}

/* Stable insertion sort by time, then append to the queue as delays. */
static void
plan_commit(flow_t *f, plan_t *pl)
{
    for (uint32_t i = 1; i < pl->n; i++) {
        desc_t d = pl->d[i];
        uint32_t at = pl->at[i], j = i;
        for (; j > 0 && pl->at[j - 1] > at; j--) {
            pl->d[j] = pl->d[j - 1];
            pl->at[j] = pl->at[j - 1];
        }
        pl->d[j] = d;
        pl->at[j] = at;
    }
    uint32_t prev = 0;
    for (uint32_t i = 0; i < pl->n; i++) {
        desc_t *d = &f->q[(uint8_t)(f->qhead + f->qn) % QCAP];
        *d = pl->d[i];
        d->delay_us = pl->at[i] - prev;
        prev = pl->at[i];
        f->qn++;
    }
}

/* Time for `bytes` to cross the client's access link (about 25 Mbit/s). */
static uint32_t
wire_time_us(uint32_t bytes)
{
    return bytes / 3u + 2u;
}

static void start_msg(flow_t *f, uint64_t now_us);

/* Handshake (or its unhappy variants), client-side view: SYN, SYN-ACK one RTT later. */
static void
plan_handshake(flow_t *f, plan_t *pl, uint64_t now_us)
{
    f->nxt[C2S] = (uint32_t)rng_next(&f->rng);
    f->nxt[S2C] = (uint32_t)rng_next(&f->rng);
    plan_tcp(pl, f, 0, C2S, 0x02);
    if (f->kind == FK_TCP_S0) {
        plan_tcp(pl, f, 1000000, C2S, 0x02); /* Linux SYN retries: 1 s, then 2 s later */
        plan_tcp(pl, f, 3000000, C2S, 0x02);
        f->phase = PH_DONE;
        return;
    }
    f->nxt[C2S]++;
    if (f->kind == FK_TCP_REJ) {
        desc_t *d = plan_tcp(pl, f, f->rtt_us, S2C, 0x14);
        d->seq = 0;
        f->phase = PH_DONE;
        return;
    }
    plan_tcp(pl, f, f->rtt_us, S2C, 0x12);
    f->nxt[S2C]++;
    plan_tcp(pl, f, f->rtt_us + rng_range(&f->rng, 15, 80), C2S, 0x10);
    f->pending_us = rng_range(&f->rng, 50, 2000);
    f->phase = PH_DATA;
    start_msg(f, now_us);
}

/* True when the current message is followed by one in the opposite direction (its first
 * segment then carries the ACK, no pure ACK needed). */
static bool
reply_follows(const flow_t *f)
{
    return f->cur_msg + 1u < f->n_msg && f->msg_dir[f->cur_msg + 1] != f->msg.dir;
}

/* Up to a congestion window of segments of the current message, the receiver's ACKs
 * (every second segment, RFC 1122 delayed ACK), and possibly one loss: the segments after it
 * draw duplicate ACKs with a SACK block; three of them trigger a fast retransmit, fewer a
 * retransmission timeout. A lost segment of a one-segment message was lost after the capture
 * point (the original and its retransmission are both in the file); in longer messages it was
 * lost before it (a gap, filled later). Both happen on real links; the split also keeps
 * tshark's reassembly quiet, which reports a retransmission of a segment of an already
 * reassembled PDU as malformed. */
static void
plan_data_round(flow_t *f, plan_t *pl)
{
    msg_t *m = &f->msg;
    uint8_t s = m->dir, r = s ^ 1u;
    uint32_t total = m->hdr_len + m->body_len;
    uint32_t ack_delay = r == S2C ? f->rtt_us : rng_range(&f->rng, 10, 60);
    uint32_t t = f->pending_us, last = t;
    uint32_t lost = UINT32_MAX, lost_seq = 0, lost_len = 0, lost_off = 0, dups = 0;
    for (uint32_t i = 0; i < f->cwnd[s] && m->sent < total; i++) {
        uint32_t len = total - m->sent < f->mss[s] ? total - m->sent : f->mss[s];
        bool last_seg = m->sent + len == total;
        desc_t *d = plan_tcp(pl, f, t, s, (uint16_t)(last_seg ? 0x18u : 0x10u));
        d->len = len;
        d->msg_off = m->sent;
        m->sent += len;
        f->nxt[s] += len;
        if (lost == UINT32_MAX && rng_chance(&f->rng, LOSS_PERMILLE)) {
            lost = i;
            lost_seq = d->seq;
            lost_len = len;
            lost_off = d->msg_off;
            if (total > f->mss[s])
                pl->n--; /* never reached the capture point */
        } else if (lost != UINT32_MAX) {
            desc_t *a = plan_tcp(pl, f, t + ack_delay, r, 0x10);
            a->ack = lost_seq;
            a->sack_l = lost_seq + lost_len;
            a->sack_r = f->nxt[s];
            dups++;
        } else if ((i % 2 == 1 || last_seg) && !(last_seg && reply_follows(f))) {
            plan_tcp(pl, f, t + ack_delay, r, 0x10);
        }
        last = t + ack_delay;
        t += wire_time_us(len + 66);
    }
    if (lost != UINT32_MAX) {
        uint32_t rto = dups >= 3 ? last + 30 : last + 200000 + f->rtt_us;
        desc_t *d = plan_tcp(pl, f, rto, s, 0x10);
        d->seq = lost_seq;
        d->len = lost_len;
        d->msg_off = lost_off;
        plan_tcp(pl, f, rto + ack_delay, r, 0x10);
        f->cwnd[s] = (uint8_t)(f->cwnd[s] / 2 < 2 ? 2 : f->cwnd[s] / 2);
    } else {
        f->cwnd[s] = (uint8_t)(f->cwnd[s] * 2 > CWND_MAX ? CWND_MAX : f->cwnd[s] * 2);
    }
    /* Next flight, after the round's last ACK: a server hears it half an RTT later and its
     * segments need the other half to reach us; the client sends at once. */
    f->pending_us = s == S2C ? f->rtt_us : 20;
}

/* ---- HTTP and TLS scripts ----------------------------------------------------------------- */

static const char *const g_prefixes[] = {"www",   "api",  "cdn",    "static", "img",
                                         "login", "mail", "assets", "update", "video"};
static const char *const g_domains[] = {
    "example.com", "example.org", "wikipedia.org", "debian.org",     "kernel.org",
    "github.com",  "netflix.com", "google.com",    "cloudflare.net", "akamaiedge.net",
    "mozilla.org", "bbc.co.uk",   "amazonaws.com", "office365.com",  "apple.com"};
#define N_PREFIXES (uint32_t)(sizeof g_prefixes / sizeof g_prefixes[0])
#define N_DOMAINS (uint32_t)(sizeof g_domains / sizeof g_domains[0])

/* A host name; popular names recur. */
static uint32_t
pick_name(flow_t *f, char *out, uint32_t cap)
{
    uint32_t d = rng_logu(&f->rng, 1, N_DOMAINS) - 1;
    uint32_t p = rng_below(&f->rng, N_PREFIXES);
    int n = snprintf(out, cap, "%s.%s", g_prefixes[p], g_domains[d]);
    return (uint32_t)n;
}

/* Response body sizes: mostly small objects, some large ones, a few downloads. */
static uint32_t
pick_body_size(flow_t *f)
{
    uint32_t x = rng_below(&f->rng, 1000);
    if (x < 780)
        return rng_logu(&f->rng, 200, 20000);
    if (x < 985)
        return rng_logu(&f->rng, 20000, 300000);
    return rng_logu(&f->rng, 300000, 3000000);
}

static void
http_date(char *out, size_t cap, uint64_t now_us)
{
    time_t t = (time_t)(EPOCH_S + now_us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* Set up the next HTTP message: a request (GET, some POST with a body) or its response. */
static void
start_http_msg(flow_t *f, uint64_t now_us)
{
    msg_t *m = &f->msg;
    char date[40];
    int n = 0;
    m->body = BODY_NONE;
    m->body_len = 0;
    m->body_pos = (uint32_t)rng_next(&f->rng);
    if (m->dir == C2S) {
        static const char *const dirs[] = {
            "", "api/v1/items/", "static/js/app.", "download/file-", "images/photo-", "index.html"};
        static const char *const exts[] = {"", "", ".js", ".bin", ".png", ""};
        char path[64], body_hdrs[96] = "";
        uint32_t k = rng_below(&f->rng, 6), v = rng_below(&f->rng, 99999);
        if (k == 0 || k == 5)
            snprintf(path, sizeof path, "/%s", dirs[k]);
        else
            snprintf(path, sizeof path, "/%s%u%s", dirs[k], v, exts[k]);
        bool post = rng_chance(&f->rng, 80);
        if (post) {
            m->body = BODY_BIN;
            m->body_len = rng_logu(&f->rng, 100, 60000);
            snprintf(body_hdrs, sizeof body_hdrs,
                     "Content-Type: application/octet-stream\r\nContent-Length: %u\r\n",
                     m->body_len);
        }
        n = snprintf(f->hdr, HDR_MAX,
                     "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64;"
                     " rv:115.0) Gecko/20100101 Firefox/115.0\r\nAccept: */*\r\n"
                     "Accept-Language: en-US,en;q=0.5\r\n%sConnection: keep-alive\r\n\r\n",
                     post ? "POST" : "GET", path, f->host, body_hdrs);
    } else {
        uint32_t x = rng_below(&f->rng, 1000);
        uint32_t status = x < 850 ? 200 : x < 930 ? 304 : x < 980 ? 404 : 301;
        const char *reason = status == 200   ? "OK"
                             : status == 304 ? "Not Modified"
                             : status == 404 ? "Not Found"
                                             : "Moved Permanently";
        bool text = status != 200 || rng_chance(&f->rng, 400);
        if (status != 304) {
            m->body = text ? BODY_TEXT : BODY_BIN;
            m->body_len = status == 200 ? pick_body_size(f) : rng_range(&f->rng, 150, 600);
        }
        http_date(date, sizeof date, now_us);
        n = snprintf(f->hdr, HDR_MAX, "HTTP/1.1 %u %s\r\nServer: nginx/1.22.1\r\nDate: %s\r\n",
                     status, reason, date);
        if (status != 304)
            n += snprintf(
                f->hdr + n, HDR_MAX - (size_t)n, "Content-Type: %s\r\nContent-Length: %u\r\n",
                text ? "text/html; charset=utf-8" : "application/octet-stream", m->body_len);
        n += snprintf(f->hdr + n, HDR_MAX - (size_t)n, "Connection: keep-alive\r\n\r\n");
    }
    m->hdr_len = (uint16_t)n;
}

/* Set up the next TLS flight: records of application data (the handshake flights get the
 * sizes of ClientHello, ServerHello..Finished and client Finished, but not their contents). */
static void
start_tls_msg(flow_t *f)
{
    msg_t *m = &f->msg;
    uint32_t size = 0;
    if (f->cur_msg == 0)
        size = rng_range(&f->rng, 517, 1800);
    else if (f->cur_msg == 1)
        size = rng_range(&f->rng, 2500, 6000);
    else if (f->cur_msg == 2)
        size = rng_range(&f->rng, 64, 130);
    else if (m->dir == C2S)
        size = rng_chance(&f->rng, 15) ? rng_logu(&f->rng, 100000, 2000000)
                                       : rng_logu(&f->rng, 90, 2500);
    else
        size = pick_body_size(f);
    if (size % TLS_REC > 0 && size % TLS_REC <= 5)
        size += 6; /* every record carries at least one byte */
    m->hdr_len = 0;
    m->body = BODY_TLS;
    m->body_len = size;
    m->body_pos = (uint32_t)rng_next(&f->rng);
}

static void
start_msg(flow_t *f, uint64_t now_us)
{
    memset(&f->msg, 0, sizeof f->msg);
    f->msg.dir = f->msg_dir[f->cur_msg];
    if (f->kind == FK_HTTP)
        start_http_msg(f, now_us);
    else
        start_tls_msg(f);
    /* Between messages: the server thinks, then its answer takes an RTT to reach us. */
    if (f->cur_msg > 0 && f->msg.dir != f->msg_dir[f->cur_msg - 1])
        f->pending_us = f->msg.dir == S2C ? f->rtt_us + rng_logu(&f->rng, 100, 30000)
                                          : rng_logu(&f->rng, 50, 200000);
}

/* FIN (either side first) or RST; Linux sends FIN|ACK and RST|ACK. */
static void
plan_close(flow_t *f, plan_t *pl)
{
    uint32_t t = f->pending_us + rng_logu(&f->rng, 50, 100000);
    uint8_t a = (f->close_kind == CLOSE_FIN_C || f->close_kind == CLOSE_RST_C) ? C2S : S2C;
    uint8_t b = a ^ 1u;
    uint32_t owd = a == C2S ? f->rtt_us : 30; /* until b's answer is seen */
    f->phase = PH_DONE;
    if (f->close_kind == CLOSE_NONE)
        return;
    if (f->close_kind == CLOSE_RST_C || f->close_kind == CLOSE_RST_S) {
        plan_tcp(pl, f, t, a, 0x14);
        return;
    }
    plan_tcp(pl, f, t, a, 0x11);
    f->nxt[a]++;
    if (rng_chance(&f->rng, 500)) { /* b closes at once: FIN|ACK, then the last ACK */
        plan_tcp(pl, f, t + owd, b, 0x11);
        f->nxt[b]++;
        plan_tcp(pl, f, t + owd + (a == C2S ? 40 : f->rtt_us), a, 0x10);
    } else { /* b acknowledges, closes a little later (4-way close) */
        plan_tcp(pl, f, t + owd, b, 0x10);
        uint32_t t2 = t + owd + rng_logu(&f->rng, 100, 50000);
        plan_tcp(pl, f, t2, b, 0x11);
        f->nxt[b]++;
        plan_tcp(pl, f, t2 + (a == C2S ? 40 : f->rtt_us), a, 0x10);
    }
}

static void
plan_tcp_flow(flow_t *f, plan_t *pl, uint64_t now_us)
{
    if (f->phase == PH_START) {
        plan_handshake(f, pl, now_us);
        return;
    }
    if (f->phase == PH_DATA) {
        if (f->msg.sent == (uint32_t)f->msg.hdr_len + f->msg.body_len) {
            if (f->cur_msg + 1u >= f->n_msg) {
                f->phase = PH_CLOSE;
            } else {
                f->cur_msg++;
                start_msg(f, now_us);
            }
        }
        if (f->phase == PH_DATA) {
            plan_data_round(f, pl);
            return;
        }
    }
    if (f->phase == PH_CLOSE)
        plan_close(f, pl);
}

/* ---- UDP and ICMP conversations ------------------------------------------------------------ */

/* glibc style: A and AAAA queries from one socket (about half the time), answers an RTT
 * later; a lost query is retried after 1-5 s; a few are never answered. */
static void
plan_dns(flow_t *f, plan_t *pl)
{
    uint32_t t = 0;
    bool retry = rng_chance(&f->rng, 30), silent = rng_chance(&f->rng, 15);
    for (uint8_t i = 0; i < f->n_query; i++) {
        plan_add(pl, t, C2S, PK_DNS_Q)->aux = i;
        t += rng_range(&f->rng, 20, 200);
    }
    if (retry || silent) {
        t += rng_range(&f->rng, 1000000, 5000000);
        plan_add(pl, t, C2S, PK_DNS_Q)->aux = 0;
    }
    if (!silent)
        for (uint8_t i = 0; i < f->n_query; i++)
            plan_add(pl, t + f->rtt_us + i * rng_range(&f->rng, 10, 3000), S2C, PK_DNS_R)->aux = i;
    f->phase = PH_DONE;
}

/* Up to 32 pings per round, one a second. */
static void
plan_echo(flow_t *f, plan_t *pl)
{
    uint32_t t = f->phase == PH_DATA ? 1000000u - f->rtt_us : 0; /* a second after the last */
    for (uint32_t i = 0; i < 32 && f->count > 0; i++, f->count--) {
        uint16_t seq = (uint16_t)(f->app_id[1]++);
        plan_add(pl, t, C2S, PK_ICMP_REQ)->aux = seq;
        if (!rng_chance(&f->rng, 20))
            plan_add(pl, t + f->rtt_us, S2C, PK_ICMP_REP)->aux = seq;
        t += 1000000;
    }
    f->phase = f->count == 0 ? PH_DONE : PH_DATA;
}

/* Both directions every 20 ms with a little jitter, 32 packets per round. */
static void
plan_rtp(flow_t *f, plan_t *pl)
{
    for (uint32_t i = 0; i < 16 && f->count > 0; i++, f->count--) {
        desc_t *a = plan_add(pl, i * 20000u + rng_below(&f->rng, 900), C2S, PK_RTP);
        desc_t *b = plan_add(pl, i * 20000u + 5000 + rng_below(&f->rng, 3000), S2C, PK_RTP);
        a->aux = b->aux = f->phase == PH_START && i == 0;
    }
    f->phase = f->count == 0 ? PH_DONE : PH_DATA;
}

static void
plan_other(flow_t *f, plan_t *pl)
{
    switch ((flow_kind_t)f->kind) {
    case FK_DNS:
        plan_dns(f, pl);
        break;
    case FK_ICMP_ECHO:
        plan_echo(f, pl);
        break;
    case FK_ICMP_UNREACH:
        plan_add(pl, 0, C2S, PK_UDP_PROBE);
        plan_add(pl, f->rtt_us, S2C, PK_ICMP_UNREACH);
        f->phase = PH_DONE;
        break;
    case FK_NTP:
        plan_add(pl, 0, C2S, PK_NTP);
        plan_add(pl, f->rtt_us, S2C, PK_NTP);
        f->phase = PH_DONE;
        break;
    case FK_RTP:
        plan_rtp(f, pl);
        break;
    default:
        f->phase = PH_DONE;
        break;
    }
}

/* Plan the conversation's next round into its (empty) queue; nothing when it is over. */
static void
flow_refill(flow_t *f, uint64_t now_us)
{
    static plan_t pl;
    pl.n = 0;
    if (f->phase == PH_DONE)
        return;
    if (f->kind == FK_HTTP || f->kind == FK_TLS || f->kind == FK_TCP_REJ || f->kind == FK_TCP_S0)
        plan_tcp_flow(f, &pl, now_us);
    else
        plan_other(f, &pl);
    plan_commit(f, &pl);
}

/* ---- new conversations ---------------------------------------------------------------------- */

static flow_kind_t
pick_kind(rng_t *r)
{
    uint32_t total = 0;
    for (int k = 0; k < FK_COUNT; k++)
        total += g_kind_weight[k];
    uint32_t x = rng_below(r, total);
    for (int k = 0; k < FK_COUNT; k++) {
        if (x < g_kind_weight[k])
            return (flow_kind_t)k;
        x -= g_kind_weight[k];
    }
    return FK_DNS;
}

static void
init_tcp_script(flow_t *f)
{
    f->ts_opt = rng_chance(&f->rng, 800);
    for (uint8_t d = 0; d < 2; d++) {
        f->wscale[d] = (uint8_t)(d == C2S ? 7 : rng_range(&f->rng, 7, 9));
        f->win[d] = (uint16_t)rng_range(&f->rng, 250, 4000);
        f->mss[d] = (uint16_t)((f->v6 ? 1440 : 1460) - (f->ts_opt ? 12 : 0));
        f->ts_base[d] = (uint32_t)rng_next(&f->rng);
        f->cwnd[d] = CWND_INIT;
    }
    f->port[S2C] = f->kind == FK_HTTP  ? 80
                   : f->kind == FK_TLS ? 443
                                       : (uint16_t)(rng_chance(&f->rng, 500) ? 22 : 3389);
    /* HTTP: 1-6 request/response pairs. TLS: ClientHello, the server's flight, the client's
     * Finished, then 1-5 request/response pairs. Message i goes C2S when i is even, except
     * that TLS's third flight and first request are both the client's. */
    uint32_t n = 0;
    if (f->kind == FK_HTTP) {
        pick_name(f, f->host, sizeof f->host);
        n = 2 * rng_logu(&f->rng, 1, 6);
        for (uint32_t i = 0; i < n; i++)
            f->msg_dir[i] = (uint8_t)(i % 2);
    } else {
        n = 3 + 2 * rng_logu(&f->rng, 1, 5);
        for (uint32_t i = 0; i < n; i++)
            f->msg_dir[i] = (uint8_t)(i < 3 ? i % 2 : (i - 3) % 2);
    }
    f->n_msg = (uint8_t)n;
    uint32_t x = rng_below(&f->rng, 1000);
    f->close_kind = (uint8_t)(x < 560   ? CLOSE_FIN_C
                              : x < 800 ? CLOSE_FIN_S
                              : x < 860 ? CLOSE_RST_C
                              : x < 920 ? CLOSE_RST_S
                                        : CLOSE_NONE);
}

static void
init_dns(flow_t *f)
{
    static const uint16_t types[] = {1, 1, 1, 28, 15, 16, 12};
    f->port[S2C] = 53;
    resolver_addr(f, rng_below(&f->rng, 3));
    f->rtt_us = rng_logu(&f->rng, 300, 80000);
    f->n_query = rng_chance(&f->rng, 500) ? 2 : 1;
    f->qtype[0] = types[rng_below(&f->rng, 7)];
    f->qtype[1] = 28;
    if (f->n_query == 2)
        f->qtype[0] = 1;
    f->app_id[0] = (uint16_t)rng_next(&f->rng);
    f->app_id[1] = (uint16_t)rng_next(&f->rng);
    f->rcode = rng_chance(&f->rng, 60) ? 3 : rng_chance(&f->rng, 10) ? 2 : 0;
    f->cname = rng_chance(&f->rng, 350);
    f->edns = rng_chance(&f->rng, 600);
    f->nodata_aaaa = rng_chance(&f->rng, 150);
    f->n_answers = (uint8_t)rng_range(&f->rng, 1, 4);
    if (f->qtype[0] == 12) {
        int n =
            snprintf(f->hdr, HDR_MAX, "%u.%u.%u.%u.in-addr.arpa", rng_below(&f->rng, 256),
                     rng_below(&f->rng, 256), rng_below(&f->rng, 256), rng_range(&f->rng, 1, 223));
        f->msg.hdr_len = (uint16_t)n;
    } else {
        f->msg.hdr_len = (uint16_t)pick_name(f, f->hdr, HDR_MAX);
    }
}

/* Per-kind setup of ports, timings and application parameters. */
static void
init_kind(flow_t *f)
{
    switch ((flow_kind_t)f->kind) {
    case FK_DNS:
        init_dns(f);
        break;
    case FK_HTTP:
    case FK_TLS:
    case FK_TCP_REJ:
    case FK_TCP_S0:
        init_tcp_script(f);
        break;
    case FK_ICMP_ECHO:
        f->count = rng_logu(&f->rng, 1, 10);
        f->app_id[0] = (uint16_t)rng_next(&f->rng);
        f->app_id[1] = 1;
        break;
    case FK_ICMP_UNREACH:
        f->v6 = false;
        f->port[S2C] = (uint16_t)rng_range(&f->rng, 33434, 33534);
        break;
    case FK_NTP:
        f->port[S2C] = 123;
        if (rng_chance(&f->rng, 500))
            f->port[C2S] = 123;
        break;
    case FK_RTP:
        f->count = rng_logu(&f->rng, 40, 600);
        f->port[C2S] = (uint16_t)(rng_range(&f->rng, 8192, 16383) * 2);
        f->port[S2C] = (uint16_t)(rng_range(&f->rng, 8192, 16383) * 2);
        for (uint8_t d = 0; d < 2; d++) {
            f->rtp_seq[d] = (uint16_t)rng_next(&f->rng);
            f->rtp_ts[d] = (uint32_t)rng_next(&f->rng);
            f->rtp_ssrc[d] = (uint32_t)rng_next(&f->rng);
        }
        break;
    default:
        break;
    }
}

/* A new conversation `id`, its first packet no earlier than `start_us`. */
static void
flow_init(flow_t *f, uint64_t seed, uint32_t id, uint64_t start_us)
{
    memset(f, 0, offsetof(flow_t, q));
    f->qhead = f->qn = 0;
    f->id = id;
    f->rng = rng_for(seed, id + 1u);
    f->kind = (uint8_t)pick_kind(&f->rng);
    f->v6 = rng_chance(&f->rng, 200) && f->kind != FK_ICMP_UNREACH;
    client_addr(f, rng_logu(&f->rng, 1, 2000));
    server_addr(f, pick_server(&f->rng));
    f->port[C2S] = ephemeral_port(&f->rng);
    f->ttl[C2S] = 64;
    f->ttl[S2C] = (uint8_t)rng_range(&f->rng, 40, 58);
    f->ipid[C2S] = (uint16_t)rng_next(&f->rng);
    f->ipid[S2C] = (uint16_t)rng_next(&f->rng);
    f->flowlabel = rng_below(&f->rng, 1u << 20);
    f->rtt_us = rng_logu(&f->rng, 500, 150000);
    pick_encap(f);
    init_kind(f);
    f->last_us = start_us;
    flow_refill(f, start_us);
    f->next_us = start_us + (f->qn ? f->q[f->qhead].delay_us : 0);
}

/* ---------------------------------------------------------------------------------------- */
/* The mix: a min-heap of conversations by next packet time.                                */

typedef struct {
    flow_t **v;
    uint32_t n;
} heap_t;

static bool
heap_less(const flow_t *a, const flow_t *b)
{
    return a->next_us < b->next_us || (a->next_us == b->next_us && a->id < b->id);
}

static void
heap_down(heap_t *h, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, m = i;
        if (l < h->n && heap_less(h->v[l], h->v[m]))
            m = l;
        if (l + 1 < h->n && heap_less(h->v[l + 1], h->v[m]))
            m = l + 1;
        if (m == i)
            return;
        flow_t *t = h->v[i];
        h->v[i] = h->v[m];
        h->v[m] = t;
        i = m;
    }
}

typedef struct {
    uint64_t seed;
    uint64_t packets; /* stop after this many packets (0: when the flows are done) */
    uint64_t flows;   /* start at most this many conversations (0: no limit) */
    uint32_t active;  /* conversations open at once */
} mix_opts_t;

typedef struct {
    uint64_t flows_started;
    uint64_t by_kind[FK_COUNT];
    uint64_t span_us;
} mix_stats_t;

/* Emit the head packet of `f` and plan more when its queue ran dry. */
static bool
emit_one(pcap_out_t *out, flow_t *f)
{
    static frame_t fr;
    desc_t *d = &f->q[f->qhead];
    uint64_t now = f->next_us;
    build_frame(&fr, f, d, now);
    f->qhead = (uint8_t)((f->qhead + 1u) % QCAP);
    f->qn--;
    f->last_us = now;
    if (f->qn == 0)
        flow_refill(f, now);
    if (f->qn > 0)
        f->next_us = now + f->q[f->qhead].delay_us;
    return pcap_out_write(out, now, fr.b, fr.len);
}

static bool
gen_mix(pcap_out_t *out, const mix_opts_t *o, mix_stats_t *st)
{
    flow_t *pool = calloc(o->active, sizeof *pool);
    heap_t h = {calloc(o->active, sizeof(flow_t *)), 0};
    bool ok = pool != NULL && h.v != NULL;
    rng_t r = rng_for(o->seed, 0x6d6978u);
    uint64_t now = 0;
    for (uint32_t i = 0; ok && i < o->active && (o->flows == 0 || i < o->flows); i++) {
        flow_init(&pool[i], o->seed, i, rng_below(&r, o->active * 200u));
        st->by_kind[pool[i].kind]++;
        h.v[h.n++] = &pool[i];
        st->flows_started++;
    }
    for (uint32_t i = h.n / 2 + 1; ok && i-- > 0;)
        heap_down(&h, i);
    while (ok && h.n > 0 && (o->packets == 0 || out->packets < o->packets)) {
        flow_t *f = h.v[0];
        if (f->qn > 0) {
            now = f->next_us;
            ok = emit_one(out, f);
        }
        if (f->qn == 0) { /* over: start a replacement, or retire the slot */
            if (o->flows == 0 || st->flows_started < o->flows) {
                flow_init(f, o->seed, (uint32_t)st->flows_started, now + rng_below(&r, 3000));
                st->by_kind[f->kind]++;
                st->flows_started++;
            } else {
                h.v[0] = h.v[--h.n];
            }
        }
        heap_down(&h, 0);
    }
    st->span_us = now;
    free(pool);
    free(h.v);
    return ok;
}

/* ---------------------------------------------------------------------------------------- */
/* Handshakes only: flow i opens with SYN at step i, SYN-ACK at i+LAG, ACK at i+2*LAG, so    */
/* handshakes interleave; every connection gets a distinct client address and port.         */

#define HS_LAG 37u
#define HS_PORTS 16384u /* client ports per client address: 16384..32767 */

/* Connection `i`: recomputed from (seed, i) whenever one of its packets is emitted. */
static void
hs_flow(flow_t *f, uint64_t seed, uint64_t i)
{
    memset(f, 0, offsetof(flow_t, q));
    f->rng = rng_for(seed, i + 0x100000000ull);
    f->id = (uint32_t)i;
    f->kind = FK_TLS;
    f->v6 = rng_chance(&f->rng, 150);
    uint32_t c = (uint32_t)(i / HS_PORTS) + 1u;
    client_addr(f, c << 1); /* distinct per c: client_addr() sets the low bit itself */
    f->port[C2S] = (uint16_t)(HS_PORTS + i % HS_PORTS);
    server_addr(f, pick_server(&f->rng));
    static const uint16_t ports[4] = {443, 80, 443, 22};
    f->port[S2C] = ports[rng_below(&f->rng, 4)];
    f->ttl[C2S] = 64;
    f->ttl[S2C] = (uint8_t)rng_range(&f->rng, 40, 58);
    f->ipid[C2S] = (uint16_t)rng_next(&f->rng);
    f->ipid[S2C] = (uint16_t)rng_next(&f->rng);
    f->ts_opt = rng_chance(&f->rng, 800);
    for (uint8_t d = 0; d < 2; d++) {
        f->wscale[d] = 7;
        f->win[d] = (uint16_t)rng_range(&f->rng, 250, 4000);
        f->mss[d] = (uint16_t)((f->v6 ? 1440 : 1460) - (f->ts_opt ? 12 : 0));
        f->ts_base[d] = (uint32_t)rng_next(&f->rng);
        f->nxt[d] = (uint32_t)rng_next(&f->rng);
    }
}

/* Packet `k` (0 SYN, 1 SYN-ACK, 2 ACK) of connection `i` at `now_us`. */
static bool
hs_emit(pcap_out_t *out, uint64_t seed, uint64_t i, uint8_t k, uint64_t now_us)
{
    static flow_t f;
    static frame_t fr;
    hs_flow(&f, seed, i);
    desc_t d = {0};
    d.kind = PK_TCP;
    d.dir = k == 1 ? S2C : C2S;
    d.flags = k == 0 ? 0x02 : k == 1 ? 0x12 : 0x10;
    d.seq = f.nxt[d.dir] + (k == 2 ? 1u : 0u);
    d.ack = k == 0 ? 0 : f.nxt[d.dir ^ 1u] + 1u;
    f.ipid[d.dir] = (uint16_t)(f.ipid[d.dir] + (k == 2 ? 1u : 0u));
    /* The echoed timestamp is the peer's previous tsval, recomputed. */
    if (k > 0)
        f.ts_last[d.dir ^ 1u] = f.ts_base[d.dir ^ 1u] + (uint32_t)((now_us - HS_LAG * 3) / 1000u);
    put_l2(&fr, &f, d.dir);
    build_tcp(&fr, &f, &d, now_us);
    ip_finish(&fr, &f);
    return pcap_out_write(out, now_us, fr.b, fr.len);
}

static bool
gen_handshakes(pcap_out_t *out, uint64_t seed, uint64_t n_flows)
{
    bool ok = true;
    for (uint64_t step = 0; ok && step < n_flows + 2 * HS_LAG; step++) {
        uint64_t t = step * 3;
        if (step < n_flows)
            ok = hs_emit(out, seed, step, 0, t);
        if (ok && step >= HS_LAG && step - HS_LAG < n_flows)
            ok = hs_emit(out, seed, step - HS_LAG, 1, t + 1);
        if (ok && step >= 2 * HS_LAG && step - 2 * HS_LAG < n_flows)
            ok = hs_emit(out, seed, step - 2 * HS_LAG, 2, t + 2);
    }
    return ok;
}

/* ---------------------------------------------------------------------------------------- */

static void
usage(FILE *fp)
{
    fprintf(fp, "usage: gen_traffic -w OUT.pcap [mode] [options]\n"
                "\n"
                "Writes a deterministic synthetic capture (classic pcap, Ethernet).\n"
                "\n"
                "modes:\n"
                "  --mix                   realistic mix of conversations (default)\n"
                "  --handshakes            only SYN, SYN-ACK, ACK of distinct TCP connections\n"
                "  --concurrent-flows N    N distinct TCP connections opened and left open\n"
                "options:\n"
                "  -w, --output PATH       file to write (required)\n"
                "  -c, --packets N         packets to write (mix: exactly; handshakes: N/3 flows)\n"
                "      --flows N           mix: conversations to run to completion instead\n"
                "      --active N          mix: conversations open at once (default 5000)\n"
                "      --seed S            64-bit seed (default 1); same seed, same bytes\n"
                "  -h, --help              this text\n");
}

typedef enum { MODE_MIX, MODE_HANDSHAKES, MODE_CONCURRENT } gen_mode_t;

typedef struct {
    const char *out;
    gen_mode_t mode;
    uint64_t packets, flows, seed;
    uint32_t active;
} opts_t;

static bool
parse_u64(const char *s, uint64_t *v)
{
    char *end = NULL;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    unsigned long long x = strtoull(s, &end, 0);
    if (*end != '\0')
        return false;
    *v = x;
    return true;
}

/* Returns 0 to run, 1 after --help, 2 on a usage error (message printed). */
static int
parse_opts(int argc, char **argv, opts_t *o)
{
    enum { O_MIX = 256, O_HS, O_CONC, O_FLOWS, O_ACTIVE, O_SEED };
    static const struct option lo[] = {{"output", required_argument, NULL, 'w'},
                                       {"packets", required_argument, NULL, 'c'},
                                       {"mix", no_argument, NULL, O_MIX},
                                       {"handshakes", no_argument, NULL, O_HS},
                                       {"concurrent-flows", required_argument, NULL, O_CONC},
                                       {"flows", required_argument, NULL, O_FLOWS},
                                       {"active", required_argument, NULL, O_ACTIVE},
                                       {"seed", required_argument, NULL, O_SEED},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    *o = (opts_t){.mode = MODE_MIX, .seed = 1, .active = 5000};
    uint64_t active = o->active;
    int ch;
    bool ok = true;
    while (ok && (ch = getopt_long(argc, argv, "w:c:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'w':
            o->out = optarg;
            break;
        case 'c':
            ok = parse_u64(optarg, &o->packets);
            break;
        case O_MIX:
            o->mode = MODE_MIX;
            break;
        case O_HS:
            o->mode = MODE_HANDSHAKES;
            break;
        case O_CONC:
            o->mode = MODE_CONCURRENT;
            ok = parse_u64(optarg, &o->flows) && o->flows > 0;
            break;
        case O_FLOWS:
            ok = parse_u64(optarg, &o->flows);
            break;
        case O_ACTIVE:
            ok = parse_u64(optarg, &active) && active > 0 && active <= 1000000;
            break;
        case O_SEED:
            ok = parse_u64(optarg, &o->seed);
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            ok = false;
            break;
        }
    }
    o->active = (uint32_t)active;
    if (ok && (o->out == NULL || optind != argc))
        ok = false;
    if (ok && o->mode == MODE_HANDSHAKES && o->packets == 0 && o->flows == 0)
        o->packets = 300000;
    if (ok && o->mode == MODE_MIX && o->packets == 0 && o->flows == 0)
        o->packets = 100000;
    if (!ok) {
        fprintf(stderr, "gen_traffic: bad or missing arguments (an invalid number, no -w?)\n");
        usage(stderr);
        return 2;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    opts_t o;
    int rc = parse_opts(argc, argv, &o);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    pools_init(o.seed);
    pcap_out_t out;
    if (!pcap_out_open(&out, o.out)) {
        fprintf(stderr, "gen_traffic: cannot create %s: %s\n", o.out, strerror(errno));
        return 1;
    }
    bool ok = true;
    mix_stats_t st = {0};
    if (o.mode == MODE_MIX) {
        mix_opts_t mo = {o.seed, o.packets, o.flows, o.active};
        ok = gen_mix(&out, &mo, &st);
    } else {
        uint64_t n = o.mode == MODE_CONCURRENT ? o.flows
                     : o.flows > 0             ? o.flows
                                               : (o.packets + 2) / 3;
        ok = gen_handshakes(&out, o.seed, n);
        st.flows_started = n;
    }
    ok = pcap_out_close(&out) && ok;
    if (!ok) {
        fprintf(stderr, "gen_traffic: writing %s failed: %s\n", o.out, strerror(errno));
        return 1;
    }
    fprintf(stderr, "gen_traffic: %s: %llu packets, %llu wire bytes (%.0f B/packet), %llu flows",
            o.out, (unsigned long long)out.packets, (unsigned long long)out.wire_bytes,
            out.packets ? (double)out.wire_bytes / (double)out.packets : 0.0,
            (unsigned long long)st.flows_started);
    if (o.mode == MODE_MIX) {
        fprintf(stderr, " over %.1f s:", (double)st.span_us / 1e6);
        for (int k = 0; k < FK_COUNT; k++)
            fprintf(stderr, " %s=%llu", g_kind_names[k], (unsigned long long)st.by_kind[k]);
    }
    fprintf(stderr, "\n");
    return 0;
}
