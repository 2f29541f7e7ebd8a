/* flow_tcp.h - TCP analysis of one flow: endpoint states, Zeek history, sequence tracking
 * (retransmission, out-of-order, gaps), duplicate ACKs, zero windows and RTT.
 *
 * Design: one call per TCP packet, O(1), no allocation; everything it remembers is in the
 * flow's ns_flow_tcp_t and the per-direction ns_flow_dir_t (flow.h). The endpoint states
 * follow Zeek's TCP analyzer closely enough that Zeek's conn_state function, applied to them
 * (ns_flow_conn_state), gives Zeek's answers for the usual cases.
 *
 * Definitions:
 *  - retransmission: a segment (data, SYN or FIN) starting below the highest sequence number
 *    already seen whose bytes had all been seen (a keep-alive, one byte just below, is not);
 *  - out-of-order: such a segment carrying bytes never seen (it fills the tracked gap);
 *  - gap: a segment starting above the highest sequence number seen; the skipped bytes count as
 *    missed until an out-of-order segment fills them (one gap per direction is tracked; when a
 *    new gap opens, the bytes of an unfilled older one stay missed);
 *  - duplicate ACK: a segment with no payload and no SYN/FIN/RST repeating the previous ACK
 *    number and window of its sender;
 *  - RTT: the time from a data segment to the first ACK that covers it, one segment in flight
 *    timed at a time, and a retransmission cancels the timing (Karn's rule);
 *  - handshake RTT (Wireshark's initial_rtt): the most recent SYN -> the first packet after it
 *    with ACK and not SYN, from either side; split into server half = that SYN -> the first
 *    SYN-ACK after it and client half = that SYN-ACK -> the originator's ACK, when the packet
 *    that ends it is that ACK (otherwise, e.g. a RST-ACK or a SYN-ACK the capture missed, only
 *    the total is known).
 */
#ifndef NETSCOPE_FLOW_TCP_H
#define NETSCOPE_FLOW_TCP_H

#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_table.h"
#include "netscope/pkt.h"

/* Analyse TCP packet `pkt` sent in direction `dir` (0 = by the originator) of TCP flow `idx`
 * of `tab` at `now_ns` (>= its first_ns). Updates states, flags, history and the TCP record;
 * takes the flow's extension from the table's pool the first time the flow needs one (an RTT
 * sample, a retransmission, out-of-order segment, gap, duplicate ACK or zero window). */
void ns_flow_tcp_update(ns_flow_table_t *tab, uint32_t idx, unsigned dir, const ns_pkt_t *pkt,
                        uint64_t now_ns);

/* Record Zeek's '^' (direction flipped) in the history; call before the first update. */
void ns_flow_tcp_flipped(ns_flow_tcp_t *t);

#endif /* NETSCOPE_FLOW_TCP_H */
