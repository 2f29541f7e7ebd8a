/* flow_app_json.h - a flow's HTTP and DNS transactions as JSON (jansson).
 *
 * Kept on the CLI side so that core headers never include <jansson.h> (STYLE.md: each
 * dependency behind one .c). flow_record.c writes the same members directly (a collector
 * writes them for every final record); this jansson version is their reference, and
 * test_flow_record compares the two byte for byte.
 */
#ifndef NETSCOPE_FLOW_APP_JSON_H
#define NETSCOPE_FLOW_APP_JSON_H

#include <stdint.h>

#include "netscope/flow_rec.h"

struct json_t;

/* Add the application-layer part of record `r` (the transactions it carries) to the JSON
 * object `record`:
 *   "http": [ {"seq", "method", "host", "uri", "user_agent", "status", "request_body_len",
 *              "response_body_len", "latency_ms", ...}, ... ]   when the flow carried HTTP,
 *   "dns":  [ {"id", "query", "qtype", "rcode", "answers": [{"type","ttl","data"}],
 *              "latency_ms" or "unanswered": true, ...}, ... ]  when it carried DNS,
 * plus "http_tx_total"/"dns_tx_total" when more transactions were seen on the flow than the
 * record carries. Adds nothing when it carries none. Does not take ownership of `record`. */
void ns_app_to_json(const ns_flow_rec_t *r, struct json_t *record);

#endif /* NETSCOPE_FLOW_APP_JSON_H */
