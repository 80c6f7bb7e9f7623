/* Compiling mask rules into the immutable matcher set. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "mask-internal.h"
#include "vigil-error.h"

/* Returns code, after putting the message in *ret_error; -ENOMEM when that fails. */
static _printf_(4, 5) int set_error(char **ret_error, const vigil_mask_rule *r, int code, const char *fmt,
                                    ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        int k;

        if (!ret_error)
                return code;
        va_start(ap, fmt);
        k = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -ENOMEM;
        if (r && r->file)
                k = asprintf(ret_error, "%s:%u: %s", r->file, r->line, msg);
        else
                k = asprintf(ret_error, "mask rule: %s", msg);
        return k < 0 ? -ENOMEM : code;
}

static int compile_one(const char *pattern, uint32_t options, pcre2_compile_context *cctx, pcre2_code **ret,
                       bool *ret_jit, const vigil_mask_rule *r, char **ret_error)
{
        PCRE2_UCHAR msg[160];
        PCRE2_SIZE off;
        pcre2_code *code;
        int err;

        /* Bytes, not UTF-8 (terminal output need not be valid UTF-8, and (*UTF)
         * is refused), as the policy compiles it. */
        options |= PCRE2_NEVER_UTF | PCRE2_NEVER_BACKSLASH_C;
        code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, options, &err, &off, cctx);
        if (!code) {
                if (err == PCRE2_ERROR_NOMEMORY)
                        return -ENOMEM;
                (void)pcre2_get_error_message(err, msg, sizeof(msg));
                return set_error(ret_error, r, VIGIL_E_PARSE, "mask regex '%s': %s at offset %zu", pattern,
                                 (char *)msg, (size_t)off);
        }
        /* Without JIT (e.g. a kernel refusing executable memory) the interpreter
         * gives the same results, slower. */
        *ret_jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE | PCRE2_JIT_PARTIAL_HARD) == 0;
        *ret = code;
        return 0;
}

static void rule_clear(mask_rule *m)
{
        pcre2_code_free(m->re);
        pcre2_code_free(m->body);
        free(m->replace);
        free(m->file);
}

vigil_mask_set *vigil_mask_set_free(vigil_mask_set *set)
{
        if (!set)
                return NULL;
        for (size_t i = 0; i < set->n; i++)
                rule_clear(&set->rules[i]);
        free(set->rules);
        free(set);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vigil_mask_set *, vigil_mask_set_free)
DEFINE_TRIVIAL_CLEANUP_FUNC(pcre2_compile_context *, pcre2_compile_context_free)

static int compile_rule(const vigil_mask_rule *r, pcre2_compile_context *cctx, mask_rule *m,
                        char **ret_error)
{
        uint32_t pairs = 0;
        int k;

        if (!!r->detector == !!r->regex)
                return set_error(ret_error, r, VIGIL_E_PARSE,
                                 "a mask rule needs exactly one of a detector or regex=");
        if (r->replace && strlen(r->replace) > VIGIL_MASK_MAX_REPLACE)
                return set_error(ret_error, r, VIGIL_E_TOO_BIG, "replace= text longer than %u bytes",
                                 VIGIL_MASK_MAX_REPLACE);
        if (r->detector) {
                m->det = mask_detector_find(r->detector);
                if (!m->det)
                        return set_error(ret_error, r, VIGIL_E_PARSE, "unknown mask detector '%s'",
                                         r->detector);
                m->name = m->det->name;
                k = compile_one(m->det->pattern, 0, cctx, &m->re, &m->re_jit, r, ret_error);
                if (k < 0)
                        return k;
                if (m->det->body) {
                        k = compile_one(m->det->body, PCRE2_ANCHORED, cctx, &m->body, &m->body_jit, r,
                                        ret_error);
                        if (k < 0)
                                return k;
                }
                k = r->replace ? asprintf(&m->replace, "%s", r->replace)
                               : asprintf(&m->replace, "[MASKED:%s]", m->det->name);
                if (k < 0)
                        return -ENOMEM;
                m->replace_len = (size_t)k;
                return 0;
        }

        m->name = "regex";
        if (strlen(r->regex) > VIGIL_POLICY_MAX_REGEX)
                return set_error(ret_error, r, VIGIL_E_TOO_BIG, "mask regex longer than %u bytes",
                                 VIGIL_POLICY_MAX_REGEX);
        /* ^ and $ are line anchors: the stream has no other notion of a start. */
        k = compile_one(r->regex, PCRE2_MULTILINE, cctx, &m->re, &m->re_jit, r, ret_error);
        if (k < 0)
                return k;
        if (pcre2_pattern_info(m->re, PCRE2_INFO_MAXLOOKBEHIND, &pairs) == 0 &&
            pairs > VIGIL_MASK_MAX_LOOKBEHIND)
                return set_error(ret_error, r, VIGIL_E_TOO_BIG,
                                 "mask regex looks back %u characters, more than %u", pairs,
                                 VIGIL_MASK_MAX_LOOKBEHIND);
        if (r->replace) {
                k = mask_replace_check(m->re, r->replace, strlen(r->replace), ret_error);
                if (k == VIGIL_E_PARSE && ret_error && *ret_error) {
                        /* Prefix the rule's location to the checker's message. */
                        _cleanup_free_ char *inner = TAKE_PTR(*ret_error);

                        return set_error(ret_error, r, VIGIL_E_PARSE, "%s", inner);
                }
                if (k < 0)
                        return k;
                m->substitute = true;
        }
        k = r->replace ? asprintf(&m->replace, "%s", r->replace) : asprintf(&m->replace, "[MASKED:regex]");
        if (k < 0)
                return -ENOMEM;
        m->replace_len = (size_t)k;
        return 0;
}

int vigil_mask_set_new(const vigil_mask_rule *rules, size_t n, vigil_mask_set **ret, char **ret_error)
{
        _cleanup_(vigil_mask_set_freep) vigil_mask_set *set = NULL;
        _cleanup_(pcre2_compile_context_freep) pcre2_compile_context *cctx = NULL;
        char *err = NULL;
        int k;

        if ((!rules && n > 0) || !ret)
                return -EINVAL;
        if (n > VIGIL_MASK_MAX_RULES) {
                k = set_error(ret_error ? &err : NULL, NULL, VIGIL_E_TOO_BIG, "%zu mask rules, more than %u",
                              n, VIGIL_MASK_MAX_RULES);
                if (ret_error && err)
                        *ret_error = err;
                return k;
        }
        set = calloc(1, sizeof(*set));
        if (!set)
                return -ENOMEM;
        set->rules = calloc(n ?: 1, sizeof(mask_rule));
        if (!set->rules)
                return -ENOMEM;
        cctx = pcre2_compile_context_create(NULL);
        if (!cctx)
                return -ENOMEM;
        /* The policy's limits for its regexes (policy/regex.h). */
        (void)pcre2_set_parens_nest_limit(cctx, 64);
        (void)pcre2_set_max_pattern_length(cctx, VIGIL_POLICY_MAX_REGEX);
        set->max_pairs = 1;
        for (size_t i = 0; i < n; i++) {
                mask_rule *m = &set->rules[i];
                uint32_t cap = 0;

                set->n = i + 1; /* so that cleanup frees what was compiled */
                k = compile_rule(&rules[i], cctx, m, ret_error ? &err : NULL);
                if (k < 0) {
                        if (ret_error && err)
                                *ret_error = err;
                        return k;
                }
                m->line = rules[i].line;
                if (rules[i].file) {
                        m->file = strdup(rules[i].file);
                        if (!m->file)
                                return -ENOMEM;
                }
                (void)pcre2_pattern_info(m->re, PCRE2_INFO_CAPTURECOUNT, &cap);
                if (cap + 1 > set->max_pairs)
                        set->max_pairs = cap + 1;
                if (m->body) {
                        (void)pcre2_pattern_info(m->body, PCRE2_INFO_CAPTURECOUNT, &cap);
                        if (cap + 1 > set->max_pairs)
                                set->max_pairs = cap + 1;
                }
                if (m->det && (m->det->trig == TRIG_DIGITS || m->det->trig == TRIG_UPPER)) {
                        unsigned *min = &set->run_min[m->det->trig == TRIG_UPPER];

                        if (*min == 0 || m->det->min < *min)
                                *min = m->det->min;
                }
        }
        *ret = TAKE_PTR(set);
        return 0;
}

size_t vigil_mask_set_n_rules(const vigil_mask_set *set)
{
        return set ? set->n : 0;
}

const char *vigil_mask_set_rule_origin(const vigil_mask_set *set, size_t i, unsigned *ret_line)
{
        if (!set || i >= set->n)
                return NULL;
        if (ret_line)
                *ret_line = set->rules[i].line;
        return set->rules[i].file;
}

const char *vigil_mask_set_rule_name(const vigil_mask_set *set, size_t i)
{
        if (!set || i >= set->n)
                return NULL;
        return set->rules[i].name;
}
