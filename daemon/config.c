/* config.c - a daemon's option table applied from TOML files and command-line overrides
 * (see config.h). */
#include "netscope/config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/toml.h"

#define NS_PER_S 1000000000ull

static const ns_opt_t *
find(const ns_opt_t *opts, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(opts[i].key, key) == 0)
            return &opts[i];
    return NULL;
}

static const char *
type_name(ns_opt_type_t t)
{
    switch (t) {
    case NS_OPT_STRING:
        return "a string";
    case NS_OPT_STRLIST:
        return "an array of strings";
    case NS_OPT_UINT:
        return "an integer";
    case NS_OPT_BOOL:
        return "true or false";
    case NS_OPT_SECONDS:
        return "a number of seconds";
    case NS_OPT_DOUBLE:
        return "a number";
    }
    return "?";
}

static void
strlist_free(ns_strlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

static bool
strlist_set_one(ns_strlist_t *l, const char *s)
{
    char **v = malloc(sizeof(*v));
    char *copy = strdup(s);
    if (v == NULL || copy == NULL) {
        free(v);
        free(copy);
        return false;
    }
    strlist_free(l);
    v[0] = copy;
    l->v = v;
    l->n = 1;
    return true;
}

/* Apply TOML value `v` to option `o` of `cfg`; false with a message (no position) in err. */
static bool
apply(const ns_opt_t *o, void *cfg, const ns_toml_value_t *v, char *err, size_t errlen)
{
    char *field = (char *)cfg + o->offset;
    const char *s;
    size_t len;
    int64_t i;
    double d;
    bool b;
    switch (o->type) {
    case NS_OPT_STRING: {
        if (!ns_toml_string(v, &s, &len))
            break;
        if (strlen(s) != len) {
            snprintf(err, errlen, "%s must not contain a NUL character", o->key);
            return false;
        }
        char *copy = strdup(s);
        if (copy == NULL) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        free(*(char **)field);
        *(char **)field = copy;
        return true;
    }
    case NS_OPT_STRLIST: {
        if (ns_toml_type(v) != NS_TOML_ARRAY)
            break;
        ns_strlist_t l = {NULL, 0};
        size_t cnt = ns_toml_array_len(v);
        l.v = calloc(cnt ? cnt : 1, sizeof(*l.v));
        if (l.v == NULL) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        for (size_t k = 0; k < cnt; k++) {
            if (!ns_toml_string(ns_toml_array_at(v, k), &s, &len) || strlen(s) != len ||
                (l.v[k] = strdup(s)) == NULL) {
                snprintf(err, errlen, "%s must be an array of strings", o->key);
                strlist_free(&l);
                return false;
            }
            l.n++;
        }
        strlist_free((ns_strlist_t *)field);
        *(ns_strlist_t *)field = l;
        return true;
    }
    case NS_OPT_UINT:
        if (!ns_toml_int(v, &i))
            break;
        if (i < 0 || (uint64_t)i < o->min || (uint64_t)i > o->max) {
            snprintf(err, errlen, "%s must be between %llu and %llu (not %lld)", o->key,
                     (unsigned long long)o->min, (unsigned long long)o->max, (long long)i);
            return false;
        }
        *(uint64_t *)field = (uint64_t)i;
        return true;
    case NS_OPT_BOOL:
        if (!ns_toml_bool(v, &b))
            break;
        *(bool *)field = b;
        return true;
    case NS_OPT_SECONDS:
        if (!ns_toml_double(v, &d))
            break;
        if (!(d >= (double)o->min && d <= (double)o->max)) {
            snprintf(err, errlen, "%s must be between %llu and %llu seconds", o->key,
                     (unsigned long long)o->min, (unsigned long long)o->max);
            return false;
        }
        *(uint64_t *)field = (uint64_t)llround(d * 1e9);
        return true;
    case NS_OPT_DOUBLE:
        if (!ns_toml_double(v, &d))
            break;
        if (!(d >= (double)o->min && d <= (double)o->max)) {
            snprintf(err, errlen, "%s must be between %llu and %llu", o->key,
                     (unsigned long long)o->min, (unsigned long long)o->max);
            return false;
        }
        *(double *)field = d;
        return true;
    }
    snprintf(err, errlen, "%s must be %s, not %s", o->key, type_name(o->type),
             ns_toml_type_name(ns_toml_type(v)));
    return false;
}

/* Walk table `t` (whose dotted name is `prefix`, "" at the top) applying leaves. */
static bool
walk(const ns_opt_t *opts, size_t n, void *cfg, const ns_toml_value_t *t, const char *prefix,
     const char *path, char *errbuf, size_t errlen)
{
    for (size_t k = 0; k < ns_toml_table_len(t); k++) {
        const ns_toml_value_t *v = ns_toml_table_at(t, k);
        char key[256];
        snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", ns_toml_key(v, NULL));
        uint32_t line, col;
        ns_toml_key_where(v, &line, &col);
        if (line == 0)
            ns_toml_where(v, &line, &col);
        const ns_opt_t *o = find(opts, n, key);
        if (o == NULL && ns_toml_type(v) == NS_TOML_TABLE) {
            /* a section: known when some option lives in it */
            size_t kl = strlen(key);
            bool known = false;
            for (size_t i = 0; i < n && !known; i++)
                known = strncmp(opts[i].key, key, kl) == 0 && opts[i].key[kl] == '.';
            if (!known) {
                snprintf(errbuf, errlen, "%s:%u:%u: unknown section [%s]", path, line, col, key);
                return false;
            }
            if (!walk(opts, n, cfg, v, key, path, errbuf, errlen))
                return false;
            continue;
        }
        if (o == NULL) {
            snprintf(errbuf, errlen, "%s:%u:%u: unknown key %s", path, line, col, key);
            return false;
        }
        char msg[512];
        if (!apply(o, cfg, v, msg, sizeof(msg))) {
            ns_toml_where(v, &line, &col);
            snprintf(errbuf, errlen, "%s:%u:%u: %s", path, line, col, msg);
            return false;
        }
    }
    return true;
}

bool
ns_config_load(const ns_opt_t *opts, size_t n, void *cfg, const char *path, char *errbuf,
               size_t errlen)
{
    ns_toml_t *doc = ns_toml_parse_file(path, errbuf, errlen);
    if (doc == NULL)
        return false;
    bool ok = walk(opts, n, cfg, ns_toml_root(doc), "", path, errbuf, errlen);
    ns_toml_destroy(&doc);
    return ok;
}

bool
ns_config_set(const ns_opt_t *opts, size_t n, void *cfg, const char *key, const char *value,
              char *errbuf, size_t errlen)
{
    const ns_opt_t *o = find(opts, n, key);
    if (o == NULL) {
        snprintf(errbuf, errlen, "%s: unknown key (see --help for the keys)", key);
        return false;
    }
    /* "v = VALUE" as TOML; a string option falls back to the bare text */
    size_t vl = strlen(value);
    char *doc_text = malloc(vl + 8);
    if (doc_text == NULL) {
        snprintf(errbuf, errlen, "out of memory");
        return false;
    }
    int m = snprintf(doc_text, vl + 8, "v = %s\n", value);
    ns_toml_t *doc = ns_toml_parse(doc_text, (size_t)m, NULL, 0);
    free(doc_text);
    const ns_toml_value_t *v = doc ? ns_toml_get(doc, "v") : NULL;
    bool ok;
    char msg[512];
    if (o->type == NS_OPT_STRING && (v == NULL || ns_toml_type(v) != NS_TOML_STRING)) {
        ok = ns_config_set_string(opts, n, cfg, key, value);
        if (!ok)
            snprintf(msg, sizeof(msg), "out of memory");
    } else if (o->type == NS_OPT_STRLIST && (v == NULL || ns_toml_type(v) == NS_TOML_STRING)) {
        /* one string where a list goes: a list of one */
        const char *one = value;
        if (v)
            ns_toml_string(v, &one, NULL);
        ok = strlist_set_one((ns_strlist_t *)((char *)cfg + o->offset), one);
        if (!ok)
            snprintf(msg, sizeof(msg), "out of memory");
    } else if (v == NULL) {
        snprintf(msg, sizeof(msg), "'%s' is not %s", value, type_name(o->type));
        ok = false;
    } else {
        ok = apply(o, cfg, v, msg, sizeof(msg));
    }
    ns_toml_destroy(&doc);
    if (!ok)
        snprintf(errbuf, errlen, "%s", msg);
    return ok;
}

bool
ns_config_set_arg(const ns_opt_t *opts, size_t n, void *cfg, const char *arg, char *errbuf,
                  size_t errlen)
{
    const char *eq = strchr(arg, '=');
    if (eq == NULL || eq == arg) {
        snprintf(errbuf, errlen, "--set %s: expected KEY=VALUE", arg);
        return false;
    }
    char key[256];
    size_t kl = (size_t)(eq - arg);
    if (kl >= sizeof(key)) {
        snprintf(errbuf, errlen, "--set: key too long");
        return false;
    }
    memcpy(key, arg, kl);
    key[kl] = '\0';
    return ns_config_set(opts, n, cfg, key, eq + 1, errbuf, errlen);
}

bool
ns_config_set_string(const ns_opt_t *opts, size_t n, void *cfg, const char *key, const char *value)
{
    const ns_opt_t *o = find(opts, n, key);
    if (o == NULL || o->type != NS_OPT_STRING)
        return false;
    char *copy = value ? strdup(value) : NULL;
    if (value && copy == NULL)
        return false;
    char **field = (char **)((char *)cfg + o->offset);
    free(*field);
    *field = copy;
    return true;
}

void
ns_config_free(const ns_opt_t *opts, size_t n, void *cfg)
{
    for (size_t i = 0; i < n; i++) {
        char *field = (char *)cfg + opts[i].offset;
        if (opts[i].type == NS_OPT_STRING) {
            free(*(char **)field);
            *(char **)field = NULL;
        } else if (opts[i].type == NS_OPT_STRLIST) {
            strlist_free((ns_strlist_t *)field);
        }
    }
}

void
ns_config_print_keys(const ns_opt_t *opts, size_t n, void *file)
{
    for (size_t i = 0; i < n; i++)
        fprintf((FILE *)file, "  %-28s %s\n", opts[i].key, opts[i].help);
}
