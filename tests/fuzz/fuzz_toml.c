/* fuzz_toml.c - libFuzzer target for the TOML reader (core/toml.c).
 *
 * The input is a configuration file. It is parsed; a rejected input must come with an error
 * of the form "LINE:COLUMN: message" whose line lies within the input. An accepted document
 * is walked completely, and every value is checked: a position inside the input, table
 * members with a key that ns_toml_table_get finds again (when it holds no '.'), strings
 * NUL-terminated at their length, elements and members counted as the getters say. A broken
 * invariant is a crash (__builtin_trap), so libFuzzer keeps the input. In gcc builds replay.c
 * runs the corpus (tests/fuzz/corpus/toml) through this function.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "netscope/toml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check(bool ok)
{
    if (!ok)
        __builtin_trap();
}

static void
walk(const ns_toml_value_t *v, uint32_t lines, unsigned depth)
{
    uint32_t line, col;
    ns_toml_where(v, &line, &col);
    check(line >= 1 && line <= lines && col >= 1);
    const char *s;
    size_t len;
    switch (ns_toml_type(v)) {
    case NS_TOML_TABLE:
        check(depth <= NS_TOML_MAX_DEPTH); /* tables and arrays count, not scalars */
        for (size_t i = 0; i < ns_toml_table_len(v); i++) {
            const ns_toml_value_t *m = ns_toml_table_at(v, i);
            const char *key = ns_toml_key(m, &len);
            check(key != NULL && key[len] == '\0');
            ns_toml_key_where(m, &line, &col);
            check(line >= 1 && line <= lines && col >= 1);
            if (len > 0 && strlen(key) == len && strchr(key, '.') == NULL)
                check(ns_toml_table_get(v, key) == m);
            walk(m, lines, depth + 1);
        }
        check(ns_toml_table_at(v, ns_toml_table_len(v)) == NULL);
        break;
    case NS_TOML_ARRAY:
        check(depth <= NS_TOML_MAX_DEPTH);
        for (size_t i = 0; i < ns_toml_array_len(v); i++) {
            const ns_toml_value_t *e = ns_toml_array_at(v, i);
            check(ns_toml_key(e, NULL) == NULL);
            walk(e, lines, depth + 1);
        }
        check(ns_toml_array_at(v, ns_toml_array_len(v)) == NULL);
        break;
    case NS_TOML_STRING:
        check(ns_toml_string(v, &s, &len) && s[len] == '\0');
        break;
    case NS_TOML_INT: {
        int64_t i;
        double d;
        check(ns_toml_int(v, &i) && ns_toml_double(v, &d));
        break;
    }
    case NS_TOML_FLOAT: {
        double d;
        check(ns_toml_double(v, &d));
        break;
    }
    case NS_TOML_BOOL: {
        bool b;
        check(ns_toml_bool(v, &b));
        break;
    }
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint32_t lines = 1;
    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    char err[512];
    ns_toml_t *doc = ns_toml_parse((const char *)data, size, err, sizeof(err));
    if (doc == NULL) {
        unsigned line = 0, col = 0;
        int used = 0;
        check(sscanf(err, "%u:%u: %n", &line, &col, &used) == 2 && used > 0);
        check(line >= 1 && line <= lines && col >= 1 && err[used] != '\0');
        return 0;
    }
    walk(ns_toml_root(doc), lines, 0);
    ns_toml_destroy(&doc);
    check(doc == NULL);
    return 0;
}
