/* test_sdnotify.c - the notify protocol as a supervisor sees it: a datagram socket is bound
 * (a path, and an abstract '@' name), $NOTIFY_SOCKET points at it, and what arrives is read
 * back. Check forks each test, so setenv() stays in that test. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "netscope/sdnotify.h"
#include "runner.h"

static char sock_path[108];

/* Bind a datagram socket at `name` ("@x" = abstract) and point $NOTIFY_SOCKET at it. */
static int
bind_notify(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(fd, 0);
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        len++;
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, len), 0);
    struct timeval tv = {.tv_sec = 2};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    ck_assert_int_eq(setenv("NOTIFY_SOCKET", name, 1), 0);
    return fd;
}

/* One datagram as a string ("" after the 2 s timeout). */
static const char *
recv_msg(int fd)
{
    static char buf[2048];
    ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    return buf;
}

static void
path_setup(void)
{
    snprintf(sock_path, sizeof(sock_path), "/tmp/ns-sdnotify-%ld.sock", (long)getpid());
    unlink(sock_path);
}

static void
path_teardown(void)
{
    unlink(sock_path);
}

START_TEST(path_socket_gets_the_messages)
{
    int fd = bind_notify(sock_path);
    ck_assert(ns_sdnotify("READY=1\nSTATUS=listening on tcp://*:5556"));
    ck_assert_str_eq(recv_msg(fd), "READY=1\nSTATUS=listening on tcp://*:5556");
    ck_assert(ns_sdnotifyf("STATUS=%d agents", 3));
    ck_assert_str_eq(recv_msg(fd), "STATUS=3 agents");
    ck_assert(ns_sdnotify("STOPPING=1"));
    ck_assert_str_eq(recv_msg(fd), "STOPPING=1");
    close(fd);
}
END_TEST

START_TEST(abstract_socket_gets_the_messages)
{
    char name[64];
    snprintf(name, sizeof(name), "@ns-sdnotify-test-%ld", (long)getpid());
    int fd = bind_notify(name);
    ck_assert(ns_sdnotify("RELOADING=1"));
    ck_assert_str_eq(recv_msg(fd), "RELOADING=1");
    close(fd);
}
END_TEST

START_TEST(no_socket_sends_nothing)
{
    unsetenv("NOTIFY_SOCKET");
    ck_assert(!ns_sdnotify("READY=1"));
    setenv("NOTIFY_SOCKET", "", 1);
    ck_assert(!ns_sdnotify("READY=1"));
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    ck_assert(!ns_sdnotify("READY=1"));
    /* a path nobody listens on: the send fails and says so */
    setenv("NOTIFY_SOCKET", "/nonexistent-dir-ns/notify", 1);
    ck_assert(!ns_sdnotify("READY=1"));
}
END_TEST

START_TEST(watchdog_pings_at_half_the_interval)
{
    int fd = bind_notify(sock_path);
    setenv("WATCHDOG_USEC", "2000000", 1); /* 2 s: a ping every second */
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid());
    setenv("WATCHDOG_PID", pid, 1);
    ns_watchdog_t w;
    uint64_t t0 = 5000000000ull;
    ns_watchdog_init(&w, t0);
    ck_assert_uint_eq(w.interval_ns, 1000000000ull);
    ck_assert(ns_watchdog_poll(&w, t0)); /* the first at once */
    ck_assert_str_eq(recv_msg(fd), "WATCHDOG=1");
    ck_assert(!ns_watchdog_poll(&w, t0 + 999999999ull));
    ck_assert(ns_watchdog_poll(&w, t0 + 1000000000ull));
    ck_assert_str_eq(recv_msg(fd), "WATCHDOG=1");
    ck_assert(!ns_watchdog_poll(&w, t0 + 1500000000ull));
    close(fd);
}
END_TEST

START_TEST(watchdog_for_another_pid_is_off)
{
    int fd = bind_notify(sock_path);
    setenv("WATCHDOG_USEC", "2000000", 1);
    char pid[32];
    snprintf(pid, sizeof(pid), "%ld", (long)getpid() + 1);
    setenv("WATCHDOG_PID", pid, 1);
    ns_watchdog_t w;
    ns_watchdog_init(&w, 0);
    ck_assert_uint_eq(w.interval_ns, 0);
    ck_assert(!ns_watchdog_poll(&w, 10000000000ull));
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    ns_watchdog_init(&w, 0);
    ck_assert_uint_eq(w.interval_ns, 0);
    close(fd);
}
END_TEST

static Suite *
sdnotify_suite(void)
{
    Suite *s = suite_create("sdnotify");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, path_setup, path_teardown);
    tcase_add_test(tc, path_socket_gets_the_messages);
    tcase_add_test(tc, abstract_socket_gets_the_messages);
    tcase_add_test(tc, no_socket_sends_nothing);
    tcase_add_test(tc, watchdog_pings_at_half_the_interval);
    tcase_add_test(tc, watchdog_for_another_pid_is_off);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(sdnotify_suite)
