/* notify.c - webhook and syslog notifications of alert state changes (see notify.h).
 *
 * Design: a ring of heap strings under a mutex and one sender thread that takes the oldest,
 * POSTs it over a fresh TCP connection (one notification per connection: they are rare, and
 * a connection that stays open would need its own failure handling) and retries with backoff.
 */
#include "netscope/notify.h"

#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "netscope/log.h"

#define BODY_MAX 4096u
#define BACKOFF_MAX_MS 30000u

struct ns_notify {
    ns_notify_opts_t o;
    char host[256], port[8], path[512];
    bool webhook;
    pthread_t thread;
    bool started;
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char **ring;
    uint32_t head, n;
    bool stop, busy;
    ns_notify_stats_t st;
};

static bool
parse_url(ns_notify_t *s, const char *url)
{
    if (strncmp(url, "http://", 7) != 0)
        return false;
    const char *h = url + 7, *slash = strchr(h, '/');
    size_t hl = slash ? (size_t)(slash - h) : strlen(h);
    if (hl == 0 || hl >= sizeof(s->host))
        return false;
    memcpy(s->host, h, hl);
    s->host[hl] = '\0';
    snprintf(s->port, sizeof(s->port), "80");
    char *colon = strrchr(s->host, ':');
    if (colon && strchr(s->host, ']') == NULL) {
        if (colon[1] == '\0' || strlen(colon + 1) >= sizeof(s->port))
            return false;
        snprintf(s->port, sizeof(s->port), "%s", colon + 1);
        *colon = '\0';
    }
    if (s->host[0] == '[') { /* [v6]:port */
        size_t l = strlen(s->host);
        if (s->host[l - 1] != ']')
            return false;
        memmove(s->host, s->host + 1, l - 2);
        s->host[l - 2] = '\0';
    }
    snprintf(s->path, sizeof(s->path), "%s", slash ? slash : "/");
    return strlen(slash ? slash : "/") < sizeof(s->path);
}

/* One POST; true on a 2xx answer. */
static bool
post(ns_notify_t *s, const char *body)
{
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai = NULL;
    if (getaddrinfo(s->host, s->port, &hints, &ai) != 0)
        return false;
    int fd = -1;
    bool ok = false;
    struct timeval tv = {.tv_sec = s->o.timeout_ms / 1000, .tv_usec = (s->o.timeout_ms % 1000) * 1000};
    for (struct addrinfo *a = ai; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        /* SO_SNDTIMEO bounds connect() on Linux too */
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(ai);
    if (fd < 0)
        return false;
    char head[1024];
    size_t bl = strlen(body);
    int hn = snprintf(head, sizeof(head),
                      "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                      "User-Agent: netscope-collector\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n",
                      s->path, s->host, bl);
    if (hn > 0 && (size_t)hn < sizeof(head) &&
        send(fd, head, (size_t)hn, MSG_NOSIGNAL) == hn &&
        send(fd, body, bl, MSG_NOSIGNAL) == (ssize_t)bl) {
        char resp[64];
        size_t got = 0;
        while (got < sizeof(resp) - 1) {
            ssize_t r = recv(fd, resp + got, sizeof(resp) - 1 - got, 0);
            if (r <= 0)
                break;
            got += (size_t)r;
            if (memchr(resp, '\n', got))
                break;
        }
        resp[got] = '\0';
        int code = 0;
        ok = sscanf(resp, "HTTP/1.%*d %d", &code) == 1 && code >= 200 && code < 300;
    }
    close(fd);
    return ok;
}

static void
sleep_ms(uint32_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void *
sender(void *arg)
{
    ns_notify_t *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (s->n == 0 && !s->stop)
            pthread_cond_wait(&s->cond, &s->lock);
        if (s->n == 0)
            break;
        char *body = s->ring[s->head];
        s->ring[s->head] = NULL;
        s->head = (s->head + 1) % s->o.queue;
        s->n--;
        s->busy = true;
        pthread_mutex_unlock(&s->lock);
        bool ok = false;
        uint32_t backoff = 500, tries = 0;
        for (;;) {
            ok = post(s, body);
            if (ok || tries >= s->o.retries)
                break;
            pthread_mutex_lock(&s->lock);
            bool stop = s->stop;
            s->st.retries++;
            pthread_mutex_unlock(&s->lock);
            if (stop)
                break;
            sleep_ms(backoff);
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            tries++;
        }
        free(body);
        pthread_mutex_lock(&s->lock);
        s->busy = false;
        if (ok)
            s->st.sent++;
        else
            s->st.failed++;
        pthread_cond_broadcast(&s->cond);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

ns_notify_t *
ns_notify_new(const ns_notify_opts_t *o, char *errbuf, size_t errlen)
{
    ns_notify_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return NULL;
    }
    s->o = *o;
    s->o.webhook = NULL;
    if (s->o.queue == 0)
        s->o.queue = 1;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    if (o->webhook && o->webhook[0]) {
        if (!parse_url(s, o->webhook)) {
            snprintf(errbuf, errlen, "alerts.webhook '%s' is not http://HOST[:PORT][/PATH]",
                     o->webhook);
            goto fail;
        }
        s->webhook = true;
        s->ring = calloc(s->o.queue, sizeof(*s->ring));
        if (s->ring == NULL) {
            snprintf(errbuf, errlen, "out of memory");
            goto fail;
        }
        if (pthread_create(&s->thread, NULL, sender, s) != 0) {
            snprintf(errbuf, errlen, "cannot start the webhook thread");
            goto fail;
        }
        s->started = true;
    }
    if (o->syslog)
        openlog("netscope-collector", LOG_PID, LOG_DAEMON);
    return s;
fail:
    ns_notify_destroy(&s, 0);
    return NULL;
}

void
ns_notify_destroy(ns_notify_t **self_p, uint32_t wait_ms)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_notify_t *s = *self_p;
    if (s->started) {
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl);
        dl.tv_sec += wait_ms / 1000;
        dl.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
        if (dl.tv_nsec >= 1000000000L) {
            dl.tv_sec++;
            dl.tv_nsec -= 1000000000L;
        }
        pthread_mutex_lock(&s->lock);
        while ((s->n > 0 || s->busy) &&
               pthread_cond_timedwait(&s->cond, &s->lock, &dl) != ETIMEDOUT) {
        }
        s->stop = true;
        /* what is still queued is dropped: the thread ends after the one in flight */
        while (s->n > 0) {
            free(s->ring[s->head]);
            s->ring[s->head] = NULL;
            s->head = (s->head + 1) % s->o.queue;
            s->n--;
            s->st.dropped++;
        }
        pthread_cond_broadcast(&s->cond);
        pthread_mutex_unlock(&s->lock);
        pthread_join(s->thread, NULL);
    }
    if (s->o.syslog)
        closelog();
    free(s->ring);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
    free(s);
    *self_p = NULL;
}

void
ns_notify_alert(ns_notify_t *self, const ns_alert_t *a)
{
    ns_notify_t *s = self;
    if (s->o.syslog) {
        syslog(a->state == NS_ALERT_RAISED ? LOG_WARNING : LOG_NOTICE,
               "alert %llu %s %s: %s %s, value %llu threshold %llu within %.0f s",
               (unsigned long long)a->id, ns_detect_kind_name(a->kind),
               ns_alert_state_name(a->state), a->subject, ns_alert_severity_name(a->severity),
               (unsigned long long)a->value, (unsigned long long)a->threshold,
               (double)a->window_ns / 1e9);
        pthread_mutex_lock(&s->lock);
        s->st.syslogged++;
        pthread_mutex_unlock(&s->lock);
    }
    if (!s->webhook)
        return;
    char *body = malloc(BODY_MAX);
    if (body == NULL || ns_alert_json(a, body, BODY_MAX) == 0) {
        free(body);
        pthread_mutex_lock(&s->lock);
        s->st.dropped++;
        pthread_mutex_unlock(&s->lock);
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->n == s->o.queue) { /* full: the oldest goes */
        free(s->ring[s->head]);
        s->ring[s->head] = NULL;
        s->head = (s->head + 1) % s->o.queue;
        s->n--;
        s->st.dropped++;
    }
    s->ring[(s->head + s->n) % s->o.queue] = body;
    s->n++;
    s->st.queued++;
    pthread_cond_signal(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

void
ns_notify_stats(ns_notify_t *self, ns_notify_stats_t *out)
{
    pthread_mutex_lock(&self->lock);
    *out = self->st;
    pthread_mutex_unlock(&self->lock);
}
