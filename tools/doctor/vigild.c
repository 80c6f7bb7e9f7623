/* vigild must run: without it vigil-shell cannot hand a login to its
 * supervisor, so logins are refused (fail closed). */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "doctor.h"
#ifdef DOCTOR_HAVE_VIGILD_CLIENT
#include "client.h"
#endif

#define FIX_START "systemctl enable --now vigild.socket"

#ifdef DOCTOR_HAVE_VIGILD_CLIENT
/* A ping through the client library: vigild itself answers. */
static int probe(const char *path, char **ret_why)
{
        vigild_conn *conn = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int r;

        r = vigild_connect(path, 2000, &conn);
        if (r < 0) {
                *ret_why = strdup(vigild_client_strerror(r));
                return r;
        }
        r = vmsg_builder_init(&b, VT_PING, 1);
        if (r >= 0) {
                r = vigild_call(conn, &b, NULL, 0, 5000, &rep);
                vmsg_builder_done(&b);
        }
        if (r < 0)
                *ret_why = strdup(vigild_client_strerror(r));
        else if (vigild_reply_status(rep) != VS_OK) {
                *ret_why = doctor_fmt("it refused a ping: %s", vigild_reply_error(rep));
                r = -EPROTO;
        }
        vigild_reply_free(rep);
        vigild_conn_free(conn);
        return r;
}
#else
/* Until the vigild client library is part of this build: a connect to the
 * socket, which proves that something listens there, not that it is vigild. */
static int probe(const char *path, char **ret_why)
{
        _cleanup_close_ int fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        if (strlen(path) >= sizeof sa.sun_path) {
                *ret_why = strdup("socket path too long");
                return -ENAMETOOLONG;
        }
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                int r = negative_errno();

                *ret_why = r == -ENOENT || r == -ECONNREFUSED ? strdup("nothing listens on its socket")
                                                              : doctor_fmt("connect: %s", strerror(-r));
                return r;
        }
        return 0;
}
#endif

void doctor_check_vigild(doctor_ctx *c)
{
        _cleanup_free_ char *sock = doctor_path(c, c->socket), *why = NULL, *dir = NULL;
        struct stat st;
        char *slash;
        int r;

#ifndef DOCTOR_HAVE_VIGILD_CLIENT
        doctor_note(c, "vigild is checked with a plain connect to its socket (this build has no vigild client)");
#endif
        if (!sock)
                return;
        /* The socket's directory and the socket must be root's: a socket
         * another user could create there would impersonate vigild. */
        dir = strdup(c->socket);
        if (dir && (slash = strrchr(dir, '/')) && slash != dir) {
                *slash = '\0';
                r = doctor_check_owner_mode(c, "vigild", dir, true, 0755,
                                            "whoever can write it can put a fake vigild socket there");
                if (r == 0)
                        return;
        }
        if (doctor_lstat(c, c->socket, &st) == 0 && (!S_ISSOCK(st.st_mode) || st.st_uid != 0)) {
                _cleanup_free_ char *fix = doctor_fmt("rm %s, then " FIX_START, c->socket);

                doctor_finding(c, "vigild", fix, "'%s' is %s owned by uid %u: it cannot be vigild's", c->socket,
                               S_ISSOCK(st.st_mode) ? "a socket" : "not a socket", (unsigned)st.st_uid);
                return;
        }
        r = probe(sock, &why);
        if (r < 0)
                doctor_finding(c, "vigild", FIX_START,
                               "vigild does not answer at '%s' (%s): logins through pam_vigil and vigil-shell are "
                               "refused",
                               c->socket, why ? why : strerror(-r));
}
