/* The parsed policy, shared by the parser, index and matcher. Internal to
 * policy/; the interface is policy.h. */
#pragma once

#include <stdint.h>

#include "glob.h"
#include "policy.h"
#include "regex.h"

/* Condition kinds, in the order a rule evaluates them: cheapest first, and
 * every kind the index keys on (user, exe) before any regex, so the indexed
 * and the plain scan can only differ in rules that fail before a regex runs. */
typedef enum cond_kind {
        COND_USER,
        COND_RUNAS,
        COND_GROUP,
        COND_EXE,
        COND_CWD,
        COND_ARG,
        COND_CMD,
        _COND_KIND_MAX,
} cond_kind;

typedef struct cond {
        cond_kind kind;
        bool negate;
        unsigned column;
        char *text; /* value as written (unquoted) */
        union {
                glob_pat glob;   /* exe, cwd: text with its prefix resolved */
                pcre2_code *re;  /* cmd, arg */
        } u;
} cond;

typedef struct rule {
        vigil_action action;
        unsigned line, column;
        cond *conds; /* sorted by kind */
        size_t n_conds;
        char *message;
        char *approvers;
        uint64_t timeout_ms;
        bool remember_session;
} rule;

/* Map from a string to the ascending list of rules keyed on it. */
typedef struct index_slot {
        const char *key; /* borrowed from a rule's condition; NULL = empty slot */
        size_t key_len;
        uint32_t *rules;
        size_t n, cap;
} index_slot;

typedef struct index_map {
        index_slot *slots;
        size_t n_slots; /* power of two, or 0 */
        size_t used;
} index_map;

typedef struct policy_index {
        index_map by_exe;      /* literal exe= path */
        index_map by_basename; /* literal last component of an exe= glob */
        index_map by_user;     /* user= name */
        uint32_t *generic;     /* every other rule */
        size_t n_generic;
} policy_index;

struct vigil_policy {
        char *file;
        vigil_action default_action;
        rule *rules;
        size_t n_rules;
        vigil_mask_rule *masks; /* strings owned */
        size_t n_masks;
        vigil_record_opts record;
        pcre2_match_context *mctx;
        policy_index index;
};

/* diag.c */
int diag_add(vigil_diags *d, vigil_diag_level level, unsigned line, unsigned column, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
void diag_sort(vigil_diags *d);
/* Copy s (len bytes) into buf as a short printable excerpt: control and
 * non-ASCII bytes as \xHH, cut with "..." past max bytes. Returns buf. */
const char *diag_excerpt(char *buf, size_t size, const char *s, size_t len, size_t max);

/* index.c */
int index_add(index_map *m, const char *key, size_t key_len, uint32_t value);
void index_map_free(index_map *m);
int index_build(vigil_policy *p);
void index_free(policy_index *ix);
const uint32_t *index_lookup(const index_map *m, const char *key, size_t key_len, size_t *ret_n);

/* match.c */
typedef struct match_ctx {
        const vigil_request *req;
        vregex_scratch scratch;
        char *cmd; /* argv joined, built on first use */
        size_t cmd_len;
        char cmd_small[512];
} match_ctx;

void match_ctx_init(match_ctx *m, const vigil_policy *p, const vigil_request *req);
void match_ctx_done(match_ctx *m);
/* 1 when every condition holds, 0 when one does not (then, if why != NULL,
 * why gets a one-line reason), <0 on error. */
int rule_match(const rule *r, match_ctx *m, char *why, size_t why_size);

/* parse.c */
void rule_done(rule *r);
