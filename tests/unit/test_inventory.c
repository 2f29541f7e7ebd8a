/* test_inventory.c - the agents a collector knows: registration, a different key for a known
 * id, reconnects and restarts, batch sequence tracking, interfaces and their counters,
 * heartbeats, the clock offset estimate, presence, capacity, and hostile inputs. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "netscope/inventory.h"
#include "runner.h"

#define SEC 1000000000ull
#define MS 1000000ull

static ns_inventory_t *
inventory(uint32_t max_agents)
{
    char err[128] = "";
    ns_inventory_t *inv = ns_inventory_new(max_agents, 64, err, sizeof(err));
    ck_assert_msg(inv != NULL, "%s", err);
    return inv;
}

static ns_host_addr_t
v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    ns_host_addr_t x;
    memset(&x, 0, sizeof(x));
    x.ip_ver = 4;
    x.addr.b[0] = a, x.addr.b[1] = b, x.addr.b[2] = c, x.addr.b[3] = d;
    return x;
}

static ns_host_addr_t
v6_link_local(uint8_t last)
{
    ns_host_addr_t x;
    memset(&x, 0, sizeof(x));
    x.ip_ver = 6;
    x.addr.b[0] = 0xfe, x.addr.b[1] = 0x80, x.addr.b[15] = last;
    return x;
}

/* A host with eth0 (10.0.0.1, fe80::1) and lo (127.0.0.1). */
static const ns_host_addr_t *
eth0_addrs(void)
{
    static ns_host_addr_t a[2];
    a[0] = v4(10, 0, 0, 1);
    a[1] = v6_link_local(1);
    return a;
}

static ns_inventory_hello_t
hello_of(const char *host, uint64_t instance, const ns_inventory_iface_hello_t *ifs, size_t n)
{
    ns_inventory_hello_t h;
    memset(&h, 0, sizeof(h));
    h.hostname = host;
    h.version = "0.1.0";
    h.instance = instance;
    h.ifaces = ifs;
    h.n_ifaces = n;
    return h;
}

static const ns_inventory_iface_hello_t *
two_ifaces(const char *first_name)
{
    static ns_host_addr_t lo;
    static ns_inventory_iface_hello_t ifs[2];
    lo = v4(127, 0, 0, 1);
    ifs[0] = (ns_inventory_iface_hello_t){first_name, 1, 262144, eth0_addrs(), 2};
    ifs[1] = (ns_inventory_iface_hello_t){"lo", 1, 65535, &lo, 1};
    return ifs;
}

static uint32_t
hello(ns_inventory_t *inv, const char *id, const char *fpr, uint64_t instance, uint64_t now,
      ns_inventory_rc_t want)
{
    ns_inventory_hello_t h = hello_of("host-a", instance, two_ifaces("eth0"), 2);
    uint32_t idx = 12345;
    ck_assert_int_eq(ns_inventory_hello(inv, id, fpr, &h, now, &idx), want);
    return idx;
}

/* ---- identity --------------------------------------------------------------------------- */

START_TEST(register_and_find)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, 5 * SEC, NS_INV_NEW);
    uint32_t b = hello(inv, "agent-b", "FPR-B", 1, 6 * SEC, NS_INV_NEW);
    ck_assert_uint_ne(a, b);
    ck_assert_uint_eq(ns_inventory_find(inv, "agent-a"), a);
    ck_assert_uint_eq(ns_inventory_find(inv, "agent-b"), b);
    ck_assert_uint_eq(ns_inventory_find(inv, "agent-c"), NS_INV_NONE);
    ck_assert_uint_eq(ns_inventory_count(inv), 2);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_str_eq(ag->id, "agent-a");
    ck_assert_str_eq(ag->fingerprint, "FPR-A");
    ck_assert_str_eq(ag->hostname, "host-a");
    ck_assert_str_eq(ag->version, "0.1.0");
    ck_assert_uint_eq(ag->first_seen_ns, 5 * SEC);
    ck_assert_uint_eq(ag->hello_ns, 5 * SEC);
    ck_assert(ag->connected);
    ck_assert_uint_eq(ag->hellos, 1);
    ck_assert(!ag->clock_known); /* the Hello had no send time */
    ns_inventory_destroy(&inv);
}
END_TEST

/* A known id with another key: reported, and the known agent is left as it was. */
START_TEST(different_key_is_reported)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, 5 * SEC, NS_INV_NEW);
    ns_inventory_hello_t h = hello_of("impostor", 2, NULL, 0);
    uint32_t idx = 0;
    ck_assert_int_eq(ns_inventory_hello(inv, "agent-a", "FPR-X", &h, 9 * SEC, &idx),
                     NS_INV_KEY_MISMATCH);
    ck_assert_uint_eq(idx, NS_INV_NONE);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_str_eq(ag->fingerprint, "FPR-A");
    ck_assert_str_eq(ag->hostname, "host-a");
    ck_assert_uint_eq(ag->n_ifaces, 2);
    ck_assert_uint_eq(ag->instance, 1);
    ck_assert_uint_eq(ag->hellos, 1);
    ck_assert_uint_eq(ag->key_mismatches, 1);
    ck_assert_uint_eq(ag->last_seen_ns, 5 * SEC);
    ck_assert_uint_eq(ns_inventory_count(inv), 1);
    /* A fingerprint that only differs past a cut would compare equal: too long is refused. */
    char longfpr[NS_INV_FPR_MAX + 8];
    memset(longfpr, 'F', sizeof(longfpr) - 1);
    longfpr[sizeof(longfpr) - 1] = '\0';
    ck_assert_int_eq(ns_inventory_hello(inv, "agent-z", longfpr, &h, SEC, &idx),
                     NS_INV_INVALID);
    ns_inventory_destroy(&inv);
}
END_TEST

/* Same instance: a reconnect, and the resent batches are duplicates. A new instance: the
 * process restarted, it numbers from 1 again. */
START_TEST(reconnect_and_restart)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 111, SEC, NS_INV_NEW);
    for (uint64_t s = 1; s <= 5; s++)
        ck_assert_int_eq(ns_inventory_batch(inv, a, s, 0, 2 * SEC), NS_SEQ_NEW);
    ns_inventory_ifstats_t is = {100, 64000, 3, 1};
    ck_assert_int_eq(ns_inventory_iface_stats(inv, a, 0, &is, 2 * SEC), NS_OK);

    ck_assert_uint_eq(hello(inv, "agent-a", "FPR-A", 111, 3 * SEC, NS_INV_RECONNECTED), a);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 4, 0, 3 * SEC), NS_SEQ_DUPLICATE);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 6, 0, 3 * SEC), NS_SEQ_NEW);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_uint_eq(ns_inventory_ack(inv, a), 6);
    ck_assert_uint_eq(ag->seq.duplicates, 1);
    ck_assert_uint_eq(ag->ifaces[0].stats.pkts, 100); /* same interface, kept */
    ck_assert_uint_eq(ag->hellos, 2);
    ck_assert_uint_eq(ag->first_seen_ns, SEC);

    ck_assert_uint_eq(hello(inv, "agent-a", "FPR-A", 222, 4 * SEC, NS_INV_RESTARTED), a);
    ck_assert_uint_eq(ag->restarts, 1);
    ck_assert_uint_eq(ag->instance, 222);
    ck_assert_uint_eq(ag->ifaces[0].stats.pkts, 0);
    ck_assert_uint_eq(ag->batches, 0);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 1, 0, 4 * SEC), NS_SEQ_NEW);
    ck_assert_uint_eq(ns_inventory_ack(inv, a), 1);
    ck_assert_uint_eq(ag->seq.lost + ag->seq.duplicates, 0);
    ns_inventory_destroy(&inv);
}
END_TEST

/* An agent that did not tell its instance is never taken for restarted. */
START_TEST(unknown_instance)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 0, SEC, NS_INV_NEW);
    ns_inventory_batch(inv, a, 1, 0, SEC);
    hello(inv, "agent-a", "FPR-A", 7, 2 * SEC, NS_INV_RECONNECTED);
    hello(inv, "agent-a", "FPR-A", 0, 3 * SEC, NS_INV_RECONNECTED);
    ck_assert_uint_eq(ns_inventory_get(inv, a)->instance, 7);
    ck_assert_uint_eq(ns_inventory_ack(inv, a), 1);
    hello(inv, "agent-a", "FPR-A", 8, 4 * SEC, NS_INV_RESTARTED);
    ns_inventory_destroy(&inv);
}
END_TEST

START_TEST(capacity_and_delete)
{
    ns_inventory_t *inv = inventory(2);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, SEC, NS_INV_NEW);
    uint32_t b = hello(inv, "agent-b", "FPR-B", 1, SEC, NS_INV_NEW);
    ck_assert_uint_eq(hello(inv, "agent-c", "FPR-C", 1, SEC, NS_INV_FULL), NS_INV_NONE);
    ck_assert_int_eq(ns_inventory_del(inv, a), NS_OK);
    ck_assert_ptr_null(ns_inventory_get(inv, a));
    ck_assert_uint_eq(ns_inventory_find(inv, "agent-a"), NS_INV_NONE);
    ck_assert_int_eq(ns_inventory_del(inv, a), NS_EINVAL);
    uint32_t c = hello(inv, "agent-c", "FPR-C", 1, 2 * SEC, NS_INV_NEW);
    ck_assert_uint_eq(c, a); /* the free index is reused... */
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, c);
    ck_assert_uint_eq(ag->first_seen_ns, 2 * SEC); /* ...with nothing of the old agent */
    ck_assert_uint_eq(ag->hellos, 1);
    ck_assert_uint_eq(ns_inventory_find(inv, "agent-b"), b);
    ns_inventory_destroy(&inv);
}
END_TEST

/* Many agents through a small hash: every one found, also after deletions. */
START_TEST(many_agents)
{
    enum { N = 300 };
    ns_inventory_t *inv = inventory(N);
    char id[32];
    for (unsigned i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "agent-%u", i);
        ck_assert_uint_eq(hello(inv, id, "FPR", 1, SEC, NS_INV_NEW), i);
    }
    for (unsigned i = 0; i < N; i += 3)
        ck_assert_int_eq(ns_inventory_del(inv, i), NS_OK);
    for (unsigned i = 0; i < N; i++) {
        snprintf(id, sizeof(id), "agent-%u", i);
        ck_assert_uint_eq(ns_inventory_find(inv, id), i % 3 == 0 ? NS_INV_NONE : i);
    }
    unsigned n = 0;
    for (uint32_t i = ns_inventory_next(inv, NS_INV_NONE); i != NS_INV_NONE;
         i = ns_inventory_next(inv, i)) {
        ck_assert_uint_ne(i % 3, 0);
        n++;
    }
    ck_assert_uint_eq(n, N - N / 3);
    ck_assert_uint_eq(ns_inventory_count(inv), n);
    ns_inventory_destroy(&inv);
}
END_TEST

/* ---- messages --------------------------------------------------------------------------- */

START_TEST(batches_and_heartbeat)
{
    ns_inventory_t *inv = inventory(2);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, SEC, NS_INV_NEW);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 1, 0, 2 * SEC), NS_SEQ_NEW);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 2, 0, 2 * SEC), NS_SEQ_NEW);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 5, 0, 3 * SEC), NS_SEQ_NEW);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 4, 0, 3 * SEC), NS_SEQ_LATE);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 0, 0, 3 * SEC), NS_SEQ_INVALID);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_uint_eq(ag->batches, 5);
    ck_assert_uint_eq(ag->seq.reordered, 1);
    ck_assert_uint_eq(ag->seq.missing, 1);
    ck_assert_uint_eq(ns_inventory_ack(inv, a), 2);
    ck_assert_uint_eq(ag->last_seen_ns, 3 * SEC);

    /* The agent's queue overflowed: it holds nothing below 5, so 3 is lost. */
    ns_inventory_health_t h = {.lowest_held_seq = 5, .queue_depth = 7, .batches_sent = 5,
                               .batches_dropped = 1, .updates_dropped = 20,
                               .finals_dropped = 2, .flows_active = 1500, .evictions = 9,
                               .cpu_pct = 12.5};
    ck_assert_int_eq(ns_inventory_heartbeat(inv, a, &h, 4 * SEC), NS_OK);
    ck_assert_uint_eq(ag->seq.lost, 1);
    ck_assert_uint_eq(ns_inventory_ack(inv, a), 5);
    ck_assert_uint_eq(ag->health.queue_depth, 7);
    ck_assert_uint_eq(ag->health.finals_dropped, 2);
    ck_assert_uint_eq(ag->health.flows_active, 1500);
    ck_assert(ag->health.cpu_pct == 12.5);
    ck_assert_uint_eq(ag->health_ns, 4 * SEC);
    ck_assert_uint_eq(ag->last_seen_ns, 4 * SEC);
    ns_inventory_destroy(&inv);
}
END_TEST

START_TEST(interfaces)
{
    ns_inventory_t *inv = inventory(2);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, SEC, NS_INV_NEW);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_uint_eq(ag->n_ifaces, 2);
    ck_assert_str_eq(ag->ifaces[0].name, "eth0");
    ck_assert_uint_eq(ag->ifaces[0].snaplen, 262144);
    ck_assert_uint_eq(ag->ifaces[0].n_addrs, 2);
    ck_assert_uint_eq(ag->ifaces[0].addrs[1].ip_ver, 6);
    ck_assert_uint_eq(ag->ifaces[0].addrs[1].addr.b[15], 1);
    ck_assert_str_eq(ag->ifaces[1].name, "lo");
    ck_assert(!ag->ifaces_truncated);

    ns_inventory_ifstats_t s0 = {1000, 900000, 12, 3}, s1 = {50, 4000, 0, 0};
    ck_assert_int_eq(ns_inventory_iface_stats(inv, a, 0, &s0, 2 * SEC), NS_OK);
    ck_assert_int_eq(ns_inventory_iface_stats(inv, a, 1, &s1, 2 * SEC), NS_OK);
    ck_assert_int_eq(ns_inventory_iface_stats(inv, a, 2, &s1, 2 * SEC), NS_EINVAL);
    ck_assert_uint_eq(ag->ifaces[0].stats.kernel_drops, 12);
    ck_assert_uint_eq(ag->ifaces[0].stats.if_drops, 3);
    ck_assert_uint_eq(ag->ifaces[0].stats_ns, 2 * SEC);
    s0.pkts = 2000; /* cumulative: the latest value replaces */
    ns_inventory_iface_stats(inv, a, 0, &s0, 3 * SEC);
    ck_assert_uint_eq(ag->ifaces[0].stats.pkts, 2000);

    /* Reconnected with eth0 renamed to eth1: its counters start over, lo's stay. */
    ns_inventory_hello_t h = hello_of("host-a", 1, two_ifaces("eth1"), 2);
    ck_assert_int_eq(ns_inventory_hello(inv, "agent-a", "FPR-A", &h, 4 * SEC, NULL),
                     NS_INV_RECONNECTED);
    ck_assert_str_eq(ag->ifaces[0].name, "eth1");
    ck_assert_uint_eq(ag->ifaces[0].stats.pkts, 0);
    ck_assert_uint_eq(ag->ifaces[1].stats.pkts, 50);

    ns_host_addr_t out[8];
    ck_assert_uint_eq(ns_inventory_addrs(inv, a, out, 8), 3);
    ck_assert(memcmp(&out[0], &eth0_addrs()[0], sizeof(out[0])) == 0);
    ck_assert_uint_eq(out[2].addr.b[0], 127);
    ck_assert_uint_eq(ns_inventory_addrs(inv, a, out, 2), 2);
    ck_assert_uint_eq(ns_inventory_addrs(inv, 1, out, 8), 0);
    ns_inventory_destroy(&inv);
}
END_TEST

/* The offset is the smallest (receive - send) of the recent samples: delay only adds. */
START_TEST(clock_offset)
{
    ns_inventory_t *inv = inventory(2);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, SEC, NS_INV_NEW);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    /* The agent's clock is 5 s behind; one-way delays 3, 1 and 7 ms. */
    uint64_t now = 1000 * SEC;
    const uint64_t delay[] = {3 * MS, 1 * MS, 7 * MS};
    for (unsigned i = 0; i < 3; i++, now += SEC)
        ns_inventory_batch(inv, a, i + 1, now - 5 * SEC - delay[i], now);
    ck_assert(ag->clock_known);
    ck_assert_int_eq(ag->clock_offset_ns, (int64_t)(5 * SEC + MS));
    /* A resent batch keeps its old send time: a big sample, ignored by the minimum. */
    ns_inventory_batch(inv, a, 2, now - 5 * SEC - 100 * SEC, now);
    ck_assert_int_eq(ag->clock_offset_ns, (int64_t)(5 * SEC + MS));
    /* Heartbeats are samples too; after a window of 2 ms samples the 1 ms one is gone. */
    for (unsigned i = 0; i < NS_INV_CLOCK_SAMPLES; i++, now += SEC) {
        ns_inventory_health_t h = {.send_ns = now - 5 * SEC - 2 * MS};
        ns_inventory_heartbeat(inv, a, &h, now);
    }
    ck_assert_int_eq(ag->clock_offset_ns, (int64_t)(5 * SEC + 2 * MS));
    /* The agent's clock is stepped 3 s ahead of ours: the window follows. */
    for (unsigned i = 0; i < NS_INV_CLOCK_SAMPLES; i++, now += SEC)
        ns_inventory_batch(inv, a, 10 + i, now + 3 * SEC - MS, now);
    ck_assert_int_eq(ag->clock_offset_ns, -(int64_t)(3 * SEC - MS));
    ns_inventory_destroy(&inv);
}
END_TEST

/* Send times from a hostile agent saturate instead of overflowing. */
START_TEST(clock_extremes)
{
    ns_inventory_t *inv = inventory(2);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, SEC, NS_INV_NEW);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ns_inventory_batch(inv, a, 1, UINT64_MAX, 5 * SEC);
    ck_assert_int_eq(ag->clock_offset_ns, INT64_MIN);
    ns_inventory_t *inv2 = inventory(1);
    uint32_t b = hello(inv2, "agent-b", "FPR-B", 1, SEC, NS_INV_NEW);
    ns_inventory_batch(inv2, b, 1, 1, UINT64_MAX);
    ck_assert_int_eq(ns_inventory_get(inv2, b)->clock_offset_ns, INT64_MAX);
    ns_inventory_destroy(&inv);
    ns_inventory_destroy(&inv2);
}
END_TEST

START_TEST(presence)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "agent-a", "FPR-A", 1, 10 * SEC, NS_INV_NEW);
    uint32_t b = hello(inv, "agent-b", "FPR-B", 1, 10 * SEC, NS_INV_NEW);
    ns_inventory_batch(inv, b, 1, 0, 25 * SEC);
    ck_assert_uint_eq(ns_inventory_expire(inv, 39 * SEC, 30 * SEC), 0);
    ck_assert_uint_eq(ns_inventory_expire(inv, 40 * SEC, 30 * SEC), 1);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert(!ag->connected);
    ck_assert_uint_eq(ag->disconnected_ns, 40 * SEC);
    ck_assert(ns_inventory_get(inv, b)->connected);
    ck_assert_uint_eq(ns_inventory_expire(inv, 41 * SEC, 30 * SEC), 0); /* already marked */
    ns_inventory_health_t h = {0};
    ns_inventory_heartbeat(inv, a, &h, 50 * SEC); /* ZeroMQ reconnected on its own */
    ck_assert(ag->connected);
    ns_inventory_disconnect(inv, a, 60 * SEC);
    ck_assert(!ag->connected);
    ck_assert_uint_eq(ag->disconnected_ns, 60 * SEC);
    ns_inventory_destroy(&inv);
}
END_TEST

/* ---- invalid ---------------------------------------------------------------------------- */

START_TEST(invalid_identity)
{
    ns_inventory_t *inv = inventory(4);
    ns_inventory_hello_t h = hello_of("h", 1, NULL, 0);
    uint32_t idx = 0;
    ck_assert_int_eq(ns_inventory_hello(inv, NULL, "F", &h, SEC, &idx), NS_INV_INVALID);
    ck_assert_uint_eq(idx, NS_INV_NONE);
    ck_assert_int_eq(ns_inventory_hello(inv, "", "F", &h, SEC, NULL), NS_INV_INVALID);
    ck_assert_int_eq(ns_inventory_hello(inv, "a", "", &h, SEC, NULL), NS_INV_INVALID);
    ck_assert_int_eq(ns_inventory_hello(inv, "a", NULL, &h, SEC, NULL), NS_INV_INVALID);
    char id[NS_INV_ID_MAX + 1];
    memset(id, 'i', NS_INV_ID_MAX);
    id[NS_INV_ID_MAX] = '\0';
    ck_assert_int_eq(ns_inventory_hello(inv, id, "F", &h, SEC, NULL), NS_INV_INVALID);
    id[NS_INV_ID_MAX - 1] = '\0'; /* the longest that fits */
    ck_assert_int_eq(ns_inventory_hello(inv, id, "F", NULL, SEC, &idx), NS_INV_NEW);
    ck_assert_str_eq(ns_inventory_get(inv, idx)->id, id);
    ck_assert_str_eq(ns_inventory_get(inv, idx)->hostname, "");
    ck_assert_uint_eq(ns_inventory_count(inv), 1);
    ns_inventory_destroy(&inv);
}
END_TEST

/* More interfaces and addresses than fit, addresses of no IP version, IPv4 addresses with
 * junk in their unused bytes, names and hostnames too long, NULL strings and arrays. */
START_TEST(oversized_hello)
{
    ns_inventory_t *inv = inventory(2);
    static ns_host_addr_t addrs[NS_INV_IF_ADDRS_MAX + 4];
    for (unsigned i = 0; i < NS_INV_IF_ADDRS_MAX + 4; i++)
        addrs[i] = v4(192, 168, 1, (uint8_t)i);
    addrs[0].ip_ver = 0;      /* skipped */
    addrs[1].addr.b[12] = 99; /* cleared */
    static ns_inventory_iface_hello_t ifs[NS_INV_IFACES_MAX + 4];
    for (unsigned i = 0; i < NS_INV_IFACES_MAX + 4; i++)
        ifs[i] = (ns_inventory_iface_hello_t){"a-very-long-interface-name", 1, 1500, NULL, 5};
    ifs[0].addrs = addrs;
    ifs[0].n_addrs = NS_INV_IF_ADDRS_MAX + 4;
    ifs[1].name = NULL;
    char host[400];
    memset(host, 'h', sizeof(host) - 1);
    host[sizeof(host) - 1] = '\0';
    ns_inventory_hello_t h = hello_of(host, 1, ifs, NS_INV_IFACES_MAX + 4);
    h.version = NULL;
    uint32_t a;
    ck_assert_int_eq(ns_inventory_hello(inv, "agent-a", "F", &h, SEC, &a), NS_INV_NEW);
    const ns_inventory_agent_t *ag = ns_inventory_get(inv, a);
    ck_assert_uint_eq(ag->n_ifaces, NS_INV_IFACES_MAX);
    ck_assert(ag->ifaces_truncated);
    ck_assert_uint_eq(strlen(ag->hostname), NS_INV_HOST_MAX - 1);
    ck_assert_str_eq(ag->version, "");
    ck_assert_uint_eq(strlen(ag->ifaces[0].name), NS_INV_IFNAME_MAX - 1);
    ck_assert_str_eq(ag->ifaces[1].name, "");
    ck_assert_uint_eq(ag->ifaces[0].n_addrs, NS_INV_IF_ADDRS_MAX);
    ck_assert_uint_eq(ag->ifaces[0].addrs[0].addr.b[3], 1); /* the first valid one */
    ck_assert_uint_eq(ag->ifaces[0].addrs[0].addr.b[12], 0);
    ck_assert_uint_eq(ag->ifaces[1].n_addrs, 0); /* NULL array */
    /* Fewer interfaces later: the rest are cleared. */
    h = hello_of("h", 1, two_ifaces("eth0"), 2);
    ns_inventory_hello(inv, "agent-a", "F", &h, SEC, NULL);
    ck_assert_uint_eq(ag->n_ifaces, 2);
    ck_assert(!ag->ifaces_truncated);
    ck_assert_str_eq(ag->ifaces[2].name, "");
    ns_inventory_destroy(&inv);
}
END_TEST

START_TEST(unknown_index)
{
    ns_inventory_t *inv = inventory(2);
    ns_inventory_health_t h = {0};
    ns_inventory_ifstats_t s = {0};
    ck_assert_ptr_null(ns_inventory_get(inv, 0));
    ck_assert_ptr_null(ns_inventory_get(inv, 2));
    ck_assert_ptr_null(ns_inventory_get(inv, NS_INV_NONE));
    ck_assert_int_eq(ns_inventory_batch(inv, 0, 1, 0, SEC), NS_SEQ_INVALID);
    ck_assert_int_eq(ns_inventory_batch(inv, 99, 1, 0, SEC), NS_SEQ_INVALID);
    ck_assert_int_eq(ns_inventory_heartbeat(inv, 1, &h, SEC), NS_EINVAL);
    ck_assert_int_eq(ns_inventory_iface_stats(inv, 1, 0, &s, SEC), NS_EINVAL);
    ck_assert_int_eq(ns_inventory_del(inv, 7), NS_EINVAL);
    ck_assert_uint_eq(ns_inventory_ack(inv, 7), 0);
    ns_inventory_disconnect(inv, 7, SEC);
    ck_assert_uint_eq(ns_inventory_find(inv, NULL), NS_INV_NONE);
    ck_assert_uint_eq(ns_inventory_next(inv, NS_INV_NONE), NS_INV_NONE);
    ns_inventory_destroy(&inv);
}
END_TEST

/* ---- lifecycle -------------------------------------------------------------------------- */

START_TEST(lifecycle)
{
    char err[128] = "";
    ck_assert_ptr_null(ns_inventory_new(0, 0, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    err[0] = '\0';
    ck_assert_ptr_null(ns_inventory_new(NS_INV_MAX_AGENTS + 1, 0, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "out of range"));
    err[0] = '\0';
    ck_assert_ptr_null(ns_inventory_new(4, NS_SEQTRACK_WINDOW_MAX + 1, err, sizeof(err)));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
    ns_inventory_t *inv = ns_inventory_new(3, 0, err, sizeof(err));
    ck_assert_ptr_nonnull(inv);
    ck_assert_str_eq(ns_inventory_rc_name(NS_INV_KEY_MISMATCH), "key_mismatch");
    ck_assert_str_eq(ns_inventory_rc_name((ns_inventory_rc_t)42), "unknown");
    ns_inventory_destroy(&inv);
    ck_assert_ptr_null(inv);
    ns_inventory_destroy(&inv);
    ns_inventory_destroy(NULL);
}
END_TEST

/* A collector restart: the saved entry comes back disconnected with its identity and its
 * counters carried; the agent's next Hello (same instance) reconnects it; a malformed saved
 * entry is refused. */
START_TEST(restore_saved_entry)
{
    ns_inventory_t *inv = inventory(4);
    uint32_t a = hello(inv, "alpha", "fpr-a", 7, 1 * SEC, NS_INV_NEW);
    for (uint64_t s = 1; s <= 3; s++)
        ck_assert_int_eq(ns_inventory_batch(inv, a, s, 0, 2 * SEC), NS_SEQ_NEW);
    ck_assert_int_eq(ns_inventory_batch(inv, a, 9, 0, 2 * SEC), NS_SEQ_NEW);
    ns_inventory_agent_t saved = *ns_inventory_get(inv, a);
    ns_inventory_destroy(&inv);

    inv = inventory(4);
    ck_assert_int_eq(ns_inventory_restore(inv, &saved), NS_OK);
    ck_assert_int_eq(ns_inventory_restore(inv, &saved), NS_EINVAL); /* already there */
    uint32_t r = ns_inventory_find(inv, "alpha");
    ck_assert_uint_ne(r, NS_INV_NONE);
    const ns_inventory_agent_t *g = ns_inventory_get(inv, r);
    ck_assert(!g->connected);
    ck_assert_str_eq(g->hostname, "host-a");
    ck_assert_uint_eq(g->n_ifaces, 2);
    ck_assert_uint_eq(g->first_seen_ns, 1 * SEC);
    ck_assert_uint_eq(g->prior_batches, 4);
    ck_assert_uint_eq(g->batches, 0);
    /* reconnect with the same instance: the next batch is a new baseline, nothing lost */
    ck_assert_uint_eq(hello(inv, "alpha", "fpr-a", 7, 10 * SEC, NS_INV_RECONNECTED), r);
    ck_assert_int_eq(ns_inventory_batch(inv, r, 10, 0, 11 * SEC), NS_SEQ_NEW);
    ck_assert_uint_eq(ns_inventory_get(inv, r)->seq.lost, 0);
    /* a different key is still refused */
    hello(inv, "alpha", "fpr-x", 7, 12 * SEC, NS_INV_KEY_MISMATCH);

    ns_inventory_agent_t bad = saved;
    snprintf(bad.id, sizeof(bad.id), "beta");
    bad.n_ifaces = NS_INV_IFACES_MAX + 1;
    ck_assert_int_eq(ns_inventory_restore(inv, &bad), NS_EINVAL);
    bad = saved;
    snprintf(bad.id, sizeof(bad.id), "beta");
    memset(bad.hostname, 'x', sizeof(bad.hostname)); /* unterminated */
    ck_assert_int_eq(ns_inventory_restore(inv, &bad), NS_EINVAL);
    bad = saved;
    bad.id[0] = '\0';
    ck_assert_int_eq(ns_inventory_restore(inv, &bad), NS_EINVAL);
    ck_assert_uint_eq(ns_inventory_count(inv), 1);
    ns_inventory_destroy(&inv);
}
END_TEST

static Suite *
inventory_suite(void)
{
    Suite *s = suite_create("inventory");
    TCase *tc = tcase_create("identity");
    tcase_add_test(tc, register_and_find);
    tcase_add_test(tc, different_key_is_reported);
    tcase_add_test(tc, reconnect_and_restart);
    tcase_add_test(tc, unknown_instance);
    tcase_add_test(tc, capacity_and_delete);
    tcase_add_test(tc, many_agents);
    tcase_add_test(tc, restore_saved_entry);
    suite_add_tcase(s, tc);
    tc = tcase_create("messages");
    tcase_add_test(tc, batches_and_heartbeat);
    tcase_add_test(tc, interfaces);
    tcase_add_test(tc, clock_offset);
    tcase_add_test(tc, clock_extremes);
    tcase_add_test(tc, presence);
    suite_add_tcase(s, tc);
    tc = tcase_create("invalid");
    tcase_add_test(tc, invalid_identity);
    tcase_add_test(tc, oversized_hello);
    tcase_add_test(tc, unknown_index);
    suite_add_tcase(s, tc);
    tc = tcase_create("lifecycle");
    tcase_add_test(tc, lifecycle);
    suite_add_tcase(s, tc);
    return s;
}

NS_TEST_MAIN(inventory_suite)
