/* cli.h - the netscope subcommands, each `int ns_cmd_<name>(argc, argv)` returning the exit
 * status (0 ok, 1 runtime failure, 2 usage error). argv[0] is the command name. */
#ifndef NETSCOPE_CLI_H
#define NETSCOPE_CLI_H

int ns_cmd_print(int argc, char **argv);
int ns_cmd_flows(int argc, char **argv);
int ns_cmd_keygen(int argc, char **argv);
int ns_cmd_check_config(int argc, char **argv);
int ns_cmd_history(int argc, char **argv);

#endif /* NETSCOPE_CLI_H */
