#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

int64_t tnow_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What to clean up if a test fails half-way (a failed cmocka assertion
 * jumps out of the test, past its own cleanup): copies, not pointers, since
 * the tdaemon may have lived on a stack frame that is gone. */
static struct {
        pid_t pid;
        char dir[256];
} leftovers[64];

static void remove_dir(const char *path)
{
        DIR *dir = opendir(path);
        struct dirent *de;

        if (dir) {
                while ((de = readdir(dir))) {
                        char p[600];

                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        snprintf(p, sizeof p, "%s/%s", path, de->d_name);
                        if (de->d_type == DT_DIR)
                                remove_dir(p);
                        else
                                (void)unlink(p);
                }
                closedir(dir);
        }
        (void)rmdir(path);
}

static void cleanup_leftovers(void)
{
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++) {
                if (leftovers[i].pid > 0) {
                        kill(leftovers[i].pid, SIGKILL);
                        (void)waitpid(leftovers[i].pid, NULL, 0);
                }
                if (leftovers[i].dir[0])
                        remove_dir(leftovers[i].dir);
                leftovers[i].pid = 0;
                leftovers[i].dir[0] = '\0';
        }
}

static int slot_of(const tdaemon *d)
{
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++)
                if (strcmp(leftovers[i].dir, d->dir) == 0)
                        return (int)i;
        return -1;
}

void tdaemon_init(tdaemon *d, const char *exe, const char *const *args)
{
        static bool registered;

        if (!registered) {
                atexit(cleanup_leftovers);
                registered = true;
        }
        memset(d, 0, sizeof *d);
        snprintf(d->dir, sizeof d->dir, "/tmp/vigild-test-%d-XXXXXX", (int)getpid());
        H_CHECK(mkdtemp(d->dir));
        H_CHECK(chmod(d->dir, 0755) == 0);
        snprintf(d->sock, sizeof d->sock, "%s/vigild.sock", d->dir);
        snprintf(d->log, sizeof d->log, "%s/vigild.log", d->dir);
        snprintf(d->conf, sizeof d->conf, "%s/vigil.conf", d->dir);
        d->exe = exe;
        for (size_t i = 0; args && args[i] && d->n_args < ELEMENTSOF(d->args); i++)
                d->args[d->n_args++] = strdup(args[i]);
        for (size_t i = 0; i < ELEMENTSOF(leftovers); i++)
                if (!leftovers[i].dir[0]) {
                        snprintf(leftovers[i].dir, sizeof leftovers[i].dir, "%s", d->dir);
                        break;
                }
        tdaemon_write_conf(d, "");
}

void tdaemon_write_conf(tdaemon *d, const char *text)
{
        char path[400];
        FILE *f;

        /* What vigil.conf must have (config component), and keys that keep
         * the real backends off the network and the host's files: an empty
         * key set (every token fails at once) and a policy that is not
         * there (every session fails to start). TDAEMON_CONF_LINES lines. */
        snprintf(path, sizeof path, "%s/jwks.json", d->dir);
        f = fopen(path, "we");
        H_CHECK(f);
        fputs("{\"keys\":[]}\n", f);
        H_CHECK(fclose(f) == 0);
        f = fopen(d->conf, "we");
        H_CHECK(f);
        fprintf(f,
                "issuer = https://idp.example\naudience = vigil\njwks_file = %s/jwks.json\n"
                "store = %s/store\npolicy = %s/no-such-policy\n",
                d->dir, d->dir, d->dir);
        fputs(text, f);
        H_CHECK(fclose(f) == 0);
}

static pid_t spawn(tdaemon *d)
{
        char *argv[48];
        size_t n = 0;
        pid_t pid;

        argv[n++] = (char *)d->exe;
        argv[n++] = (char *)"--socket";
        argv[n++] = d->sock;
        argv[n++] = (char *)"--log-file";
        argv[n++] = d->log;
        argv[n++] = (char *)"--config";
        argv[n++] = d->conf;
        for (size_t i = 0; i < d->n_args; i++)
                argv[n++] = d->args[i];
        argv[n] = NULL;
        pid = fork();
        H_CHECK(pid >= 0);
        if (pid == 0) {
                int null = open("/dev/null", O_RDWR);

                /* never outlive the test, never hold its output open */
                (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (null >= 0) {
                        dup2(null, 0);
                        dup2(null, 1);
                }
                execv(d->exe, argv);
                _exit(127);
        }
        return pid;
}

int tdaemon_run_once(tdaemon *d)
{
        pid_t pid = spawn(d);
        int st;

        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                if (waitpid(pid, &st, WNOHANG) == pid)
                        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                poll(NULL, 0, 20);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        return -1;
}

int tdaemon_start(tdaemon *d)
{
        pid_t pid = spawn(d);
        int slot = slot_of(d);

        d->pid = pid;
        if (slot >= 0)
                leftovers[slot].pid = pid;
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                tresult r = tcall(d, VT_PING, (tfield[]){ TEND }, NULL, 0);
                int st;

                if (r.transport == 0 && r.status == VS_OK)
                        return 0;
                if (waitpid(pid, &st, WNOHANG) == pid) {
                        d->pid = 0;
                        return -1;
                }
                poll(NULL, 0, 20);
        }
        return -1;
}

int tdaemon_stop(tdaemon *d)
{
        int st = 0;

        if (d->pid <= 0)
                return -1;
        kill(d->pid, SIGTERM);
        H_CHECK(waitpid(d->pid, &st, 0) == d->pid);
        d->pid = 0;
        if (slot_of(d) >= 0)
                leftovers[slot_of(d)].pid = 0;
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

void tdaemon_kill9(tdaemon *d)
{
        if (d->pid <= 0)
                return;
        kill(d->pid, SIGKILL);
        H_CHECK(waitpid(d->pid, NULL, 0) == d->pid);
        d->pid = 0;
        if (slot_of(d) >= 0)
                leftovers[slot_of(d)].pid = 0;
}

void tdaemon_cleanup(tdaemon *d)
{
        int slot = slot_of(d);

        if (d->pid > 0)
                (void)tdaemon_stop(d);
        remove_dir(d->dir);
        if (slot >= 0) {
                leftovers[slot].pid = 0;
                leftovers[slot].dir[0] = '\0';
        }
        for (size_t i = 0; i < d->n_args; i++)
                free(d->args[i]);
        d->n_args = 0;
}

bool tdaemon_log_has(const tdaemon *d, const char *needle)
{
        char line[2048];
        bool found = false;
        FILE *f = fopen(d->log, "re");

        if (!f)
                return false;
        while (!found && fgets(line, sizeof line, f))
                found = strstr(line, needle) != NULL;
        fclose(f);
        return found;
}

int tdaemon_fd_count(const tdaemon *d)
{
        char p[64];
        int n = 0;
        DIR *dir;
        struct dirent *de;

        snprintf(p, sizeof p, "/proc/%d/fd", (int)d->pid);
        dir = opendir(p);
        if (!dir)
                return -1;
        while ((de = readdir(dir)))
                n += de->d_name[0] != '.';
        closedir(dir);
        return n;
}

int tdaemon_connections(const tdaemon *d)
{
        char line[4400];
        int n = 0;
        FILE *f = fopen("/proc/net/unix", "re");

        if (!f)
                return -1;
        /* "Num RefCount Protocol Flags Type St Inode Path": an accepted
         * connection (or one still in the backlog) shows the listener's path;
         * the listener itself has __SO_ACCEPTCON (0x10000) in its flags, the
         * clients' own ends have no path */
        while (fgets(line, sizeof line, f)) {
                unsigned long flags;
                char path[4200];

                if (sscanf(line, "%*s %*s %*s %lx %*s %*s %*s %4199s", &flags, path) == 2 &&
                    !(flags & 0x10000) && strcmp(path, d->sock) == 0)
                        n++;
        }
        fclose(f);
        return n;
}

bool tdaemon_wait_idle(const tdaemon *d)
{
        for (int64_t end = tnow_ms() + TDAEMON_WAIT_MS; tnow_ms() < end;) {
                if (tdaemon_connections(d) == 0)
                        return true;
                poll(NULL, 0, 20);
        }
        return tdaemon_connections(d) == 0;
}

int tdaemon_fd_count_settled(const tdaemon *d)
{
        int prev, cur;

        /* the connections of earlier steps are closed by now; what else the
         * daemon still frees goes with them, at once */
        (void)tdaemon_wait_idle(d);
        prev = cur = tdaemon_fd_count(d);
        for (int i = 0; i < 60; i++) {
                poll(NULL, 0, 50);
                cur = tdaemon_fd_count(d);
                if (cur == prev)
                        break;
                prev = cur;
        }
        return cur;
}

/* ---- users ---- */

static int run_tool(const char *const argv[])
{
        int st;
        pid_t pid = fork();

        if (pid < 0)
                return -1;
        if (pid == 0) {
                int null = open("/dev/null", O_WRONLY);

                if (null >= 0) {
                        dup2(null, 1);
                        dup2(null, 2);
                }
                execv(argv[0], (char *const *)argv);
                _exit(127);
        }
        if (waitpid(pid, &st, 0) != pid)
                return -1;
        return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int lookup(const char *name, uid_t *uid, gid_t *gid)
{
        struct passwd *pw = getpwnam(name);

        if (!pw)
                return -1;
        *uid = pw->pw_uid;
        *gid = pw->pw_gid;
        return 0;
}

int tusers_create(tusers *u)
{
        int p = (int)getpid();

        memset(u, 0, sizeof *u);
        snprintf(u->plain, sizeof u->plain, "vd%dp", p);
        snprintf(u->auditor, sizeof u->auditor, "vd%da", p);
        snprintf(u->responder, sizeof u->responder, "vd%dr", p);
        snprintf(u->g_aud, sizeof u->g_aud, "vd%dga", p);
        snprintf(u->g_resp, sizeof u->g_resp, "vd%dgr", p);
        u->created = true;
        if (run_tool((const char *[]){ "/usr/sbin/groupadd", u->g_aud, NULL }) != 0 ||
            run_tool((const char *[]){ "/usr/sbin/groupadd", u->g_resp, NULL }) != 0 ||
            run_tool((const char *[]){ "/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", u->plain,
                                       NULL }) != 0 ||
            run_tool((const char *[]){ "/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G",
                                       u->g_aud, u->auditor, NULL }) != 0 ||
            run_tool((const char *[]){ "/usr/sbin/useradd", "-M", "-N", "-s", "/usr/sbin/nologin", "-G",
                                       u->g_resp, u->responder, NULL }) != 0)
                return -1;
        if (lookup(u->plain, &u->plain_uid, &u->plain_gid) < 0 ||
            lookup(u->auditor, &u->auditor_uid, &u->auditor_gid) < 0 ||
            lookup(u->responder, &u->responder_uid, &u->responder_gid) < 0)
                return -1;
        return 0;
}

void tusers_remove(tusers *u)
{
        if (!u->created)
                return;
        (void)run_tool((const char *[]){ "/usr/sbin/userdel", u->plain, NULL });
        (void)run_tool((const char *[]){ "/usr/sbin/userdel", u->auditor, NULL });
        (void)run_tool((const char *[]){ "/usr/sbin/userdel", u->responder, NULL });
        (void)run_tool((const char *[]){ "/usr/sbin/groupdel", u->g_aud, NULL });
        (void)run_tool((const char *[]){ "/usr/sbin/groupdel", u->g_resp, NULL });
        u->created = false;
}

/* ---- requests ---- */

void tbuild(vmsg_builder *b, uint16_t type, uint32_t id, const tfield *f)
{
        H_CHECK(vmsg_builder_init(b, type, id) == 0);
        for (; f->kind; f++)
                switch (f->kind) {
                case 's':
                        vmsg_add_str(b, f->tag, f->s);
                        break;
                case 'r':
                        vmsg_add(b, f->tag, f->s, f->len);
                        break;
                case 'i':
                        vmsg_add_i64(b, f->tag, f->i);
                        break;
                case 'u':
                        vmsg_add_u32(b, f->tag, (uint32_t)f->i);
                        break;
                case 'b':
                        vmsg_add_bool(b, f->tag, f->i != 0);
                        break;
                }
}

static void copy_field(const vmsg *m, uint16_t tag, char *out, size_t outlen)
{
        const vmsg_field *f = vmsg_get(m, tag);

        if (f && f->len < outlen) {
                memcpy(out, f->val, f->len);
                out[f->len] = '\0';
        }
}

/* Send without the client library's own pre-check, so tests can send what a
 * hostile client would; but through the same connection code. */
static int raw_send(int fd, const void *buf, size_t len, const int *fds, size_t n_fds)
{
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(int) * 8)];
        } ctl;
        struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

        if (n_fds) {
                struct cmsghdr *cm;

                memset(&ctl, 0, sizeof ctl);
                mh.msg_control = ctl.b;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
        }
        return sendmsg(fd, &mh, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

static void do_call(const tdaemon *d, uint16_t type, const tfield *fields, const int *fds, size_t n_fds,
                    tresult *res)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        int k;

        memset(res, 0, sizeof *res);
        k = vigild_connect(d->sock, TDAEMON_WAIT_MS, &c);
        if (k < 0) {
                res->transport = k;
                return;
        }
        tbuild(&b, type, 42, fields);
        k = raw_send(vigild_conn_fd(c), b.buf, b.len, fds, n_fds);
        vmsg_builder_done(&b);
        if (k == 0 || k == -EPIPE)
                k = vigild_recv(c, TDAEMON_WAIT_MS, &rep);
        if (k < 0) {
                res->transport = k;
                vigild_conn_free(c);
                return;
        }
        res->status = vigild_reply_status(rep);
        snprintf(res->error, sizeof res->error, "%s", vigild_reply_error(rep));
        copy_field(&rep->msg, VF_REF, res->ref, sizeof res->ref);
        copy_field(&rep->msg, VF_HANDLE, res->handle, sizeof res->handle);
        copy_field(&rep->msg, VF_SESSION, res->session, sizeof res->session);
        copy_field(&rep->msg, VF_SUBJECT, res->subject, sizeof res->subject);
        res->n_groups = vmsg_count(&rep->msg, VF_GROUP);
        res->n_fds = rep->n_fds;
        if (rep->n_fds) {
                int fd = vigild_reply_take_fd(rep, 0);
                ssize_t n = read(fd, res->fd_text, sizeof res->fd_text - 1);

                if (n > 0)
                        res->fd_text[n] = '\0';
                close(fd);
        }
        vigild_reply_free(rep);
        vigild_conn_free(c);
}

tresult tcall(const tdaemon *d, uint16_t type, const tfield *fields, const int *fds, size_t n_fds)
{
        tresult r;

        do_call(d, type, fields, fds, n_fds, &r);
        return r;
}

int tbecome(const char *user)
{
        struct passwd *pw = getpwnam(user);

        if (!pw)
                return -1;
        if (initgroups(user, pw->pw_gid) < 0 || setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 ||
            setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0)
                return -1;
        return setuid(0) == 0 ? -1 : 0; /* must not be able to go back */
}

int trun_as(const char *user, int (*fn)(void *), void *arg)
{
        int st;
        pid_t pid = fork();

        H_CHECK(pid >= 0);
        if (pid == 0) {
                if (user && tbecome(user) < 0)
                        _exit(120);
                _exit(fn(arg));
        }
        H_CHECK(waitpid(pid, &st, 0) == pid);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

tresult tcall_as(const tdaemon *d, const char *user, uint16_t type, const tfield *fields, const int *fds,
                 size_t n_fds)
{
        tresult *shared =
                mmap(NULL, sizeof(tresult), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        tresult r;
        int st;
        pid_t pid;

        H_CHECK(shared != MAP_FAILED);
        memset(shared, 0, sizeof *shared);
        pid = fork();
        H_CHECK(pid >= 0);
        if (pid == 0) {
                if (user && tbecome(user) < 0)
                        _exit(120);
                do_call(d, type, fields, fds, n_fds, shared);
                _exit(0);
        }
        H_CHECK(waitpid(pid, &st, 0) == pid);
        H_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        r = *shared;
        munmap(shared, sizeof(tresult));
        return r;
}

int traw_connect(const tdaemon *d)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

        H_CHECK(fd >= 0);
        memcpy(sa.sun_path, d->sock, strlen(d->sock));
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
                close(fd);
                return -errno;
        }
        return fd;
}

int traw_roundtrip(int fd, const void *buf, size_t len, const int *fds, size_t n_fds, uint32_t *ret_status,
                   char *ret_error, size_t errlen)
{
        static uint8_t rx[VMSG_MAX + 1];
        vmsg *m = malloc(sizeof *m);
        struct pollfd p = { .fd = fd, .events = POLLIN };
        ssize_t n;
        int k;

        H_CHECK(m);
        k = raw_send(fd, buf, len, fds, n_fds);
        if (k < 0 && k != -EPIPE) {
                free(m);
                return k;
        }
        if (poll(&p, 1, TDAEMON_WAIT_MS) != 1) {
                free(m);
                return -ETIMEDOUT;
        }
        n = recv(fd, rx, sizeof rx, 0);
        if (n < 0 && errno == ECONNRESET) /* see vigild_recv() */
                n = recv(fd, rx, sizeof rx, MSG_DONTWAIT);
        if (n <= 0) {
                free(m);
                return n == 0 ? -ECONNRESET : -errno;
        }
        H_CHECK(vmsg_decode(rx, (size_t)n, 0, m, NULL) == 0);
        *ret_status = VS_OK;
        (void)vmsg_get_u32(m, VF_STATUS, ret_status);
        ret_error[0] = '\0';
        copy_field(m, VF_ERROR, ret_error, errlen);
        free(m);
        return 0;
}

/* ---- streamed answers ---- */

static void do_stream(const tdaemon *d, uint16_t type, const tfield *fields, tstream *res)
{
        vigild_conn *c = NULL;
        vigild_reply *rep = NULL;
        vmsg_builder b;
        size_t used = 0;
        int k;

        memset(res, 0, sizeof *res);
        res->hash = 1469598103934665603ull;
        k = vigild_connect(d->sock, TDAEMON_WAIT_MS, &c);
        if (k < 0) {
                res->transport = k;
                return;
        }
        tbuild(&b, type, 7, fields);
        k = vigild_send(c, &b, NULL, 0, TDAEMON_WAIT_MS);
        vmsg_builder_done(&b);
        while (k == 0) {
                k = vigild_recv(c, TDAEMON_WAIT_MS, &rep);
                if (k < 0)
                        break;
                if (rep->msg.type & VT_ITEM) {
                        const vmsg_field *it = vmsg_get(&rep->msg, VF_ITEM), *data = vmsg_get(&rep->msg, VF_DATA);

                        res->n_items++;
                        if (it && used + it->len + 2 < sizeof res->items) {
                                memcpy(res->items + used, it->val, it->len);
                                used += it->len;
                                res->items[used++] = '\n';
                                res->items[used] = '\0';
                        }
                        if (it)
                                res->n_json++;
                        if (data) {
                                res->data_bytes += data->len;
                                for (size_t i = 0; i < data->len; i++)
                                        res->hash = (res->hash ^ data->val[i]) * 1099511628211ull;
                        }
                        rep = vigild_reply_free(rep);
                        continue;
                }
                res->status = vigild_reply_status(rep);
                snprintf(res->error, sizeof res->error, "%s", vigild_reply_error(rep));
                rep = vigild_reply_free(rep);
                break;
        }
        if (k < 0)
                res->transport = k;
        vigild_conn_free(c);
}

tstream tstream_as(const tdaemon *d, const char *user, uint16_t type, const tfield *fields)
{
        tstream *shared = mmap(NULL, sizeof(tstream), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        tstream r;
        int st;
        pid_t pid;

        H_CHECK(shared != MAP_FAILED);
        pid = fork();
        H_CHECK(pid >= 0);
        if (pid == 0) {
                if (user && tbecome(user) < 0)
                        _exit(120);
                do_stream(d, type, fields, shared);
                _exit(0);
        }
        H_CHECK(waitpid(pid, &st, 0) == pid);
        H_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
        r = *shared;
        munmap(shared, sizeof(tstream));
        return r;
}

uint64_t thash_file(const char *path, size_t *ret_len)
{
        uint64_t h = 1469598103934665603ull;
        uint8_t buf[65536];
        size_t total = 0;
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        H_CHECK(fd >= 0);
        while ((n = read(fd, buf, sizeof buf)) > 0) {
                for (ssize_t i = 0; i < n; i++)
                        h = (h ^ buf[i]) * 1099511628211ull;
                total += (size_t)n;
        }
        close(fd);
        *ret_len = total;
        return h;
}

int tchildren_of(pid_t parent)
{
        DIR *dir = opendir("/proc");
        struct dirent *de;
        int n = 0;

        H_CHECK(dir);
        while ((de = readdir(dir))) {
                char path[300], buf[1024];
                const char *p;
                ssize_t len;
                int fd;

                if (de->d_name[0] < '1' || de->d_name[0] > '9')
                        continue;
                snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
                fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                len = read(fd, buf, sizeof buf - 1);
                close(fd);
                if (len <= 0)
                        continue;
                buf[len] = '\0';
                p = strrchr(buf, ')');
                /* ") S PPID" */
                if (p && atoi(p + 4) == (int)parent)
                        n++;
        }
        closedir(dir);
        return n;
}
