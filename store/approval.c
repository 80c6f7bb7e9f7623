/* Approval requests in the store (approval.h): "approvals" maps an id to the
 * request's JSON document, "approvals-pending" lists the ids still pending.
 * Every change is one short write transaction; a decision is a
 * compare-and-set on the state inside it. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "approval-internal.h"

#define ID_TRIES 16
#define PREFIX_MIN 4
#define LIST_BATCH 64
#define PRUNE_BATCH 1024

static int need_approvals(vigil_store *st)
{
        if (st->format >= 2)
                return 0;
        store_set_errmsg(st,
                         "store '%s' has format version %u, which has no approval requests; run 'vigil "
                         "store migrate'",
                         st->dir, st->format);
        return VIGIL_E_FORMAT;
}

static int64_t now_ms(void)
{
        return (int64_t)(vigil_now_us() / 1000u);
}

static int random_bytes(void *p, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t k = getrandom((uint8_t *)p + got, n - got, 0);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                got += (size_t)k;
        }
        return 0;
}

/* 40 random bits, 5 at a time. */
static int id_new(char ret[VIGIL_APPROVAL_ID_LEN + 1])
{
        uint8_t b[5];
        uint64_t v = 0;
        int r = random_bytes(b, sizeof b);

        if (r < 0)
                return r;
        for (size_t i = 0; i < sizeof b; i++)
                v = v << 8 | b[i];
        for (int i = VIGIL_APPROVAL_ID_LEN - 1; i >= 0; i--, v >>= 5)
                ret[i] = APPROVAL_ID_ALPHABET[v & 31];
        ret[VIGIL_APPROVAL_ID_LEN] = 0;
        return 0;
}

/* What a person typed, as an id or a prefix of one: case ignored, and the
 * letters Crockford's base32 reads as digits (i, l as 1; o as 0). */
static int id_normalize(const char *in, char ret[VIGIL_APPROVAL_ID_LEN + 1], size_t *ret_len)
{
        size_t n = in ? strlen(in) : 0;

        if (n < PREFIX_MIN || n > VIGIL_APPROVAL_ID_LEN)
                return -EINVAL;
        for (size_t i = 0; i < n; i++) {
                char c = (char)tolower((unsigned char)in[i]);

                if (c == 'i' || c == 'l')
                        c = '1';
                else if (c == 'o')
                        c = '0';
                if (!c || !strchr(APPROVAL_ID_ALPHABET, c))
                        return -EINVAL;
                ret[i] = c;
        }
        ret[n] = 0;
        *ret_len = n;
        return 0;
}

static int doc_decode(vigil_store *st, const MDB_val *k, const MDB_val *v, vigil_approval **ret)
{
        vigil_approval *a = NULL;
        int r = vigil_approval_from_json(v->mv_data, v->mv_size, &a);

        if (r == 0 &&
            (k->mv_size != VIGIL_APPROVAL_ID_LEN || memcmp(k->mv_data, a->id, VIGIL_APPROVAL_ID_LEN) != 0)) {
                a = vigil_approval_free(a);
                r = VIGIL_E_CORRUPT;
        }
        if (r == VIGIL_E_CORRUPT)
                store_set_errmsg(st, "approval request '%.*s': stored document is damaged",
                                 k->mv_size <= 64 ? (int)k->mv_size : 64, (const char *)k->mv_data);
        if (r < 0)
                return r;
        *ret = a;
        return 0;
}

static int doc_get(vigil_store *st, MDB_txn *txn, const char *id, vigil_approval **ret)
{
        MDB_val k = { VIGIL_APPROVAL_ID_LEN, (void *)id }, v;
        int rc = mdb_get(txn, st->approvals, &k, &v);

        if (rc == MDB_NOTFOUND) {
                store_set_errmsg(st, "no approval request '%s'", id);
                return -ENOENT;
        }
        if (rc)
                return store_mdb_error(st, rc, "read approval request");
        return doc_decode(st, &k, &v, ret);
}

/* Encode @a as stored, and make sure it decodes again: what the store
 * keeps must always be readable (a string that grows past its bound as
 * UTF-8 replacement characters is refused here, not found damaged later). */
static int doc_encode(vigil_store *st, const vigil_approval *a, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *text = NULL;
        vigil_approval *back = NULL;
        size_t len;
        int r = vigil_approval_to_json(a, true, &text);

        if (r < 0)
                return r;
        len = strlen(text);
        if (len > VIGIL_APPROVAL_JSON_MAX) {
                store_set_errmsg(st, "approval request too large (%zu bytes of JSON, at most %u)", len,
                                 VIGIL_APPROVAL_JSON_MAX);
                return -E2BIG;
        }
        r = vigil_approval_from_json(text, len, &back);
        vigil_approval_free(back);
        if (r == VIGIL_E_CORRUPT) {
                store_set_errmsg(st, "approval request has a field beyond its bound");
                return -EINVAL;
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(text);
        *ret_len = len;
        return 0;
}

static int doc_put(vigil_store *st, MDB_txn *txn, const vigil_approval *a, unsigned flags)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        MDB_val k = { VIGIL_APPROVAL_ID_LEN, (void *)a->id }, v;
        int r = doc_encode(st, a, &text, &len), rc;

        if (r < 0)
                return r;
        v = (MDB_val){ len, text };
        rc = mdb_put(txn, st->approvals, &k, &v, flags);
        if (rc)
                return store_mdb_error(st, rc, "store approval request");
        return 0;
}

static bool str_ok(const char *s)
{
        return !s || strlen(s) <= VIGIL_STORE_MAX_STRING;
}

static bool strv_ok(char *const *v, size_t n)
{
        if (n && !v)
                return false;
        if (n > VIGIL_STORE_MAX_ARGV)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!v[i] || !str_ok(v[i]))
                        return false;
        return true;
}

static bool approver_empty(const vigil_approver_id *b)
{
        return !b->subject && !b->email && !b->groups && !b->n_groups && !b->local && !b->via;
}

static bool approver_ok(const vigil_approver_id *b)
{
        return (b->subject || b->local) && str_ok(b->subject) && str_ok(b->email) && str_ok(b->local) &&
               str_ok(b->via) && strv_ok(b->groups, b->n_groups);
}

int vigil_approval_create(vigil_store *st, vigil_approval *a)
{
        uint8_t sid[VIGIL_SESSION_ID_LEN];
        MDB_txn *txn = NULL;
        MDB_stat ms;
        char id[VIGIL_APPROVAL_ID_LEN + 1];
        int r, rc;

        if (!st || !a)
                return -EINVAL;
        r = need_approvals(st);
        if (r < 0)
                return r;
        if (vigil_session_id_parse(a->session, sid) < 0 || !a->argc || !strv_ok(a->argv, a->argc) ||
            a->expires_ms <= 0 || !str_ok(a->user) || !str_ok(a->subject) || !str_ok(a->email) ||
            !strv_ok(a->groups, a->n_groups) || !str_ok(a->host) || !str_ok(a->runas) || !str_ok(a->cwd) ||
            !str_ok(a->exe) || !strv_ok(a->env, a->n_env) || !str_ok(a->rule) || !str_ok(a->approvers) ||
            (a->screen && strlen(a->screen) > VIGIL_APPROVAL_SCREEN_MAX) || a->reason ||
            !approver_empty(&a->decided_by)) {
                store_set_errmsg(
                        st, "approval request: a required field is missing or a field is out of bounds");
                return -EINVAL;
        }
        if (!a->created_ms)
                a->created_ms = now_ms();
        if (a->expires_ms <= a->created_ms) {
                store_set_errmsg(st, "approval request: it expires before it is created");
                return -EINVAL;
        }
        /* the canonical text of the session id (what the document keeps) */
        vigil_session_id_format(sid, a->session);
        a->state = VIGIL_APPROVAL_PENDING;
        a->decided_ms = 0;
        r = owner_self(&a->owner_pid, &a->owner_start, a->owner_boot);
        if (r < 0) {
                store_set_errmsg(st, "cannot read this process's identity from /proc");
                return r;
        }

        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                return r;
        rc = mdb_stat(txn, st->approvals_pending, &ms);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_stat");
                goto fail;
        }
        if (ms.ms_entries >= APPROVALS_PENDING_MAX) {
                store_set_errmsg(st, "too many approval requests are pending (%u)", APPROVALS_PENDING_MAX);
                r = -EAGAIN;
                goto fail;
        }
        for (int i = 0;; i++) {
                MDB_val k = { VIGIL_APPROVAL_ID_LEN, id }, v;

                if (i == ID_TRIES) {
                        store_set_errmsg(st, "no free approval request id after %d tries", ID_TRIES);
                        r = -EEXIST;
                        goto fail;
                }
                r = id_new(id);
                if (r < 0)
                        goto fail;
                rc = mdb_get(txn, st->approvals, &k, &v);
                if (rc == MDB_NOTFOUND)
                        break;
                if (rc) {
                        r = store_mdb_error(st, rc, "read approval request");
                        goto fail;
                }
        }
        memcpy(a->id, id, sizeof id);
        r = doc_put(st, txn, a, MDB_NOOVERWRITE);
        if (r >= 0) {
                MDB_val k = { VIGIL_APPROVAL_ID_LEN, id }, v = { 0, (void *)"" };

                rc = mdb_put(txn, st->approvals_pending, &k, &v, 0);
                if (rc)
                        r = store_mdb_error(st, rc, "store pending request");
        }
        if (r < 0)
                goto fail;
        rc = mdb_txn_commit(txn);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_txn_commit");
                memset(a->id, 0, sizeof a->id);
                return r;
        }
        return 0;
fail:
        memset(a->id, 0, sizeof a->id);
        mdb_txn_abort(txn);
        return r;
}

int vigil_approval_get(vigil_store *st, const char *id, vigil_approval **ret)
{
        char key[VIGIL_APPROVAL_ID_LEN + 1];
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        size_t n = 0;
        int r, rc;

        if (!st || !ret)
                return -EINVAL;
        r = need_approvals(st);
        if (r < 0)
                return r;
        if (id_normalize(id, key, &n) < 0) {
                store_set_errmsg(st,
                                 "'%s' is not an approval request id (%d to %d characters of 0-9 and a-z "
                                 "without u)",
                                 id ? id : "", PREFIX_MIN, VIGIL_APPROVAL_ID_LEN);
                return -EINVAL;
        }
        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        if (n == VIGIL_APPROVAL_ID_LEN) {
                r = doc_get(st, txn, key, ret);
                goto out;
        }
        rc = mdb_cursor_open(txn, st->approvals, &c);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_cursor_open");
                goto out;
        }
        {
                MDB_val k = { n, key }, v, k2, v2;

                rc = mdb_cursor_get(c, &k, &v, MDB_SET_RANGE);
                if (rc == MDB_NOTFOUND || (rc == 0 && (k.mv_size < n || memcmp(k.mv_data, key, n) != 0))) {
                        store_set_errmsg(st, "no approval request '%s'", key);
                        r = -ENOENT;
                        goto out;
                }
                if (rc) {
                        r = store_mdb_error(st, rc, "mdb_cursor_get");
                        goto out;
                }
                rc = mdb_cursor_get(c, &k2, &v2, MDB_NEXT);
                if (rc == 0 && k2.mv_size >= n && memcmp(k2.mv_data, key, n) == 0) {
                        store_set_errmsg(
                                st, "approval request prefix '%s' is ambiguous; give more of the id", key);
                        r = -EEXIST;
                        goto out;
                }
                if (rc && rc != MDB_NOTFOUND) {
                        r = store_mdb_error(st, rc, "mdb_cursor_get");
                        goto out;
                }
                r = doc_decode(st, &k, &v, ret);
        }
out:
        if (c)
                mdb_cursor_close(c);
        mdb_txn_abort(txn);
        return r;
}

/* ---- listing ---- */

typedef struct list_key {
        int64_t created_ms;
        char id[VIGIL_APPROVAL_ID_LEN + 1];
} list_key;

static int list_key_cmp(const void *x, const void *y)
{
        const list_key *a = x, *b = y;

        if (a->created_ms != b->created_ms)
                return a->created_ms < b->created_ms ? -1 : 1;
        return strcmp(a->id, b->id);
}

/* Pass 1: the ids to list with their creation time (ids are random, so the
 * table's order is not the order of creation). Only these two fields are
 * kept, whatever the number of requests. */
static int list_keys(vigil_store *st, bool pending_only, const char *session, list_key **ret, size_t *ret_n)
{
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        MDB_val k, v;
        list_key *keys = NULL;
        size_t n = 0, cap = 0;
        int r, rc;

        r = store_txn_begin(st, false, &txn);
        if (r < 0)
                return r;
        rc = mdb_cursor_open(txn, pending_only ? st->approvals_pending : st->approvals, &c);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_cursor_open");
                goto out;
        }
        for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
                vigil_approval *a = NULL;
                MDB_val dv = v;

                if (k.mv_size != VIGIL_APPROVAL_ID_LEN) {
                        store_set_errmsg(st, "approval table holds a key that is not a request id");
                        r = VIGIL_E_CORRUPT;
                        goto out;
                }
                if (pending_only) {
                        rc = mdb_get(txn, st->approvals, &k, &dv);
                        if (rc == MDB_NOTFOUND)
                                continue; /* pruned or damaged: nothing to list */
                        if (rc) {
                                r = store_mdb_error(st, rc, "read approval request");
                                goto out;
                        }
                }
                r = doc_decode(st, &k, &dv, &a);
                if (r < 0)
                        goto out;
                if ((!session || strcmp(a->session, session) == 0) &&
                    (!pending_only || a->state == VIGIL_APPROVAL_PENDING)) {
                        if (n == cap) {
                                size_t ncap = cap ? cap * 2 : 64;
                                list_key *nk = realloc(keys, ncap * sizeof *nk);

                                if (!nk) {
                                        vigil_approval_free(a);
                                        r = -ENOMEM;
                                        goto out;
                                }
                                keys = nk;
                                cap = ncap;
                        }
                        keys[n].created_ms = a->created_ms;
                        memcpy(keys[n].id, a->id, sizeof keys[n].id);
                        n++;
                }
                vigil_approval_free(a);
        }
        if (rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "mdb_cursor_get");
                goto out;
        }
        r = 0;
out:
        if (c)
                mdb_cursor_close(c);
        mdb_txn_abort(txn);
        if (r < 0) {
                free(keys);
                return r;
        }
        if (n > 1)
                qsort(keys, n, sizeof *keys, list_key_cmp);
        *ret = keys;
        *ret_n = n;
        return 0;
}

int vigil_approvals_list(vigil_store *st, bool pending_only, const char *session, vigil_approval_cb cb,
                         void *userdata)
{
        _cleanup_free_ list_key *keys = NULL;
        vigil_approval *batch[LIST_BATCH];
        size_t n = 0;
        int r;

        if (!st || !cb)
                return -EINVAL;
        r = need_approvals(st);
        if (r < 0)
                return r;
        r = list_keys(st, pending_only, session, &keys, &n);
        if (r < 0)
                return r;
        /* Pass 2: the documents, a batch per short read transaction; the
         * callbacks run outside any transaction. */
        for (size_t i = 0; i < n;) {
                MDB_txn *txn = NULL;
                size_t got = 0;

                r = store_txn_begin(st, false, &txn);
                if (r < 0)
                        return r;
                for (; i < n && got < LIST_BATCH; i++) {
                        vigil_approval *a = NULL;

                        r = doc_get(st, txn, keys[i].id, &a);
                        if (r == -ENOENT)
                                continue; /* pruned in between */
                        if (r < 0)
                                break;
                        /* decided in between: no longer pending */
                        if (pending_only && a->state != VIGIL_APPROVAL_PENDING) {
                                vigil_approval_free(a);
                                continue;
                        }
                        batch[got++] = a;
                }
                mdb_txn_abort(txn);
                if (r == -ENOENT)
                        r = 0;
                for (size_t j = 0; j < got; j++) {
                        if (r == 0)
                                r = cb(userdata, batch[j]);
                        vigil_approval_free(batch[j]);
                }
                if (r != 0)
                        return r;
        }
        return 0;
}

/* ---- deciding ---- */

static int approver_copy(const vigil_approver_id *src, vigil_approver_id *dst)
{
        vigil_approver_id c = { 0 };

        if ((src->subject && !(c.subject = strdup(src->subject))) ||
            (src->email && !(c.email = strdup(src->email))) ||
            (src->local && !(c.local = strdup(src->local))) || (src->via && !(c.via = strdup(src->via))))
                goto oom;
        if (src->groups) {
                c.groups = calloc(src->n_groups + 1, sizeof(char *));
                if (!c.groups)
                        goto oom;
                c.n_groups = src->n_groups;
                for (size_t i = 0; i < src->n_groups; i++)
                        if (!(c.groups[i] = strdup(src->groups[i])))
                                goto oom;
        }
        *dst = c;
        return 0;
oom:
        approver_id_clear(&c);
        return -ENOMEM;
}

/* A reason is one line of text a person reads. */
static bool reason_ok(const char *reason)
{
        if (!reason)
                return true;
        if (strlen(reason) > APPROVAL_REASON_MAX)
                return false;
        for (const unsigned char *p = (const unsigned char *)reason; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

/* The compare-and-set. @by may be NULL for REJECTED only when vigil itself
 * rejects (@internal: a lost supervisor, an ended session). */
static int decide(vigil_store *st, const char *id, vigil_approval_state to, const vigil_approver_id *by,
                  const char *reason, bool internal)
{
        vigil_approval *a = NULL;
        MDB_txn *txn = NULL;
        MDB_val k;
        int r, rc;

        r = need_approvals(st);
        if (r < 0)
                return r;
        if (!approval_id_valid(id)) {
                store_set_errmsg(st, "'%s' is not an approval request id", id ? id : "");
                return -EINVAL;
        }
        switch (to) {
        case VIGIL_APPROVAL_APPROVED:
                r = by ? 0 : -EINVAL;
                break;
        case VIGIL_APPROVAL_REJECTED:
                r = by || internal ? 0 : -EINVAL;
                break;
        case VIGIL_APPROVAL_TIMEOUT:
        case VIGIL_APPROVAL_WITHDRAWN:
                r = by ? -EINVAL : 0;
                break;
        case VIGIL_APPROVAL_PENDING:
        case _VIGIL_APPROVAL_STATE_MAX:
        default:
                r = -EINVAL;
                break;
        }
        if (r < 0 || (by && !approver_ok(by)) || !reason_ok(reason)) {
                store_set_errmsg(st, "bad decision: %s",
                                 !reason_ok(reason) ? "the reason must be one line of at most 1024 bytes"
                                                    : "the decider does not fit the outcome");
                return -EINVAL;
        }
        r = store_txn_begin(st, true, &txn);
        if (r < 0)
                return r;
        r = doc_get(st, txn, id, &a);
        if (r < 0)
                goto fail;
        if (a->state != VIGIL_APPROVAL_PENDING) {
                store_set_errmsg(st, "approval request '%s' is already %s", id,
                                 vigil_approval_state_name(a->state));
                r = -EALREADY;
                goto fail;
        }
        /* four eyes, as the last line: the callers check the rights first */
        if (by && ((by->subject && a->subject && strcmp(by->subject, a->subject) == 0) ||
                   (by->local && a->user && strcmp(by->local, a->user) == 0))) {
                store_set_errmsg(st, "approval request '%s' cannot be decided by its requester", id);
                r = -EPERM;
                goto fail;
        }
        a->state = to;
        if (by) {
                r = approver_copy(by, &a->decided_by);
                if (r < 0)
                        goto fail;
        }
        a->decided_ms = now_ms();
        if (a->decided_ms <= 0)
                a->decided_ms = 1;
        if (reason && !(a->reason = strdup(reason))) {
                r = -ENOMEM;
                goto fail;
        }
        r = doc_put(st, txn, a, 0);
        if (r < 0)
                goto fail;
        k = (MDB_val){ VIGIL_APPROVAL_ID_LEN, (void *)a->id };
        rc = mdb_del(txn, st->approvals_pending, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "delete pending request");
                goto fail;
        }
        rc = mdb_txn_commit(txn);
        vigil_approval_free(a);
        if (rc)
                return store_mdb_error(st, rc, "mdb_txn_commit");
        return 0;
fail:
        mdb_txn_abort(txn);
        vigil_approval_free(a);
        return r;
}

int vigil_approval_decide(vigil_store *st, const char *id, vigil_approval_state to,
                          const vigil_approver_id *by, const char *reason)
{
        if (!st)
                return -EINVAL;
        return decide(st, id, to, by, reason, false);
}

/* ---- reaping and pruning ---- */

typedef struct reap_ctx {
        vigil_store *st;
        const char *session;
        unsigned n;
} reap_ctx;

static int reap_one(void *userdata, const vigil_approval *a)
{
        reap_ctx *c = userdata;
        const char *why;
        int r;

        if (c->session && strcmp(a->session, c->session) == 0)
                why = "session ended";
        else if (!owner_alive(a->owner_pid, a->owner_start, a->owner_boot))
                why = "supervisor lost";
        else
                return 0;
        r = decide(c->st, a->id, VIGIL_APPROVAL_REJECTED, NULL, why, true);
        if (r == -EALREADY || r == -ENOENT)
                return 0; /* decided or pruned meanwhile */
        if (r < 0)
                return r;
        c->n++;
        return 0;
}

int vigil_approvals_reap(vigil_store *st, const char *session, unsigned *ret_n)
{
        reap_ctx c = { st, session, 0 };
        int r;

        if (!st)
                return -EINVAL;
        r = vigil_approvals_list(st, true, NULL, reap_one, &c);
        if (ret_n)
                *ret_n = c.n;
        return r < 0 ? r : 0;
}

/* One batch: up to PRUNE_BATCH requests after @from (exclusive; empty = from
 * the start). @return 1 when more may follow, 0 at the end, or an error. */
static int prune_batch(vigil_store *st, int64_t before_ms, bool dry_run,
                       char from[VIGIL_APPROVAL_ID_LEN + 1], uint64_t *n)
{
        MDB_txn *txn = NULL;
        MDB_cursor *c = NULL;
        MDB_val k = { strlen(from), from }, v;
        unsigned seen = 0;
        bool more;
        int r, rc;

        r = store_txn_begin(st, !dry_run, &txn);
        if (r < 0)
                return r;
        rc = mdb_cursor_open(txn, st->approvals, &c);
        if (rc) {
                r = store_mdb_error(st, rc, "mdb_cursor_open");
                goto fail;
        }
        rc = mdb_cursor_get(c, &k, &v, *from ? MDB_SET_RANGE : MDB_FIRST);
        if (rc == 0 && *from && k.mv_size == strlen(from) && memcmp(k.mv_data, from, k.mv_size) == 0)
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        for (; rc == 0 && seen < PRUNE_BATCH; seen++) {
                vigil_approval *a = NULL;

                if (k.mv_size == VIGIL_APPROVAL_ID_LEN)
                        memcpy(from, k.mv_data, VIGIL_APPROVAL_ID_LEN);
                /* a document that does not decode is left for someone to look at */
                if (doc_decode(st, &k, &v, &a) == 0 && a->state != VIGIL_APPROVAL_PENDING &&
                    a->created_ms < before_ms) {
                        if (!dry_run) {
                                MDB_val pk = { VIGIL_APPROVAL_ID_LEN, a->id };

                                rc = mdb_del(txn, st->approvals_pending, &pk, NULL);
                                if (rc == 0 || rc == MDB_NOTFOUND)
                                        rc = mdb_cursor_del(c, 0);
                                if (rc) {
                                        vigil_approval_free(a);
                                        r = store_mdb_error(st, rc, "delete approval request");
                                        goto fail;
                                }
                        }
                        (*n)++;
                }
                vigil_approval_free(a);
                rc = mdb_cursor_get(c, &k, &v, MDB_NEXT);
        }
        if (rc && rc != MDB_NOTFOUND) {
                r = store_mdb_error(st, rc, "mdb_cursor_get");
                goto fail;
        }
        mdb_cursor_close(c);
        more = rc == 0;
        if (dry_run)
                mdb_txn_abort(txn);
        else if ((rc = mdb_txn_commit(txn)))
                return store_mdb_error(st, rc, "mdb_txn_commit");
        return more;
fail:
        if (c)
                mdb_cursor_close(c);
        mdb_txn_abort(txn);
        return r;
}

int vigil_approvals_prune(vigil_store *st, int64_t before_ms, bool dry_run, uint64_t *ret_n)
{
        char from[VIGIL_APPROVAL_ID_LEN + 1] = "";
        uint64_t n = 0;
        int r;

        if (!st)
                return -EINVAL;
        if (st->format < 2) {
                /* a format 1 store (open read-only: a dry run) has none to prune */
                if (ret_n)
                        *ret_n = 0;
                return 0;
        }
        if (!dry_run && (st->flags & VIGIL_STORE_READONLY))
                return -EROFS;
        do
                r = prune_batch(st, before_ms, dry_run, from, &n);
        while (r > 0);
        if (r < 0)
                return r;
        if (ret_n)
                *ret_n = n;
        return 0;
}
