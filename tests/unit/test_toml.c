/* test_toml.c - unit tests for the TOML reader (core/toml.c).
 *
 * TCases: valid (each construct, read back through the public getters), where (lines and
 * columns of values, keys and tables), invalid (each error with its LINE:COLUMN), limits
 * (size, depth, many keys, every prefix of a document), lifecycle (destroy, error buffers,
 * files). The tomllib agreement test (tests/integration/test_toml_tomllib.sh) covers the
 * grammar more widely; these pin down the API.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netscope/toml.h"
#include "runner.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* Parse `text` (a heap copy of exactly its length, so ASan sees over-reads); fails the test
 * with the parser's message when it is rejected. */
static ns_toml_t *
parse_ok(const char *text)
{
    size_t len = strlen(text);
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    char err[256] = "unset";
    ns_toml_t *doc = ns_toml_parse(copy, len, err, sizeof(err));
    free(copy);
    ck_assert_msg(doc != NULL, "rejected: %s\n--- input ---\n%s", err, text);
    return doc;
}

/* Parse the `len` bytes at `text` and expect an error that starts with `pos` ("L:C: ") and
 * contains `words`. */
static void
expect_error_n(const char *text, size_t len, const char *pos, const char *words)
{
    char *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    memcpy(copy, text, len);
    char err[256] = "unset";
    ns_toml_t *doc = ns_toml_parse(copy, len, err, sizeof(err));
    free(copy);
    ck_assert_msg(doc == NULL, "accepted: %s", text);
    char want[32];
    snprintf(want, sizeof(want), "%s: ", pos);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "error '%s' is not at %s (input: %s)", err,
                  pos, text);
    ck_assert_msg(strstr(err, words) != NULL, "error '%s' lacks '%s'", err, words);
}

static void
expect_error(const char *text, const char *pos, const char *words)
{
    expect_error_n(text, strlen(text), pos, words);
}

static int64_t
get_int(const ns_toml_t *doc, const char *path)
{
    int64_t v = 0;
    ck_assert_msg(ns_toml_int(ns_toml_get(doc, path), &v), "%s is not an integer", path);
    return v;
}

static double
get_double(const ns_toml_t *doc, const char *path)
{
    double v = 0;
    ck_assert_msg(ns_toml_double(ns_toml_get(doc, path), &v), "%s is not a number", path);
    return v;
}

/* The string at `path`, asserting that it has exactly `len` bytes. */
static const char *
get_string(const ns_toml_t *doc, const char *path, size_t len)
{
    const char *s = NULL;
    size_t n = 0;
    ck_assert_msg(ns_toml_string(ns_toml_get(doc, path), &s, &n), "%s is not a string", path);
    ck_assert_uint_eq(n, len);
    ck_assert_int_eq(s[n], '\0');
    return s;
}

static void
assert_where(const ns_toml_value_t *v, uint32_t line, uint32_t col)
{
    uint32_t l = 0, c = 0;
    ck_assert_ptr_nonnull(v);
    ns_toml_where(v, &l, &c);
    ck_assert_msg(l == line && c == col, "value at %u:%u, want %u:%u", l, c, line, col);
}

static void
assert_key_where(const ns_toml_value_t *v, uint32_t line, uint32_t col)
{
    uint32_t l = 0, c = 0;
    ck_assert_ptr_nonnull(v);
    ns_toml_key_where(v, &l, &c);
    ck_assert_msg(l == line && c == col, "key at %u:%u, want %u:%u", l, c, line, col);
}

/* ---- valid ------------------------------------------------------------------------------- */

START_TEST(scalars_and_types)
{
    ns_toml_t *doc = parse_ok("i = 42\nf = 2.5\nt = true\nn = false\ns = \"str\"\n");
    ck_assert_int_eq(get_int(doc, "i"), 42);
    ck_assert_double_eq(get_double(doc, "f"), 2.5);
    ck_assert_double_eq(get_double(doc, "i"), 42.0); /* an integer is a fine double */
    bool b = false;
    ck_assert(ns_toml_bool(ns_toml_get(doc, "t"), &b) && b);
    ck_assert(ns_toml_bool(ns_toml_get(doc, "n"), &b) && !b);
    ck_assert_str_eq(get_string(doc, "s", 3), "str");
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "i")), NS_TOML_INT);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "f")), NS_TOML_FLOAT);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "t")), NS_TOML_BOOL);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "s")), NS_TOML_STRING);
    ck_assert_int_eq(ns_toml_type(ns_toml_root(doc)), NS_TOML_TABLE);
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_INT), "integer");
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_BOOL), "boolean");
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_TABLE), "table");
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_ARRAY), "array");
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_STRING), "string");
    ck_assert_str_eq(ns_toml_type_name(NS_TOML_FLOAT), "float");
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(getters_refuse_other_types)
{
    ns_toml_t *doc = parse_ok("s = \"1\"\nf = 1.5\ni = 1\na = [1]\n[t]\n");
    int64_t i = 77;
    double d = 7.5;
    bool b = true;
    const char *s = "untouched";
    ck_assert(!ns_toml_int(ns_toml_get(doc, "s"), &i));
    ck_assert(!ns_toml_int(ns_toml_get(doc, "f"), &i)); /* no silent truncation */
    ck_assert(!ns_toml_double(ns_toml_get(doc, "s"), &d));
    ck_assert(!ns_toml_bool(ns_toml_get(doc, "i"), &b));
    ck_assert(!ns_toml_string(ns_toml_get(doc, "i"), &s, NULL));
    ck_assert(!ns_toml_int(NULL, &i));
    ck_assert(!ns_toml_string(NULL, &s, NULL));
    ck_assert_int_eq(i, 77);
    ck_assert_double_eq(d, 7.5);
    ck_assert(b);
    ck_assert_str_eq(s, "untouched");
    ck_assert_uint_eq(ns_toml_array_len(ns_toml_get(doc, "t")), 0);
    ck_assert_ptr_null(ns_toml_array_at(ns_toml_get(doc, "t"), 0));
    ck_assert_uint_eq(ns_toml_table_len(ns_toml_get(doc, "a")), 0);
    ck_assert_ptr_null(ns_toml_table_at(ns_toml_get(doc, "a"), 0));
    ck_assert_uint_eq(ns_toml_array_len(NULL), 0);
    ck_assert_uint_eq(ns_toml_table_len(NULL), 0);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(basic_string_escapes)
{
    ns_toml_t *doc = parse_ok("s = \"b\\b t\\t n\\n f\\f r\\r q\\\" s\\\\ e\\u00e9 g\\U0001F600\"\n"
                              "nul = \"a\\u0000b\"\n"
                              "max = \"\\U0010FFFF\"\n"
                              "tab = \"a\tb\"\n");
    const char want[] = "b\b t\t n\n f\f r\r q\" s\\ e\xc3\xa9 g\xf0\x9f\x98\x80";
    ck_assert_mem_eq(get_string(doc, "s", sizeof(want) - 1), want, sizeof(want) - 1);
    ck_assert_mem_eq(get_string(doc, "nul", 3), "a\0b", 3);
    ck_assert_mem_eq(get_string(doc, "max", 4), "\xf4\x8f\xbf\xbf", 4);
    ck_assert_str_eq(get_string(doc, "tab", 3), "a\tb");
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(literal_and_multiline_strings)
{
    ns_toml_t *doc = parse_ok("lit = 'C:\\Users\\n \"q\"'\n"
                              "ml = \"\"\"\none\ntwo\"\"\"\n"
                              "joined = \"\"\"a \\   \n\n   b\"\"\"\n"
                              "quotes = \"\"\"x\"\"\"\"\"\n"
                              "mlit = '''\nraw \\n\n'''\n"
                              "crlf = \"\"\"\r\nx\r\ny\"\"\"\n");
    ck_assert_str_eq(get_string(doc, "lit", 14), "C:\\Users\\n \"q\"");
    ck_assert_str_eq(get_string(doc, "ml", 7), "one\ntwo");  /* first newline trimmed */
    ck_assert_str_eq(get_string(doc, "joined", 3), "a b");   /* line-ending backslash */
    ck_assert_str_eq(get_string(doc, "quotes", 3), "x\"\""); /* up to two quotes at the end */
    ck_assert_str_eq(get_string(doc, "mlit", 7), "raw \\n\n");
    ck_assert_str_eq(get_string(doc, "crlf", 3), "x\ny"); /* CRLF reads as LF */
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(integers)
{
    ns_toml_t *doc = parse_ok("a = +99\nb = -17\nc = 1_000_000\nd = 0xDEAD_beef\ne = 0o755\n"
                              "f = 0b1101\ng = -0\nh = 9223372036854775807\n"
                              "i = -9223372036854775808\nj = 0x7FFFFFFFFFFFFFFF\nk = 0x00ff\n");
    ck_assert_int_eq(get_int(doc, "a"), 99);
    ck_assert_int_eq(get_int(doc, "b"), -17);
    ck_assert_int_eq(get_int(doc, "c"), 1000000);
    ck_assert_int_eq(get_int(doc, "d"), 0xdeadbeef);
    ck_assert_int_eq(get_int(doc, "e"), 493);
    ck_assert_int_eq(get_int(doc, "f"), 13);
    ck_assert_int_eq(get_int(doc, "g"), 0);
    ck_assert_int_eq(get_int(doc, "h"), INT64_MAX);
    ck_assert_int_eq(get_int(doc, "i"), INT64_MIN);
    ck_assert_int_eq(get_int(doc, "j"), INT64_MAX);
    ck_assert_int_eq(get_int(doc, "k"), 255);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(floats)
{
    ns_toml_t *doc = parse_ok("a = 3.1415\nb = -2E-2\nc = 5e+22\nd = 224_617.445_991\n"
                              "e = -0.0\nf = 1e400\ng = -inf\nh = nan\ni = 1e-400\nj = 0e0\n"
                              "k = +1.5\n");
    ck_assert_double_eq(get_double(doc, "a"), 3.1415);
    ck_assert_double_eq(get_double(doc, "b"), -0.02);
    ck_assert_double_eq(get_double(doc, "c"), 5e22);
    ck_assert_double_eq(get_double(doc, "d"), 224617.445991);
    double e = get_double(doc, "e");
    ck_assert(e == 0.0 && signbit(e));
    ck_assert(isinf(get_double(doc, "f")) && get_double(doc, "f") > 0);
    ck_assert(isinf(get_double(doc, "g")) && get_double(doc, "g") < 0);
    ck_assert(isnan(get_double(doc, "h")));
    ck_assert(get_double(doc, "i") == 0.0 && !signbit(get_double(doc, "i")));
    ck_assert_double_eq(get_double(doc, "j"), 0.0);
    ck_assert_double_eq(get_double(doc, "k"), 1.5);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "j")), NS_TOML_FLOAT);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(arrays)
{
    ns_toml_t *doc = parse_ok("a = [ 1, \"two\", [3, [4]], 5.5, true, [] ]\n"
                              "b = [ # comment\n  1,\n  # between\n  2, # trailing comma\n]\n"
                              "c = []\n");
    const ns_toml_value_t *a = ns_toml_get(doc, "a");
    ck_assert_int_eq(ns_toml_type(a), NS_TOML_ARRAY);
    ck_assert_uint_eq(ns_toml_array_len(a), 6);
    int64_t i = 0;
    ck_assert(ns_toml_int(ns_toml_array_at(a, 0), &i) && i == 1);
    const char *s;
    ck_assert(ns_toml_string(ns_toml_array_at(a, 1), &s, NULL));
    ck_assert_str_eq(s, "two");
    const ns_toml_value_t *inner = ns_toml_array_at(ns_toml_array_at(a, 2), 1);
    ck_assert_uint_eq(ns_toml_array_len(inner), 1);
    ck_assert(ns_toml_int(ns_toml_array_at(inner, 0), &i) && i == 4);
    ck_assert_uint_eq(ns_toml_array_len(ns_toml_array_at(a, 5)), 0);
    ck_assert_ptr_null(ns_toml_array_at(a, 6));
    ck_assert_ptr_null(ns_toml_key(ns_toml_array_at(a, 0), NULL)); /* elements have no key */
    const ns_toml_value_t *b = ns_toml_get(doc, "b");
    ck_assert_uint_eq(ns_toml_array_len(b), 2);
    ck_assert(ns_toml_int(ns_toml_array_at(b, 1), &i) && i == 2);
    ck_assert_uint_eq(ns_toml_array_len(ns_toml_get(doc, "c")), 0);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(tables_and_keys)
{
    ns_toml_t *doc = parse_ok("top = 1\n"
                              "[x.y.z]\nw = 2\n"
                              "[x]\nv = 3\n"
                              "[ \"a.b\" . 'c' ]\nd = 4\n"
                              "[fruit]\napple.color = \"red\"\napple . taste.sweet = true\n"
                              "[fruit.apple.texture]\nsmooth = 5\n");
    ck_assert_int_eq(get_int(doc, "top"), 1);
    ck_assert_int_eq(get_int(doc, "x.y.z.w"), 2);
    ck_assert_int_eq(get_int(doc, "x.v"), 3);
    ck_assert_int_eq(get_int(doc, "fruit.apple.texture.smooth"), 5);
    bool b = false;
    ck_assert(ns_toml_bool(ns_toml_get(doc, "fruit.apple.taste.sweet"), &b) && b);
    /* "a.b" is one key: not reachable by path, reachable by iterating the top table. */
    ck_assert_ptr_null(ns_toml_get(doc, "a.b.c.d"));
    const ns_toml_value_t *root = ns_toml_root(doc);
    ck_assert_uint_eq(ns_toml_table_len(root), 4);
    const char *want[] = {"top", "x", "a.b", "fruit"}; /* in the order written */
    for (size_t i = 0; i < 4; i++) {
        size_t len = 0;
        ck_assert_str_eq(ns_toml_key(ns_toml_table_at(root, i), &len), want[i]);
        ck_assert_uint_eq(len, strlen(want[i]));
    }
    ck_assert_ptr_null(ns_toml_table_at(root, 4));
    const ns_toml_value_t *ab = ns_toml_table_at(root, 2);
    ck_assert_int_eq(get_int(doc, "fruit.apple.texture.smooth"), 5);
    int64_t d = 0;
    ck_assert(ns_toml_int(ns_toml_table_get(ab, "c.d"), &d) && d == 4);
    /* x holds y (from the first header) before v. */
    const ns_toml_value_t *x = ns_toml_get(doc, "x");
    ck_assert_str_eq(ns_toml_key(ns_toml_table_at(x, 0), NULL), "y");
    ck_assert_str_eq(ns_toml_key(ns_toml_table_at(x, 1), NULL), "v");
    ck_assert_ptr_null(ns_toml_key(root, NULL));
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(path_lookup_edges)
{
    ns_toml_t *doc = parse_ok("a.b = 1\n\"\" = 2\nv = 3\n");
    ck_assert_ptr_null(ns_toml_get(doc, ""));
    ck_assert_ptr_null(ns_toml_get(doc, "a."));
    ck_assert_ptr_null(ns_toml_get(doc, ".a"));
    ck_assert_ptr_null(ns_toml_get(doc, "a..b"));
    ck_assert_ptr_null(ns_toml_get(doc, "a.c"));
    ck_assert_ptr_null(ns_toml_get(doc, "v.x")); /* v is not a table */
    ck_assert_ptr_null(ns_toml_get(doc, "missing"));
    ck_assert_ptr_null(ns_toml_table_get(NULL, "a"));
    ck_assert_int_eq(get_int(doc, "a.b"), 1);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "a")), NS_TOML_TABLE);
    /* The empty key exists and is reached by iteration. */
    const ns_toml_value_t *empty = ns_toml_table_at(ns_toml_root(doc), 1);
    size_t len = 9;
    ck_assert_str_eq(ns_toml_key(empty, &len), "");
    ck_assert_uint_eq(len, 0);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(comments_crlf_and_blank_input)
{
    ns_toml_t *doc = parse_ok("");
    ck_assert_uint_eq(ns_toml_table_len(ns_toml_root(doc)), 0);
    ns_toml_destroy(&doc);
    doc = parse_ok("# only\n   # comments\t\xe2\x9c\x93\n\n");
    ck_assert_uint_eq(ns_toml_table_len(ns_toml_root(doc)), 0);
    ns_toml_destroy(&doc);
    doc = parse_ok("a = 1 # c\r\n[t] # c\r\nb = \"#\"#c\r\nc = 2");
    ck_assert_int_eq(get_int(doc, "a"), 1);
    ck_assert_str_eq(get_string(doc, "t.b", 1), "#");
    ck_assert_int_eq(get_int(doc, "t.c"), 2);
    ns_toml_destroy(&doc);
}
END_TEST

/* ---- where ------------------------------------------------------------------------------- */

START_TEST(where_values_and_keys)
{
    ns_toml_t *doc = parse_ok("# header\n"
                              "snaplen = 65535\n"
                              "\t name  =  \"x\"\n"
                              "[capture]\n"
                              "  ring.size = [1,\n    2]\n");
    const ns_toml_value_t *v = ns_toml_get(doc, "snaplen");
    assert_where(v, 2, 11);
    assert_key_where(v, 2, 1);
    v = ns_toml_get(doc, "name");
    assert_where(v, 3, 12); /* a tab is one column */
    assert_key_where(v, 3, 3);
    assert_where(ns_toml_get(doc, "capture"), 4, 2);
    assert_key_where(ns_toml_get(doc, "capture"), 4, 2);
    assert_where(ns_toml_get(doc, "capture.ring"), 5, 3); /* made by the dotted key */
    v = ns_toml_get(doc, "capture.ring.size");
    assert_key_where(v, 5, 8); /* the last part of the dotted key */
    assert_where(v, 5, 15);
    assert_where(ns_toml_array_at(v, 0), 5, 16);
    assert_where(ns_toml_array_at(v, 1), 6, 5);
    assert_where(ns_toml_root(doc), 1, 1);
    uint32_t l = 9, c = 9;
    ns_toml_key_where(ns_toml_array_at(v, 0), &l, &c);
    ck_assert(l == 0 && c == 0);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(where_counts_characters)
{
    /* é is two bytes, 🙂 four, each one column; CRLF ends a line like LF. */
    expect_error("s = \"é🙂\" x\n", "1:10", "end of the line");
    ns_toml_t *doc = parse_ok("a = 1\r\nb = 'é' # ü\r\nc = 3\n");
    assert_where(ns_toml_get(doc, "c"), 3, 5);
    ns_toml_destroy(&doc);
}
END_TEST

START_TEST(where_implicit_table_gets_header)
{
    ns_toml_t *doc = parse_ok("[a.b]\n\n[ a ]\n");
    assert_where(ns_toml_get(doc, "a.b"), 1, 4);
    assert_where(ns_toml_get(doc, "a"), 3, 3); /* moved to its own header */
    ns_toml_destroy(&doc);
}
END_TEST

/* ---- invalid ----------------------------------------------------------------------------- */

START_TEST(invalid_tables_and_keys)
{
    expect_error("a = 1\na = 2\n", "2:1", "duplicate key a (first defined at line 1)");
    expect_error("[t]\nx.y = 1\nx.y = 2\n", "3:3", "duplicate key t.x.y");
    expect_error("[a]\n[a]\n", "2:2", "table [a] is defined twice (first at line 1)");
    expect_error("[a.b]\n[a]\n[a]\n", "3:2", "defined twice");
    expect_error("[fruit]\napple.color = 1\n[fruit.apple]\n", "3:8",
                 "table [fruit.apple] was already defined by dotted keys");
    expect_error("[a.b.c]\nz = 9\n[a]\nb.c.t = 1\n", "4:3",
                 "table [a.b.c] has its own header (line 1)");
    expect_error("a = 1\n[a.b]\n", "2:2", "key a already holds a value of type integer");
    expect_error("a = [1]\na.b = 2\n", "2:1", "value of type array");
    expect_error("a.b = 1\n[a.b.c]\n", "2:4", "key a.b already holds a value");
    expect_error("= 1\n", "1:1", "expected a key, a [table] header or a comment");
    expect_error("first name = 1\n", "1:7", "expected '=' after the key");
    expect_error("a..b = 1\n", "1:3", "expected a key");
    expect_error("a = 1 b = 2\n", "1:7", "expected the end of the line");
    expect_error("[a] b = 1\n", "1:5", "expected the end of the line");
    expect_error("[]\n", "1:2", "expected a key");
    expect_error("[a\n", "1:3", "expected ']'");
    expect_error("\"\"\"k\"\"\" = 1\n", "1:3", "expected '='");
}
END_TEST

START_TEST(invalid_message_shows_keys_safely)
{
    /* A control character in a key is shown as '?'. */
    expect_error("\"x\\u0001y\" = 1\n\"x\\u0001y\" = 2\n", "2:1", "duplicate key x?y (first");
    /* A long path is cut between characters so the message stays UTF-8: "a" and 42 of the
     * 60 three-byte characters fill the 127 bytes there is room for, exactly. */
    char key[200] = "a", text[512], want[200] = "2:1: duplicate key a";
    for (int i = 0; i < 60; i++) {
        strcat(key, "\xe2\x9c\x93"); /* U+2713 */
        if (i < 42)
            strcat(want, "\xe2\x9c\x93");
    }
    strcat(want, " (first defined at line 1)");
    snprintf(text, sizeof(text), "\"%s\" = 1\n\"%s\" = 2\n", key, key);
    char err[256];
    ck_assert_ptr_null(ns_toml_parse(text, strlen(text), err, sizeof(err)));
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(invalid_strings)
{
    expect_error("a = \"abc\n", "1:9", "single-line string must end on its line");
    expect_error("a = \"abc", "1:5", "this string is not closed");
    expect_error("a = '''abc\n", "1:5", "this string is not closed");
    expect_error("a = \"a\\eb\"\n", "1:7", "invalid escape sequence \\e");
    expect_error("a = \"a\\ b\"\n", "1:7", "backslash in a string must start an escape");
    expect_error("a = \"\\uD800\"\n", "1:6", "\\uD800 is not a Unicode scalar value");
    expect_error("a = \"\\U00110000\"\n", "1:6", "\\U00110000 is not a Unicode scalar value");
    expect_error("a = \"\\u12\"\n", "1:6", "\\u must be followed by 4 hexadecimal digits");
    expect_error("a = \"\"\"ab\\ c\"\"\"\n", "1:10", "backslash");
    expect_error("a = \"\"\"a\"\"\"\"\"\"\n", "1:9", "too many quotes");
    expect_error_n("a = \"a\0b\"\n", 10, "1:7", "control character U+0000");
    expect_error("a = 'a\x7f'\n", "1:7", "control character U+007F is not allowed in a string");
    expect_error("# \x01\n", "1:3", "control character U+0001 is not allowed in a comment");
    expect_error("a = 1\rb = 2\n", "1:6", "expected the end of the line");
    expect_error("a = \"\"\"x\ry\"\"\"\n", "1:9", "control character U+000D");
    expect_error("a = \"\xff\"\n", "1:6", "invalid UTF-8 in a string");
    expect_error("# \xc0\xaf\n", "1:3", "invalid UTF-8 in a comment");  /* overlong */
    expect_error("a = \"\xed\xa0\x80\"\n", "1:6", "invalid UTF-8");     /* surrogate */
    expect_error("a = \"\xf4\x90\x80\x80\"\n", "1:6", "invalid UTF-8"); /* > U+10FFFF */
    expect_error("a = \"\xe2\x82\"\n", "1:6", "invalid UTF-8");         /* cut short */
    expect_error("a = \"\xe2\x82", "1:6", "invalid UTF-8");             /* at the end */
    expect_error("\xef\xbb\xbf"
                 "a = 1\n",
                 "1:1", "expected a key"); /* byte order mark */
}
END_TEST

START_TEST(invalid_numbers_and_values)
{
    expect_error("a = 012\n", "1:5", "leading zeros");
    expect_error("a = 0_1\n", "1:5", "leading zeros");
    expect_error("a = 1__0\n", "1:5", "invalid value '1__0'");
    expect_error("a = 1_\n", "1:5", "invalid value");
    expect_error("a = _1\n", "1:5", "invalid value");
    expect_error("a = .5\n", "1:5", "invalid value");
    expect_error("a = 1.\n", "1:5", "decimal point must have digits on both sides");
    expect_error("a = 1.e5\n", "1:5", "decimal point");
    expect_error("a = 1e\n", "1:5", "exponent must have digits");
    expect_error("a = 1e+\n", "1:5", "exponent");
    expect_error("a = 1.2.3\n", "1:5", "invalid number '1.2.3'");
    expect_error("a = +0xff\n", "1:5", "cannot have a sign");
    expect_error("a = 0XFF\n", "1:5", "invalid number");
    expect_error("a = 0b102\n", "1:5", "invalid base-2 integer");
    expect_error("a = 0x\n", "1:5", "invalid number");
    expect_error("a = True\n", "1:5", "invalid value 'True'");
    expect_error("a = nan1\n", "1:5", "invalid value");
    expect_error("a = 9223372036854775808\n", "1:5", "does not fit in 64 bits");
    expect_error("a = -9223372036854775809\n", "1:5", "does not fit in 64 bits");
    expect_error("a = 0x1_0000_0000_0000_0000\n", "1:5", "does not fit in 64 bits");
    expect_error("a = \n", "1:5", "expected a value");
    expect_error("a =", "1:4", "expected a value");
    expect_error("a = [1 2]\n", "1:8", "expected ',' or ']'");
    expect_error("a = [1,,2]\n", "1:8", "expected a value");
    expect_error("a = [,]\n", "1:6", "expected a value");
    expect_error("a = [1,\n", "2:1", "expected a value");
    expect_error("a = \"x\"y\n", "1:8", "expected the end of the line");
}
END_TEST

START_TEST(invalid_unsupported_features)
{
    expect_error("d = 1979-05-27\n", "1:5", "dates and times are not supported by NetScope's");
    expect_error("d = 1979-05-27T07:32:00Z\n", "1:5", "dates and times are not supported");
    expect_error("t = 07:32:00\n", "1:5", "dates and times are not supported");
    expect_error("a = [1, 07:32:00]\n", "1:9", "dates and times are not supported");
    expect_error("t = { a = 1 }\n", "1:5", "inline tables ({...}) are not supported");
    expect_error("[[fruit]]\n", "1:1", "arrays of tables ([[...]]) are not supported");
    expect_error("a = 1\n  [[fruit]]\n", "2:3", "arrays of tables");
}
END_TEST

/* ---- limits ------------------------------------------------------------------------------ */

/* `n` copies of `unit` between `head` and `tail`, NUL-terminated (caller frees). */
static char *
repeat(const char *head, const char *unit, size_t n, const char *tail)
{
    size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
    char *s = malloc(hl + ul * n + tl + 1);
    ck_assert_ptr_nonnull(s);
    memcpy(s, head, hl);
    for (size_t i = 0; i < n; i++)
        memcpy(s + hl + i * ul, unit, ul);
    memcpy(s + hl + n * ul, tail, tl + 1);
    return s;
}

START_TEST(depth_limit)
{
    /* NS_TOML_MAX_DEPTH nested arrays are fine, one more is an error at the extra '['. */
    char *open = repeat("a = ", "[", NS_TOML_MAX_DEPTH, "");
    char *ok = repeat(open, "]", NS_TOML_MAX_DEPTH, "\n");
    ns_toml_t *doc = parse_ok(ok);
    const ns_toml_value_t *v = ns_toml_get(doc, "a");
    for (int i = 1; i < NS_TOML_MAX_DEPTH; i++)
        v = ns_toml_array_at(v, 0);
    ck_assert_int_eq(ns_toml_type(v), NS_TOML_ARRAY);
    ck_assert_uint_eq(ns_toml_array_len(v), 0);
    ns_toml_destroy(&doc);
    free(ok);
    free(open);
    char *deep = repeat("a = ", "[", NS_TOML_MAX_DEPTH + 1, "");
    char pos[16];
    snprintf(pos, sizeof(pos), "1:%d", 5 + NS_TOML_MAX_DEPTH);
    expect_error(deep, pos, "nested deeper than 32 levels");
    free(deep);
    /* Header and dotted keys count their parts, arrays under them count on. */
    char *header = repeat("[k", ".k", NS_TOML_MAX_DEPTH - 1, "]\nv = 1\n");
    doc = parse_ok(header);
    ns_toml_destroy(&doc);
    free(header);
    header = repeat("[k", ".k", NS_TOML_MAX_DEPTH, "]\n");
    expect_error(header, "1:66", "nested deeper"); /* at the 33rd part */
    free(header);
    char *dotted = repeat("k", ".k", NS_TOML_MAX_DEPTH - 1, " = [1]\n");
    doc = parse_ok(dotted); /* 31 tables and an array */
    ns_toml_destroy(&doc);
    free(dotted);
    dotted = repeat("k", ".k", NS_TOML_MAX_DEPTH, " = [1]\n");
    expect_error(dotted, "1:69", "nested deeper"); /* 32 tables, the array is one too many */
    free(dotted);
}
END_TEST

START_TEST(size_limit)
{
    /* Exactly NS_TOML_MAX_BYTES parses; one byte more is refused before parsing. */
    char *big = malloc(NS_TOML_MAX_BYTES + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, ' ', NS_TOML_MAX_BYTES + 1);
    memcpy(big, "s = '", 5);
    big[NS_TOML_MAX_BYTES - 2] = '\'';
    big[NS_TOML_MAX_BYTES - 1] = '\n';
    char err[128];
    ns_toml_t *doc = ns_toml_parse(big, NS_TOML_MAX_BYTES, err, sizeof(err));
    ck_assert_msg(doc != NULL, "%s", err);
    size_t len = 0;
    const char *s = NULL;
    ck_assert(ns_toml_string(ns_toml_get(doc, "s"), &s, &len));
    ck_assert_uint_eq(len, NS_TOML_MAX_BYTES - 7);
    ns_toml_destroy(&doc);
    big[NS_TOML_MAX_BYTES] = '\n';
    ck_assert_ptr_null(ns_toml_parse(big, NS_TOML_MAX_BYTES + 1, err, sizeof(err)));
    ck_assert_str_eq(err, "1:1: the document is larger than 1048576 bytes");
    free(big);
}
END_TEST

START_TEST(many_keys)
{
    /* 40,000 keys and as many tables in one table (960 kB): linear lookups would make some
     * 3e9 key comparisons. */
    enum { N = 40000 };
    char *text = malloc((size_t)N * 40);
    ck_assert_ptr_nonnull(text);
    size_t keys = 0, o;
    for (int i = 0; i < N; i++)
        keys += (size_t)sprintf(text + keys, "k%d = %d\n", i, i);
    o = keys;
    for (int i = 0; i < N; i++)
        o += (size_t)sprintf(text + o, "[t%d]\n", i);
    ns_toml_t *doc = ns_toml_parse(text, o, NULL, 0);
    ck_assert_ptr_nonnull(doc);
    ck_assert_uint_eq(ns_toml_table_len(ns_toml_root(doc)), 2 * N);
    ck_assert_int_eq(get_int(doc, "k39999"), 39999);
    ck_assert_int_eq(get_int(doc, "k0"), 0);
    ck_assert_int_eq(ns_toml_type(ns_toml_get(doc, "t33333")), NS_TOML_TABLE);
    ns_toml_destroy(&doc);
    /* After all the keys, a second k0 is found to be a duplicate. */
    o = keys + (size_t)sprintf(text + keys, "k0 = 5\n");
    char err[128];
    ck_assert_ptr_null(ns_toml_parse(text, o, err, sizeof(err)));
    ck_assert_str_eq(err, "40001:1: duplicate key k0 (first defined at line 1)");
    free(text);
}
END_TEST

START_TEST(every_prefix)
{
    /* Every prefix, as a heap copy of exactly its length: no over-read, and a prefix that
     * ends with a whole line (outside the multi-line string and the array) parses. */
    static const char doc_text[] = "# config\n"
                                   "name = \"edge\\u00e9\" # c\n"
                                   "[capture]\n"
                                   "snaplen = 0x1_0000\n"
                                   "ratio = -1.5e3\n"
                                   "ifs = [ 'eth0', \"\"\"a\nb\"\"\", [1, 2.5, true], ]\n"
                                   "[a.\"b\" . c]\r\n"
                                   "d.e = '''x'''\n";
    const size_t len = sizeof(doc_text) - 1;
    const size_t ifs = (size_t)(strstr(doc_text, "ifs = ") - doc_text);
    const size_t ifs_end = (size_t)(strstr(doc_text, "], ]\n") - doc_text) + 5;
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, doc_text, n);
        char err[256];
        ns_toml_t *doc = ns_toml_parse(copy, n, err, sizeof(err));
        bool whole_line = n == 0 || doc_text[n - 1] == '\n';
        bool inside = n > ifs && n < ifs_end; /* the ifs line, which spans two lines */
        if (whole_line && !inside)
            ck_assert_msg(doc != NULL, "prefix of %zu bytes: %s", n, err);
        ns_toml_destroy(&doc);
        free(copy);
    }
}
END_TEST

/* ---- lifecycle --------------------------------------------------------------------------- */

START_TEST(destroy_and_error_buffers)
{
    ns_toml_t *doc = parse_ok("a = 1\n");
    ns_toml_destroy(&doc);
    ck_assert_ptr_null(doc);
    ns_toml_destroy(&doc); /* NULL-safe, twice */
    ns_toml_destroy(NULL);
    /* No error buffer, and a tiny one that still ends in NUL. */
    ck_assert_ptr_null(ns_toml_parse("a = ", 4, NULL, 0));
    char tiny[6];
    memset(tiny, 'x', sizeof(tiny));
    ck_assert_ptr_null(ns_toml_parse("a = ", 4, tiny, sizeof(tiny)));
    ck_assert_str_eq(tiny, "1:5: ");
    /* A successful parse clears the buffer; an empty buffer pointer with len 0 is fine. */
    char err[64] = "stale";
    doc = ns_toml_parse(NULL, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(doc);
    ck_assert_str_eq(err, "");
    ns_toml_destroy(&doc);
}
END_TEST

/* Write `len` bytes to a new file `name` in `dir`; the path goes to `path`. */
static void
write_file(const char *dir, const char *name, const char *bytes, size_t len, char *path,
           size_t plen)
{
    snprintf(path, plen, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(bytes, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

START_TEST(parse_file)
{
    char dir[] = "/tmp/test_toml_XXXXXX", path[512], err[600], want[600];
    ck_assert_ptr_nonnull(mkdtemp(dir));

    write_file(dir, "ok.toml", "[capture]\nsnaplen = 96\n", 23, path, sizeof(path));
    ns_toml_t *doc = ns_toml_parse_file(path, err, sizeof(err));
    ck_assert_msg(doc != NULL, "%s", err);
    ck_assert_int_eq(get_int(doc, "capture.snaplen"), 96);
    ns_toml_destroy(&doc);
    ck_assert_int_eq(unlink(path), 0);

    write_file(dir, "bad.toml", "a = 1\nb = @\n", 12, path, sizeof(path));
    ck_assert_ptr_null(ns_toml_parse_file(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s:2:5: expected a value", path);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
    ck_assert_int_eq(unlink(path), 0);

    snprintf(path, sizeof(path), "%s/missing.toml", dir);
    ck_assert_ptr_null(ns_toml_parse_file(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot read %s: No such file or directory", path);
    ck_assert_str_eq(err, want);

    ck_assert_ptr_null(ns_toml_parse_file(dir, err, sizeof(err)));
    snprintf(want, sizeof(want), "cannot read %s: Is a directory", dir);
    ck_assert_str_eq(err, want);

    char *big = malloc(NS_TOML_MAX_BYTES + 1);
    ck_assert_ptr_nonnull(big);
    memset(big, '\n', NS_TOML_MAX_BYTES + 1);
    write_file(dir, "big.toml", big, NS_TOML_MAX_BYTES + 1, path, sizeof(path));
    free(big);
    ck_assert_ptr_null(ns_toml_parse_file(path, err, sizeof(err)));
    snprintf(want, sizeof(want), "%s: the file is larger than 1048576 bytes", path);
    ck_assert_str_eq(err, want);
    ck_assert_int_eq(unlink(path), 0);

    write_file(dir, "empty.toml", "", 0, path, sizeof(path));
    doc = ns_toml_parse_file(path, err, sizeof(err));
    ck_assert_ptr_nonnull(doc);
    ck_assert_uint_eq(ns_toml_table_len(ns_toml_root(doc)), 0);
    ns_toml_destroy(&doc);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static Suite *
toml_suite(void)
{
    Suite *s = suite_create("toml");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, scalars_and_types);
    tcase_add_test(tc, getters_refuse_other_types);
    tcase_add_test(tc, basic_string_escapes);
    tcase_add_test(tc, literal_and_multiline_strings);
    tcase_add_test(tc, integers);
    tcase_add_test(tc, floats);
    tcase_add_test(tc, arrays);
    tcase_add_test(tc, tables_and_keys);
    tcase_add_test(tc, path_lookup_edges);
    tcase_add_test(tc, comments_crlf_and_blank_input);
    suite_add_tcase(s, tc);
    tc = tcase_create("where");
    tcase_add_test(tc, where_values_and_keys);
    tcase_add_test(tc, where_counts_characters);
    tcase_add_test(tc, where_implicit_table_gets_header);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, invalid_tables_and_keys);
    tcase_add_test(tc, invalid_message_shows_keys_safely);
    tcase_add_test(tc, invalid_strings);
    tcase_add_test(tc, invalid_numbers_and_values);
    tcase_add_test(tc, invalid_unsupported_features);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, depth_limit);
    tcase_add_test(tc, size_limit);
    tcase_add_test(tc, many_keys);
    tcase_add_test(tc, every_prefix);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, destroy_and_error_buffers);
    tcase_add_test(tc, parse_file);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(toml_suite)
