/* flow.h - the flow record: what NetScope remembers about one bidirectional conversation.
 *
 * Records live in the flow table's pre-allocated arrays and are named by a 32-bit index, never
 * by a pointer (pointers into the table are valid only until the next table operation that
 * adds or deletes a flow). Each record has up to three parts, sized so that a million
 * concurrent TCP flows fit in well under 200 MB (96 + 80 bytes, plus 8 of index):
 *
 *   ns_flow_t          every flow: compact key, LRU links, times, 32-bit per-direction counters
 *                      (hot, 96 bytes).
 *   ns_flow_tcp_t      TCP only: sequence tracking, Zeek state and history, handshake and the
 *                      timed segment (80 bytes); a parallel array at the same index, never
 *                      touched for UDP/ICMP flows (the array is mapped lazily by the kernel).
 *   ns_flow_tcp_ext_t  TCP flows that need it: RTT statistics, retransmission / out-of-order /
 *                      gap / duplicate-ACK / zero-window state (88 bytes, from a pool).
 *
 * Readers take a ns_flow_view_t (ns_flow_table_view()): a copy with everything widened.
 *
 * Directions: d[0] is always the originator (Zeek's "orig"), d[1] the responder. The key is
 * canonical (flow_key.h); NS_FLOW_F_ORIG_HI says which canonical side is the originator.
 *
 * Caveats: IPv6 addresses live in a pool of the table (the record keeps a 32-bit fold of them
 * and the pool entry in a4[]), so an IPv4 flow does not pay for 32 bytes of address it never
 * uses; use ns_flow_table_key() to get the full key of a record.
 */
#ifndef NETSCOPE_FLOW_H
#define NETSCOPE_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* No flow: the "null index". */
#define NS_FLOW_NONE UINT32_MAX

#define NS_FLOW_PROTO_TCP 6 /* IP protocol numbers the flow records care about */

/* Why a record was written. */
typedef enum {
    NS_FLOW_END_NONE = 0,
    NS_FLOW_END_FIN,            /* TCP: both sides closed (after the linger time) */
    NS_FLOW_END_RST,            /* TCP: reset (after the linger time) */
    NS_FLOW_END_IDLE,           /* nothing seen for the idle timeout */
    NS_FLOW_END_EVICTED,        /* the table was full: least recently seen flow made room */
    NS_FLOW_END_ACTIVE_TIMEOUT, /* interim record of a long flow; the flow goes on */
    NS_FLOW_END_END_OF_INPUT,   /* the capture ended (or was interrupted) */
    NS_FLOW_END_SHUTDOWN,       /* the agent stopped (SIGTERM): every open flow is written */
    NS_FLOW_END_COUNT
} ns_flow_end_t;

/* TCP endpoint states, as Zeek's TCP analyzer names them (conn_state is derived from them). */
typedef enum {
    NS_TCP_EP_INACTIVE = 0,
    NS_TCP_EP_SYN_SENT,
    NS_TCP_EP_SYN_ACK_SENT,
    NS_TCP_EP_PARTIAL,
    NS_TCP_EP_ESTABLISHED,
    NS_TCP_EP_CLOSED,
    NS_TCP_EP_RESET,
} ns_tcp_ep_t;

/* Bits of ns_flow_t.fl. */
#define NS_FLOW_F_ORIG_HI 0x01u /* the originator is the key's side 1 */
#define NS_FLOW_F_FLIPPED 0x02u /* direction flipped after the first packet (Zeek's '^') */
#define NS_FLOW_F_V6 0x04u      /* IPv6: addresses in the table's side array */
#define NS_FLOW_F_THR_SAT 0x08u /* the per-second packet counter saturated */
#define NS_FLOW_F_WIDE 0x10u    /* a 32-bit counter wrapped: high words in the table */
#define NS_FLOW_F_TUNNELED 0x20u /* carried in a UDP tunnel: the engine knows its parent */

/* Bits of ns_flow_t.quality: what the capture missed. */
#define NS_FLOW_Q_MIDSTREAM 0x01u /* TCP: no SYN seen from the originator */
#define NS_FLOW_Q_GAP 0x02u       /* TCP: sequence space skipped (bytes never seen) */
#define NS_FLOW_Q_TRUNCATED 0x04u /* some packet was cut by the snaplen */
#define NS_FLOW_Q_FRAGMENTS 0x08u /* carried IP fragments */

/* Per-direction counters: the low 32 bits. A counter that wraps sets NS_FLOW_F_WIDE and
 * carries into a high word the table keeps aside (touched only by such flows); read the full
 * values with ns_flow_table_view(). */
typedef struct {
    uint32_t pkts;
    uint32_t wire_bytes;    /* frame lengths on the wire */
    uint32_t ip_bytes;      /* declared IP lengths (Zeek's *_ip_bytes) */
    uint32_t payload_bytes; /* L4 payload bytes declared (retransmissions included) */
} ns_flow_dir_t;

#define NS_FLOW_COUNTERS 8 /* 4 counters x 2 directions: index dir * 4 + k */

/* The hot record, 96 bytes, no pointers. Every flow has one. */
typedef struct {
    /* compact key: IPv4 addresses (or folds of the IPv6 ones) in canonical order; the first
     * 16 bytes are compared as a unit by the table */
    uint32_t a4[2];
    uint16_t port[2];
    uint16_t vlan;
    uint8_t proto;
    uint8_t ip_ver;
    /* table */
    uint32_t lru_prev, lru_next; /* links in the expiry queue `queue` (NS_FLOW_NONE ends) */
    uint64_t first_ns, last_ns;
    ns_flow_dir_t d[2];
    /* throughput: two 1-second buckets (current, previous), see ns_flow_rate() */
    uint32_t thr_bytes[2];
    uint16_t thr_pkts[2];
    uint32_t app;          /* application-layer handle (flow_app.h), 0 = none */
    uint8_t queue;         /* expiry queue (flow_expire.h) */
    uint8_t fl;            /* NS_FLOW_F_* */
    uint8_t quality;       /* NS_FLOW_Q_* */
    uint8_t tcp_flags[2];  /* OR of the TCP flags sent per direction (low 8 bits) */
    uint8_t state[2];      /* TCP endpoint state per direction (ns_tcp_ep_t) */
    uint8_t uhist;         /* UDP: Zeek's history letters seen (NS_FLOW_UH_*) */
} ns_flow_t;

/* Bits of ns_flow_t.uhist. Zeek's UDP analyzer logs 'D' (originator) and 'd' (responder) once
 * each, in the order they first occur; two bits and the order say it all. */
#define NS_FLOW_UH_ORIG 0x01u       /* 'D' */
#define NS_FLOW_UH_RESP 0x02u       /* 'd' */
#define NS_FLOW_UH_RESP_FIRST 0x04u /* 'd' came before 'D' */

/* Per-direction TCP state kept for every TCP flow. Sequence numbers are absolute. */
typedef struct {
    uint32_t isn;    /* SYN's sequence number, or first seq - 1 when started mid-stream */
    uint32_t seq_hi; /* one past the highest sequence number sent (SYN/FIN count 1) */
    uint32_t ack_hi; /* highest acknowledgement sent (covers the peer's data) */
    uint16_t win;    /* last window sent (raw, unscaled) */
    uint8_t fin8;    /* low 8 bits of the relative seq of the last FIN (history repeats) */
    uint8_t rst8;    /* ... of the last RST */
    uint8_t dfl;     /* NS_TCPD_* */
    uint8_t syn, fin, rst; /* SYN, FIN and RST packets (saturate at 255) */
} ns_flow_tcp_dir_t;

#define NS_TCPD_SEQ 0x01u  /* isn/seq_hi are set */
#define NS_TCPD_ACK 0x02u  /* ack_hi is set */
#define NS_TCPD_HOLE 0x04u /* the extension's hole_lo/hole_hi hold an open gap */
#define NS_TCPD_SYN 0x08u  /* the endpoint's SYN (or SYN-ACK) was seen */
#define NS_TCPD_GAPLOG 0x10u /* the open hole was acknowledged past: its 'G' is recorded */

#define NS_FLOW_HIST_MAX 14

/* The TCP record, 80 bytes (same index as its ns_flow_t; never touched for other flows). */
typedef struct {
    ns_flow_tcp_dir_t d[2];
    uint32_t ext;       /* extension handle (ns_flow_tcp_ext_t in the table), 0 = none */
    /* handshake: before the halves are known these hold times relative to first_ns */
    uint32_t hs_srv_ns; /* SYN -> SYN-ACK (server half) */
    uint32_t hs_cli_ns; /* SYN-ACK -> ACK (client half) */
    uint32_t karn_seq;  /* end of the data segment being timed */
    uint32_t karn_us;   /* when it was sent, µs after first_ns */
    char hist[NS_FLOW_HIST_MAX]; /* Zeek history letters, not NUL-terminated */
    uint16_t hist_seen;          /* letters recorded once per direction (see flow_tcp.c) */
    uint8_t hist_len;
    uint8_t hs;       /* NS_TCPHS_* */
    uint8_t karn_dir; /* direction of the timed segment, 0xff when none */
    uint8_t pad_;
} ns_flow_tcp_t;

#define NS_TCPHS_SYN 0x01u    /* hs_srv_ns holds the time of the most recent SYN */
#define NS_TCPHS_SYNACK 0x02u /* hs_srv_ns is the server half; hs_cli_ns the SYN-ACK time */
#define NS_TCPHS_DONE 0x04u   /* the handshake RTT is known */
#define NS_TCPHS_NOSPLIT 0x08u /* ... as a total only (hs_srv_ns), see flow_tcp.h */

/* What only some TCP flows need: the first RTT sample, the first retransmission, gap,
 * duplicate ACK or zero window of a flow takes an extension from a pool the table sized for
 * its capacity (so it never runs out); pages of the pool never used stay untouched, so
 * resident memory follows the number of flows that need one. */
typedef struct {
    uint32_t hole_lo; /* the most recent sequence gap [hole_lo, hole_hi) not yet filled */
    uint32_t hole_hi;
    uint32_t missed;  /* bytes skipped and never seen (saturating) */
    uint32_t retrans; /* segments whose bytes had all been seen before */
    uint32_t ooo;     /* segments below seq_hi carrying bytes never seen before */
    uint32_t dup_ack;
    uint16_t zero_win;     /* saturating */
    uint16_t gaps;         /* sequence gaps opened (saturating) */
    uint16_t retrans_data; /* retransmissions carrying payload (Zeek's 'T'; saturating) */
    uint16_t gaps_acked;   /* holes the peer acknowledged past (Zeek's 'G'; saturating) */
} ns_flow_tcp_xdir_t;

typedef struct {
    ns_flow_tcp_xdir_t d[2];
    uint32_t rtt_min_us, rtt_max_us, rtt_last_us, rtt_mean_us, rtt_n;
    uint32_t next_free; /* the pool's free list (meaningless while in use) */
} ns_flow_tcp_ext_t;

/* A flow as readers see it: a copy of its records with the counters widened to 64 bits and
 * the TCP extension filled in (zeros when the flow has none). Filled by ns_flow_table_view();
 * every function below reads one. */
typedef struct {
    ns_flow_t f;
    ns_flow_tcp_t tcp;     /* zeroed for non-TCP flows */
    ns_flow_tcp_ext_t x;   /* zeroed when the flow has no extension */
    uint64_t pkts[2], wire_bytes[2], ip_bytes[2], payload_bytes[2];
    bool is_tcp;
} ns_flow_view_t;

/* Zeek's conn_state of a flow at this moment: "S0", "SF", ... (static string). */
const char *ns_flow_conn_state(const ns_flow_view_t *v);

/* Zeek's history string of a flow into `out` (NUL-terminated, at most outlen-1 chars);
 * returns its length. TCP: the letters of flow_tcp.c; UDP: 'D'/'d'; ICMP and other
 * protocols: empty, as Zeek's ICMP analyzer records no history letters. */
size_t ns_flow_history(const ns_flow_view_t *v, char *out, size_t outlen);

/* Zeek's orig_bytes (dir 0) / resp_bytes (dir 1): for TCP the payload sequence space spanned
 * (SYN and FIN excluded; ACKed data the capture missed included), else the payload bytes. */
uint64_t ns_flow_app_bytes(const ns_flow_view_t *v, unsigned dir);

/* Zeek's missed_bytes: bytes in sequence gaps never filled, both directions. */
uint64_t ns_flow_missed_bytes(const ns_flow_view_t *v);

/* Throughput over the sliding window ending at `now_ns` (the last two 1-second buckets,
 * weighted by how much of the older one is still inside the window), in bits/s and packets/s,
 * both directions together. */
void ns_flow_rate(const ns_flow_t *f, uint64_t now_ns, double *bps, double *pps);

/* Account `wire_len` bytes to the throughput buckets at `now_ns` (called once per packet). */
void ns_flow_rate_add(ns_flow_t *f, uint64_t now_ns, uint32_t wire_len);

/* "fin", "rst", ... */
const char *ns_flow_end_name(ns_flow_end_t reason);

#endif /* NETSCOPE_FLOW_H */
