/* chsink_put.c - put a fixed set of 1-minute roll-ups through the ClickHouse sink (chsink.h)
 * to a real server, for tests/integration/test_clickhouse.sh.
 *
 * Usage: chsink_put URL DATABASE. Puts N_POINTS buckets of series whose names hold what JSON
 * must escape (quotes, backslashes, control characters) and UTF-8, destroys the sink (which
 * sends them) and prints each bucket as a JSON line written by jansson: the expectation, from
 * an encoder that is not the sink's. Exits 1 when a bucket was refused or not sent.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/chsink.h"
#include "netscope/log.h"

#define N_POINTS 5

int
main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: chsink_put URL DATABASE\n");
        return 2;
    }
    static const char *const series[N_POINTS] = {"all", "agent:lab-1:eth0", "proto:tcp",
                                                 "service:\"h\\t\x01p\"\n", "agent:caf\xc3\xa9:0"};
    ns_log_init("chsink_put", NS_LOG_INFO);
    ns_chsink_opts_t o;
    ns_chsink_opts_default(&o);
    o.url = argv[1];
    o.database = argv[2];
    o.batch_rows = 2; /* several INSERTs */
    char err[512];
    ns_chsink_t *s = ns_chsink_new(&o, err, sizeof(err));
    if (s == NULL) {
        fprintf(stderr, "chsink_put: %s\n", err);
        return 1;
    }
    int rc = 0;
    json_t *want = json_array();
    for (uint64_t i = 0; i < N_POINTS; i++) {
        ns_store_point_t p = {.start_s = 1733370000 + 60 * i,
                              .bytes = (1ull << 40) + i,
                              .pkts = 1000 + i,
                              .new_flows = 10 + i,
                              .ended_flows = 9 + i,
                              .active_max = 100 + i,
                              .rtt_sum_us = 123456 + i,
                              .rtt_n = 3 + i,
                              .retrans = i};
        if (ns_chsink_put_rollup(s, series[i], &p) != NS_OK)
            rc = 1;
        json_array_append_new(
            want,
            json_pack("{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "series", series[i],
                      "minute", (json_int_t)p.start_s, "bytes", (json_int_t)p.bytes, "pkts",
                      (json_int_t)p.pkts, "new_flows", (json_int_t)p.new_flows, "ended_flows",
                      (json_int_t)p.ended_flows, "active_max", (json_int_t)p.active_max,
                      "rtt_sum_us", (json_int_t)p.rtt_sum_us, "rtt_n", (json_int_t)p.rtt_n,
                      "retrans", (json_int_t)p.retrans));
    }
    if (!ns_chsink_flush(s, 10000))
        rc = 1;
    ns_chsink_stats_t st;
    ns_chsink_stats(s, &st);
    if (st.rollups_sent != N_POINTS)
        rc = 1;
    ns_chsink_destroy(&s);
    size_t i;
    json_t *row;
    json_array_foreach(want, i, row)
    {
        char *line = json_dumps(row, JSON_COMPACT);
        printf("%s\n", line);
        free(line);
    }
    json_decref(want);
    return rc;
}
