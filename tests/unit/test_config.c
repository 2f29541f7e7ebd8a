/* test_config.c - option tables applied from TOML files and --set overrides: every type, its
 * range, unknown sections and keys with their line and column, strings that need no quotes. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netscope/config.h"
#include "runner.h"

typedef struct {
    char *name;
    ns_strlist_t ifaces;
    uint64_t count;
    bool on;
    uint64_t wait_ns;
    double speed;
} cfg_t;

static const ns_opt_t opts[] = {
    {"a.name", NS_OPT_STRING, offsetof(cfg_t, name), 0, 0, "a name"},
    {"a.ifaces", NS_OPT_STRLIST, offsetof(cfg_t, ifaces), 0, 0, "interfaces"},
    {"b.count", NS_OPT_UINT, offsetof(cfg_t, count), 1, 100, "a count"},
    {"b.on", NS_OPT_BOOL, offsetof(cfg_t, on), 0, 0, "a switch"},
    {"b.wait", NS_OPT_SECONDS, offsetof(cfg_t, wait_ns), 0, 60, "a wait"},
    {"b.speed", NS_OPT_DOUBLE, offsetof(cfg_t, speed), 0, 10, "a speed"},
};
#define N (sizeof(opts) / sizeof(opts[0]))

static char path[64];

static void
write_file(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/ns-test-config-%d.toml", (int)getpid());
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

/* Load `text`; returns the error ("" when it loaded). */
static const char *
load(cfg_t *c, const char *text)
{
    static char err[512];
    err[0] = '\0';
    write_file(text);
    if (!ns_config_load(opts, N, c, path, err, sizeof(err)) && err[0] == '\0')
        snprintf(err, sizeof(err), "failed without a message");
    unlink(path);
    /* the path is random: compare what follows it */
    const char *colon = strchr(err, ':');
    return strncmp(err, path, strlen(path)) == 0 && colon ? colon + 1 : err;
}

START_TEST(every_type_from_a_file)
{
    cfg_t c;
    memset(&c, 0, sizeof(c));
    ck_assert_str_eq(load(&c, "[a]\nname = \"x\"\nifaces = [\"eth0\", \"eth1\"]\n"
                              "[b]\ncount = 42\non = true\nwait = 1.5\nspeed = 2\n"),
                     "");
    ck_assert_str_eq(c.name, "x");
    ck_assert_uint_eq(c.ifaces.n, 2);
    ck_assert_str_eq(c.ifaces.v[1], "eth1");
    ck_assert_uint_eq(c.count, 42);
    ck_assert(c.on);
    ck_assert_uint_eq(c.wait_ns, 1500000000ull);
    ck_assert_double_eq(c.speed, 2.0);
    /* a second file replaces what it sets and keeps the rest */
    ck_assert_str_eq(load(&c, "b.count = 7\n"), "");
    ck_assert_uint_eq(c.count, 7);
    ck_assert_str_eq(c.name, "x");
    ns_config_free(opts, N, &c);
    ck_assert_ptr_null(c.name);
    ck_assert_uint_eq(c.ifaces.n, 0);
}
END_TEST

START_TEST(errors_name_line_and_column)
{
    cfg_t c;
    memset(&c, 0, sizeof(c));
    ck_assert_str_eq(load(&c, "[b]\ncount = 0\n"),
                     "2:9: b.count must be between 1 and 100 (not 0)");
    ck_assert_str_eq(load(&c, "[b]\n  on = \"yes\"\n"),
                     "2:8: b.on must be true or false, not string");
    ck_assert_str_eq(load(&c, "[c]\nx = 1\n"), "1:2: unknown section [c]");
    ck_assert_str_eq(load(&c, "[a]\nnmae = \"x\"\n"), "2:1: unknown key a.nmae");
    ck_assert_str_eq(load(&c, "a.ifaces = [\"eth0\", 3]\n"),
                     "1:12: a.ifaces must be an array of strings");
    ck_assert_str_eq(load(&c, "b.wait = 61\n"), "1:10: b.wait must be between 0 and 60 seconds");
    ck_assert_str_eq(load(&c, "b.count = \n"),
                     "1:11: expected a value (a string, a number, true, false or an array)");
    ns_config_free(opts, N, &c);
}
END_TEST

START_TEST(overrides_from_the_command_line)
{
    cfg_t c;
    memset(&c, 0, sizeof(c));
    char err[256];
    ck_assert(ns_config_set_arg(opts, N, &c, "a.name=tcp port 80", err, sizeof(err)));
    ck_assert_str_eq(c.name, "tcp port 80"); /* no quotes needed */
    ck_assert(ns_config_set_arg(opts, N, &c, "a.name=\"quoted\"", err, sizeof(err)));
    ck_assert_str_eq(c.name, "quoted");
    ck_assert(ns_config_set_arg(opts, N, &c, "a.name=123", err, sizeof(err)));
    ck_assert_str_eq(c.name, "123");
    ck_assert(ns_config_set_arg(opts, N, &c, "a.ifaces=eth3", err, sizeof(err)));
    ck_assert_uint_eq(c.ifaces.n, 1);
    ck_assert_str_eq(c.ifaces.v[0], "eth3");
    ck_assert(ns_config_set_arg(opts, N, &c, "a.ifaces=[\"a\",\"b\"]", err, sizeof(err)));
    ck_assert_uint_eq(c.ifaces.n, 2);
    ck_assert(ns_config_set_arg(opts, N, &c, "b.on=false", err, sizeof(err)));
    ck_assert(!c.on);
    ck_assert(!ns_config_set_arg(opts, N, &c, "b.count=many", err, sizeof(err)));
    ck_assert_str_eq(err, "'many' is not an integer");
    ck_assert(!ns_config_set_arg(opts, N, &c, "b.count=1000", err, sizeof(err)));
    ck_assert_str_eq(err, "b.count must be between 1 and 100 (not 1000)");
    ck_assert(!ns_config_set_arg(opts, N, &c, "b.nope=1", err, sizeof(err)));
    ck_assert_str_eq(err, "b.nope: unknown key (see --help for the keys)");
    ck_assert(!ns_config_set_arg(opts, N, &c, "novalue", err, sizeof(err)));
    ck_assert(!ns_config_set_arg(opts, N, &c, "=1", err, sizeof(err)));
    ns_config_free(opts, N, &c);
}
END_TEST

START_TEST(missing_file)
{
    cfg_t c;
    memset(&c, 0, sizeof(c));
    char err[256];
    ck_assert(!ns_config_load(opts, N, &c, "/nonexistent/ns.toml", err, sizeof(err)));
    ck_assert_msg(strstr(err, "cannot read /nonexistent/ns.toml") != NULL, "%s", err);
}
END_TEST

static Suite *
config_suite(void)
{
    Suite *s = suite_create("config");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, every_type_from_a_file);
    tcase_add_test(tc, overrides_from_the_command_line);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, errors_name_line_and_column);
    tcase_add_test(tc, missing_file);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(config_suite)
