/* Approval outcomes of command events: a bounded cache over the sessions'
 * chains, and the JSON and CSV forms audit and export print. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "outcomes.h"
#include "vigil-error.h"

/* Sessions kept at once: audit's events come in time order, so those of
 * sessions running at the same time interleave, and a session evicted is
 * read again whole. */
#define CACHE_SESSIONS 64u
/* Per session: outcomes of at most this many commands, in this many bytes
 * (one outcome at least, whatever its size) ... */
#define WINDOW_OUTCOMES 1024u
#define WINDOW_BYTES (256u * 1024)
/* ... and for all sessions together: past this, the least recently used
 * other sessions go. */
#define TOTAL_OUTCOMES 8192u
#define TOTAL_BYTES (2u * 1024 * 1024)
/* A window starts a little before the command that needs it: events of
 * one session come in time order, which is not quite command order when
 * several processes exec at once. */
#define WINDOW_SLACK 16u

typedef struct slot {
        bool used;
        bool live;   /* the session had not ended when it was read */
        uint8_t id[VIGIL_SESSION_ID_LEN];
        uint32_t lo, hi; /* every outcome of a command in [lo, hi] is in v */
        vigil_approval_outcome *v; /* by command number */
        size_t n, bytes;
        vigil_approval_outcome *origins; /* the earlier approvals that remembered ones in v name */
        size_t n_origins, origin_bytes;
        uint64_t tick; /* last use */
} slot;

struct outcome_cache {
        vigil_store *st;
        slot slots[CACHE_SESSIONS];
        uint64_t tick;
};

bool outcome_wanted(vigil_decision_kind d)
{
        return d == VIGIL_DEC_APPROVED || d == VIGIL_DEC_REJECTED || d == VIGIL_DEC_TIMEOUT ||
               d == VIGIL_DEC_WITHDRAWN;
}

static void outcome_clear(vigil_approval_outcome *o)
{
        free(o->request);
        free(o->by_subject);
        free(o->by_email);
        for (size_t i = 0; i < o->by_n_groups; i++)
                free(o->by_groups[i]);
        free(o->by_groups);
        free(o->by_local);
        free(o->by_via);
        free(o->reason);
        *o = (vigil_approval_outcome){ 0 };
}

static int dup_str(const char *s, char **ret, size_t *bytes)
{
        *ret = NULL;
        if (!s)
                return 0;
        *ret = strdup(s);
        if (!*ret)
                return -ENOMEM;
        *bytes += strlen(s) + 1;
        return 0;
}

/* A deep copy of @src into @dst; *bytes grows by what it holds. */
static int outcome_copy(const vigil_approval_outcome *src, vigil_approval_outcome *dst, size_t *bytes)
{
        vigil_approval_outcome c = {
                .command_no = src->command_no,
                .decision = src->decision,
                .remembered = src->remembered,
                .decided_us = src->decided_us,
        };
        int r;

        *bytes += sizeof c;
        if ((r = dup_str(src->request, &c.request, bytes)) < 0 || (r = dup_str(src->by_subject, &c.by_subject, bytes)) < 0 ||
            (r = dup_str(src->by_email, &c.by_email, bytes)) < 0 || (r = dup_str(src->by_local, &c.by_local, bytes)) < 0 ||
            (r = dup_str(src->by_via, &c.by_via, bytes)) < 0 || (r = dup_str(src->reason, &c.reason, bytes)) < 0)
                goto fail;
        if (src->by_n_groups) {
                c.by_groups = calloc(src->by_n_groups, sizeof *c.by_groups);
                if (!c.by_groups) {
                        r = -ENOMEM;
                        goto fail;
                }
                *bytes += src->by_n_groups * sizeof *c.by_groups;
                for (; c.by_n_groups < src->by_n_groups; c.by_n_groups++) {
                        r = dup_str(src->by_groups[c.by_n_groups] ? src->by_groups[c.by_n_groups] : "",
                                    &c.by_groups[c.by_n_groups], bytes);
                        if (r < 0)
                                goto fail;
                }
        }
        *dst = c;
        return 0;
fail:
        outcome_clear(&c);
        return r;
}

static size_t outcome_bytes(const vigil_approval_outcome *o)
{
        size_t b = sizeof *o;
        const char *s[] = { o->request, o->by_subject, o->by_email, o->by_local, o->by_via, o->reason };

        for (size_t i = 0; i < sizeof s / sizeof s[0]; i++)
                b += s[i] ? strlen(s[i]) + 1 : 0;
        for (size_t i = 0; i < o->by_n_groups; i++)
                b += sizeof(char *) + strlen(o->by_groups[i]) + 1;
        return b;
}

static void slot_clear(slot *s)
{
        for (size_t i = 0; i < s->n; i++)
                outcome_clear(&s->v[i]);
        for (size_t i = 0; i < s->n_origins; i++)
                outcome_clear(&s->origins[i]);
        free(s->v);
        free(s->origins);
        *s = (slot){ 0 };
}

int outcome_cache_new(vigil_store *st, outcome_cache **ret)
{
        outcome_cache *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        c->st = st;
        *ret = c;
        return 0;
}

outcome_cache *outcome_cache_free(outcome_cache *c)
{
        if (!c)
                return NULL;
        for (size_t i = 0; i < CACHE_SESSIONS; i++)
                slot_clear(&c->slots[i]);
        free(c);
        return NULL;
}

/* The first index in @s->v whose command number is not below @no. */
static size_t lower_bound(const slot *s, uint32_t no)
{
        size_t a = 0, b = s->n;

        while (a < b) {
                size_t m = a + (b - a) / 2;

                if (s->v[m].command_no < no)
                        a = m + 1;
                else
                        b = m;
        }
        return a;
}

/* Scan callback: keep the outcomes of the window, the lowest command
 * numbers first; past the budget the highest go and the window shrinks. */
static int keep_window(void *userdata, const vigil_approval_outcome *o)
{
        slot *s = userdata;
        size_t at;
        int r;

        if (o->command_no < s->lo || o->command_no > s->hi)
                return 0;
        at = lower_bound(s, o->command_no);
        if (at < s->n && s->v[at].command_no == o->command_no)
                return 0; /* the writer decides a command once; a second record is verify's to report */
        if (s->n % 16 == 0) {
                vigil_approval_outcome *nv = realloc(s->v, (s->n + 16) * sizeof *nv);

                if (!nv)
                        return -ENOMEM;
                s->v = nv;
        }
        memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof *s->v);
        r = outcome_copy(o, &s->v[at], &s->bytes);
        if (r < 0) {
                memmove(&s->v[at], &s->v[at + 1], (s->n - at) * sizeof *s->v);
                return r;
        }
        s->n++;
        while (s->n > 1 && (s->n > WINDOW_OUTCOMES || s->bytes > WINDOW_BYTES)) {
                vigil_approval_outcome *last = &s->v[--s->n];

                s->hi = last->command_no - 1; /* above lo: the numbers in v are distinct */
                s->bytes -= outcome_bytes(last);
                outcome_clear(last);
        }
        return 0;
}

static const vigil_approval_outcome *origin_in(const vigil_approval_outcome *v, size_t n, const char *request)
{
        for (size_t i = 0; i < n; i++)
                if (!v[i].remembered && v[i].decision == VIGIL_DEC_APPROVED && v[i].request &&
                    strcmp(v[i].request, request) == 0)
                        return &v[i];
        return NULL;
}

static const vigil_approval_outcome *origin_of(const slot *s, const vigil_approval_outcome *o)
{
        const vigil_approval_outcome *a = origin_in(s->v, s->n, o->request);

        return a ? a : origin_in(s->origins, s->n_origins, o->request);
}

/* Scan callback: the earlier approvals that remembered outcomes of the
 * window name, when the window does not hold them. */
static int keep_origins(void *userdata, const vigil_approval_outcome *o)
{
        slot *s = userdata;
        bool needed = false;

        if (o->remembered || o->decision != VIGIL_DEC_APPROVED || !o->request || origin_of(s, o))
                return 0;
        for (size_t i = 0; i < s->n && !needed; i++)
                needed = s->v[i].remembered && strcmp(s->v[i].request, o->request) == 0;
        if (!needed)
                return 0;
        if (s->n_origins % 8 == 0) {
                vigil_approval_outcome *nv = realloc(s->origins, (s->n_origins + 8) * sizeof *nv);

                if (!nv)
                        return -ENOMEM;
                s->origins = nv;
        }
        if (outcome_copy(o, &s->origins[s->n_origins], &s->origin_bytes) < 0)
                return -ENOMEM;
        s->n_origins++;
        return 0;
}

/* Read the outcomes of @id's commands from @no (less the slack) on into @s. */
static int slot_fill(outcome_cache *c, slot *s, const uint8_t id[VIGIL_SESSION_ID_LEN], uint32_t no)
{
        vigil_session_info info = { 0 };
        bool orphans = false;
        int r;

        slot_clear(s);
        s->used = true;
        memcpy(s->id, id, VIGIL_SESSION_ID_LEN);
        s->lo = no > WINDOW_SLACK ? no - WINDOW_SLACK : 0;
        s->hi = UINT32_MAX;
        /* Before the chain: a session found ended here has all its records
         * in what is read next. */
        r = vigil_session_info_get(c->st, id, &info);
        if (r == -ENOENT)
                return 0; /* pruned under us: nothing to show */
        if (r < 0)
                return r;
        s->live = info.end_us == 0;
        vigil_session_info_clear(&info);
        r = vigil_store_session_approvals(c->st, id, keep_window, s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        for (size_t i = 0; i < s->n && !orphans; i++)
                orphans = s->v[i].remembered && !origin_of(s, &s->v[i]);
        if (orphans) {
                r = vigil_store_session_approvals(c->st, id, keep_origins, s);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        return 0;
}

static const vigil_approval_outcome *slot_lookup(const slot *s, uint32_t no)
{
        size_t at;

        if (no < s->lo || no > s->hi)
                return NULL;
        at = lower_bound(s, no);
        return at < s->n && s->v[at].command_no == no ? &s->v[at] : NULL;
}

static size_t slot_bytes(const slot *s)
{
        return s->bytes + s->origin_bytes;
}

/* Evict the least recently used sessions but @keep until all fit the totals. */
static void cache_trim(outcome_cache *c, const slot *keep)
{
        for (;;) {
                size_t n = 0, bytes = 0;
                slot *lru = NULL;

                for (size_t i = 0; i < CACHE_SESSIONS; i++) {
                        slot *x = &c->slots[i];

                        if (!x->used)
                                continue;
                        n += x->n + x->n_origins;
                        bytes += slot_bytes(x);
                        if (x != keep && (!lru || x->tick < lru->tick))
                                lru = x;
                }
                if ((n <= TOTAL_OUTCOMES && bytes <= TOTAL_BYTES) || !lru)
                        return;
                slot_clear(lru);
        }
}

int outcome_cache_find(outcome_cache *c, const uint8_t id[VIGIL_SESSION_ID_LEN], uint32_t no, outcome_ref *ret)
{
        slot *s = NULL, *lru = &c->slots[0];
        const vigil_approval_outcome *o;
        bool fill;
        int r;

        for (size_t i = 0; i < CACHE_SESSIONS; i++) {
                slot *x = &c->slots[i];

                if (x->used && memcmp(x->id, id, VIGIL_SESSION_ID_LEN) == 0) {
                        s = x;
                        break;
                }
                if (!x->used || (lru->used && x->tick < lru->tick))
                        lru = x;
        }
        fill = !s || no < s->lo || no > s->hi;
        if (!s)
                s = lru;
        o = fill ? NULL : slot_lookup(s, no);
        /* a live session may have decided it since it was read */
        if (!fill && !o && s->live)
                fill = true;
        s->tick = ++c->tick;
        if (fill) {
                r = slot_fill(c, s, id, no);
                if (r < 0) {
                        slot_clear(s);
                        return r;
                }
                s->tick = c->tick;
                o = slot_lookup(s, no);
                cache_trim(c, s);
        }
        *ret = (outcome_ref){ .o = o, .origin = o && o->remembered ? origin_of(s, o) : NULL };
        return 0;
}

/* ---- printing ---- */

static void json_str(FILE *f, const char *s)
{
        if (s)
                vigil_json_string(f, s, strlen(s));
        else
                fputs("null", f);
}

static bool anyone(const vigil_approval_outcome *o)
{
        return o->by_subject || o->by_email || o->by_n_groups || o->by_local || o->by_via;
}

/* What decided: the record itself, or for a remembered approval the
 * earlier one it repeats (the record when that is not found). */
static const vigil_approval_outcome *decider(const outcome_ref *r)
{
        return r->o->remembered && r->origin ? r->origin : r->o;
}

void outcome_print_json(FILE *f, const outcome_ref *r)
{
        const vigil_approval_outcome *o = r->o, *d;
        char t[32];

        if (!o) {
                fputs("\"approval\":null", f);
                return;
        }
        d = decider(r);
        fputs("\"approval\":{\"request\":", f);
        json_str(f, o->request);
        fprintf(f, ",\"remembered\":%s", o->remembered ? "true" : "false");
        if (o->decision == VIGIL_DEC_APPROVED || o->decision == VIGIL_DEC_REJECTED) {
                fputs(",\"decided_by\":", f);
                if (o->remembered && !r->origin)
                        fputs("null", f);
                else if (!anyone(d))
                        fputs("null", f);
                else {
                        fputs("{\"subject\":", f);
                        json_str(f, d->by_subject);
                        fputs(",\"email\":", f);
                        json_str(f, d->by_email);
                        fputs(",\"groups\":[", f);
                        for (size_t i = 0; i < d->by_n_groups; i++) {
                                if (i)
                                        fputc(',', f);
                                json_str(f, d->by_groups[i]);
                        }
                        fputs("],\"local\":", f);
                        json_str(f, d->by_local);
                        fputs(",\"via\":", f);
                        json_str(f, d->by_via);
                        fputc('}', f);
                }
        }
        if (d->decided_us) {
                vigil_format_time(d->decided_us, t);
                fprintf(f, ",\"decided_at\":\"%s\"", t);
        } else
                fputs(",\"decided_at\":null", f);
        fputs(",\"reason\":", f);
        json_str(f, o->remembered && !r->origin ? NULL : d->reason);
        fputc('}', f);
}

static void csv_str(FILE *f, const char *s)
{
        fputc(',', f);
        if (s)
                vigil_csv_field(f, s, strlen(s));
}

int outcome_print_csv(FILE *f, const outcome_ref *r)
{
        const vigil_approval_outcome *o = r->o, *d;
        char t[32];

        if (!o) {
                fputs(",,,,", f);
                return 0;
        }
        d = decider(r);
        csv_str(f, o->request);
        fputc(',', f);
        if ((o->decision == VIGIL_DEC_APPROVED || o->decision == VIGIL_DEC_REJECTED) && (!o->remembered || r->origin)) {
                if (d->by_subject)
                        vigil_csv_field(f, d->by_subject, strlen(d->by_subject));
                else if (d->by_local) {
                        /* one cell, quoted as a whole when the account needs it */
                        size_t n = strlen(d->by_local) + sizeof "local:";
                        char *v = malloc(n);

                        if (!v)
                                return -ENOMEM;
                        snprintf(v, n, "local:%s", d->by_local);
                        vigil_csv_field(f, v, n - 1);
                        free(v);
                }
        }
        fputc(',', f);
        if (d->decided_us) {
                vigil_format_time(d->decided_us, t);
                fputs(t, f);
        }
        csv_str(f, o->remembered && !r->origin ? NULL : d->reason);
        return 0;
}
