/* cmd_history.c - `netscope history --db DIR`: a collector's stored flows, offline.
 *
 * Opens the database read-only (store.h: MDB_RDONLY, no writer thread, no lock on the writer),
 * so it is safe while the collector runs: it sees the last committed batch. Writes the records
 * the way `netscope flows` does (JSON Lines or CSV, the same field names, plus "agent"),
 * paging through the store with its cursor so that any number of records streams in bounded
 * memory.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "cliutil.h"
#include "flow_record.h"
#include "netscope/bpf_flow.h"
#include "netscope/store.h"
#include "netscope/timeparse.h"

#define PAGE 1000u

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope history --db DIR [--from T] [--to T] [--host ADDR] [--port N]\n"
            "                        [--proto P] [--agent ID] [--service S] [--uid UID]\n"
            "                        [--sort time|time-asc|bytes|packets|duration]\n"
            "                        [--filter EXPR] [--limit N] [--all-observations]\n"
            "                        [--format json|csv]\n"
            "\n"
            "Reads the flows a netscope-collector stored in DIR (read-only: safe while the\n"
            "collector runs) and writes them as `netscope flows` does, plus \"agent\".\n"
            "\n"
            "  --db DIR             the collector's storage.db directory\n"
            "  --from T, --to T     the records' last packet in [from, to): unix seconds,\n"
            "                       RFC 3339 (2026-12-05T10:00:00Z), or relative to now\n"
            "                       (-15m, -2h, -7d; `now`). Default: everything\n"
            "  --host ADDR          either end is ADDR (an IP address; names are not resolved)\n"
            "  --port N             either end's port\n"
            "  --proto P            tcp, udp, icmp, icmp6, or an IP protocol number\n"
            "  --agent ID           records of this agent only (every one it observed)\n"
            "  --service S          http, dns, ... (\"\" for flows with none recognised)\n"
            "  --uid UID            one flow's records (every agent's observation)\n"
            "  --filter EXPR        a tcpdump expression over the flows' addresses, ports and\n"
            "                       protocol (\"tcp and port 443 and net 10.0.0.0/8\"); names\n"
            "                       are refused, never resolved\n"
            "  --sort KEY           newest first by default\n"
            "  --limit N            at most N records (default: all)\n"
            "  --all-observations   every agent's record of a connection seen by several\n"
            "                       (default: the first observer's only)\n"
            "  --format F           json (default, JSON Lines) or csv\n"
            "  -h, --help           this text\n");
}

typedef struct {
    FILE *out;
    ns_flow_record_buf_t buf;
    int csv;
    uint64_t left; /* records still wanted (UINT64_MAX: all) */
    uint64_t written;
    bool failed;
} out_t;

static bool
write_one(void *ud, const ns_store_flow_t *f)
{
    out_t *o = ud;
    if (o->left == 0)
        return false;
    o->buf.len = 0;
    ns_flow_record_extra_t extra = {.agent = f->meta.agent};
    if (ns_flow_record_write(&o->buf, f->rec, o->csv ? NULL : &extra, o->csv, 1) != 0 ||
        fwrite(o->buf.buf, 1, o->buf.len, o->out) != o->buf.len) {
        o->failed = true;
        return false;
    }
    o->written++;
    o->left--;
    return true;
}

static bool
parse_proto(const char *s, int16_t *out)
{
    static const struct {
        const char *name;
        int16_t num;
    } names[] = {{"tcp", 6}, {"udp", 17}, {"icmp", 1}, {"icmp6", 58}, {"sctp", 132}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].num;
            return true;
        }
    uint64_t v;
    if (!ns_cli_parse_u64(s, 0, 255, &v))
        return false;
    *out = (int16_t)v;
    return true;
}

static bool
parse_sort(const char *s, ns_store_sort_t *out)
{
    static const struct {
        const char *name;
        ns_store_sort_t v;
    } names[] = {{"time", NS_STORE_SORT_TIME_DESC},  {"time-asc", NS_STORE_SORT_TIME_ASC},
                 {"bytes", NS_STORE_SORT_BYTES},     {"packets", NS_STORE_SORT_PACKETS},
                 {"duration", NS_STORE_SORT_DURATION}};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(s, names[i].name) == 0) {
            *out = names[i].v;
            return true;
        }
    return false;
}

static bool
match_bpf(void *ud, const ns_flow_rec_t *rec)
{
    return ns_bpf_flow_match_rec(ud, rec);
}

static uint64_t
now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

enum { O_DB = 256, O_FROM, O_TO, O_HOST, O_PORT, O_PROTO, O_AGENT, O_SERVICE, O_UID,
       O_SORT, O_LIMIT, O_ALL, O_FORMAT, O_FILTER };

int
ns_cmd_history(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, NULL, O_DB},
        {"from", required_argument, NULL, O_FROM},
        {"to", required_argument, NULL, O_TO},
        {"host", required_argument, NULL, O_HOST},
        {"port", required_argument, NULL, O_PORT},
        {"proto", required_argument, NULL, O_PROTO},
        {"agent", required_argument, NULL, O_AGENT},
        {"service", required_argument, NULL, O_SERVICE},
        {"uid", required_argument, NULL, O_UID},
        {"sort", required_argument, NULL, O_SORT},
        {"limit", required_argument, NULL, O_LIMIT},
        {"all-observations", no_argument, NULL, O_ALL},
        {"format", required_argument, NULL, O_FORMAT},
        {"filter", required_argument, NULL, O_FILTER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *db = NULL;
    const char *filter = NULL;
    ns_store_query_t q;
    memset(&q, 0, sizeof(q));
    q.port = -1;
    q.proto = -1;
    uint64_t limit = UINT64_MAX;
    int csv = 0;
    uint64_t now = now_ns();
    char err[512];
    int ch;
    opterr = 0;
    optind = 1;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        uint64_t v;
        switch (ch) {
        case O_DB:
            db = optarg;
            break;
        case O_FROM:
        case O_TO:
            if (!ns_time_parse(optarg, now, &v, err, sizeof(err))) {
                fprintf(stderr, "netscope history: --%s: %s\n", ch == O_FROM ? "from" : "to", err);
                return 2;
            }
            if (ch == O_FROM)
                q.from_ns = v;
            else
                q.to_ns = v;
            break;
        case O_HOST:
            if (!ns_addr_parse(optarg, &q.host, &q.host_ver)) {
                fprintf(stderr, "netscope history: --host %s is not an IP address (names are "
                                "not resolved)\n", optarg);
                return 2;
            }
            q.has_host = true;
            break;
        case O_PORT:
            if (!ns_cli_parse_u64(optarg, 0, 65535, &v)) {
                fprintf(stderr, "netscope history: --port %s is not a port (0-65535)\n", optarg);
                return 2;
            }
            q.port = (int32_t)v;
            break;
        case O_PROTO:
            if (!parse_proto(optarg, &q.proto)) {
                fprintf(stderr, "netscope history: --proto %s: use tcp, udp, icmp, icmp6 or a "
                                "number 0-255\n", optarg);
                return 2;
            }
            break;
        case O_AGENT:
            q.agent = optarg;
            q.all_observations = true; /* what that agent saw, first observer or not */
            break;
        case O_SERVICE:
            q.service = optarg;
            break;
        case O_UID:
            q.uid = optarg;
            q.all_observations = true;
            break;
        case O_SORT:
            if (!parse_sort(optarg, &q.sort)) {
                fprintf(stderr, "netscope history: --sort %s: use time, time-asc, bytes, "
                                "packets or duration\n", optarg);
                return 2;
            }
            break;
        case O_LIMIT:
            if (!ns_cli_parse_u64(optarg, 1, UINT64_MAX, &limit)) {
                fprintf(stderr, "netscope history: --limit %s is not a positive number\n",
                        optarg);
                return 2;
            }
            break;
        case O_ALL:
            q.all_observations = true;
            break;
        case O_FORMAT:
            if (strcmp(optarg, "json") == 0)
                csv = 0;
            else if (strcmp(optarg, "csv") == 0)
                csv = 1;
            else {
                fprintf(stderr, "netscope history: --format %s: use json or csv\n", optarg);
                return 2;
            }
            break;
        case O_FILTER:
            filter = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case ':':
            fprintf(stderr, "netscope history: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "netscope history: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "netscope history: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (db == NULL) {
        fprintf(stderr, "netscope history: --db DIR is required (the collector's storage.db)\n");
        return 2;
    }
    if (q.to_ns != 0 && q.from_ns >= q.to_ns) {
        fprintf(stderr, "netscope history: --from is not before --to\n");
        return 2;
    }

    ns_bpf_flow_t *bpf = NULL;
    if (filter != NULL) {
        bpf = ns_bpf_flow_new(filter, err, sizeof(err));
        if (bpf == NULL) {
            fprintf(stderr, "netscope history: --filter: %s\n", err);
            return 2;
        }
        q.match = match_bpf;
        q.match_ud = bpf;
    }

    ns_store_opts_t so;
    ns_store_opts_default(&so);
    so.dir = db;
    so.readonly = true;
    ns_store_t *st = ns_store_open(&so, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "netscope history: %s\n", err);
        ns_bpf_flow_destroy(&bpf);
        return 1;
    }
    ns_store_read_t *rd = ns_store_read_begin(st, err, sizeof(err));
    if (rd == NULL) {
        fprintf(stderr, "netscope history: %s\n", err);
        ns_store_close(&st);
        ns_bpf_flow_destroy(&bpf);
        return 1;
    }
    out_t o = {.out = stdout, .csv = csv, .left = limit};
    if (csv)
        ns_flow_record_csv_header(stdout);
    /* One read transaction for the whole run: pages are consistent with each other. */
    char cursor[NS_STORE_CURSOR_MAX] = "";
    int rc = 0;
    for (;;) {
        q.limit = o.left < PAGE ? (uint32_t)o.left : PAGE;
        q.cursor = cursor;
        ns_store_result_t res;
        if (ns_store_flows(rd, &q, write_one, &o, &res, err, sizeof(err)) != NS_OK) {
            fprintf(stderr, "netscope history: %s\n", err);
            rc = 1;
            break;
        }
        if (o.failed) {
            fprintf(stderr, "netscope history: writing the output failed: %s\n",
                    strerror(errno));
            rc = 1;
            break;
        }
        if (res.next_cursor[0] == '\0' || o.left == 0)
            break;
        memcpy(cursor, res.next_cursor, sizeof(cursor));
    }
    ns_store_read_end(&rd);
    ns_store_close(&st);
    ns_flow_record_buf_fini(&o.buf);
    ns_bpf_flow_destroy(&bpf);
    if (fflush(stdout) != 0 && rc == 0) {
        fprintf(stderr, "netscope history: writing the output failed: %s\n", strerror(errno));
        rc = 1;
    }
    return rc;
}
