/* config.h - options of a daemon from a TOML file and from its command line, one table each.
 *
 * The agent and the collector describe their options once, as an array of ns_opt_t (the TOML
 * key "section.name", the type, where the value goes in their config struct, the accepted
 * range); this module applies a file to the struct, rejecting unknown keys, wrong types and
 * values out of range with "FILE:LINE:COLUMN: message", and applies command-line overrides
 * ("--set section.name=VALUE", or a named option that maps to a key) with the same checks.
 * `netscope check-config` runs the same code, so what it accepts is what the daemons accept.
 *
 * Design: values are written into the caller's struct at the option's offset; strings and
 * string lists are heap copies the struct owns (ns_config_free() releases them). A command-line
 * VALUE is read as a TOML value when it parses as one ("64", "true", "[\"eth0\"]", "\"x\""),
 * else as a bare string, so `--set capture.filter=tcp port 80` needs no quotes.
 */
#ifndef NETSCOPE_CONFIG_H
#define NETSCOPE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    NS_OPT_STRING,  /* char * (heap copy; NULL when unset) */
    NS_OPT_STRLIST, /* ns_strlist_t */
    NS_OPT_UINT,    /* uint64_t within [min, max] */
    NS_OPT_BOOL,    /* bool */
    NS_OPT_SECONDS, /* uint64_t nanoseconds; written as seconds (integer or float) */
    NS_OPT_DOUBLE,  /* double within [min, max] */
} ns_opt_type_t;

typedef struct {
    char **v;
    size_t n;
} ns_strlist_t;

typedef struct {
    const char *key; /* "section.name" */
    ns_opt_type_t type;
    size_t offset;   /* offsetof(the config struct, the field) */
    uint64_t min, max; /* UINT: bounds; SECONDS: bounds in seconds; DOUBLE: bounds (integers) */
    const char *help;  /* one line for --help and the example files */
} ns_opt_t;

/* Apply every key of the TOML file at `path` to `cfg`. Unknown sections and keys, wrong
 * types and values out of range are errors: false with "PATH:LINE:COLUMN: message" in errbuf
 * (values applied before the error stay applied). */
bool ns_config_load(const ns_opt_t *opts, size_t n, void *cfg, const char *path, char *errbuf,
                    size_t errlen);

/* Apply one override `key` = `value` (see the file comment) to `cfg`. False with
 * "KEY: message" in errbuf for an unknown key or a bad value. */
bool ns_config_set(const ns_opt_t *opts, size_t n, void *cfg, const char *key,
                   const char *value, char *errbuf, size_t errlen);

/* Apply "KEY=VALUE" (--set). */
bool ns_config_set_arg(const ns_opt_t *opts, size_t n, void *cfg, const char *arg,
                       char *errbuf, size_t errlen);

/* Set a string option directly (defaults, named command-line options). */
bool ns_config_set_string(const ns_opt_t *opts, size_t n, void *cfg, const char *key,
                          const char *value);

/* Free the strings and string lists `cfg` owns (the struct itself is the caller's). */
void ns_config_free(const ns_opt_t *opts, size_t n, void *cfg);

/* Print "  section.name  TYPE  help" lines for --help. */
void ns_config_print_keys(const ns_opt_t *opts, size_t n, void *file);

#endif /* NETSCOPE_CONFIG_H */
