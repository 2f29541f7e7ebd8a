/* cmd_print.c - PLACEHOLDER, being written. */
#include <stdio.h>

#include "cli.h"

int
ns_cmd_print(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 1;
}
