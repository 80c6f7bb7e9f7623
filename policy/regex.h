/* PCRE2 regexes for cmd~, arg~ and mask regex=. Internal to policy/.
 *
 * Patterns are compiled once, byte-oriented (no UTF: argv need not be valid
 * UTF-8, and (*UTF) is refused), then JIT-compiled. Every match runs under a
 * match limit, so a pathological pattern or subject costs at most a few
 * milliseconds and then fails closed. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Limits applied to every policy regex (see docs/policy.md, "Limits"). */
#define VREGEX_PARENS_NEST_LIMIT 64u
#define VREGEX_MATCH_LIMIT 1000000u /* backtracking steps per match */
#define VREGEX_DEPTH_LIMIT 10000u   /* backtracking depth (interpreter) */
#define VREGEX_HEAP_LIMIT_KIB 8192u /* interpreter heap per match */

/**
 * vregex_compile() - compile and JIT a pattern.
 * @param[in]  pat      the pattern.
 * @param[in]  len      its length (at most VIGIL_POLICY_MAX_REGEX).
 * @param[out] ret      the compiled pattern (free with pcre2_code_free).
 * @param[out] ret_msg  on a bad pattern, PCRE2's own message.
 * @param[in]  msg_size size of ret_msg.
 * @param[out] ret_off  on a bad pattern, PCRE2's offset into the pattern.
 * @return 0, -EINVAL on a bad pattern (ret_msg/ret_off set), VIGIL_E_TOO_BIG, -ENOMEM.
 */
int vregex_compile(const char *pat, size_t len, pcre2_code **ret, char *ret_msg, size_t msg_size,
                   size_t *ret_off);

/** A match context carrying the limits above; NULL on -ENOMEM. Free with pcre2_match_context_free. */
pcre2_match_context *vregex_match_context_new(void);

/* Per-decision scratch: match data is created on first use. */
typedef struct vregex_scratch {
        pcre2_match_context *mctx; /* borrowed */
        pcre2_match_data *md;
} vregex_scratch;

void vregex_scratch_done(vregex_scratch *s);

/**
 * vregex_match() - search @subject for @re anywhere (unless it anchors itself).
 * @return 1 on a match, 0 on none, VIGIL_E_TOO_BIG when a limit was hit,
 *         -ENOMEM, or -EIO on any other PCRE2 failure.
 */
int vregex_match(const pcre2_code *re, const char *subject, size_t len, vregex_scratch *s);
