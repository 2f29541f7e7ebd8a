/* bpf_flow.h - BPF expressions evaluated against flows instead of packets.
 *
 * The API's `filter` parameter is a tcpdump expression ("tcp and port 443 and net
 * 10.0.0.0/8") over flow keys. It is checked in two steps: a tokeniser refuses every word
 * that is neither a libpcap keyword nor a number, an IP address or a MAC address, so host
 * and port NAMES never reach libpcap (which would resolve them: the collector must never
 * make DNS queries on a client's behalf); then libpcap compiles it for Ethernet.
 *
 * Matching: for a flow, a minimal frame is built from its key for each direction (Ethernet,
 * an 802.1Q tag when the flow has a VLAN, IPv4 or IPv6, then a TCP, UDP or ICMP header
 * carrying the ports; ICMP's type is the flow's "port" of that side, its code 0) and the
 * compiled program runs over it; a match in either direction is a match. So "src host A"
 * matches flows where A sent packets, whichever side originated. Caveats: fields a flow key
 * does not hold (TCP flags, lengths, payload bytes) read as in a header with those set to
 * zero; "tcp[tcpflags] & tcp-syn != 0" matches nothing.
 */
#ifndef NETSCOPE_BPF_FLOW_H
#define NETSCOPE_BPF_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow_rec.h"

#define NS_BPF_FLOW_EXPR_MAX 1024u /* longest expression accepted, bytes */

/* A flow key, as plain values (IPv4 addresses in the first 4 bytes). */
typedef struct {
    uint8_t ip_ver;  /* 4 or 6 */
    uint8_t proto;   /* IP protocol */
    uint16_t vlan;   /* outer VLAN id, 0 when none */
    uint8_t orig_h[16], resp_h[16];
    uint16_t orig_p, resp_p;
} ns_bpf_flow_key_t;

typedef struct ns_bpf_flow ns_bpf_flow_t;

/* Check `expr` without keeping it: true, or false with a sentence (the offending word
 * quoted, or libpcap's message). */
bool ns_bpf_flow_check(const char *expr, char *errbuf, size_t errlen);

/* Compile `expr` (checked as above). Returns a new filter owned by the caller, or NULL with a
 * sentence. The filter is read-only afterwards: several threads may match with it. */
ns_bpf_flow_t *ns_bpf_flow_new(const char *expr, char *errbuf, size_t errlen);

/* True when the flow matches in either direction. */
bool ns_bpf_flow_match(const ns_bpf_flow_t *self, const ns_bpf_flow_key_t *k);

/* The key of a flow record, and ns_bpf_flow_match() on it. */
void ns_bpf_flow_key_of(const ns_flow_rec_t *rec, ns_bpf_flow_key_t *k);
bool ns_bpf_flow_match_rec(const ns_bpf_flow_t *self, const ns_flow_rec_t *rec);

/* Run `expr` as a capture filter (checked as by ns_bpf_flow_check(), then compiled for the
 * file's link type) over every frame of the classic pcap file `data` (len bytes, either byte
 * order, micro- or nanosecond): *packets frames read, *kept of them the filter keeps. A
 * truncated last record is left out. False with a sentence: not a pcap file, or the filter's
 * error ("bad filter: " then libpcap's text). */
bool ns_bpf_pcap_count(const char *expr, const uint8_t *data, size_t len, uint64_t *packets,
                       uint64_t *kept, char *errbuf, size_t errlen);

/* Free the filter and NULL the pointer. NULL-safe. */
void ns_bpf_flow_destroy(ns_bpf_flow_t **self_p);

#endif /* NETSCOPE_BPF_FLOW_H */
