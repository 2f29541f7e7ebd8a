/* test_httpd.c - the HTTP server (daemon/httpd.c) over a loopback socket: readiness (503
 * until ready), raw paths and queries reach the handler undecoded, auth, status counts. */
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "netscope/httpd.h"
#include "runner.h"

static char seen_path[256], seen_query[256];

static void
handler(void *ud, const ns_httpd_req_t *req, ns_httpd_resp_t *resp)
{
    (void)ud;
    snprintf(seen_path, sizeof(seen_path), "%s", req->path);
    snprintf(seen_query, sizeof(seen_query), "%s", req->query);
    ns_httpd_resp_printf(resp, "{\"ok\":true}\n");
}

/* Send `head` (request line and headers, CRLF-terminated) and return the status code. */
static int
request(uint16_t port, const char *head)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    ck_assert_int_eq(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    char buf[512] = "";
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    ck_assert_int_gt(n, 12);
    int status = 0;
    ck_assert_int_eq(sscanf(buf, "HTTP/1.%*d %d", &status), 1);
    return status;
}

static uint64_t counted[600];

static void
on_count(void *ud, int status, uint64_t n)
{
    (void)ud;
    counted[status] = n;
}

START_TEST(lifecycle_ready_auth)
{
    ns_httpd_opts_t o;
    ns_httpd_opts_default(&o);
    o.listen = "127.0.0.1:0";
    o.token = "tok";
    char err[256];
    ns_httpd_t *h = ns_httpd_start(&o, handler, NULL, err, sizeof(err));
    ck_assert_msg(h != NULL, "%s", err);
    uint16_t port = ns_httpd_port(h);
    ck_assert_uint_ne(port, 0);
    const char *authed = "GET /a/%2e%2e/b?x=%41&y=1 HTTP/1.1\r\nHost: x\r\n"
                         "Authorization: Bearer tok\r\n\r\n";
    ck_assert_int_eq(request(port, authed), 503);
    ns_httpd_set_ready(h, true);
    ck_assert_int_eq(request(port, authed), 200);
    ck_assert_str_eq(seen_path, "/a/%2e%2e/b");
    ck_assert_str_eq(seen_query, "x=%41&y=1");
    ck_assert_int_eq(request(port, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"), 401);
    ck_assert_int_eq(request(port, "GET / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\n\r\n"),
                     403);
    ck_assert_int_eq(request(port, "POST / HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer tok\r\n"
                                   "Content-Length: 100000\r\n\r\n"),
                     413);
    ns_httpd_status_counts(h, on_count, NULL);
    ck_assert_uint_eq(counted[503], 1);
    ck_assert_uint_eq(counted[200], 1);
    ck_assert_uint_eq(counted[401], 1);
    ck_assert_uint_eq(counted[403], 1);
    ck_assert_uint_eq(counted[413], 1);
    ns_httpd_stop(&h);
    ck_assert_ptr_null(h);
    ns_httpd_stop(&h);
}
END_TEST

/* Attacker-chosen strings (DNS names, HTTP hosts) reach JSON through ns_httpd_resp_json_str:
 * the output must be valid JSON text whatever the bytes. */
START_TEST(json_str_escapes)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"plain", "\"plain\""},
        {"q\"b\\", "\"q\\\"b\\\\\""},
        {"\x01\n\x1f\x7f", "\"\\u0001\\u000a\\u001f\\u007f\""},
        {"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\""},
        {"\xff", "\"\\ufffd\""},                  /* never valid */
        {"\xc0\xaf", "\"\\ufffd\\ufffd\""},        /* overlong '/' */
        {"\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""}, /* a surrogate */
        {"\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""}, /* past U+10FFFF */
        {"ab\xe2\x82", "\"ab\\ufffd\\ufffd\""},     /* truncated at the end */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ns_httpd_resp_t r;
        ns_httpd_resp_init(&r);
        ns_httpd_resp_json_str(&r, cases[i].in);
        ck_assert_str_eq(r.body, cases[i].out);
        ns_httpd_resp_fini(&r);
    }
}
END_TEST

START_TEST(invalid_bind)
{
    ns_httpd_opts_t o;
    ns_httpd_opts_default(&o);
    char err[256];
    o.listen = "0.0.0.0:0";
    ck_assert_ptr_null(ns_httpd_start(&o, handler, NULL, err, sizeof(err)));
    ck_assert(strstr(err, "refusing") != NULL);
    o.listen = "example.com:80";
    ck_assert_ptr_null(ns_httpd_start(&o, handler, NULL, err, sizeof(err)));
    ck_assert(strstr(err, "names are not resolved") != NULL);
}
END_TEST

static Suite *
httpd_suite(void)
{
    Suite *s = suite_create("httpd");
    TCase *l = tcase_create("lifecycle");
    tcase_add_test(l, lifecycle_ready_auth);
    suite_add_tcase(s, l);
    TCase *i = tcase_create("invalid");
    tcase_add_test(i, invalid_bind);
    tcase_add_test(i, json_str_escapes);
    suite_add_tcase(s, i);
    return s;
}

NS_TEST_MAIN(httpd_suite)
