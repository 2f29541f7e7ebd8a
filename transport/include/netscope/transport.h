/* transport.h - NetScope's ZeroMQ door: CURVE key files and the agent/collector link.
 *
 * The only module that talks to libzmq (and libsodium: fingerprint hash, wiping secrets); this
 * header exposes ns_ types only. Three families of names share it because one .c file is the door:
 *   ns_key_* / ns_keypair_*  CURVE keys and their files (`netscope keygen` writes them);
 *   ns_link_*                one ZeroMQ socket: an agent's DEALER or the collector's ROUTER.
 *
 * Key files are czmq's certificate format (zcert, ZPL text, RFC 4), so czmq's zcert_load() reads
 * ours and we read zcert_save()'s:
 *
 *     metadata
 *     curve
 *         public-key = "<40 characters of Z85>"
 *         secret-key = "<40 characters of Z85>"      (NAME.key_secret only)
 *
 * NAME.key holds the public key (shareable) and NAME.key_secret both keys (mode 0600).
 *
 * Authentication. A CURVE router answers ZAP (ZeroMQ RFC 27) itself, against an allow-list read
 * from a directory: every file there whose name ends in ".key" is one allowed agent's public key
 * (copy an agent's NAME.key in; delete it and ns_link_reload() to revoke it). Other names
 * (README, backups such as "a.key~", secret files) are ignored, so a stale copy never keeps a
 * revoked key alive. czmq's zauth is not used: it cannot count refusals or hand the refused
 * key to the caller, and it lives in czmq's process-wide context. Our handler is not a thread:
 * the router's owner thread answers ZAP requests inside ns_link_recv(), so the allow-list, the
 * counters and the on_refused callback belong to that one thread and need no locks. The
 * handler sets the ZAP User-Id to the client's Z85 key; each received message carries the
 * sender's key and whether it is allowed *now* (after the last reload), which is how an agent
 * that was connected before its key was revoked is cut off: libzmq cannot drop one peer of a
 * ROUTER, so the collector drops its messages.
 *
 * A link is used by one thread at a time (ZeroMQ sockets are not thread-safe); it is the
 * exporter thread's in an agent and the ingest thread's in the collector.
 *
 * Each link has its own ZeroMQ context (its own I/O thread and its own inproc namespace, hence
 * its own ZAP endpoint): several routers can live in one process, and nothing global is set
 * up (no signal handlers, no atexit).
 *
 * Caveats:
 * - Handshakes wait while a router's owner is not inside ns_link_recv() (libzmq gives up after
 *   30 s); the collector's ingest loop is expected to call it all the time.
 * - A routing id is chosen by the agent, not proven: bind identity to msg.key, never to
 *   msg.peer. Routers take over a routing id on reconnect (ZMQ_ROUTER_HANDOVER), so an agent
 *   that reconnects before its old connection timed out is not locked out.
 * - A dealer's host name is resolved when it connects, not at creation: "tcp://typo:5555" is
 *   accepted and never connects (ns_link_stats() shows no session).
 * - IPv6 is on only for bracketed literals: binding to every interface with * as the host
 *   listens on IPv4, with [::] on both (IPv4 peers then show as ::ffff:a.b.c.d); a host name is
 *   looked up for IPv4.
 * - An authenticated peer can still send a message of many frames; libzmq buffers it whole
 *   before we see it (each frame is bounded by max_msg_bytes). We drop it and count it.
 */
#ifndef NETSCOPE_TRANSPORT_H
#define NETSCOPE_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netscope/err.h"

/* ---- keys --------------------------------------------------------------------------- */

#define NS_KEY_LEN 32             /* a Curve25519 key */
#define NS_KEY_Z85_LEN 40         /* its Z85 text (ZeroMQ RFC 32) */
#define NS_KEY_FINGERPRINT_LEN 16 /* hex digits */
#define NS_KEY_FILE_MAX 4096      /* longer key files are refused */
#define NS_KEY_PUBLIC_SUFFIX ".key"
#define NS_KEY_SECRET_SUFFIX ".key_secret"

typedef struct {
    uint8_t bytes[NS_KEY_LEN];
} ns_key_t;

typedef struct {
    ns_key_t pub;
    uint8_t secret[NS_KEY_LEN];
} ns_keypair_t;

/* A new random key pair (libzmq's zmq_curve_keypair). NS_OK, or NS_EIO with a sentence in
 * errbuf when libzmq has no CURVE support. */
ns_err_t ns_keypair_generate(ns_keypair_t *kp, char *errbuf, size_t errlen);

/* Write NAME.key (the public key, mode 0644) and NAME.key_secret (both keys, mode 0600) for
 * `name` (a path without suffix). Each file is written to a temporary file in the same
 * directory, created with its final mode (never readable by others, even briefly), and then
 * linked into place: a reader never sees half a file. Without `force` an existing file is
 * an error and nothing is written; with it both are replaced. NS_OK, or an error with a
 * sentence in errbuf (NS_EINVAL: a file exists or the name is too long; NS_EIO: cannot write). */
ns_err_t ns_keypair_save(const ns_keypair_t *kp, const char *name, bool force, char *errbuf,
                         size_t errlen);

/* Read a secret key file (NAME.key_secret) into `kp`. Refused, each with a sentence in errbuf:
 * a file that cannot be opened or is not a regular file (NS_EIO); one that group or others may
 * read, write or execute (NS_EINVAL: 0600 or 0400, as ssh requires); one that is
 * not a key file, lacks a secret key, or whose public key does not belong to its secret key
 * (NS_EFORMAT). On failure `kp` is zeroed. */
ns_err_t ns_keypair_load(const char *path, ns_keypair_t *kp, char *errbuf, size_t errlen);

/* Overwrite a key pair's secret in memory (one the compiler does not optimise away). */
void ns_keypair_wipe(ns_keypair_t *kp);

/* Read the public key of a key file (NAME.key, or a secret file: its public half). NS_OK, or
 * NS_EIO / NS_EFORMAT with a sentence in errbuf. */
ns_err_t ns_key_load(const char *path, ns_key_t *key, char *errbuf, size_t errlen);

/* Parse the text of a key file (`len` bytes, not NUL-terminated, at most NS_KEY_FILE_MAX).
 * Fills kp->pub, and kp->secret when the text has a secret key (then *has_secret is true and
 * the pair has been checked to match). Strict ZPL: 4-space indentation, "name = value" with a
 * quoted or bare value, '#' comments; unknown sections and names are ignored. NS_OK, or
 * NS_EFORMAT with a sentence in errbuf. The untrusted-input entry point of key files (fuzzed
 * by tests/fuzz/fuzz_keyfile.c). */
ns_err_t ns_key_decode(const char *text, size_t len, ns_keypair_t *kp, bool *has_secret,
                       char *errbuf, size_t errlen);

/* The Z85 text of a public key into `out` (NS_KEY_Z85_LEN + 1 bytes, NUL-terminated). */
void ns_key_z85(const ns_key_t *key, char out[NS_KEY_Z85_LEN + 1]);

/* Parse exactly NS_KEY_Z85_LEN characters of canonical Z85 text into `key`; false on anything
 * else (wrong length, a character outside the alphabet, a group that overflows 32 bits). */
bool ns_key_from_z85(const char *text, ns_key_t *key);

/* The key's fingerprint for logs and inventories: the first 16 hex digits (lower case) of the
 * SHA-256 of its 32 raw bytes, into `out` (NS_KEY_FINGERPRINT_LEN + 1 bytes). Reproduce it with
 * any SHA-256 tool over the decoded key. */
void ns_key_fingerprint(const ns_key_t *key, char out[NS_KEY_FINGERPRINT_LEN + 1]);

/* ---- links -------------------------------------------------------------------------- */

#define NS_LINK_PEER_MAX 255 /* a ZeroMQ routing id */
#define NS_LINK_ADDR_MAX 64  /* a peer's IP address as text */
#define NS_LINK_ENDPOINT_MAX 256
#define NS_LINK_MAX_MSG_LIMIT (1 << 30)
#define NS_LINK_MAX_ALLOWED 100000 /* keys in an allowed-keys directory */

typedef struct ns_link ns_link_t;

/* Called (router, CURVE) by ns_link_recv() in the owner's thread for each refused handshake:
 * the client's key as Z85 text and its IP address, both valid during the call. It must not
 * destroy the link. */
typedef void(ns_link_refused_fn)(void *arg, const char *key_z85, const char *address);

/* Link options; all-zero gives plain text and the defaults in brackets. */
typedef struct {
    /* CURVE: the link's own key pair (copied into the socket at creation; wipe it after);
     * NULL: plain text (tests, trusted networks). */
    const ns_keypair_t *keys;
    /* Dealer with keys: the collector's public key (required). */
    const ns_key_t *server_key;
    /* Router with keys: the allowed-keys directory (required; see the file comment). */
    const char *allowed_dir;
    /* Router: refusals are reported here (optional). */
    ns_link_refused_fn *on_refused;
    void *on_refused_arg;
    /* Dealer: the routing id, 1..NS_LINK_PEER_MAX bytes, e.g. the agent id [libzmq's own]. */
    const char *routing_id;
    int sndhwm;               /* messages queued per peer for sending [1000] */
    int rcvhwm;               /* messages queued per peer for receiving [1000] */
    int reconnect_ivl_ms;     /* dealer: first reconnect delay [100] */
    int reconnect_ivl_max_ms; /* dealer: the delay doubles up to this [10000] */
    int heartbeat_ivl_ms;     /* ZMTP heartbeats; a silent peer is dropped after 3 [5000; -1 off] */
    int64_t max_msg_bytes;    /* a larger incoming frame drops the connection [16 MiB] */
    int linger_ms;            /* how long destroy may wait for unsent messages [0] */
} ns_link_opts_t;

/* Results of ns_link_send(), ns_link_send_to() and ns_link_recv(). */
typedef enum {
    NS_LINK_OK = 0,      /* one message sent or received */
    NS_LINK_TIMEOUT = 1, /* recv: nothing within the timeout, or a signal interrupted the wait */
    NS_LINK_AGAIN = 2,   /* send: high-water mark reached, or (dealer) no session is up: keep
                            the message in your own queue and retry later */
    NS_LINK_NOPEER = 3,  /* send_to: no connected peer has that routing id */
    NS_LINK_TOOBIG = 4,  /* send: the payload exceeds max_msg_bytes */
    NS_LINK_ERROR = -1,  /* bad argument or socket failure: ns_link_error() says which */
} ns_link_rc_t;

/* One received message. Filled by ns_link_recv(). */
typedef struct {
    const uint8_t *data; /* the payload; valid until the next ns_link_recv() or destroy */
    size_t len;
    uint8_t peer[NS_LINK_PEER_MAX]; /* router: the sender's routing id (reply with it) */
    size_t peer_len;                /* 0 on a dealer */
    char address[NS_LINK_ADDR_MAX]; /* router over tcp: the sender's IP address, else "" */
    bool has_key;                   /* CURVE router: `key` is the sender's authenticated key */
    ns_key_t key;
    bool key_allowed; /* the key is allowed now (false once revoked by a reload); true on a
                         plain-text link, where there is nothing to check */
} ns_link_msg_t;

/* Counters and state, read by ns_link_stats(). */
typedef struct {
    bool connected;              /* dealer: a session is up (handshake done, not lost since) */
    uint64_t sessions;           /* handshakes that succeeded: on a dealer 1 after the first
                                    connection and one more per reconnect */
    uint64_t disconnects;        /* connections that ended (after a session or a failure) */
    uint64_t handshake_failures; /* wrong mechanism (plain text vs CURVE), bad keys, refusals;
                                    on a dealer with no session yet: the collector refuses our
                                    key, or server_key is not the collector's */
    uint64_t refused;            /* router: handshakes refused by the allow-list */
    uint64_t dropped;            /* messages dropped for their shape (not one payload frame) */
} ns_link_stats_t;

/* A DEALER connected to `endpoint` ("tcp://HOST:PORT" or "ipc://PATH"); ZeroMQ connects in the
 * background and reconnects on its own. Returns a new link owned by the caller
 * (ns_link_destroy), or NULL with a sentence in errbuf: bad endpoint, bad option, a CURVE link
 * without server_key. */
ns_link_t *ns_link_dealer_new(const char *endpoint, const ns_link_opts_t *opts, char *errbuf,
                              size_t errlen);

/* A ROUTER bound to `endpoint` ("tcp://ADDR:PORT", PORT may be * for any free port, or
 * "ipc://PATH"). With keys: a CURVE server that admits only the keys of opts->allowed_dir,
 * read now. Returns a new link owned by the caller, or NULL with a sentence in errbuf: bad
 * endpoint, address in use, unreadable or malformed allowed-keys directory, bad option. */
ns_link_t *ns_link_router_new(const char *endpoint, const ns_link_opts_t *opts, char *errbuf,
                              size_t errlen);

/* Close the socket (waiting at most opts.linger_ms for unsent messages) and its context, free
 * the link and NULL the pointer. NULL-safe. */
void ns_link_destroy(ns_link_t **self_p);

/* The endpoint: for a router the bound one with its real port ("tcp://127.0.0.1:40123").
 * Valid while the link lives. */
const char *ns_link_endpoint(const ns_link_t *self);

/* Dealer: queue one message (one frame of `len` bytes), never blocking. */
ns_link_rc_t ns_link_send(ns_link_t *self, const void *data, size_t len);

/* Router: queue one message to the peer with routing id `peer` (from ns_link_msg_t), never
 * blocking. */
ns_link_rc_t ns_link_send_to(ns_link_t *self, const uint8_t *peer, size_t peer_len,
                             const void *data, size_t len);

/* Wait up to `timeout_ms` (>= 0; 0 polls) for one message. While waiting, a router answers
 * ZAP requests (and calls on_refused). Messages that are not one payload frame are dropped
 * and counted. NS_LINK_OK with `msg` filled, NS_LINK_TIMEOUT, or NS_LINK_ERROR. */
ns_link_rc_t ns_link_recv(ns_link_t *self, ns_link_msg_t *msg, int timeout_ms);

/* Router with keys: read the allowed-keys directory again (e.g. on SIGHUP). All or nothing:
 * when a file cannot be read or is not a key file, the old list stays in force and errbuf
 * names the file. New handshakes and ns_link_msg_t.key_allowed follow the new list. */
ns_err_t ns_link_reload(ns_link_t *self, char *errbuf, size_t errlen);

/* Router: whether `key` is in the allowed list now (plain-text router: true). */
bool ns_link_key_allowed(const ns_link_t *self, const ns_key_t *key);

/* Router: the number of keys allowed now. */
size_t ns_link_allowed_count(const ns_link_t *self);

/* Counters and connection state, after taking in the socket monitor's pending events. */
void ns_link_stats(ns_link_t *self, ns_link_stats_t *out);

/* The sentence of the last NS_LINK_ERROR (static or link storage; never NULL). */
const char *ns_link_error(const ns_link_t *self);

#endif /* NETSCOPE_TRANSPORT_H */
