/* cmd_print.c - `netscope print`: decode packets from a file or an interface and print them.
 *
 * Text mode prints one tcpdump -n style line per packet (pktfmt.c); --json prints one JSON
 * object per packet (JSON Lines) with Wireshark display-filter names. -w writes the captured
 * frames to a pcap file instead of printing them, as tcpdump does. A BPF filter comes from -f
 * or from the words after the options, as with tcpdump.
 */
#include <getopt.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cliutil.h"
#include "pktfmt.h"
#include "netscope/capture.h"
#include "netscope/decode.h"

#define PRINT_MAX_FIELDS NS_FIELDS_VIEW_MAX /* the WebAssembly inspector's too */
#define PRINT_ARENA NS_FIELDS_VIEW_ARENA

static ns_capture_t *volatile g_capture; /* for the signal handler only */

static void
on_signal(int sig)
{
    (void)sig;
    ns_capture_t *cap = g_capture;
    if (cap)
        ns_capture_break(cap);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope print [-r FILE | -i IFACE] [options] [BPF filter words]\n"
            "\n"
            "Decode packets and print one line each (like tcpdump -n), or JSON.\n"
            "\n"
            "  -r FILE          read a pcap or pcapng file ('-' for standard input)\n"
            "  -i IFACE         capture live on IFACE (needs root or CAP_NET_RAW)\n"
            "  -f FILTER        BPF filter expression (or give it after the options)\n"
            "  -c COUNT         stop after COUNT packets\n"
            "  -s SNAPLEN       live: bytes captured per packet (default 262144)\n"
            "  -w OUT.pcap      write the captured packets to OUT.pcap instead of printing\n"
            "      --json       one JSON object per packet (JSON Lines), Wireshark field names\n"
            "      --stats      print per-layer decode outcome counters to stderr at the end\n"
            "      --vxlan-port PORT   decode VXLAN on UDP PORT instead of 4789\n"
            "      --geneve-port PORT  decode Geneve on UDP PORT instead of 6081\n"
            "  -h, --help       this text\n"
            "  -V, --version    print the version\n"
            "\n"
            "Times are UTC. Exit status: 0 ok, 1 runtime error, 2 usage error.\n");
}

typedef struct {
    const char *file;
    const char *iface;
    const char *write;
    char *filter;
    uint64_t count;
    int snaplen;
    bool json;
    bool stats;
    ns_decode_cfg_t decode;
} print_opts_t;

enum { OPT_VXLAN_PORT = 256, OPT_GENEVE_PORT };

static int
parse_opts(int argc, char **argv, print_opts_t *o)
{
    static const struct option longopts[] = {
        {"json", no_argument, NULL, 'j'},   {"stats", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},   {"version", no_argument, NULL, 'V'},
        {"read", required_argument, NULL, 'r'}, {"interface", required_argument, NULL, 'i'},
        {"filter", required_argument, NULL, 'f'}, {"count", required_argument, NULL, 'c'},
        {"snaplen", required_argument, NULL, 's'}, {"write", required_argument, NULL, 'w'},
        {"vxlan-port", required_argument, NULL, OPT_VXLAN_PORT},
        {"geneve-port", required_argument, NULL, OPT_GENEVE_PORT},
        {NULL, 0, NULL, 0}};
    const char *filter = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "r:i:f:c:s:w:hV", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': o->file = optarg; break;
        case 'i': o->iface = optarg; break;
        case 'f': filter = optarg; break;
        case 'w': o->write = optarg; break;
        case 'j': o->json = true; break;
        case 'S': o->stats = true; break;
        case OPT_VXLAN_PORT:
            if (!ns_cli_parse_port("print", "--vxlan-port", optarg, &o->decode.vxlan_port))
                return 2;
            break;
        case OPT_GENEVE_PORT:
            if (!ns_cli_parse_port("print", "--geneve-port", optarg, &o->decode.geneve_port))
                return 2;
            break;
        case 'c':
            if (!ns_cli_parse_u64(optarg, 1, UINT64_MAX, &o->count)) {
                fprintf(stderr, "netscope print: -c wants a positive count, not '%s'\n", optarg);
                return 2;
            }
            break;
        case 's': {
            uint64_t v;
            if (!ns_cli_parse_u64(optarg, 1, 262144, &v)) {
                fprintf(stderr, "netscope print: -s wants 1..262144, not '%s'\n", optarg);
                return 2;
            }
            o->snaplen = (int)v;
            break;
        }
        case 'h': usage(stdout); return 0;
        case 'V': printf("netscope %s\n", NS_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o->file && o->iface) {
        fprintf(stderr, "netscope print: give -r FILE or -i IFACE, not both\n");
        return 2;
    }
    if (filter && optind < argc) {
        fprintf(stderr, "netscope print: give the filter with -f or after the options, not both\n");
        return 2;
    }
    o->filter = filter ? strdup(filter) : ns_cli_join(argc - optind, argv + optind);
    return -1; /* go on */
}

/* Live capture on the default interface when neither -r nor -i was given, like tcpdump. */
static const char *
default_iface(void)
{
    char err[256];
    const char *name = ns_capture_default_iface(err, sizeof(err));
    if (name == NULL)
        fprintf(stderr, "netscope print: %s\n", err);
    return name;
}

static void
print_stats(const ns_decode_stats_t *st)
{
    fprintf(stderr, "decode outcomes (%llu frames):\n", (unsigned long long)st->frames);
    for (int l = 0; l < NS_LAYER_COUNT; l++) {
        uint64_t total = 0;
        for (int r = 0; r < NS_PARSE_RC_COUNT; r++)
            total += st->rc[l][r];
        if (total == 0)
            continue;
        fprintf(stderr, "  %-7s", ns_layer_name((ns_layer_t)l));
        for (int r = 0; r < NS_PARSE_RC_COUNT; r++)
            fprintf(stderr, " %s %llu", ns_parse_rc_name((ns_parse_rc_t)r),
                    (unsigned long long)st->rc[l][r]);
        fputc('\n', stderr);
    }
}

int
ns_cmd_print(int argc, char **argv)
{
    print_opts_t o = {.decode = NS_DECODE_CFG_DEFAULT};
    int rc = parse_opts(argc, argv, &o);
    if (rc >= 0) {
        free(o.filter);
        return rc;
    }
    if (o.file == NULL && o.iface == NULL && (o.iface = default_iface()) == NULL) {
        free(o.filter);
        return 1;
    }

    char err[512];
    ns_capture_opts_t copts = {.file = o.file, .iface = o.iface, .filter = o.filter,
                               .snaplen = o.snaplen, .promisc = true, .timeout_ms = 100};
    ns_capture_t *cap = ns_capture_open(&copts, err, sizeof(err));
    free(o.filter);
    if (cap == NULL) {
        fprintf(stderr, "netscope print: %s\n", err);
        return 1;
    }
    uint32_t linktype = ns_capture_linktype(cap);
    if (!ns_decode_linktype_supported(linktype) && o.write == NULL)
        fprintf(stderr, "netscope print: link type %u is not decoded; frames are listed only\n",
                linktype);
    ns_dumper_t *dump = NULL;
    if (o.write && (dump = ns_dumper_open(cap, o.write, err, sizeof(err))) == NULL) {
        fprintf(stderr, "netscope print: %s\n", err);
        ns_capture_destroy(&cap);
        return 1;
    }
    if (o.iface)
        fprintf(stderr, "netscope print: listening on %s, link type %u, snapshot length %d\n",
                o.iface, linktype, ns_capture_snaplen(cap));

    g_capture = cap;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    static char outbuf[1 << 20];
    setvbuf(stdout, outbuf, _IOFBF, sizeof(outbuf));

    ns_field_t *fv = o.json ? calloc(PRINT_MAX_FIELDS, sizeof(*fv)) : NULL;
    char *arena = o.json ? malloc(PRINT_ARENA) : NULL;
    ns_fields_t fields;
    ns_fields_init(&fields, fv, fv ? PRINT_MAX_FIELDS : 0, arena, arena ? PRINT_ARENA : 0);
    ns_decode_stats_t stats;
    memset(&stats, 0, sizeof(stats));
    ns_pkt_t *pkt = calloc(1, sizeof(*pkt));
    char line[NS_PKTFMT_LINE_MAX + 1];
    uint64_t n = 0;
    int status = 0;
    if (pkt == NULL || (o.json && (fv == NULL || arena == NULL))) {
        fprintf(stderr, "netscope print: out of memory\n");
        status = 1;
        goto out;
    }

    for (;;) {
        if (o.count && n >= o.count)
            break;
        ns_frame_t fr;
        int got = ns_capture_next(cap, &fr);
        if (got == NS_CAPTURE_AGAIN) {
            fflush(stdout);
            continue;
        }
        if (got == NS_CAPTURE_END)
            break;
        if (got == NS_CAPTURE_ERROR) {
            fprintf(stderr, "netscope print: %s\n", ns_capture_error(cap));
            status = 1;
            break;
        }
        n++;
        if (dump) {
            ns_dumper_write(dump, &fr);
            continue;
        }
        pkt->ts_ns = fr.ts_ns;
        ns_decode_frame_cfg(&o.decode, fr.linktype, fr.data, fr.cap_len, fr.wire_len, pkt,
                            o.json ? &fields : NULL, &stats);
        if (o.json) {
            json_t *j = ns_pktfmt_json(pkt, &fields, n);
            if (j == NULL || json_dumpf(j, stdout, JSON_COMPACT) != 0) {
                json_decref(j);
                status = 1;
                break;
            }
            json_decref(j);
            fputc('\n', stdout);
        } else {
            size_t len = ns_pktfmt_text(pkt, fr.data, line);
            line[len++] = '\n';
            fwrite(line, 1, len, stdout);
        }
        if (ferror(stdout))
            break; /* reader went away (e.g. | head): stop quietly */
        if (o.iface && n % 64 == 0)
            fflush(stdout);
    }
    fflush(stdout);
    if (ns_capture_warning(cap))
        fprintf(stderr, "netscope print: warning: %s ends early (%s); %llu packets read\n",
                o.file, ns_capture_warning(cap), (unsigned long long)n);
    if (o.iface || dump) {
        uint64_t recv = 0, drop = 0;
        fprintf(stderr, "%llu packets %s", (unsigned long long)n,
                dump ? "written" : "captured");
        if (ns_capture_stats(cap, &recv, &drop))
            fprintf(stderr, ", %llu received by filter, %llu dropped by kernel",
                    (unsigned long long)recv, (unsigned long long)drop);
        fputc('\n', stderr);
    }
    if (o.stats)
        print_stats(&stats);
out:
    g_capture = NULL;
    ns_dumper_destroy(&dump);
    ns_capture_destroy(&cap);
    free(pkt);
    free(fv);
    free(arena);
    return status;
}
