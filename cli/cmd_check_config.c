/* cmd_check_config.c - `netscope check-config FILE`: validate an agent or collector
 * configuration file the way the daemons read it.
 *
 * Wiring only: the option tables and checks are the daemons' own (agent_config.h,
 * collector_config.h, applied by config.h), so what passes here passes there. Which daemon a
 * file is for comes from --agent / --collector, else from its sections.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "netscope/agent_config.h"
#include "netscope/collector_config.h"
#include "netscope/toml.h"

static void
usage(FILE *out)
{
    fprintf(out, "usage: netscope check-config [--agent | --collector] FILE\n"
                 "\n"
                 "Reads FILE as netscope-agent or netscope-collector does and reports the first\n"
                 "problem as FILE:LINE:COLUMN: message (exit 1), or that it is valid (exit 0).\n"
                 "Without --agent/--collector the kind is taken from the file's sections.\n"
                 "Settings usually given on the command line (interfaces, keys) are reported as\n"
                 "notes when missing.\n"
                 "\n"
                 "  --agent       an agent configuration ([agent] [capture] [flows] [export] "
                 "[ring])\n"
                 "  --collector   a collector configuration ([collector] [output] [merge] "
                 "[agents] [clickhouse])\n"
                 "  -h, --help    this text\n");
}

/* "agent" or "collector" from the file's top-level sections; NULL when it has none of them. */
static const char *
guess_kind(const char *path)
{
    static const char *const collector[] = {"collector", "output", "merge",  "agents",
                                            "clickhouse", "detect", "alerts"};
    ns_toml_t *doc = ns_toml_parse_file(path, NULL, 0);
    if (doc == NULL)
        return NULL;
    const char *kind = NULL;
    const ns_toml_value_t *root = ns_toml_root(doc);
    for (size_t i = 0; i < ns_toml_table_len(root) && kind == NULL; i++) {
        const char *key = ns_toml_key(ns_toml_table_at(root, i), NULL);
        kind = "agent";
        for (size_t k = 0; k < sizeof(collector) / sizeof(collector[0]); k++)
            if (strcmp(key, collector[k]) == 0)
                kind = "collector";
    }
    ns_toml_destroy(&doc);
    return kind;
}

int
ns_cmd_check_config(int argc, char **argv)
{
    enum { OPT_AGENT = 256, OPT_COLLECTOR };
    static const struct option longopts[] = {
        {"agent", no_argument, NULL, OPT_AGENT},
        {"collector", no_argument, NULL, OPT_COLLECTOR},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *kind = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_AGENT:
            kind = "agent";
            break;
        case OPT_COLLECTOR:
            kind = "collector";
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            fprintf(stderr, "netscope check-config: unknown option '%s' (see --help)\n",
                    argv[optind - 1]);
            return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "netscope check-config: give exactly one FILE\n");
        usage(stderr);
        return 2;
    }
    const char *path = argv[optind];
    if (kind == NULL)
        kind = guess_kind(path);
    if (kind == NULL)
        kind = strstr(path, "collector") ? "collector" : "agent";

    char err[1024], note[1024] = "";
    bool ok;
    if (strcmp(kind, "agent") == 0) {
        ns_agent_config_t cfg;
        ok = ns_agent_config_defaults(&cfg) &&
             ns_config_load(ns_agent_opts, ns_agent_nopts, &cfg, path, err, sizeof(err));
        if (ok && !ns_agent_config_check(&cfg, note, sizeof(note)))
            ok = true; /* a note: the command line may complete it */
        else
            note[0] = ok ? '\0' : note[0];
        ns_agent_config_free(&cfg);
    } else {
        ns_collector_config_t cfg;
        ok = ns_collector_config_defaults(&cfg) &&
             ns_config_load(ns_collector_opts, ns_collector_nopts, &cfg, path, err, sizeof(err));
        if (ok && !ns_collector_config_check(&cfg, note, sizeof(note)))
            ok = true;
        else
            note[0] = ok ? '\0' : note[0];
        ns_collector_config_free(&cfg);
    }
    if (!ok) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (note[0])
        printf("%s: note: %s (unless the command line gives it)\n", path, note);
    printf("%s: valid %s configuration\n", path, kind);
    return 0;
}
