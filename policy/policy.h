/* vigil policy engine: the whole public interface.
 *
 * A policy is parsed once (vigil_policy_load/parse) into an immutable object
 * that any number of threads may query with vigil_policy_decide(). The
 * library does no I/O beyond reading the file it is given and resolving the
 * literal directory prefix of exe=/cwd= globs (realpath) at load time, and it
 * never logs: problems come back as diagnostics.
 *
 * Language: docs/policy.md. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct vigil_policy vigil_policy;

typedef enum vigil_action {
        VIGIL_ACTION_ALLOW,
        VIGIL_ACTION_DENY,
        VIGIL_ACTION_HOLD,
        VIGIL_ACTION_AUDIT, /* allow, and flag the event */
} vigil_action;

/** @return "allow", "deny", "hold" or "audit"; never NULL. */
const char *vigil_action_name(vigil_action a);

/* ---- diagnostics ---------------------------------------------------- */

typedef enum vigil_diag_level {
        VIGIL_DIAG_ERROR,
        VIGIL_DIAG_WARNING,
} vigil_diag_level;

typedef struct vigil_diag {
        vigil_diag_level level;
        unsigned line;   /* 1-based; 0 when the problem is the file as a whole */
        unsigned column; /* 1-based; 0 when not applicable */
        char *message;   /* owned by the vigil_diags list */
} vigil_diag;

typedef struct vigil_diags {
        vigil_diag *items;
        size_t n;
        size_t n_errors;
} vigil_diags;

/** Free every message and reset to empty. Accepts an all-zero list. */
void vigil_diags_clear(vigil_diags *d);

/* ---- loading -------------------------------------------------------- */

/* Bounds that keep a hostile or broken policy from making vigil slow. */
#define VIGIL_POLICY_MAX_FILE (4u * 1024 * 1024) /* bytes per policy file */
#define VIGIL_POLICY_MAX_LINE 65536u             /* bytes per line */
#define VIGIL_POLICY_MAX_RULES 100000u
#define VIGIL_POLICY_MAX_REGEX 4096u /* bytes of one pattern */
#define VIGIL_POLICY_MAX_CMDLINE (2u * 1024 * 1024) /* argv bytes (with separators) a decision accepts */

/**
 * vigil_policy_parse() - parse policy text.
 * @param[in]  text      the policy; need not be NUL-terminated; may contain NUL (an error).
 * @param[in]  len       its length.
 * @param[in]  filename  name used in diagnostics and decisions (kept as given).
 * @param[out] ret       on success the policy (free with vigil_policy_free); untouched on failure.
 * @param[out] diags     may be NULL; receives every error and warning, in line order.
 *                       The caller clears it with vigil_diags_clear().
 * @return 0 when valid (warnings possible), VIGIL_E_PARSE when diags has errors,
 *         -ENOMEM, or VIGIL_E_TOO_BIG.
 */
int vigil_policy_parse(const char *text, size_t len, const char *filename, vigil_policy **ret,
                       vigil_diags *diags);

/**
 * vigil_policy_load() - read and parse a policy file.
 * Same as vigil_policy_parse() on the file's contents, with @path as the filename.
 * A missing or unreadable file, a directory or an oversized file returns its
 * -errno / VIGIL_E_TOO_BIG and adds one line-0 diagnostic saying so.
 */
int vigil_policy_load(const char *path, vigil_policy **ret, vigil_diags *diags);

/**
 * vigil_policy_resolve_path() - canonicalize a path as exe=/cwd= globs are at load time.
 * The longest leading part of @path that exists goes through realpath(3); the
 * rest is appended as written. For a path that exists this is realpath(3).
 * `vigil policy test` uses it on --exe and --cwd so that a path that does not
 * exist on this host still compares the way the rules were resolved.
 * @param[in]  path  an absolute path.
 * @param[out] ret   on success a malloc'd string the caller frees; untouched on failure.
 * @return 0, -EINVAL for a relative path, -ENOMEM.
 */
int vigil_policy_resolve_path(const char *path, char **ret);

/** Free a policy. Accepts NULL; returns NULL. */
vigil_policy *vigil_policy_free(vigil_policy *p);

/* ---- deciding ------------------------------------------------------- */

/* One exec attempt, as the supervisor (or `vigil policy test`) sees it.
 * All strings are borrowed for the duration of the call. */
typedef struct vigil_request {
        const char *user;          /* the session's local account */
        const char *const *groups; /* identity groups (token claim, else local) */
        size_t n_groups;
        const char *runas; /* account the program will run as */
        const char *cwd;   /* working directory, absolute */
        const char *exe;   /* resolved absolute path of the file executed; NULL when fileless */
        const char *const *argv; /* exactly as passed to execve */
        size_t argc;
} vigil_request;

typedef struct vigil_decision {
        vigil_action action;
        /* The deciding rule; file == NULL means the policy's default decided.
         * Every pointer below stays valid as long as the policy does. */
        const char *file;
        unsigned line;
        const char *message;   /* message= or NULL */
        const char *approvers; /* approvers= as written (hold), or NULL */
        uint64_t timeout_ms;   /* timeout= (hold; default 5 min), 0 for other actions */
        bool remember_session; /* remember=session (hold) */
} vigil_decision;

/* Called by vigil_policy_decide() for each rule tried before the deciding
 * one, with a one-line reason it did not match (e.g. "exe '/usr/bin/rm' does
 * not match '/usr/bin/git'"). */
typedef void (*vigil_explain_fn)(void *userdata, const char *file, unsigned line, const char *why);

/**
 * vigil_policy_decide() - the first rule whose conditions all hold decides.
 * @param[in]  p        policy.
 * @param[in]  req      the exec attempt.
 * @param[in]  explain  NULL, or a callback for the rules that did not match (slower path).
 * @param[out] ret      the decision; untouched on error.
 * @return 0, or on error (the caller must treat the exec as denied: fail closed):
 *         VIGIL_E_TOO_BIG (argv beyond VIGIL_POLICY_MAX_CMDLINE, or a regex that hit
 *         its match limit on this request), -ENOMEM, -EINVAL (NULL policy, request or
 *         ret; argv or groups NULL with a non-zero count), -EIO (other PCRE2 failure).
 * With explain == NULL, rules are found through an index (literal exe path, exe
 * basename, user) and merged back into file order, so the answer is always the
 * same as the top-to-bottom scan that explain != NULL performs.
 * req->exe should be canonical (realpath(3)) for rules naming a symlink to match:
 * rule paths are resolved at load time (see vigil_policy_resolve_path()).
 * Thread-safe for a shared policy.
 */
int vigil_policy_decide(const vigil_policy *p, const vigil_request *req, vigil_explain_fn explain,
                        void *userdata, vigil_decision *ret);

/* ---- mask and record statements ------------------------------------- */

typedef struct vigil_mask_rule {
        const char *detector; /* built-in detector name, or NULL for mask regex= */
        const char *regex;    /* regex= pattern, or NULL for a detector */
        const char *replace;  /* replace= text, or NULL for "[MASKED:<detector>]" */
        const char *file;
        unsigned line;
} vigil_mask_rule;

/** Number of mask statements, and the i-th (0 <= i < n), in file order. */
size_t vigil_policy_n_masks(const vigil_policy *p);
const vigil_mask_rule *vigil_policy_mask(const vigil_policy *p, size_t i);

typedef enum vigil_record_failure {
        VIGIL_RECORD_FAIL_KILL,     /* default: no unrecorded session runs */
        VIGIL_RECORD_FAIL_CONTINUE, /* administrator's explicit choice */
} vigil_record_failure;

typedef enum vigil_record_binary {
        VIGIL_RECORD_BINARY_DIGEST, /* default: length and SHA-256 only */
        VIGIL_RECORD_BINARY_FULL,
} vigil_record_binary;

typedef struct vigil_record_opts {
        bool input;  /* default false */
        bool output; /* default true */
        vigil_record_failure on_failure;
        vigil_record_binary binary;
        uint64_t max_output; /* bytes; 0 = no cap */
} vigil_record_opts;

/** The record options in effect (later record lines override earlier keys). */
const vigil_record_opts *vigil_policy_record(const vigil_policy *p);

/** Whether any rule has a cwd= condition: else a request's cwd decides nothing. */
bool vigil_policy_uses_cwd(const vigil_policy *p);

/** Names of the built-in mask detectors, NULL-terminated. */
extern const char *const vigil_mask_detectors[];
