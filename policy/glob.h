/* Path globs for exe= and cwd=. Internal to policy/.
 *
 * fnmatch(3)-style, matched component by component: `*` and `?` never match
 * '/', `[...]` is a byte class (`[!...]`/`[^...]` negate, `a-z` ranges),
 * `\` makes the next character literal, and a component that is exactly `**`
 * matches zero or more whole components. A `**` inside a component acts like
 * `*`. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

typedef struct glob_comp {
        unsigned off, len; /* into glob_pat.text */
        bool dstar;        /* the component is exactly "**" */
} glob_comp;

typedef struct glob_pat {
        char *text; /* the (resolved) pattern, owned */
        glob_comp *comps;
        size_t n_comps;
} glob_pat;

/**
 * glob_check() - validate a pattern.
 * @param[in]  pat      NUL-terminated pattern.
 * @param[out] ret_msg  on failure, a static message.
 * @param[out] ret_off  on failure, the byte offset of the problem.
 * @return 0 or -EINVAL.
 */
int glob_check(const char *pat, const char **ret_msg, size_t *ret_off);

/**
 * glob_resolve_prefix() - canonicalize the literal directory prefix.
 * The leading run of components without glob characters is passed through
 * realpath(3), dropping trailing components that do not exist, so
 * "/bin/[glob]" becomes "/usr/bin/[glob]" where /bin links to /usr/bin. A fully
 * literal pattern is resolved as a whole (a symlinked program resolves to its
 * target, as the compared exe path does). Patterns not starting with '/' are
 * copied as they are.
 * @param[in]  pat  a pattern that passed glob_check().
 * @param[out] ret  malloc'd result.
 * @return 0 or -ENOMEM.
 */
int glob_resolve_prefix(const char *pat, char **ret);

/**
 * glob_compile() - split a checked pattern into components.
 * @param[in]  pat  pattern; copied.
 * @param[out] ret  on success, filled in; release with glob_pat_done().
 * @return 0 or -ENOMEM.
 */
int glob_compile(const char *pat, glob_pat *ret);

void glob_pat_done(glob_pat *g);

/** True when @path matches @g. Never allocates. */
bool glob_match(const glob_pat *g, const char *path);

/** True when the pattern has no glob or escape character at all. */
bool glob_is_literal(const char *pat, size_t len);

/**
 * glob_literal_basename() - the last component when it is literal.
 * @return true and sets *ret and *ret_len to the last component of @g when it is
 *         a non-empty literal (then every matching path ends in exactly it).
 */
bool glob_literal_basename(const glob_pat *g, const char **ret, size_t *ret_len);
