/* Judging one execve: from what the process asked for, the chain of
 * programs the kernel will really run (the file, a script's interpreters, a
 * program the dynamic loader is told to run), each judged by the policy, and
 * what the exec event must then show (verify.c). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "policy.h"
#include "resolve.h"
#include "tracee.h"

/* What the process passed to execve/execveat, as read from its memory. */
typedef struct exec_input {
        pid_t tid;
        tracee_status st;
        int pidfd; /* the process's pidfd when tid leads it, or -1 (owned) */
        int dirfd;    /* AT_FDCWD for execve */
        int at_flags; /* execveat flags; 0 for execve */
        char *path;
        strv argv;
        strv envp; /* read only for a hold (the request shows what differs from a login) */
} exec_input;

void exec_input_done(exec_input *in);

/* uid -> account name, cached for the session (NSS is slow). */
typedef struct uid_names {
        struct {
                uid_t uid;
                char *name;
        } e[16];
        size_t n, next;
} uid_names;

void uid_names_done(uid_names *c);
/** The account name of @uid, or its number as text. @return a string owned by @c, or NULL (ENOMEM). */
const char *uid_name(uid_names *c, uid_t uid);

/* The session's side of every request. */
typedef struct plan_env {
        const vigil_policy *policy;
        const char *user;
        const char *const *groups;
        size_t n_groups;
        bool binfmt_misc; /* handlers are registered: a file that is neither ELF nor script may run */
        bool roots_may_differ; /* a process of the session changed its root or mount namespace */
        bool policy_cwd; /* the policy has cwd= rules: the cwd is read before the decision */
        uid_names *names;
} plan_env;

#define PLAN_MAX_STEPS (2u + EXEC_MAX_INTERP)

typedef struct plan_step {
        char *exe; /* resolved path; NULL when fileless */
        dev_t dev;
        ino_t ino;
        strv argv; /* the argv this program gets */
        vigil_decision d;
} plan_step;

typedef struct exec_plan {
        /* Non-zero: answer the execve with this -errno at once, as the kernel
         * would (nothing found, not executable ...); not a command. */
        int error;
        plan_step steps[PLAN_MAX_STEPS];
        size_t n;
        size_t image; /* index of the step the kernel runs as the new image */
        bool ldso;    /* steps[n-1] is the program a loader (steps[image]) maps */
        vigil_action action;
        size_t deciding; /* the step whose decision is the plan's */
        char *reason;    /* a denial that is not a rule's (the decision is then deny, rule default) */
        uid_t runas_uid;
        char *runas;
        char *cwd;
} exec_plan;

void exec_plan_done(exec_plan *p);

/**
 * plan_build() - resolve and judge an exec attempt.
 * @param[in]  ctx  the process's root and cwd.
 * @param[in]  in   what was asked for; in->st is completed (groups, no_new_privs)
 *                  when the judgement needs it.
 * @param[out] ret  the plan; the caller calls exec_plan_done(). On success
 *                  either ret->error is set, or ret->action says what to do.
 * @return 0, or -ENOMEM (then deny: fail closed).
 */
int plan_build(const plan_env *env, exec_ctx *ctx, exec_input *in, exec_plan *ret);

/** "FILE:LINE" or "default" for the plan's deciding rule (malloc'd), NULL on ENOMEM. */
char *plan_rule(const exec_plan *p);
