/* Fuzz target for the policy parser and matcher: parse the input; when it is
 * a valid policy, decide a few requests (fixed ones and ones made of the
 * input's own words) both through the index and by the explaining scan, and
 * abort when the two disagree or an invariant breaks. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"
#include "vigil-error.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 8

static void count_explain(void *userdata, const char *file, unsigned line, const char *why)
{
        size_t *n = userdata;

        if (!file || line == 0 || !why || !why[0])
                abort();
        (*n)++;
}

static void check_one(const vigil_policy *p, const vigil_request *q)
{
        vigil_decision a, b;
        size_t explained = 0;
        int ra = vigil_policy_decide(p, q, NULL, NULL, &a);
        int rb = vigil_policy_decide(p, q, count_explain, &explained, &b);

        if (ra != rb)
                abort();
        if (ra < 0) {
                if (ra != VIGIL_E_TOO_BIG && ra != -ENOMEM)
                        abort();
                return;
        }
        if (a.action != b.action || a.line != b.line || (a.file == NULL) != (b.file == NULL))
                abort();
        if (a.file && (a.line == 0 || explained >= a.line))
                abort();
        if (a.action == VIGIL_ACTION_HOLD && a.file && a.timeout_ms == 0)
                abort();
        (void)vigil_action_name(a.action);
}

/* Split a copy of the input into words (at most MAX_WORDS). */
static size_t words_of(const uint8_t *data, size_t size, char *buf, const char **words)
{
        size_t n = 0, len = size < 512 ? size : 512;

        memcpy(buf, data, len);
        buf[len] = '\0';
        for (char *s = buf; *s && n < MAX_WORDS;) {
                while (*s == ' ' || *s == '\n' || *s == '\t' || *s == '=' || *s == '~')
                        *s++ = '\0';
                if (!*s)
                        break;
                words[n++] = s;
                while (*s && *s != ' ' && *s != '\n' && *s != '\t' && *s != '=' && *s != '~')
                        s++;
        }
        return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static const char *const groups[] = { "sre", "dev", "dba", "deploy" };
        static const char *const argv1[] = { "rm", "-rf", "/srv/app" };
        static const char *const argv2[] = { "git", "push", "--force" };
        vigil_diags d = { 0 };
        vigil_policy *p = NULL;
        const char *words[MAX_WORDS];
        char buf[513];
        size_t nw;
        int r;

        r = vigil_policy_parse((const char *)data, size, "fuzz", &p, &d);
        if (r == 0 && (!p || d.n_errors != 0))
                abort();
        if (r < 0 && p)
                abort();
        if (r == VIGIL_E_PARSE && d.n_errors == 0)
                abort();
        for (size_t i = 0; i < d.n; i++)
                if (!d.items[i].message || !d.items[i].message[0])
                        abort();
        vigil_diags_clear(&d);
        if (!p)
                return 0;

        (void)vigil_policy_record(p);
        for (size_t i = 0; i < vigil_policy_n_masks(p); i++)
                if (!vigil_policy_mask(p, i) || !vigil_policy_mask(p, i)->file)
                        abort();

        check_one(p, &(vigil_request){ .user = "alice", .runas = "root", .groups = groups, .n_groups = 2,
                                       .cwd = "/srv/app", .exe = "/usr/bin/rm", .argv = argv1, .argc = 3 });
        check_one(p, &(vigil_request){ .user = "bob", .runas = "bob", .groups = groups + 2, .n_groups = 2,
                                       .cwd = "/", .exe = "/usr/bin/git", .argv = argv2, .argc = 3 });
        check_one(p, &(vigil_request){ .user = "carol", .runas = "carol", .cwd = "/tmp", .exe = NULL,
                                       .argv = argv2, .argc = 0 });

        /* The input's own words as user, exe, cwd and argv, so that rules
         * the fuzzer wrote get a chance to match. */
        nw = words_of(data, size, buf, words);
        if (nw > 0) {
                const char *exe = NULL;

                for (size_t i = 0; i < nw && !exe; i++)
                        if (words[i][0] == '/')
                                exe = words[i];
                check_one(p, &(vigil_request){ .user = words[nw - 1], .runas = words[0], .groups = words,
                                               .n_groups = nw, .cwd = exe ? exe : "/", .exe = exe,
                                               .argv = words, .argc = nw });
        }
        vigil_policy_free(p);
        return 0;
}
