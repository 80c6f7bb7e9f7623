#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access.h"
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

/* One LIST key's words, joined with commas: the value principal_list_parse() reads. */
static int list_from_config(const vigil_config *cfg, vigil_conf_key k, const vigil_strv *words,
                            principal_list *ret, char *err, size_t errlen)
{
        _cleanup_free_ char *joined = NULL;
        size_t len = 0, at = 0;
        char why[160];
        int r;

        if (words->n == 0)
                return 0;
        for (size_t i = 0; i < words->n; i++)
                len += strlen(words->v[i]) + 1;
        joined = malloc(len);
        if (!joined)
                return -ENOMEM;
        for (size_t i = 0; i < words->n; i++) {
                size_t n = strlen(words->v[i]);

                memcpy(joined + at, words->v[i], n);
                at += n;
                joined[at++] = ',';
        }
        r = principal_list_parse(joined, at - 1, ret, why, sizeof why);
        if (r < 0)
                snprintf(err, errlen, "%s:%u: %s: %s", cfg->path, cfg->line[k], vigil_config_key_name(k),
                         why);
        return r;
}

int access_parse_config(const vigil_config *cfg, vigild_access **ret, char *err, size_t errlen)
{
        _cleanup_(access_freep) vigild_access *a = calloc(1, sizeof *a);
        int r;

        if (!a)
                return -ENOMEM;
        r = list_from_config(cfg, VIGIL_CONF_KEY_auditors, &cfg->auditors, &a->auditors, err, errlen);
        if (r == 0)
                r = list_from_config(cfg, VIGIL_CONF_KEY_responders, &cfg->responders, &a->responders, err,
                                     errlen);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(a);
        return 0;
}

int access_from_config(const vigil_config *cfg, vigild_access **ret, char *err, size_t errlen)
{
        _cleanup_(access_freep) vigild_access *a = NULL;
        char why[200];
        int r;

        if (!cfg) {
                a = calloc(1, sizeof *a);
                if (!a)
                        return -ENOMEM;
                *ret = TAKE_PTR(a);
                return 0;
        }
        r = access_parse_config(cfg, &a, err, errlen);
        if (r < 0)
                return r;
        r = principal_list_resolve(&a->auditors, why, sizeof why);
        if (r == 0)
                r = principal_list_resolve(&a->responders, why, sizeof why);
        if (r < 0) {
                snprintf(err, errlen, "%s: %s", cfg->path, why);
                return r;
        }
        *ret = TAKE_PTR(a);
        return 0;
}
