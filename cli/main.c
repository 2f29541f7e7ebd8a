/* main.c - netscope: subcommand dispatch only; each command lives in cmd_<name>.c. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: netscope <command> [options]\n"
            "\n"
            "commands:\n"
            "  print    decode packets from a file or interface (like tcpdump -n), or as JSON\n"
            "  flows    turn packets into flow records (Zeek conn.log fields), JSON or CSV\n"
            "  keygen   write a CURVE key pair for an agent or a collector\n"
            "  check-config  validate a netscope-agent or netscope-collector TOML file\n"
            "  history  the flows a netscope-collector stored (--db DIR), JSON or CSV\n"
            "\n"
            "'netscope <command> --help' describes a command's options.\n"
            "  -h, --help       this text\n"
            "  -V, --version    print the version\n");
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
        printf("netscope %s\n", NS_VERSION);
        return 0;
    }
    if (strcmp(cmd, "print") == 0)
        return ns_cmd_print(argc - 1, argv + 1);
    if (strcmp(cmd, "flows") == 0)
        return ns_cmd_flows(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return ns_cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "check-config") == 0)
        return ns_cmd_check_config(argc - 1, argv + 1);
    if (strcmp(cmd, "history") == 0)
        return ns_cmd_history(argc - 1, argv + 1);
    fprintf(stderr, "netscope: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
