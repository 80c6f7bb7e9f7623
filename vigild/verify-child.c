/* ops->verify_token: the identity component's verification, in a child
 * process, because it may fetch the provider's keys over the network and
 * reads and writes its state files (the JWKS cache, spent jti values): none
 * of that may hold up vigild's loop. The child answers with one message in
 * vigild's own protocol, a pam.lookup reply (status, and the identity or a
 * reason), so the identity that comes back passes the same decoder and
 * bounds as one registered by pam_vigil. A request that is cancelled (its
 * client left, or it timed out) kills the child. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend.h"
#include "config/config.h"
#include "identity.h"
#include "log.h"
#include "proto.h"
#include "validate.h"
#include "vigil-error.h"

typedef struct verify_job {
        vigild_req *r;
        vigild_verify_done done;
        pid_t pid;
        int fd;
        vigild_watch *w;
} verify_job;

static void job_free(verify_job *j)
{
        vigild_watch_free(j->w);
        if (j->fd >= 0)
                (void)close(j->fd);
        free(j);
}

/* ---- the child ---- */

/* A reason as protocol text: one line, bounded, valid UTF-8 (else a stand-in). */
static void add_reason(vmsg_builder *b, const char *why)
{
        char line[480];
        size_t n = 0;

        for (const char *p = why ? why : "refused"; *p && n < sizeof line - 1; p++)
                line[n++] = (unsigned char)*p < 0x20 || *p == 0x7f ? '?' : *p;
        line[n] = '\0';
        /* cut back to a whole character */
        while (n > 0 && !vtext_valid((const uint8_t *)line, n))
                line[--n] = '\0';
        (void)vmsg_add_str(b, VF_ERROR, n ? line : "refused");
}

static int answer(int fd, const vigil_identity *id, int result, const char *reason)
{
        vmsg_builder b = { 0 };
        int r;

        r = vmsg_builder_init(&b, VT_PAM_LOOKUP | VT_REPLY, 1);
        if (r < 0)
                return r;
        if (id) {
                (void)vmsg_add_u32(&b, VF_STATUS, VS_OK);
                if (id->username &&
                    vkind_valid(VK_NAME, (const uint8_t *)id->username, strlen(id->username), NULL))
                        (void)vmsg_add_str(&b, VF_USER, id->username);
                (void)vmsg_add_str(&b, VF_SUBJECT, id->sub);
                if (id->email)
                        (void)vmsg_add_str(&b, VF_EMAIL, id->email);
                for (size_t i = 0; i < id->n_groups; i++)
                        (void)vmsg_add_str(&b, VF_GROUP, id->groups[i]);
                if (id->jti)
                        (void)vmsg_add_str(&b, VF_JTI, id->jti);
                (void)vmsg_add_i64(&b, VF_EXP, id->exp);
                if (vmsg_builder_finish(&b, 0, NULL) < 0) {
                        /* a claim the protocol cannot carry: refused, not trimmed */
                        vmsg_builder_done(&b);
                        return answer(
                                fd, NULL, VIGIL_E_DENIED,
                                "the token's claims do not fit (a claim is not one line of text, is too "
                                "long, or there are more than 256 groups)");
                }
        } else {
                (void)vmsg_add_u32(&b, VF_STATUS, result == VIGIL_E_DENIED ? VS_REFUSED : VS_UNAVAILABLE);
                add_reason(&b, reason ? reason : vigil_strerror(result));
        }
        r = vmsg_builder_finish(&b, 0, NULL);
        if (r == 0 && send(fd, b.buf, b.len, MSG_NOSIGNAL) != (ssize_t)b.len)
                r = negative_errno();
        vmsg_builder_done(&b);
        return r;
}

_noreturn_ static void child_main(int fd, const vigil_config *cfg, char *token, const char *username)
{
        vigil_verifier *v = NULL;
        vigil_identity *id = NULL;
        char *reason = NULL;
        int r;

        r = vigil_verifier_new(cfg, NULL, &v);
        if (r == 0)
                r = vigil_verifier_verify(v, token, strlen(token), username,
                                          username ? 0 : VIGIL_VERIFY_ANY_USER, &id, &reason);
        explicit_bzero(token, strlen(token));
        (void)answer(fd, r == 0 ? id : NULL, r, reason);
        _exit(0);
}

/* ---- vigild's side ---- */

static int identity_from_reply(const vmsg *m, vigild_identity **ret)
{
        vigild_identity *id = calloc(1, sizeof *id);
        size_t n = vmsg_count(m, VF_GROUP), i = 0;
        int r = 0;

        if (!id)
                return -ENOMEM;
        if (!vmsg_get(m, VF_SUBJECT) || vmsg_get_i64(m, VF_EXP, &id->exp) < 0)
                r = -EPROTO;
        if (r == 0)
                r = vmsg_get_str(m, VF_SUBJECT, &id->subject);
        if (r == 0 && vmsg_get(m, VF_USER))
                r = vmsg_get_str(m, VF_USER, &id->username);
        if (r == 0 && vmsg_get(m, VF_EMAIL))
                r = vmsg_get_str(m, VF_EMAIL, &id->email);
        if (r == 0 && vmsg_get(m, VF_JTI))
                r = vmsg_get_str(m, VF_JTI, &id->jti);
        if (r == 0 && n) {
                id->groups = calloc(n, sizeof *id->groups);
                if (!id->groups)
                        r = -ENOMEM;
                for (const vmsg_field *f = vmsg_get(m, VF_GROUP); r == 0 && f;
                     f = vmsg_next(m, VF_GROUP, f)) {
                        id->groups[i] = vmsg_field_strdup(f);
                        if (!id->groups[i])
                                r = -ENOMEM;
                        else
                                id->n_groups = ++i;
                }
        }
        if (r < 0) {
                vigild_identity_free(id);
                return r;
        }
        *ret = id;
        return 0;
}

static void job_readable(int fd, uint32_t events, void *userdata)
{
        verify_job *j = userdata;
        vigild_req *r = j->r;
        vigild_verify_done done = j->done;
        _cleanup_free_ uint8_t *buf = malloc(VMSG_MAX + 1);
        _cleanup_free_ vmsg *m = malloc(sizeof *m);
        vigild_identity *id = NULL;
        uint32_t st = VS_FAILED;
        ssize_t n;
        int result;

        (void)events;
        if (!buf || !m)
                n = -1;
        else {
                n = recv(fd, buf, VMSG_MAX + 1, MSG_DONTWAIT);
                if (n < 0 && errno == EAGAIN)
                        return;
        }
        /* whatever came, the job is over (the child exits after its one answer) */
        vigild_req_on_cancel(r, NULL, NULL);
        job_free(j);
        if (n <= 0 || vmsg_decode(buf, (size_t)n, 0, m, NULL) < 0 || m->type != (VT_PAM_LOOKUP | VT_REPLY) ||
            vmsg_get_u32(m, VF_STATUS, &st) < 0) {
                vlog(LOG_ERR, "%s: token verification ended without an answer", vigild_req_name(r));
                result = -EIO;
        } else if (st == VS_OK)
                result = identity_from_reply(m, &id);
        else {
                const vmsg_field *e = vmsg_get(m, VF_ERROR);

                /* the reason is for the administrator; the caller gets the class */
                vlog_limited(LOG_NOTICE, "%s: token of uid=%u refused: %.*s", vigild_req_name(r),
                             (unsigned)vigild_req_caller(r)->uid, e ? (int)e->len : 7,
                             e ? (const char *)e->val : "refused");
                result = st == VS_REFUSED ? VIGIL_E_DENIED : -EHOSTUNREACH;
        }
        if (buf && n > 0)
                explicit_bzero(buf, (size_t)n);
        done(r, result, id);
}

static void job_cancelled(vigild_req *r, void *userdata)
{
        verify_job *j = userdata;

        (void)r;
        (void)kill(j->pid, SIGKILL);
        job_free(j);
}

int verify_in_child(vigild_req *r, const char *token, const char *username, vigild_verify_done done)
{
        vigild_server *s = vigild_req_server(r);
        const vigil_config *cfg = vigild_server_config(s);
        _cleanup_free_ char *tok = NULL;
        verify_job *j;
        int sv[2], k;
        pid_t pid;

        if (!cfg)
                return -EOPNOTSUPP; /* no vigil.conf: nothing to verify against */
        tok = strdup(token);
        j = calloc(1, sizeof *j);
        if (!tok || !j) {
                free(j);
                return -ENOMEM;
        }
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
                k = negative_errno();
                free(j);
                explicit_bzero(tok, strlen(tok));
                return k;
        }
        pid = fork();
        if (pid == 0) {
                int keep[1] = { sv[1] };

                child_hygiene(keep, 1);
                child_main(keep[0], cfg, tok, username);
        }
        explicit_bzero(tok, strlen(tok));
        (void)close(sv[1]);
        if (pid < 0) {
                k = negative_errno();
                (void)close(sv[0]);
                free(j);
                return k;
        }
        j->r = r;
        j->done = done;
        j->pid = pid;
        j->fd = sv[0];
        k = reap_later(s, pid);
        if (k == 0)
                k = vigild_watch_fd(s, j->fd, EPOLLIN, job_readable, j, &j->w);
        if (k < 0) {
                (void)kill(pid, SIGKILL);
                if (!j->w)
                        (void)waitpid(pid, NULL, 0); /* not reaped later: now (it was killed) */
                job_free(j);
                return k;
        }
        vigild_req_on_cancel(r, job_cancelled, j);
        return 0;
}
