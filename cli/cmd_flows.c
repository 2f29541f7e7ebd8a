/* cmd_flows.c - `netscope flows`: packets from a file or an interface in, flow records out.
 *
 * Wiring only: options -> capture -> pipeline (decode, flow engine) -> JSON Lines or CSV. Records are
 * written as flows end; what is left is written at the end of the input, or when SIGINT or
 * SIGTERM stops a live capture. A summary of counters goes to stderr at the end.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "cli.h"
#include "cliutil.h"
#include "flow_record.h"
#include "netscope/capture.h"
#include "netscope/decode.h"
#include "netscope/pipeline.h"

#define NS_PER_S 1000000000ull
#define MAX_TIMEOUT_S (86400ull * 365)

typedef struct {
    FILE *out;
    int csv;
    uint64_t written;
    int write_error;
    ns_flow_record_buf_t buf; /* records waiting to be written, flushed in large chunks */
} flows_out_t;

#define OUT_CHUNK (256u * 1024u)

static ns_capture_t *volatile g_capture;

static void
on_signal(int sig)
{
    (void)sig;
    if (g_capture)
        ns_capture_break(g_capture);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope flows (-r FILE | -i IFACE) [options]\n"
            "\n"
            "Turns packets into bidirectional flow records (Zeek conn.log field names plus\n"
            "NetScope's TCP analysis), one per flow, written when the flow ends.\n"
            "\n"
            "  -r FILE              read a pcap/pcapng file ('-' for stdin)\n"
            "  -i IFACE             capture live on IFACE (Ctrl-C writes the open flows)\n"
            "  -f BPF               only packets matching this capture filter\n"
            "  -o FILE              write records to FILE (default: standard output)\n"
            "  --format json|csv    JSON Lines (default) or CSV with a header line\n"
            "  --idle-timeout SEC   end a flow after SEC seconds without packets (default 60)\n"
            "  --tcp-idle SEC, --udp-idle SEC, --icmp-idle SEC, --other-idle SEC\n"
            "                       the idle timeout of one protocol\n"
            "  --linger SEC         keep a closed TCP flow SEC seconds for late packets (5)\n"
            "  --active-timeout SEC write an interim record of long flows every SEC seconds\n"
            "                       (default 1800; 0 = never)\n"
            "  --max-flows N        flow table capacity; the least recently seen flow is\n"
            "                       evicted when full (default 1048576)\n"
            "  --seed N             fixed hash/uid seed (default: random per run)\n"
            "  --no-app             skip HTTP/DNS transaction analysis\n"
            "  --vxlan-port PORT    decode VXLAN on UDP PORT instead of 4789\n"
            "  --geneve-port PORT   decode Geneve on UDP PORT instead of 6081\n"
            "  -h, --help           this text\n"
            "\n"
            "Every field is described in README.md (netscope flows).\n");
}

static void
out_flush(flows_out_t *o)
{
    if (o->buf.len > 0 && fwrite(o->buf.buf, 1, o->buf.len, o->out) != o->buf.len)
        o->write_error = 1;
    o->buf.len = 0;
}

static void
emit(void *ud, const ns_flow_engine_t *eng, uint32_t idx, const ns_flow_rec_t *rec)
{
    (void)eng;
    (void)idx;
    flows_out_t *o = ud;
    if (ns_flow_record_write(&o->buf, rec, NULL, o->csv, !o->csv) != 0)
        o->write_error = 1;
    o->written++;
    if (o->buf.len >= OUT_CHUNK)
        out_flush(o);
}

static bool
parse_secs(const char *opt, const char *arg, bool allow_zero, uint64_t *ns)
{
    uint64_t v;
    if (!ns_cli_parse_u64(arg, allow_zero ? 0 : 1, MAX_TIMEOUT_S, &v)) {
        fprintf(stderr, "netscope flows: %s: '%s' is not a number of seconds (%s..%llu)\n",
                opt, arg, allow_zero ? "0" : "1", (unsigned long long)MAX_TIMEOUT_S);
        return false;
    }
    *ns = v * NS_PER_S;
    return true;
}

/* Throughput of the whole input (one interface or file: its totals are the global ones):
 * averaged over the capture time, and over the 1-second window ending at the last packet. */
static void
throughput(const ns_flow_engine_t *eng, const char *source, uint64_t first_ns, uint64_t last_ns)
{
    const ns_flow_engine_stats_t *st = ns_flow_engine_stats(eng);
    if (st->packets == 0)
        return;
    double secs = last_ns > first_ns ? (double)(last_ns - first_ns) / 1e9 : 0.0;
    double bps = 0, pps = 0;
    ns_flow_engine_rate(eng, last_ns, &bps, &pps);
    fprintf(stderr, "netscope flows: throughput of %s: ", source);
    if (secs > 0)
        fprintf(stderr, "average %.6f Mbit/s, %.1f packets/s over %.3f s; ",
                (double)st->wire_bytes * 8.0 / secs / 1e6, (double)st->packets / secs, secs);
    fprintf(stderr, "last second %.6f Mbit/s, %.1f packets/s\n", bps / 1e6, pps);
}

static void
summary(const ns_flow_engine_t *eng, const ns_decode_stats_t *ds, const ns_app_pool_t *app,
        uint64_t kernel_drops, bool live)
{
    const ns_flow_engine_stats_t *st = ns_flow_engine_stats(eng);
    fprintf(stderr,
            "netscope flows: %llu packets (%llu bytes), %llu in flows, %llu not IP; "
            "%llu flows",
            (unsigned long long)st->packets, (unsigned long long)st->wire_bytes,
            (unsigned long long)st->in_flows, (unsigned long long)st->non_ip,
            (unsigned long long)st->flows);
    fprintf(stderr, "; records:");
    for (unsigned r = NS_FLOW_END_FIN; r < NS_FLOW_END_COUNT; r++)
        if (r != NS_FLOW_END_SHUTDOWN || st->records[r] > 0) /* only the agent stops so */
            fprintf(stderr, " %s=%llu", ns_flow_end_name((ns_flow_end_t)r),
                    (unsigned long long)st->records[r]);
    fprintf(stderr,
            "; evicted %llu; fragments attributed %llu, unattributed %llu; "
            "snaplen-truncated %llu\n",
            (unsigned long long)st->records[NS_FLOW_END_EVICTED],
            (unsigned long long)st->frag_attributed, (unsigned long long)st->frag_unattributed,
            (unsigned long long)st->truncated);
    if (st->clock_suspect > 0)
        fprintf(stderr,
                "netscope flows: %llu packets far from the capture's clock (accounted at its "
                "time), %llu clock jumps confirmed\n",
                (unsigned long long)st->clock_suspect, (unsigned long long)st->clock_jumps);
    if (live)
        fprintf(stderr, "netscope flows: kernel drops %llu\n", (unsigned long long)kernel_drops);
    fprintf(stderr, "netscope flows: decode:");
    for (unsigned l = 0; l < NS_LAYER_COUNT; l++) {
        uint64_t sum = 0;
        for (unsigned rc = 0; rc < NS_PARSE_RC_COUNT; rc++)
            sum += ds->rc[l][rc];
        if (sum == 0)
            continue;
        fprintf(stderr, " %s[", ns_layer_name((ns_layer_t)l));
        const char *sep = "";
        for (unsigned rc = 0; rc < NS_PARSE_RC_COUNT; rc++) {
            if (ds->rc[l][rc] == 0)
                continue;
            fprintf(stderr, "%s%s=%llu", sep, ns_parse_rc_name((ns_parse_rc_t)rc),
                    (unsigned long long)ds->rc[l][rc]);
            sep = " ";
        }
        fprintf(stderr, "]");
    }
    fputc('\n', stderr);
    if (app) {
        ns_app_stats_t as;
        ns_app_pool_stats(app, &as);
        fprintf(stderr,
                "netscope flows: app: slots peak %u of %u, refused %llu, parse errors %llu\n",
                as.slots_peak, as.slots_total, (unsigned long long)as.flows_refused,
                (unsigned long long)as.parse_errors);
    }
}

enum {
    OPT_FORMAT = 256,
    OPT_IDLE,
    OPT_TCP_IDLE,
    OPT_UDP_IDLE,
    OPT_ICMP_IDLE,
    OPT_OTHER_IDLE,
    OPT_LINGER,
    OPT_ACTIVE,
    OPT_MAX_FLOWS,
    OPT_SEED,
    OPT_NO_APP,
    OPT_VXLAN_PORT,
    OPT_GENEVE_PORT,
};

int
ns_cmd_flows(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"format", required_argument, NULL, OPT_FORMAT},
        {"idle-timeout", required_argument, NULL, OPT_IDLE},
        {"tcp-idle", required_argument, NULL, OPT_TCP_IDLE},
        {"udp-idle", required_argument, NULL, OPT_UDP_IDLE},
        {"icmp-idle", required_argument, NULL, OPT_ICMP_IDLE},
        {"other-idle", required_argument, NULL, OPT_OTHER_IDLE},
        {"linger", required_argument, NULL, OPT_LINGER},
        {"active-timeout", required_argument, NULL, OPT_ACTIVE},
        {"max-flows", required_argument, NULL, OPT_MAX_FLOWS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"no-app", no_argument, NULL, OPT_NO_APP},
        {"vxlan-port", required_argument, NULL, OPT_VXLAN_PORT},
        {"geneve-port", required_argument, NULL, OPT_GENEVE_PORT},
        {NULL, 0, NULL, 0},
    };
    ns_flow_engine_opts_t eo;
    ns_flow_engine_opts_default(&eo);
    ns_capture_opts_t co = {.promisc = true, .timeout_ms = 100};
    ns_decode_cfg_t dcfg = NS_DECODE_CFG_DEFAULT;
    const char *out_path = NULL;
    bool have_seed = false;
    flows_out_t o = {.out = stdout};
    uint64_t v;
    int rc = 1;
    ns_capture_t *cap = NULL;
    ns_pipeline_t *pipe = NULL;

    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":r:i:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            co.file = optarg;
            break;
        case 'i':
            co.iface = optarg;
            break;
        case 'f':
            co.filter = optarg;
            break;
        case 'o':
            out_path = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case OPT_FORMAT:
            if (strcmp(optarg, "json") == 0) {
                o.csv = 0;
            } else if (strcmp(optarg, "csv") == 0) {
                o.csv = 1;
            } else {
                fprintf(stderr, "netscope flows: --format: '%s' is not json or csv\n", optarg);
                return 2;
            }
            break;
        case OPT_IDLE:
            if (!parse_secs("--idle-timeout", optarg, false, &v))
                return 2;
            ns_flow_expire_set_idle(&eo.expire, v);
            break;
        case OPT_TCP_IDLE:
        case OPT_UDP_IDLE:
        case OPT_ICMP_IDLE:
        case OPT_OTHER_IDLE: {
            static const ns_flowq_t q[] = {NS_FLOWQ_TCP, NS_FLOWQ_UDP, NS_FLOWQ_ICMP,
                                           NS_FLOWQ_OTHER};
            if (!parse_secs(argv[optind - 2], optarg, false, &v))
                return 2;
            eo.expire.idle_ns[q[c - OPT_TCP_IDLE]] = v;
            break;
        }
        case OPT_LINGER:
            if (!parse_secs("--linger", optarg, true, &v))
                return 2;
            eo.expire.idle_ns[NS_FLOWQ_TCP_CLOSED] = v;
            break;
        case OPT_ACTIVE:
            if (!parse_secs("--active-timeout", optarg, true, &v))
                return 2;
            eo.expire.active_ns = v;
            break;
        case OPT_MAX_FLOWS:
            if (!ns_cli_parse_u64(optarg, 1, NS_FLOW_TABLE_MAX_CAPACITY, &v)) {
                fprintf(stderr, "netscope flows: --max-flows: '%s' is not a number in 1..%u\n",
                        optarg, NS_FLOW_TABLE_MAX_CAPACITY);
                return 2;
            }
            eo.max_flows = (uint32_t)v;
            break;
        case OPT_SEED:
            if (!ns_cli_parse_u64(optarg, 0, UINT64_MAX, &v)) {
                fprintf(stderr, "netscope flows: --seed: '%s' is not a number\n", optarg);
                return 2;
            }
            eo.seed = v;
            have_seed = true;
            break;
        case OPT_NO_APP:
            eo.app = false;
            break;
        case OPT_VXLAN_PORT:
            if (!ns_cli_parse_port("flows", "--vxlan-port", optarg, &dcfg.vxlan_port))
                return 2;
            break;
        case OPT_GENEVE_PORT:
            if (!ns_cli_parse_port("flows", "--geneve-port", optarg, &dcfg.geneve_port))
                return 2;
            break;
        case ':':
            fprintf(stderr, "netscope flows: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        default:
            fprintf(stderr, "netscope flows: unknown option '%s' (see netscope flows --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "netscope flows: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if ((co.file == NULL) == (co.iface == NULL)) {
        fprintf(stderr, "netscope flows: give exactly one of -r FILE or -i IFACE\n");
        usage(stderr);
        return 2;
    }
    if (!have_seed && getrandom(&eo.seed, sizeof(eo.seed), 0) != (ssize_t)sizeof(eo.seed)) {
        fprintf(stderr, "netscope flows: no random seed: %s\n", strerror(errno));
        return 1;
    }

    char errbuf[512];
    cap = ns_capture_open(&co, errbuf, sizeof(errbuf));
    if (cap == NULL) {
        fprintf(stderr, "netscope flows: %s\n", errbuf);
        goto out;
    }
    uint32_t linktype = ns_capture_linktype(cap);
    if (!ns_decode_linktype_supported(linktype)) {
        fprintf(stderr, "netscope flows: link type %u is not supported\n", linktype);
        goto out;
    }
    if (out_path) {
        o.out = fopen(out_path, "w");
        if (o.out == NULL) {
            fprintf(stderr, "netscope flows: cannot write %s: %s\n", out_path, strerror(errno));
            goto out;
        }
    }
    pipe = ns_pipeline_new(&eo, emit, &o);
    if (pipe == NULL) {
        fprintf(stderr, "netscope flows: not enough memory for %u flows\n", eo.max_flows);
        goto out;
    }
    ns_pipeline_set_decode_cfg(pipe, &dcfg);
    if (o.csv)
        ns_flow_record_csv_header(o.out);

    g_capture = cap;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);

    ns_frame_t fr;
    int r;
    while ((r = ns_capture_next(cap, &fr)) != NS_CAPTURE_END) {
        if (r == NS_CAPTURE_ERROR) {
            fprintf(stderr, "netscope flows: %s\n", ns_capture_error(cap));
            break;
        }
        if (r == NS_CAPTURE_AGAIN) {
            /* A quiet live link: let idle flows end by the wall clock. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ns_pipeline_tick(pipe, (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec);
            out_flush(&o);
            continue;
        }
        ns_pipeline_frame(pipe, 0, fr.linktype, fr.data, fr.cap_len, fr.wire_len, fr.ts_ns);
    }
    ns_pipeline_finish(pipe, NS_FLOW_END_END_OF_INPUT, 0);
    out_flush(&o);
    g_capture = NULL;

    uint64_t recv = 0, drop = 0;
    bool live = ns_capture_stats(cap, &recv, &drop);
    const ns_flow_engine_t *eng = ns_pipeline_engine(pipe);
    const ns_pipeline_stats_t *ps = ns_pipeline_stats(pipe);
    summary(eng, ns_pipeline_decode_stats(pipe), ns_flow_engine_app(eng), drop, live);
    throughput(eng, co.iface ? co.iface : co.file, ps->first_ns, ps->last_ns);
    if (ns_capture_warning(cap))
        fprintf(stderr, "netscope flows: warning: the capture ends early (%s)\n",
                ns_capture_warning(cap));
    if (fflush(o.out) != 0 || ferror(o.out) || o.write_error) {
        fprintf(stderr, "netscope flows: writing the records failed\n");
        goto out;
    }
    rc = r == NS_CAPTURE_ERROR ? 1 : 0;
out:
    g_capture = NULL;
    ns_pipeline_destroy(&pipe);
    ns_capture_destroy(&cap);
    ns_flow_record_buf_fini(&o.buf);
    if (o.out && o.out != stdout)
        fclose(o.out);
    return rc;
}
