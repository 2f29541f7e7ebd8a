/* test_transport.c - key files (write, modes, parse, czmq's own format) and links over
 * loopback tcp and ipc: CURVE both ways, refusals, plain text against CURVE, revocation by
 * reload, reconnect detection, high-water mark, endpoint and option errors.
 *
 * Every wait polls towards a deadline (DEADLINE_MS) and stops as soon as the awaited thing
 * happened; nothing sleeps for a fixed long time. Links use ephemeral ports.
 */
#include <check.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netscope/transport.h"
#include "runner.h"

#define DEADLINE_MS 1500

/* A key pair from the ZeroMQ CURVE documentation (zmq_curve(7)): the public key is the one
 * derived from the secret key. */
#define DOC_PUB "Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID"
#define DOC_SEC "D:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs"
/* First 16 hex digits of SHA-256 over DOC_PUB's 32 bytes (computed with Python's hashlib). */
#define DOC_FINGERPRINT "ebb3af4dd99ceff3"

/* The secret file czmq 4.2.1's zcert_save() wrote for DOC_PUB/DOC_SEC with meta name=agent-7. */
static const char czmq_secret_file[] =
    "#   ****  Generated on 2026-12-04 17:03:21 by CZMQ  ****\n"
    "#   ZeroMQ CURVE **Secret** Certificate\n"
    "#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n"
    "\n"
    "metadata\n"
    "    name = \"agent-7\"\n"
    "curve\n"
    "    public-key = \"" DOC_PUB "\"\n"
    "    secret-key = \"" DOC_SEC "\"\n";

/* ---- helpers ------------------------------------------------------------------------ */

static int64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
nap_ms(int ms)
{
    struct timespec ts = {0, (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

typedef struct {
    char dir[64];
    char allowed[96];
} fx_t;

static void
fx_init(fx_t *f)
{
    snprintf(f->dir, sizeof f->dir, "/tmp/ns_transport_XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(f->dir));
    snprintf(f->allowed, sizeof f->allowed, "%s/allowed", f->dir);
    ck_assert_int_eq(mkdir(f->allowed, 0700), 0);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void
fx_fini(fx_t *f)
{
    nftw(f->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void
path_in(char *out, size_t len, const char *dir, const char *name)
{
    ck_assert_uint_lt((size_t)snprintf(out, len, "%s/%s", dir, name), len);
}

static void
write_text(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    ck_assert_int_eq(fchmod(fd, mode), 0);
    close(fd);
}

static unsigned
dir_entries(const char *path)
{
    DIR *d = opendir(path);
    ck_assert_ptr_nonnull(d);
    unsigned n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static unsigned
file_mode(const char *path)
{
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    return (unsigned)(st.st_mode & 07777);
}

/* A new key pair saved as DIR/NAME.key{,_secret}; with `allow`, its public file is moved into
 * the allowed-keys directory. */
static void
make_keys(const fx_t *f, const char *name, bool allow, ns_keypair_t *kp)
{
    char err[256], base[160], from[192], to[192];
    ck_assert_int_eq(ns_keypair_generate(kp, err, sizeof err), NS_OK);
    path_in(base, sizeof base, f->dir, name);
    ck_assert_msg(ns_keypair_save(kp, base, false, err, sizeof err) == NS_OK, "%s", err);
    if (allow) {
        snprintf(from, sizeof from, "%s%s", base, NS_KEY_PUBLIC_SUFFIX);
        snprintf(to, sizeof to, "%s/%s%s", f->allowed, name, NS_KEY_PUBLIC_SUFFIX);
        ck_assert_int_eq(rename(from, to), 0);
    }
}

typedef struct {
    int calls;
    char key[NS_KEY_Z85_LEN + 1];
    char address[NS_LINK_ADDR_MAX];
} refusals_t;

static void
on_refused(void *arg, const char *key_z85, const char *address)
{
    refusals_t *r = arg;
    r->calls++;
    snprintf(r->key, sizeof r->key, "%s", key_z85);
    snprintf(r->address, sizeof r->address, "%s", address);
}

static ns_link_t *
curve_router(const fx_t *f, const ns_keypair_t *server, refusals_t *ref, const char *endpoint)
{
    char err[256];
    ns_link_opts_t o = {
        .keys = server, .allowed_dir = f->allowed, .on_refused = on_refused, .on_refused_arg = ref};
    ns_link_t *r =
        ns_link_router_new(endpoint ? endpoint : "tcp://127.0.0.1:*", &o, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    return r;
}

static ns_link_t *
curve_dealer(const char *endpoint, const ns_keypair_t *own, const ns_key_t *server, const char *id)
{
    char err[256];
    ns_link_opts_t o = {.keys = own,
                        .server_key = server,
                        .routing_id = id,
                        .reconnect_ivl_ms = 20,
                        .reconnect_ivl_max_ms = 100};
    ns_link_t *d = ns_link_dealer_new(endpoint, &o, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    return d;
}

/* Send `text` from dealer `d` as soon as it has a session, letting router `r` answer ZAP in
 * the meantime (its owner must be in recv for a handshake to finish; nothing else may arrive).
 * Returns the last send result. */
static ns_link_rc_t
send_when_up(ns_link_t *d, ns_link_t *r, const char *text)
{
    int64_t end = now_ms() + DEADLINE_MS;
    ns_link_rc_t rc;
    while ((rc = ns_link_send(d, text, strlen(text))) == NS_LINK_AGAIN && now_ms() < end) {
        ns_link_msg_t m;
        ck_assert_int_eq(ns_link_recv(r, &m, 10), NS_LINK_TIMEOUT);
    }
    return rc;
}

/* Receive one message within the deadline. */
static void
recv_one(ns_link_t *l, ns_link_msg_t *m)
{
    int64_t end = now_ms() + DEADLINE_MS;
    ns_link_rc_t rc;
    do
        rc = ns_link_recv(l, m, 20);
    while (rc == NS_LINK_TIMEOUT && now_ms() < end);
    ck_assert_msg(rc == NS_LINK_OK, "no message: rc %d (%s)", rc, ns_link_error(l));
}

static bool
payload_is(const ns_link_msg_t *m, const char *text)
{
    return m->len == strlen(text) && memcmp(m->data, text, m->len) == 0;
}

/* ---- keys --------------------------------------------------------------------------- */

START_TEST(keys_roundtrip_and_modes)
{
    fx_t f;
    fx_init(&f);
    umask(0); /* a file created with default permissions would come out 0666 */
    ns_keypair_t kp, back;
    ns_key_t pub;
    char err[256], base[160], pub_path[192], sec_path[192];
    make_keys(&f, "node", false, &kp);
    path_in(base, sizeof base, f.dir, "node");
    snprintf(pub_path, sizeof pub_path, "%s.key", base);
    snprintf(sec_path, sizeof sec_path, "%s.key_secret", base);
    ck_assert_uint_eq(file_mode(sec_path), 0600);
    ck_assert_uint_eq(file_mode(pub_path), 0644);

    ck_assert_msg(ns_keypair_load(sec_path, &back, err, sizeof err) == NS_OK, "%s", err);
    ck_assert_mem_eq(back.pub.bytes, kp.pub.bytes, NS_KEY_LEN);
    ck_assert_mem_eq(back.secret, kp.secret, NS_KEY_LEN);
    ck_assert_int_eq(ns_key_load(pub_path, &pub, err, sizeof err), NS_OK);
    ck_assert_mem_eq(pub.bytes, kp.pub.bytes, NS_KEY_LEN);

    /* No temporary files left behind: exactly the two files and the allowed directory. */
    ck_assert_uint_eq(dir_entries(f.dir), 3);
    ns_keypair_wipe(&kp);
    ck_assert_int_eq(kp.secret[0] | kp.secret[31], 0);
    fx_fini(&f);
}
END_TEST

START_TEST(keys_no_overwrite_without_force)
{
    fx_t f;
    fx_init(&f);
    ns_keypair_t first, second, back;
    char err[256], base[160], sec_path[192];
    make_keys(&f, "node", false, &first);
    ck_assert_int_eq(ns_keypair_generate(&second, err, sizeof err), NS_OK);
    path_in(base, sizeof base, f.dir, "node");
    snprintf(sec_path, sizeof sec_path, "%s.key_secret", base);

    ck_assert_int_eq(ns_keypair_save(&second, base, false, err, sizeof err), NS_EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "already exists"));
    ck_assert_int_eq(ns_keypair_load(sec_path, &back, err, sizeof err), NS_OK);
    ck_assert_mem_eq(back.pub.bytes, first.pub.bytes, NS_KEY_LEN);

    ck_assert_int_eq(ns_keypair_save(&second, base, true, err, sizeof err), NS_OK);
    ck_assert_int_eq(ns_keypair_load(sec_path, &back, err, sizeof err), NS_OK);
    ck_assert_mem_eq(back.pub.bytes, second.pub.bytes, NS_KEY_LEN);
    ck_assert_uint_eq(file_mode(sec_path), 0600);

    /* A directory that does not exist: a sentence, nothing written. */
    path_in(base, sizeof base, f.dir, "missing/node");
    ck_assert_int_eq(ns_keypair_save(&second, base, false, err, sizeof err), NS_EIO);
    ck_assert_ptr_nonnull(strstr(err, "cannot create"));
    fx_fini(&f);
}
END_TEST

START_TEST(keys_secret_modes_refused)
{
    fx_t f;
    fx_init(&f);
    ns_keypair_t kp;
    char err[256], path[160];
    path_in(path, sizeof path, f.dir, "s.key_secret");
    static const mode_t refused[] = {0644, 0640, 0604, 0660, 0601};
    for (unsigned i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        write_text(path, czmq_secret_file, refused[i]);
        ck_assert_int_eq(ns_keypair_load(path, &kp, err, sizeof err), NS_EINVAL);
        ck_assert_ptr_nonnull(strstr(err, "chmod 600"));
        ck_assert_int_eq(kp.secret[0] | kp.pub.bytes[0], 0);
    }
    write_text(path, czmq_secret_file, 0400);
    ck_assert_msg(ns_keypair_load(path, &kp, err, sizeof err) == NS_OK, "%s", err);

    path_in(path, sizeof path, f.dir, "absent.key_secret");
    ck_assert_int_eq(ns_keypair_load(path, &kp, err, sizeof err), NS_EIO);
    ck_assert_ptr_nonnull(strstr(err, "No such file"));

    ck_assert_int_eq(ns_keypair_load(f.dir, &kp, err, sizeof err), NS_EIO);
    ck_assert_ptr_nonnull(strstr(err, "not a regular file"));
    fx_fini(&f);
}
END_TEST

START_TEST(keys_public_file_is_not_a_secret)
{
    fx_t f;
    fx_init(&f);
    ns_keypair_t kp;
    char err[256], base[160], path[192];
    make_keys(&f, "node", false, &kp);
    path_in(base, sizeof base, f.dir, "node");
    snprintf(path, sizeof path, "%s.key", base);
    ck_assert_int_eq(chmod(path, 0600), 0);
    ck_assert_int_eq(ns_keypair_load(path, &kp, err, sizeof err), NS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "no secret key"));
    fx_fini(&f);
}
END_TEST

START_TEST(keys_czmq_file_and_fingerprint)
{
    ns_keypair_t kp;
    bool has_secret = false;
    char err[128], z85[NS_KEY_Z85_LEN + 1], fp[NS_KEY_FINGERPRINT_LEN + 1];
    ck_assert_int_eq(ns_key_decode(czmq_secret_file, strlen(czmq_secret_file), &kp, &has_secret,
                                   err, sizeof err),
                     NS_OK);
    ck_assert(has_secret);
    ns_key_z85(&kp.pub, z85);
    ck_assert_str_eq(z85, DOC_PUB);
    ns_key_fingerprint(&kp.pub, fp);
    ck_assert_str_eq(fp, DOC_FINGERPRINT);
    /* The raw key (Z85 decoded independently, RFC 32) starts bb 88 47 1d. */
    ck_assert_uint_eq(kp.pub.bytes[0], 0xbb);
    ck_assert_uint_eq(kp.pub.bytes[3], 0x1d);
    ck_assert_uint_eq(kp.pub.bytes[31], 0x18);
}
END_TEST

START_TEST(keys_z85)
{
    ns_key_t k;
    ck_assert(ns_key_from_z85(DOC_PUB, &k));
    ck_assert(!ns_key_from_z85(NULL, &k));
    ck_assert(!ns_key_from_z85("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hI", &k));   /* 39 */
    ck_assert(!ns_key_from_z85(DOC_PUB "0", &k));                                 /* 41 */
    ck_assert(!ns_key_from_z85("Yne@$w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{h\"D", &k)); /* '"' */
    /* "#####" is 85^5 - 1, more than 32 bits. */
    ck_assert(!ns_key_from_z85("#####w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID", &k));
}
END_TEST

/* ---- key file parsing: invalid ------------------------------------------------------- */

static void
decode_fails(const char *text, const char *why)
{
    ns_keypair_t kp;
    bool has_secret = true;
    char err[128] = "";
    ck_assert_int_eq(ns_key_decode(text, strlen(text), &kp, &has_secret, err, sizeof err),
                     NS_EFORMAT);
    ck_assert_msg(strstr(err, why) != NULL, "'%s' lacks '%s'", err, why);
    ck_assert(!has_secret);
    ck_assert_int_eq(kp.secret[0] | kp.pub.bytes[0], 0);
}

START_TEST(decode_invalid)
{
    decode_fails("", "no curve public-key");
    decode_fails("metadata\n    public-key = \"" DOC_PUB "\"\n", "no curve public-key");
    decode_fails("curve\n   public-key = \"" DOC_PUB "\"\n", "line 2: indentation");
    decode_fails("curve\n        public-key = \"" DOC_PUB "\"\n", "deeper");
    decode_fails("curve\n    public-key = \"" DOC_PUB "\n", "closing quote");
    decode_fails("curve\n    public-key = \"" DOC_PUB "\" junk\n", "unexpected text");
    decode_fails("curve\n\tpublic-key = \"" DOC_PUB "\"\n", "start with a name");
    decode_fails("curve\n    public-key = \"Yne@$w\"\n", "40 characters");
    decode_fails("curve\n    public-key\n", "40 characters");
    decode_fails("curve\n    public-key = \"" DOC_PUB "\"\n    public-key = \"" DOC_PUB "\"\n",
                 "twice");
    decode_fails("curve\n    public-key = \"#####w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\n",
                 "not valid Z85");
    /* A secret key that is not the public key's: DOC_SEC with the first character changed. */
    decode_fails("curve\n    public-key = \"" DOC_PUB "\"\n"
                 "    secret-key = \"E:)Q[IlAW!ahhC2ac:9*A}h:p?([4%wOTJ%JR%cs\"\n",
                 "does not belong");
}
END_TEST

START_TEST(decode_bounds)
{
    ns_keypair_t kp;
    bool has_secret;
    char err[128];
    /* Longer than NS_KEY_FILE_MAX: refused before parsing, whatever it holds. */
    size_t n = NS_KEY_FILE_MAX + 1;
    char *big = malloc(n);
    ck_assert_ptr_nonnull(big);
    memset(big, '#', n);
    ck_assert_int_eq(ns_key_decode(big, n, &kp, &has_secret, err, sizeof err), NS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "longer than"));
    free(big);
    /* Not NUL-terminated: an exact heap copy, so ASan sees any read past its end. */
    static const char text[] = "curve\n    public-key = \"" DOC_PUB "\"";
    for (size_t len = 0; len <= sizeof text - 1; len++) {
        char *copy = malloc(len ? len : 1);
        ck_assert_ptr_nonnull(copy);
        memcpy(copy, text, len);
        ns_err_t rc = ns_key_decode(copy, len, &kp, &has_secret, err, sizeof err);
        ck_assert_int_eq(rc, len == sizeof text - 1 ? NS_OK : NS_EFORMAT);
        free(copy);
    }
}
END_TEST

START_TEST(decode_valid_variants)
{
    ns_keypair_t kp;
    bool has_secret;
    char err[128];
    /* CRLF, comments after values, single quotes, unknown names and sections ignored. */
    static const char text[] = "# comment\r\n"
                               "other\r\n"
                               "    public-key = \"#####w-vo<fVvi]a<NY6T1ed:M$fCG*[IaLV{hID\"\r\n"
                               "curve   # trailing comment\r\n"
                               "    colour = blue\r\n"
                               "    public-key = '" DOC_PUB "'   # ours\r\n";
    ck_assert_msg(ns_key_decode(text, strlen(text), &kp, &has_secret, err, sizeof err) == NS_OK,
                  "%s", err);
    ck_assert(!has_secret);
    char z85[NS_KEY_Z85_LEN + 1];
    ns_key_z85(&kp.pub, z85);
    ck_assert_str_eq(z85, DOC_PUB);
}
END_TEST

/* ---- links: CURVE -------------------------------------------------------------------- */

/* A collector: a CURVE router on an ephemeral port whose allowed-keys directory holds the
 * public keys of `allowed` agents (agent-1, agent-2). */
typedef struct {
    fx_t f;
    ns_keypair_t server;
    ns_keypair_t agent[2];
    refusals_t ref;
    ns_link_t *r;
} cfx_t;

static void
cfx_init(cfx_t *c, unsigned allowed)
{
    memset(c, 0, sizeof *c);
    fx_init(&c->f);
    make_keys(&c->f, "collector", false, &c->server);
    for (unsigned i = 0; i < allowed; i++) {
        char name[16];
        snprintf(name, sizeof name, "agent-%u", i + 1);
        make_keys(&c->f, name, true, &c->agent[i]);
    }
    c->r = curve_router(&c->f, &c->server, &c->ref, NULL);
    ck_assert_uint_eq(ns_link_allowed_count(c->r), allowed);
}

static void
cfx_fini(cfx_t *c)
{
    ns_link_destroy(&c->r);
    ck_assert_ptr_null(c->r);
    fx_fini(&c->f);
}

START_TEST(curve_both_ways_router_sees_key)
{
    cfx_t c;
    cfx_init(&c, 1);
    ck_assert_ptr_nonnull(strstr(ns_link_endpoint(c.r), "tcp://127.0.0.1:"));
    ns_link_t *d = curve_dealer(ns_link_endpoint(c.r), &c.agent[0], &c.server.pub, "agent-1");

    ck_assert_int_eq(send_when_up(d, c.r, "hello"), NS_LINK_OK);
    ns_link_msg_t m;
    recv_one(c.r, &m);
    ck_assert(payload_is(&m, "hello"));
    ck_assert(m.has_key);
    ck_assert_mem_eq(m.key.bytes, c.agent[0].pub.bytes, NS_KEY_LEN);
    ck_assert(m.key_allowed);
    ck_assert_uint_eq(m.peer_len, 7);
    ck_assert_mem_eq(m.peer, "agent-1", 7);
    ck_assert_str_eq(m.address, "127.0.0.1");

    uint8_t peer[NS_LINK_PEER_MAX];
    size_t peer_len = m.peer_len;
    memcpy(peer, m.peer, peer_len);
    ck_assert_int_eq(ns_link_send_to(c.r, peer, peer_len, "ack 1", 5), NS_LINK_OK);
    recv_one(d, &m);
    ck_assert(payload_is(&m, "ack 1"));
    ck_assert_uint_eq(m.peer_len, 0);

    ck_assert_int_eq(ns_link_send_to(c.r, (const uint8_t *)"nobody", 6, "x", 1), NS_LINK_NOPEER);
    ck_assert_int_eq(ns_link_send(c.r, "x", 1), NS_LINK_ERROR);
    ck_assert_ptr_nonnull(strstr(ns_link_error(c.r), "send_to"));

    ns_link_stats_t st;
    ns_link_stats(d, &st);
    ck_assert(st.connected);
    ck_assert_uint_eq(st.sessions, 1);
    ck_assert_int_eq(c.ref.calls, 0);
    ns_link_destroy(&d);
    ck_assert_ptr_null(d);
    cfx_fini(&c);
}
END_TEST

START_TEST(curve_unknown_key_refused)
{
    cfx_t c;
    cfx_init(&c, 0);
    ns_keypair_t stranger;
    make_keys(&c.f, "stranger", false, &stranger);
    ns_link_t *d = curve_dealer(ns_link_endpoint(c.r), &stranger, &c.server.pub, "stranger");

    int got = 0;
    int64_t end = now_ms() + DEADLINE_MS;
    ns_link_msg_t m;
    while (c.ref.calls == 0 && now_ms() < end) {
        ck_assert_int_eq(ns_link_send(d, "let me in", 9), NS_LINK_AGAIN); /* no session */
        if (ns_link_recv(c.r, &m, 10) == NS_LINK_OK)
            got++;
    }
    ck_assert_int_ge(c.ref.calls, 1);
    char z85[NS_KEY_Z85_LEN + 1];
    ns_key_z85(&stranger.pub, z85);
    ck_assert_str_eq(c.ref.key, z85);
    ck_assert_str_eq(c.ref.address, "127.0.0.1");
    /* Give the refused dealer time to try again; still nothing gets in. */
    for (int i = 0; i < 10; i++)
        if (ns_link_recv(c.r, &m, 10) == NS_LINK_OK)
            got++;
    ck_assert_int_eq(got, 0);
    ns_link_stats_t st;
    ns_link_stats(c.r, &st);
    ck_assert_uint_eq(st.refused, (uint64_t)c.ref.calls);
    ck_assert_uint_eq(st.sessions, 0);
    /* The agent's side sees why: its handshakes fail, no session ever starts. */
    end = now_ms() + DEADLINE_MS;
    do
        ns_link_stats(d, &st);
    while (st.handshake_failures == 0 && now_ms() < end && (nap_ms(2), true));
    ck_assert_uint_ge(st.handshake_failures, 1);
    ck_assert(!st.connected);
    ck_assert_uint_eq(st.sessions, 0);
    ns_link_destroy(&d);
    cfx_fini(&c);
}
END_TEST

START_TEST(plain_dealer_to_curve_router_refused)
{
    cfx_t c;
    cfx_init(&c, 1);
    char err[256];
    ns_link_opts_t o = {.reconnect_ivl_ms = 20, .reconnect_ivl_max_ms = 100};
    ns_link_t *d = ns_link_dealer_new(ns_link_endpoint(c.r), &o, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);

    int got = 0;
    ns_link_stats_t st = {0};
    int64_t end = now_ms() + DEADLINE_MS;
    ns_link_msg_t m;
    while (st.handshake_failures == 0 && now_ms() < end) {
        ck_assert_int_eq(ns_link_send(d, "plain", 5), NS_LINK_AGAIN);
        if (ns_link_recv(c.r, &m, 10) == NS_LINK_OK)
            got++;
        ns_link_stats(c.r, &st);
    }
    ck_assert_uint_ge(st.handshake_failures, 1);
    ck_assert_int_eq(got, 0);
    ck_assert_uint_eq(st.sessions, 0);
    ck_assert_int_eq(c.ref.calls, 0); /* refused by the mechanism, before ZAP */
    ns_link_destroy(&d);
    cfx_fini(&c);
}
END_TEST

START_TEST(curve_revoked_by_reload)
{
    cfx_t c;
    cfx_init(&c, 2);
    const ns_keypair_t *agent = &c.agent[0];
    ns_link_t *d = curve_dealer(ns_link_endpoint(c.r), agent, &c.server.pub, "agent-1");
    ck_assert_int_eq(send_when_up(d, c.r, "before"), NS_LINK_OK);
    ns_link_msg_t m;
    recv_one(c.r, &m);
    ck_assert(payload_is(&m, "before"));
    ck_assert(m.key_allowed);

    char path[192], err[256];
    snprintf(path, sizeof path, "%s/agent-1.key", c.f.allowed);
    ck_assert_int_eq(unlink(path), 0);
    ck_assert_msg(ns_link_reload(c.r, err, sizeof err) == NS_OK, "%s", err);
    ck_assert_uint_eq(ns_link_allowed_count(c.r), 1);
    ck_assert(!ns_link_key_allowed(c.r, &agent->pub));
    ck_assert(ns_link_key_allowed(c.r, &c.agent[1].pub));

    /* The dealer connected before the reload is still connected: its messages say so. */
    ck_assert_int_eq(ns_link_send(d, "after", 5), NS_LINK_OK);
    recv_one(c.r, &m);
    ck_assert(payload_is(&m, "after"));
    ck_assert(m.has_key);
    ck_assert_mem_eq(m.key.bytes, agent->pub.bytes, NS_KEY_LEN);
    ck_assert(!m.key_allowed);

    /* A new handshake with the revoked key is refused. */
    ns_link_t *d2 = curve_dealer(ns_link_endpoint(c.r), agent, &c.server.pub, "agent-1b");
    int64_t end = now_ms() + DEADLINE_MS;
    while (c.ref.calls == 0 && now_ms() < end)
        ns_link_recv(c.r, &m, 10);
    ck_assert_int_eq(c.ref.calls, 1);

    /* A malformed key file makes reload fail whole; the list in force stays. */
    snprintf(path, sizeof path, "%s/broken.key", c.f.allowed);
    write_text(path, "curve\n    public-key = \"short\"\n", 0644);
    ck_assert_int_eq(ns_link_reload(c.r, err, sizeof err), NS_EFORMAT);
    ck_assert_ptr_nonnull(strstr(err, "broken.key"));
    ck_assert(ns_link_key_allowed(c.r, &c.agent[1].pub));
    ns_link_destroy(&d2);
    ns_link_destroy(&d);
    cfx_fini(&c);
}
END_TEST

START_TEST(curve_reconnect_detected)
{
    cfx_t c;
    cfx_init(&c, 1);
    char endpoint[NS_LINK_ENDPOINT_MAX];
    snprintf(endpoint, sizeof endpoint, "%s", ns_link_endpoint(c.r));
    ns_link_t *d = curve_dealer(endpoint, &c.agent[0], &c.server.pub, "agent-1");
    ck_assert_int_eq(send_when_up(d, c.r, "one"), NS_LINK_OK);
    ns_link_msg_t m;
    recv_one(c.r, &m);

    ns_link_destroy(&c.r);
    ns_link_stats_t st = {.connected = true};
    int64_t end = now_ms() + DEADLINE_MS;
    while (st.connected && now_ms() < end) {
        nap_ms(5);
        ns_link_stats(d, &st);
    }
    ck_assert(!st.connected);
    ck_assert_uint_eq(st.sessions, 1);
    ck_assert_uint_ge(st.disconnects, 1);
    ck_assert_int_eq(ns_link_send(d, "lost", 4), NS_LINK_AGAIN);

    c.r = curve_router(&c.f, &c.server, &c.ref, endpoint);
    ck_assert_int_eq(send_when_up(d, c.r, "two"), NS_LINK_OK);
    recv_one(c.r, &m);
    ck_assert(payload_is(&m, "two"));
    ns_link_stats(d, &st);
    ck_assert(st.connected);
    ck_assert_uint_eq(st.sessions, 2);
    ns_link_destroy(&d);
    cfx_fini(&c);
}
END_TEST

/* ---- links: plain text, limits -------------------------------------------------------- */

static void
wait_connected(ns_link_t *d)
{
    ns_link_stats_t st = {0};
    int64_t end = now_ms() + DEADLINE_MS;
    while (!st.connected && now_ms() < end) {
        nap_ms(2);
        ns_link_stats(d, &st);
    }
    ck_assert(st.connected);
}

START_TEST(plain_ipc_exchange)
{
    fx_t f;
    fx_init(&f);
    char ep[128], err[256];
    snprintf(ep, sizeof ep, "ipc://%s/collector.sock", f.dir);
    ns_link_t *r = ns_link_router_new(ep, NULL, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_str_eq(ns_link_endpoint(r), ep);
    ns_link_t *d = ns_link_dealer_new(ep, NULL, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    wait_connected(d);
    ck_assert_int_eq(ns_link_send(d, "over ipc", 8), NS_LINK_OK);
    ns_link_msg_t m;
    recv_one(r, &m);
    ck_assert(payload_is(&m, "over ipc"));
    ck_assert(!m.has_key);
    ck_assert(m.key_allowed);
    ck_assert_uint_gt(m.peer_len, 0); /* libzmq's own routing id */
    ck_assert_int_eq(ns_link_reload(r, err, sizeof err), NS_EINVAL);
    ns_link_destroy(&d);
    ns_link_destroy(&r);
    fx_fini(&f);
}
END_TEST

START_TEST(plain_high_water_mark)
{
    char err[256];
    ns_link_opts_t ro = {.rcvhwm = 1, .sndhwm = 1};
    ns_link_t *r = ns_link_router_new("tcp://127.0.0.1:*", &ro, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ns_link_opts_t dopts = {
        .sndhwm = 1, .rcvhwm = 1, .max_msg_bytes = 256 * 1024, .linger_ms = 100};
    ns_link_t *d = ns_link_dealer_new(ns_link_endpoint(r), &dopts, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    wait_connected(d);

    static uint8_t big[256 * 1024 + 1];
    ck_assert_int_eq(ns_link_send(d, big, sizeof big), NS_LINK_TOOBIG);
    /* The router never reads: socket buffers and queues fill, then sends say AGAIN. */
    int sent = 0;
    ns_link_rc_t rc = NS_LINK_OK;
    for (int i = 0; i < 400 && rc == NS_LINK_OK; i++) {
        rc = ns_link_send(d, big, sizeof big - 1);
        sent += rc == NS_LINK_OK;
    }
    ck_assert_int_eq(rc, NS_LINK_AGAIN);
    ck_assert_int_ge(sent, 1);
    /* Messages are queued that the router will never take: destroy waits for the linger
     * (100 ms), not for them. */
    int64_t t0 = now_ms();
    ns_link_destroy(&d);
    ck_assert_int_lt(now_ms() - t0, 1000);
    ns_link_destroy(&r);
}
END_TEST

START_TEST(dealer_without_collector)
{
    char err[256];
    /* Nothing listens on port 9 of 127.0.0.1 here: no session, so sends are refused at once
     * (the agent keeps its data) and receives time out. */
    ns_link_t *d = ns_link_dealer_new("tcp://127.0.0.1:9", NULL, err, sizeof err);
    ck_assert_msg(d != NULL, "%s", err);
    ck_assert_int_eq(ns_link_send(d, "never", 5), NS_LINK_AGAIN);
    ns_link_msg_t m;
    int64_t t0 = now_ms();
    ck_assert_int_eq(ns_link_recv(d, &m, 0), NS_LINK_TIMEOUT);
    ck_assert_int_eq(ns_link_recv(d, &m, 30), NS_LINK_TIMEOUT);
    ck_assert_int_ge(now_ms() - t0, 30);
    ck_assert_int_eq(ns_link_recv(d, &m, -1), NS_LINK_ERROR);
    ck_assert_ptr_nonnull(strstr(ns_link_error(d), "timeout"));
    ns_link_destroy(&d);
    ck_assert_ptr_null(d);
    ns_link_destroy(&d); /* NULL-safe */
    ns_link_destroy(NULL);
}
END_TEST

/* ---- links: invalid endpoints and options ---------------------------------------------- */

/* Creating a router (or a dealer) on `ep` with `o` fails with a sentence containing `why`. */
static void
link_fails(bool router, const char *ep, const ns_link_opts_t *o, const char *why)
{
    char err[256] = "";
    ns_link_t *l = router ? ns_link_router_new(ep, o, err, sizeof err)
                          : ns_link_dealer_new(ep, o, err, sizeof err);
    ck_assert_msg(l == NULL, "%s %s was accepted", router ? "router" : "dealer",
                  ep ? ep : "(null)");
    ck_assert_msg(strstr(err, why) != NULL, "%s: '%s' lacks '%s'", ep, err, why);
}

START_TEST(bad_endpoints)
{
    link_fails(false, NULL, NULL, "no endpoint");
    link_fails(false, "", NULL, "no endpoint");
    link_fails(false, "tcp://nohost", NULL, "no port");
    link_fails(false, "foo", NULL, "not an endpoint");
    link_fails(false, "udp://127.0.0.1:5555", NULL, "not an endpoint");
    link_fails(false, "tcp://127.0.0.1:70000", NULL, "port");
    link_fails(false, "tcp://127.0.0.1:-1", NULL, "port");
    link_fails(false, "tcp://127.0.0.1:55x", NULL, "port");
    link_fails(false, "tcp://127.0.0.1:0", NULL, "1..65535");
    link_fails(false, "tcp://127.0.0.1:*", NULL, "1..65535");
    link_fails(false, "tcp://:5555", NULL, "no valid host");
    link_fails(false, "tcp://::1:5555", NULL, "IPv6");
    link_fails(false, "tcp://a b:5555", NULL, "space");
    link_fails(false, "inproc://collector", NULL, "inproc");
    link_fails(false, "ipc://", NULL, "ipc path");
    link_fails(true, "tcp://127.0.0.1:65536", NULL, "0..65535");
    link_fails(true, "tcp://nohost:5555", NULL, "no such local address");

    char err[256];
    ns_link_t *r = ns_link_router_new("tcp://127.0.0.1:*", NULL, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    link_fails(true, ns_link_endpoint(r), NULL, "in use");
    ns_link_destroy(&r);
}
END_TEST

START_TEST(bad_options)
{
    fx_t f;
    fx_init(&f);
    ns_keypair_t kp;
    make_keys(&f, "node", false, &kp);
    const char *ep = "tcp://127.0.0.1:5555";
    link_fails(false, ep, &(ns_link_opts_t){.keys = &kp}, "collector's public key");
    link_fails(false, ep, &(ns_link_opts_t){.allowed_dir = f.allowed}, "router options");
    link_fails(false, ep, &(ns_link_opts_t){.sndhwm = -1}, "high-water");
    link_fails(false, ep, &(ns_link_opts_t){.linger_ms = -1}, "linger");
    link_fails(false, ep, &(ns_link_opts_t){.heartbeat_ivl_ms = -2}, "heartbeat");
    link_fails(false, ep, &(ns_link_opts_t){.max_msg_bytes = (int64_t)1 << 31}, "max_msg_bytes");
    link_fails(false, ep, &(ns_link_opts_t){.routing_id = ""}, "routing_id");
    link_fails(false, ep, &(ns_link_opts_t){.reconnect_ivl_ms = 500, .reconnect_ivl_max_ms = 100},
               "below");
    const char *any = "tcp://127.0.0.1:*";
    link_fails(true, any, &(ns_link_opts_t){.keys = &kp}, "allowed-keys directory");
    link_fails(true, any, &(ns_link_opts_t){.routing_id = "x"}, "dealer options");

    char missing[160], path[192];
    path_in(missing, sizeof missing, f.dir, "no-such-dir");
    link_fails(true, any, &(ns_link_opts_t){.keys = &kp, .allowed_dir = missing},
               "cannot read allowed-keys directory");

    /* Only "*.key" files count: a backup copy and a README are ignored... */
    path_in(path, sizeof path, f.allowed, "old.key~");
    write_text(path, "not a key", 0644);
    path_in(path, sizeof path, f.allowed, "README");
    write_text(path, "copy agents' NAME.key files here\n", 0644);
    char err[256];
    ns_link_opts_t o = {.keys = &kp, .allowed_dir = f.allowed};
    ns_link_t *r = ns_link_router_new(any, &o, err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_uint_eq(ns_link_allowed_count(r), 0);
    ns_link_destroy(&r);
    /* ...but a malformed one is an error that names it. */
    path_in(path, sizeof path, f.allowed, "bad.key");
    write_text(path, "curve\n  public-key = x\n", 0644);
    link_fails(true, any, &o, "bad.key is not a key file");
    fx_fini(&f);
}
END_TEST

static Suite *
transport_suite(void)
{
    Suite *s = suite_create("transport");
    TCase *keys = tcase_create("keys");
    tcase_add_test(keys, keys_roundtrip_and_modes);
    tcase_add_test(keys, keys_no_overwrite_without_force);
    tcase_add_test(keys, keys_secret_modes_refused);
    tcase_add_test(keys, keys_public_file_is_not_a_secret);
    tcase_add_test(keys, keys_czmq_file_and_fingerprint);
    tcase_add_test(keys, keys_z85);
    suite_add_tcase(s, keys);

    TCase *invalid = tcase_create("invalid");
    tcase_add_test(invalid, decode_invalid);
    tcase_add_test(invalid, decode_bounds);
    tcase_add_test(invalid, decode_valid_variants);
    tcase_add_test(invalid, bad_endpoints);
    tcase_add_test(invalid, bad_options);
    suite_add_tcase(s, invalid);

    TCase *curve = tcase_create("curve");
    tcase_add_test(curve, curve_both_ways_router_sees_key);
    tcase_add_test(curve, curve_unknown_key_refused);
    tcase_add_test(curve, plain_dealer_to_curve_router_refused);
    tcase_add_test(curve, curve_revoked_by_reload);
    tcase_add_test(curve, curve_reconnect_detected);
    suite_add_tcase(s, curve);

    TCase *link = tcase_create("lifecycle");
    tcase_add_test(link, plain_ipc_exchange);
    tcase_add_test(link, plain_high_water_mark);
    tcase_add_test(link, dealer_without_collector);
    suite_add_tcase(s, link);
    return s;
}

NS_TEST_MAIN(transport_suite)
