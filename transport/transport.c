/* transport.c - CURVE key files and ZeroMQ links (DEALER/ROUTER, our own ZAP handler).
 *
 * The one file that includes <zmq.h> (and <sodium.h>). Design, and why czmq's zauth is not
 * used, in transport.h. czmq is not used at all: its zsock lives in one process-wide context
 * that installs signal handlers and an atexit hook, its zconfig parser prints to stdout on a
 * malformed file, and zcert_save_secret() creates files by changing the process-wide umask.
 * What we take from it is its key file format, which we read and write ourselves.
 *
 * Key files are small and hostile like any input: they are read through one descriptor that is
 * checked (regular file, mode) before a bounded read, and parsed by a strict line reader that
 * keeps only curve/public-key and curve/secret-key.
 *
 * A link owns a context, its socket, a PAIR socket fed by the socket monitor (sessions,
 * disconnects, handshake failures) and, for a CURVE router, the ZAP handler's REP socket. The
 * monitor's events are taken in whenever the owner calls recv or stats; the monitor drops
 * events past its high-water mark (1000), so a caller that calls neither for a long time may
 * see counters short, never wrong in kind.
 */
#include "netscope/transport.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <zmq.h>

static void set_err(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_err(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

/* ---- keys ------------------------------------------------------------------------------ */

#define ZPL_INDENT 4

void
ns_key_z85(const ns_key_t *key, char out[NS_KEY_Z85_LEN + 1])
{
    if (zmq_z85_encode(out, key->bytes, NS_KEY_LEN) == NULL)
        out[0] = '\0'; /* only for a length that is not a multiple of 4: not ours */
}

bool
ns_key_from_z85(const char *text, ns_key_t *key)
{
    if (text == NULL || strnlen(text, NS_KEY_Z85_LEN + 1) != NS_KEY_Z85_LEN)
        return false;
    ns_key_t k;
    if (zmq_z85_decode(k.bytes, text) == NULL)
        return false;
    /* libzmq accepts a few non-canonical spellings; one key, one text. */
    char again[NS_KEY_Z85_LEN + 1];
    ns_key_z85(&k, again);
    if (memcmp(again, text, NS_KEY_Z85_LEN) != 0)
        return false;
    *key = k;
    return true;
}

void
ns_key_fingerprint(const ns_key_t *key, char out[NS_KEY_FINGERPRINT_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    uint8_t d[crypto_hash_sha256_BYTES];
    /* No sodium_init() needed: SHA-256 uses neither randomness nor CPU-specific code. */
    crypto_hash_sha256(d, key->bytes, NS_KEY_LEN);
    for (unsigned i = 0; i < NS_KEY_FINGERPRINT_LEN / 2; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[NS_KEY_FINGERPRINT_LEN] = '\0';
}

void
ns_keypair_wipe(ns_keypair_t *kp)
{
    if (kp != NULL)
        sodium_memzero(kp, sizeof *kp);
}

/* The way out of a function that held a secret key's Z85 text and fills `kp`: the text is
 * wiped, and on failure the pair too, so a caller never holds half a key. */
static ns_err_t
key_exit(ns_err_t rc, char sec_z85[NS_KEY_Z85_LEN + 1], ns_keypair_t *kp)
{
    sodium_memzero(sec_z85, NS_KEY_Z85_LEN + 1);
    if (rc != NS_OK)
        ns_keypair_wipe(kp);
    return rc;
}

ns_err_t
ns_keypair_generate(ns_keypair_t *kp, char *errbuf, size_t errlen)
{
    char pub[NS_KEY_Z85_LEN + 1], sec[NS_KEY_Z85_LEN + 1];
    ns_err_t rc = NS_EIO;
    memset(kp, 0, sizeof *kp);
    if (zmq_curve_keypair(pub, sec) != 0) {
        set_err(errbuf, errlen, "cannot make a CURVE key pair: %s (libzmq without CURVE?)",
                zmq_strerror(errno));
        goto out;
    }
    if (zmq_z85_decode(kp->pub.bytes, pub) == NULL || zmq_z85_decode(kp->secret, sec) == NULL) {
        set_err(errbuf, errlen, "libzmq made a key pair that is not Z85 text");
        goto out;
    }
    rc = NS_OK;
out:
    return key_exit(rc, sec, kp);
}

/* One line of ZPL: indentation level, name and optional value (pointers into the line). */
typedef struct {
    unsigned level;
    const char *name, *value;
    size_t name_len, value_len;
    bool has_value;
} zpl_line_t;

static bool
zpl_name_char(char c)
{
    return isalnum((unsigned char)c) || (c != '\0' && strchr("$-_@.&+/", c) != NULL);
}

/* Parse one line (without its newline). Returns 1 for a name, 0 for a blank or comment line,
 * -1 with `why` set for anything else. */
static int
zpl_parse_line(const char *s, size_t n, zpl_line_t *l, const char **why)
{
    size_t i = 0;
    if (n > 0 && s[n - 1] == '\r')
        n--;
    while (i < n && s[i] == ' ')
        i++;
    if (i == n || s[i] == '#')
        return 0;
    if (i % ZPL_INDENT != 0) {
        *why = "indentation is not a multiple of 4 spaces";
        return -1;
    }
    l->level = (unsigned)(i / ZPL_INDENT);
    l->name = s + i;
    while (i < n && zpl_name_char(s[i]))
        i++;
    l->name_len = (size_t)(s + i - l->name);
    if (l->name_len == 0) {
        *why = "a line does not start with a name";
        return -1;
    }
    while (i < n && s[i] == ' ')
        i++;
    l->has_value = i < n && s[i] == '=';
    if (l->has_value) {
        i++;
        while (i < n && s[i] == ' ')
            i++;
        if (i < n && (s[i] == '"' || s[i] == '\'')) {
            char q = s[i++];
            l->value = s + i;
            while (i < n && s[i] != q)
                i++;
            if (i == n) {
                *why = "a quoted value has no closing quote";
                return -1;
            }
            l->value_len = (size_t)(s + i - l->value);
            i++;
        } else {
            l->value = s + i;
            while (i < n && s[i] != ' ' && s[i] != '#')
                i++;
            l->value_len = (size_t)(s + i - l->value);
        }
        while (i < n && s[i] == ' ')
            i++;
    }
    if (i < n && s[i] != '#') {
        *why = "unexpected text after a name or value";
        return -1;
    }
    return 1;
}

static bool
zpl_is(const char *s, size_t n, const char *word)
{
    return n == strlen(word) && memcmp(s, word, n) == 0;
}

ns_err_t
ns_key_decode(const char *text, size_t len, ns_keypair_t *kp, bool *has_secret, char *errbuf,
              size_t errlen)
{
    char pub[NS_KEY_Z85_LEN + 1] = "", sec[NS_KEY_Z85_LEN + 1] = "";
    bool have_pub = false, have_sec = false, in_curve = false;
    unsigned max_level = 0; /* a line may open at most one level below the previous name */
    unsigned lineno = 0;
    const char *why = NULL;
    ns_err_t rc = NS_EFORMAT;

    memset(kp, 0, sizeof *kp);
    *has_secret = false;
    if (len > NS_KEY_FILE_MAX) {
        set_err(errbuf, errlen, "longer than %d bytes", NS_KEY_FILE_MAX);
        goto out;
    }
    for (size_t off = 0; off < len && why == NULL;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        zpl_line_t l = {0};
        lineno++;
        int r = zpl_parse_line(text + off, n, &l, &why);
        off += n + 1;
        if (r <= 0)
            continue;
        if (l.level > max_level) {
            why = "a line is indented deeper than its parent";
            break;
        }
        max_level = l.level + 1;
        if (l.level == 0) {
            in_curve = zpl_is(l.name, l.name_len, "curve");
            continue;
        }
        if (l.level != 1 || !in_curve)
            continue;
        bool is_pub = zpl_is(l.name, l.name_len, "public-key");
        bool is_sec = zpl_is(l.name, l.name_len, "secret-key");
        if (!is_pub && !is_sec)
            continue;
        if ((is_pub && have_pub) || (is_sec && have_sec))
            why = "a key is given twice";
        else if (!l.has_value || l.value_len != NS_KEY_Z85_LEN)
            why = "a key is not 40 characters of Z85";
        else {
            memcpy(is_pub ? pub : sec, l.value, NS_KEY_Z85_LEN);
            *(is_pub ? &have_pub : &have_sec) = true;
        }
    }
    if (why != NULL) {
        set_err(errbuf, errlen, "line %u: %s", lineno, why);
        goto out;
    }
    if (!have_pub || !ns_key_from_z85(pub, &kp->pub)) {
        set_err(errbuf, errlen, "%s",
                have_pub ? "curve public-key is not valid Z85" : "no curve public-key");
        goto out;
    }
    if (have_sec) {
        ns_key_t s;
        char derived[NS_KEY_Z85_LEN + 1];
        if (!ns_key_from_z85(sec, &s)) {
            set_err(errbuf, errlen, "curve secret-key is not valid Z85");
            goto out;
        }
        memcpy(kp->secret, s.bytes, NS_KEY_LEN);
        sodium_memzero(&s, sizeof s);
        if (zmq_curve_public(derived, sec) != 0 || strcmp(derived, pub) != 0) {
            set_err(errbuf, errlen, "the public key does not belong to the secret key");
            goto out;
        }
        *has_secret = true;
    }
    rc = NS_OK;
out:
    return key_exit(rc, sec, kp);
}

/* Read a key file into buf (NS_KEY_FILE_MAX + 1 bytes): open once, check what was opened (a
 * regular file; for a secret key no permission for group or others) and only then read, so
 * the checks and the bytes are about the same file. O_NONBLOCK: a FIFO does not hang us. */
static ns_err_t
key_file_read(const char *path, bool secret, char *buf, size_t *len, char *errbuf, size_t errlen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        set_err(errbuf, errlen, "cannot open %s: %s", path, strerror(errno));
        return NS_EIO;
    }
    ns_err_t rc = NS_EIO;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        set_err(errbuf, errlen, "%s is not a regular file", path);
        goto out;
    }
    if (secret && (st.st_mode & 077) != 0) {
        set_err(errbuf, errlen,
                "secret key file %s is open to group or others (mode %04o); chmod 600 it", path,
                (unsigned)(st.st_mode & 07777));
        rc = NS_EINVAL;
        goto out;
    }
    size_t n = 0;
    while (n < NS_KEY_FILE_MAX + 1) {
        ssize_t r = read(fd, buf + n, NS_KEY_FILE_MAX + 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *len = n;
    rc = NS_OK;
out:
    close(fd);
    return rc;
}

/* Read and parse a key file; errors name the file. */
static ns_err_t
key_file_load(const char *path, bool secret, ns_keypair_t *kp, char *errbuf, size_t errlen)
{
    char buf[NS_KEY_FILE_MAX + 1];
    char why[128];
    size_t len = 0;
    bool has_secret = false;
    memset(kp, 0, sizeof *kp);
    ns_err_t rc = key_file_read(path, secret, buf, &len, errbuf, errlen);
    if (rc == NS_OK) {
        rc = ns_key_decode(buf, len, kp, &has_secret, why, sizeof why);
        if (rc != NS_OK)
            set_err(errbuf, errlen, "%s is not a key file: %s", path, why);
    }
    if (rc == NS_OK && secret && !has_secret) {
        set_err(errbuf, errlen, "%s has no secret key (a public key file?)", path);
        rc = NS_EFORMAT;
    }
    sodium_memzero(buf, sizeof buf);
    if (rc != NS_OK || !secret)
        sodium_memzero(kp->secret, sizeof kp->secret);
    return rc;
}

ns_err_t
ns_keypair_load(const char *path, ns_keypair_t *kp, char *errbuf, size_t errlen)
{
    return key_file_load(path, true, kp, errbuf, errlen);
}

ns_err_t
ns_key_load(const char *path, ns_key_t *key, char *errbuf, size_t errlen)
{
    ns_keypair_t kp;
    ns_err_t rc = key_file_load(path, false, &kp, errbuf, errlen);
    *key = kp.pub;
    ns_keypair_wipe(&kp);
    return rc;
}

/* The text of a key file in czmq's zcert layout. Returns its length, or 0 if it did not fit. */
static size_t
key_file_text(const ns_keypair_t *kp, bool secret, char *buf, size_t cap)
{
    char pub[NS_KEY_Z85_LEN + 1], sec[NS_KEY_Z85_LEN + 1];
    ns_key_z85(&kp->pub, pub);
    int n;
    if (secret) {
        if (zmq_z85_encode(sec, kp->secret, NS_KEY_LEN) == NULL)
            return 0;
        n = snprintf(buf, cap,
                     "#   ****  Generated by netscope keygen  ****\n"
                     "#   ZeroMQ CURVE **Secret** Certificate\n"
                     "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
                     "\n"
                     "metadata\n"
                     "curve\n"
                     "    public-key = \"%s\"\n"
                     "    secret-key = \"%s\"\n",
                     pub, sec);
        sodium_memzero(sec, sizeof sec);
    } else {
        n = snprintf(buf, cap,
                     "#   ****  Generated by netscope keygen  ****\n"
                     "#   ZeroMQ CURVE Public Certificate\n"
                     "#   Share it: an agent's goes into the collector's allowed-keys\n"
                     "#   directory, the collector's to its agents.\n"
                     "\n"
                     "metadata\n"
                     "curve\n"
                     "    public-key = \"%s\"\n",
                     pub);
    }
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* Write `len` bytes to `path` with exactly `mode`: a temporary file beside it (created 0600 by
 * mkostemp, then set to `mode`) is linked into place (fails if `path` exists) or, with `force`,
 * renamed over it. A reader sees the old file or the whole new one, never a part. */
static ns_err_t
file_write_new(const char *path, const char *text, size_t len, mode_t mode, bool force,
               char *errbuf, size_t errlen)
{
    char tmp[PATH_MAX];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= sizeof tmp) {
        set_err(errbuf, errlen, "file name too long: %s", path);
        return NS_EINVAL;
    }
    int fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        set_err(errbuf, errlen, "cannot create %s: %s", path, strerror(errno));
        return NS_EIO;
    }
    ns_err_t rc = NS_EIO;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            set_err(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
            goto out;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, mode) != 0 || fsync(fd) != 0) {
        set_err(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    int closed = close(fd);
    fd = -1;
    if (closed != 0) {
        set_err(errbuf, errlen, "cannot write %s: %s", path, strerror(errno));
        goto out;
    }
    if (force ? rename(tmp, path) == 0 : link(tmp, path) == 0) {
        rc = NS_OK;
    } else if (errno == EEXIST) {
        set_err(errbuf, errlen, "%s already exists (not replaced without --force)", path);
        rc = NS_EINVAL;
    } else {
        set_err(errbuf, errlen, "cannot create %s: %s", path, strerror(errno));
    }
out:
    if (fd >= 0)
        close(fd);
    if (rc != NS_OK || !force)
        unlink(tmp); /* after a rename there is nothing left to unlink */
    return rc;
}

ns_err_t
ns_keypair_save(const ns_keypair_t *kp, const char *name, bool force, char *errbuf, size_t errlen)
{
    char pub_path[PATH_MAX], sec_path[PATH_MAX];
    char text[1024];
    ns_err_t rc = NS_EINVAL;
    if ((size_t)snprintf(pub_path, sizeof pub_path, "%s%s", name, NS_KEY_PUBLIC_SUFFIX) >=
            sizeof pub_path ||
        (size_t)snprintf(sec_path, sizeof sec_path, "%s%s", name, NS_KEY_SECRET_SUFFIX) >=
            sizeof sec_path) {
        set_err(errbuf, errlen, "key name too long: %s", name);
        return NS_EINVAL;
    }
    /* Check both before writing either, so a refusal leaves nothing half done. */
    struct stat st;
    if (!force && (lstat(pub_path, &st) == 0 || lstat(sec_path, &st) == 0)) {
        set_err(errbuf, errlen, "%s already exists (not replaced without --force)",
                lstat(pub_path, &st) == 0 ? pub_path : sec_path);
        return NS_EINVAL;
    }
    size_t len = key_file_text(kp, true, text, sizeof text);
    if (len == 0) {
        set_err(errbuf, errlen, "cannot format the key files");
        goto out;
    }
    rc = file_write_new(sec_path, text, len, 0600, force, errbuf, errlen);
    if (rc != NS_OK)
        goto out;
    len = key_file_text(kp, false, text, sizeof text);
    rc = file_write_new(pub_path, text, len, 0644, force, errbuf, errlen);
    if (rc != NS_OK && !force)
        unlink(sec_path); /* ours: it did not exist a moment ago */
out:
    sodium_memzero(text, sizeof text);
    return rc;
}

/* ---- links: options and endpoints ------------------------------------------------------ */

#define ZAP_ENDPOINT "inproc://zeromq.zap.01" /* fixed by RFC 27, per context */
#define ZAP_DOMAIN "netscope"
#define MONITOR_ENDPOINT "inproc://netscope.monitor" /* per context: one link */
#define MONITOR_EVENTS                                                                             \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED |                                      \
     ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |                  \
     ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
#define DRAIN_MAX 256    /* events or ZAP requests taken in one go, so recv keeps its deadline */
#define IPC_PATH_MAX 107 /* sun_path less its NUL */
#define HEARTBEAT_MAX_MS 600000

typedef struct {
    int sndhwm, rcvhwm, ivl, ivl_max, heartbeat, linger;
    int ipv6; /* a bracketed IPv6 literal: IPv4 endpoints keep plain IPv4 addresses in logs */
    int64_t max_msg;
} link_cfg_t;

/* Defaults and ranges of ns_link_opts_t; false with a sentence for anything out of range or
 * given to the wrong kind of link. */
static bool
link_cfg(const ns_link_opts_t *o, bool router, link_cfg_t *c, char *errbuf, size_t errlen)
{
    const char *bad = NULL;
    if (o->sndhwm < 0 || o->rcvhwm < 0)
        bad = "high-water marks must be >= 0";
    else if (o->reconnect_ivl_ms < 0 || o->reconnect_ivl_max_ms < 0)
        bad = "reconnect intervals must be >= 0";
    else if (o->heartbeat_ivl_ms < -1 || o->heartbeat_ivl_ms > HEARTBEAT_MAX_MS)
        bad = "heartbeat_ivl_ms must be -1 (off) or 0..600000";
    else if (o->max_msg_bytes < 0 || o->max_msg_bytes > NS_LINK_MAX_MSG_LIMIT)
        bad = "max_msg_bytes must be 0..1 GiB";
    else if (o->linger_ms < 0)
        bad = "linger_ms must be >= 0 (destroy never waits forever)";
    else if (router && (o->server_key || o->routing_id))
        bad = "server_key and routing_id are dealer options";
    else if (!router && (o->allowed_dir || o->on_refused))
        bad = "allowed_dir and on_refused are router options";
    else if (o->keys && router && o->allowed_dir == NULL)
        bad = "a CURVE router needs an allowed-keys directory";
    else if (o->keys && !router && o->server_key == NULL)
        bad = "a CURVE dealer needs the collector's public key";
    else if (o->routing_id &&
             (o->routing_id[0] == '\0' || strlen(o->routing_id) > NS_LINK_PEER_MAX))
        bad = "routing_id must be 1..255 bytes";
    if (bad != NULL) {
        set_err(errbuf, errlen, "%s", bad);
        return false;
    }
    c->sndhwm = o->sndhwm ? o->sndhwm : 1000;
    c->rcvhwm = o->rcvhwm ? o->rcvhwm : 1000;
    c->ivl = o->reconnect_ivl_ms ? o->reconnect_ivl_ms : 100;
    c->ivl_max = o->reconnect_ivl_max_ms ? o->reconnect_ivl_max_ms : 10000;
    c->heartbeat = o->heartbeat_ivl_ms ? o->heartbeat_ivl_ms : 5000;
    c->max_msg = o->max_msg_bytes ? o->max_msg_bytes : 16 << 20;
    c->linger = o->linger_ms;
    if (c->ivl_max < c->ivl) {
        set_err(errbuf, errlen, "reconnect_ivl_max_ms (%d) is below reconnect_ivl_ms (%d)",
                c->ivl_max, c->ivl);
        return false;
    }
    return true;
}

/* PORT of a tcp endpoint: digits in 1..65535, or also 0 and * when binding. */
static bool
port_ok(const char *p, bool bind)
{
    if (bind && strcmp(p, "*") == 0)
        return true;
    size_t n = strlen(p);
    if (n == 0 || n > 5 || strspn(p, "0123456789") != n)
        return false;
    long v = strtol(p, NULL, 10);
    return v <= 65535 && (bind || v >= 1);
}

/* libzmq takes "tcp://127.0.0.1:70000" and "tcp://h:5x" and maps them to some other port, and
 * inproc cannot reach another link's context: check the syntax ourselves. */
static bool
endpoint_ok(const char *ep, bool bind, char *errbuf, size_t errlen)
{
    if (ep == NULL || ep[0] == '\0') {
        set_err(errbuf, errlen, "no endpoint given");
        return false;
    }
    size_t n = strnlen(ep, NS_LINK_ENDPOINT_MAX);
    if (n == NS_LINK_ENDPOINT_MAX) {
        set_err(errbuf, errlen, "endpoint longer than %d characters", NS_LINK_ENDPOINT_MAX - 1);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)ep[i] <= ' ' || ep[i] == 0x7f) {
            set_err(errbuf, errlen, "endpoint contains a space or control character");
            return false;
        }
    }
    if (strncmp(ep, "ipc://", 6) == 0) {
        size_t plen = n - 6;
        if (plen == 0 || plen > IPC_PATH_MAX) {
            set_err(errbuf, errlen, "'%s': an ipc path must be 1..%d bytes", ep, IPC_PATH_MAX);
            return false;
        }
        return true;
    }
    if (strncmp(ep, "inproc://", 9) == 0) {
        set_err(errbuf, errlen,
                "'%s': inproc does not reach other links (each has its own ZeroMQ context); "
                "use ipc:// or tcp://",
                ep);
        return false;
    }
    if (strncmp(ep, "tcp://", 6) != 0) {
        set_err(errbuf, errlen, "'%s' is not an endpoint: use tcp://HOST:PORT or ipc://PATH", ep);
        return false;
    }
    const char *host = ep + 6;
    const char *colon = strrchr(host, ':');
    if (colon == NULL) {
        set_err(errbuf, errlen, "'%s' has no port: use tcp://HOST:PORT", ep);
        return false;
    }
    size_t hlen = (size_t)(colon - host);
    bool bracketed = hlen >= 3 && host[0] == '[' && host[hlen - 1] == ']';
    if (hlen == 0 || memchr(host, ';', hlen) ||
        (!bracketed && (memchr(host, ':', hlen) || memchr(host, '[', hlen)))) {
        set_err(errbuf, errlen,
                "'%s' has no valid host: use tcp://HOST:PORT (IPv6: tcp://[ADDR]:PORT%s)", ep,
                bind ? ", any interface: tcp://*:PORT" : "");
        return false;
    }
    if (!port_ok(colon + 1, bind)) {
        set_err(errbuf, errlen, "'%s': the port is not a number in %s", ep,
                bind ? "0..65535 (or *)" : "1..65535");
        return false;
    }
    return true;
}

/* ---- links: lifecycle -------------------------------------------------------------------- */

struct ns_link {
    void *ctx;
    void *sock;
    void *mon; /* PAIR fed by zmq_socket_monitor */
    void *zap; /* REP at ZAP_ENDPOINT: CURVE routers only */
    bool router;
    bool curve;
    char *allowed_dir;
    ns_key_t *allowed; /* sorted for bsearch */
    size_t n_allowed;
    ns_link_refused_fn *on_refused;
    void *on_refused_arg;
    int64_t max_msg;
    zmq_msg_t rx; /* the payload handed out by the last recv */
    ns_link_stats_t st;
    char endpoint[NS_LINK_ENDPOINT_MAX];
    char err[256];
};

static int
key_cmp(const void *a, const void *b)
{
    return memcmp(a, b, NS_KEY_LEN);
}

/* The keys of the "*.key" files of `dir`, sorted; all or nothing. */
static ns_err_t
allowed_load(const char *dir, ns_key_t **keys_out, size_t *n_out, char *errbuf, size_t errlen)
{
    static const size_t suffix_len = sizeof NS_KEY_PUBLIC_SUFFIX - 1;
    DIR *d = opendir(dir);
    if (d == NULL) {
        set_err(errbuf, errlen, "cannot read allowed-keys directory %s: %s", dir, strerror(errno));
        return NS_EIO;
    }
    ns_key_t *keys = NULL;
    size_t n = 0, cap = 0;
    ns_err_t rc = NS_OK;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' || len <= suffix_len ||
            strcmp(e->d_name + len - suffix_len, NS_KEY_PUBLIC_SUFFIX) != 0)
            continue;
        if (n == NS_LINK_MAX_ALLOWED) {
            set_err(errbuf, errlen, "%s holds more than %d keys", dir, NS_LINK_MAX_ALLOWED);
            rc = NS_EFULL;
            break;
        }
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            ns_key_t *nk = realloc(keys, ncap * sizeof *nk);
            if (nk == NULL) {
                set_err(errbuf, errlen, "out of memory reading %s", dir);
                rc = NS_ENOMEM;
                break;
            }
            keys = nk;
            cap = ncap;
        }
        char path[PATH_MAX];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) {
            set_err(errbuf, errlen, "file name too long in %s", dir);
            rc = NS_EINVAL;
            break;
        }
        rc = ns_key_load(path, &keys[n], errbuf, errlen);
        if (rc != NS_OK)
            break;
        n++;
        errno = 0;
    }
    if (rc == NS_OK && errno != 0) {
        set_err(errbuf, errlen, "cannot read allowed-keys directory %s: %s", dir, strerror(errno));
        rc = NS_EIO;
    }
    closedir(d);
    if (rc != NS_OK) {
        free(keys);
        return rc;
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, key_cmp);
    *keys_out = keys;
    *n_out = n;
    return NS_OK;
}

static bool
setopt_int(void *sock, int opt, int v)
{
    return zmq_setsockopt(sock, opt, &v, sizeof v) == 0;
}

/* The socket options of `cfg` and `o`; false with a sentence naming the failing option. */
static bool
link_configure(ns_link_t *self, const ns_link_opts_t *o, const link_cfg_t *c, char *errbuf,
               size_t errlen)
{
    void *s = self->sock;
    bool ok = setopt_int(s, ZMQ_LINGER, c->linger) && setopt_int(s, ZMQ_SNDHWM, c->sndhwm) &&
              setopt_int(s, ZMQ_RCVHWM, c->rcvhwm) && setopt_int(s, ZMQ_IPV6, c->ipv6) &&
              zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &c->max_msg, sizeof c->max_msg) == 0;
    if (ok && c->heartbeat > 0)
        ok = setopt_int(s, ZMQ_HEARTBEAT_IVL, c->heartbeat) &&
             setopt_int(s, ZMQ_HEARTBEAT_TIMEOUT, 3 * c->heartbeat) &&
             setopt_int(s, ZMQ_HEARTBEAT_TTL, 3 * c->heartbeat);
    if (ok && self->router)
        /* MANDATORY: an unknown routing id is an error, not a silent drop; HANDOVER: an agent
         * that reconnects takes its id over from a connection not yet timed out. */
        ok = setopt_int(s, ZMQ_ROUTER_MANDATORY, 1) && setopt_int(s, ZMQ_ROUTER_HANDOVER, 1);
    if (ok && !self->router) {
        /* IMMEDIATE: queue only to a live session, so that while the collector is away sends
         * report NS_LINK_AGAIN and the agent keeps data in its own bounded queue. */
        ok = setopt_int(s, ZMQ_IMMEDIATE, 1) && setopt_int(s, ZMQ_RECONNECT_IVL, c->ivl) &&
             setopt_int(s, ZMQ_RECONNECT_IVL_MAX, c->ivl_max);
        if (ok && o->routing_id)
            ok = zmq_setsockopt(s, ZMQ_ROUTING_ID, o->routing_id, strlen(o->routing_id)) == 0;
    }
    if (ok && self->curve && self->router)
        ok = setopt_int(s, ZMQ_CURVE_SERVER, 1) &&
             zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->keys->secret, NS_KEY_LEN) == 0 &&
             zmq_setsockopt(s, ZMQ_ZAP_DOMAIN, ZAP_DOMAIN, strlen(ZAP_DOMAIN)) == 0;
    if (ok && self->curve && !self->router)
        ok = zmq_setsockopt(s, ZMQ_CURVE_SERVERKEY, o->server_key->bytes, NS_KEY_LEN) == 0 &&
             zmq_setsockopt(s, ZMQ_CURVE_PUBLICKEY, o->keys->pub.bytes, NS_KEY_LEN) == 0 &&
             zmq_setsockopt(s, ZMQ_CURVE_SECRETKEY, o->keys->secret, NS_KEY_LEN) == 0;
    if (!ok)
        set_err(errbuf, errlen, "cannot set socket options: %s%s", zmq_strerror(errno),
                self->curve && !zmq_has("curve") ? " (libzmq without CURVE)" : "");
    return ok;
}

/* A socket of the link's context that never holds destroy up. */
static void *
link_socket(ns_link_t *self, int type)
{
    void *s = zmq_socket(self->ctx, type);
    if (s != NULL && !setopt_int(s, ZMQ_LINGER, 0)) {
        zmq_close(s);
        s = NULL;
    }
    return s;
}

static ns_link_t *
link_new(bool router, const char *endpoint, const ns_link_opts_t *opts, char *errbuf, size_t errlen)
{
    static const ns_link_opts_t defaults;
    const ns_link_opts_t *o = opts ? opts : &defaults;
    link_cfg_t cfg;
    if (!endpoint_ok(endpoint, router, errbuf, errlen) ||
        !link_cfg(o, router, &cfg, errbuf, errlen))
        return NULL;
    cfg.ipv6 = strncmp(endpoint, "tcp://[", 7) == 0;
    ns_link_t *self = calloc(1, sizeof *self);
    if (self == NULL) {
        set_err(errbuf, errlen, "out of memory");
        return NULL;
    }
    zmq_msg_init(&self->rx);
    self->router = router;
    self->curve = o->keys != NULL;
    self->max_msg = cfg.max_msg;
    self->on_refused = o->on_refused;
    self->on_refused_arg = o->on_refused_arg;
    self->ctx = zmq_ctx_new();
    if (self->ctx == NULL) {
        set_err(errbuf, errlen, "cannot create a ZeroMQ context: %s", zmq_strerror(errno));
        goto fail;
    }
    if (self->curve && router) {
        self->allowed_dir = strdup(o->allowed_dir);
        if (self->allowed_dir == NULL) {
            set_err(errbuf, errlen, "out of memory");
            goto fail;
        }
        if (allowed_load(self->allowed_dir, &self->allowed, &self->n_allowed, errbuf, errlen) !=
            NS_OK)
            goto fail;
        /* Before the router exists: libzmq admits every CURVE client when no handler is
         * bound at the ZAP endpoint. */
        self->zap = link_socket(self, ZMQ_REP);
        if (self->zap == NULL || zmq_bind(self->zap, ZAP_ENDPOINT) != 0) {
            set_err(errbuf, errlen, "cannot start the ZAP handler: %s", zmq_strerror(errno));
            goto fail;
        }
    }
    self->sock = zmq_socket(self->ctx, router ? ZMQ_ROUTER : ZMQ_DEALER);
    if (self->sock == NULL) {
        set_err(errbuf, errlen, "cannot create a ZeroMQ socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (!link_configure(self, o, &cfg, errbuf, errlen))
        goto fail;
    /* The monitor before connect/bind, so the first session is seen. */
    self->mon = link_socket(self, ZMQ_PAIR);
    if (self->mon == NULL || zmq_socket_monitor(self->sock, MONITOR_ENDPOINT, MONITOR_EVENTS) ||
        zmq_connect(self->mon, MONITOR_ENDPOINT) != 0) {
        set_err(errbuf, errlen, "cannot monitor the socket: %s", zmq_strerror(errno));
        goto fail;
    }
    if (router) {
        size_t len = sizeof self->endpoint;
        if (zmq_bind(self->sock, endpoint) != 0) {
            int e = errno;
            set_err(errbuf, errlen, "cannot bind %s: %s", endpoint,
                    e == ENODEV ? "no such local address or interface" : zmq_strerror(e));
            goto fail;
        }
        if (zmq_getsockopt(self->sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len) != 0)
            snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    } else {
        if (zmq_connect(self->sock, endpoint) != 0) {
            set_err(errbuf, errlen, "cannot connect to %s: %s", endpoint, zmq_strerror(errno));
            goto fail;
        }
        snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    }
    return self;
fail:
    ns_link_destroy(&self);
    return NULL;
}

ns_link_t *
ns_link_dealer_new(const char *endpoint, const ns_link_opts_t *opts, char *errbuf, size_t errlen)
{
    return link_new(false, endpoint, opts, errbuf, errlen);
}

ns_link_t *
ns_link_router_new(const char *endpoint, const ns_link_opts_t *opts, char *errbuf, size_t errlen)
{
    return link_new(true, endpoint, opts, errbuf, errlen);
}

void
ns_link_destroy(ns_link_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_link_t *self = *self_p;
    if (self->sock != NULL) {
        zmq_socket_monitor(self->sock, NULL, 0);
        zmq_close(self->sock);
    }
    if (self->mon != NULL)
        zmq_close(self->mon);
    if (self->zap != NULL)
        zmq_close(self->zap);
    zmq_msg_close(&self->rx);
    /* Waits for the socket's linger (bounded by linger_ms); the others have linger 0. */
    while (self->ctx != NULL && zmq_ctx_term(self->ctx) != 0 && errno == EINTR)
        ;
    free(self->allowed);
    free(self->allowed_dir);
    free(self);
    *self_p = NULL;
}

const char *
ns_link_endpoint(const ns_link_t *self)
{
    return self->endpoint;
}

const char *
ns_link_error(const ns_link_t *self)
{
    return self->err[0] ? self->err : "no error";
}

static ns_link_rc_t link_fail(ns_link_t *self, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static ns_link_rc_t
link_fail(ns_link_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(self->err, sizeof self->err, fmt, ap);
    va_end(ap);
    return NS_LINK_ERROR;
}

/* ---- links: allow-list and ZAP ----------------------------------------------------------- */

bool
ns_link_key_allowed(const ns_link_t *self, const ns_key_t *key)
{
    if (!self->curve || !self->router)
        return true;
    return self->n_allowed > 0 &&
           bsearch(key, self->allowed, self->n_allowed, sizeof *self->allowed, key_cmp) != NULL;
}

size_t
ns_link_allowed_count(const ns_link_t *self)
{
    return self->n_allowed;
}

ns_err_t
ns_link_reload(ns_link_t *self, char *errbuf, size_t errlen)
{
    if (!self->curve || !self->router) {
        set_err(errbuf, errlen, "only a CURVE router has allowed keys to reload");
        return NS_EINVAL;
    }
    ns_key_t *keys = NULL;
    size_t n = 0;
    ns_err_t rc = allowed_load(self->allowed_dir, &keys, &n, errbuf, errlen);
    if (rc != NS_OK)
        return rc;
    free(self->allowed);
    self->allowed = keys;
    self->n_allowed = n;
    return NS_OK;
}

/* The next frame of a message whose first frame was received: it is already there (messages
 * arrive whole), so waiting is safe; a signal must not cut the message in two. */
static int
recv_next_part(zmq_msg_t *m, void *sock)
{
    int rc;
    while ((rc = zmq_msg_recv(m, sock, 0)) < 0 && errno == EINTR)
        ;
    return rc;
}

/* Receive the rest of a multipart message and throw it away. */
static void
drain_parts(void *sock)
{
    int more = 1;
    size_t sz = sizeof more;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_getsockopt(sock, ZMQ_RCVMORE, &more, &sz) == 0 && more &&
           recv_next_part(&m, sock) >= 0)
        sz = sizeof more;
    zmq_msg_close(&m);
}

/* A ZAP request (RFC 27): version, request id, domain, address, identity, mechanism, and for
 * CURVE one credential, the client's 32-byte public key. */
enum {
    ZAP_VERSION,
    ZAP_ID,
    ZAP_DOMAIN_F,
    ZAP_ADDRESS,
    ZAP_IDENTITY,
    ZAP_MECHANISM,
    ZAP_KEY,
    ZAP_FRAMES
};
#define ZAP_FRAME_MAX 256

typedef struct {
    unsigned n;    /* frames received (more than ZAP_FRAMES: malformed) */
    bool too_long; /* a frame exceeded ZAP_FRAME_MAX */
    size_t len[ZAP_FRAMES];
    char f[ZAP_FRAMES][ZAP_FRAME_MAX + 1];
} zap_req_t;

static bool
zap_frame_is(const zap_req_t *r, unsigned i, const char *s)
{
    return r->len[i] == strlen(s) && memcmp(r->f[i], s, r->len[i]) == 0;
}

/* Take one request off the ZAP socket; false when there is none. */
static bool
zap_recv(void *zap, zap_req_t *r)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    memset(r, 0, sizeof *r);
    for (;;) {
        if ((r->n == 0 ? zmq_msg_recv(&m, zap, ZMQ_DONTWAIT) : recv_next_part(&m, zap)) < 0)
            break;
        size_t len = zmq_msg_size(&m);
        if (r->n < ZAP_FRAMES) {
            if (len > ZAP_FRAME_MAX)
                r->too_long = true;
            else
                memcpy(r->f[r->n], zmq_msg_data(&m), len);
            r->len[r->n] = len;
        }
        r->n++;
        if (!zmq_msg_more(&m))
            break;
    }
    zmq_msg_close(&m);
    return r->n > 0;
}

static void
zap_reply(void *zap, const zap_req_t *r, const char *code, const char *text, const char *user_id)
{
    /* The ZAP pipe has no high-water mark (libzmq makes it with hwm 0): these never block. */
    zmq_send(zap, "1.0", 3, ZMQ_SNDMORE);
    zmq_send(zap, r->f[ZAP_ID], r->n > ZAP_ID && !r->too_long ? r->len[ZAP_ID] : 0, ZMQ_SNDMORE);
    zmq_send(zap, code, strlen(code), ZMQ_SNDMORE);
    zmq_send(zap, text, strlen(text), ZMQ_SNDMORE);
    zmq_send(zap, user_id, strlen(user_id), ZMQ_SNDMORE);
    zmq_send(zap, "", 0, 0);
}

/* Answer the pending ZAP requests: 200 with the Z85 key as User-Id for an allowed key, 400
 * (counted, reported through on_refused) for any other. */
static void
zap_serve(ns_link_t *self)
{
    zap_req_t r;
    for (unsigned i = 0; i < DRAIN_MAX && zap_recv(self->zap, &r); i++) {
        if (r.n != ZAP_FRAMES || r.too_long || !zap_frame_is(&r, ZAP_VERSION, "1.0")) {
            zap_reply(self->zap, &r, "500", "malformed ZAP request", "");
            continue;
        }
        ns_key_t key;
        char z85[NS_KEY_Z85_LEN + 1];
        if (!zap_frame_is(&r, ZAP_MECHANISM, "CURVE") ||
            !zap_frame_is(&r, ZAP_DOMAIN_F, ZAP_DOMAIN) || r.len[ZAP_KEY] != NS_KEY_LEN) {
            zap_reply(self->zap, &r, "400", "CURVE only", "");
            continue;
        }
        memcpy(key.bytes, r.f[ZAP_KEY], NS_KEY_LEN);
        ns_key_z85(&key, z85);
        if (ns_link_key_allowed(self, &key)) {
            zap_reply(self->zap, &r, "200", "OK", z85);
            continue;
        }
        zap_reply(self->zap, &r, "400", "key not allowed", "");
        self->st.refused++;
        if (self->on_refused != NULL) {
            char addr[NS_LINK_ADDR_MAX];
            size_t n = r.len[ZAP_ADDRESS] < sizeof addr ? r.len[ZAP_ADDRESS] : sizeof addr - 1;
            for (size_t k = 0; k < n; k++)
                addr[k] = isprint((unsigned char)r.f[ZAP_ADDRESS][k]) ? r.f[ZAP_ADDRESS][k] : '?';
            addr[n] = '\0';
            self->on_refused(self->on_refused_arg, z85, addr);
        }
    }
}

/* ---- links: monitor, send, receive ------------------------------------------------------ */

static void
monitor_drain(ns_link_t *self)
{
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    for (unsigned i = 0; i < DRAIN_MAX && zmq_msg_recv(&ev, self->mon, ZMQ_DONTWAIT) >= 0; i++) {
        uint16_t event = 0; /* frame 1: event (16 bits), value (32 bits); frame 2: endpoint */
        if (zmq_msg_size(&ev) >= sizeof event)
            memcpy(&event, zmq_msg_data(&ev), sizeof event);
        if (zmq_msg_more(&ev))
            drain_parts(self->mon);
        switch (event) {
        case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
            self->st.sessions++;
            self->st.connected = !self->router;
            break;
        case ZMQ_EVENT_DISCONNECTED:
            self->st.disconnects++;
            self->st.connected = false;
            break;
        case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
        case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
            self->st.handshake_failures++;
            break;
        default:
            break;
        }
    }
    zmq_msg_close(&ev);
}

void
ns_link_stats(ns_link_t *self, ns_link_stats_t *out)
{
    monitor_drain(self);
    *out = self->st;
}

ns_link_rc_t
ns_link_send(ns_link_t *self, const void *data, size_t len)
{
    if (self->router)
        return link_fail(self, "a router sends with ns_link_send_to()");
    if (len > (uint64_t)self->max_msg) {
        link_fail(self, "a message of %zu bytes exceeds max_msg_bytes", len);
        return NS_LINK_TOOBIG;
    }
    if (zmq_send(self->sock, data, len, ZMQ_DONTWAIT) >= 0)
        return NS_LINK_OK;
    if (errno == EAGAIN || errno == EINTR)
        return NS_LINK_AGAIN;
    return link_fail(self, "send: %s", zmq_strerror(errno));
}

ns_link_rc_t
ns_link_send_to(ns_link_t *self, const uint8_t *peer, size_t peer_len, const void *data, size_t len)
{
    if (!self->router)
        return link_fail(self, "a dealer sends with ns_link_send()");
    if (peer == NULL || peer_len == 0 || peer_len > NS_LINK_PEER_MAX)
        return link_fail(self, "a routing id is 1..%d bytes", NS_LINK_PEER_MAX);
    if (len > (uint64_t)self->max_msg) {
        link_fail(self, "a message of %zu bytes exceeds max_msg_bytes", len);
        return NS_LINK_TOOBIG;
    }
    if (zmq_send(self->sock, peer, peer_len, ZMQ_DONTWAIT | ZMQ_SNDMORE) < 0) {
        if (errno == EHOSTUNREACH)
            return NS_LINK_NOPEER;
        if (errno == EAGAIN || errno == EINTR)
            return NS_LINK_AGAIN;
        return link_fail(self, "send: %s", zmq_strerror(errno));
    }
    /* Once the routing frame is in, the router takes the rest of the message. */
    if (zmq_send(self->sock, data, len, ZMQ_DONTWAIT) < 0)
        return link_fail(self, "send: %s", zmq_strerror(errno));
    return NS_LINK_OK;
}

typedef enum { TAKE_NONE, TAKE_OK, TAKE_DROPPED, TAKE_ERROR } take_rc_t;

/* The sender's address and key from the payload frame's metadata. */
static void
take_metadata(ns_link_t *self, ns_link_msg_t *msg)
{
    const char *addr = zmq_msg_gets(&self->rx, "Peer-Address");
    if (addr != NULL)
        snprintf(msg->address, sizeof msg->address, "%s", addr);
    if (!self->curve || !self->router) {
        msg->key_allowed = true;
        return;
    }
    /* Set by our ZAP handler for every session it admitted. */
    msg->has_key = ns_key_from_z85(zmq_msg_gets(&self->rx, "User-Id"), &msg->key);
    msg->key_allowed = msg->has_key && ns_link_key_allowed(self, &msg->key);
}

/* Take one waiting message without blocking. A router's is [routing id][payload], a dealer's
 * [payload]; anything else is dropped. */
static take_rc_t
take(ns_link_t *self, ns_link_msg_t *msg)
{
    if (self->router) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, self->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&id);
            return errno == EAGAIN || errno == EINTR ? TAKE_NONE : TAKE_ERROR;
        }
        size_t idlen = zmq_msg_size(&id);
        bool more = zmq_msg_more(&id);
        if (idlen > 0 && idlen <= NS_LINK_PEER_MAX)
            memcpy(msg->peer, zmq_msg_data(&id), idlen);
        zmq_msg_close(&id);
        if (!more || idlen == 0 || idlen > NS_LINK_PEER_MAX) {
            drain_parts(self->sock);
            self->st.dropped++;
            return TAKE_DROPPED;
        }
        msg->peer_len = idlen;
    }
    if ((self->router ? recv_next_part(&self->rx, self->sock)
                      : zmq_msg_recv(&self->rx, self->sock, ZMQ_DONTWAIT)) < 0)
        return !self->router && (errno == EAGAIN || errno == EINTR) ? TAKE_NONE : TAKE_ERROR;
    if (zmq_msg_more(&self->rx)) {
        drain_parts(self->sock);
        zmq_msg_close(&self->rx);
        zmq_msg_init(&self->rx);
        self->st.dropped++;
        return TAKE_DROPPED;
    }
    msg->data = zmq_msg_data(&self->rx);
    msg->len = zmq_msg_size(&self->rx);
    take_metadata(self, msg);
    return TAKE_OK;
}

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

ns_link_rc_t
ns_link_recv(ns_link_t *self, ns_link_msg_t *msg, int timeout_ms)
{
    if (timeout_ms < 0)
        return link_fail(self, "recv timeout must be >= 0 ms");
    int64_t deadline = now_ms() + timeout_ms;
    zmq_msg_close(&self->rx);
    zmq_msg_init(&self->rx);
    monitor_drain(self);
    for (;;) {
        memset(msg, 0, sizeof *msg);
        if (self->zap != NULL)
            zap_serve(self);
        take_rc_t t = take(self, msg);
        if (t == TAKE_OK)
            return NS_LINK_OK;
        if (t == TAKE_ERROR)
            return link_fail(self, "recv: %s", zmq_strerror(errno));
        int64_t left = deadline - now_ms();
        if (t == TAKE_DROPPED && left >= 0)
            continue;
        if (left <= 0)
            return NS_LINK_TIMEOUT;
        zmq_pollitem_t items[2] = {{.socket = self->sock, .events = ZMQ_POLLIN},
                                   {.socket = self->zap, .events = ZMQ_POLLIN}};
        if (zmq_poll(items, self->zap != NULL ? 2 : 1, (long)left) < 0) {
            if (errno == EINTR)
                return NS_LINK_TIMEOUT; /* let the caller look at its signal flags */
            return link_fail(self, "poll: %s", zmq_strerror(errno));
        }
    }
}
