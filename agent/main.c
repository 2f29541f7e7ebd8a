/* main.c - netscope-agent: options -> ns_agent (agent.h); signals; privileges. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netscope/agent.h"
#include "netscope/log.h"
#include "netscope/privs.h"

static ns_agent_t *volatile g_agent;

static void
on_stop(int sig)
{
    (void)sig;
    if (g_agent)
        ns_agent_stop(g_agent);
}

static void
on_hup(int sig)
{
    (void)sig;
    if (g_agent)
        ns_agent_reload(g_agent);
}

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope-agent [--config FILE] [-i IFACE]... [--replay FILE\n"
            "                      [--replay-speed max|FACTOR]] [--filter BPF]\n"
            "                      [--collector ENDPOINT] [--collector-key NAME.key]\n"
            "                      [--key NAME.key_secret] [--insecure] [--user USER]\n"
            "                      [--vxlan-port PORT] [--geneve-port PORT]\n"
            "                      [--set SECTION.KEY=VALUE]...\n"
            "\n"
            "Captures packets, turns them into flows and pushes flow updates to a\n"
            "netscope-collector over ZeroMQ with CurveZMQ encryption.\n"
            "\n"
            "  -c, --config FILE      TOML configuration (default %s when it exists)\n"
            "  -i, --interface IFACE  capture on IFACE (repeat for several, at most %d)\n"
            "  -r, --replay FILE      read a pcap/pcapng file instead; exit when it is done\n"
            "                         and its final records are acknowledged\n"
            "      --replay-speed S   max, or a factor of the recorded speed (default 1)\n"
            "  -f, --filter BPF       capture filter\n"
            "      --collector EP     collector endpoint (default tcp://127.0.0.1:5556)\n"
            "      --collector-key F  the collector's public key (netscope keygen output)\n"
            "      --key F            this agent's secret key (NAME.key_secret, mode 0600)\n"
            "      --insecure         plain text, no keys (a warning is logged)\n"
            "  -u, --user USER        run as USER once the capture is open (default\n"
            "                         netscope, else nobody)\n"
            "      --id ID            agent id (default: the host name)\n"
            "      --vxlan-port PORT  decode VXLAN on UDP PORT instead of 4789\n"
            "      --geneve-port PORT decode Geneve on UDP PORT instead of 6081\n"
            "      --set KEY=VALUE    any configuration key below\n"
            "  -h, --help             this text\n"
            "  -V, --version          print the version\n"
            "\n"
            "Configuration keys (TOML sections and keys; --set KEY=VALUE):\n",
            NS_AGENT_CONFIG_DEFAULT, NS_AGENT_MAX_IFACES);
    ns_config_print_keys(ns_agent_opts, ns_agent_nopts, out);
}

enum {
    OPT_SPEED = 256,
    OPT_COLLECTOR,
    OPT_COLLECTOR_KEY,
    OPT_KEY,
    OPT_INSECURE,
    OPT_ID,
    OPT_SET,
    OPT_VXLAN_PORT,
    OPT_GENEVE_PORT,
};

/* The command line over the defaults and the file: the file first (its path may be given
 * anywhere on the line), then every option in order. Returns -1 to go on, else the exit
 * status, with the reason in `msg` ("" after --help and --version). */
static int
configure(int argc, char **argv, ns_agent_config_t *c, char *msg, size_t msglen)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"interface", required_argument, NULL, 'i'},
        {"replay", required_argument, NULL, 'r'},
        {"replay-speed", required_argument, NULL, OPT_SPEED},
        {"filter", required_argument, NULL, 'f'},
        {"collector", required_argument, NULL, OPT_COLLECTOR},
        {"collector-key", required_argument, NULL, OPT_COLLECTOR_KEY},
        {"key", required_argument, NULL, OPT_KEY},
        {"insecure", no_argument, NULL, OPT_INSECURE},
        {"user", required_argument, NULL, 'u'},
        {"id", required_argument, NULL, OPT_ID},
        {"set", required_argument, NULL, OPT_SET},
        {"vxlan-port", required_argument, NULL, OPT_VXLAN_PORT},
        {"geneve-port", required_argument, NULL, OPT_GENEVE_PORT},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    static const char *shortopts = ":c:i:r:f:u:hV";
    char err[1024];
    const char *config = NULL;
    int ch;
    opterr = 0;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        if (ch == 'c')
            config = optarg;
        else if (ch == 'h') {
            usage(stdout);
            msg[0] = '\0';
            return 0;
        } else if (ch == 'V') {
            printf("netscope-agent %s\n", NS_VERSION);
            msg[0] = '\0';
            return 0;
        } else if (ch == ':') {
            snprintf(msg, msglen, "option '%s' needs a value", argv[optind - 1]);
            return 2;
        } else if (ch == '?') {
            snprintf(msg, msglen, "unknown option '%s' (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        snprintf(msg, msglen, "unexpected argument '%s'", argv[optind]);
        return 2;
    }
    if (config == NULL && access(NS_AGENT_CONFIG_DEFAULT, F_OK) == 0)
        config = NS_AGENT_CONFIG_DEFAULT;
    if (config && !ns_config_load(ns_agent_opts, ns_agent_nopts, c, config, err, sizeof(err))) {
        snprintf(msg, msglen, "%s", err);
        return 2;
    }
    bool ifaces_from_cli = false;
    optind = 1;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *key = NULL;
        switch (ch) {
        case 'i': {
            if (!ifaces_from_cli) { /* -i replaces the file's list */
                ns_config_set(ns_agent_opts, ns_agent_nopts, c, "capture.interfaces", "[]", err,
                              sizeof(err));
                ifaces_from_cli = true;
            }
            char **v = realloc(c->interfaces.v, (c->interfaces.n + 1) * sizeof(char *));
            char *name = strdup(optarg);
            if (v == NULL || name == NULL) {
                snprintf(msg, msglen, "out of memory");
                free(name);
                if (v)
                    c->interfaces.v = v;
                return 1;
            }
            c->interfaces.v = v;
            c->interfaces.v[c->interfaces.n++] = name;
            continue;
        }
        case 'r':
            key = "capture.replay";
            break;
        case OPT_SPEED:
            key = "capture.replay_speed";
            break;
        case 'f':
            key = "capture.filter";
            break;
        case OPT_COLLECTOR:
            key = "export.collector";
            break;
        case OPT_COLLECTOR_KEY:
            key = "export.collector_key";
            break;
        case OPT_KEY:
            key = "export.key";
            break;
        case 'u':
            key = "agent.user";
            break;
        case OPT_ID:
            key = "agent.id";
            break;
        case OPT_INSECURE:
            c->insecure = true;
            continue;
        case OPT_VXLAN_PORT:
        case OPT_GENEVE_PORT:
            if (!ns_config_set(ns_agent_opts, ns_agent_nopts, c,
                               ch == OPT_VXLAN_PORT ? "decode.vxlan_port" : "decode.geneve_port",
                               optarg, err, sizeof(err))) {
                snprintf(msg, msglen, "%s", err);
                return 2;
            }
            continue;
        case OPT_SET:
            if (!ns_config_set_arg(ns_agent_opts, ns_agent_nopts, c, optarg, err, sizeof(err))) {
                snprintf(msg, msglen, "--set %s", err);
                return 2;
            }
            continue;
        default:
            continue;
        }
        if (!ns_config_set_string(ns_agent_opts, ns_agent_nopts, c, key, optarg)) {
            snprintf(msg, msglen, "out of memory");
            return 1;
        }
    }
    if (!ns_agent_config_check(c, err, sizeof(err))) {
        snprintf(msg, msglen, "%s", err);
        return 2;
    }
    return -1;
}

typedef struct {
    int argc;
    char **argv;
} cmdline_t;

/* SIGHUP: defaults, the file, the command line, as at start (quietly: errors go to the log) */
static bool
reload(void *ud, ns_agent_config_t *out, char *errbuf, size_t errlen)
{
    const cmdline_t *cl = ud;
    if (!ns_agent_config_defaults(out)) {
        snprintf(errbuf, errlen, "out of memory");
        return false;
    }
    if (configure(cl->argc, cl->argv, out, errbuf, errlen) != -1) {
        ns_agent_config_free(out);
        return false;
    }
    return true;
}

int
main(int argc, char **argv)
{
    ns_agent_config_t cfg;
    if (!ns_agent_config_defaults(&cfg)) {
        fprintf(stderr, "netscope-agent: out of memory\n");
        return 1;
    }
    char msg[1024];
    int rc = configure(argc, argv, &cfg, msg, sizeof(msg));
    if (rc >= 0) {
        if (msg[0])
            fprintf(stderr, "netscope-agent: %s\n", msg);
        ns_agent_config_free(&cfg);
        return rc;
    }
    ns_log_level_t lvl = NS_LOG_INFO;
    (void)ns_log_level_parse(cfg.log_level, &lvl);
    ns_log_init("netscope-agent", lvl);

    char err[1024];
    ns_agent_t *agent = ns_agent_new(&cfg, err, sizeof(err));
    if (agent == NULL) {
        fprintf(stderr, "netscope-agent: %s\n", err);
        ns_agent_config_free(&cfg);
        return 1;
    }
    /* /metrics (off by default), bound before privileges are dropped */
    ns_httpd_t *metrics = NULL;
    if (cfg.metrics_listen && cfg.metrics_listen[0]) {
        ns_httpd_opts_t ho;
        ns_httpd_opts_default(&ho);
        ho.listen = cfg.metrics_listen;
        ho.token = cfg.metrics_token;
        ho.no_auth = cfg.metrics_no_auth;
        ho.threads = 1;
        metrics = ns_httpd_start(&ho, ns_agent_metrics_handle, agent, err, sizeof(err));
        if (metrics == NULL) {
            fprintf(stderr, "netscope-agent: %s\n", err);
            ns_agent_destroy(&agent);
            ns_agent_config_free(&cfg);
            return 1;
        }
        ns_httpd_set_ready(metrics, true);
        ns_log_info("metrics on http://%s/metrics", cfg.metrics_listen);
    }
    char who[64];
    if (!ns_privs_drop(cfg.user, who, sizeof(who), err, sizeof(err))) {
        fprintf(stderr, "netscope-agent: %s\n", err);
        ns_httpd_stop(&metrics);
        ns_agent_destroy(&agent);
        ns_agent_config_free(&cfg);
        return 1;
    }
    ns_log_info("netscope-agent %s running as %s, no capabilities kept", NS_VERSION, who);

    cmdline_t cl = {argc, argv};
    ns_agent_set_reloader(agent, reload, &cl);
    g_agent = agent;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rc = ns_agent_run(agent);
    ns_httpd_stop(&metrics);
    g_agent = NULL;
    ns_agent_destroy(&agent);
    ns_agent_config_free(&cfg);
    return rc;
}
