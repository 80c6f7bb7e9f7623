/* A PAM service's stack for one module type, read from /etc/pam.d the way
 * libpam reads it (include and @include inline, substack one level down),
 * and the question the doctor asks of it: can the stack succeed although a
 * given module fails? */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "doctor.h"

/* Return codes in libpam's order (PAM_SUCCESS = 0 ...); names as pam.conf(5) spells them. */
#define PAM_STACK_N_CODES 32
#define PAM_STACK_SUCCESS 0
#define PAM_STACK_PERM_DENIED 6
#define PAM_STACK_IGNORE 25
#define PAM_STACK_INCOMPLETE 31

/* Bounds: a real stack has tens of lines. */
#define PAM_STACK_MAX_ENTRIES 1024u  /* modules in one stack, includes expanded */
#define PAM_STACK_MAX_STATES (1u << 20) /* states the bypass search may visit */

/* Actions; a positive number is a jump over that many modules. */
enum {
        PAM_ACT_IGNORE = -1,
        PAM_ACT_OK = -2,
        PAM_ACT_DONE = -3,
        PAM_ACT_BAD = -4,
        PAM_ACT_DIE = -5,
        PAM_ACT_RESET = -6,
};

typedef enum pam_entry_kind {
        PAM_ENTRY_MODULE,
        PAM_ENTRY_SUBSTACK, /* marks where a substack starts; its modules follow one level down */
        PAM_ENTRY_BROKEN,   /* a line libpam cannot use: always fails (PAM_PERM_DENIED) */
} pam_entry_kind;

typedef struct pam_entry {
        pam_entry_kind kind;
        unsigned level;         /* substack depth, 0 for the service's own stack */
        char *module;           /* module path as written (the service for a substack) */
        char *args;             /* the rest of the line, or "" */
        char *control;          /* as written, for messages */
        char *file;             /* host path of the file the line is in */
        unsigned line;
        bool dash;              /* "-type": silently dropped when the module is missing */
        int actions[PAM_STACK_N_CODES];
} pam_entry;

typedef struct pam_stack {
        pam_entry *v;
        size_t n;
        char *problem; /* the first problem libpam would have with the files (missing include, loop) */
} pam_stack;

/**
 * pam_stack_load() - read @service's stack of @type ("auth", "account", "session", "password").
 * A missing service file means libpam's fallback, /etc/pam.d/other.
 * @param[out] ret  the stack (pam_stack_done() frees it); problems that libpam
 *                  would turn into a failing line are kept as PAM_ENTRY_BROKEN entries
 *                  and described in ret->problem.
 * @return 0, -ENOENT when neither the service file nor "other" exists, VIGIL_E_TOO_BIG
 *         for more than PAM_STACK_MAX_ENTRIES modules, -ENOMEM.
 */
int pam_stack_load(const doctor_ctx *c, const char *service, const char *type, pam_stack *ret);
void pam_stack_done(pam_stack *s);

/** @return the module's file name without directories ("pam_unix.so"). */
const char *pam_entry_basename(const pam_entry *e);

/** The code's name as pam.conf(5) spells it, e.g. "authinfo_unavail". */
const char *pam_code_name(int code);

typedef struct pam_bypass {
        size_t culprit;   /* index of the entry that lets the stack succeed */
        bool target_ran;  /* the culprit is a target module whose failure is let through */
        int code;         /* the return code of the culprit on that path */
} pam_bypass;

/**
 * pam_stack_bypass() - can the stack end in PAM_SUCCESS while every module
 * named @target (basename, e.g. "pam_vigil.so") fails? Other modules may
 * return anything (pam_permit and pam_deny what they always return).
 * Implements libpam's rules (pam_dispatch.c): ok/done/bad/die/reset/jumps,
 * impressions, substack levels.
 * @param[out] ret  on 1, which entry made it possible.
 * @return 1 when such a path exists, 0 when none, -E2BIG when the search would
 *         visit more than PAM_STACK_MAX_STATES states, -ENOMEM.
 */
int pam_stack_bypass(const pam_stack *s, const char *target, pam_bypass *ret);
