/* toml.h - NetScope's TOML reader: a configuration file into a tree of values the caller owns.
 *
 * The agent and the collector read the TOML files in /etc/netscope through this module; the config
 * layer above it decides what the keys mean. The reader is strict TOML 1.0 for what it supports and
 * rejects, with a line and a column, everything else; it never skips what it does not know.
 *
 * Supported: comments; bare, quoted and dotted keys; [table] and [a.b] headers; basic, literal
 * and multi-line strings with every TOML escape; integers (decimal with underscores, 0x, 0o,
 * 0b; 64-bit, out-of-range values are an error); floats (fraction, exponent, inf, nan);
 * booleans; arrays (nested, multi-line, mixed types). Not supported, and an error saying so:
 * dates and times, inline tables `{...}`, arrays of tables `[[...]]`.
 *
 * Design: the whole buffer is parsed at once into a document; every table member and array
 * element is a value that remembers the line and column where it (and its key) was written, so
 * the config layer can say "agent.toml:12:11: capture.snaplen must be an integer". Lines and
 * columns count from 1; a column counts characters (UTF-8 sequences), a tab is one.
 *
 * Limits (hostile input stays bounded): at most NS_TOML_MAX_BYTES of input, and tables plus
 * arrays nested at most NS_TOML_MAX_DEPTH deep (each key of a dotted key or a header counts).
 * Memory is proportional to the input.
 *
 * Caveats: every pointer returned (values, keys, strings) lives as long as the document.
 * Strings may contain NUL bytes (written "\u0000"): compare the returned length with strlen()
 * where that matters. ns_toml_get() cannot name a key that contains a '.'; iterate the table
 * (ns_toml_table_at) to reach it. CRLF line ends inside multi-line strings read as "\n".
 */
#ifndef NETSCOPE_TOML_H
#define NETSCOPE_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NS_TOML_MAX_BYTES (1u << 20)
#define NS_TOML_MAX_DEPTH 32

typedef enum {
    NS_TOML_TABLE,
    NS_TOML_ARRAY,
    NS_TOML_STRING,
    NS_TOML_INT,
    NS_TOML_FLOAT,
    NS_TOML_BOOL,
} ns_toml_type_t;

typedef struct ns_toml ns_toml_t;
typedef struct ns_toml_value ns_toml_value_t;

/* ---- parsing ---- */

/* Parse the `len` bytes at `buf` (not NUL-terminated; UTF-8 without a byte order mark).
 * Returns a new document owned by the caller (free it with ns_toml_destroy), or NULL with
 * "LINE:COLUMN: message" in `errbuf` (always NUL-terminated when errlen > 0; errbuf may be
 * NULL). Input past NS_TOML_MAX_BYTES is refused as a whole. */
ns_toml_t *ns_toml_parse(const char *buf, size_t len, char *errbuf, size_t errlen);

/* Read the file at `path` and parse it. Returns a new document owned by the caller, or NULL
 * with "PATH:LINE:COLUMN: message" in `errbuf` for a parse error, "cannot read PATH: reason"
 * when the file cannot be read, and "PATH: ..." when it is larger than NS_TOML_MAX_BYTES. */
ns_toml_t *ns_toml_parse_file(const char *path, char *errbuf, size_t errlen);

/* Free the document and every value in it, and NULL the pointer. NULL-safe. */
void ns_toml_destroy(ns_toml_t **self_p);

/* ---- finding values ---- */

/* The top-level table (never NULL for a parsed document). */
const ns_toml_value_t *ns_toml_root(const ns_toml_t *self);

/* The value at dotted `path` from the top-level table ("capture.snaplen": key "snaplen" of
 * table "capture"), or NULL when a key along the path is missing or not a table, or a part of
 * the path is empty. Each part is compared byte for byte with the keys as written (bare or
 * quoted makes no difference). */
const ns_toml_value_t *ns_toml_get(const ns_toml_t *self, const char *path);

/* The same lookup relative to `table` (NULL when `table` is NULL or not a table). */
const ns_toml_value_t *ns_toml_table_get(const ns_toml_value_t *table, const char *path);

/* ---- what a value is and where it was written (`v` must not be NULL) ---- */

/* The type of `v`. */
ns_toml_type_t ns_toml_type(const ns_toml_value_t *v);

/* "table", "array", "string", "integer", "float" or "boolean" (static storage). */
const char *ns_toml_type_name(ns_toml_type_t type);

/* Line and column where `v` starts: the first character of a value; for a table, the key
 * that opened it (its [header] when it has one); 1:1 for the top-level table. */
void ns_toml_where(const ns_toml_value_t *v, uint32_t *line, uint32_t *col);

/* The key of table member `v` (NUL-terminated; its length in *len when len is not NULL), or
 * NULL for the top-level table and for array elements. */
const char *ns_toml_key(const ns_toml_value_t *v, size_t *len);

/* Line and column of the key of table member `v` (for a dotted key, of its last part);
 * 0:0 when `v` has no key. */
void ns_toml_key_where(const ns_toml_value_t *v, uint32_t *line, uint32_t *col);

/* ---- typed getters: true and *out set when `v` is not NULL and has that type ---- */

/* The bytes of a string (NUL-terminated, may contain NUL: see Caveats; length in *len when
 * len is not NULL). */
bool ns_toml_string(const ns_toml_value_t *v, const char **out, size_t *len);

bool ns_toml_int(const ns_toml_value_t *v, int64_t *out);

/* A float, or an integer converted to double (rounded beyond 2^53). */
bool ns_toml_double(const ns_toml_value_t *v, double *out);

bool ns_toml_bool(const ns_toml_value_t *v, bool *out);

/* ---- arrays and tables: elements and members in the order they were written ---- */

/* Number of elements of array `v` (0 when `v` is not an array). */
size_t ns_toml_array_len(const ns_toml_value_t *v);

/* Element `i` of array `v`, or NULL when `v` is not an array or i is past the end. */
const ns_toml_value_t *ns_toml_array_at(const ns_toml_value_t *v, size_t i);

/* Number of keys of table `t` (0 when `t` is not a table). With ns_toml_table_at this is the
 * iterator over a table's keys: the config layer walks it to reject keys it does not know. */
size_t ns_toml_table_len(const ns_toml_value_t *t);

/* Member `i` of table `t` (its key from ns_toml_key), or NULL when `t` is not a table or i is
 * past the end. */
const ns_toml_value_t *ns_toml_table_at(const ns_toml_value_t *t, size_t i);

#endif /* NETSCOPE_TOML_H */
