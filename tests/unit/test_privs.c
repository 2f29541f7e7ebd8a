/* test_privs.c - dropping privileges: as root to an unprivileged user with no capability
 * left, an unknown user refused. Check runs each test in a forked child, so the switch does
 * not leak into other tests. Without root these cases only check the non-root path. */
#include <check.h>
#include <string.h>
#include <unistd.h>

#include "netscope/privs.h"
#include "runner.h"

START_TEST(drop_to_nobody_keeps_nothing)
{
    char who[64] = "", err[256] = "";
    bool root = geteuid() == 0;
    ck_assert_msg(ns_privs_drop("nobody", who, sizeof(who), err, sizeof(err)), "%s", err);
    ck_assert_uint_eq(ns_privs_caps_effective(), 0);
    ck_assert_int_ne(geteuid(), 0);
    ck_assert_int_ne(getuid(), 0);
    if (root) {
        ck_assert_str_eq(who, "nobody");
        ck_assert_int_ne(setuid(0), 0); /* no way back */
    }
}
END_TEST

START_TEST(default_user_falls_back_to_nobody)
{
    char who[64] = "", err[256] = "";
    if (geteuid() != 0)
        return;
    ck_assert_msg(ns_privs_drop(NULL, who, sizeof(who), err, sizeof(err)), "%s", err);
    /* "netscope" where the package created it, else "nobody" */
    ck_assert(strcmp(who, "netscope") == 0 || strcmp(who, "nobody") == 0);
    ck_assert_uint_eq(ns_privs_caps_effective(), 0);
}
END_TEST

START_TEST(unknown_user_is_refused)
{
    char who[64] = "", err[256] = "";
    if (geteuid() != 0)
        return;
    ck_assert(!ns_privs_drop("no-such-user-ns42", who, sizeof(who), err, sizeof(err)));
    ck_assert_msg(strstr(err, "no-such-user-ns42") != NULL, "%s", err);
    ck_assert(!ns_privs_drop("root", who, sizeof(who), err, sizeof(err)));
    ck_assert_msg(strstr(err, "root") != NULL, "%s", err);
    ck_assert_int_eq(geteuid(), 0); /* nothing changed */
}
END_TEST

static Suite *
privs_suite(void)
{
    Suite *s = suite_create("privs");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, drop_to_nobody_keeps_nothing);
    tcase_add_test(tc, default_user_falls_back_to_nobody);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, unknown_user_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(privs_suite)
