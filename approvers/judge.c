/* Matching an approver against a rule's approvers= and the requester. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approvers.h"
#include "macro.h"

#define PW_BUF_MAX (1024u * 1024)
#define GROUPS_MAX 65536

bool vigil_approver_allowed(vigil_approver_verdict v)
{
        return v == VIGIL_APPROVER_BY_IDENTITY || v == VIGIL_APPROVER_BY_LOCAL;
}

/* The account @name: 1 with its uid and primary gid, 0 when there is none,
 * <0 when the database cannot answer (then nothing matches). */
static int account(const char *name, uid_t *ret_uid, gid_t *ret_gid)
{
        size_t size = 4096;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                struct passwd pw, *res = NULL;
                int k;

                if (!buf)
                        return -ENOMEM;
                k = getpwnam_r(name, &pw, buf, size, &res);
                if (k == ERANGE && size < PW_BUF_MAX) {
                        size *= 4;
                        continue;
                }
                if (k != 0)
                        return -k;
                if (!res)
                        return 0;
                *ret_uid = pw.pw_uid;
                *ret_gid = pw.pw_gid;
                return 1;
        }
}

static int group_gid(const char *name, gid_t *ret)
{
        size_t size = 4096;

        for (;;) {
                _cleanup_free_ char *buf = malloc(size);
                struct group gr, *res = NULL;
                int k;

                if (!buf)
                        return -ENOMEM;
                k = getgrnam_r(name, &gr, buf, size, &res);
                if (k == ERANGE && size < PW_BUF_MAX) {
                        size *= 4;
                        continue;
                }
                if (k != 0)
                        return -k;
                if (!res)
                        return 0;
                *ret = gr.gr_gid;
                return 1;
        }
}

/* Is the account @user (primary group @gid) in the group @name? */
static bool in_local_group(const char *user, gid_t gid, const char *name)
{
        _cleanup_free_ gid_t *list = NULL;
        int n = 64;
        gid_t want = 0;

        if (group_gid(name, &want) <= 0)
                return false;
        for (;;) {
                int got = n;
                gid_t *nl = realloc(list, (size_t)n * sizeof *nl);

                if (!nl)
                        return false;
                list = nl;
                if (getgrouplist(user, gid, list, &got) >= 0) {
                        for (int i = 0; i < got; i++)
                                if (list[i] == want)
                                        return true;
                        return false;
                }
                /* too small: got is the number needed */
                if (got <= n || got > GROUPS_MAX)
                        return false;
                n = got;
        }
}

static bool local_matches(const vigil_approver_who *who, const char *name)
{
        uid_t uid;
        gid_t gid;

        if (!who->local)
                return false;
        if (strcmp(who->local, name) == 0)
                return true;
        /* the account must still be the caller's: a name now given to another uid names nobody here */
        if (account(who->local, &uid, &gid) <= 0 || uid != who->uid)
                return false;
        return in_local_group(who->local, gid, name);
}

static bool identity_matches(const vigil_approver_who *who, bool group, const char *name)
{
        if (!who->subject)
                return false;
        if (!group)
                return strcmp(who->subject, name) == 0 ||
                       (who->username && strcmp(who->username, name) == 0);
        for (size_t i = 0; i < who->n_groups; i++)
                if (who->groups[i] && strcmp(who->groups[i], name) == 0)
                        return true;
        return false;
}

static bool is_requester(const vigil_approval *a, const vigil_approver_who *who)
{
        uid_t uid;
        gid_t gid;
        int k;

        if (who->subject && a->subject && strcmp(who->subject, a->subject) == 0)
                return true;
        if (!a->user)
                return false;
        if (who->local && strcmp(who->local, a->user) == 0)
                return true;
        /* two names for one uid (root and toor) are one account; an account
         * database that cannot answer counts as the same (fail closed) */
        k = account(a->user, &uid, &gid);
        return k < 0 || (k > 0 && uid == who->uid);
}

int vigil_approver_judge(const vigil_approval *a, const vigil_approver_who *who,
                         vigil_approver_verdict *ret_verdict, char **ret_entry)
{
        static const struct {
                const char *prefix;
                int kind; /* 0 group, 1 user, 2 local */
        } kinds[] = { { "group:", 0 }, { "user:", 1 }, { "local:", 2 } };
        _cleanup_free_ char *list = NULL;
        const char *by_identity = NULL, *by_local = NULL;
        bool idp_entries = false;
        char *save = NULL;

        if (ret_entry)
                *ret_entry = NULL;
        if (!a->approvers || !*a->approvers) {
                *ret_verdict = VIGIL_APPROVER_NONE_NAMED;
                return 0;
        }
        if (is_requester(a, who)) {
                *ret_verdict = VIGIL_APPROVER_SELF;
                return 0;
        }
        list = strdup(a->approvers);
        if (!list)
                return -ENOMEM;
        for (char *e = strtok_r(list, ",", &save); e; e = strtok_r(NULL, ",", &save)) {
                for (size_t k = 0; k < ELEMENTSOF(kinds); k++) {
                        size_t pl = strlen(kinds[k].prefix);
                        const char *name = e + pl;

                        if (strncmp(e, kinds[k].prefix, pl) != 0 || !*name)
                                continue;
                        if (kinds[k].kind == 2) {
                                if (!by_local && local_matches(who, name))
                                        by_local = e;
                        } else {
                                idp_entries = true;
                                if (!by_identity && identity_matches(who, kinds[k].kind == 0, name))
                                        by_identity = e;
                        }
                }
        }
        /* The identity provider's word is the stronger one: it is recorded when both match. */
        if (by_identity || by_local) {
                *ret_verdict = by_identity ? VIGIL_APPROVER_BY_IDENTITY : VIGIL_APPROVER_BY_LOCAL;
                if (ret_entry) {
                        *ret_entry = strdup(by_identity ? by_identity : by_local);
                        if (!*ret_entry)
                                return -ENOMEM;
                }
                return 0;
        }
        *ret_verdict = idp_entries && !who->subject ? VIGIL_APPROVER_SIGN_IN : VIGIL_APPROVER_NOT_NAMED;
        return 0;
}

void vigil_approver_id_of(const vigil_approver_who *who, vigil_approver_verdict v, vigil_approver_id *ret)
{
        *ret = (vigil_approver_id){ .local = (char *)who->local };
        if (v == VIGIL_APPROVER_BY_IDENTITY) {
                ret->subject = (char *)who->subject;
                ret->email = (char *)who->email;
                ret->groups = (char **)who->groups;
                ret->n_groups = who->n_groups;
                ret->via = (char *)who->via;
        } else
                ret->via = (char *)VIGIL_VIA_LOCAL;
}

bool vigil_approval_id_normalize(const char *s, char ret[VIGIL_APPROVAL_ID_LEN + 1])
{
        static const char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
        char out[VIGIL_APPROVAL_ID_LEN + 1];
        size_t n = 0;

        for (; s[n]; n++) {
                char c = s[n] >= 'A' && s[n] <= 'Z' ? (char)(s[n] - 'A' + 'a') : s[n];

                if (n >= VIGIL_APPROVAL_ID_LEN)
                        return false;
                if (c == 'i' || c == 'l')
                        c = '1';
                else if (c == 'o')
                        c = '0';
                if (!strchr(alphabet, c))
                        return false;
                out[n] = c;
        }
        if (n < 4)
                return false;
        out[n] = '\0';
        memcpy(ret, out, n + 1);
        return true;
}
