/* store.c - the store's environment: open, close, counters and read transactions.
 *
 * Design: one LMDB environment in opts.dir with fourteen named sub-databases (store.h lists
 * their keys; store_write.c writes them, store_read.c reads them). Every environment is
 * opened with MDB_NOTLS, so a read transaction belongs to its ns_store_read_t, not to a
 * thread slot, and readers never wait for the writer. The map starts small and the writer
 * grows it towards opts.max_size; because mdb_env_set_mapsize() needs no transaction open in
 * the process, readers hold `resize_lock` shared while their transaction lives and the writer
 * takes it exclusively for the moment of a resize (rare: the map doubles each time).
 *
 * "meta" holds "schema" (a 4-byte big-endian version; another version refuses to open) and
 * "next_fid" (the writer's next flow id, so ids keep increasing across restarts).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "store_int.h"

#define MIB (1024ull * 1024ull)

static const char *const db_names[DB_COUNT] = {
    "flows", "by_time", "by_host", "by_port", "by_agent", "by_cid",
    "by_uid", "by_conn", "series", "agents", "alerts", "alert_pcaps", "meta", "top_host",
};

void
ns_store_errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf == NULL || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, errlen, fmt, ap);
    va_end(ap);
}

uint64_t
ns_store_wall_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void
ns_store_opts_default(ns_store_opts_t *o)
{
    memset(o, 0, sizeof(*o));
    o->max_size = 1024 * MIB;
    o->commit_ms = 250;
    o->sync = NS_STORE_SYNC_META;
    o->queue_items = 65536;
    o->flow_keep_s = 7 * 86400ull;
    o->series_keep_s[NS_STORE_RES_1S] = 3600;
    o->series_keep_s[NS_STORE_RES_1M] = 7 * 86400ull;
    o->series_keep_s[NS_STORE_RES_1H] = 365 * 86400ull;
}

uint64_t
ns_store_data_pages(ns_store_t *s, MDB_txn *txn)
{
    MDB_stat st;
    uint64_t pages = 0;
    for (int i = 0; i < DB_COUNT; i++) {
        if (!s->has_alerts && (i == DB_ALERTS || i == DB_ALERT_PCAPS))
            continue; /* stand-ins (open_dbs()) */
        if (mdb_stat(txn, s->dbi[i], &st) == 0)
            pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    }
    /* The main tree (names of the sub-databases) and the free list: dbi 1 and 0. */
    for (MDB_dbi d = 0; d < 2; d++) {
        if (mdb_stat(txn, d, &st) == 0)
            pages += st.ms_branch_pages + st.ms_leaf_pages + st.ms_overflow_pages;
    }
    return pages;
}

/* Create the directory (0750) unless it exists. */
static bool
make_dir(const char *dir, char *errbuf, size_t errlen)
{
    if (mkdir(dir, 0750) == 0 || errno == EEXIST)
        return true;
    ns_store_errf(errbuf, errlen, "store: cannot create directory %s: %s", dir, strerror(errno));
    return false;
}

/* The "schema" value `v` names this build's version; else false with a sentence. */
static bool
schema_ok(ns_store_t *s, const MDB_val *v, char *errbuf, size_t errlen)
{
    const uint8_t *p = v->mv_data;
    uint32_t ver = v->mv_size == 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
                                         (uint32_t)p[2] << 8 | p[3]
                                   : 0;
    if (ver == NS_STORE_SCHEMA)
        return true;
    ns_store_errf(errbuf, errlen,
                  "store: %s has schema version %u; this build reads version %u only "
                  "(version 2 added the per-host sums of top queries, which a version 1 store "
                  "lacks; version 3 keys them by time first; version 4 keys the uid and "
                  "community id indexes by hour first): move the directory away, or "
                  "read it with a matching netscope",
                  s->path, ver, NS_STORE_SCHEMA);
    return false;
}

/* Check (or, in a new writable database, write) the schema version; read next_fid. */
static bool
check_meta(ns_store_t *s, char *errbuf, size_t errlen)
{
    MDB_txn *txn = NULL;
    bool ok = false;
    int rc = mdb_txn_begin(s->env, NULL, s->o.readonly ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: %s: %s", s->path, mdb_strerror(rc));
        return false;
    }
    MDB_val k = {6, "schema"}, v;
    rc = mdb_get(txn, s->dbi[DB_META], &k, &v);
    if (rc == MDB_NOTFOUND && !s->o.readonly) {
        uint8_t b[4] = {0, 0, 0, NS_STORE_SCHEMA};
        MDB_val nv = {4, b};
        rc = mdb_put(txn, s->dbi[DB_META], &k, &nv, 0);
        if (rc != 0) {
            ns_store_errf(errbuf, errlen, "store: %s: cannot write the schema version: %s",
                          s->path, mdb_strerror(rc));
            goto out;
        }
    } else if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: %s holds no NetScope schema version (%s)", s->path,
                      mdb_strerror(rc));
        goto out;
    } else {
        if (!schema_ok(s, &v, errbuf, errlen))
            goto out;
    }
    MDB_val fk = {8, "next_fid"}, fv;
    s->next_fid = 1;
    if (mdb_get(txn, s->dbi[DB_META], &fk, &fv) == 0 && fv.mv_size == 8)
        s->next_fid = ns_store_be64_get(fv.mv_data);
    /* A fid past the last stored one, whatever "meta" says. */
    MDB_cursor *c = NULL;
    if (mdb_cursor_open(txn, s->dbi[DB_FLOWS], &c) == 0) {
        MDB_val lk, lv;
        if (mdb_cursor_get(c, &lk, &lv, MDB_LAST) == 0 && lk.mv_size == 8) {
            uint64_t last = ns_store_be64_get(lk.mv_data);
            if (last >= s->next_fid)
                s->next_fid = last + 1;
        }
        mdb_cursor_close(c);
    }
    ok = true;
out:
    if (ok && !s->o.readonly) {
        rc = mdb_txn_commit(txn);
        if (rc != 0) {
            ns_store_errf(errbuf, errlen, "store: %s: %s", s->path, mdb_strerror(rc));
            ok = false;
        }
    } else {
        mdb_txn_abort(txn);
    }
    return ok;
}

static bool
open_dbs(ns_store_t *s, char *errbuf, size_t errlen)
{
    MDB_txn *txn = NULL;
    int rc = mdb_txn_begin(s->env, NULL, s->o.readonly ? MDB_RDONLY : 0, &txn);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: %s: %s", s->path, mdb_strerror(rc));
        return false;
    }
    s->has_alerts = true;
    for (int i = 0; i < DB_COUNT; i++) {
        if (i == DB_TOP_HOST) {
            /* "meta" is open: a store of another schema is refused before anything of this
             * one (top_host) is created in it. */
            MDB_val k = {6, "schema"}, v;
            if (mdb_get(txn, s->dbi[DB_META], &k, &v) == 0 && !schema_ok(s, &v, errbuf, errlen)) {
                mdb_txn_abort(txn);
                return false;
            }
        }
        rc = mdb_dbi_open(txn, db_names[i], s->o.readonly ? 0 : MDB_CREATE, &s->dbi[i]);
        if (rc == MDB_NOTFOUND && (i == DB_ALERTS || i == DB_ALERT_PCAPS)) {
            /* a store last written before alerts existed: readable, without alerts (the
             * collector's next writable open creates both) */
            s->has_alerts = false;
            s->dbi[i] = s->dbi[DB_AGENTS]; /* opened already; never read: see has_alerts */
            continue;
        }
        if (rc != 0) {
            ns_store_errf(errbuf, errlen,
                          rc == MDB_NOTFOUND
                              ? "store: %s is not a NetScope store (no \"%s\" table: %s)"
                              : "store: %s: cannot open table %s: %s",
                          s->path, db_names[i], mdb_strerror(rc));
            mdb_txn_abort(txn);
            return false;
        }
    }
    /* Committed even when read-only: an aborted transaction closes the handles it opened. */
    rc = mdb_txn_commit(txn);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: %s: %s", s->path, mdb_strerror(rc));
        return false;
    }
    return true;
}

ns_store_t *
ns_store_open(const ns_store_opts_t *o, char *errbuf, size_t errlen)
{
    ns_store_errf(errbuf, errlen, "%s", "");
    if (o == NULL || o->dir == NULL || o->dir[0] == '\0') {
        ns_store_errf(errbuf, errlen, "store: no directory given");
        return NULL;
    }
    if (o->max_size < MIB) {
        ns_store_errf(errbuf, errlen, "store: max_size %llu is below the 1 MiB minimum",
                      (unsigned long long)o->max_size);
        return NULL;
    }
    if (strlen(o->dir) + 16 > sizeof(((ns_store_t *)0)->path)) {
        ns_store_errf(errbuf, errlen, "store: directory name too long");
        return NULL;
    }
    ns_store_t *s = calloc(1, sizeof(*s));
    if (s == NULL) {
        ns_store_errf(errbuf, errlen, "store: out of memory");
        return NULL;
    }
    s->o = *o;
    if (s->o.commit_ms == 0)
        s->o.commit_ms = 250;
    if (s->o.queue_items == 0)
        s->o.queue_items = 65536;
    snprintf(s->path, sizeof(s->path), "%s", o->dir);
    /* Writer first: a stream of overlapping readers must not starve a map resize. */
    pthread_rwlockattr_t ra;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&s->resize_lock, &ra);
    pthread_rwlockattr_destroy(&ra);
    pthread_mutex_init(&s->qlock, NULL);
    pthread_cond_init(&s->qcond, NULL);
    pthread_cond_init(&s->donecond, NULL);
    pthread_mutex_init(&s->pool_lock, NULL);
    pthread_mutex_init(&s->stats_lock, NULL);

    if (!s->o.readonly && !make_dir(o->dir, errbuf, errlen))
        goto fail;
    int rc = mdb_env_create(&s->env);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: %s", mdb_strerror(rc));
        goto fail;
    }
    mdb_env_set_maxdbs(s->env, DB_COUNT + 2);
    mdb_env_set_maxreaders(s->env, 256);
    /* Start at 64 MiB (or max_size): the writer doubles it as the data grows. LMDB raises it
     * to what an existing file already uses. */
    uint64_t start = o->max_size < 64 * MIB ? o->max_size : 64 * MIB;
    mdb_env_set_mapsize(s->env, (size_t)start);
    unsigned flags = MDB_NOTLS;
    if (s->o.readonly)
        flags |= MDB_RDONLY;
    else if (s->o.sync == NS_STORE_SYNC_META)
        flags |= MDB_NOMETASYNC;
    else if (s->o.sync == NS_STORE_SYNC_NONE)
        flags |= MDB_NOSYNC;
    rc = mdb_env_open(s->env, o->dir, flags, 0640);
    if (rc != 0) {
        ns_store_errf(errbuf, errlen, "store: cannot open the database in %s: %s%s", o->dir,
                      mdb_strerror(rc),
                      s->o.readonly && rc == ENOENT ? " (no store there yet)" : "");
        goto fail;
    }
    MDB_envinfo info;
    mdb_env_info(s->env, &info);
    s->map_size = info.me_mapsize;
    MDB_stat est;
    mdb_env_stat(s->env, &est);
    s->psize = est.ms_psize;
    if (!open_dbs(s, errbuf, errlen) || !check_meta(s, errbuf, errlen))
        goto fail;
    if (!s->o.readonly) {
        char cerr[256];
        ns_codec_opts_t co;
        ns_codec_opts_default(&co);
        co.arena_bytes = co.max_msg_bytes; /* encode only: the decode arena stays unused */
        s->enc = ns_codec_new(&co, cerr, sizeof(cerr));
        s->scratch_cap = NS_CODEC_DEFAULT_MAX_MSG + NS_STORE_VHDR_LEN + 256;
        s->scratch = malloc(s->scratch_cap);
        s->acc = calloc(NS_STORE_ACC_SLOTS, sizeof(*s->acc));
        if (s->enc == NULL || s->scratch == NULL || s->acc == NULL) {
            ns_store_errf(errbuf, errlen, "store: out of memory");
            goto fail;
        }
        /* The queue's byte bound: an average of 2 KiB per slot, at least 16 MiB. */
        s->q_bytes_max = (size_t)s->o.queue_items * 2048u;
        if (s->q_bytes_max < 16 * MIB)
            s->q_bytes_max = 16 * MIB;
        if (!ns_store_writer_start(s, errbuf, errlen))
            goto fail;
    }
    s->st.max_size = o->max_size;
    return s;
fail:
    ns_store_close(&s);
    return NULL;
}

void
ns_store_close(ns_store_t **self_p)
{
    if (self_p == NULL || *self_p == NULL)
        return;
    ns_store_t *s = *self_p;
    *self_p = NULL;
    if (s->writer_started)
        ns_store_writer_stop(s);
    if (s->env)
        mdb_env_close(s->env);
    ns_codec_destroy(&s->enc);
    while (s->pool) {
        ns_store_codec_slot_t *n = s->pool->next;
        ns_codec_destroy(&s->pool->codec);
        free(s->pool->groups);
        free(s->pool);
        s->pool = n;
    }
    free(s->scratch);
    free(s->acc);
    free(s->fill.b);
    free(s->work.b);
    free(s->pending);
    for (int i = 0; i < DB_COUNT; i++)
        ns_store_stage_fini(&s->stage[i]);
    ns_store_stage_fini(&s->dups);
    free(s->dup_sigs);
    free(s->fitems);
    pthread_rwlock_destroy(&s->resize_lock);
    pthread_mutex_destroy(&s->qlock);
    pthread_cond_destroy(&s->qcond);
    pthread_cond_destroy(&s->donecond);
    pthread_mutex_destroy(&s->pool_lock);
    pthread_mutex_destroy(&s->stats_lock);
    free(s);
}

/* ---- read transactions ------------------------------------------------------------------ */

ns_store_read_t *
ns_store_read_begin(ns_store_t *self, char *errbuf, size_t errlen)
{
    ns_store_read_t *rd = calloc(1, sizeof(*rd));
    if (rd == NULL) {
        ns_store_errf(errbuf, errlen, "store: out of memory");
        return NULL;
    }
    rd->s = self;
    pthread_rwlock_rdlock(&self->resize_lock);
    int rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &rd->txn);
    if (rc == MDB_MAP_RESIZED) {
        /* Another process (the collector) grew the map: adopt its size, with no transaction
         * of ours open. */
        pthread_rwlock_unlock(&self->resize_lock);
        pthread_rwlock_wrlock(&self->resize_lock);
        mdb_env_set_mapsize(self->env, 0);
        pthread_rwlock_unlock(&self->resize_lock);
        pthread_rwlock_rdlock(&self->resize_lock);
        rc = mdb_txn_begin(self->env, NULL, MDB_RDONLY, &rd->txn);
    }
    if (rc != 0) {
        pthread_rwlock_unlock(&self->resize_lock);
        ns_store_errf(errbuf, errlen, "store: cannot begin a read: %s", mdb_strerror(rc));
        free(rd);
        return NULL;
    }
    return rd;
}

void
ns_store_read_end(ns_store_read_t **rd_p)
{
    if (rd_p == NULL || *rd_p == NULL)
        return;
    ns_store_read_t *rd = *rd_p;
    *rd_p = NULL;
    if (rd->flows)
        mdb_cursor_close(rd->flows); /* a read transaction's cursors are not freed with it */
    mdb_txn_abort(rd->txn);
    pthread_rwlock_unlock(&rd->s->resize_lock);
    if (rd->slot) {
        pthread_mutex_lock(&rd->s->pool_lock);
        rd->slot->next = rd->s->pool;
        rd->s->pool = rd->slot;
        pthread_mutex_unlock(&rd->s->pool_lock);
    }
    free(rd);
}

/* ---- counters --------------------------------------------------------------------------- */

void
ns_store_stats(ns_store_t *self, ns_store_stats_t *out)
{
    pthread_mutex_lock(&self->stats_lock);
    *out = self->st;
    pthread_mutex_unlock(&self->stats_lock);
    out->max_size = self->o.max_size;
    out->queue_drops = atomic_load(&self->queue_drops);
    pthread_mutex_lock(&self->qlock);
    out->queue_depth = self->fill.items;
    pthread_mutex_unlock(&self->qlock);
    /* Sizes and the record count from the last committed state. */
    pthread_rwlock_rdlock(&self->resize_lock);
    MDB_envinfo info;
    if (mdb_env_info(self->env, &info) == 0)
        out->map_size = info.me_mapsize;
    MDB_txn *txn = NULL;
    if (mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn) == 0) {
        MDB_stat st;
        if (mdb_stat(txn, self->dbi[DB_FLOWS], &st) == 0)
            out->flows = st.ms_entries;
        out->used_bytes = ns_store_data_pages(self, txn) * self->psize;
        mdb_txn_abort(txn);
    }
    pthread_rwlock_unlock(&self->resize_lock);
    char p[4200];
    snprintf(p, sizeof(p), "%s/data.mdb", self->path);
    struct stat sb;
    if (stat(p, &sb) == 0)
        out->file_bytes = (uint64_t)sb.st_size;
}
