#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
#include "fileio.h"
#include "macro.h"
#include "ops.h"
#include "validate.h"
#include "vigil-error.h"

void principal_list_clear(principal_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].name);
        free(l->items);
        *l = (principal_list){ 0 };
}

static bool is_space(char c)
{
        return c == ' ' || c == '\t';
}

static int parse_item(const char *s, size_t len, principal *ret, char *err, size_t errlen)
{
        const char *name;
        size_t nlen;
        principal p = { 0 };

        if (len > 6 && memcmp(s, "group:", 6) == 0) {
                p.kind = PRINCIPAL_IDP_GROUP;
                name = s + 6;
                nlen = len - 6;
                if (nlen > 255 || !vtext_valid((const uint8_t *)name, nlen) || is_space(name[0])) {
                        snprintf(err, errlen, "'group:' needs a group name of printable text");
                        return VIGIL_E_PARSE;
                }
        } else if (len > 6 && memcmp(s, "local:", 6) == 0) {
                p.kind = PRINCIPAL_LOCAL;
                name = s + 6;
                nlen = len - 6;
                if (nlen > 32 || !vkind_valid(VK_NAME, (const uint8_t *)name, nlen, NULL)) {
                        snprintf(err, errlen, "'local:' needs an account or group name");
                        return VIGIL_E_PARSE;
                }
        } else {
                snprintf(err, errlen, "each entry is group:NAME or local:NAME");
                return VIGIL_E_PARSE;
        }
        p.name = strndup(name, nlen);
        if (!p.name)
                return -ENOMEM;
        *ret = p;
        return 0;
}

int principal_list_parse(const char *value, size_t len, principal_list *ret, char *err, size_t errlen)
{
        principal_list l = { 0 };
        size_t i = 0;
        int r;

        /* An empty or blank value is an empty list. */
        while (len && is_space(value[len - 1]))
                len--;
        while (i < len && is_space(value[i]))
                i++;
        while (i < len) {
                size_t start, end;

                while (i < len && is_space(value[i]))
                        i++;
                start = i;
                while (i < len && value[i] != ',')
                        i++;
                end = i;
                while (end > start && is_space(value[end - 1]))
                        end--;
                if (end == start) {
                        principal_list_clear(&l);
                        snprintf(err, errlen, "empty entry in list");
                        return VIGIL_E_PARSE;
                }
                if (l.n == ACCESS_MAX_PRINCIPALS) {
                        principal_list_clear(&l);
                        snprintf(err, errlen, "more than %u entries", ACCESS_MAX_PRINCIPALS);
                        return VIGIL_E_TOO_BIG;
                }
                if (!l.items) {
                        l.items = calloc(ACCESS_MAX_PRINCIPALS, sizeof *l.items);
                        if (!l.items)
                                return -ENOMEM;
                }
                r = parse_item(value + start, end - start, &l.items[l.n], err, errlen);
                if (r < 0) {
                        principal_list_clear(&l);
                        return r;
                }
                l.n++;
                if (i < len) {
                        i++; /* the comma */
                        if (i == len) {
                                principal_list_clear(&l);
                                snprintf(err, errlen, "empty entry in list");
                                return VIGIL_E_PARSE;
                        }
                }
        }
        *ret = l;
        return 0;
}

int principal_list_resolve(principal_list *l, char *err, size_t errlen)
{
        for (size_t i = 0; i < l->n; i++) {
                principal *p = &l->items[i];
                struct passwd pw, *pwr = NULL;
                struct group gr, *grr = NULL;
                char buf[16384];

                if (p->kind != PRINCIPAL_LOCAL)
                        continue;
                if (getpwnam_r(p->name, &pw, buf, sizeof buf, &pwr) == 0 && pwr) {
                        p->has_uid = true;
                        p->uid = pwr->pw_uid;
                }
                if (getgrnam_r(p->name, &gr, buf, sizeof buf, &grr) == 0 && grr) {
                        p->has_gid = true;
                        p->gid = grr->gr_gid;
                }
                if (!p->has_uid && !p->has_gid) {
                        snprintf(err, errlen, "'local:%s' is neither a local account nor a group", p->name);
                        return -ENOENT;
                }
        }
        return 0;
}

bool principal_list_match(const principal_list *l, const vigild_caller *c, const vigild_identity *id)
{
        for (size_t i = 0; i < l->n; i++) {
                const principal *p = &l->items[i];

                if (p->kind == PRINCIPAL_LOCAL) {
                        if (p->has_uid && p->uid == c->uid)
                                return true;
                        if (p->has_gid && p->gid == c->gid)
                                return true;
                        for (size_t k = 0; p->has_gid && k < c->n_groups; k++)
                                if (c->groups[k] == p->gid)
                                        return true;
                } else if (id) {
                        for (size_t k = 0; k < id->n_groups; k++)
                                if (strcmp(id->groups[k], p->name) == 0)
                                        return true;
                }
        }
        return false;
}

bool principal_list_wants_identity(const principal_list *l)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->items[i].kind == PRINCIPAL_IDP_GROUP)
                        return true;
        return false;
}

vigild_access *access_free(vigild_access *a)
{
        if (!a)
                return NULL;
        principal_list_clear(&a->auditors);
        principal_list_clear(&a->responders);
        free(a);
        return NULL;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(vigild_access *, access_free)

int access_parse_conf(const char *text, size_t len, const char *name, vigild_access **ret, char *err,
                      size_t errlen)
{
        _cleanup_(access_freep) vigild_access *a = calloc(1, sizeof *a);
        bool seen_aud = false, seen_resp = false;
        unsigned line = 0;
        size_t i = 0;

        if (!a)
                return -ENOMEM;
        if (memchr(text, '\0', len)) {
                snprintf(err, errlen, "%s: contains a NUL byte", name);
                return VIGIL_E_PARSE;
        }
        while (i < len) {
                const char *l = text + i, *eq, *k_end, *v;
                size_t llen, vlen;
                const char *nl = memchr(l, '\n', len - i);
                principal_list *target = NULL;
                char why[160];
                int r;

                llen = nl ? (size_t)(nl - l) : len - i;
                i += llen + (nl ? 1 : 0);
                line++;
                while (llen && (is_space(*l) || *l == '\r')) {
                        l++;
                        llen--;
                }
                while (llen && (is_space(l[llen - 1]) || l[llen - 1] == '\r'))
                        llen--;
                if (llen == 0 || l[0] == '#')
                        continue;
                eq = memchr(l, '=', llen);
                if (!eq) {
                        snprintf(err, errlen, "%s:%u: expected 'key = value'", name, line);
                        return VIGIL_E_PARSE;
                }
                k_end = eq;
                while (k_end > l && is_space(k_end[-1]))
                        k_end--;
                v = eq + 1;
                while (v < l + llen && is_space(*v))
                        v++;
                vlen = (size_t)(l + llen - v);
                if ((size_t)(k_end - l) == 8 && memcmp(l, "auditors", 8) == 0) {
                        if (seen_aud) {
                                snprintf(err, errlen, "%s:%u: 'auditors' is set twice", name, line);
                                return VIGIL_E_PARSE;
                        }
                        seen_aud = true;
                        target = &a->auditors;
                } else if ((size_t)(k_end - l) == 10 && memcmp(l, "responders", 10) == 0) {
                        if (seen_resp) {
                                snprintf(err, errlen, "%s:%u: 'responders' is set twice", name, line);
                                return VIGIL_E_PARSE;
                        }
                        seen_resp = true;
                        target = &a->responders;
                }
                if (!target)
                        continue; /* another component's key */
                r = principal_list_parse(v, vlen, target, why, sizeof why);
                if (r < 0) {
                        snprintf(err, errlen, "%s:%u: %.*s: %s", name, line, (int)(k_end - l), l, why);
                        return r;
                }
        }
        *ret = TAKE_PTR(a);
        return 0;
}

int access_load(const char *path, bool must_exist, vigild_access **ret, char *err, size_t errlen)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(access_freep) vigild_access *a = NULL;
        size_t len = 0;
        char why[200];
        int r;

        r = read_file_bounded(path, ACCESS_MAX_CONF, &text, &len);
        if (r == -ENOENT && !must_exist) {
                a = calloc(1, sizeof *a);
                if (!a)
                        return -ENOMEM;
                *ret = TAKE_PTR(a);
                return 0;
        }
        if (r < 0) {
                snprintf(err, errlen, "%s: %s", path, vigil_strerror(r));
                return r;
        }
        r = access_parse_conf(text, len, path, &a, err, errlen);
        if (r < 0)
                return r;
        r = principal_list_resolve(&a->auditors, why, sizeof why);
        if (r == 0)
                r = principal_list_resolve(&a->responders, why, sizeof why);
        if (r < 0) {
                snprintf(err, errlen, "%s: %s", path, why);
                return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}
