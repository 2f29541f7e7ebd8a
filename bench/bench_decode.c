/* bench_decode.c - decode cost per packet: ns_decode_frame over captures held in memory.
 *
 *   bench_decode [-n ROUNDS] [--path fast|cached|fields|all] FILE...
 *
 * Each capture is read once through the capture module (ns_capture_*) and copied into one
 * contiguous buffer, so the timed loop measures the decoder and nothing else: no file I/O, no
 * libpcap, no allocation. Every round decodes every packet once and is timed with
 * CLOCK_MONOTONIC (and, alongside, by the thread's CPU clock, which time-sharing with other jobs
 * inflates less); a round's cost is its time divided by its packets. After one untimed
 * warm-up round we report the median, minimum and maximum over ROUNDS rounds (default 7), for
 *   fast    the fast path: ns_decode_frame(..., fields = NULL, stats), as the agent and
 *           `netscope flows` call it (outcome counters on, as in production), streaming
 *           through the whole capture: each frame comes from memory, cache misses included;
 *   cached  the same calls, but on batches of frames first copied (untimed) into a small
 *           staging buffer, as libpcap's read buffer or a capture ring hands them over: the
 *           decoder's own cost with the frame in cache (wall clock only, timed per batch);
 *   fields  the fast-path walk filling a protocol tree (the `print --json` / inspector path).
 *
 *   bench_decode --ab A.so,B.so [-n ROUNDS] FILE...
 *
 * compares two builds of the decoder (bench/ab.sh builds them from two git revisions as shared
 * libraries) in one process, on the cached path: each batch of 256 frames is decoded by A and
 * by B in turn, some microseconds apart. A burst of load on this shared machine lasts
 * milliseconds to seconds, so both sides see the same machine: the median of the per-round
 * ratios A/B (> 1: B is faster) holds still where separate runs swing by 10-50%.
 *
 * Output: for each file and path one line of key=value pairs (parsed by bench/run.sh), then
 * how many packets each layer could not decode, so a benchmark on a file the decoder rejects
 * is visible as such.
 *
 * Design: the machine is shared and noisy, so rounds are many and short and the median is the
 * headline; the decoded summaries feed a checksum written to a volatile, so the compiler
 * cannot drop work whose result is unused.
 */
#include <dlfcn.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netscope/capture.h"
#include "netscope/decode.h"

#define DEFAULT_ROUNDS 7
#define DEFAULT_AB_ROUNDS 41
#define MAX_ROUNDS 1000
#define FIELDS_CAP 1024
#define ARENA_CAP 16384
#define BATCH_PKTS 256             /* frames per batch on the cached path */
#define STAGING_BYTES (512u << 10) /* about a core's L2 */

typedef enum { PATH_FAST, PATH_CACHED, PATH_FIELDS } path_t;

static const char *const g_path_names[] = {"fast", "cached", "fields"};

/* ---- a capture in memory ----------------------------------------------------------------- */

typedef struct {
    uint64_t off; /* into trace_t.bytes */
    uint32_t cap_len;
    uint32_t wire_len;
    uint64_t ts_ns;
} rec_t;

typedef struct {
    uint8_t *bytes;
    uint64_t used, cap;
    rec_t *recs;
    uint64_t n, n_cap;
    uint32_t linktype;
} trace_t;

static void
trace_fini(trace_t *t)
{
    free(t->bytes);
    free(t->recs);
    memset(t, 0, sizeof *t);
}

/* Grow `*p` (holding `*cap` elements of `size` bytes) to at least `need`. */
static bool
grow(void **p, uint64_t *cap, uint64_t need, size_t size)
{
    if (need <= *cap)
        return true;
    uint64_t n = *cap ? *cap : 1024;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, (size_t)(n * size));
    if (q == NULL)
        return false;
    *p = q;
    *cap = n;
    return true;
}

static bool
trace_add(trace_t *t, const ns_frame_t *fr)
{
    /* 8-byte aligned starts, as a capture ring lays frames out. */
    uint64_t at = (t->used + 7u) & ~(uint64_t)7u;
    if (!grow((void **)&t->bytes, &t->cap, at + fr->cap_len, 1) ||
        !grow((void **)&t->recs, &t->n_cap, t->n + 1, sizeof(rec_t)))
        return false;
    memcpy(t->bytes + at, fr->data, fr->cap_len);
    t->recs[t->n++] = (rec_t){at, fr->cap_len, fr->wire_len, fr->ts_ns};
    t->used = at + fr->cap_len;
    return true;
}

/* Read all of `path` into `t`. Returns false with a message on stderr. */
static bool
trace_load(trace_t *t, const char *path)
{
    char err[512] = "";
    ns_capture_opts_t o = {.file = path};
    ns_capture_t *cap = ns_capture_open(&o, err, sizeof err);
    if (cap == NULL) {
        fprintf(stderr, "bench_decode: %s\n", err);
        return false;
    }
    memset(t, 0, sizeof *t);
    t->linktype = ns_capture_linktype(cap);
    ns_frame_t fr;
    int rc;
    bool ok = true;
    while (ok && (rc = ns_capture_next(cap, &fr)) == NS_CAPTURE_FRAME)
        ok = trace_add(t, &fr);
    if (!ok)
        fprintf(stderr, "bench_decode: %s: out of memory\n", path);
    else if (rc == NS_CAPTURE_ERROR) {
        fprintf(stderr, "bench_decode: %s: %s\n", path, ns_capture_error(cap));
        ok = false;
    }
    ns_capture_destroy(&cap);
    return ok;
}

/* ---- timing -------------------------------------------------------------------------------- */

static uint64_t
clock_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Elapsed wall and CPU nanoseconds of one round. */
typedef struct {
    uint64_t wall_ns, cpu_ns;
} round_time_t;

static volatile uint64_t g_sink; /* keeps the decoded results alive */

/* ns_decode_frame's type, for the decoders of shared libraries (--ab). */
typedef __typeof__(&ns_decode_frame) decode_fn_t;

/* Decode every packet of `t` once; returns the elapsed time. */
static round_time_t
decode_round(const trace_t *t, ns_pkt_t *pkt, ns_fields_t *fields, ns_decode_stats_t *stats)
{
    uint64_t sum = 0;
    uint64_t c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < t->n; i++) {
        const rec_t *r = &t->recs[i];
        pkt->ts_ns = r->ts_ns;
        ns_decode_frame(t->linktype, t->bytes + r->off, r->cap_len, r->wire_len, pkt, fields,
                        stats);
        sum += pkt->layers + pkt->sport + pkt->payload_len + (fields ? fields->n : 0u);
    }
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    uint64_t c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    g_sink += sum;
    return (round_time_t){t1 - t0, c1 - c0};
}

/* Copy the frames from `i` on into `staging`, up to BATCH_PKTS of them or STAGING_BYTES (at
 * least one), each at an 8-byte aligned offset, stored in `off`. Returns how many. */
static uint64_t
stage_batch(const trace_t *t, uint64_t i, uint8_t *staging, uint64_t off[BATCH_PKTS])
{
    uint64_t used = 0, n = 0;
    for (; n < BATCH_PKTS && i + n < t->n; n++) {
        const rec_t *r = &t->recs[i + n];
        if (n > 0 && used + r->cap_len > STAGING_BYTES)
            break;
        memcpy(staging + used, t->bytes + r->off, r->cap_len);
        off[n] = used;
        used = (used + r->cap_len + 7u) & ~(uint64_t)7u;
    }
    return n;
}

/* Decode every packet once, a batch at a time: copy the batch into `staging` (untimed), then
 * decode it from there (timed). Returns the summed decode time (cpu_ns = 0: not measured,
 * the thread CPU clock is a system call, too slow to read per batch). */
static round_time_t
decode_round_cached(const trace_t *t, ns_pkt_t *pkt, ns_decode_stats_t *stats, uint8_t *staging)
{
    uint64_t sum = 0, wall = 0;
    uint64_t off[BATCH_PKTS];
    for (uint64_t i = 0; i < t->n;) {
        uint64_t n = stage_batch(t, i, staging, off);
        uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
        for (uint64_t k = 0; k < n; k++) {
            const rec_t *r = &t->recs[i + k];
            pkt->ts_ns = r->ts_ns;
            ns_decode_frame(t->linktype, staging + off[k], r->cap_len, r->wire_len, pkt, NULL,
                            stats);
            sum += pkt->layers + pkt->sport + pkt->payload_len;
        }
        wall += clock_ns(CLOCK_MONOTONIC) - t0;
        i += n;
    }
    g_sink += sum;
    return (round_time_t){wall, 0};
}

/* The clock this thread is getting, in GHz-equivalent: the rate of a chain of dependent
 * additions, each waiting for the one before, so one per cycle on any current x86-64 or
 * arm64 core. Frequency scaling, a busy sibling hyper-thread or a hypervisor's steal time all
 * lower it; it takes about 2 ms. On this shared machine it moves by about 2x from one second
 * to the next, which is why each round is weighed by it (cycles_median below). */
static double
machine_ghz(void)
{
    const uint64_t n = 4000000;
    uint64_t x = 0;
    uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
    for (uint64_t i = 0; i < n; i++) {
        x += 1;
        __asm__ volatile("" : "+r"(x)); /* keeps the chain: the compiler cannot fold it */
    }
    uint64_t t1 = clock_ns(CLOCK_MONOTONIC);
    g_sink += x;
    return t1 > t0 ? (double)n / (double)(t1 - t0) : 0.0;
}

static round_time_t
run_round(path_t path, const trace_t *t, ns_pkt_t *pkt, ns_fields_t *fields,
          ns_decode_stats_t *stats, uint8_t *staging)
{
    if (path == PATH_CACHED)
        return decode_round_cached(t, pkt, stats, staging);
    return decode_round(t, pkt, path == PATH_FIELDS ? fields : NULL, stats);
}

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of `n` values (sorts them). */
static double
median(double *v, uint32_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Time `rounds` rounds of one path and print its line. */
static void
bench_path(const char *file, const trace_t *t, uint32_t rounds, path_t path)
{
    static ns_field_t fv[FIELDS_CAP];
    static char arena[ARENA_CAP];
    ns_fields_t fields;
    ns_fields_init(&fields, fv, FIELDS_CAP, arena, ARENA_CAP);
    ns_decode_stats_t stats;
    ns_pkt_t *pkt = calloc(1, sizeof *pkt);
    uint8_t *staging = malloc(STAGING_BYTES + 65536u);
    double *ns = calloc(rounds, sizeof *ns), *cpu = calloc(rounds, sizeof *cpu);
    double *ghz = calloc(rounds, sizeof *ghz), *cyc = calloc(rounds, sizeof *cyc);
    if (pkt == NULL || staging == NULL || ns == NULL || cpu == NULL || ghz == NULL || cyc == NULL) {
        fprintf(stderr, "bench_decode: out of memory\n");
        exit(1);
    }
    memset(&stats, 0, sizeof stats);
    /* warm-up: caches, branch predictors, page faults */
    run_round(path, t, pkt, &fields, &stats, staging);
    for (uint32_t r = 0; r < rounds; r++) {
        double before = machine_ghz();
        round_time_t rt = run_round(path, t, pkt, &fields, &stats, staging);
        ghz[r] = (before + machine_ghz()) / 2;
        ns[r] = (double)rt.wall_ns / (double)t->n;
        cpu[r] = (double)rt.cpu_ns / (double)t->n;
        cyc[r] = ns[r] * ghz[r];
    }
    double lo = ns[0], hi = ns[0];
    for (uint32_t r = 1; r < rounds; r++) {
        lo = ns[r] < lo ? ns[r] : lo;
        hi = ns[r] > hi ? ns[r] : hi;
    }
    double med = median(ns, rounds);
    double cpu_med = median(cpu, rounds);
    double ghz_med = median(ghz, rounds), cyc_med = median(cyc, rounds);
    printf("decode file=%s packets=%llu path=%s rounds=%u median_ns=%.1f min_ns=%.1f "
           "max_ns=%.1f cpu_median_ns=%.1f mpps=%.2f ghz_median=%.2f cycles_median=%.0f\n",
           file, (unsigned long long)t->n, g_path_names[path], rounds, med, lo, hi,
           path == PATH_CACHED ? med : cpu_med, 1e3 / med, ghz_med, cyc_med);
    free(ghz);
    free(cyc);
    free(pkt);
    free(staging);
    free(ns);
    free(cpu);
}

/* ---- two decoders side by side (--ab) ------------------------------------------------------ */

/* One side of a comparison: a decoder loaded from a shared library. Its summary and counters
 * get blocks far larger than this tree's types, zeroed: the library may come from a revision
 * whose ns_pkt_t or ns_decode_stats_t differ (only pkt->ts_ns, at offset 0 in every revision,
 * is written here). */
#define AB_BLOCK (64u << 10)

typedef struct {
    const char *path;
    decode_fn_t decode;
    ns_pkt_t *pkt;
    ns_decode_stats_t *stats;
} ab_side_t;

static bool
ab_open(ab_side_t *s, const char *path)
{
    s->path = path;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (h == NULL) {
        fprintf(stderr, "bench_decode: %s\n", dlerror());
        return false;
    }
    /* POSIX: a function pointer may travel through the void * dlsym returns. */
    void *sym = dlsym(h, "ns_decode_frame");
    if (sym == NULL) {
        fprintf(stderr, "bench_decode: %s: no ns_decode_frame\n", path);
        return false;
    }
    memcpy(&s->decode, &sym, sizeof s->decode);
    s->pkt = calloc(1, AB_BLOCK);
    s->stats = calloc(1, AB_BLOCK);
    if (s->pkt == NULL || s->stats == NULL) {
        fprintf(stderr, "bench_decode: out of memory\n");
        return false;
    }
    return true;
}

/* Decode every packet of `t` with both sides, a batch at a time: each batch is staged once and
 * decoded by A and by B in turn (the order alternating from batch to batch), so both see the
 * same frames, equally warm, some microseconds apart. Adds each side's decode time to ns[]. */
static void
ab_round(const trace_t *t, ab_side_t *ab, uint8_t *staging, uint64_t ns[2])
{
    uint64_t off[BATCH_PKTS], sum = 0;
    for (uint64_t i = 0, batch = 0; i < t->n; batch++) {
        uint64_t n = stage_batch(t, i, staging, off);
        for (uint32_t j = 0; j < 2; j++) {
            ab_side_t *s = &ab[j ^ (batch & 1u)];
            uint64_t t0 = clock_ns(CLOCK_MONOTONIC);
            for (uint64_t k = 0; k < n; k++) {
                const rec_t *r = &t->recs[i + k];
                s->pkt->ts_ns = r->ts_ns;
                sum += (uint64_t)s->decode(t->linktype, staging + off[k], r->cap_len, r->wire_len,
                                           s->pkt, NULL, s->stats);
            }
            ns[s - ab] += clock_ns(CLOCK_MONOTONIC) - t0;
        }
        i += n;
    }
    g_sink += sum;
}

/* `rounds` rounds of ab_round() on `t`; prints each side's median ns/packet and the median
 * and quartiles of the per-round ratio A/B. */
static void
bench_ab(const char *file, const trace_t *t, uint32_t rounds, ab_side_t *ab)
{
    uint8_t *staging = malloc(STAGING_BYTES + 65536u);
    double *ns[2] = {calloc(rounds, sizeof(double)), calloc(rounds, sizeof(double))};
    double *ratio = calloc(rounds, sizeof(double));
    if (staging == NULL || ns[0] == NULL || ns[1] == NULL || ratio == NULL) {
        fprintf(stderr, "bench_decode: out of memory\n");
        exit(1);
    }
    uint64_t warm[2] = {0, 0}; /* warm-up: caches, branch predictors, page faults */
    ab_round(t, ab, staging, warm);
    for (uint32_t r = 0; r < rounds; r++) {
        uint64_t sum[2] = {0, 0};
        ab_round(t, ab, staging, sum);
        ns[0][r] = (double)sum[0] / (double)t->n;
        ns[1][r] = (double)sum[1] / (double)t->n;
        ratio[r] = ns[0][r] / ns[1][r];
    }
    double a = median(ns[0], rounds), b = median(ns[1], rounds);
    double med = median(ratio, rounds); /* sorts `ratio`: the quartiles are read off it */
    double q1 = ratio[rounds / 4], q3 = ratio[(3u * rounds) / 4];
    printf("ab file=%s packets=%llu rounds=%u a=%s b=%s a_median_ns=%.1f b_median_ns=%.1f "
           "ratio_median=%.3f ratio_q1=%.3f ratio_q3=%.3f\n",
           file, (unsigned long long)t->n, rounds, ab[0].path, ab[1].path, a, b, med, q1, q3);
    free(staging);
    free(ns[0]);
    free(ns[1]);
    free(ratio);
}

/* One untimed pass with counters: which layers did not decode cleanly, per outcome. */
static void
report_outcomes(const char *path, const trace_t *t)
{
    ns_decode_stats_t stats;
    memset(&stats, 0, sizeof stats);
    ns_pkt_t *pkt = calloc(1, sizeof *pkt);
    uint64_t clean = 0;
    for (uint64_t i = 0; pkt != NULL && i < t->n; i++) {
        const rec_t *r = &t->recs[i];
        if (ns_decode_frame(t->linktype, t->bytes + r->off, r->cap_len, r->wire_len, pkt, NULL,
                            &stats) == NS_PARSE_OK)
            clean++;
    }
    free(pkt);
    printf("outcomes file=%s packets=%llu ok=%llu", path, (unsigned long long)t->n,
           (unsigned long long)clean);
    for (int l = 0; l < NS_LAYER_COUNT; l++)
        for (int rc = 1; rc < NS_PARSE_RC_COUNT; rc++)
            if (stats.rc[l][rc] > 0)
                printf(" %s.%s=%llu", ns_layer_name((ns_layer_t)l),
                       ns_parse_rc_name((ns_parse_rc_t)rc), (unsigned long long)stats.rc[l][rc]);
    printf("\n");
}

/* ---- main ------------------------------------------------------------------------------------ */

static void
usage(FILE *fp)
{
    fprintf(fp,
            "usage: bench_decode [-n ROUNDS] [--path fast|cached|fields|all] FILE...\n"
            "       bench_decode --ab A.so,B.so [-n ROUNDS] FILE...\n"
            "Times ns_decode_frame over each capture held in memory; prints the median,\n"
            "minimum and maximum ns/packet over ROUNDS rounds (default %d), the clock the\n"
            "thread got around each round (ghz_median, GHz-equivalent, from a chain of\n"
            "dependent additions) and the median of ns/packet x that clock (cycles_median).\n"
            "--ab: the ns_decode_frame of two shared libraries (bench/ab.sh builds them),\n"
            "alternating batch by batch on the cached path (default %d rounds); prints the\n"
            "median ratio of their times, A/B (> 1: B is faster), and its quartiles.\n",
            DEFAULT_ROUNDS, DEFAULT_AB_ROUNDS);
}

int
main(int argc, char **argv)
{
    static const struct option lo[] = {{"rounds", required_argument, NULL, 'n'},
                                       {"path", required_argument, NULL, 'p'},
                                       {"ab", required_argument, NULL, 'a'},
                                       {"help", no_argument, NULL, 'h'},
                                       {NULL, 0, NULL, 0}};
    long rounds = 0;
    const char *which = NULL;
    char *ab_libs = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "n:p:h", lo, NULL)) != -1) {
        if (ch == 'n') {
            char *end = NULL;
            rounds = strtol(optarg, &end, 10);
            if (*end != '\0' || rounds < 1 || rounds > MAX_ROUNDS)
                rounds = -1;
        } else if (ch == 'p') {
            which = optarg;
        } else if (ch == 'a') {
            ab_libs = optarg;
        } else if (ch == 'h') {
            usage(stdout);
            return 0;
        } else {
            rounds = -1;
        }
    }
    /* --ab times the cached path only: a --path beside it is a mistake, not ignored. */
    bool path_given = which != NULL;
    if (!path_given)
        which = "all";
    bool all = strcmp(which, "all") == 0, known = all;
    for (int p = PATH_FAST; p <= PATH_FIELDS; p++)
        known = known || strcmp(which, g_path_names[p]) == 0;
    known = known && !(ab_libs && path_given);
    if (rounds == 0)
        rounds = ab_libs ? DEFAULT_AB_ROUNDS : DEFAULT_ROUNDS;
    char *comma = ab_libs ? strchr(ab_libs, ',') : NULL;
    if (rounds < 1 || optind >= argc || !known || (ab_libs && (comma == NULL || comma == ab_libs ||
                                                              comma[1] == '\0'))) {
        usage(stderr);
        return 2;
    }
    ab_side_t ab[2];
    if (ab_libs) {
        *comma = '\0';
        if (!ab_open(&ab[0], ab_libs) || !ab_open(&ab[1], comma + 1))
            return 1;
    }
    int status = 0;
    for (int i = optind; i < argc; i++) {
        trace_t t;
        if (!trace_load(&t, argv[i])) {
            status = 1;
            continue;
        }
        if (t.n == 0) {
            fprintf(stderr, "bench_decode: %s: no packets\n", argv[i]);
            status = 1;
        } else {
            report_outcomes(argv[i], &t);
            if (ab_libs)
                bench_ab(argv[i], &t, (uint32_t)rounds, ab);
            for (int p = PATH_FAST; p <= PATH_FIELDS && !ab_libs; p++)
                if (all || strcmp(which, g_path_names[p]) == 0)
                    bench_path(argv[i], &t, (uint32_t)rounds, (path_t)p);
        }
        fflush(stdout);
        trace_fini(&t);
    }
    return status;
}
