/* agent_config.h - netscope-agent's options: defaults, the TOML keys, cross-checks.
 *
 * Every option is a key of /etc/netscope/agent.toml (sections [agent], [capture], [flows],
 * [export], [ring]) and can be overridden on the command line (named options for the usual
 * ones, --set section.key=VALUE for all). deploy/agent.toml.example lists them with their
 * defaults.
 */
#ifndef NETSCOPE_AGENT_CONFIG_H
#define NETSCOPE_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/config.h"

#define NS_AGENT_CONFIG_DEFAULT "/etc/netscope/agent.toml"
#define NS_AGENT_MAX_IFACES 16 /* interfaces one agent tells apart (the flow key's 4 bits) */

typedef struct {
    /* [agent] */
    char *id;        /* agent id (routing id, inventory); default: the host name */
    char *user;      /* run as this user after opening the capture */
    char *log_level; /* error, warn, info, debug */
    /* [capture] */
    ns_strlist_t interfaces;
    char *filter;
    uint64_t snaplen;
    bool promisc;
    uint64_t buffer_mb;
    uint64_t poll_ms;
    char *replay;       /* a capture file instead of interfaces */
    char *replay_speed; /* "max" or a factor of the recorded speed */
    /* [decode] */
    uint64_t vxlan_port; /* UDP port of VXLAN (default 4789) */
    uint64_t geneve_port;
    /* [flows] */
    uint64_t max_flows;
    uint64_t idle_ns;
    uint64_t linger_ns;
    uint64_t active_ns;
    bool app;
    /* [export] */
    char *collector;     /* endpoint */
    char *collector_key; /* the collector's public key file */
    char *key;           /* our secret key file */
    bool insecure;       /* plain text, no key */
    uint64_t interval_ms;
    uint64_t heartbeat_ms;
    uint64_t queue_mb;   /* final records waiting */
    uint64_t updates_mb; /* updates waiting */
    uint64_t batch_kb;   /* largest message */
    uint64_t window;     /* batches sent and not acknowledged */
    uint64_t ack_timeout_ms;
    uint64_t drain_ms; /* at stop: how long to wait for final records to be acknowledged */
    /* [ring] */
    uint64_t ring_mb;
    /* [metrics] the agent's own /metrics (httpd.h) */
    char *metrics_listen;  /* "ADDR:PORT"; NULL or "" = off (the default) */
    char *metrics_token;   /* bearer token; needed for a non-loopback address */
    bool metrics_no_auth;  /* serve a non-loopback address without a token */
} ns_agent_config_t;

extern const ns_opt_t ns_agent_opts[];
extern const size_t ns_agent_nopts;

/* Fill `c` with the defaults (strings are heap copies: ns_agent_config_free()). False when
 * out of memory. */
bool ns_agent_config_defaults(ns_agent_config_t *c);

/* Free what `c` owns. */
void ns_agent_config_free(ns_agent_config_t *c);

/* Checks across options (an interface or a replay file, not both; keys unless insecure; the
 * replay speed; ...): false with a sentence in errbuf. */
bool ns_agent_config_check(const ns_agent_config_t *c, char *errbuf, size_t errlen);

/* The replay speed: 0 for "max" (flat out), else the factor (> 0). False when it is
 * neither. */
bool ns_agent_replay_speed(const char *text, double *factor);

#endif /* NETSCOPE_AGENT_CONFIG_H */
