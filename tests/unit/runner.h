/* runner.h - the main() of every unit-test program: run its one Check suite and exit non-zero
 * when a test failed (CTest reads the exit status). */
#ifndef NETSCOPE_RUNNER_H
#define NETSCOPE_RUNNER_H

#include <check.h>
#include <stdlib.h>

static inline int
ns_test_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

/* NS_TEST_MAIN(tcp_suite) defines main() for the suite that tcp_suite() builds. */
#define NS_TEST_MAIN(suite_fn)                                                                     \
    int main(void)                                                                                 \
    {                                                                                              \
        return ns_test_run(suite_fn());                                                            \
    }

#endif /* NETSCOPE_RUNNER_H */
