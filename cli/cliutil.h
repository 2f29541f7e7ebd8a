/* cliutil.h - small helpers shared by the netscope subcommands (argument parsing). */
#ifndef NETSCOPE_CLIUTIL_H
#define NETSCOPE_CLIUTIL_H

#include <stdbool.h>
#include <stdint.h>

/* Parse a whole decimal number in [min, max]; false on anything else (sign, junk, overflow). */
bool ns_cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* The value of --vxlan-port / --geneve-port (`opt`, for the message) for subcommand `cmd`:
 * stores a port in 1..65535 in *port, or says on stderr what is wrong and returns false. */
bool ns_cli_parse_port(const char *cmd, const char *opt, const char *arg, uint16_t *port);

/* Join `argc` words with spaces into a new string (caller frees); NULL when argc is 0. */
char *ns_cli_join(int argc, char **argv);

#endif /* NETSCOPE_CLIUTIL_H */
