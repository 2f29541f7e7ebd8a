/* ws.h - the live stream: dashboards' WebSocket (docs/stream.md is the contract).
 *
 * The only module that includes <libwebsockets.h>. One thread runs the libwebsockets service
 * loop; a timer at `rate_hz` marks every connected client as due a `state` frame and asks
 * for a writable callback. The frame is built when the socket can take it, from the latest
 * live state (live.h snapshot, the inventory, the active alerts, copied under the collector's
 * lock once per tick) and, for the flows and the graph, against what THIS client was last
 * sent. A client still holding its previous frame when the next tick comes is not queued
 * for: the tick is skipped and counted (per client in "skipped", in total for /metrics).
 *
 * Handshake checks, before the upgrade: path /api/v1/stream; Origin one of the HTTP API's
 * own origins (http://ADDR:PORT of --http, http://localhost:PORT when that is loopback) or of
 * `origins`, a missing Origin only when the stream listens on loopback (403 otherwise); with
 * a token, ?token= or Authorization: Bearer (401 missing, 403 wrong). A non-loopback listen
 * address needs a token (ns_ws_opts_check()).
 *
 * Client messages (text, one JSON object each, at most 4 KiB): filter (a BPF expression over
 * flow keys, bpf_flow.h; the error is libpcap's sentence), get_packets (the collector's
 * GetPackets path, collector.h; answered with a binary frame when the agent replies, an error
 * frame after a timeout), pause, resume.
 */
#ifndef NETSCOPE_WS_H
#define NETSCOPE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* collector.h and api.h include this header (through collector_config.h): name their types
 * without including them. */
typedef struct ns_collector ns_collector_t;
typedef struct ns_api ns_api_t;

#define NS_WS_LISTEN_DEFAULT "127.0.0.1:8081"
#define NS_WS_RATE_DEFAULT 30u
#define NS_WS_RATE_MAX 120u
#define NS_WS_CLIENTS_MAX 64u

typedef struct {
    const char *listen;         /* "ADDR:PORT" / "[ADDR]:PORT" */
    const char *http_listen;    /* the HTTP API's address: its origin is allowed (NULL: none) */
    const char *token;          /* the API token (NULL or "": none) */
    const char *const *origins; /* further allowed origins */
    size_t n_origins;
    unsigned rate_hz; /* state frames per second per client (1 .. NS_WS_RATE_MAX) */
} ns_ws_opts_t;

typedef struct {
    uint64_t clients;        /* connected now */
    uint64_t frames_sent;    /* every frame written (hello, state, error, packets) */
    uint64_t frames_skipped; /* state frames a slow client did not get */
    uint64_t bytes_sent;     /* payload bytes written */
    uint64_t refused;        /* handshakes refused (origin, token, path, too many) */
} ns_ws_stats_t;

typedef struct ns_ws ns_ws_t;

/* Check `o` without binding: the address parses, a non-loopback one has a token, the rate is
 * in range. False with a sentence. */
bool ns_ws_opts_check(const ns_ws_opts_t *o, char *errbuf, size_t errlen);

/* Listen on o->listen and serve the stream of collector `c` (live state read under its lock;
 * flow and alert objects written by `api`'s writers). Sets the collector's packet callback.
 * Returns the running stream, or NULL with a sentence (bad options, address in use). */
ns_ws_t *ns_ws_start(const ns_ws_opts_t *o, ns_collector_t *c, ns_api_t *api, char *errbuf,
                     size_t errlen);

/* Close every client, stop the thread, free, NULL the pointer. NULL-safe. Call before
 * destroying the collector (and while `api` is alive). */
void ns_ws_stop(ns_ws_t **self_p);

/* The port listened on. */
uint16_t ns_ws_port(const ns_ws_t *self);

/* "ws://ADDR:PORT/api/v1/stream" (valid while the stream runs). */
const char *ns_ws_url(const ns_ws_t *self);

/* Counters. Thread-safe. */
void ns_ws_stats(const ns_ws_t *self, ns_ws_stats_t *out);

#endif /* NETSCOPE_WS_H */
