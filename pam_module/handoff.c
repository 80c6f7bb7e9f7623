#include <errno.h>
#include <string.h>

#include "client.h"
#include "handoff.h"
#include "text.h"
#include "vigil-error.h"

static void vigild_conn_freep(vigild_conn **c)
{
        *c = vigild_conn_free(*c);
}

static void vigild_reply_freep(vigild_reply **r)
{
        *r = vigild_reply_free(*r);
}

/* Send @b and wait for the reply; VS_OK or a code with a reason. */
static int call(const char *socket, vmsg_builder *b, vigild_reply **ret, char **ret_reason)
{
        _cleanup_(vigild_conn_freep) vigild_conn *c = NULL;
        _cleanup_free_ char *why = NULL;
        char err[VMSG_ERR_MAX] = "";
        vigild_reply *rep = NULL;
        uint32_t st;
        int r;

        /* Checked here first so that a sign-in whose identity does not fit
         * the protocol (e.g. a group name with a control character) gets a
         * reason naming the field rather than a refusal from vigild. */
        r = vmsg_builder_finish(b, 0, err);
        if (r < 0)
                return pv_reason(ret_reason, r, "the identity does not fit a vigild request: %s", err);
        r = vigild_connect(socket, PV_VIGILD_CONNECT_MS, &c);
        if (r < 0)
                return pv_reason(ret_reason, r, "cannot reach vigild at '%s': %s", socket,
                                 vigild_client_strerror(r));
        r = vigild_call(c, b, NULL, 0, PV_VIGILD_CALL_MS, &rep);
        if (r < 0)
                return pv_reason(ret_reason, r, "vigild did not answer: %s", vigild_client_strerror(r));
        st = vigild_reply_status(rep);
        if (st == VS_OK) {
                *ret = rep;
                return 0;
        }
        why = pv_text_clean(vigild_reply_error(rep), 200);
        vigild_reply_free(rep);
        switch (st) {
        case VS_REFUSED:
        case VS_NOTFOUND:
        case VS_INVALID:
                r = VIGIL_E_DENIED;
                break;
        case VS_LIMIT:
                r = -EBUSY;
                break;
        case VS_TIMEOUT:
                r = -ETIMEDOUT;
                break;
        default:
                r = -EPROTO;
                break;
        }
        return pv_reason(ret_reason, r, "vigild refused (%s): %s", vstatus_name(st), PV_TC(why));
}

int pv_handoff_register(const char *socket, const char *user, const char *service, const vigil_identity *id,
                        char ret_ref[static PV_REF_LEN + 1], char **ret_reason)
{
        _cleanup_(vigild_reply_freep) vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        const vmsg_field *f;
        int r;

        r = vmsg_builder_init(&b, VT_PAM_REGISTER, 1);
        if (r < 0)
                return r;
        /* Add errors are sticky; vmsg_builder_finish() in call() reports the first. */
        (void)vmsg_add_str(&b, VF_USER, user);
        (void)vmsg_add_str(&b, VF_SUBJECT, id->sub);
        if (id->email)
                (void)vmsg_add_str(&b, VF_EMAIL, id->email);
        for (size_t i = 0; i < id->n_groups; i++)
                (void)vmsg_add_str(&b, VF_GROUP, id->groups[i]);
        if (id->jti)
                (void)vmsg_add_str(&b, VF_JTI, id->jti);
        (void)vmsg_add_i64(&b, VF_EXP, id->exp);
        if (service)
                (void)vmsg_add_str(&b, VF_SERVICE, service);
        r = call(socket, &b, &rep, ret_reason);
        vmsg_builder_done(&b);
        if (r < 0)
                return r;
        f = vmsg_get(&rep->msg, VF_REF);
        if (!f || f->len != PV_REF_LEN)
                return pv_reason(ret_reason, -EPROTO, "vigild's pam.register reply has no reference");
        memcpy(ret_ref, f->val, PV_REF_LEN);
        ret_ref[PV_REF_LEN] = '\0';
        return 0;
}

static bool ref_valid(const char *ref)
{
        size_t i;

        for (i = 0; ref[i]; i++)
                if (!((ref[i] >= '0' && ref[i] <= '9') || (ref[i] >= 'a' && ref[i] <= 'f')))
                        return false;
        return i == PV_REF_LEN;
}

int pv_handoff_lookup(const char *socket, const char *ref, const char *user, vigil_identity **ret,
                      char **ret_reason)
{
        _cleanup_(vigild_reply_freep) vigild_reply *rep = NULL;
        vigil_identity *id = NULL;
        vmsg_builder b = { 0 };
        size_t n, i = 0;
        int r;

        if (!ref_valid(ref))
                return pv_reason(ret_reason, VIGIL_E_DENIED, "%s is not %d hex digits", PV_REF_ENV,
                                 PV_REF_LEN);
        r = vmsg_builder_init(&b, VT_PAM_LOOKUP, 1);
        if (r < 0)
                return r;
        (void)vmsg_add_str(&b, VF_REF, ref);
        (void)vmsg_add_str(&b, VF_USER, user);
        r = call(socket, &b, &rep, ret_reason);
        vmsg_builder_done(&b);
        if (r < 0)
                return r;

        id = calloc(1, sizeof *id);
        if (!id)
                return -ENOMEM;
        n = vmsg_count(&rep->msg, VF_GROUP);
        id->groups = calloc(n + 1, sizeof *id->groups);
        if (!id->groups)
                r = -ENOMEM;
        else if (!vmsg_get(&rep->msg, VF_SUBJECT) || vmsg_get_i64(&rep->msg, VF_EXP, &id->exp) < 0)
                r = -EPROTO;
        else if (vmsg_get_str(&rep->msg, VF_SUBJECT, &id->sub) < 0)
                r = -ENOMEM;
        if (r >= 0 && vmsg_get(&rep->msg, VF_EMAIL) && vmsg_get_str(&rep->msg, VF_EMAIL, &id->email) < 0)
                r = -ENOMEM;
        if (r >= 0 && vmsg_get(&rep->msg, VF_JTI) && vmsg_get_str(&rep->msg, VF_JTI, &id->jti) < 0)
                r = -ENOMEM;
        for (const vmsg_field *f = vmsg_get(&rep->msg, VF_GROUP); r >= 0 && f;
             f = vmsg_next(&rep->msg, VF_GROUP, f)) {
                id->groups[i] = vmsg_field_strdup(f);
                if (!id->groups[i])
                        r = -ENOMEM;
                else
                        id->n_groups = ++i;
        }
        if (r < 0) {
                vigil_identity_free(id);
                if (r == -EPROTO)
                        return pv_reason(ret_reason, r, "vigild's pam.lookup reply lacks subject or exp");
                return r;
        }
        *ret = id;
        return 0;
}

/* The protocol's tty and host kinds, so that an odd PAM_TTY or PAM_RHOST
 * (set by the application) leaves the field out instead of failing the login. */
static bool tty_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 64)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                      (s[i] >= '0' && s[i] <= '9') || strchr("/_.:-", s[i])))
                        return false;
        return true;
}

static bool host_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n == 0 || n > 255)
                return false;
        for (size_t i = 0; i < n; i++)
                if (s[i] <= 0x20 || s[i] >= 0x7f)
                        return false;
        return true;
}

int pv_handoff_open(const char *socket, const char *ref, const char *user, const char *service,
                    const char *tty, const char *rhost, pv_opened *ret, char **ret_reason)
{
        _cleanup_(vigild_reply_freep) vigild_reply *rep = NULL;
        const vmsg_field *sref, *handle;
        vmsg_builder b = { 0 };
        int64_t exp = 0;
        int r;

        if (!ref_valid(ref))
                return pv_reason(ret_reason, VIGIL_E_DENIED, "%s is not %d hex digits", PV_REF_ENV,
                                 PV_REF_LEN);
        r = vmsg_builder_init(&b, VT_PAM_OPEN, 1);
        if (r < 0)
                return r;
        (void)vmsg_add_str(&b, VF_REF, ref);
        (void)vmsg_add_str(&b, VF_USER, user);
        if (service)
                (void)vmsg_add_str(&b, VF_SERVICE, service);
        if (tty_ok(tty))
                (void)vmsg_add_str(&b, VF_TTY, tty);
        if (host_ok(rhost))
                (void)vmsg_add_str(&b, VF_RHOST, rhost);
        r = call(socket, &b, &rep, ret_reason);
        vmsg_builder_done(&b);
        if (r < 0)
                return r;
        sref = vmsg_get(&rep->msg, VF_REF);
        handle = vmsg_get(&rep->msg, VF_HANDLE);
        if (!sref || sref->len != PV_REF_LEN || !handle || handle->len != PV_REF_LEN ||
            vmsg_get_i64(&rep->msg, VF_EXP, &exp) < 0)
                return pv_reason(ret_reason, -EPROTO, "vigild's pam.open reply lacks a reference or handle");
        memcpy(ret->ref, sref->val, PV_REF_LEN);
        ret->ref[PV_REF_LEN] = '\0';
        memcpy(ret->handle, handle->val, PV_REF_LEN);
        ret->handle[PV_REF_LEN] = '\0';
        ret->exp = exp;
        explicit_bzero((void *)sref->val, sref->len);
        return 0;
}

int pv_handoff_close(const char *socket, const char *handle, char **ret_reason)
{
        _cleanup_(vigild_reply_freep) vigild_reply *rep = NULL;
        vmsg_builder b = { 0 };
        int r;

        if (!ref_valid(handle))
                return pv_reason(ret_reason, VIGIL_E_DENIED, "the session handle is not %d hex digits",
                                 PV_REF_LEN);
        r = vmsg_builder_init(&b, VT_PAM_CLOSE, 1);
        if (r < 0)
                return r;
        (void)vmsg_add_str(&b, VF_HANDLE, handle);
        r = call(socket, &b, &rep, ret_reason);
        vmsg_builder_done(&b);
        return r;
}
