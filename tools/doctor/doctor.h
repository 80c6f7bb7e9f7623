/* vigil doctor: what the check families share. Not an interface for
 * anything outside tools/ (cmd-doctor.c and the files in tools/doctor/).
 *
 * Every check family is one function `doctor_check_NAME(ctx)` in its own
 * file. It looks at the host through the paths in the context (so tests
 * point it at a fixture tree), reports each problem once with
 * doctor_finding() (what is wrong, why it matters, and the fix), and uses
 * doctor_note() for what it could not check. A check never changes the host.
 *
 * docs/doctor.md describes every check and the bypass it closes. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "macro.h"

/* Paths as installed (the fix lines name these, never the --root prefix). */
#define DOCTOR_SHELL_PATH "/usr/sbin/vigil-shell"
#define DOCTOR_DROPIN_NAME "00-vigil.conf"
#define DOCTOR_DROPIN_SHIPPED "/usr/share/vigil/sshd/" DOCTOR_DROPIN_NAME
#define DOCTOR_DROPIN_DIR "/etc/ssh/sshd_config.d"
#define DOCTOR_HOST_KEY "/etc/vigil/host.key"
#define DOCTOR_VIGILD_SOCKET "/run/vigil/vigild.sock"
#define DOCTOR_SSHD "/usr/sbin/sshd"

/* Bounds on what the doctor reads. */
#define DOCTOR_MAX_FILE (1024u * 1024)   /* any one configuration file */
#define DOCTOR_MAX_OUTPUT (1024u * 1024) /* output of sshd -T */
#define DOCTOR_MAX_USERS 4096u           /* supervised users examined */
#define DOCTOR_PAM_MAX_DEPTH 8           /* include/substack nesting */

struct vigil_config;

typedef struct doctor_ctx {
        /* Where the host's files are: "/" on the live host, a fixture tree
         * in tests. Every path below except sshd is a path on that host,
         * looked up under root (doctor_path()); messages and fixes name
         * them as the host sees them. */
        const char *root;
        const char *sshd;        /* absolute path of the sshd binary to run (on this machine) */
        const char *sshd_config; /* the file given to sshd -f */
        const char *config;      /* vigil.conf */
        const char *policy;      /* policy file (--policy, else vigil.conf's, else the default) */
        const char *store;       /* store directory (likewise) */
        const char *socket;      /* vigild's socket */
        bool policy_set, store_set;

        struct vigil_config *conf; /* the loaded vigil.conf, or NULL (conf.c owns it) */
        /* vigil.conf values the checks use (defaults when the file or the
         * config library is missing; conf_loaded says which). */
        bool conf_loaded;
        uint64_t login_timeout; /* seconds */

        char **users; /* supervised users: shell is vigil-shell, plus --user */
        size_t n_users;

        bool json;
        unsigned n_findings;
        unsigned skip; /* DOCTOR_CHECK_* bits not to run */
} doctor_ctx;

/* The check families, in the order they run; --skip/--only take their names. */
#define DOCTOR_CHECKS(X)                                                                                      \
        X(CONFIG, "config")                                                                                   \
        X(SSHD, "sshd")                                                                                       \
        X(CRYPTO, "crypto")                                                                                   \
        X(DROPIN, "dropin")                                                                                   \
        X(PAM, "pam")                                                                                         \
        X(SHELLS, "shells")                                                                                   \
        X(JOBS, "jobs")                                                                                       \
        X(FILES, "files")                                                                                     \
        X(POLICY, "policy")                                                                                   \
        X(VIGILD, "vigild")                                                                                   \
        X(IDP, "idp")                                                                                         \
        X(CLOCK, "clock")

enum {
#define DOCTOR_BIT_(id, name) DOCTOR_BITNO_##id,
        DOCTOR_CHECKS(DOCTOR_BIT_)
#undef DOCTOR_BIT_
                DOCTOR_N_CHECKS,
};
#define DOCTOR_CHECK(id) (1u << DOCTOR_BITNO_##id)

/* ---- reporting (report.c) ------------------------------------------------ */

/**
 * doctor_finding() - report one problem: printed at once (text: the message,
 * then "  fix: ..." on its own line; --json: one JSON object per line with
 * "check", "message" and "fix").
 * @param[in] c      context (counts the finding).
 * @param[in] check  the family's name, as in DOCTOR_CHECKS.
 * @param[in] fix    one line telling the administrator what to do.
 * @param[in] fmt    the problem and why it matters, one line.
 */
void doctor_finding(doctor_ctx *c, const char *check, const char *fix, const char *fmt, ...) _printf_(4, 5);

/** asprintf() for building fix lines; NULL when out of memory (doctor_finding() then prints "see docs/doctor.md"). */
char *doctor_fmt(const char *fmt, ...) _printf_(1, 2);

/** Something a check could not examine: "vigil doctor: note: ..." on stderr (both output modes). */
void doctor_note(const doctor_ctx *c, const char *fmt, ...) _printf_(2, 3);

/* ---- host files (host.c) ------------------------------------------------- */

/**
 * doctor_path() - @path (absolute, as on the live host) under the context's root.
 * @return a malloc'd string, or NULL when out of memory.
 */
char *doctor_path(const doctor_ctx *c, const char *path);

/**
 * doctor_read() - read a whole host file (under the root) of at most DOCTOR_MAX_FILE bytes.
 * @param[out] ret  malloc'd NUL-terminated contents; untouched on failure.
 * @return 0, -ENOENT when missing, or another -errno / VIGIL_E_TOO_BIG.
 */
int doctor_read(const doctor_ctx *c, const char *path, char **ret);

/** lstat() of a host path (under the root). @return 0 or -errno. */
int doctor_lstat(const doctor_ctx *c, const char *path, struct stat *ret);

/** @return true when the host path exists (any type, symlinks not followed). */
bool doctor_exists(const doctor_ctx *c, const char *path);

/**
 * doctor_list_has() - does a one-name-per-line list file (cron.allow, /etc/shells)
 * name @word? Blank lines and #-comments are ignored; blanks around names too.
 * @return 1 yes, 0 no, -ENOENT when the file is missing, other -errno.
 */
int doctor_list_has(const doctor_ctx *c, const char *path, const char *word);

/**
 * doctor_check_owner_mode() - a file or directory that must be owned by root
 * and carry no permission bit outside @allowed (e.g. 0700, 0644). Reports a
 * finding for a wrong type, owner or mode, with chown/chmod as the fix.
 * @param[in] path      host path (as on the live host; looked up under the root).
 * @param[in] dir       true: must be a directory; false: a regular file.
 * @param[in] allowed   permission bits allowed.
 * @param[in] why       what a wrong owner or mode would give away (for the message).
 * @return 1 when it was fine, 0 when a finding was reported, -ENOENT when missing
 *         (nothing reported: callers decide what missing means).
 */
int doctor_check_owner_mode(doctor_ctx *c, const char *check, const char *path, bool dir, mode_t allowed,
                            const char *why);

/**
 * doctor_check_parents() - every directory above @path must be owned by root
 * and writable by nobody else (or whoever can write one can swap what is below).
 * Reports one finding for the first that is not.
 */
void doctor_check_parents(doctor_ctx *c, const char *check, const char *path);

/* ---- running a program (run.c) ------------------------------------------- */

/**
 * doctor_run() - run @argv[0] (an absolute path) with @argv and an empty
 * environment, stdin /dev/null, no other fds, and collect stdout and stderr.
 * No shell and no $PATH are involved.
 * @param[in]  argv        NULL-terminated.
 * @param[in]  timeout_ms  the child is killed (SIGKILL) and reaped after this.
 * @param[out] ret_out     malloc'd stdout (NUL-terminated, at most DOCTOR_MAX_OUTPUT bytes).
 * @param[out] ret_err     malloc'd stderr (same bound).
 * @param[out] ret_status  wait status.
 * @return 0 when the program ran to its end (whatever its status); -EINVAL for a
 *         relative path; -ETIMEDOUT; VIGIL_E_TOO_BIG for output beyond the bound;
 *         other -errno. Outputs are set only on 0.
 */
int doctor_run(char *const argv[], int timeout_ms, char **ret_out, char **ret_err, int *ret_status);

/* ---- users (users.c) ------------------------------------------------------- */

typedef struct doctor_pw {
        char *name;
        uint32_t uid;
        char *shell;
} doctor_pw;

/**
 * doctor_passwd_read() - the accounts of the host's /etc/passwd file (under the root).
 * @param[out] ret    array (free with doctor_passwd_free()).
 * @param[out] ret_n  its length.
 * @return 0 or -errno.
 */
int doctor_passwd_read(const doctor_ctx *c, doctor_pw **ret, size_t *ret_n);
void doctor_passwd_free(doctor_pw *pw, size_t n);

/** @return the entry for @name, or NULL. */
const doctor_pw *doctor_passwd_find(const doctor_pw *pw, size_t n, const char *name);

/* ---- the check families -------------------------------------------------- */

/* vigil.conf (conf.c / conf-none.c): load it, set policy/store/login_timeout. */
void doctor_check_config(doctor_ctx *c);
void doctor_check_sshd(doctor_ctx *c);
void doctor_check_crypto(doctor_ctx *c);
void doctor_check_dropin(doctor_ctx *c);
void doctor_check_pam(doctor_ctx *c);
void doctor_check_shells(doctor_ctx *c);
void doctor_check_jobs(doctor_ctx *c);
void doctor_check_files(doctor_ctx *c);
void doctor_check_policy(doctor_ctx *c);
void doctor_check_vigild(doctor_ctx *c);
void doctor_check_idp(doctor_ctx *c);
void doctor_check_clock(doctor_ctx *c);

/* Configuration library seam (conf.c / conf-none.c): free what doctor_check_config() kept. */
void doctor_config_done(doctor_ctx *c);

/* sshd -T output shared by the sshd and crypto families (sshd-run.c). */
typedef struct doctor_sshd_conf {
        char *text;   /* the whole output; lines are split in place */
        char **keys;  /* lower-case keyword of each line */
        char **vals;  /* the rest of the line */
        size_t n;
} doctor_sshd_conf;

/**
 * doctor_sshd_dump() - run `sshd -T -f CONFIG [-C SPEC]` and parse its output.
 * @param[in]  spec     a -C connection spec ("user=U,host=H,addr=A") or NULL.
 * @param[out] ret      parsed output (doctor_sshd_conf_done() frees it).
 * @param[out] ret_err  on failure a malloc'd one-line reason (sshd's own stderr when it ran).
 * @return 0, -ENOENT when there is no sshd binary, other -errno.
 */
int doctor_sshd_dump(const doctor_ctx *c, const char *spec, doctor_sshd_conf *ret, char **ret_err);
void doctor_sshd_conf_done(doctor_sshd_conf *s);

/** The first value of @key (lower case), or NULL. */
const char *doctor_sshd_get(const doctor_sshd_conf *s, const char *key);
