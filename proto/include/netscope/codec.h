/* codec.h - NetScope's wire messages (proto/netscope.proto) to and from bytes.
 *
 * The agent encodes Hello, FlowBatch, InterfaceStats, Heartbeat, FilterResult and Packets
 * into AgentMessage envelopes and decodes the collector's CollectorMessage (Ack, SetFilter,
 * GetPackets); the collector does the reverse. This module is the only code of NetScope that
 * sees protobuf-c: every type here is an ns_ type, and a flow record on the wire is exactly
 * an ns_flow_rec_t (core/include/netscope/flow_rec.h) with its HTTP and DNS transactions.
 *
 * Design:
 *   - One context (ns_codec_t) per thread. It owns two bump arenas, allocated once by
 *     ns_codec_new(): the decode arena, where protobuf-c unpacks a message and where the
 *     decoded ns_msg_t is built (reset at every decode, bounded by opts.arena_bytes: no
 *     malloc per message or per record), and a smaller encode scratch for the protobuf-c
 *     structures an encode fills in. Encoding never disturbs the last decoded message.
 *   - Batches (FlowBatch) are read and written by the codec's own batch reader and writer,
 *     which fill and walk the same protobuf-c structures from the same generated
 *     descriptors at about half the cost of protobuf-c's generic unpack and pack (tested to
 *     give the same structures and the same bytes; opts.generic switches back to protobuf-c).
 *     Every other message goes through protobuf-c.
 *   - Decoding is unpack, then validate, then convert. A message longer than
 *     opts.max_msg_bytes is rejected before protobuf-c sees a byte. After unpacking, every
 *     count, length, number and enum is checked against the limits below and the width of
 *     the ns_ field it goes into; anything out of bounds rejects the whole message with a
 *     reason (ns_codec_reject_t, counted in the context's stats) and a sentence
 *     (ns_codec_error()). Nothing is clamped or cut silently.
 *   - The encoder runs the same checks on what it is given, so an agent cannot send what a
 *     collector would reject: a bad record is refused at ns_codec_batch_add(), alone, instead
 *     of costing the collector the whole batch.
 *   - Flow batches are built record by record into the caller's buffer under a size cap
 *     (ns_codec_batch_begin/add/finish): the builder says when the next record would not fit,
 *     so no batch is ever bigger than the cap the collector accepts.
 *
 * Caveats:
 *   - What a decode returns (the ns_msg_t and every string, array and record it points to)
 *     lives in the context's arena: valid until the next decode on the same context or
 *     ns_codec_destroy(). Copy what must live longer.
 *   - `string` fields of the schema (ids, names, filters, error texts) end at their first NUL
 *     byte; `bytes` fields holding packet text (HTTP, DNS names) are rejected if they contain
 *     one. Neither is checked for UTF-8: treat every decoded string as untrusted bytes.
 *   - Time values are not checked for order or plausibility (first_ns <= last_ns, clocks):
 *     they are the sender's word, bounded only by their 64 bits.
 *   - Bit-set fields (tcp_flags, hs, quality) are checked against their field's width, not
 *     against the bits known today, so a newer agent's new bit passes through.
 */
#ifndef NETSCOPE_CODEC_H
#define NETSCOPE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"
#include "netscope/flow_rec.h"

/* Protocol versions: written by this build, and the oldest one it reads. */
#define NS_CODEC_VERSION 1u
#define NS_CODEC_VERSION_MIN 1u

/* Message size: the default cap, and the most ns_codec_new() accepts. */
#define NS_CODEC_DEFAULT_MAX_MSG (1u << 20)
#define NS_CODEC_MAX_MSG_LIMIT (64u << 20)

/* Counts the decoder accepts. */
#define NS_CODEC_MAX_RECS 65536u   /* flow records per batch */
#define NS_CODEC_MAX_IFACES 256u   /* interfaces per Hello / InterfaceStats (index is 8 bits) */
#define NS_CODEC_MAX_IFADDRS 64u   /* addresses per interface */
#define NS_CODEC_MAX_FRAMES 65536u /* frames per Packets reply */
/* (transactions per record: NS_APP_MAX_TX; answers per DNS transaction: NS_APP_DNS_ANSWERS) */

/* Lengths the decoder accepts, in bytes without the NUL. */
#define NS_CODEC_ID_MAX 64u        /* agent id, agent version */
#define NS_CODEC_HOSTNAME_MAX 255u /* a fully qualified name */
#define NS_CODEC_IFNAME_MAX 64u    /* capture device names (longer than IFNAMSIZ elsewhere) */
#define NS_CODEC_FILTER_MAX 8192u  /* BPF filter text */
#define NS_CODEC_PATH_MAX 4096u    /* replay file */
#define NS_CODEC_ERRTEXT_MAX 1024u /* error texts (libpcap's are < 256) */
#define NS_CODEC_FRAME_MAX 262144u /* captured bytes of one frame (libpcap's largest snaplen) */
/* (HTTP strings: NS_APP_MAX_STR_LEN; DNS qname: NS_DNS_NAME_MAX; answer data: NS_DNS_RDATA_MAX;
 * the flow record's own strings: the sizes of its char arrays, NUL included) */

/* The bytes a batch spends beyond its records' own framing (envelope, seq, send time), at
 * most: a batch buffer must be larger than this. */
#define NS_CODEC_BATCH_OVERHEAD 32u

/* ---- messages ----------------------------------------------------------------------- */

typedef enum {
    NS_MSG_NONE = 0,
    /* agent -> collector (AgentMessage) */
    NS_MSG_HELLO,
    NS_MSG_BATCH,
    NS_MSG_IFACE_STATS,
    NS_MSG_HEARTBEAT,
    NS_MSG_FILTER_RESULT,
    NS_MSG_PACKETS,
    /* collector -> agent (CollectorMessage) */
    NS_MSG_ACK,
    NS_MSG_SET_FILTER,
    NS_MSG_GET_PACKETS,
    NS_MSG_TYPE_COUNT
} ns_msg_type_t;

/* In every message below, strings are NUL-terminated; a NULL string is encoded as "" and a
 * decoded one is never NULL. Arrays are (pointer, count); a pointer may be NULL when its
 * count is 0. */

/* One address of a capture interface. */
typedef struct {
    uint8_t ip_ver;     /* 4 or 6 */
    uint8_t prefix_len; /* <= 32 or <= 128 */
    ns_addr_t addr;     /* IPv4 in the first 4 bytes, the rest zero */
} ns_msg_ifaddr_t;

typedef struct {
    uint32_t index;     /* ns_flow_rec_t.iface of this interface's flows, 0..255, unique */
    const char *name;   /* <= NS_CODEC_IFNAME_MAX */
    uint32_t link_type; /* LINKTYPE_* */
    uint32_t snaplen;
    const ns_msg_ifaddr_t *addrs;
    uint32_t n_addrs; /* <= NS_CODEC_MAX_IFADDRS */
} ns_msg_iface_t;

typedef struct {
    const char *agent_id;      /* 1..NS_CODEC_ID_MAX */
    const char *hostname;      /* <= NS_CODEC_HOSTNAME_MAX */
    const char *agent_version; /* <= NS_CODEC_ID_MAX */
    uint64_t clock_ns;         /* the agent's clock at send time */
    uint64_t start_ns;         /* when the agent started */
    const ns_msg_iface_t *ifaces;
    uint32_t n_ifaces; /* <= NS_CODEC_MAX_IFACES */
    /* capture settings */
    bool promisc;
    uint32_t buffer_bytes;
    uint32_t export_interval_ms;
    const char *bpf_filter;  /* <= NS_CODEC_FILTER_MAX; "" = none */
    const char *replay_file; /* <= NS_CODEC_PATH_MAX; "" when capturing live */
    double replay_speed;     /* 1.0 = recorded speed, 0 = flat out; finite, >= 0 */
} ns_msg_hello_t;

typedef struct {
    uint64_t seq; /* per agent, from 1, +1 per batch; never 0 */
    uint64_t send_ns;
    const ns_flow_rec_t *recs; /* decoded records' http/dns point into the arena too */
    uint32_t n_recs;           /* <= NS_CODEC_MAX_RECS */
} ns_msg_batch_t;

typedef struct {
    uint32_t index; /* 0..255 */
    uint64_t packets, bytes;
    uint64_t kernel_drops; /* pcap_stats ps_drop */
    uint64_t iface_drops;  /* pcap_stats ps_ifdrop */
} ns_msg_iface_counters_t;

typedef struct {
    uint64_t send_ns;
    const ns_msg_iface_counters_t *ifaces;
    uint32_t n_ifaces; /* <= NS_CODEC_MAX_IFACES */
} ns_msg_iface_stats_t;

typedef struct {
    uint64_t send_ns;
    uint32_t queue_depth; /* batches waiting (now) */
    uint64_t batches_sent, batches_dropped;
    uint64_t updates_dropped, finals_dropped;
    uint64_t flows_active; /* now */
    uint64_t evictions;
    uint64_t cpu_ns;    /* user + system CPU time, cumulative */
    uint64_t rss_bytes; /* now */
    uint64_t lowest_held_seq; /* the lowest batch seq the agent can still (re)send: its
                               * oldest kept batch, or its next seq when it keeps none;
                               * 0 = not said */
} ns_msg_heartbeat_t;

typedef struct {
    uint32_t request_id;
    bool ok;
    const char *error; /* libpcap's text when !ok; <= NS_CODEC_ERRTEXT_MAX */
} ns_msg_filter_result_t;

typedef struct {
    uint64_t ts_ns;
    uint32_t wire_len; /* >= cap_len */
    uint32_t cap_len;  /* bytes at `data`, <= NS_CODEC_FRAME_MAX */
    const uint8_t *data;
} ns_msg_frame_t;

typedef struct {
    uint32_t request_id;
    const char *error; /* "" on success; <= NS_CODEC_ERRTEXT_MAX */
    uint32_t link_type;
    bool truncated;  /* more frames matched than were sent */
    bool whole_ring; /* answers a whole_ring request: one of several replies */
    bool last_chunk; /* whole_ring: the last of them */
    const ns_msg_frame_t *frames;
    uint32_t n_frames; /* <= NS_CODEC_MAX_FRAMES */
} ns_msg_packets_t;

typedef struct {
    uint64_t seq; /* highest contiguous batch seq received; 0 = none yet */
} ns_msg_ack_t;

typedef struct {
    uint32_t request_id;
    const char *bpf_filter; /* <= NS_CODEC_FILTER_MAX; "" = capture everything */
} ns_msg_set_filter_t;

/* The frames of one flow: endpoints in either order (the agent matches both directions). */
typedef struct {
    uint32_t request_id;
    uint8_t ip_ver; /* 4 or 6 */
    uint8_t proto;
    uint16_t vlan; /* <= 4095 */
    uint8_t iface;
    ns_addr_t addr[2];
    uint16_t port[2];
    uint64_t from_ns;
    uint64_t to_ns;      /* 0 = up to now; otherwise >= from_ns */
    uint32_t max_frames; /* 0 = the agent's default; <= NS_CODEC_MAX_FRAMES */
    bool whole_ring;     /* every frame of the ring (the fields above are ignored), in replies
                            of at most a batch each, the last with last_chunk */
} ns_msg_get_packets_t;

/* One message of either direction. */
typedef struct {
    ns_msg_type_t type;
    uint32_t version; /* decoded: the sender's; ignored by encode (NS_CODEC_VERSION) */
    union {
        ns_msg_hello_t hello;
        ns_msg_batch_t batch;
        ns_msg_iface_stats_t iface_stats;
        ns_msg_heartbeat_t heartbeat;
        ns_msg_filter_result_t filter_result;
        ns_msg_packets_t packets;
        ns_msg_ack_t ack;
        ns_msg_set_filter_t set_filter;
        ns_msg_get_packets_t get_packets;
    } u;
} ns_msg_t;

/* "hello", "batch", ... ("none" for NS_MSG_NONE, "?" out of range). Static string. */
const char *ns_msg_type_name(ns_msg_type_t type);

/* ---- the context -------------------------------------------------------------------- */

typedef struct ns_codec ns_codec_t;

typedef struct {
    uint32_t max_msg_bytes; /* decode: longer messages are rejected unread */
    size_t arena_bytes;     /* decode: most memory one unpacked + converted message may use */
    bool generic;           /* pack and unpack batches with protobuf-c's generic code
                             * instead (slower: the reference the codec's own batch reader
                             * and writer are tested against) */
} ns_codec_opts_t;

/* Why a decode was rejected (or an encode refused). */
typedef enum {
    NS_CODEC_OK = 0,
    NS_CODEC_E_OVERSIZE,  /* longer than max_msg_bytes (not unpacked) */
    NS_CODEC_E_MALFORMED, /* not the expected envelope: truncated, garbage, wrong wire types */
    NS_CODEC_E_ARENA,     /* its unpacked form would exceed arena_bytes */
    NS_CODEC_E_VERSION,   /* version missing or not in NS_CODEC_VERSION_MIN..NS_CODEC_VERSION */
    NS_CODEC_E_TYPE,      /* no body, or a body of the other direction or unknown to us */
    NS_CODEC_E_COUNT,     /* too many records, transactions, answers, interfaces, frames */
    NS_CODEC_E_STRING,    /* a string or byte field too long, or text holding a NUL */
    NS_CODEC_E_ADDR,      /* an address not 4 or 16 bytes, or not matching ip_ver */
    NS_CODEC_E_RANGE,     /* a number too wide for its field, an unknown enum value, ... */
    NS_CODEC_REJECT_COUNT
} ns_codec_reject_t;

typedef struct {
    uint64_t messages;                         /* decoded and accepted */
    uint64_t bytes;                            /* bytes of accepted messages */
    uint64_t records;                          /* flow records in accepted batches */
    uint64_t rejected;                         /* all rejected messages (the sum of by_reason) */
    uint64_t by_reason[NS_CODEC_REJECT_COUNT]; /* [NS_CODEC_OK] stays 0 */
    size_t arena_peak;                         /* most decode-arena bytes one message used */
    uint64_t fast_batches; /* batches read by the codec's batch reader, not protobuf-c */
} ns_codec_stats_t;

/* Defaults: max_msg_bytes NS_CODEC_DEFAULT_MAX_MSG, arena_bytes 32 * max_msg_bytes, generic
 * false. A batch of ordinary records takes about 4 arena bytes per wire byte (8 with generic;
 * bench/bench_codec.c prints the ratio); 32x leaves room for batches of the smallest records,
 * which expand most. */
void ns_codec_opts_default(ns_codec_opts_t *o);

/* A context with `o` (NULL = defaults; a zero field takes its default). Returns NULL with a
 * sentence in errbuf (when errbuf is not NULL) if max_msg_bytes exceeds
 * NS_CODEC_MAX_MSG_LIMIT, arena_bytes is smaller than max_msg_bytes, or memory is short.
 * Allocates both arenas here (untouched pages stay virtual). The caller owns the context;
 * free it with ns_codec_destroy(). Not thread-safe: one context per thread. */
ns_codec_t *ns_codec_new(const ns_codec_opts_t *o, char *errbuf, size_t errlen);

/* Free the context and everything a decode returned from it; NULL-safe; sets *self_p to
 * NULL. */
void ns_codec_destroy(ns_codec_t **self_p);

/* The options in effect (defaults filled in). */
const ns_codec_opts_t *ns_codec_opts(const ns_codec_t *c);

/* Decode counters since ns_codec_new(). */
const ns_codec_stats_t *ns_codec_stats(const ns_codec_t *c);

/* The sentence for the last rejected decode or refused encode ("" if none yet), e.g.
 * "record 3: orig_h is 5 bytes (ip_ver 4 needs 4)". Valid until the next call on `c`. */
const char *ns_codec_error(const ns_codec_t *c);

/* "ok", "oversize", "malformed", ... Static string. */
const char *ns_codec_reject_name(ns_codec_reject_t why);

/* ---- decoding ----------------------------------------------------------------------- */

/* Decode `len` bytes at `buf` as an AgentMessage (what the collector receives). On
 * NS_CODEC_OK *out points at the message, valid until the next decode on `c` (see Caveats);
 * otherwise *out is NULL, the reason is counted and ns_codec_error() says what was wrong.
 * Types of the other direction never come out of it. `buf` is only read, and may be freed
 * as soon as this returns. */
ns_codec_reject_t ns_codec_decode_agent(ns_codec_t *c, const uint8_t *buf, size_t len,
                                        const ns_msg_t **out);

/* The same for a CollectorMessage (what the agent receives): Ack, SetFilter, GetPackets. */
ns_codec_reject_t ns_codec_decode_collector(ns_codec_t *c, const uint8_t *buf, size_t len,
                                            const ns_msg_t **out);

/* ---- encoding ----------------------------------------------------------------------- */

/* Encode `m` (any type; its envelope follows from the type) into out[0..cap). Returns NS_OK
 * with the length in *len; NS_EFULL when it does not fit in `cap` bytes; NS_EINVAL when `m`
 * breaks a limit the decoder enforces, or has no known type (ns_codec_error() says which).
 * Batches go through the batch builder, without disturbing one being built. */
ns_err_t ns_codec_encode(ns_codec_t *c, const ns_msg_t *m, uint8_t *out, size_t cap, size_t *len);

/* ---- building a flow batch ----------------------------------------------------------- */

/* Start a batch with sequence number `seq` (>= 1) and send time `send_ns`, to be written
 * into buf[0..cap). `cap` is the whole message's limit (at most the receiver's
 * max_msg_bytes); it must exceed NS_CODEC_BATCH_OVERHEAD. Returns NS_EINVAL for seq 0 or a
 * cap out of range. A batch already being built is abandoned. The context keeps `buf` until
 * ns_codec_batch_finish(). */
ns_err_t ns_codec_batch_begin(ns_codec_t *c, uint8_t *buf, size_t cap, uint64_t seq,
                              uint64_t send_ns);

/* Encode `rec` into the batch. Returns
 *   NS_OK:     added;
 *   NS_EFULL:  the batch is full (the record would pass the cap, or the batch holds
 *              NS_CODEC_MAX_RECS): the record was not added; finish this batch, begin the
 *              next and add the record there. Never returned for an empty batch;
 *   NS_EINVAL: the record breaks a limit the decoder enforces, or is bigger than the cap
 *              even alone: it was skipped (ns_codec_error() says why); go on with the next.
 * `rec` is read only during the call. */
ns_err_t ns_codec_batch_add(ns_codec_t *c, const ns_flow_rec_t *rec);

/* One record encoded on its own as a batch entry (its field tag, length and FlowRecord
 * bytes), into out[0..cap): what the agent's capture thread hands its exporter, which puts
 * entries into batches with ns_codec_batch_add_encoded() without encoding them again.
 * NS_OK with the length in *len; NS_EINVAL when the record breaks a limit the decoder
 * enforces or does not fit in `cap` (ns_codec_error() says which). */
ns_err_t ns_codec_rec_encode(ns_codec_t *c, const ns_flow_rec_t *rec, uint8_t *out, size_t cap,
                             size_t *len);

/* Add an entry made by ns_codec_rec_encode() (by this build: entries are not checked again)
 * to the batch being built. NS_OK; NS_EFULL when it would pass the cap or the record count
 * (nothing written: finish and begin the next); NS_EINVAL when it is not an entry, no batch
 * was begun, or it does not fit even an empty batch. */
ns_err_t ns_codec_batch_add_encoded(ns_codec_t *c, const uint8_t *entry, size_t len);

/* Records added to the batch being built. */
uint32_t ns_codec_batch_count(const ns_codec_t *c);

/* Close the batch: the message is at buf[0..returned length), <= cap. Returns 0 when no
 * batch was begun. A batch of zero records is a valid message. */
size_t ns_codec_batch_finish(ns_codec_t *c);

#endif /* NETSCOPE_CODEC_H */
