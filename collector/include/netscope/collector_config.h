/* collector_config.h - netscope-collector's options: defaults, the TOML keys, cross-checks.
 *
 * Every option is a key of /etc/netscope/collector.toml (sections [collector], [output],
 * [merge], [agents], [storage], [http], [clickhouse], [api], [detect], [detect.NAME]
 * per detector and [alerts]) and can be overridden on the command line
 * (named options for the usual ones, --set section.key=VALUE for all).
 */
#ifndef NETSCOPE_COLLECTOR_CONFIG_H
#define NETSCOPE_COLLECTOR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/config.h"
#include "netscope/detect.h"
#include "netscope/httpd.h"
#include "netscope/ws.h"

#define NS_COLLECTOR_CONFIG_DEFAULT "/etc/netscope/collector.toml"

typedef struct {
    /* [collector] */
    char *listen;       /* endpoint to bind */
    char *key;          /* our secret key file */
    char *allowed_keys; /* directory of allowed agent public keys */
    bool insecure;
    char *log_level;
    uint64_t max_msg_kb;
    /* [output] */
    char *flows;        /* JSON Lines of final records ("" = none) */
    char *state;        /* where SIGUSR1 and exit write the state ("-" = stdout) */
    bool updates;       /* also write every update record applied, with its receive time */
    /* [merge] */
    uint64_t max_flows;
    uint64_t linger_ns;
    uint64_t idle_ns;
    uint64_t tolerance_ns;
    /* [storage] */
    char *db;               /* LMDB directory ("" or NULL = no history) */
    uint64_t max_size_mb;   /* the database grows to this, then the oldest data goes */
    uint64_t commit_ns;     /* the writer's batch interval */
    char *sync;             /* "meta", "full" or "none" (store.h says what each risks) */
    uint64_t flow_keep_ns;  /* flows older than this are deleted (0: by size only) */
    uint64_t keep_1s_ns, keep_1m_ns, keep_1h_ns; /* time series, per resolution */
    /* [agents] */
    uint64_t max_agents;
    uint64_t silence_ns; /* an agent silent this long is marked disconnected */
    /* [http] (the API, api.h) */
    char *http_listen;          /* "ADDR:PORT", "[ADDR]:PORT"; "" = no API */
    char *http_token;           /* bearer token ("" or NULL: none) */
    bool http_no_auth;          /* serve a non-loopback address without a token */
    uint64_t http_max_connections;
    uint64_t http_per_client;
    uint64_t http_idle_ns;
    uint64_t http_max_request;  /* bytes */
    uint64_t http_threads;
    /* [api] the live stream (ws.h) and the dashboard's files */
    char *ws_listen;            /* "ADDR:PORT"; "off" or "" = no stream */
    uint64_t ws_rate_hz;        /* state frames per second per client */
    ns_strlist_t ws_origins;    /* allowed Origins beyond the API's own */
    char *ui_dir;               /* the dashboard's files ("" = none; missing dir: none) */
    /* [clickhouse] (chsink.h): off while the url is empty */
    char *ch_url;
    char *ch_database;
    char *ch_user;
    char *ch_password;
    uint64_t ch_batch_rows;
    uint64_t ch_batch_ms;
    uint64_t ch_queue_mb;
    uint64_t ch_timeout_ms;
    /* [detect], [detect.NAME] (detect.h): re-read from config_file on SIGHUP */
    ns_detect_config_t detect;
    /* [alerts] (notify.h) */
    char *alerts_webhook;      /* http://HOST[:PORT]/PATH ("" = none) */
    bool alerts_syslog;
    uint64_t alerts_queue;     /* notifications waiting for the webhook at most */
    uint64_t alerts_retries;
    uint64_t alerts_timeout_ms;
    /* not an option: the file the options came from (argv's; NULL when none), for SIGHUP */
    const char *config_file;
} ns_collector_config_t;

extern const ns_opt_t ns_collector_opts[];
extern const size_t ns_collector_nopts;

bool ns_collector_config_defaults(ns_collector_config_t *c);
void ns_collector_config_free(ns_collector_config_t *c);

/* Checks across options (keys unless insecure; an endpoint; an http:// ClickHouse URL):
 * false with a sentence. */
bool ns_collector_config_check(const ns_collector_config_t *c, char *errbuf, size_t errlen);

/* Re-read the [detect] keys of c->config_file into `out` (defaults first; command-line
 * overrides are not re-applied). False with a sentence; true with the defaults without a file.
 * Free `out`'s exclude lists with ns_collector_config_detect_free(). */
bool ns_collector_config_detect_reload(const ns_collector_config_t *c, ns_detect_config_t *out,
                                       char *errbuf, size_t errlen);
void ns_collector_config_detect_free(ns_detect_config_t *d);

/* The HTTP server options of `c` (strings point into `c`). False when the API is off
 * (http.listen empty). */
bool ns_collector_config_http(const ns_collector_config_t *c, ns_httpd_opts_t *o);

/* The stream's options of `c` (strings and the origin list point into `c`). False when the
 * stream is off (api.ws_listen "off" or empty). */
bool ns_collector_config_ws(const ns_collector_config_t *c, ns_ws_opts_t *o);

#endif /* NETSCOPE_COLLECTOR_CONFIG_H */
