/* chsink.c - flows and roll-ups to ClickHouse over HTTP, in batches, from a sender thread
 * (see chsink.h).
 *
 * Design: each table has a byte ring of JSON lines. Producers append under the mutex; the
 * sender copies the head batch out under the mutex, sends it without the mutex, and consumes
 * it only after a 2xx. Producers never touch the head (a full queue refuses the newest row),
 * so the copy stays valid however long the request takes, and a failed batch is simply sent
 * again. JSON rows never hold a raw newline (writers escape it), so '\n' ends a row.
 */
#include "netscope/chsink.h"

#include <ctype.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "flow_record.h"
#include "netscope/log.h"

#define DEFAULT_PORT "8123"
#define HOST_MAX 255u
#define RESP_MAX (64u * 1024u)     /* response bytes kept (status, headers, message) */
#define BATCH_BYTES_MAX (8u << 20) /* one INSERT body at most (and a row at most) */
#define MSG_MAX 400u               /* ClickHouse's message in a log line */
#define QUEUE_MIN (64u * 1024u)
#define AUTH_MAX 1024u

/* ---- schema ------------------------------------------------------------------------------ */

typedef struct {
    const char *name, *type;
} column_t;

/* Every scalar member ns_flow_record_write() writes, in its order and under its names, then
 * the collector's. Types hold every value the writer can produce (so no batch is refused for
 * its data): counters of the record's uint8/16/32/64 fields, reals as Float64. */
static const column_t flow_columns[] = {
    {"ts", "Float64"},
    {"uid", "String"},
    {"id.orig_h", "String"},
    {"id.orig_p", "UInt16"},
    {"id.resp_h", "String"},
    {"id.resp_p", "UInt16"},
    {"proto", "String"},
    {"service", "String"},
    {"duration", "Float64"},
    {"orig_bytes", "UInt64"},
    {"resp_bytes", "UInt64"},
    {"conn_state", "String"},
    {"missed_bytes", "UInt64"},
    {"history", "String"},
    {"orig_pkts", "UInt64"},
    {"orig_ip_bytes", "UInt64"},
    {"resp_pkts", "UInt64"},
    {"resp_ip_bytes", "UInt64"},
    {"community_id", "String"},
    {"ip_proto", "UInt8"},
    {"vlan", "UInt16"},
    {"orig_wire_bytes", "UInt64"},
    {"resp_wire_bytes", "UInt64"},
    {"orig_payload_bytes", "UInt64"},
    {"resp_payload_bytes", "UInt64"},
    {"flags_orig", "String"},
    {"flags_resp", "String"},
    {"syn_orig", "UInt8"},
    {"syn_resp", "UInt8"},
    {"fin_orig", "UInt8"},
    {"fin_resp", "UInt8"},
    {"rst_orig", "UInt8"},
    {"rst_resp", "UInt8"},
    {"tcp_state_orig", "String"},
    {"tcp_state_resp", "String"},
    {"rtt_handshake_us", "Float64"},
    {"rtt_handshake_server_us", "Float64"},
    {"rtt_handshake_client_us", "Float64"},
    {"rtt_samples", "UInt32"},
    {"rtt_min_us", "UInt32"},
    {"rtt_mean_us", "UInt32"},
    {"rtt_max_us", "UInt32"},
    {"rtt_last_us", "UInt32"},
    {"retrans_orig", "UInt32"},
    {"retrans_resp", "UInt32"},
    {"ooo_orig", "UInt32"},
    {"ooo_resp", "UInt32"},
    {"dup_ack_orig", "UInt32"},
    {"dup_ack_resp", "UInt32"},
    {"zero_win_orig", "UInt32"},
    {"zero_win_resp", "UInt32"},
    {"gaps_orig", "UInt32"},
    {"gaps_resp", "UInt32"},
    {"missed_bytes_orig", "UInt32"},
    {"missed_bytes_resp", "UInt32"},
    {"midstream", "UInt8"},
    {"seq_gaps", "UInt8"},
    {"truncated", "UInt8"},
    {"fragments", "UInt8"},
    {"bps", "Float64"},
    {"pps", "Float64"},
    {"avg_bps", "Float64"},
    {"avg_pps", "Float64"},
    {"interim", "UInt32"},
    {"end_reason", "String"},
    {"agent", "String"},
    {"received", "Float64"},
    {"conn", "UInt64"},
    {"primary", "UInt8"},
    {"observers", "UInt8"},
    /* not sent: derived by ClickHouse for the partition key */
    {"day", "Date MATERIALIZED toDate(toDateTime(toUInt32(ts)))"},
};

static const column_t rollup_columns[] = {
    {"series", "String"},     {"minute", "DateTime"},   {"bytes", "UInt64"},
    {"pkts", "UInt64"},       {"new_flows", "UInt64"},  {"ended_flows", "UInt64"},
    {"active_max", "UInt64"}, {"rtt_sum_us", "UInt64"}, {"rtt_n", "UInt64"},
    {"retrans", "UInt64"},
};

typedef struct {
    const char *table;
    const column_t *cols;
    size_t n_cols;
    const char *tail; /* engine and keys */
} table_def_t;

static const table_def_t tables[] = {
    {"flows", flow_columns, sizeof(flow_columns) / sizeof(flow_columns[0]),
     "ENGINE = MergeTree() PARTITION BY toYYYYMMDD(day) ORDER BY (ts, uid)"},
    {"rollups_1m", rollup_columns, sizeof(rollup_columns) / sizeof(rollup_columns[0]),
     "ENGINE = MergeTree() PARTITION BY toYYYYMM(minute) ORDER BY (series, minute)"},
};

#define N_TABLES (sizeof(tables) / sizeof(tables[0]))
#define T_FLOWS 0u
#define T_ROLLUPS 1u

size_t
ns_chsink_schema_count(void)
{
    return 1 + N_TABLES;
}

size_t
ns_chsink_schema(const char *database, size_t i, char *out, size_t cap)
{
    size_t n = 0;
    int r;
#define APPEND(...)                                                                                \
    do {                                                                                           \
        r = snprintf(out + n, cap - n, __VA_ARGS__);                                               \
        if (r < 0 || (size_t)r >= cap - n)                                                         \
            return 0;                                                                              \
        n += (size_t)r;                                                                            \
    } while (0)
    if (cap == 0 || i >= ns_chsink_schema_count())
        return 0;
    if (i == 0) {
        APPEND("CREATE DATABASE IF NOT EXISTS %s", database);
        return n;
    }
    const table_def_t *t = &tables[i - 1];
    APPEND("CREATE TABLE IF NOT EXISTS %s.%s (\n", database, t->table);
    for (size_t k = 0; k < t->n_cols; k++) /* `quoted`: "id.orig_h", and "primary" a keyword */
        APPEND("    `%s` %s%s\n", t->cols[k].name, t->cols[k].type, k + 1 < t->n_cols ? "," : "");
    APPEND(") %s", t->tail);
#undef APPEND
    return n;
}

/* ---- queues ------------------------------------------------------------------------------ */

typedef struct {
    char *buf;
    size_t cap, head, len; /* bytes */
    uint64_t rows;
    bool retry; /* the head batch failed before */
} queue_t;

/* Append a row given as two parts; false when it does not fit. */
static bool
q_put(queue_t *q, const char *a, size_t na, const char *b, size_t nb)
{
    if (na + nb > q->cap - q->len)
        return false;
    const char *part[2] = {a, b};
    size_t plen[2] = {na, nb};
    for (int k = 0; k < 2; k++) {
        size_t tail = (q->head + q->len) % q->cap;
        size_t first = plen[k] < q->cap - tail ? plen[k] : q->cap - tail;
        memcpy(q->buf + tail, part[k], first);
        memcpy(q->buf, part[k] + first, plen[k] - first);
        q->len += plen[k];
    }
    q->rows++;
    return true;
}

/* Copy the first rows (at most max_rows of them, and max_bytes unless the first row alone is
 * more) into out; returns the bytes copied and sets *rows. */
static size_t
q_peek(const queue_t *q, char *out, size_t max_bytes, uint64_t max_rows, uint64_t *rows)
{
    size_t pos = 0;
    uint64_t k = 0;
    while (k < max_rows && pos < q->len) {
        size_t idx = (q->head + pos) % q->cap;
        size_t seg = q->len - pos < q->cap - idx ? q->len - pos : q->cap - idx;
        const char *nl = memchr(q->buf + idx, '\n', seg);
        size_t end; /* offset of the row's newline from the head */
        if (nl != NULL) {
            end = pos + (size_t)(nl - (q->buf + idx));
        } else {
            nl = memchr(q->buf, '\n', q->len - pos - seg);
            if (nl == NULL)
                break; /* cannot happen: every row ends with a newline */
            end = pos + seg + (size_t)(nl - q->buf);
        }
        if (end + 1 > max_bytes && k > 0)
            break;
        pos = end + 1;
        k++;
    }
    size_t first = pos < q->cap - q->head ? pos : q->cap - q->head;
    memcpy(out, q->buf + q->head, first);
    memcpy(out + first, q->buf, pos - first);
    *rows = k;
    return pos;
}

static void
q_consume(queue_t *q, size_t bytes, uint64_t rows)
{
    q->head = (q->head + bytes) % q->cap;
    q->len -= bytes;
    q->rows -= rows;
    if (q->len == 0)
        q->head = 0;
}

/* ---- the sink ---------------------------------------------------------------------------- */

struct ns_chsink {
    ns_chsink_opts_t o;
    char host[HOST_MAX + 1]; /* without brackets */
    char port[8];
    char host_hdr[HOST_MAX + 16];
    char db[NS_CHSINK_DB_MAX + 1];
    char auth[AUTH_MAX];     /* "&user=...&password=..." or "" */
    char url[HOST_MAX + 32]; /* for log lines */

    pthread_t thread;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the sender: rows, a flush, stop */
    pthread_cond_t idle; /* flushers: a batch went out */
    queue_t q[N_TABLES];
    ns_chsink_stats_t st;
    bool stop;
    uint64_t stop_deadline_ms;
    uint32_t flushers;

    /* the sender's own */
    bool schema_ok;
    uint32_t backoff_ms;
    char *send; /* a batch being sent */
    size_t send_cap;
    char resp[RESP_MAX + 1];

    /* the producers' scratch (one per put function) */
    ns_flow_record_buf_t fbuf;
};

static uint64_t
mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void
ns_chsink_opts_default(ns_chsink_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->database = "netscope";
    o->batch_rows = 10000;
    o->batch_ms = 1000;
    o->queue_bytes = 64u << 20;
    o->timeout_ms = 10000;
    o->retry_min_ms = 500;
    o->retry_max_ms = 30000;
    o->flush_ms = 5000;
}

/* "http://HOST[:PORT][/]" into host, port and the Host header. */
static bool
parse_url(ns_chsink_t *s, const char *url, char *errbuf, size_t errlen)
{
    static const char scheme[] = "http://";
    if (strncasecmp(url, "https://", 8) == 0) {
        snprintf(errbuf, errlen,
                 "clickhouse.url %s: https is not supported; use http:// (a TLS proxy on "
                 "localhost can carry it further)",
                 url);
        return false;
    }
    if (strncasecmp(url, scheme, sizeof(scheme) - 1) != 0) {
        snprintf(errbuf, errlen, "clickhouse.url '%s' is not http://HOST[:PORT]", url);
        return false;
    }
    const char *h = url + sizeof(scheme) - 1, *end;
    if (*h == '[') {
        end = strchr(h, ']');
        if (end == NULL)
            goto bad;
        h++;
    } else {
        end = h + strcspn(h, ":/");
    }
    size_t hl = (size_t)(end - h);
    if (hl == 0 || hl > HOST_MAX)
        goto bad;
    memcpy(s->host, h, hl);
    s->host[hl] = '\0';
    const char *p = *end == ']' ? end + 1 : end;
    snprintf(s->port, sizeof(s->port), "%s", DEFAULT_PORT);
    if (*p == ':') {
        p++;
        size_t pl = strspn(p, "0123456789");
        long v = pl > 0 && pl <= 5 ? strtol(p, NULL, 10) : 0;
        if (v < 1 || v > 65535)
            goto bad;
        snprintf(s->port, sizeof(s->port), "%ld", v);
        p += pl;
    }
    if (strcmp(p, "") != 0 && strcmp(p, "/") != 0)
        goto bad;
    bool v6 = strchr(s->host, ':') != NULL;
    snprintf(s->host_hdr, sizeof(s->host_hdr), "%s%s%s:%s", v6 ? "[" : "", s->host, v6 ? "]" : "",
             s->port);
    snprintf(s->url, sizeof(s->url), "http://%s", s->host_hdr);
    return true;
bad:
    snprintf(errbuf, errlen, "clickhouse.url '%s' is not http://HOST[:PORT]", url);
    return false;
}

/* Append `s` percent-encoded (RFC 3986 unreserved characters stay) to out at *n. */
static bool
pct_encode(char *out, size_t cap, size_t *n, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (*n + 4 > cap)
            return false;
        if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out[(*n)++] = (char)c;
        } else {
            out[(*n)++] = '%';
            out[(*n)++] = hex[c >> 4];
            out[(*n)++] = hex[c & 15];
        }
    }
    out[*n] = '\0';
    return true;
}

static bool
set_auth(ns_chsink_t *s, char *errbuf, size_t errlen)
{
    static const char *const names[2] = {"&user=", "&password="};
    const char *vals[2] = {s->o.user, s->o.password};
    size_t n = 0;
    s->auth[0] = '\0';
    for (int k = 0; k < 2; k++) {
        if (vals[k] == NULL || vals[k][0] == '\0')
            continue;
        size_t nl = strlen(names[k]);
        if (n + nl >= sizeof(s->auth))
            goto long_;
        memcpy(s->auth + n, names[k], nl);
        n += nl;
        if (!pct_encode(s->auth, sizeof(s->auth), &n, vals[k]))
            goto long_;
    }
    return true;
long_:
    snprintf(errbuf, errlen, "clickhouse.user or clickhouse.password is too long");
    return false;
}

static bool
db_name_ok(const char *d)
{
    if (d == NULL || d[0] == '\0' || strlen(d) > NS_CHSINK_DB_MAX ||
        !(isalpha((unsigned char)d[0]) || d[0] == '_'))
        return false;
    for (; *d; d++)
        if (!(isalnum((unsigned char)*d) || *d == '_'))
            return false;
    return true;
}

static void *sender(void *arg);

ns_chsink_t *
ns_chsink_new(const ns_chsink_opts_t *o, char *errbuf, size_t errlen)
{
    ns_chsink_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    s->o = *o;
    pthread_mutex_init(&s->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->wake, &ca);
    pthread_cond_init(&s->idle, &ca);
    pthread_condattr_destroy(&ca);
    if (o->url == NULL || !parse_url(s, o->url, errbuf, errlen))
        goto fail;
    const char *db = o->database && o->database[0] ? o->database : "netscope";
    if (!db_name_ok(db)) {
        snprintf(errbuf, errlen,
                 "clickhouse.database '%s' must be a name of letters, digits and '_' (at most "
                 "%u bytes, not starting with a digit)",
                 db, NS_CHSINK_DB_MAX);
        goto fail;
    }
    snprintf(s->db, sizeof(s->db), "%s", db);
    if (!set_auth(s, errbuf, errlen))
        goto fail;
    /* the option strings are not needed past this point: drop the caller's pointers */
    s->o.url = s->o.database = s->o.user = s->o.password = NULL;
    if (s->o.batch_rows == 0)
        s->o.batch_rows = 1;
    if (s->o.retry_min_ms == 0)
        s->o.retry_min_ms = 1;
    if (s->o.retry_max_ms < s->o.retry_min_ms)
        s->o.retry_max_ms = s->o.retry_min_ms;
    if (s->o.timeout_ms == 0)
        s->o.timeout_ms = 1;
    uint64_t total = s->o.queue_bytes < QUEUE_MIN ? QUEUE_MIN : s->o.queue_bytes;
    s->q[T_FLOWS].cap = (size_t)(total - total / 8);
    s->q[T_ROLLUPS].cap = (size_t)(total / 8);
    s->send_cap = s->q[T_FLOWS].cap < BATCH_BYTES_MAX ? s->q[T_FLOWS].cap : BATCH_BYTES_MAX;
    s->send = malloc(s->send_cap);
    for (size_t t = 0; t < N_TABLES; t++) {
        s->q[t].buf = malloc(s->q[t].cap);
        if (s->q[t].buf == NULL)
            s->send = NULL;
    }
    if (s->send == NULL) {
        snprintf(errbuf, errlen, "out of memory for the ClickHouse queue (%llu bytes)",
                 (unsigned long long)total);
        goto fail;
    }
    int rc = pthread_create(&s->thread, NULL, sender, s);
    if (rc != 0) {
        snprintf(errbuf, errlen, "cannot start the ClickHouse sender: %s", strerror(rc));
        goto fail;
    }
    s->started = true;
    return s;
fail:
    ns_chsink_destroy(&s);
    return NULL;
}

void
ns_chsink_destroy(ns_chsink_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_chsink_t *s = *self_p;
    if (s->started) {
        pthread_mutex_lock(&s->mu);
        s->stop = true;
        s->stop_deadline_ms = mono_ms() + s->o.flush_ms;
        pthread_cond_signal(&s->wake);
        pthread_mutex_unlock(&s->mu);
        pthread_join(s->thread, NULL);
        uint64_t left = s->q[T_FLOWS].rows + s->q[T_ROLLUPS].rows;
        if (left > 0) {
            s->st.drops += left;
            ns_log_warn("ClickHouse at %s: %llu row(s) not sent before exit are lost", s->url,
                        (unsigned long long)left);
        }
    }
    for (size_t t = 0; t < N_TABLES; t++)
        free(s->q[t].buf);
    free(s->send);
    ns_flow_record_buf_fini(&s->fbuf);
    pthread_cond_destroy(&s->wake);
    pthread_cond_destroy(&s->idle);
    pthread_mutex_destroy(&s->mu);
    free(s);
    *self_p = NULL;
}

/* ---- producers --------------------------------------------------------------------------- */

static ns_err_t
enqueue(ns_chsink_t *s, size_t t, const char *a, size_t na, const char *b, size_t nb)
{
    if (na + nb > s->send_cap)
        return NS_EINVAL; /* cannot happen for our rows: a row is a few KB */
    pthread_mutex_lock(&s->mu);
    queue_t *q = &s->q[t];
    bool ok = q_put(q, a, na, b, nb);
    if (ok) {
        if (t == T_FLOWS)
            s->st.flows_queued++;
        else
            s->st.rollups_queued++;
        /* the first row starts the batch_ms clock; a full batch goes at once */
        if (q->rows == 1 || q->rows == s->o.batch_rows)
            pthread_cond_signal(&s->wake);
    } else {
        s->st.drops++;
    }
    pthread_mutex_unlock(&s->mu);
    return ok ? NS_OK : NS_EFULL;
}

ns_err_t
ns_chsink_put_flow(ns_chsink_t *self, const ns_flow_rec_t *rec, const ns_store_meta_t *meta)
{
    if (rec->kind == NS_FLOW_REC_UPDATE)
        return NS_EINVAL;
    ns_flow_record_buf_t *b = &self->fbuf;
    b->len = 0;
    b->oom = 0;
    ns_flow_record_extra_t extra = {.agent = meta->agent, .received_ns = meta->received_ns};
    if (ns_flow_record_write(b, rec, &extra, 0, 0) != 0 || b->len < 2)
        return NS_ENOMEM;
    /* "...}\n": our members go before the closing brace */
    char tail[96];
    int n = snprintf(tail, sizeof(tail), ",\"conn\":%llu,\"primary\":%d,\"observers\":%u}\n",
                     (unsigned long long)meta->conn, meta->primary ? 1 : 0, meta->observers);
    return enqueue(self, T_FLOWS, b->buf, b->len - 2, tail, (size_t)n);
}

/* `s` as a JSON string (quotes included) into out; returns the length. cap must be at least
 * 6 * strlen(s) + 3. Bytes >= 0x80 are copied: ClickHouse stores strings as bytes. */
static size_t
json_string(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = 0;
    out[n++] = '"';
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            out[n++] = '\\';
            out[n++] = (char)c;
        } else if (c < 0x20) {
            memcpy(out + n, "\\u00", 4);
            out[n + 4] = hex[c >> 4];
            out[n + 5] = hex[c & 15];
            n += 6;
        } else {
            out[n++] = (char)c;
        }
    }
    out[n++] = '"';
    return n;
}

ns_err_t
ns_chsink_put_rollup(ns_chsink_t *self, const char *series, const ns_store_point_t *p)
{
    /* DateTime is 32 bits: a later minute would make ClickHouse refuse the whole batch */
    if (strlen(series) > NS_STORE_SERIES_MAX || p->start_s > UINT32_MAX)
        return NS_EINVAL;
    char row[6 * NS_STORE_SERIES_MAX + 512];
    size_t n = 0;
    memcpy(row, "{\"series\":", 10);
    n = 10;
    n += json_string(row + n, series);
    int r = snprintf(row + n, sizeof(row) - n,
                     ",\"minute\":%llu,\"bytes\":%llu,\"pkts\":%llu,\"new_flows\":%llu,"
                     "\"ended_flows\":%llu,\"active_max\":%llu,\"rtt_sum_us\":%llu,"
                     "\"rtt_n\":%llu,\"retrans\":%llu}\n",
                     (unsigned long long)p->start_s, (unsigned long long)p->bytes,
                     (unsigned long long)p->pkts, (unsigned long long)p->new_flows,
                     (unsigned long long)p->ended_flows, (unsigned long long)p->active_max,
                     (unsigned long long)p->rtt_sum_us, (unsigned long long)p->rtt_n,
                     (unsigned long long)p->retrans);
    if (r < 0 || (size_t)r >= sizeof(row) - n)
        return NS_EINVAL;
    return enqueue(self, T_ROLLUPS, row, n + (size_t)r, "", 0);
}

void
ns_chsink_on_rollup(void *sink, const char *series, const struct ns_store_point *p)
{
    (void)ns_chsink_put_rollup(sink, series, p);
}

/* ---- HTTP -------------------------------------------------------------------------------- */

static int
remaining_ms(uint64_t deadline)
{
    uint64_t now = mono_ms();
    return now >= deadline ? 0 : (int)(deadline - now);
}

/* Wait for `events` on fd until deadline; false on timeout or error (errno-free message). */
static bool
wait_fd(int fd, short events, uint64_t deadline)
{
    struct pollfd p = {.fd = fd, .events = events};
    for (;;) {
        int ms = remaining_ms(deadline);
        if (ms == 0)
            return false;
        int r = poll(&p, 1, ms);
        if (r > 0)
            return true;
        if (r == 0 || errno != EINTR)
            return false;
    }
}

static int
connect_to(ns_chsink_t *s, char *msg, size_t msglen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(s->host, s->port, &hints, &res);
    if (gai != 0) {
        snprintf(msg, msglen, "cannot resolve %s: %s", s->host, gai_strerror(gai));
        return -1;
    }
    int fd = -1, err = 0;
    uint64_t deadline = mono_ms() + s->o.timeout_ms;
    for (struct addrinfo *ai = res; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        err = connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ? 0 : errno;
        if (err == EINPROGRESS) {
            socklen_t el = sizeof(err);
            if (!wait_fd(fd, POLLOUT, deadline))
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
                err = errno;
        }
        if (err != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    if (fd < 0)
        snprintf(msg, msglen, "cannot connect to %s: %s", s->host_hdr, strerror(err));
    return fd;
}

/* Send n bytes by the deadline; 0, or an errno value (ETIMEDOUT). */
static int
send_all(int fd, const char *p, size_t n, uint64_t deadline)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w > 0) {
            p += w;
            n -= (size_t)w;
        } else if (w < 0 && errno == EINTR) {
            continue;
        } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!wait_fd(fd, POLLOUT, deadline))
                return ETIMEDOUT;
        } else {
            return w < 0 ? errno : EPIPE;
        }
    }
    return 0;
}

/* A chunked body decoded in place (RFC 9112 section 7.1); stops at the last chunk or at
 * what was not received. Returns the decoded length. */
static size_t
dechunk(char *b, size_t n)
{
    size_t in = 0, out = 0;
    while (in < n) {
        char *eol = memchr(b + in, '\n', n - in);
        if (eol == NULL)
            break;
        char *end;
        unsigned long sz = strtoul(b + in, &end, 16);
        if (end == b + in || sz == 0)
            break;
        in = (size_t)(eol - b) + 1;
        size_t take = sz < n - in ? (size_t)sz : n - in;
        memmove(b + out, b + in, take);
        out += take;
        in += take;
        if (take < sz)
            break;
        while (in < n && (b[in] == '\r' || b[in] == '\n')) /* the chunk's CRLF */
            in++;
    }
    return out;
}

/* ClickHouse's message (several lines) as one line of at most MSG_MAX bytes. */
static void
one_line(char *msg, size_t msglen, const char *body, size_t n)
{
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < msglen && k < MSG_MAX; i++) {
        unsigned char c = (unsigned char)body[i];
        char o = c < 0x20 ? ' ' : (char)c;
        if (o == ' ' && (k == 0 || msg[k - 1] == ' '))
            continue;
        msg[k++] = o;
    }
    while (k > 0 && msg[k - 1] == ' ')
        k--;
    msg[k] = '\0';
    if (k == 0)
        snprintf(msg, msglen, "(no message)");
}

/* POST `body` to `target` ("/?..."). Returns the HTTP status, or -1 when no response came
 * (msg says why). For a status other than 2xx, msg holds the response body as one line. */
static int
http_post(ns_chsink_t *s, const char *target, const char *body, size_t blen, char *msg,
          size_t msglen)
{
    int fd = connect_to(s, msg, msglen);
    if (fd < 0)
        return -1;
    int status = -1;
    char head[AUTH_MAX + 2 * HOST_MAX + 512];
    int hn = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: netscope-collector/%s\r\n"
                      "Content-Type: text/plain; charset=UTF-8\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      target, s->host_hdr, NS_VERSION, blen);
    uint64_t deadline = mono_ms() + s->o.timeout_ms;
    if (hn < 0 || (size_t)hn >= sizeof(head)) {
        snprintf(msg, msglen, "request too long");
        goto out;
    }
    int err = send_all(fd, head, (size_t)hn, deadline);
    if (err == 0)
        err = send_all(fd, body, blen, deadline);
    if (err != 0) {
        snprintf(msg, msglen, "sending to %s failed: %s", s->host_hdr, strerror(err));
        goto out;
    }
    size_t got = 0;
    deadline = mono_ms() + s->o.timeout_ms;
    char *hend = NULL;
    for (;;) {
        ssize_t r = recv(fd, s->resp + got, RESP_MAX - got, 0);
        if (r > 0) {
            got += (size_t)r;
            s->resp[got] = '\0';
            if (hend == NULL)
                hend = strstr(s->resp, "\r\n\r\n");
            if (got == RESP_MAX)
                break; /* enough for the status and the message */
        } else if (r == 0) {
            break;
        } else if (errno == EINTR) {
            continue;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            if (!wait_fd(fd, POLLIN, deadline)) {
                snprintf(msg, msglen, "no answer from %s within %u ms", s->host_hdr,
                         s->o.timeout_ms);
                goto out;
            }
        } else {
            snprintf(msg, msglen, "receiving from %s failed: %s", s->host_hdr, strerror(errno));
            goto out;
        }
    }
    s->resp[got] = '\0';
    int major, minor, code;
    if (hend == NULL || sscanf(s->resp, "HTTP/%d.%d %3d", &major, &minor, &code) != 3 ||
        code < 100 || code > 999) {
        snprintf(msg, msglen, "%s did not answer in HTTP", s->host_hdr);
        goto out;
    }
    status = code;
    if (code < 200 || code > 299) {
        *hend = '\0';
        bool chunked = strcasestr(s->resp, "\r\ntransfer-encoding: chunked") != NULL;
        char *b = hend + 4;
        size_t bn = got - (size_t)(b - s->resp);
        if (chunked)
            bn = dechunk(b, bn);
        char text[MSG_MAX + 1];
        one_line(text, sizeof(text), b, bn);
        snprintf(msg, msglen, "HTTP %d: %s", code, text);
    }
out:
    close(fd);
    return status;
}

/* ---- the sender -------------------------------------------------------------------------- */

static bool
create_schema(ns_chsink_t *s, char *msg, size_t msglen)
{
    char target[AUTH_MAX + 8];
    snprintf(target, sizeof(target), "/?%s", s->auth[0] ? s->auth + 1 : "");
    for (size_t i = 0; i < ns_chsink_schema_count(); i++) {
        char sql[8192];
        size_t n = ns_chsink_schema(s->db, i, sql, sizeof(sql));
        char err[MSG_MAX + 128];
        int st = http_post(s, target, sql, n, err, sizeof(err));
        if (st < 200 || st > 299) {
            snprintf(msg, msglen, "%.40s...: %s", sql, err);
            return false;
        }
    }
    return true;
}

static bool
insert(ns_chsink_t *s, size_t t, size_t bytes, char *msg, size_t msglen)
{
    char target[AUTH_MAX + 2 * NS_CHSINK_DB_MAX + 256];
    snprintf(target, sizeof(target),
             "/?database=%s&query=INSERT%%20INTO%%20%s.%s%%20FORMAT%%20JSONEachRow"
             "&input_format_skip_unknown_fields=1%s",
             s->db, s->db, tables[t].table, s->auth);
    char err[MSG_MAX + 128];
    int st = http_post(s, target, s->send, bytes, err, sizeof(err));
    if (st >= 200 && st <= 299)
        return true;
    snprintf(msg, msglen, "INSERT INTO %s.%s: %s", s->db, tables[t].table, err);
    return false;
}

/* One round: the schema when needed, then one batch of each queue that has rows. False on
 * the first failure (msg says what). Called without the lock. */
static bool
send_round(ns_chsink_t *s, char *msg, size_t msglen)
{
    if (!s->schema_ok) {
        if (!create_schema(s, msg, msglen)) {
            pthread_mutex_lock(&s->mu);
            s->st.failures++;
            s->st.connected = false;
            for (size_t t = 0; t < N_TABLES; t++) /* their next INSERT is a retry */
                s->q[t].retry = s->q[t].rows > 0;
            pthread_mutex_unlock(&s->mu);
            return false;
        }
        s->schema_ok = true;
        pthread_mutex_lock(&s->mu);
        if (s->st.schema_created++ == 0)
            ns_log_info("ClickHouse at %s: tables %s.flows and %s.rollups_1m ready", s->url, s->db,
                        s->db);
        pthread_mutex_unlock(&s->mu);
    }
    for (size_t t = 0; t < N_TABLES; t++) {
        pthread_mutex_lock(&s->mu);
        uint64_t rows;
        size_t bytes = q_peek(&s->q[t], s->send, s->send_cap, s->o.batch_rows, &rows);
        bool retry = s->q[t].retry;
        pthread_mutex_unlock(&s->mu);
        if (rows == 0)
            continue;
        bool ok = insert(s, t, bytes, msg, msglen);
        pthread_mutex_lock(&s->mu);
        if (retry)
            s->st.retries++;
        if (ok) {
            q_consume(&s->q[t], bytes, rows);
            s->q[t].retry = false;
            s->st.batches_sent++;
            s->st.connected = true;
            if (t == T_FLOWS)
                s->st.flows_sent += rows;
            else
                s->st.rollups_sent += rows;
            pthread_cond_broadcast(&s->idle);
        } else {
            s->q[t].retry = true;
            s->st.failures++;
            s->st.connected = false;
        }
        pthread_mutex_unlock(&s->mu);
        if (!ok)
            return false;
    }
    return true;
}

static bool
queues_empty(const ns_chsink_t *s)
{
    return s->q[T_FLOWS].rows == 0 && s->q[T_ROLLUPS].rows == 0;
}

static void
wait_until(ns_chsink_t *s, uint64_t at_ms)
{
    struct timespec ts = {.tv_sec = (time_t)(at_ms / 1000u),
                          .tv_nsec = (long)(at_ms % 1000u) * 1000000L};
    pthread_cond_timedwait(&s->wake, &s->mu, &ts);
}

static void *
sender(void *arg)
{
    ns_chsink_t *s = arg;
    uint64_t last_send = mono_ms(), next_try = 0;
    char msg[2 * MSG_MAX + 256];
    pthread_mutex_lock(&s->mu);
    for (;;) {
        uint64_t now = mono_ms();
        bool empty = queues_empty(s);
        if (s->stop && (empty || now >= s->stop_deadline_ms))
            break;
        bool full =
            s->q[T_FLOWS].rows >= s->o.batch_rows || s->q[T_ROLLUPS].rows >= s->o.batch_rows;
        bool urgent = s->stop || s->flushers > 0 || full;
        uint64_t due = urgent ? now : last_send + s->o.batch_ms;
        if (due < next_try)
            due = next_try;
        if (empty || now < due) {
            uint64_t until = empty ? now + 60000u : due;
            if (s->stop && until > s->stop_deadline_ms)
                until = s->stop_deadline_ms;
            wait_until(s, until);
            continue;
        }
        pthread_mutex_unlock(&s->mu);
        bool ok = send_round(s, msg, sizeof(msg));
        pthread_mutex_lock(&s->mu);
        now = mono_ms();
        if (ok) {
            if (s->backoff_ms > 0)
                ns_log_info("ClickHouse at %s: sending again", s->url);
            s->backoff_ms = 0;
            next_try = 0;
            last_send = now;
        } else {
            s->schema_ok = false; /* a restarted server or a dropped table: create again */
            s->backoff_ms = s->backoff_ms == 0                      ? s->o.retry_min_ms
                            : s->backoff_ms > s->o.retry_max_ms / 2 ? s->o.retry_max_ms
                                                                    : 2 * s->backoff_ms;
            next_try = now + s->backoff_ms;
            ns_log_warn("ClickHouse at %s: %s (%llu row(s) waiting; next try in %u ms)", s->url,
                        msg, (unsigned long long)(s->q[T_FLOWS].rows + s->q[T_ROLLUPS].rows),
                        s->backoff_ms);
        }
    }
    pthread_cond_broadcast(&s->idle);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* ---- the rest ---------------------------------------------------------------------------- */

bool
ns_chsink_flush(ns_chsink_t *self, uint32_t timeout_ms)
{
    ns_chsink_t *s = self;
    uint64_t deadline = mono_ms() + timeout_ms;
    pthread_mutex_lock(&s->mu);
    s->flushers++;
    pthread_cond_signal(&s->wake);
    while (!queues_empty(s) && mono_ms() < deadline) {
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000u),
                              .tv_nsec = (long)(deadline % 1000u) * 1000000L};
        pthread_cond_timedwait(&s->idle, &s->mu, &ts);
    }
    s->flushers--;
    bool empty = queues_empty(s);
    pthread_mutex_unlock(&s->mu);
    return empty;
}

void
ns_chsink_stats(ns_chsink_t *self, ns_chsink_stats_t *out)
{
    pthread_mutex_lock(&self->mu);
    *out = self->st;
    out->queue_rows = self->q[T_FLOWS].rows + self->q[T_ROLLUPS].rows;
    out->queue_bytes = self->q[T_FLOWS].len + self->q[T_ROLLUPS].len;
    pthread_mutex_unlock(&self->mu);
}
