/* toml_dump.c - print a TOML file as NetScope's reader sees it, for the tomllib agreement test.
 *
 * Usage: toml_dump FILE. Prints the document as one line of JSON, every scalar tagged with its
 * type the way the toml-test suite does it ({"type": "integer", "value": "42"}), so that the
 * test can compare types as well as values; tables keep the order their keys were written in.
 * Floats are printed with 17 significant digits (enough to read back the same double), "inf",
 * "-inf" or "nan". On a parse error it prints "error " and the reader's message
 * (FILE:LINE:COLUMN: ...) and exits 1; exit 2 is a usage error.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "netscope/toml.h"

/* A JSON string: quotes, backslashes and control characters escaped, UTF-8 as it is. */
static void
put_json_string(const char *s, size_t len)
{
    putchar('"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            printf("\\%c", c);
        else if (c < 0x20)
            printf("\\u%04x", c);
        else
            putchar(c);
    }
    putchar('"');
}

static void
put_tagged(const char *type, const char *value)
{
    printf("{\"type\":\"%s\",\"value\":\"%s\"}", type, value);
}

static void
dump(const ns_toml_value_t *v)
{
    char num[64];
    const char *s;
    size_t len;
    int64_t i;
    double d;
    bool b;
    switch (ns_toml_type(v)) {
    case NS_TOML_TABLE:
        putchar('{');
        for (size_t k = 0; k < ns_toml_table_len(v); k++) {
            const ns_toml_value_t *m = ns_toml_table_at(v, k);
            const char *key = ns_toml_key(m, &len);
            if (k > 0)
                putchar(',');
            put_json_string(key, len);
            putchar(':');
            dump(m);
        }
        putchar('}');
        break;
    case NS_TOML_ARRAY:
        putchar('[');
        for (size_t k = 0; k < ns_toml_array_len(v); k++) {
            if (k > 0)
                putchar(',');
            dump(ns_toml_array_at(v, k));
        }
        putchar(']');
        break;
    case NS_TOML_STRING:
        (void)ns_toml_string(v, &s, &len);
        printf("{\"type\":\"string\",\"value\":");
        put_json_string(s, len);
        putchar('}');
        break;
    case NS_TOML_INT:
        (void)ns_toml_int(v, &i);
        snprintf(num, sizeof(num), "%" PRId64, i);
        put_tagged("integer", num);
        break;
    case NS_TOML_FLOAT:
        (void)ns_toml_double(v, &d);
        if (isnan(d))
            snprintf(num, sizeof(num), "nan");
        else if (isinf(d))
            snprintf(num, sizeof(num), "%sinf", d < 0 ? "-" : "");
        else
            snprintf(num, sizeof(num), "%.17g", d);
        put_tagged("float", num);
        break;
    case NS_TOML_BOOL:
        (void)ns_toml_bool(v, &b);
        put_tagged("bool", b ? "true" : "false");
        break;
    }
}

int
main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: toml_dump FILE\n");
        return 2;
    }
    char err[512];
    ns_toml_t *doc = ns_toml_parse_file(argv[1], err, sizeof(err));
    if (doc == NULL) {
        printf("error %s\n", err);
        return 1;
    }
    dump(ns_toml_root(doc));
    putchar('\n');
    ns_toml_destroy(&doc);
    return 0;
}
