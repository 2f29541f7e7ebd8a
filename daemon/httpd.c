/* httpd.c - the HTTP server of the daemons on libmicrohttpd (see httpd.h).
 *
 * One request = one struct req_state, made by the URI log callback (MHD's only hook that sees
 * the request target before it is split and unescaped) and freed by the completion callback.
 * The access handler answers on its first call whenever it can (GET requests carry no body):
 * MHD accepts a response only on the first call or after the whole body was read, so a
 * declared body too large is refused at once, and an undeclared (chunked) one is counted and
 * discarded until its end, then refused.
 */
#include "netscope/httpd.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "netscope/log.h"

#define STATUS_MIN 100
#define STATUS_MAX 599
#define TARGET_MAX (1u << 20) /* a request target longer than this is not kept */

struct ns_httpd {
    struct MHD_Daemon *mhd;
    ns_httpd_handler_fn fn;
    void *ud;
    char *token; /* NULL: no auth */
    bool (*public_fn)(const char *target);
    size_t max_request;
    uint16_t port;
    atomic_bool ready;
    atomic_uint_fast64_t status_count[STATUS_MAX - STATUS_MIN + 1];
};

typedef struct {
    char *target;    /* raw request target (path?query) */
    size_t body_len; /* body bytes seen so far */
    bool started;    /* the access handler ran once */
    bool too_large;  /* a chunked body went over the limit */
} req_state_t;

static void
set_err(char *errbuf, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

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

/* ---- responses ---------------------------------------------------------------------------- */

void
ns_httpd_resp_init(ns_httpd_resp_t *r)
{
    memset(r, 0, sizeof(*r));
    r->status = 200;
    snprintf(r->content_type, sizeof(r->content_type), "application/json");
}

void
ns_httpd_resp_fini(ns_httpd_resp_t *r)
{
    free(r->body);
    r->body = NULL;
    r->len = r->cap = 0;
}

void
ns_httpd_resp_reset(ns_httpd_resp_t *r)
{
    r->len = 0;
    r->oom = false;
}

void
ns_httpd_resp_append(ns_httpd_resp_t *r, const void *data, size_t len)
{
    if (r->oom)
        return;
    if (r->len + len + 1 > r->cap) {
        size_t cap = r->cap ? r->cap : 1024;
        while (cap < r->len + len + 1)
            cap *= 2;
        char *nb = realloc(r->body, cap);
        if (nb == NULL) {
            r->oom = true;
            return;
        }
        r->body = nb;
        r->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    r->body[r->len] = '\0';
}

void
ns_httpd_resp_printf(ns_httpd_resp_t *r, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0) {
        r->oom = true;
        return;
    }
    if ((size_t)n < sizeof(small)) {
        ns_httpd_resp_append(r, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (big == NULL) {
        r->oom = true;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ns_httpd_resp_append(r, big, (size_t)n);
    free(big);
}

/* Length of the valid UTF-8 sequence at s (s[0] >= 0x80), 0 when it is not one (overlong
 * forms, surrogates, past U+10FFFF and truncated sequences are not). */
static size_t
utf8_len(const unsigned char *s)
{
    unsigned c = s[0];
    size_t n = c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) || (c == 0xf0 && s[1] < 0x90) ||
        (c == 0xf4 && s[1] > 0x8f))
        return 0;
    return n;
}

void
ns_httpd_resp_json_str(ns_httpd_resp_t *r, const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    ns_httpd_resp_append(r, "\"", 1);
    size_t run = 0, i = 0;
    for (;;) {
        unsigned char ch = u[i];
        if (ch >= 0x20 && ch != '"' && ch != '\\' && ch < 0x7f) {
            run++;
            i++;
            continue;
        }
        size_t n = ch >= 0x80 ? utf8_len(u + i) : 0;
        if (n) {
            run += n;
            i += n;
            continue;
        }
        ns_httpd_resp_append(r, s + i - run, run);
        run = 0;
        if (ch == '\0')
            break;
        if (ch == '"' || ch == '\\')
            ns_httpd_resp_printf(r, "\\%c", ch);
        else if (ch >= 0x80)
            ns_httpd_resp_append(r, "\\ufffd", 6);
        else
            ns_httpd_resp_printf(r, "\\u%04x", ch);
        i++;
    }
    ns_httpd_resp_append(r, "\"", 1);
}

bool
ns_httpd_resp_header(ns_httpd_resp_t *r, const char *name, const char *value)
{
    if (r->n_headers >= NS_HTTPD_EXTRA_HEADERS)
        return false;
    size_t nl = strlen(name), vl = strlen(value);
    if (nl >= sizeof(r->headers[0].name) || vl >= sizeof(r->headers[0].value))
        return false;
    memcpy(r->headers[r->n_headers].name, name, nl + 1);
    memcpy(r->headers[r->n_headers].value, value, vl + 1);
    r->n_headers++;
    return true;
}

void
ns_httpd_resp_error(ns_httpd_resp_t *r, int status, const char *msg, const char *param)
{
    ns_httpd_resp_reset(r);
    r->status = status;
    snprintf(r->content_type, sizeof(r->content_type), "application/json");
    ns_httpd_resp_append(r, "{\"error\":", 9);
    ns_httpd_resp_json_str(r, msg);
    if (param) {
        ns_httpd_resp_append(r, ",\"parameter\":", 13);
        ns_httpd_resp_json_str(r, param);
    }
    ns_httpd_resp_append(r, "}\n", 2);
}

bool
ns_httpd_token_eq(const char *given, const char *expected)
{
    size_t gl = strlen(given), el = strlen(expected);
    /* Walk the expected token's length whatever was given, so the time taken says nothing
     * about how many leading bytes matched. */
    unsigned diff = gl != el;
    for (size_t i = 0; i < el; i++) {
        unsigned char g = i < gl ? (unsigned char)given[i] : 0;
        diff |= (unsigned)(g ^ (unsigned char)expected[i]);
    }
    return diff == 0;
}

/* ---- options -------------------------------------------------------------------------------- */

void
ns_httpd_opts_default(ns_httpd_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->max_connections = NS_HTTPD_MAX_CONNECTIONS_DEFAULT;
    o->per_client = NS_HTTPD_PER_CLIENT_DEFAULT;
    o->idle_timeout_s = NS_HTTPD_IDLE_TIMEOUT_DEFAULT_S;
    o->max_request = NS_HTTPD_MAX_REQUEST_DEFAULT;
    o->threads = NS_HTTPD_THREADS_DEFAULT;
}

bool
ns_httpd_parse_listen(const char *s, int *family, uint8_t addr[16], uint16_t *port,
                      bool *loopback)
{
    char host[INET6_ADDRSTRLEN + 1];
    const char *colon;
    size_t hl;
    if (s == NULL)
        return false;
    if (s[0] == '[') {
        const char *end = strchr(s, ']');
        if (end == NULL || end[1] != ':')
            return false;
        hl = (size_t)(end - s - 1);
        if (hl == 0 || hl >= sizeof(host))
            return false;
        memcpy(host, s + 1, hl);
        colon = end + 1;
        *family = 6;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL)
            return false;
        hl = (size_t)(colon - s);
        if (hl == 0 || hl >= sizeof(host) || memchr(s, ':', hl) != NULL)
            return false;
        memcpy(host, s, hl);
        *family = 4;
    }
    host[hl] = '\0';
    const char *p = colon + 1;
    if (*p == '\0' || strlen(p) > 5)
        return false;
    unsigned long v = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return false;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    memset(addr, 0, 16);
    if (inet_pton(*family == 6 ? AF_INET6 : AF_INET, host, addr) != 1)
        return false;
    static const uint8_t v6_loop[16] = {[15] = 1};
    *loopback = *family == 4 ? addr[0] == 127 : memcmp(addr, v6_loop, 16) == 0;
    return true;
}

bool
ns_httpd_opts_check(const ns_httpd_opts_t *o, char *errbuf, size_t errlen)
{
    int family;
    uint8_t addr[16];
    uint16_t port;
    bool loop;
    if (!ns_httpd_parse_listen(o->listen, &family, addr, &port, &loop)) {
        set_err(errbuf, errlen,
                "HTTP listen address '%s' is not ADDR:PORT or [ADDR]:PORT with an IP address "
                "(names are not resolved)",
                o->listen ? o->listen : "");
        return false;
    }
    bool has_token = o->token != NULL && o->token[0] != '\0';
    if (!loop && !has_token && !o->no_auth) {
        set_err(errbuf, errlen,
                "refusing to serve HTTP on %s without authentication: it is not a loopback "
                "address; set an API token (http.token) or pass --no-auth to serve it open",
                o->listen);
        return false;
    }
    if (o->max_request != 0 && o->max_request < 1024) {
        set_err(errbuf, errlen, "http.max_request must be at least 1024 bytes");
        return false;
    }
    return true;
}

/* ---- MHD callbacks ------------------------------------------------------------------------- */

static void *
on_uri(void *cls, const char *uri, struct MHD_Connection *con)
{
    (void)cls;
    (void)con;
    req_state_t *st = calloc(1, sizeof(*st));
    if (st == NULL)
        return NULL;
    size_t n = strnlen(uri, TARGET_MAX);
    st->target = malloc(n + 1);
    if (st->target == NULL) {
        free(st);
        return NULL;
    }
    memcpy(st->target, uri, n);
    st->target[n] = '\0';
    return st;
}

static void
on_completed(void *cls, struct MHD_Connection *con, void **req_cls,
             enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)con;
    (void)toe;
    req_state_t *st = *req_cls;
    if (st) {
        free(st->target);
        free(st);
    }
    *req_cls = NULL;
}

/* Leave every value as sent: our parsers decode what they accept. */
static size_t
no_unescape(void *cls, struct MHD_Connection *con, char *s)
{
    (void)cls;
    (void)con;
    return strlen(s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[512];
    vsnprintf(line, sizeof(line), fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    ns_log_debug("http: %s", line);
}

static enum MHD_Result
sum_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    size_t *sum = cls;
    *sum += strlen(key) + (value ? strlen(value) : 0) + 4; /* ": " and CRLF */
    return MHD_YES;
}

static enum MHD_Result
send_resp(ns_httpd_t *self, struct MHD_Connection *con, ns_httpd_resp_t *r)
{
    if (r->oom)
        ns_httpd_resp_error(r, 500, "out of memory", NULL);
    if (r->status < STATUS_MIN || r->status > STATUS_MAX)
        r->status = 500;
    size_t len = r->len;
    char *body = r->body;
    if (body == NULL) {
        body = strdup("");
        if (body == NULL)
            return MHD_NO;
    }
    r->body = NULL;
    r->len = r->cap = 0;
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(body);
        return MHD_NO;
    }
    bool cache_set = false;
    for (unsigned i = 0; i < r->n_headers; i++) {
        if (strcasecmp(r->headers[i].name, MHD_HTTP_HEADER_CACHE_CONTROL) == 0)
            cache_set = true;
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            r->csp ? r->csp
                                   : "default-src 'none'; frame-ancestors 'none'; base-uri 'none'");
    MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    MHD_add_response_header(resp, "X-Frame-Options", "DENY");
    if (!cache_set)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(con, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    if (rc == MHD_YES)
        atomic_fetch_add(&self->status_count[r->status - STATUS_MIN], 1);
    return rc;
}

static enum MHD_Result
answer_error(ns_httpd_t *self, struct MHD_Connection *con, int status, const char *msg)
{
    ns_httpd_resp_t r;
    ns_httpd_resp_init(&r);
    ns_httpd_resp_error(&r, status, msg, NULL);
    if (status == 401)
        ns_httpd_resp_header(&r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"netscope\"");
    enum MHD_Result rc = send_resp(self, con, &r);
    ns_httpd_resp_fini(&r);
    return rc;
}

static void
client_text(struct MHD_Connection *con, char *out, size_t outlen)
{
    snprintf(out, outlen, "?");
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci == NULL || ci->client_addr == NULL)
        return;
    char a[INET6_ADDRSTRLEN];
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)(const void *)sa;
        if (inet_ntop(AF_INET, &s4->sin_addr, a, sizeof(a)))
            snprintf(out, outlen, "%s", a);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)(const void *)sa;
        if (inet_ntop(AF_INET6, &s6->sin6_addr, a, sizeof(a)))
            snprintf(out, outlen, "[%s]", a);
    }
}

/* Auth check: 0 pass, else the status to answer. */
static int
check_auth(const ns_httpd_t *self, const char *authz)
{
    if (self->token == NULL)
        return 0;
    if (authz == NULL || authz[0] == '\0')
        return 401;
    if (strncasecmp(authz, "Bearer ", 7) != 0)
        return 401;
    const char *given = authz + 7;
    while (*given == ' ')
        given++;
    return ns_httpd_token_eq(given, self->token) ? 0 : 403;
}

static enum MHD_Result
on_request(void *cls, struct MHD_Connection *con, const char *url, const char *method,
           const char *version, const char *upload_data, size_t *upload_data_size,
           void **req_cls)
{
    (void)url;
    (void)upload_data;
    ns_httpd_t *self = cls;
    req_state_t *st = *req_cls;
    if (st == NULL)
        return MHD_NO; /* out of memory in on_uri: drop the connection */

    if (!st->started) {
        st->started = true;
        size_t size = strlen(method) + strlen(st->target) + strlen(version) + 4;
        MHD_get_connection_values(con, MHD_HEADER_KIND, sum_header, &size);
        const char *cl = MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        unsigned long long declared = cl ? strtoull(cl, NULL, 10) : 0;
        if (size > self->max_request || declared > self->max_request - size ||
            strlen(st->target) >= TARGET_MAX)
            return answer_error(self, con, 413, "request too large");
        int auth = self->public_fn && self->public_fn(st->target)
                       ? 0
                       : check_auth(self, MHD_lookup_connection_value(
                                              con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION));
        if (auth != 0)
            return answer_error(self, con, auth,
                                auth == 401 ? "authentication required (Bearer token)"
                                            : "wrong token");
        st->body_len = size;
        if (declared > 0 || MHD_lookup_connection_value(con, MHD_HEADER_KIND,
                                                        MHD_HTTP_HEADER_TRANSFER_ENCODING))
            return MHD_YES; /* a body follows: read (and discard) it first */
    } else if (*upload_data_size > 0) {
        st->body_len += *upload_data_size;
        if (st->body_len > self->max_request)
            st->too_large = true;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (st->too_large)
        return answer_error(self, con, 413, "request too large");
    if (!atomic_load(&self->ready))
        return answer_error(self, con, 503, "starting");

    ns_httpd_req_t req;
    memset(&req, 0, sizeof(req));
    char *q = strchr(st->target, '?');
    if (q)
        *q++ = '\0';
    req.method = method;
    req.path = st->target;
    req.query = q ? q : "";
    const char *v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    req.accept = v ? v : "";
    v = MHD_lookup_connection_value(con, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    req.authorization = v ? v : "";
    client_text(con, req.client, sizeof(req.client));

    ns_httpd_resp_t r;
    ns_httpd_resp_init(&r);
    self->fn(self->ud, &req, &r);
    enum MHD_Result rc = send_resp(self, con, &r);
    ns_httpd_resp_fini(&r);
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

ns_httpd_t *
ns_httpd_start(const ns_httpd_opts_t *o, ns_httpd_handler_fn fn, void *ud, char *errbuf,
               size_t errlen)
{
    ns_httpd_t *self = NULL;
    if (!ns_httpd_opts_check(o, errbuf, errlen))
        goto fail;
    int family;
    uint8_t addr[16];
    uint16_t port;
    bool loop;
    (void)ns_httpd_parse_listen(o->listen, &family, addr, &port, &loop);
    self = calloc(1, sizeof(*self));
    if (self == NULL) {
        set_err(errbuf, errlen, "out of memory");
        goto fail;
    }
    self->fn = fn;
    self->ud = ud;
    self->public_fn = o->public_fn;
    if (o->token && o->token[0]) {
        self->token = strdup(o->token);
        if (self->token == NULL) {
            set_err(errbuf, errlen, "out of memory");
            goto fail;
        }
    }
    self->max_request = o->max_request ? o->max_request : NS_HTTPD_MAX_REQUEST_DEFAULT;
    unsigned max_conn = o->max_connections ? o->max_connections : NS_HTTPD_MAX_CONNECTIONS_DEFAULT;
    unsigned per_client = o->per_client ? o->per_client : NS_HTTPD_PER_CLIENT_DEFAULT;
    unsigned idle = o->idle_timeout_s ? o->idle_timeout_s : NS_HTTPD_IDLE_TIMEOUT_DEFAULT_S;
    unsigned threads = o->threads ? o->threads : NS_HTTPD_THREADS_DEFAULT;
    /* The connection's memory pool holds the request head and MHD's read buffer: leave room
     * above max_request so that our check (413) runs before MHD's own refusal. */
    size_t pool = 2 * self->max_request + 32u * 1024u;

    struct sockaddr_in s4;
    struct sockaddr_in6 s6;
    const struct sockaddr *sa;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG;
    if (family == 4) {
        memset(&s4, 0, sizeof(s4));
        s4.sin_family = AF_INET;
        s4.sin_port = htons(port);
        memcpy(&s4.sin_addr, addr, 4);
        sa = (const struct sockaddr *)&s4;
    } else {
        memset(&s6, 0, sizeof(s6));
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(port);
        memcpy(&s6.sin6_addr, addr, 16);
        sa = (const struct sockaddr *)&s6;
        flags |= MHD_USE_IPv6;
    }
    self->mhd = MHD_start_daemon(
        flags, port, NULL, NULL, on_request, self, MHD_OPTION_SOCK_ADDR, sa,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, (void *)NULL, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, (void *)NULL, MHD_OPTION_UNESCAPE_CALLBACK, no_unescape, (void *)NULL,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, (void *)NULL, MHD_OPTION_CONNECTION_LIMIT,
        max_conn, MHD_OPTION_PER_IP_CONNECTION_LIMIT, per_client, MHD_OPTION_CONNECTION_TIMEOUT,
        idle, MHD_OPTION_CONNECTION_MEMORY_LIMIT, pool, MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u, MHD_OPTION_END);
    if (self->mhd == NULL) {
        set_err(errbuf, errlen,
                "cannot serve HTTP on %s: the address is in use, not local, or the port needs "
                "privileges",
                o->listen);
        goto fail;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(self->mhd, MHD_DAEMON_INFO_BIND_PORT);
    self->port = di ? di->port : port;
    return self;
fail:
    ns_httpd_stop(&self);
    return NULL;
}

void
ns_httpd_stop(ns_httpd_t **self_p)
{
    ns_httpd_t *self = *self_p;
    if (self == NULL)
        return;
    if (self->mhd)
        MHD_stop_daemon(self->mhd);
    free(self->token);
    free(self);
    *self_p = NULL;
}

void
ns_httpd_set_ready(ns_httpd_t *self, bool ready)
{
    atomic_store(&self->ready, ready);
}

uint16_t
ns_httpd_port(const ns_httpd_t *self)
{
    return self->port;
}

void
ns_httpd_status_counts(const ns_httpd_t *self, void (*fn)(void *ud, int status, uint64_t count),
                       void *ud)
{
    for (int s = STATUS_MIN; s <= STATUS_MAX; s++) {
        uint64_t n = atomic_load(&self->status_count[s - STATUS_MIN]);
        if (n > 0)
            fn(ud, s, n);
    }
}
