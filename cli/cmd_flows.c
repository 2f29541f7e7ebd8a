/* cmd_flows.c - PLACEHOLDER until the flow engine lands. */
#include <stdio.h>

#include "cli.h"

int
ns_cmd_flows(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "netscope flows: not available in this build\n");
    return 1;
}
