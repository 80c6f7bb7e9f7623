#include <errno.h>

#include "macro.h"
#include "policy.h"
#include "regex.h"
#include "vigil-error.h"

int vregex_compile(const char *pat, size_t len, pcre2_code **ret, char *ret_msg, size_t msg_size,
                   size_t *ret_off)
{
        pcre2_compile_context *cctx;
        pcre2_code *re;
        PCRE2_SIZE off = 0;
        int err = 0;

        if (len > VIGIL_POLICY_MAX_REGEX)
                return VIGIL_E_TOO_BIG;
        cctx = pcre2_compile_context_create(NULL);
        if (!cctx)
                return -ENOMEM;
        (void)pcre2_set_max_pattern_length(cctx, VIGIL_POLICY_MAX_REGEX);
        (void)pcre2_set_parens_nest_limit(cctx, VREGEX_PARENS_NEST_LIMIT);
        re = pcre2_compile((PCRE2_SPTR)pat, len, PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C, &err, &off, cctx);
        pcre2_compile_context_free(cctx);
        if (!re) {
                if (err == PCRE2_ERROR_NOMEMORY)
                        return -ENOMEM;
                if (pcre2_get_error_message(err, (PCRE2_UCHAR *)ret_msg, msg_size) < 0 && msg_size > 0)
                        ret_msg[0] = '\0';
                *ret_off = off;
                return -EINVAL;
        }
        /* Without JIT (e.g. a kernel refusing executable memory) matching
         * still works, in the interpreter, under the same limits. */
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
        *ret = re;
        return 0;
}

pcre2_match_context *vregex_match_context_new(void)
{
        pcre2_match_context *m = pcre2_match_context_create(NULL);

        if (!m)
                return NULL;
        (void)pcre2_set_match_limit(m, VREGEX_MATCH_LIMIT);
        (void)pcre2_set_depth_limit(m, VREGEX_DEPTH_LIMIT);
        (void)pcre2_set_heap_limit(m, VREGEX_HEAP_LIMIT_KIB);
        return m;
}

void vregex_scratch_done(vregex_scratch *s)
{
        pcre2_match_data_free(s->md);
        s->md = NULL;
}

int vregex_match(const pcre2_code *re, const char *subject, size_t len, vregex_scratch *s)
{
        int r;

        if (!s->md) {
                s->md = pcre2_match_data_create(1, NULL);
                if (!s->md)
                        return -ENOMEM;
        }
        r = pcre2_match(re, (PCRE2_SPTR)subject, len, 0, 0, s->md, s->mctx);
        /* The JIT stack is small and per call; the interpreter keeps its
         * frames on the heap under VREGEX_HEAP_LIMIT_KIB, so retry there. */
        if (r == PCRE2_ERROR_JIT_STACKLIMIT)
                r = pcre2_match(re, (PCRE2_SPTR)subject, len, 0, PCRE2_NO_JIT, s->md, s->mctx);
        if (r >= 0)
                return 1;
        switch (r) {
        case PCRE2_ERROR_NOMATCH:
                return 0;
        case PCRE2_ERROR_MATCHLIMIT:
        case PCRE2_ERROR_DEPTHLIMIT:
        case PCRE2_ERROR_HEAPLIMIT:
        case PCRE2_ERROR_JIT_STACKLIMIT:
                return VIGIL_E_TOO_BIG;
        case PCRE2_ERROR_NOMEMORY:
                return -ENOMEM;
        default:
                return -EIO;
        }
}
