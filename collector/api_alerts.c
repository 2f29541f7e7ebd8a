/* api_alerts.c - GET /api/v1/alerts, /api/v1/alerts/{id}, /api/v1/alerts/{id}/pcap and the
 * alert lines of /metrics.
 *
 * Alerts raised or ongoing come from the detectors (copied under the collector's lock, so
 * their value is current); every alert, cleared ones too, is in the store (its state at the
 * last change or 5-second refresh). A listing takes the active ones first, then the stored
 * ones newest first, skipping ids already listed. Without a database only active alerts exist.
 *
 * /alerts/{id}/pcap is the evidence pcap stored with the alert (evidence.h), 404 without one.
 *
 * Query: state=active|cleared|all (default all), detector=NAME, host=ADDR (the alert's victim
 * or source), from/to (raised within, the usual time forms), limit (1..1000, default 100).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_int.h"
#include "netscope/detect.h"

#define ACTIVE_MAX 4096u
#define LIMIT_MAX 1000u

typedef struct {
    int state; /* -1 all, 0 active, 1 cleared */
    bool has_kind;
    ns_detect_kind_t kind;
    const char *host;
    uint64_t from_ns, to_ns;
    uint32_t limit;
} alert_query_t;


static bool
copy_active(void *ud, const ns_alert_t *a)
{
    alerts_t *l = ud;
    if (l->n == ACTIVE_MAX)
        return false;
    l->v[l->n++] = *a;
    return true;
}

bool
api_alerts_active(ns_api_t *api, alerts_t *l)
{
    l->n = 0;
    l->v = malloc(ACTIVE_MAX * sizeof(*l->v));
    if (l->v == NULL)
        return false;
    api_lock(api);
    const ns_detect_t *d = api->collector ? ns_collector_detect(api->collector) : NULL;
    if (d)
        ns_detect_active_each(d, copy_active, l);
    api_unlock(api);
    return true;
}

static bool
matches(const alert_query_t *q, const ns_alert_t *a)
{
    bool cleared = a->state == NS_ALERT_CLEARED;
    if ((q->state == 0 && cleared) || (q->state == 1 && !cleared))
        return false;
    if (q->has_kind && a->kind != q->kind)
        return false;
    if (q->host && strcmp(a->victim, q->host) != 0 && strcmp(a->source, q->host) != 0)
        return false;
    if (a->raised_ns < q->from_ns || (q->to_ns && a->raised_ns > q->to_ns))
        return false;
    return true;
}

typedef struct {
    const alert_query_t *q;
    const alerts_t *active;
    ns_store_read_t *rd; /* NULL without a database */
    ns_httpd_resp_t *r;
    uint32_t written;
    uint64_t want_id; /* one alert by id (0: a listing) */
    ns_alert_t found;
    bool have;
} walk_t;

static void
ignore_bytes(void *ud, const void *data, size_t len)
{
    (void)ud, (void)data, (void)len;
}

static void
emit(walk_t *w, const ns_alert_t *alert)
{
    ns_alert_t a = *alert;
    a.pcap = w->rd && ns_store_alert_pcap(w->rd, a.id, ignore_bytes, NULL);
    char buf[4096];
    size_t n = ns_alert_json(&a, buf, sizeof(buf));
    if (n == 0)
        return;
    if (w->written++)
        ns_httpd_resp_append(w->r, ",", 1);
    ns_httpd_resp_append(w->r, buf, n);
}

static bool
is_active(const alerts_t *l, uint64_t id)
{
    for (uint32_t i = 0; i < l->n; i++)
        if (l->v[i].id == id)
            return true;
    return false;
}

static bool
on_stored(void *ud, uint64_t id, const void *data, size_t len)
{
    walk_t *w = ud;
    ns_alert_t a;
    if (!ns_alert_unpack(data, len, &a) || a.id != id)
        return true; /* another version's bytes, or damaged: left out */
    if (w->want_id) {
        if (id != w->want_id)
            return true;
        w->found = a;
        w->have = true;
        return false;
    }
    if (is_active(w->active, id) || !matches(w->q, &a))
        return true;
    emit(w, &a);
    return w->written < w->q->limit;
}

static bool
query_of(ns_api_t *api, const ns_qs_t *qs, alert_query_t *q, ns_httpd_resp_t *r)
{
    memset(q, 0, sizeof(*q));
    q->state = -1;
    q->limit = 100;
    const char *v = ns_qs_get(qs, "state");
    if (v) {
        if (strcmp(v, "active") == 0)
            q->state = 0;
        else if (strcmp(v, "cleared") == 0)
            q->state = 1;
        else if (strcmp(v, "all") != 0) {
            ns_httpd_resp_error(r, 400, "state is active, cleared or all", "state");
            return false;
        }
    }
    v = ns_qs_get(qs, "detector");
    if (v) {
        if (!ns_detect_kind_parse(v, &q->kind)) {
            ns_httpd_resp_error(r, 400, "unknown detector", "detector");
            return false;
        }
        q->has_kind = true;
    }
    q->host = ns_qs_get(qs, "host");
    uint64_t now = api_now_ns(api);
    v = ns_qs_get(qs, "from");
    if (v && !ns_qs_time(v, now, &q->from_ns)) {
        ns_httpd_resp_error(r, 400, "malformed time (RFC 3339, unix seconds, or -1h style)",
                            "from");
        return false;
    }
    v = ns_qs_get(qs, "to");
    if (v && !ns_qs_time(v, now, &q->to_ns)) {
        ns_httpd_resp_error(r, 400, "malformed time (RFC 3339, unix seconds, or -1h style)",
                            "to");
        return false;
    }
    v = ns_qs_get(qs, "limit");
    uint64_t lim = 100;
    if (v && !ns_qs_u64(v, 1, LIMIT_MAX, &lim)) {
        ns_httpd_resp_error(r, 400, "not a number from 1 to 1000", "limit");
        return false;
    }
    q->limit = (uint32_t)lim;
    return true;
}

void
api_alerts(ns_api_t *api, const ns_qs_t *qs, ns_httpd_resp_t *r)
{
    alert_query_t q;
    if (!query_of(api, qs, &q, r))
        return;
    alerts_t act;
    if (!api_alerts_active(api, &act)) {
        r->oom = true;
        return;
    }
    walk_t w = {.q = &q, .active = &act, .r = r};
    bool stored = api->store != NULL;
    char err[256];
    if (stored)
        w.rd = ns_store_read_begin(api->store, err, sizeof(err));
    ns_httpd_resp_printf(r, "{\"alerts\":[");
    for (uint32_t i = 0; i < act.n && w.written < q.limit; i++)
        if (matches(&q, &act.v[i]))
            emit(&w, &act.v[i]);
    if (w.rd && w.written < q.limit)
        ns_store_alerts_each(w.rd, 0, on_stored, &w);
    ns_store_read_end(&w.rd);
    ns_httpd_resp_printf(r, "],\"count\":%u,\"history\":%s}", w.written,
                         stored ? "true" : "false");
    free(act.v);
}

/* The alert with id `id` (active first, then stored); false when there is none. */
static bool
alert_find(ns_api_t *api, uint64_t id, ns_alert_t *out)
{
    alerts_t act;
    if (!api_alerts_active(api, &act))
        return false;
    bool have = false;
    for (uint32_t i = 0; i < act.n && !have; i++)
        if (act.v[i].id == id) {
            *out = act.v[i];
            have = true;
        }
    free(act.v);
    if (have || api->store == NULL)
        return have;
    alerts_t none = {0};
    walk_t w = {.active = &none, .want_id = id};
    char err[256];
    ns_store_read_t *rd = ns_store_read_begin(api->store, err, sizeof(err));
    if (rd) {
        ns_store_alerts_each(rd, id + 1, on_stored, &w);
        ns_store_read_end(&rd);
    }
    if (w.have)
        *out = w.found;
    return w.have;
}

static void
pcap_body(void *ud, const void *data, size_t len)
{
    ns_httpd_resp_append(ud, data, len);
}

void
api_alert(ns_api_t *api, const char *rest, ns_httpd_resp_t *r)
{
    uint64_t id;
    const char *slash = strchr(rest, '/');
    char idtext[32];
    size_t n = slash ? (size_t)(slash - rest) : strlen(rest);
    if (n == 0 || n >= sizeof(idtext)) {
        ns_httpd_resp_error(r, 404, "no such resource", NULL);
        return;
    }
    memcpy(idtext, rest, n);
    idtext[n] = '\0';
    bool pcap = slash != NULL;
    if ((slash && strcmp(slash, "/pcap") != 0) || !ns_qs_u64(idtext, 1, UINT64_MAX, &id)) {
        ns_httpd_resp_error(r, 404, "no such resource", NULL);
        return;
    }
    ns_alert_t a;
    if (!alert_find(api, id, &a)) {
        ns_httpd_resp_error(r, 404, "no such alert", NULL);
        return;
    }
    char err[256];
    ns_store_read_t *rd = api->store ? ns_store_read_begin(api->store, err, sizeof(err)) : NULL;
    if (pcap) {
        /* asked from the agents when the alert was raised (collector.c, evidence.c) */
        if (rd && ns_store_alert_pcap(rd, id, pcap_body, r)) {
            snprintf(r->content_type, sizeof(r->content_type), "application/vnd.tcpdump.pcap");
            char cd[64];
            snprintf(cd, sizeof(cd), "attachment; filename=\"alert-%llu.pcap\"",
                     (unsigned long long)id);
            ns_httpd_resp_header(r, "Content-Disposition", cd);
        } else {
            ns_httpd_resp_error(r, 404,
                                "no evidence packets stored for this alert: no database, no "
                                "agent answered, or its ring no longer held the flows",
                                NULL);
        }
    } else {
        a.pcap = rd && ns_store_alert_pcap(rd, id, ignore_bytes, NULL);
        char buf[4096];
        size_t len = ns_alert_json(&a, buf, sizeof(buf));
        ns_httpd_resp_append(r, buf, len);
    }
    ns_store_read_end(&rd);
}

void
api_alert_metrics(ns_api_t *api, ns_httpd_resp_t *r)
{
    ns_detect_stats_t st;
    memset(&st, 0, sizeof(st));
    size_t mem[NS_DETECT_COUNT] = {0};
    ns_notify_stats_t ns;
    memset(&ns, 0, sizeof(ns));
    api_lock(api);
    const ns_detect_t *d = api->collector ? ns_collector_detect(api->collector) : NULL;
    if (d) {
        ns_detect_stats(d, &st);
        for (int k = 0; k < NS_DETECT_COUNT; k++)
            mem[k] = ns_detect_memory(d, (ns_detect_kind_t)k);
    }
    api_unlock(api);
    if (api->collector)
        ns_collector_notify_stats(api->collector, &ns);
    static const struct {
        const char *name, *type, *help;
    } fam[] = {
        {"netscope_collector_alerts_raised_total", "counter", "Alerts raised, per detector."},
        {"netscope_collector_alerts_cleared_total", "counter", "Alerts cleared, per detector."},
        {"netscope_collector_alerts_active", "gauge", "Alerts raised or ongoing now."},
        {"netscope_collector_detector_events_total", "counter",
         "Events counted by each detector."},
        {"netscope_collector_detector_excluded_total", "counter",
         "Events left out by a detector's exclude list."},
        {"netscope_collector_detector_subjects_dropped_total", "counter",
         "Subjects over a threshold not followed: candidate table full."},
        {"netscope_collector_detector_memory_bytes", "gauge",
         "Memory held by each detector (fixed at start)."},
    };
    for (size_t f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
        ns_httpd_resp_printf(r, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name, fam[f].help,
                             fam[f].name, fam[f].type);
        for (int k = 0; k < NS_DETECT_COUNT; k++) {
            uint64_t v = f == 0   ? st.raised[k]
                         : f == 1 ? st.cleared[k]
                         : f == 2 ? st.active[k]
                         : f == 3 ? st.events[k]
                         : f == 4 ? st.excluded[k]
                         : f == 5 ? st.subjects_dropped[k]
                                  : mem[k];
            ns_httpd_resp_printf(r, "%s{detector=\"%s\"} %llu\n", fam[f].name,
                                 ns_detect_kind_name((ns_detect_kind_t)k), (unsigned long long)v);
        }
    }
    ns_httpd_resp_printf(r,
                         "# HELP netscope_collector_alert_notifications_total Alert "
                         "notifications by outcome (webhook; syslog lines).\n"
                         "# TYPE netscope_collector_alert_notifications_total counter\n");
    const struct {
        const char *what;
        uint64_t v;
    } out[] = {{"queued", ns.queued},   {"sent", ns.sent},       {"failed", ns.failed},
               {"dropped", ns.dropped}, {"retried", ns.retries}, {"syslog", ns.syslogged}};
    for (size_t i = 0; i < sizeof(out) / sizeof(out[0]); i++)
        ns_httpd_resp_printf(r, "netscope_collector_alert_notifications_total{result=\"%s\"} %llu\n",
                             out[i].what, (unsigned long long)out[i].v);
}
