/* cliutil.c - argument helpers for the netscope subcommands. */
#include "cliutil.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool
ns_cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (s == NULL || !isdigit((unsigned char)s[0]))
        return false;
    errno = 0;
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = (uint64_t)v;
    return true;
}

bool
ns_cli_parse_port(const char *cmd, const char *opt, const char *arg, uint16_t *port)
{
    uint64_t v;
    if (!ns_cli_parse_u64(arg, 1, 65535, &v)) {
        fprintf(stderr, "netscope %s: %s wants a UDP port 1..65535, not '%s'\n", cmd, opt, arg);
        return false;
    }
    *port = (uint16_t)v;
    return true;
}

char *
ns_cli_join(int argc, char **argv)
{
    if (argc <= 0)
        return NULL;
    size_t len = 1;
    for (int i = 0; i < argc; i++)
        len += strlen(argv[i]) + 1;
    char *s = malloc(len);
    if (s == NULL)
        return NULL;
    s[0] = '\0';
    for (int i = 0; i < argc; i++) {
        if (i)
            strcat(s, " ");
        strcat(s, argv[i]);
    }
    return s;
}
