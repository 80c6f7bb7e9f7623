/* pam.register, pam.lookup, pam.open, pam.close: the one-time references
 * (refs.h) that carry a login's identity from pam_vigil's auth phase to
 * vigil-shell. All root-only (the table); answered by vigild itself. */
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "loop-internal.h"
#include "vigil-error.h"

static int64_t boottime_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_BOOTTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void free_strv(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

static int identity_from_msg(const vmsg *m, vigild_identity *id)
{
        size_t n = vmsg_count(m, VF_GROUP), i = 0;

        *id = (vigild_identity){ 0 };
        if (vmsg_get_str(m, VF_SUBJECT, &id->subject) < 0)
                return -ENOMEM;
        if (vmsg_get(m, VF_EMAIL) && vmsg_get_str(m, VF_EMAIL, &id->email) < 0)
                return -ENOMEM;
        if (vmsg_get(m, VF_JTI) && vmsg_get_str(m, VF_JTI, &id->jti) < 0)
                return -ENOMEM;
        (void)vmsg_get_i64(m, VF_EXP, &id->exp);
        if (n) {
                id->groups = calloc(n, sizeof *id->groups);
                if (!id->groups)
                        return -ENOMEM;
                for (const vmsg_field *f = vmsg_get(m, VF_GROUP); f; f = vmsg_next(m, VF_GROUP, f)) {
                        id->groups[i] = vmsg_field_strdup(f);
                        if (!id->groups[i])
                                return -ENOMEM;
                        id->n_groups = ++i;
                }
        }
        return 0;
}

static void identity_clear(vigild_identity *id)
{
        free(id->subject);
        free(id->email);
        free(id->jti);
        free(id->username);
        free_strv(id->groups, id->n_groups);
        *id = (vigild_identity){ 0 };
}

/* Reply fields describing an identity. */
static void add_identity(vmsg_builder *b, const char *user, const vigild_identity *id)
{
        if (user)
                vmsg_add_str(b, VF_USER, user);
        if (id->subject)
                vmsg_add_str(b, VF_SUBJECT, id->subject);
        if (id->email)
                vmsg_add_str(b, VF_EMAIL, id->email);
        for (size_t i = 0; i < id->n_groups; i++)
                vmsg_add_str(b, VF_GROUP, id->groups[i]);
        if (id->jti)
                vmsg_add_str(b, VF_JTI, id->jti);
        vmsg_add_i64(b, VF_EXP, id->exp);
}

int handle_pam_register(vigild_req *r, const vmsg *m)
{
        vigild_server *s = vigild_req_server(r);
        _cleanup_free_ char *user = NULL, *service = NULL;
        vigild_identity id;
        char ref[REF_HEX_LEN + 1];
        vmsg_builder b = { 0 };
        int k;

        k = identity_from_msg(m, &id);
        if (k == 0)
                k = vmsg_get_str(m, VF_USER, &user);
        if (k == 0 && vmsg_get(m, VF_SERVICE))
                k = vmsg_get_str(m, VF_SERVICE, &service);
        if (k < 0)
                goto out;
        if (id.exp <= (int64_t)time(NULL)) {
                k = vigild_req_fail(r, VS_REFUSED, "the identity has already expired");
                goto out;
        }
        k = refs_register(&s->refs, boottime_ms(), (int64_t)s->limits.ref_ttl_s * 1000, user, &id, service,
                          ref);
        if (k == -EBUSY) {
                vlog(LOG_WARNING, "pam.register: %u references pending, refusing more", s->limits.max_refs);
                k = vigild_req_fail(r, VS_LIMIT, "too many logins in progress");
                goto out;
        }
        if (k == -EAGAIN) {
                k = vigild_req_fail(r, VS_UNAVAILABLE, "no randomness available yet");
                goto out;
        }
        if (k < 0)
                goto out;
        vlog(LOG_INFO, "pam.register: login reference for '%s'", user);
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                vmsg_add_str(&b, VF_REF, ref);
                k = vigild_req_reply(r, &b, -1);
        }
out:
        explicit_bzero(ref, sizeof ref);
        vmsg_builder_done(&b);
        identity_clear(&id);
        return k;
}

int handle_pam_lookup(vigild_req *r, const vmsg *m)
{
        vigild_server *s = vigild_req_server(r);
        _cleanup_free_ char *ref = NULL, *user = NULL;
        const ref_entry *e;
        vmsg_builder b = { 0 };
        int k;

        k = vmsg_get_str(m, VF_REF, &ref);
        if (k == 0)
                k = vmsg_get_str(m, VF_USER, &user);
        if (k < 0)
                return k;
        k = refs_lookup(&s->refs, boottime_ms(), ref, user, &e);
        explicit_bzero(ref, strlen(ref));
        if (k < 0)
                return vigild_req_fail(r, VS_NOTFOUND, "unknown, expired or used reference");
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                add_identity(&b, e->user, e->identity);
                k = vigild_req_reply(r, &b, -1);
        }
        vmsg_builder_done(&b);
        return k;
}

int handle_pam_open(vigild_req *r, const vmsg *m)
{
        vigild_server *s = vigild_req_server(r);
        _cleanup_free_ char *ref = NULL, *user = NULL, *service = NULL, *tty = NULL, *rhost = NULL;
        char sref[REF_HEX_LEN + 1], handle[REF_HEX_LEN + 1];
        struct passwd pw, *pwr = NULL;
        char pwbuf[16384];
        const ref_entry *e;
        vmsg_builder b = { 0 };
        int k;

        k = vmsg_get_str(m, VF_REF, &ref);
        if (k == 0)
                k = vmsg_get_str(m, VF_USER, &user);
        if (k == 0 && vmsg_get(m, VF_SERVICE))
                k = vmsg_get_str(m, VF_SERVICE, &service);
        if (k == 0 && vmsg_get(m, VF_TTY))
                k = vmsg_get_str(m, VF_TTY, &tty);
        if (k == 0 && vmsg_get(m, VF_RHOST))
                k = vmsg_get_str(m, VF_RHOST, &rhost);
        if (k < 0)
                return k;
        /* The session reference is bound to the account's uid, which
         * vigil-shell's connection must then show. */
        if (getpwnam_r(user, &pw, pwbuf, sizeof pwbuf, &pwr) != 0 || !pwr) {
                explicit_bzero(ref, strlen(ref));
                return vigild_req_fail(r, VS_NOTFOUND, "unknown account '%s'", user);
        }
        k = refs_open(&s->refs, boottime_ms(), (int64_t)s->limits.ref_ttl_s * 1000, ref, user, pwr->pw_uid,
                      service, tty, rhost, sref, handle, &e);
        explicit_bzero(ref, strlen(ref));
        switch (k) {
        case 0:
                break;
        case -ENOENT:
                return vigild_req_fail(r, VS_NOTFOUND, "unknown, expired or used reference");
        case -EPERM:
                vlog(LOG_WARNING, "pam.open: reference registered for another account than '%s'; used up",
                     user);
                return vigild_req_fail(r, VS_REFUSED, "the reference belongs to another account");
        case -EBUSY:
                return vigild_req_fail(r, VS_LIMIT, "too many logins in progress");
        case -EAGAIN:
                return vigild_req_fail(r, VS_UNAVAILABLE, "no randomness available yet");
        default:
                return k;
        }
        vlog(LOG_INFO, "pam.open: session reference for '%s' (uid %u)", user, (unsigned)pwr->pw_uid);
        k = vigild_req_reply_begin(r, &b);
        if (k == 0) {
                vmsg_add_str(&b, VF_REF, sref);
                vmsg_add_str(&b, VF_HANDLE, handle);
                add_identity(&b, NULL, e->identity);
                k = vigild_req_reply(r, &b, -1);
        }
        explicit_bzero(sref, sizeof sref);
        vmsg_builder_done(&b);
        return k;
}

int handle_pam_close(vigild_req *r, const vmsg *m)
{
        vigild_server *s = vigild_req_server(r);
        _cleanup_free_ char *handle = NULL, *session = NULL;
        vmsg_builder b = { 0 };
        int k;

        k = vmsg_get_str(m, VF_HANDLE, &handle);
        if (k < 0)
                return k;
        k = refs_close(&s->refs, handle, &session);
        if (k < 0)
                return vigild_req_fail(r, VS_NOTFOUND, "unknown handle");
        if (session && s->ops->session_close) {
                k = s->ops->session_close(session);
                if (k < 0 && k != -ENOENT)
                        vlog(LOG_WARNING, "pam.close: ending session '%s' failed: %s", session,
                             vigil_strerror(k));
        }
        k = vigild_req_reply_begin(r, &b);
        if (k == 0)
                k = vigild_req_reply(r, &b, -1);
        vmsg_builder_done(&b);
        return k;
}
