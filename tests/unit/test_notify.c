/* test_notify.c - webhook notifications against a local HTTP listener: the JSON body, a retry
 * after a 500, the bounded queue dropping the oldest, a URL that is not http:// refused. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netscope/notify.h"
#include "runner.h"

typedef struct {
    int fd;
    int statuses[4]; /* answer for each connection, in order */
    int n;
    char body[4096];
} server_t;

static void *
serve(void *arg)
{
    server_t *s = arg;
    for (int i = 0; i < s->n; i++) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            return NULL;
        char buf[8192];
        size_t got = 0;
        ssize_t r;
        /* the request ends with its body; Content-Length tells when */
        while ((r = recv(c, buf + got, sizeof(buf) - 1 - got, 0)) > 0) {
            got += (size_t)r;
            buf[got] = '\0';
            char *h = strstr(buf, "\r\n\r\n");
            char *cl = strstr(buf, "Content-Length: ");
            if (h && cl && got - (size_t)(h + 4 - buf) >= (size_t)atoi(cl + 16))
                break;
        }
        char *h = strstr(buf, "\r\n\r\n");
        if (h)
            snprintf(s->body, sizeof(s->body), "%s", h + 4);
        char resp[128];
        int n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n\r\n",
                         s->statuses[i]);
        (void)!send(c, resp, (size_t)n, MSG_NOSIGNAL);
        close(c);
    }
    return NULL;
}

static int
listener(uint16_t *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    ck_assert_int_eq(listen(fd, 16), 0);
    socklen_t l = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}

/* A listener answering `a` then `b`, served from thread *t; its URL (with `path`) in url. */
static void
server_start(server_t *s, int a, int b, pthread_t *t, char *url, size_t len, const char *path)
{
    uint16_t port;
    memset(s, 0, sizeof(*s));
    s->statuses[0] = a;
    s->statuses[1] = b;
    s->n = 2;
    s->fd = listener(&port);
    pthread_create(t, NULL, serve, s);
    snprintf(url, len, "http://127.0.0.1:%u%s", port, path);
}

static ns_alert_t
alert(uint64_t id)
{
    ns_alert_t a;
    memset(&a, 0, sizeof(a));
    a.id = id;
    a.kind = NS_DETECT_SYN_FLOOD;
    a.severity = NS_ALERT_HIGH;
    snprintf(a.subject, sizeof(a.subject), "10.0.0.2 port 80/tcp");
    return a;
}

START_TEST(post_and_retry)
{
    server_t s;
    pthread_t t;
    char url[64], err[256];
    server_start(&s, 500, 200, &t, url, sizeof(url), "/hook");
    ns_notify_opts_t o = {.webhook = url, .queue = 4, .retries = 2, .timeout_ms = 2000};
    ns_notify_t *n = ns_notify_new(&o, err, sizeof(err));
    ck_assert_msg(n != NULL, "%s", err);
    ns_alert_t a = alert(77);
    ns_notify_alert(n, &a);
    ns_notify_destroy(&n, 10000); /* waits for the send, with its retry */
    ck_assert_ptr_null(n);
    pthread_join(t, NULL);
    close(s.fd);
    ck_assert_ptr_nonnull(strstr(s.body, "\"id\":77"));
    ck_assert_ptr_nonnull(strstr(s.body, "\"detector\":\"syn_flood\""));
}
END_TEST

START_TEST(stats_and_queue_bound)
{
    server_t s;
    pthread_t t;
    char url[64], err[256];
    server_start(&s, 500, 200, &t, url, sizeof(url), "/");
    ns_notify_opts_t o = {.webhook = url, .queue = 2, .retries = 1, .timeout_ms = 2000};
    ns_notify_t *n = ns_notify_new(&o, err, sizeof(err));
    ck_assert_ptr_nonnull(n);
    for (uint64_t i = 1; i <= 6; i++) {
        ns_alert_t a = alert(i);
        ns_notify_alert(n, &a);
    }
    ns_notify_stats_t st;
    ns_notify_stats(n, &st);
    ck_assert_uint_eq(st.queued, 6);
    ck_assert_uint_ge(st.dropped, 3); /* at most one in flight and two waiting */
    pthread_join(t, NULL); /* the first POST failed once, then succeeded */
    ns_notify_destroy(&n, 0); /* the rest: dropped (the server is gone) */
    close(s.fd);
}
END_TEST

START_TEST(bad_url)
{
    char err[256];
    static const char *const bad[] = {"https://x/", "http://", "ftp://h/", "http://h:/x"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ns_notify_opts_t o = {.webhook = bad[i], .queue = 1, .timeout_ms = 100};
        ck_assert_ptr_null(ns_notify_new(&o, err, sizeof(err)));
        ck_assert_ptr_nonnull(strstr(err, "alerts.webhook"));
    }
    ns_notify_opts_t o = {.webhook = "", .queue = 1, .timeout_ms = 100};
    ns_notify_t *n = ns_notify_new(&o, err, sizeof(err)); /* no webhook, no syslog: a no-op */
    ck_assert_ptr_nonnull(n);
    ns_alert_t a = alert(1);
    ns_notify_alert(n, &a);
    ns_notify_destroy(&n, 0);
}
END_TEST

static Suite *
notify_suite(void)
{
    Suite *s = suite_create("notify");
    TCase *t = tcase_create("valid");
    tcase_add_test(t, post_and_retry);
    tcase_add_test(t, stats_and_queue_bound);
    tcase_add_test(t, bad_url);
    tcase_set_timeout(t, 30);
    suite_add_tcase(s, t);
    return s;
}

NS_TEST_MAIN(notify_suite)
