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
#define TOTAL_OUTCOMES 4096u
#define TOTAL_BYTES (1024u * 1024)
/* A window starts a little before the command that needs it: events of
 * one session come in time order, which is not quite command order when
 * several processes exec at once. */
#define WINDOW_SLACK 16u

/* An outcome copied out of the scan: its strings in one allocation. */
typedef struct kept {
        vigil_approval_outcome o;
        void *mem;
        size_t bytes;
        const vigil_approval_outcome *origin; /* remembered: the approval it repeats (set when the slot is full) */
} kept;

typedef struct slot {
        bool used;
        bool live;   /* the session had not ended when it was read */
        uint64_t end_us; /* ... else when it ended */
        uint8_t id[VIGIL_SESSION_ID_LEN];
        uint32_t lo, hi; /* every outcome of a command in [lo, hi] is in v */
        kept *v;         /* by command number */
        size_t n, cap, bytes;
        kept *origins; /* the earlier approvals that remembered ones in v name */
        size_t n_origins, cap_origins, origin_bytes;
        uint64_t tick; /* last use */
} slot;

struct outcome_cache {
        vigil_store *st;
        slot slots[CACHE_SESSIONS];
        uint64_t tick;
};

bool outcome_wanted(vigil_decision_kind d)
{
        /* killed: vigil may have killed an approved command at its exec
         * check (the file changed while it was held) */
        return d == VIGIL_DEC_APPROVED || d == VIGIL_DEC_REJECTED || d == VIGIL_DEC_TIMEOUT ||
               d == VIGIL_DEC_WITHDRAWN || d == VIGIL_DEC_KILLED;
}

static void kept_clear(kept *k)
{
        free(k->mem);
        *k = (kept){ 0 };
}

static size_t str_size(const char *s)
{
        return s ? strlen(s) + 1 : 0;
}

static char *str_put(char **p, const char *s)
{
        char *d = *p;
        size_t n = str_size(s);

        if (!s)
                return NULL;
        memcpy(d, s, n);
        *p += n;
        return d;
}

/* A deep copy of @src into @dst, in one allocation. */
static int kept_copy(const vigil_approval_outcome *src, kept *dst)
{
        size_t n = src->by_n_groups * sizeof(char *) + str_size(src->request) + str_size(src->by_subject) +
                   str_size(src->by_email) + str_size(src->by_local) + str_size(src->by_via) + str_size(src->reason);
        char **groups, *p;
        kept k = { .o = *src };

        for (size_t i = 0; i < src->by_n_groups; i++)
                n += str_size(src->by_groups[i] ? src->by_groups[i] : "");
        k.mem = malloc(n ? n : 1);
        if (!k.mem)
                return -ENOMEM;
        k.bytes = sizeof k + n;
        groups = k.mem;
        p = (char *)k.mem + src->by_n_groups * sizeof(char *);
        for (size_t i = 0; i < src->by_n_groups; i++)
                groups[i] = str_put(&p, src->by_groups[i] ? src->by_groups[i] : "");
        k.o.by_groups = src->by_n_groups ? groups : NULL;
        k.o.request = str_put(&p, src->request);
        k.o.by_subject = str_put(&p, src->by_subject);
        k.o.by_email = str_put(&p, src->by_email);
        k.o.by_local = str_put(&p, src->by_local);
        k.o.by_via = str_put(&p, src->by_via);
        k.o.reason = str_put(&p, src->reason);
        *dst = k;
        return 0;
}

/* Room for one more in *@v (of *@cap). */
static int grow(kept **v, size_t n, size_t *cap)
{
        kept *nv;
        size_t c;

        if (n < *cap)
                return 0;
        c = *cap ? *cap * 2 : 16;
        nv = realloc(*v, c * sizeof *nv);
        if (!nv)
                return -ENOMEM;
        *v = nv;
        *cap = c;
        return 0;
}

static void slot_clear(slot *s)
{
        for (size_t i = 0; i < s->n; i++)
                kept_clear(&s->v[i]);
        for (size_t i = 0; i < s->n_origins; i++)
                kept_clear(&s->origins[i]);
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

                if (s->v[m].o.command_no < no)
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
        kept k;
        int r;

        if (o->command_no < s->lo || o->command_no > s->hi)
                return 0;
        at = lower_bound(s, o->command_no);
        if (at < s->n && s->v[at].o.command_no == o->command_no)
                return 0; /* the writer decides a command once; a second record is verify's to report */
        r = grow(&s->v, s->n, &s->cap);
        if (r < 0)
                return r;
        r = kept_copy(o, &k);
        if (r < 0)
                return r;
        memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof *s->v);
        s->v[at] = k;
        s->n++;
        s->bytes += k.bytes;
        while (s->n > 1 && (s->n > WINDOW_OUTCOMES || s->bytes > WINDOW_BYTES)) {
                kept *last = &s->v[--s->n];

                s->hi = last->o.command_no - 1; /* above lo: the numbers in v are distinct */
                s->bytes -= last->bytes;
                kept_clear(last);
        }
        return 0;
}

static const vigil_approval_outcome *origin_in(const kept *v, size_t n, const char *request)
{
        for (size_t i = 0; i < n; i++)
                if (!v[i].o.remembered && v[i].o.decision == VIGIL_DEC_APPROVED && v[i].o.request &&
                    strcmp(v[i].o.request, request) == 0)
                        return &v[i].o;
        return NULL;
}

static const vigil_approval_outcome *origin_of(const slot *s, const vigil_approval_outcome *o)
{
        const vigil_approval_outcome *a = origin_in(s->v, s->n, o->request);

        return a ? a : origin_in(s->origins, s->n_origins, o->request);
}

/* The requests that remembered outcomes of a window name and the window
 * does not hold, sorted (bsearch), each taken once. */
typedef struct wanted_origins {
        slot *s;
        const char **req;
        bool *taken;
        size_t n;
} wanted_origins;

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Scan callback: keep the approvals that wanted_origins names. */
static int keep_origins(void *userdata, const vigil_approval_outcome *o)
{
        wanted_origins *w = userdata;
        slot *s = w->s;
        const char **hit;
        size_t i;
        int r;

        if (o->remembered || o->decision != VIGIL_DEC_APPROVED || !o->request)
                return 0;
        hit = bsearch(&o->request, w->req, w->n, sizeof *w->req, cmp_str);
        if (!hit)
                return 0;
        i = (size_t)(hit - w->req);
        if (w->taken[i])
                return 0;
        r = grow(&s->origins, s->n_origins, &s->cap_origins);
        if (r < 0)
                return r;
        r = kept_copy(o, &s->origins[s->n_origins]);
        if (r < 0)
                return r;
        s->origin_bytes += s->origins[s->n_origins++].bytes;
        w->taken[i] = true;
        return 0;
}

/* Read the approvals that the window's remembered outcomes name, when the
 * window does not hold them (they come before it). */
static int slot_fill_origins(outcome_cache *c, slot *s)
{
        wanted_origins w = { .s = s };
        size_t n = 0;
        int r;

        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].o.remembered && !origin_in(s->v, s->n, s->v[i].o.request))
                        n++;
        if (n == 0)
                return 0;
        w.req = calloc(n, sizeof *w.req);
        w.taken = calloc(n, sizeof *w.taken);
        if (!w.req || !w.taken) {
                free(w.req);
                free(w.taken);
                return -ENOMEM;
        }
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].o.remembered && !origin_in(s->v, s->n, s->v[i].o.request))
                        w.req[w.n++] = s->v[i].o.request;
        qsort(w.req, w.n, sizeof *w.req, cmp_str);
        r = vigil_store_session_approvals(c->st, s->id, keep_origins, &w);
        free(w.req);
        free(w.taken);
        return r == -ENOENT ? 0 : r;
}

/* Read the outcomes of @id's commands from @no (less the slack) on into @s. */
static int slot_fill(outcome_cache *c, slot *s, const uint8_t id[VIGIL_SESSION_ID_LEN], uint32_t no)
{
        vigil_session_info info = { 0 };
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
        s->end_us = info.end_us;
        vigil_session_info_clear(&info);
        r = vigil_store_session_approvals(c->st, id, keep_window, s);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = slot_fill_origins(c, s);
        if (r < 0)
                return r;
        /* the arrays stay as they are until the next fill */
        for (size_t i = 0; i < s->n; i++)
                if (s->v[i].o.remembered)
                        s->v[i].origin = origin_of(s, &s->v[i].o);
        return 0;
}

static const kept *slot_lookup(const slot *s, uint32_t no)
{
        size_t at;

        if (no < s->lo || no > s->hi)
                return NULL;
        at = lower_bound(s, no);
        return at < s->n && s->v[at].o.command_no == no ? &s->v[at] : NULL;
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

int outcome_cache_find(outcome_cache *c, const vigil_event *e, outcome_ref *ret)
{
        const uint8_t *id = e->session;
        uint32_t no = e->no;
        slot *s = NULL, *lru = &c->slots[0];
        const kept *k;
        bool fill;
        int r;

        for (size_t i = 0; i < CACHE_SESSIONS; i++) {
                slot *x = &c->slots[i];

                /* Events come in time order: a session that had ended
                 * before this one's time has no more to come. */
                if (x->used && !x->live && x->end_us < e->time_us && memcmp(x->id, id, VIGIL_SESSION_ID_LEN) != 0)
                        slot_clear(x);

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
        k = fill ? NULL : slot_lookup(s, no);
        /* a live session may have decided it since it was read */
        if (!fill && !k && s->live)
                fill = true;
        s->tick = ++c->tick;
        if (fill) {
                r = slot_fill(c, s, id, no);
                if (r < 0) {
                        slot_clear(s);
                        return r;
                }
                s->tick = c->tick;
                k = slot_lookup(s, no);
                cache_trim(c, s);
        }
        *ret = (outcome_ref){ .o = k ? &k->o : NULL, .origin = k ? k->origin : NULL };
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
                        /* as the request's JSON document has them: null when none */
                        fputs(",\"groups\":", f);
                        if (d->by_n_groups) {
                                fputc('[', f);
                                for (size_t i = 0; i < d->by_n_groups; i++) {
                                        if (i)
                                                fputc(',', f);
                                        json_str(f, d->by_groups[i]);
                                }
                                fputc(']', f);
                        } else
                                fputs("null", f);
                        fputs(",\"local\":", f);
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
