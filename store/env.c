/* Opening the store: directory checks, the LMDB environment, its tables and
 * the format version record. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store-internal.h"

#define DEFAULT_MAP_SIZE (1ull << 40)
#define MAX_READERS 1024

static _Thread_local char open_errmsg[512];
/* A handle is shared by the supervisor's threads (the recording's writer,
 * the approvals in the loop): each thread keeps the message of its own last
 * failure, so that neither reads or tears the other's. */
static _Thread_local char handle_errmsg[512];

const char *vigil_store_open_errmsg(void)
{
        return open_errmsg;
}

const char *vigil_store_errmsg(const vigil_store *st)
{
        return st ? handle_errmsg : open_errmsg;
}

void store_set_errmsg(vigil_store *st, const char *fmt, ...)
{
        va_list ap;
        char *buf = st ? handle_errmsg : open_errmsg;
        size_t sz = st ? sizeof handle_errmsg : sizeof open_errmsg;

        va_start(ap, fmt);
        vsnprintf(buf, sz, fmt, ap);
        va_end(ap);
}

int store_mdb_error(vigil_store *st, int rc, const char *what)
{
        store_set_errmsg(st, "%s: %s", what, mdb_strerror(rc));
        switch (rc) {
        case 0:
                return 0;
        case MDB_MAP_FULL:
                return -ENOSPC;
        case MDB_NOTFOUND:
                return -ENOENT;
        case MDB_KEYEXIST:
                return -EEXIST;
        case MDB_READERS_FULL:
        case MDB_TLS_FULL:
        case MDB_TXN_FULL:
        case MDB_CURSOR_FULL:
        case MDB_PAGE_FULL:
        case MDB_DBS_FULL:
                return -EAGAIN;
        case MDB_MAP_RESIZED:
                return -EAGAIN;
        case MDB_BAD_RSLOT:
        case MDB_BAD_TXN:
        case MDB_BAD_VALSIZE:
        case MDB_BAD_DBI:
        case MDB_INCOMPATIBLE:
                return -EINVAL;
        case MDB_VERSION_MISMATCH:
                return VIGIL_E_FORMAT;
        case MDB_CORRUPTED:
        case MDB_PAGE_NOTFOUND:
        case MDB_INVALID:
        case MDB_PANIC:
                return VIGIL_E_CORRUPT;
        default:
                return rc > 0 ? -rc : -EIO;
        }
}

int store_txn_begin(vigil_store *st, bool write, MDB_txn **ret)
{
        int rc;

        if (write && (st->flags & VIGIL_STORE_READONLY)) {
                store_set_errmsg(st, "store is open read-only");
                return -EROFS;
        }
        rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, ret);
        if (rc)
                return store_mdb_error(st, rc, "mdb_txn_begin");
        return 0;
}

/* The directory must belong to us and be closed to everyone else: LMDB readers
 * need write access to lock.mdb, so the directory mode is the only fence. */
static int check_dir(const char *dir, bool create)
{
        struct stat s;

        if (lstat(dir, &s) < 0) {
                if (errno != ENOENT || !create) {
                        int r = -errno;

                        if (errno == ENOENT)
                                store_set_errmsg(NULL, "store '%s' does not exist", dir);
                        else
                                store_set_errmsg(NULL, "store '%s': %s", dir, strerror(errno));
                        return r;
                }
                if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
                        int r = -errno;

                        store_set_errmsg(NULL, "cannot create store '%s': %s", dir, strerror(errno));
                        return r;
                }
                if (lstat(dir, &s) < 0)
                        return -errno;
        }
        if (!S_ISDIR(s.st_mode)) {
                store_set_errmsg(NULL, "store '%s' is not a directory", dir);
                return -ENOTDIR;
        }
        if (s.st_uid != geteuid() || (s.st_mode & 077)) {
                store_set_errmsg(NULL, "store '%s' must be a directory owned by uid %u with mode 0700 (is uid %u, mode %04o)",
                                 dir, (unsigned)geteuid(), (unsigned)s.st_uid, (unsigned)(s.st_mode & 07777));
                return -EPERM;
        }
        return 0;
}

static int open_dbi(vigil_store *st, MDB_txn *txn, const char *name, bool create, MDB_dbi *ret)
{
        int rc = mdb_dbi_open(txn, name, create ? MDB_CREATE : 0, ret);

        if (rc == MDB_NOTFOUND) {
                store_set_errmsg(st, "store '%s' is not a vigil store (no '%s' table)", st->dir, name);
                return VIGIL_E_CORRUPT;
        }
        if (rc)
                return store_mdb_error(st, rc, "mdb_dbi_open");
        return 0;
}

static const char format_key[] = "format";

/* Read the format record; -ENOENT when the table is empty (a new store). */
static int read_format(vigil_store *st, MDB_txn *txn, uint32_t *ret)
{
        MDB_val k = { sizeof format_key - 1, (void *)format_key }, v;
        int rc = mdb_get(txn, st->meta, &k, &v);

        if (rc == MDB_NOTFOUND)
                return -ENOENT;
        if (rc)
                return store_mdb_error(st, rc, "read format version");
        if (v.mv_size != 4) {
                store_set_errmsg(st, "store '%s': format record is damaged", st->dir);
                return VIGIL_E_CORRUPT;
        }
        *ret = be32_get(v.mv_data);
        return 0;
}

/* The tables of each format version; a version's list extends the one before. */
static const struct {
        const char *name;
        size_t off;
        uint32_t since; /* format version that added it */
} tables[] = {
        { "meta", offsetof(vigil_store, meta), 1 },
        { "sessions", offsetof(vigil_store, sessions), 1 },
        { "records", offsetof(vigil_store, records), 1 },
        { "events", offsetof(vigil_store, events), 1 },
        { "events_by_time", offsetof(vigil_store, evtime), 1 },
        { "by_user", offsetof(vigil_store, users), 1 },
        { "search", offsetof(vigil_store, search), 1 },
        { "unsealed", offsetof(vigil_store, unsealed), 1 },
        { "approvals", offsetof(vigil_store, approvals), 2 },
        { "approvals-pending", offsetof(vigil_store, approvals_pending), 2 },
};

static int tables_open(vigil_store *st, bool create, uint32_t *ret_format)
{
        MDB_txn *txn = NULL;
        uint32_t version = 0;
        int r, rc;

        r = store_txn_begin(st, create, &txn);
        if (r < 0)
                return r;
        /* An existing store must already have every table: never add tables to
         * something that is not ours. */
        r = open_dbi(st, txn, tables[0].name, create, &st->meta);
        if (r < 0)
                goto fail;
        r = read_format(st, txn, &version);
        if (r == -ENOENT) {
                MDB_stat ms;
                uint8_t v[4];
                MDB_val k = { sizeof format_key - 1, (void *)format_key }, val = { 4, v };

                /* A new environment: nothing but our empty meta table may exist. */
                MDB_dbi main_dbi;

                rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
                if (!rc)
                        rc = mdb_stat(txn, main_dbi, &ms);
                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_stat");
                        goto fail;
                }
                if (!create || ms.ms_entries > 1) {
                        store_set_errmsg(st, "store '%s' has no format version record (not a vigil store?)", st->dir);
                        r = VIGIL_E_CORRUPT;
                        goto fail;
                }
                be32_put(v, VIGIL_STORE_FORMAT);
                rc = mdb_put(txn, st->meta, &k, &val, 0);
                if (rc) {
                        r = store_mdb_error(st, rc, "write format version");
                        goto fail;
                }
                version = VIGIL_STORE_FORMAT;
        } else if (r < 0)
                goto fail;
        *ret_format = version;
        /* A reader may use an older store as it is: its tables mean what
         * they meant (a format 1 store has no approvals: those calls say to
         * migrate; before format 3 no value is in pieces, which the reads
         * take as it comes). A writer may not: it would write what older
         * readers misread. */
        if (version != VIGIL_STORE_FORMAT &&
            !(version >= 1 && version < VIGIL_STORE_FORMAT && (st->flags & VIGIL_STORE_READONLY))) {
                r = 0;
                goto fail; /* the caller reports; open no further tables */
        }
        st->format = version;
        for (size_t i = 1; i < ELEMENTSOF(tables); i++) {
                if (tables[i].since > version)
                        continue;
                r = open_dbi(st, txn, tables[i].name, create, (MDB_dbi *)((char *)st + tables[i].off));
                if (r < 0)
                        goto fail;
        }
        /* Handles opened in a read transaction stay valid after commit. */
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc)
                return store_mdb_error(st, rc, "mdb_txn_commit");
        return 0;
fail:
        if (txn)
                mdb_txn_abort(txn);
        return r;
}

/* The page size is the OS page's when the environment was made; values are
 * cut into pieces to fit it (pieces.c). */
static int geometry_read(vigil_store *st)
{
        MDB_stat ms;
        int rc = mdb_env_stat(st->env, &ms);

        if (rc)
                return store_mdb_error(st, rc, "mdb_env_stat");
        if (ms.ms_psize < 1024 || ms.ms_psize > 65536) {
                store_set_errmsg(st, "store '%s' has LMDB pages of %u bytes", st->dir, ms.ms_psize);
                return VIGIL_E_CORRUPT;
        }
        pieces_init(st, ms.ms_psize);
        return 0;
}

static int env_open(vigil_store *st, uint64_t map_size)
{
        unsigned envflags = MDB_NOTLS;
        int rc;

        if (st->flags & VIGIL_STORE_READONLY)
                envflags |= MDB_RDONLY;
        rc = mdb_env_create(&st->env);
        if (rc)
                return store_mdb_error(st, rc, "mdb_env_create");
        rc = mdb_env_set_mapsize(st->env, map_size ? map_size : DEFAULT_MAP_SIZE);
        if (!rc)
                rc = mdb_env_set_maxdbs(st->env, 16);
        if (!rc)
                rc = mdb_env_set_maxreaders(st->env, MAX_READERS);
        if (rc)
                return store_mdb_error(st, rc, "mdb_env_set");
        rc = mdb_env_open(st->env, st->dir, envflags, 0600);
        if (rc) {
                int r = store_mdb_error(st, rc, "mdb_env_open");

                if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH)
                        store_set_errmsg(st, "store '%s' is not a readable LMDB environment: %s", st->dir,
                                         mdb_strerror(rc));
                else if (rc == ENOENT)
                        store_set_errmsg(st, "store '%s' does not exist", st->dir);
                return r;
        }
        rc = geometry_read(st);
        if (rc < 0)
                return rc;
        if (!(st->flags & VIGIL_STORE_READONLY)) {
                int dead = 0;

                /* Reader slots of processes that died (SIGKILL) would pin old
                 * pages forever. */
                (void)mdb_reader_check(st->env, &dead);
        }
        return 0;
}

static int store_new(const vigil_store_options *o, vigil_store **ret)
{
        vigil_store *st = calloc(1, sizeof *st);

        if (!st)
                return -ENOMEM;
        st->dir = strdup(o->dir);
        st->key_path = strdup(o->key_path ? o->key_path : VIGIL_STORE_DEFAULT_KEY);
        if (!st->dir || !st->key_path) {
                vigil_store_close(st);
                return -ENOMEM;
        }
        st->flags = o->flags;
        st->zstd_level = o->zstd_level; /* 0: adaptive (stream.h) */
        *ret = st;
        return 0;
}

int vigil_store_open(const vigil_store_options *o, vigil_store **ret)
{
        vigil_store *st = NULL;
        bool create = o->flags & VIGIL_STORE_CREATE;
        uint32_t version = 0;
        struct stat s;
        char path[4096];
        int r;

        open_errmsg[0] = 0;
        if (!o->dir || !*o->dir) {
                store_set_errmsg(NULL, "no store directory given");
                return -EINVAL;
        }
        if ((o->flags & VIGIL_STORE_READONLY) && create)
                return -EINVAL;
        r = check_dir(o->dir, create);
        if (r < 0)
                return r;
        if (snprintf(path, sizeof path, "%s/data.mdb", o->dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        if (!create && stat(path, &s) < 0) {
                store_set_errmsg(NULL, "store '%s' does not exist (no data.mdb)", o->dir);
                return -ENOENT;
        }
        r = store_new(o, &st);
        if (r < 0)
                return r;
        r = env_open(st, o->map_size);
        if (r >= 0)
                r = tables_open(st, create, &version);
        if (r >= 0 && version != st->format) {
                if (version > VIGIL_STORE_FORMAT)
                        store_set_errmsg(st, "store '%s' has format version %u, newer than this vigil understands (%u)",
                                         st->dir, version, VIGIL_STORE_FORMAT);
                else
                        store_set_errmsg(st, "store '%s' has format version %u; run 'vigil store migrate' first",
                                         st->dir, version);
                r = VIGIL_E_FORMAT;
        }
        if (r < 0) {
                snprintf(open_errmsg, sizeof open_errmsg, "%s", handle_errmsg);
                vigil_store_close(st);
                return r;
        }
        *ret = st;
        return 0;
}

void store_key_free(void *key);

vigil_store *vigil_store_close(vigil_store *st)
{
        if (!st)
                return NULL;
        if (st->env)
                mdb_env_close(st->env);
        store_key_free(st->key);
        free(st->dir);
        free(st->key_path);
        free(st);
        return NULL;
}

/* Open just enough to read the format record, read-only. */
static int open_raw(const char *dir, bool write, vigil_store **ret, uint32_t *ret_version)
{
        vigil_store_options o = { .dir = dir, .flags = write ? 0 : VIGIL_STORE_READONLY };
        vigil_store *st = NULL;
        MDB_txn *txn = NULL;
        char path[4096];
        struct stat s;
        int r, rc;

        open_errmsg[0] = 0;
        r = check_dir(dir, false);
        if (r < 0)
                return r;
        snprintf(path, sizeof path, "%s/data.mdb", dir);
        if (stat(path, &s) < 0) {
                store_set_errmsg(NULL, "store '%s' does not exist (no data.mdb)", dir);
                return -ENOENT;
        }
        r = store_new(&o, &st);
        if (r < 0)
                return r;
        r = env_open(st, 0);
        if (r < 0)
                goto fail;
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                goto fail;
        rc = mdb_dbi_open(txn, "meta", 0, &st->meta);
        if (rc) {
                r = rc == MDB_NOTFOUND ? VIGIL_E_CORRUPT : store_mdb_error(st, rc, "mdb_dbi_open");
                if (rc == MDB_NOTFOUND)
                        store_set_errmsg(st, "store '%s' is not a vigil store (no 'meta' table)", dir);
                goto fail;
        }
        r = read_format(st, txn, ret_version);
        if (r == -ENOENT) {
                store_set_errmsg(st, "store '%s' has no format version record", dir);
                r = VIGIL_E_CORRUPT;
        }
        if (r < 0)
                goto fail;
        /* committed, not aborted: the meta handle must outlive this
         * transaction (a migration writes the version through it) */
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_txn_commit");
                goto fail;
        }
        *ret = st;
        return 0;
fail:
        if (txn)
                mdb_txn_abort(txn);
        snprintf(open_errmsg, sizeof open_errmsg, "%s", handle_errmsg);
        vigil_store_close(st);
        return r;
}

int vigil_store_format(const char *dir, uint32_t *ret_version)
{
        vigil_store *st = NULL;
        int r = open_raw(dir, false, &st, ret_version);

        vigil_store_close(st);
        return r;
}

/* Format 1 to 2: the approval requests (issue 9). Nothing else changes:
 * format 2 adds a record type (approval outcomes) and a decision (held)
 * that format 1 readers would refuse, which is why the version moves. */
static int migrate_1_to_2(vigil_store *st, MDB_txn *txn)
{
        for (size_t i = 0; i < ELEMENTSOF(tables); i++) {
                MDB_dbi dbi;
                int rc;

                if (tables[i].since != 2)
                        continue;
                rc = mdb_dbi_open(txn, tables[i].name, MDB_CREATE, &dbi);
                if (rc)
                        return store_mdb_error(st, rc, "create table");
        }
        return 0;
}

/* Format 2 to 3: values over what LMDB keeps in a leaf page may now be
 * stored in pieces (pieces.c), which a format 2 reader would take for
 * damaged records. What is stored stays valid as it is. */
static int migrate_2_to_3(vigil_store *st, MDB_txn *txn)
{
        (void)st;
        (void)txn;
        return 0;
}

/* Migrations from version N to N+1 (at index N), run in one write
 * transaction each, with the new version number. */
typedef int (*migrate_fn)(vigil_store *st, MDB_txn *txn);
static const migrate_fn migrations[VIGIL_STORE_FORMAT] = {
        [1] = migrate_1_to_2,
        [2] = migrate_2_to_3,
};

int vigil_store_migrate(const char *dir, uint32_t *ret_from)
{
        vigil_store *st = NULL;
        uint32_t version = 0;
        int r;

        r = open_raw(dir, false, &st, &version);
        if (r < 0)
                return r;
        vigil_store_close(st);
        st = NULL;
        if (version > VIGIL_STORE_FORMAT) {
                store_set_errmsg(NULL, "store '%s' has format version %u, newer than this vigil understands (%u)", dir,
                                 version, VIGIL_STORE_FORMAT);
                return VIGIL_E_FORMAT;
        }
        if (version == 0) {
                store_set_errmsg(NULL, "store '%s' has an invalid format version 0", dir);
                return VIGIL_E_CORRUPT;
        }
        *ret_from = version;
        if (version == VIGIL_STORE_FORMAT)
                return 0;
        r = open_raw(dir, true, &st, &version);
        if (r < 0)
                return r;
        for (uint32_t v = version; v < VIGIL_STORE_FORMAT; v++) {
                MDB_txn *txn = NULL;
                uint8_t vb[4];
                MDB_val k = { sizeof format_key - 1, (void *)format_key }, val = { 4, vb };
                int rc;

                if (!migrations[v]) {
                        store_set_errmsg(NULL, "no migration from format version %u", v);
                        r = VIGIL_E_FORMAT;
                        break;
                }
                r = store_txn_begin(st, true, &txn);
                if (r < 0)
                        break;
                r = migrations[v](st, txn);
                be32_put(vb, v + 1);
                if (r >= 0 && (rc = mdb_put(txn, st->meta, &k, &val, 0)))
                        r = store_mdb_error(st, rc, "write format version");
                if (r < 0) {
                        mdb_txn_abort(txn);
                        break;
                }
                rc = mdb_txn_commit(txn);
                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_txn_commit");
                        break;
                }
        }
        if (r < 0 && st)
                snprintf(open_errmsg, sizeof open_errmsg, "%s", handle_errmsg);
        vigil_store_close(st);
        return r < 0 ? r : 0;
}
