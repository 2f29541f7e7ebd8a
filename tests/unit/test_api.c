/* test_api.c - the collector's API routes and errors (collector/api.c), driven by calling the
 * handler directly over a merge and an inventory built here (no sockets, fixed clock). */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/api.h"
#include "netscope/detect.h"
#include "netscope/store.h"
#include "runner.h"

#define SEC 1000000000ull
#define NOW (1764900000ull * SEC)

static ns_merge_t *merge;
static ns_inventory_t *inv;
static ns_api_t *api;
static ns_httpd_resp_t resp;

static ns_flow_rec_t
rec(const char *uid, uint8_t proto, uint8_t resp4, uint16_t rp, uint64_t pkts, double last_s)
{
    ns_flow_rec_t r;
    memset(&r, 0, sizeof(r));
    snprintf(r.uid, sizeof(r.uid), "%s", uid);
    r.ip_ver = 4;
    r.proto = proto;
    r.kind = NS_FLOW_REC_UPDATE;
    r.orig_h.b[0] = 10, r.orig_h.b[3] = 1;
    r.resp_h.b[0] = 10, r.resp_h.b[3] = resp4;
    r.orig_p = 40000;
    r.resp_p = rp;
    r.first_ns = NOW - 100 * SEC;
    r.last_ns = NOW - (uint64_t)((double)SEC * last_s);
    r.pkts[0] = r.pkts[1] = pkts;
    r.wire_bytes[0] = r.wire_bytes[1] = pkts * 100;
    r.is_tcp = proto == 6;
    snprintf(r.conn_state, sizeof(r.conn_state), "S1");
    snprintf(r.service, sizeof(r.service), "%s", rp == 53 ? "dns" : "");
    return r;
}

static void
setup(void)
{
    char err[256];
    ns_merge_opts_t mo;
    ns_merge_opts_default(&mo);
    mo.capacity = 1024;
    mo.max_agents = 8;
    mo.seed = 1;
    merge = ns_merge_new(&mo, NULL, NULL, err, sizeof(err));
    ck_assert_msg(merge != NULL, "%s", err);
    inv = ns_inventory_new(8, 0, err, sizeof(err));
    ck_assert_msg(inv != NULL, "%s", err);
    uint32_t idx;
    ck_assert_int_eq(ns_inventory_hello(inv, "agent-a", "fpr-a", NULL, NOW - 200 * SEC, &idx),
                     NS_INV_NEW);
    ck_assert_uint_eq(idx, 0);
    /* three flows: tcp/443 (big, newest), tcp/80, udp/53 */
    ns_flow_rec_t r = rec("CAAAAAAAAAAAAAAAA1", 6, 2, 443, 50, 1);
    ck_assert_int_eq(ns_merge_update(merge, 0, &r, NOW - SEC, NULL), NS_MERGE_NEW);
    r = rec("CAAAAAAAAAAAAAAAA2", 6, 3, 80, 5, 5);
    ck_assert_int_eq(ns_merge_update(merge, 0, &r, NOW - SEC, NULL), NS_MERGE_NEW);
    r = rec("CAAAAAAAAAAAAAAAA3", 17, 4, 53, 1, 10);
    ck_assert_int_eq(ns_merge_update(merge, 0, &r, NOW - SEC, NULL), NS_MERGE_NEW);
    api = ns_api_new(NULL, NULL);
    ck_assert_ptr_nonnull(api);
    ns_api_set_live(api, merge, inv);
    ns_api_set_now(api, NOW);
    ns_httpd_resp_init(&resp);
}

static void
teardown(void)
{
    ns_httpd_resp_fini(&resp);
    ns_api_stop(&api);
    ck_assert_ptr_null(api);
    ns_merge_destroy(&merge);
    ns_inventory_destroy(&inv);
}

/* GET `target` (path?query); returns the status, the body parsed as JSON in *out when
 * `out` is not NULL. */
static int
get(const char *method, const char *target, const char *accept, json_t **out)
{
    char path[512];
    snprintf(path, sizeof(path), "%s", target);
    char *q = strchr(path, '?');
    if (q)
        *q++ = '\0';
    ns_httpd_req_t req = {.method = method, .path = path, .query = q ? q : "",
                          .accept = accept ? accept : "", .authorization = ""};
    ns_httpd_resp_fini(&resp);
    ns_httpd_resp_init(&resp);
    ns_api_handle(api, &req, &resp);
    if (out) {
        json_error_t je;
        *out = json_loadb(resp.body ? resp.body : "", resp.len, 0, &je);
        ck_assert_msg(*out != NULL, "%s: not JSON: %s (%s)", target, resp.body, je.text);
    }
    return resp.status;
}

static const char *
jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

START_TEST(valid_health_agents)
{
    json_t *j;
    ck_assert_int_eq(get("GET", "/api/v1/health", NULL, &j), 200);
    ck_assert_str_eq(jstr(j, "status"), "ok");
    ck_assert_int_eq(json_integer_value(json_object_get(j, "agents")), 1);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "flows_live")), 3);
    ck_assert(json_is_false(json_object_get(j, "database")));
    json_decref(j);
    ck_assert_int_eq(get("GET", "/api/v1/agents", NULL, &j), 200);
    json_t *a = json_array_get(json_object_get(j, "agents"), 0);
    ck_assert_str_eq(jstr(a, "id"), "agent-a");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "agents")), 1);
    json_decref(j);
}
END_TEST

START_TEST(valid_flows)
{
    json_t *j;
    ck_assert_int_eq(get("GET", "/api/v1/flows", NULL, &j), 200);
    json_t *fl = json_object_get(j, "flows");
    ck_assert_uint_eq(json_array_size(fl), 3);
    /* newest first */
    ck_assert_str_eq(jstr(json_array_get(fl, 0), "uid"), "CAAAAAAAAAAAAAAAA1");
    ck_assert_str_eq(jstr(json_array_get(fl, 0), "agent"), "agent-a");
    ck_assert_str_eq(jstr(json_array_get(fl, 0), "source"), "live");
    ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(fl, 0), "id.resp_p")), 443);
    ck_assert(json_is_null(json_object_get(j, "next_cursor")));
    json_decref(j);

    ck_assert_int_eq(get("GET", "/api/v1/flows?proto=udp", NULL, &j), 200);
    fl = json_object_get(j, "flows");
    ck_assert_uint_eq(json_array_size(fl), 1);
    ck_assert_str_eq(jstr(json_array_get(fl, 0), "service"), "dns");
    json_decref(j);

    ck_assert_int_eq(get("GET", "/api/v1/flows?filter=tcp+and+dst+port+80", NULL, &j), 200);
    fl = json_object_get(j, "flows");
    ck_assert_uint_eq(json_array_size(fl), 1);
    ck_assert_str_eq(jstr(json_array_get(fl, 0), "uid"), "CAAAAAAAAAAAAAAAA2");
    json_decref(j);

    ck_assert_int_eq(get("GET", "/api/v1/flows?host=10.0.0.4&port=53", NULL, &j), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "flows")), 1);
    json_decref(j);
    ck_assert_int_eq(get("GET", "/api/v1/flows?from=-3s", NULL, &j), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "flows")), 1);
    json_decref(j);

    /* paging: by bytes, one per page */
    ck_assert_int_eq(get("GET", "/api/v1/flows?sort=bytes&limit=1", NULL, &j), 200);
    ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "flows"), 0), "uid"),
                     "CAAAAAAAAAAAAAAAA1");
    ck_assert_str_eq(jstr(j, "next_cursor"), "L1");
    json_decref(j);
    ck_assert_int_eq(get("GET", "/api/v1/flows?sort=bytes&limit=1&cursor=L1", NULL, &j), 200);
    ck_assert_str_eq(jstr(json_array_get(json_object_get(j, "flows"), 0), "uid"),
                     "CAAAAAAAAAAAAAAAA2");
    json_decref(j);

    ck_assert_int_eq(get("GET", "/api/v1/flows/CAAAAAAAAAAAAAAAA3", NULL, &j), 200);
    ck_assert_str_eq(jstr(json_object_get(j, "live"), "uid"), "CAAAAAAAAAAAAAAAA3");
    ck_assert_uint_eq(json_array_size(json_object_get(j, "observations")), 1);
    json_decref(j);

    ck_assert_int_eq(get("GET", "/api/v1/top?by=packets&group=port&n=2", NULL, &j), 200);
    json_t *top = json_object_get(j, "top");
    ck_assert_uint_eq(json_array_size(top), 2);
    ck_assert_str_eq(jstr(json_array_get(top, 0), "label"), "tcp/443");
    json_decref(j);
    ck_assert_int_eq(get("GET", "/api/v1/protocols", NULL, &j), 200);
    ck_assert_uint_eq(json_array_size(json_object_get(j, "protocols")), 2);
    json_decref(j);
}
END_TEST

START_TEST(valid_csv_metrics)
{
    ck_assert_int_eq(get("GET", "/api/v1/flows?format=csv", NULL, NULL), 200);
    ck_assert_str_eq(resp.content_type, "text/csv; charset=utf-8");
    ck_assert(strncmp(resp.body, "ts,uid,", 7) == 0);
    int lines = 0;
    for (size_t i = 0; i < resp.len; i++)
        lines += resp.body[i] == '\n';
    ck_assert_int_eq(lines, 4);
    ck_assert_int_eq(get("GET", "/api/v1/flows", "text/csv", NULL), 200);
    ck_assert(strncmp(resp.body, "ts,uid,", 7) == 0);
    ck_assert_int_eq(get("GET", "/metrics", NULL, NULL), 200);
    ck_assert(strstr(resp.body, "# TYPE netscope_collector_flows_active gauge\n"
                                "netscope_collector_flows_active 3\n") != NULL);
    ck_assert(strstr(resp.body, "netscope_collector_agent_batches_lost_total{agent=\"agent-a\"} 0"));
}
END_TEST

static void
expect_error(const char *method, const char *target, int status, const char *param)
{
    json_t *j;
    ck_assert_int_eq(get(method, target, NULL, &j), status);
    ck_assert_ptr_nonnull(jstr(j, "error"));
    if (param)
        ck_assert_str_eq(jstr(j, "parameter"), param);
    else
        ck_assert_ptr_null(json_object_get(j, "parameter"));
    json_decref(j);
}

/* /alerts, /alerts/{id} and /alerts/{id}/pcap over a store holding two cleared alerts (no
 * collector: nothing active), one with an evidence pcap. */
START_TEST(valid_alerts)
{
    char dir[] = "/tmp/ns_test_api_alerts_XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ns_store_opts_t so;
    ns_store_opts_default(&so);
    so.dir = dir;
    char err[256];
    ns_store_t *store = ns_store_open(&so, err, sizeof(err));
    ck_assert_msg(store != NULL, "%s", err);
    for (uint64_t id = 5; id <= 6; id++) {
        ns_alert_t a;
        memset(&a, 0, sizeof(a));
        a.id = id;
        a.kind = id == 5 ? NS_DETECT_SYN_FLOOD : NS_DETECT_PORT_SCAN;
        a.state = NS_ALERT_CLEARED;
        a.severity = NS_ALERT_LOW;
        a.raised_ns = NOW - (id == 5 ? 20 : 4) * SEC;
        a.cleared_ns = NOW;
        snprintf(a.victim, sizeof(a.victim), "10.0.0.2");
        if (id == 6)
            snprintf(a.source, sizeof(a.source), "10.0.0.5");
        uint8_t b[NS_ALERT_PACKED];
        ck_assert_uint_eq(ns_alert_pack(&a, b, sizeof(b)), sizeof(b));
        ck_assert_int_eq(ns_store_put_alert(store, id, b, sizeof(b)), NS_OK);
    }
    ck_assert_int_eq(ns_store_put_alert_pcap(store, 6, "PCAPBYTES", 9), NS_OK);
    ck_assert(ns_store_sync(store, 10000));
    ns_api_t *live = api;
    api = ns_api_new(NULL, store);
    ns_api_set_now(api, NOW);
    json_t *j;
    ck_assert_int_eq(get("GET", "/api/v1/alerts", NULL, &j), 200);
    ck_assert_int_eq(json_integer_value(json_object_get(j, "count")), 2);
    json_t *first = json_array_get(json_object_get(j, "alerts"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(first, "id")), 6); /* newest first */
    ck_assert_str_eq(jstr(first, "detector"), "port_scan");
    ck_assert(json_is_true(json_object_get(first, "pcap")));
    json_decref(j);
    static const struct {
        const char *q;
        int n;
    } cases[] = {{"detector=syn_flood", 1}, {"state=active", 0}, {"state=cleared", 2},
                 {"host=10.0.0.5", 1},     {"host=10.0.0.2", 2}, {"limit=1", 1},
                 {"from=-6s", 1}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char t[128];
        snprintf(t, sizeof(t), "/api/v1/alerts?%s", cases[i].q);
        ck_assert_int_eq(get("GET", t, NULL, &j), 200);
        ck_assert_msg(json_integer_value(json_object_get(j, "count")) == cases[i].n, "%s",
                      cases[i].q);
        json_decref(j);
    }
    ck_assert_int_eq(get("GET", "/api/v1/alerts?detector=nope", NULL, NULL), 400);
    ck_assert_int_eq(get("GET", "/api/v1/alerts?state=open", NULL, NULL), 400);
    ck_assert_int_eq(get("GET", "/api/v1/alerts?bogus=1", NULL, NULL), 400);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/5", NULL, &j), 200);
    ck_assert(json_is_false(json_object_get(j, "pcap")));
    json_decref(j);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/6/pcap", NULL, NULL), 200);
    ck_assert_str_eq(resp.content_type, "application/vnd.tcpdump.pcap");
    ck_assert_uint_eq(resp.len, 9);
    ck_assert_int_eq(memcmp(resp.body, "PCAPBYTES", 9), 0);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/5/pcap", NULL, NULL), 404);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/99", NULL, NULL), 404);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/6/other", NULL, NULL), 404);
    ck_assert_int_eq(get("GET", "/api/v1/alerts/x", NULL, NULL), 404);
    ns_api_stop(&api);
    api = live;
    ns_store_close(&store);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(invalid_requests)
{
    expect_error("GET", "/api/v1/flows?bogus=1", 400, "bogus");
    expect_error("GET", "/api/v1/flows?from=yesterday", 400, "from");
    expect_error("GET", "/api/v1/flows?to=2025-02-30T00:00:00Z", 400, "to");
    expect_error("GET", "/api/v1/flows?port=70000", 400, "port");
    expect_error("GET", "/api/v1/flows?limit=0", 400, "limit");
    expect_error("GET", "/api/v1/flows?host=example.com", 400, "host");
    expect_error("GET", "/api/v1/flows?proto=bogus", 400, "proto");
    expect_error("GET", "/api/v1/flows?filter=host+example.com", 400, "filter");
    expect_error("GET", "/api/v1/flows?cursor=zz", 400, "cursor");
    expect_error("GET", "/api/v1/flows?live=exclude", 503, NULL);
    expect_error("GET", "/api/v1/flows?a=%00", 400, "a");
    expect_error("GET", "/api/v1/health?x=1", 400, "x");
    expect_error("GET", "/api/v1/timeseries?metric=all", 503, NULL);
    expect_error("GET", "/api/v1/timeseries", 400, "metric");
    expect_error("GET", "/api/v1/top?group=planet", 400, "group");
    expect_error("GET", "/api/v1/nothing", 404, NULL);
    expect_error("GET", "/api/v2/flows", 404, NULL);
    expect_error("GET", "/api/v1/flows/CNOSUCHFLOW", 404, NULL);
    expect_error("GET", "/api/v1/flows/a/b", 404, NULL);
    expect_error("GET", "/api/v1/%2e%2e/%2e%2e/etc/passwd", 400, NULL);
    expect_error("GET", "/api/v1/../../etc/passwd", 400, NULL);
    expect_error("GET", "//api/v1/flows", 400, NULL);
    expect_error("GET", "/api/v1/flows%2f..", 400, NULL);
    expect_error("POST", "/api/v1/flows", 405, NULL);
    ck_assert_uint_eq(resp.n_headers, 1);
    ck_assert_str_eq(resp.headers[0].name, "Allow");
    expect_error("DELETE", "/metrics", 405, NULL);
}
END_TEST

START_TEST(valid_httpd_helpers)
{
    ck_assert(ns_httpd_token_eq("secret", "secret"));
    ck_assert(!ns_httpd_token_eq("secreT", "secret"));
    ck_assert(!ns_httpd_token_eq("secret1", "secret"));
    ck_assert(!ns_httpd_token_eq("", "secret"));
    int fam;
    uint8_t a[16];
    uint16_t port;
    bool loop;
    ck_assert(ns_httpd_parse_listen("127.0.0.1:8080", &fam, a, &port, &loop));
    ck_assert(fam == 4 && port == 8080 && loop);
    ck_assert(ns_httpd_parse_listen("[::1]:9", &fam, a, &port, &loop));
    ck_assert(fam == 6 && port == 9 && loop);
    ck_assert(ns_httpd_parse_listen("0.0.0.0:80", &fam, a, &port, &loop));
    ck_assert(!loop);
    ck_assert(!ns_httpd_parse_listen("localhost:80", &fam, a, &port, &loop));
    ck_assert(!ns_httpd_parse_listen("::1:80", &fam, a, &port, &loop));
    ck_assert(!ns_httpd_parse_listen("1.2.3.4:65536", &fam, a, &port, &loop));
    ns_httpd_opts_t o;
    ns_httpd_opts_default(&o);
    char err[256];
    o.listen = "0.0.0.0:8080";
    ck_assert(!ns_httpd_opts_check(&o, err, sizeof(err)));
    ck_assert(strstr(err, "--no-auth") != NULL);
    o.token = "t";
    ck_assert(ns_httpd_opts_check(&o, err, sizeof(err)));
    o.token = NULL;
    o.no_auth = true;
    ck_assert(ns_httpd_opts_check(&o, err, sizeof(err)));
    ns_httpd_resp_error(&resp, 400, "bad \"x\"\n", "p");
    ck_assert_str_eq(resp.body, "{\"error\":\"bad \\\"x\\\"\\u000a\",\"parameter\":\"p\"}\n");
}
END_TEST

static Suite *
api_suite(void)
{
    Suite *s = suite_create("api");
    TCase *v = tcase_create("valid");
    tcase_add_checked_fixture(v, setup, teardown);
    tcase_add_test(v, valid_health_agents);
    tcase_add_test(v, valid_flows);
    tcase_add_test(v, valid_csv_metrics);
    tcase_add_test(v, valid_httpd_helpers);
    tcase_add_test(v, valid_alerts);
    suite_add_tcase(s, v);
    TCase *i = tcase_create("invalid");
    tcase_add_checked_fixture(i, setup, teardown);
    tcase_add_test(i, invalid_requests);
    suite_add_tcase(s, i);
    return s;
}

NS_TEST_MAIN(api_suite)
