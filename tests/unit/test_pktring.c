/* test_pktring.c - the ring of recent frames: oldest frames make room, a search by flow tag
 * and time range returns frames oldest first up to a maximum, oversize frames are cut, a
 * long run of random sizes keeps every stored frame intact, and a walk over every frame sees
 * each held frame once, oldest first, whatever its tag. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "netscope/pktring.h"
#include "runner.h"

/* Frames matched by a search: their first byte and time. */
typedef struct {
    uint8_t first[64];
    uint64_t ts[64];
    uint32_t len[64];
    int n;
    uint8_t reject; /* first byte the callback refuses (a tag collision) */
} got_t;

static bool
collect(void *ud, const ns_pktring_frame_t *f, bool take)
{
    got_t *g = ud;
    if (f->cap_len > 0 && f->data[0] == g->reject)
        return false;
    if (take && g->n < 64) {
        g->first[g->n] = f->cap_len ? f->data[0] : 0;
        g->ts[g->n] = f->ts_ns;
        g->len[g->n] = f->cap_len;
        g->n++;
    }
    return true;
}

static void
add(ns_pktring_t *r, uint8_t first, uint32_t len, uint64_t ts, uint32_t tag)
{
    uint8_t buf[2048];
    memset(buf, first, sizeof(buf));
    ns_pktring_add(r, 0, 1, ts, len + 4, buf, len, tag);
}

START_TEST(find_by_tag_and_time)
{
    ns_pktring_t *r = ns_pktring_new(64 * 1024);
    for (uint8_t i = 0; i < 20; i++)
        add(r, i, 100, 1000 + i, i % 2 ? 7 : 9);
    got_t g = {.reject = 0xff};
    bool more;
    ck_assert_uint_eq(ns_pktring_find(r, 7, 0, 0, 100, collect, &g, &more), 10);
    ck_assert(!more);
    for (int i = 0; i < 10; i++)
        ck_assert_uint_eq(g.first[i], 2u * (unsigned)i + 1u);
    memset(&g, 0, sizeof(g));
    g.reject = 0xff;
    ck_assert_uint_eq(ns_pktring_find(r, 9, 1004, 1010, 2, collect, &g, &more), 2);
    ck_assert(more);
    ck_assert_uint_eq(g.ts[0], 1004);
    ck_assert_uint_eq(g.ts[1], 1006);
    /* a frame the caller refuses (tag collision) neither counts nor sets `more` */
    memset(&g, 0, sizeof(g));
    g.reject = 18;
    ck_assert_uint_eq(ns_pktring_find(r, 9, 1016, 0, 1, collect, &g, &more), 1);
    ck_assert(!more);
    ck_assert_uint_eq(g.first[0], 16);
    ns_pktring_destroy(&r);
    ck_assert_ptr_null(r);
}
END_TEST

START_TEST(oldest_frames_make_room)
{
    ns_pktring_t *r = ns_pktring_new(8192);
    /* 24-byte header + 1000 bytes = 1024 per frame: 8 fit */
    for (uint8_t i = 0; i < 30; i++)
        add(r, i, 1000, i, 1);
    got_t g = {.reject = 0xff};
    bool more;
    uint32_t n = ns_pktring_find(r, 1, 0, 0, 100, collect, &g, &more);
    ck_assert_uint_eq(n, 8);
    for (uint32_t i = 0; i < n; i++)
        ck_assert_uint_eq(g.first[i], 22 + i);
    ns_pktring_stats_t st;
    ns_pktring_stats(r, &st);
    ck_assert_uint_eq(st.frames, 30);
    ck_assert_uint_eq(st.held, 8);
    ck_assert_uint_eq(st.overwritten, 22);
    ns_pktring_destroy(&r);
}
END_TEST

START_TEST(oversize_frames_are_cut)
{
    ns_pktring_t *r = ns_pktring_new(4096);
    add(r, 5, 2000, 1, 3); /* more than a quarter of the ring */
    got_t g = {.reject = 0xff};
    bool more;
    ck_assert_uint_eq(ns_pktring_find(r, 3, 0, 0, 10, collect, &g, &more), 1);
    ck_assert_uint_eq(g.len[0], 4096 / 4 - 24);
    ns_pktring_stats_t st;
    ns_pktring_stats(r, &st);
    ck_assert_uint_eq(st.cut, 1);
    ck_assert_ptr_null(ns_pktring_new(100));
    ns_pktring_destroy(&r);
}
END_TEST

/* Random sizes around the wrap point: whatever is held reads back whole and in order. */
static bool
check_frame(void *ud, const ns_pktring_frame_t *f, bool take)
{
    uint64_t *last = ud;
    ck_assert_uint_gt(f->ts_ns, *last);
    if (take)
        *last = f->ts_ns;
    ck_assert_uint_eq(f->wire_len, f->cap_len + 4);
    for (uint32_t i = 0; i < f->cap_len; i++)
        ck_assert_uint_eq(f->data[i], (uint8_t)f->ts_ns);
    return true;
}

START_TEST(random_sizes_stay_intact)
{
    ns_pktring_t *r = ns_pktring_new(10000);
    srand(3);
    for (uint64_t t = 1; t < 5000; t++) {
        add(r, (uint8_t)t, (uint32_t)rand() % 1500, t, 1);
        if (t % 97 == 0) {
            uint64_t last = 0;
            bool more;
            ns_pktring_stats_t st;
            ns_pktring_stats(r, &st);
            uint32_t n = ns_pktring_find(r, 1, 0, 0, 1000000, check_frame, &last, &more);
            ck_assert_uint_eq(n, st.held);
            ck_assert_uint_eq(last, t); /* the newest is always there */
        }
    }
    ns_pktring_destroy(&r);
}
END_TEST

/* A walk of every frame: what it saw, in order. */
typedef struct {
    uint64_t ts[16];
    uint32_t tag[16];
    uint32_t n, stop_after;
} walk_t;

static bool
on_each(void *ud, const ns_pktring_frame_t *f)
{
    walk_t *w = ud;
    ck_assert_uint_lt(w->n, 16);
    ck_assert_uint_eq(f->data[0], (uint8_t)f->ts_ns);
    w->ts[w->n] = f->ts_ns;
    w->tag[w->n] = f->tag;
    w->n++;
    return w->n != w->stop_after;
}

START_TEST(each_walks_every_frame)
{
    ns_pktring_t *r = ns_pktring_new(8192);
    walk_t w = {0};
    ck_assert_uint_eq(ns_pktring_each(r, on_each, &w), 0); /* empty */
    /* 1024 bytes a frame, 8 fit; 13 added with three tags: the last 8 held, across the end */
    for (uint8_t i = 1; i <= 13; i++)
        add(r, i, 1000, i, i % 3);
    ck_assert_uint_eq(ns_pktring_each(r, on_each, &w), 8);
    for (uint32_t i = 0; i < 8; i++) {
        ck_assert_uint_eq(w.ts[i], 6 + i);
        ck_assert_uint_eq(w.tag[i], (6 + i) % 3);
    }
    /* a gap at the end of the buffer is skipped, not handed out */
    add(r, 14, 1500, 14, 0);
    ns_pktring_stats_t st;
    ns_pktring_stats(r, &st);
    w = (walk_t){0};
    ck_assert_uint_eq(ns_pktring_each(r, on_each, &w), st.held);
    ck_assert_uint_eq(w.ts[w.n - 1], 14);
    /* the callback stops the walk */
    w = (walk_t){.stop_after = 2};
    ck_assert_uint_eq(ns_pktring_each(r, on_each, &w), 2);
    ns_pktring_destroy(&r);
}
END_TEST

static Suite *
pktring_suite(void)
{
    Suite *s = suite_create("pktring");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, find_by_tag_and_time);
    tcase_add_test(tc, oldest_frames_make_room);
    tcase_add_test(tc, random_sizes_stay_intact);
    tcase_add_test(tc, each_walks_every_frame);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_add_test(tc, oversize_frames_are_cut);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(pktring_suite)
