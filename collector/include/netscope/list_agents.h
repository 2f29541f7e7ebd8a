/* list_agents.h - `netscope-collector --list-agents`: which agents this collector knows.
 *
 * Two sources, read as they are, nothing inferred:
 *   - enrolled: the public keys (*.key) in collector.allowed_keys, with their fingerprints;
 *   - seen: GET /api/v1/agents of the RUNNING collector at http.listen (with http.token),
 *     each agent with its fingerprint and whether it is connected now.
 * Each seen agent is matched to its key file by fingerprint.
 */
#ifndef NETSCOPE_LIST_AGENTS_H
#define NETSCOPE_LIST_AGENTS_H

#include <stdio.h>

#include "netscope/collector_config.h"

/* Write the two lists to `out`. Returns 0 when both sources were read, 1 when one could not
 * be (what was read is still written; the reason goes to `err`). */
int ns_list_agents(const ns_collector_config_t *cfg, FILE *out, FILE *err);

#endif /* NETSCOPE_LIST_AGENTS_H */
