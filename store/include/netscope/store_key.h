/* store_key.h - the byte layout of the store's keys, record values and paging cursors.
 *
 * Pure functions over caller buffers (no LMDB, no allocation), so that the layout store.h
 * documents is stated once and tested on its own. Every integer in a key is big-endian, so
 * that LMDB's byte order (memcmp, shorter first) is the numeric order: keys of one index
 * sort by their prefix, then time, then fid.
 *
 * A record value ("flows") is a fixed header, three short strings and the codec's bytes:
 *
 *    off  size
 *      0     1  value format (NS_STORE_VFMT)
 *      1     1  flags: bit 0 primary
 *      2     1  observers
 *      3     1  ip_ver
 *      4     1  proto
 *      5     1  kind (ns_flow_rec_kind_t)
 *      6     2  orig_p
 *      8     2  resp_p
 *     10     1  agent length  a (<= NS_STORE_AGENT_MAX)
 *     11     1  uid length    u (<= NS_FLOW_UID_LEN)
 *     12     1  cid length    c (< NS_FLOW_CID_MAX)
 *     13     3  zero
 *     16     8  received_ns
 *     24     8  conn
 *     32     8  first_ns
 *     40     8  last_ns
 *     48     8  wire bytes, both directions
 *     56     8  packets, both directions
 *     64    16  orig_h
 *     80    16  resp_h
 *     96     8  service, NUL padded
 *    104     8  conn_state, NUL padded
 *    112     a  agent, then u uid, then c community id, then the codec bytes: the record
 *               as a one-record FlowBatch, encoded with its uid and community id blanked
 *               (they are in the header; the decoder puts them back)
 *
 * The header's fields answer filters, sorts and top-N without decoding the record.
 * ns_store_vhdr_decode() checks every length against the value's length: a value from the
 * database is untrusted.
 */
#ifndef NETSCOPE_STORE_KEY_H
#define NETSCOPE_STORE_KEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow_rec.h"
#include "netscope/store.h"

#define NS_STORE_VFMT 1u
#define NS_STORE_VHDR_LEN 112u
/* The longest index key: by_host minute(8) ver(1) addr(16) t(8) fid(8); by_agent 1 + 64 + 16;
 * by_cid/by_uid 8 + strings + 0 + 8; series 1 + 1 + 80 + 8. */
#define NS_STORE_KEY_MAX 128u

/* ---- big-endian integers ---- */
void ns_store_be16_put(uint8_t *p, uint16_t v);
void ns_store_be64_put(uint8_t *p, uint64_t v);
uint16_t ns_store_be16_get(const uint8_t *p);
uint64_t ns_store_be64_get(const uint8_t *p);

/* The host and port indexes are minute-major: minute(8) = t / NS_STORE_MINUTE_NS, then the
 * host or port, then (t, fid). A batch's entries then land in the last minutes' pages (a
 * host-major key spreads them over the whole tree: a page copied per entry), and one minute
 * of one host or port is one contiguous range; a query walks the minutes of its window. */
#define NS_STORE_MINUTE_NS (60ull * 1000000000ull)

/* ---- index keys: each writes into k[NS_STORE_KEY_MAX] and returns the length, 0 when an
 * argument is out of range (a string too long). ---- */
size_t ns_store_key_time(uint8_t *k, uint64_t t, uint64_t fid);
size_t ns_store_key_host(uint8_t *k, uint8_t ver, const ns_addr_t *a, uint64_t t, uint64_t fid);
size_t ns_store_key_port(uint8_t *k, uint16_t port, uint64_t t, uint64_t fid);
size_t ns_store_key_agent(uint8_t *k, const char *agent, uint64_t t, uint64_t fid);
/* by_cid and by_uid are hour-major (schema 4): hour(8) = t / NS_STORE_HOUR_NS (t: the
 * record's last_ns), the string, a 0 byte, the fid. uids and community ids are random with
 * respect to time: keyed by the string alone, a batch's entries land on random pages of the
 * whole tree (nearly every page copied per commit, a cost growing with the store); hour first,
 * they land in the last hours' pages. A lookup walks the hours that hold entries, newest
 * first (an hour, not a minute: a week of retention is 168 seeks). */
#define NS_STORE_HOUR_NS (3600ull * 1000000000ull)
size_t ns_store_key_str(uint8_t *k, uint64_t t, const char *s, size_t max, uint64_t fid);
size_t ns_store_key_conn(uint8_t *k, uint64_t conn, uint64_t fid);
size_t ns_store_key_series(uint8_t *k, ns_store_res_t res, const char *name, uint64_t start_s);
/* top_host: bucket_min(8) span_min(1) ver(1) addr(16), bucket_min = the bucket's first minute
 * since 1970 (a multiple of span_min: 1, 10 or 60). Bucket first (schema 3): a batch's new
 * minutes sort after every stored key and are appended; span first (schema 2) put them in
 * the middle of the tree, behind the 10- and 60-minute buckets. */
#define NS_STORE_TOP_KEY_LEN 26u
size_t ns_store_key_top(uint8_t *k, uint8_t span_min, uint64_t bucket_min, uint8_t ver,
                        const ns_addr_t *a);

/* The time and fid at the end of a time-ordered index key (by_time, by_host, by_port,
 * by_agent) of `len` bytes: false when it is shorter than 16 bytes. */
bool ns_store_key_tail(const uint8_t *k, size_t len, uint64_t *t, uint64_t *fid);

/* ---- record values ---- */

typedef struct {
    bool primary;
    uint8_t observers, ip_ver, proto, kind;
    uint16_t orig_p, resp_p;
    uint64_t received_ns, conn, first_ns, last_ns, bytes, pkts;
    ns_addr_t orig_h, resp_h;
    char service[NS_FLOW_SERVICE_MAX];
    char conn_state[NS_FLOW_STATE_MAX];
    char agent[NS_STORE_AGENT_MAX + 1];
    char uid[NS_FLOW_UID_LEN + 1];
    char cid[NS_FLOW_CID_MAX];
    const uint8_t *codec; /* into the decoded value */
    size_t codec_len;
} ns_store_vhdr_t;

/* Write the header and strings of `rec` + `m` into out[0..cap): returns the bytes written (the
 * codec bytes go after them), 0 when cap is too small or a string is too long. */
size_t ns_store_vhdr_encode(uint8_t *out, size_t cap, const ns_flow_rec_t *rec,
                            const ns_store_meta_t *m);

/* Read a value of `len` bytes. False (nothing to trust) when it is shorter than its header,
 * of another format, or its lengths do not add up. */
bool ns_store_vhdr_decode(const uint8_t *v, size_t len, ns_store_vhdr_t *h);

/* ---- series points: the "series" value is 8 big-endian values (bytes, pkts, new_flows,
 * ended_flows, active_max, rtt_sum_us, rtt_n, retrans); start_s is in the key ---- */
#define NS_STORE_POINT_LEN 64u
void ns_store_point_encode(uint8_t *b, const ns_store_point_t *p);
/* Fills every field but start_s. */
void ns_store_point_decode(const uint8_t *b, ns_store_point_t *p);
/* Sums into `to` (active_max: the larger). */
void ns_store_point_add(ns_store_point_t *to, const ns_store_point_t *p);

/* ---- top_host values: bytes, pkts, flows, each 8 bytes big-endian ---- */
#define NS_STORE_TOP_VAL_LEN 24u
typedef struct {
    uint64_t bytes, pkts, flows;
} ns_store_top_sums_t;
void ns_store_top_sums_encode(uint8_t *b, const ns_store_top_sums_t *t);
void ns_store_top_sums_decode(const uint8_t *b, ns_store_top_sums_t *t);

/* ---- paging cursors: a letter for the sort, the sort value and the fid in hex ---- */

/* Write the cursor after the record (value, fid) of a query sorted by `sort`. */
void ns_store_cursor_encode(char out[NS_STORE_CURSOR_MAX], ns_store_sort_t sort, uint64_t value,
                            uint64_t fid);
/* Read a cursor of a query sorted by `sort`: false when it is malformed or of another sort. */
bool ns_store_cursor_decode(const char *s, ns_store_sort_t sort, uint64_t *value, uint64_t *fid);

/* "tcp", "udp", "icmp", "icmp6", ... or the number as text, into out[8]. */
void ns_store_proto_name(uint8_t proto, char out[8]);

#endif /* NETSCOPE_STORE_KEY_H */
