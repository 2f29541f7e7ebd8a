/* flow_rec.h - ns_flow_rec_t, the one flat flow record of NetScope.
 *
 * Everything NetScope says about one flow at one moment, as plain values: what the CLI writes
 * as JSON Lines and CSV, what the codec puts on the wire between agent and collector, and what
 * the collector merges and stores. The flow engine fills it (ns_flow_rec_fill(), from the
 * table's compact records); every other module only reads it. README.md (netscope flows)
 * documents each field under its output name.
 *
 * Design: scalars are stored already derived (conn_state, history, Zeek's orig_bytes, the
 * Community ID, the rates), so a reader never needs the engine, and a record decoded from the
 * wire is the same value the agent's engine produced. Directions: index 0 is the originator
 * (Zeek's "orig"), 1 the responder.
 *
 * Application transactions (HTTP, DNS) are not copied: `http`/`dns` point at arrays the
 * producer owns (the engine's scratch for records it emits, the codec's decoded message for
 * records read from the wire), and their strings point into the producer's storage too. Such
 * a record is valid only as long as its producer says (see the producer's contract); copy
 * what must outlive it. With export (flow_engine.h), a record carries only the transactions
 * completed since the flow's previous export, so each transaction travels once; a record of
 * `netscope flows` (no export) carries all of the flow's kept transactions.
 */
#ifndef NETSCOPE_FLOW_REC_H
#define NETSCOPE_FLOW_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/flow.h"
#include "netscope/flow_app.h"
#include "netscope/pkt.h"

#define NS_FLOW_UID_LEN 18u       /* "C" + 17 base-62 digits */
#define NS_FLOW_STATE_MAX 8u      /* conn_state, NUL included ("RSTOS0") */
#define NS_FLOW_HISTORY_MAX 16u   /* history letters, NUL included (NS_FLOW_HIST_MAX + 1) */
#define NS_FLOW_SERVICE_MAX 8u    /* "http", "dns", NUL included */
#define NS_FLOW_CID_MAX 32u       /* Community ID "1:" + 28 base64 characters, NUL included */

/* Bits of ns_flow_rec_t.hs: which handshake RTT values are present. */
#define NS_FLOW_REC_HS_TOTAL 0x01u  /* rtt_hs_ns */
#define NS_FLOW_REC_HS_SERVER 0x02u /* rtt_hs_server_ns */
#define NS_FLOW_REC_HS_CLIENT 0x04u /* rtt_hs_client_ns */

/* What a record is. */
typedef enum {
    NS_FLOW_REC_UPDATE = 0, /* live state of a flow still open (export: changed since the last) */
    NS_FLOW_REC_INTERIM,    /* an active-timeout snapshot of a long flow; the flow goes on */
    NS_FLOW_REC_FINAL,      /* the flow ended (end_reason says why) */
} ns_flow_rec_kind_t;

typedef struct {
    /* ---- identity ---- */
    char uid[NS_FLOW_UID_LEN + 1];
    uint8_t ip_ver;           /* 4 or 6 */
    uint8_t proto;            /* IP protocol */
    uint16_t vlan;            /* outer VLAN id (0 untagged) */
    uint8_t iface;            /* the producer's capture interface index (0 for one interface) */
    uint8_t kind;             /* ns_flow_rec_kind_t */
    uint8_t end_reason;       /* ns_flow_end_t; NS_FLOW_END_NONE for updates */
    ns_addr_t orig_h, resp_h; /* IPv4 in the first 4 bytes */
    uint16_t orig_p, resp_p;  /* ports; ICMP type / counterpart-or-code */
    char community_id[NS_FLOW_CID_MAX];
    char tunnel_parent[NS_FLOW_UID_LEN + 1]; /* uid of the carrying flow (Zeek's
                                              * tunnel_parents), "" when not tunnelled */

    /* ---- time ---- */
    uint64_t first_ns, last_ns; /* first and last packet */
    uint64_t emit_ns;           /* when the record was made (packet or caller time) */

    /* ---- Zeek conn.log ---- */
    char service[NS_FLOW_SERVICE_MAX];  /* "" when none was recognised */
    char conn_state[NS_FLOW_STATE_MAX];
    char history[NS_FLOW_HISTORY_MAX];
    uint64_t app_bytes[2];   /* Zeek's orig_bytes / resp_bytes */
    uint64_t missed_bytes;   /* both directions */
    uint64_t pkts[2];
    uint64_t ip_bytes[2];
    uint64_t wire_bytes[2];
    uint64_t payload_bytes[2];

    /* ---- TCP (all zero unless is_tcp) ---- */
    bool is_tcp;
    uint8_t tcp_flags[2];    /* OR of flags sent (F S R P A U E C = bits 0..7) */
    uint8_t syn[2], fin[2], rst[2];
    uint8_t tcp_state[2];    /* ns_tcp_ep_t */
    uint8_t hs;              /* NS_FLOW_REC_HS_* */
    uint64_t rtt_hs_ns, rtt_hs_server_ns, rtt_hs_client_ns;
    uint32_t rtt_n, rtt_min_us, rtt_mean_us, rtt_max_us, rtt_last_us;
    uint32_t retrans[2], ooo[2], dup_ack[2];
    uint32_t zero_win[2], gaps[2], missed[2];

    /* ---- capture quality, rates, bookkeeping ---- */
    uint8_t quality;         /* NS_FLOW_Q_* */
    double bps, pps;         /* 1-second sliding window ending at last_ns */
    uint32_t interim;        /* interim records written before this one */

    /* ---- application (see the file comment for lifetimes) ---- */
    uint32_t http_total;     /* HTTP transactions seen on the flow (kept or not) */
    uint32_t dns_total;
    uint32_t dns_unanswered;
    uint32_t n_http, n_dns;  /* transactions carried by this record */
    const ns_app_http_tx_t *http;
    const ns_app_dns_tx_t *dns;
} ns_flow_rec_t;

/* "update", "interim", "final". */
const char *ns_flow_rec_kind_name(ns_flow_rec_kind_t kind);

/* Average rates over the flow's duration (0 when it lasted no time), bits/s and packets/s. */
void ns_flow_rec_avg_rate(const ns_flow_rec_t *r, double *bps, double *pps);

#endif /* NETSCOPE_FLOW_REC_H */
