/* main.c - netscope-collector: options -> ns_collector (collector.h); signals. */
#include <getopt.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netscope/api.h"
#include "netscope/collector.h"
#include "netscope/list_agents.h"
#include "netscope/log.h"
#include "netscope/ws.h"

static ns_collector_t *volatile g_collector;
static bool g_list_agents; /* --list-agents: print what the collector knows, run nothing */

static void
on_signal(int sig)
{
    ns_collector_t *c = g_collector;
    if (c == NULL)
        return;
    if (sig == SIGHUP)
        ns_collector_reload(c);
    else if (sig == SIGUSR1)
        ns_collector_dump_request(c);
    else
        ns_collector_stop(c);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope-collector [--config FILE] [--listen ENDPOINT]\n"
            "                          [--key NAME.key_secret] [--allowed-keys DIR]\n"
            "                          [--insecure] [--flows-out FILE] [--state-out FILE]\n"
            "                          [--db DIR]\n"
            "                          [--http ADDR:PORT] [--no-auth] [--ws ADDR:PORT|off]\n"
            "                          [--ui-dir DIR]\n"
            "                          [--set SECTION.KEY=VALUE]...\n"
            "       netscope-collector --list-agents [--config FILE] [options as above]\n"
            "\n"
            "Receives flow updates from netscope-agents over ZeroMQ (CurveZMQ), merges them\n"
            "into one live view, writes final flow records as JSON Lines, and writes its\n"
            "state (agents, live flows, counters) as JSON on SIGUSR1 and at exit.\n"
            "\n"
            "  -c, --config FILE     TOML configuration (default %s when it exists)\n"
            "  -l, --listen EP       endpoint to listen on (default tcp://*:5556)\n"
            "      --key F           the collector's secret key (netscope keygen NAME)\n"
            "      --allowed-keys D  directory of allowed agents' public keys (*.key);\n"
            "                        remove one and send SIGHUP to cut that agent off\n"
            "      --insecure        plain text, every agent accepted (a warning is logged)\n"
            "  -o, --flows-out FILE  final flow records, JSON Lines (netscope flows fields\n"
            "                        plus \"agent\")\n"
            "      --state-out FILE  where the state goes (default: standard output)\n"
            "      --db DIR          keep history (flows, time series, agents) in an LMDB\n"
            "                        database in DIR (created when missing)\n"
            "      --http ADDR:PORT  serve the API and /metrics here (default\n"
            "                        127.0.0.1:8080; \"\" = off); any address but loopback\n"
            "                        needs http.token or --no-auth\n"
            "      --no-auth         serve a non-loopback HTTP address without a token\n"
            "      --ws ADDR:PORT    serve the live stream (WebSocket) here (default\n"
            "                        127.0.0.1:8081; off = none); off loopback it needs\n"
            "                        http.token\n"
            "      --ui-dir DIR      serve the dashboard's files from DIR at / (default\n"
            "                        %s when it exists)\n"
            "      --set KEY=VALUE   any configuration key below\n"
            "      --list-agents     print the enrolled agent keys (allowed-keys) and ask the\n"
            "                        running collector's API which agents it knows and\n"
            "                        which are connected; then exit\n"
            "  -h, --help            this text\n"
            "  -V, --version         print the version\n"
            "\n"
            "Signals: SIGTERM/SIGINT stop (records written and acknowledged first), SIGHUP\n"
            "re-reads the allowed keys and the [detect] keys of the configuration file,\n"
            "SIGUSR1 writes the state.\n"
            "\n"
            "Configuration keys (TOML sections and keys; --set KEY=VALUE):\n",
            NS_COLLECTOR_CONFIG_DEFAULT, NS_UI_DIR);
    ns_config_print_keys(ns_collector_opts, ns_collector_nopts, out);
}

enum {
    OPT_KEY = 256,
    OPT_ALLOWED,
    OPT_INSECURE,
    OPT_STATE,
    OPT_SET,
    OPT_DB,
    OPT_HTTP,
    OPT_NO_AUTH,
    OPT_WS,
    OPT_UI_DIR,
    OPT_LIST_AGENTS
};

static int
configure(int argc, char **argv, ns_collector_config_t *c)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"key", required_argument, NULL, OPT_KEY},
        {"allowed-keys", required_argument, NULL, OPT_ALLOWED},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"flows-out", required_argument, NULL, 'o'},
        {"state-out", required_argument, NULL, OPT_STATE},
        {"db", required_argument, NULL, OPT_DB},
        {"set", required_argument, NULL, OPT_SET},
        {"http", required_argument, NULL, OPT_HTTP},
        {"no-auth", no_argument, NULL, OPT_NO_AUTH},
        {"ws", required_argument, NULL, OPT_WS},
        {"ui-dir", required_argument, NULL, OPT_UI_DIR},
        {"list-agents", no_argument, NULL, OPT_LIST_AGENTS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const char *shortopts = ":c:l:o:hV";
    char err[1024];
    const char *config = NULL;
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (ch == 'c') {
            config = optarg;
        } else if (ch == 'h') {
            usage(stdout);
            return 0;
        } else if (ch == 'V') {
            printf("netscope-collector %s\n", NS_VERSION);
            return 0;
        } else if (ch == ':') {
            fprintf(stderr, "netscope-collector: option '%s' needs a value\n", argv[optind - 1]);
            return 2;
        } else if (ch == '?') {
            fprintf(stderr, "netscope-collector: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "netscope-collector: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (config == NULL && access(NS_COLLECTOR_CONFIG_DEFAULT, F_OK) == 0)
        config = NS_COLLECTOR_CONFIG_DEFAULT;
    c->config_file = config; /* SIGHUP re-reads its [detect] keys */
    if (config &&
        !ns_config_load(ns_collector_opts, ns_collector_nopts, c, config, err, sizeof(err))) {
        fprintf(stderr, "netscope-collector: %s\n", err);
        return 2;
    }
    optind = 1;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *key = NULL;
        switch (ch) {
        case 'l':
            key = "collector.listen";
            break;
        case OPT_KEY:
            key = "collector.key";
            break;
        case OPT_ALLOWED:
            key = "collector.allowed_keys";
            break;
        case 'o':
            key = "output.flows";
            break;
        case OPT_STATE:
            key = "output.state";
            break;
        case OPT_DB:
            key = "storage.db";
            break;
        case OPT_HTTP:
            key = "http.listen";
            break;
        case OPT_WS:
            key = "api.ws_listen";
            break;
        case OPT_UI_DIR:
            key = "api.ui_dir";
            break;
        case OPT_INSECURE:
            c->insecure = true;
            continue;
        case OPT_NO_AUTH:
            c->http_no_auth = true;
            continue;
        case OPT_LIST_AGENTS:
            g_list_agents = true;
            continue;
        case OPT_SET:
            if (!ns_config_set_arg(ns_collector_opts, ns_collector_nopts, c, optarg, err,
                                   sizeof(err))) {
                fprintf(stderr, "netscope-collector: --set %s\n", err);
                return 2;
            }
            continue;
        default:
            continue;
        }
        if (!ns_config_set_string(ns_collector_opts, ns_collector_nopts, c, key, optarg)) {
            fprintf(stderr, "netscope-collector: out of memory\n");
            return 1;
        }
    }
    if (!ns_collector_config_check(c, err, sizeof(err))) {
        fprintf(stderr, "netscope-collector: %s\n", err);
        return 2;
    }
    return -1;
}

/* libzmq allocates each message it receives, and CURVE one more buffer for its plain text.
 * Batches are 100 KB and more, so with glibc's default trim threshold (128 KB) the top of the
 * heap freed after one message goes back to the kernel, and the next message faults it in
 * again page by page: a quarter of the collector's CPU time went to the kernel under load
 * (bench/results.md, section (f)). Keep a few of the largest messages' worth of free heap,
 * and take messages of every accepted size from the heap, not from mmap. */
static void
tune_malloc(uint64_t max_msg_kb)
{
    const size_t mmap_max = 32u << 20; /* the most M_MMAP_THRESHOLD takes on 64-bit glibc */
    size_t msg = (size_t)max_msg_kb * 1024u;
    size_t mmap_at = 2 * msg + (64u << 10) < mmap_max ? 2 * msg + (64u << 10) : mmap_max;
    size_t keep = 4 * msg > mmap_max ? 4 * msg : mmap_max;
    (void)mallopt(M_MMAP_THRESHOLD, (int)mmap_at);
    (void)mallopt(M_TRIM_THRESHOLD, keep > INT32_MAX ? INT32_MAX : (int)keep);
}

int
main(int argc, char **argv)
{
    ns_collector_config_t cfg;
    if (!ns_collector_config_defaults(&cfg)) {
        fprintf(stderr, "netscope-collector: out of memory\n");
        return 1;
    }
    int rc = configure(argc, argv, &cfg);
    if (rc >= 0) {
        ns_collector_config_free(&cfg);
        return rc;
    }
    if (g_list_agents) {
        rc = ns_list_agents(&cfg, stdout, stderr);
        ns_collector_config_free(&cfg);
        return rc;
    }
    ns_log_level_t lvl = NS_LOG_INFO;
    (void)ns_log_level_parse(cfg.log_level, &lvl);
    ns_log_init("netscope-collector", lvl);

    tune_malloc(cfg.max_msg_kb);
    char err[1024];
    ns_collector_t *c = ns_collector_new(&cfg, err, sizeof(err));
    if (c == NULL) {
        fprintf(stderr, "netscope-collector: %s\n", err);
        ns_collector_config_free(&cfg);
        return 1;
    }
    g_collector = c;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGUSR1, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The API reads the collector's live state (under its lock) and the history (the store,
     * NULL without --db) from its own threads. A port in use is not fatal: ingest matters
     * more than the API, and the error says what to change. */
    ns_api_t *api = NULL;
    ns_httpd_opts_t ho;
    if (ns_collector_config_http(&cfg, &ho)) {
        api = ns_api_start(&ho, c, ns_collector_store(c), err, sizeof(err));
        if (api == NULL)
            ns_log_error("HTTP API not started: %s", err);
    }
    /* The stream writes flows and alerts with the API's writers: without an HTTP server it
     * still gets an API object to read through. */
    ns_api_t *stream_api = api ? NULL : ns_api_new(c, ns_collector_store(c));
    ns_ws_t *ws = NULL;
    ns_ws_opts_t wo;
    if (ns_collector_config_ws(&cfg, &wo) && (api || stream_api)) {
        ws = ns_ws_start(&wo, c, api ? api : stream_api, err, sizeof(err));
        if (ws == NULL)
            ns_log_error("live stream not started: %s", err);
    }
    if (api) {
        ns_api_set_stream(api, ws);
        (void)ns_api_set_ui(api, cfg.ui_dir);
    }

    rc = ns_collector_run(c);
    ns_ws_stop(&ws);
    ns_api_stop(&stream_api);
    ns_api_stop(&api);
    if (!ns_collector_dump(c))
        rc = 1;
    g_collector = NULL;
    ns_collector_destroy(&c);
    ns_collector_config_free(&cfg);
    ns_log_info("stopped");
    return rc;
}
