/* Files of running sessions, in <run_dir>/sessions (root only, 0700):
 *
 *   <id>       the record: who the session is, written by its supervisor
 *              process before the session starts and removed when it ends
 *   <id>.sock  the supervisor's control socket (supervisor.h)
 *
 * They are on disk rather than in vigild's memory so that a vigild started
 * again finds the sessions that kept running. The record is lines of
 * "key value", every value one line of protocol text (validated when written
 * and again when read). */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "fileio.h"
#include "proto.h"
#include "vigil-error.h"

#define RECORD_MAX (128u * 1024)
#define RECORD_MAGIC "vigil-session 1"

int sessions_dir_make(const char *run_dir)
{
        char path[4096];
        struct stat st;

        if (snprintf(path, sizeof path, "%s/sessions", run_dir) >= (int)sizeof path)
                return -ENAMETOOLONG;
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        if (lstat(path, &st) < 0)
                return negative_errno();
        /* The control sockets in it end sessions: root's alone. */
        if (!S_ISDIR(st.st_mode) || st.st_uid != 0 || (st.st_mode & 0077))
                return -EPERM;
        return 0;
}

static bool id_valid(const char *id)
{
        size_t n = strlen(id);

        if (n == 0 || n > SESSION_ID_MAX ||
            !((id[0] >= '0' && id[0] <= '9') || (id[0] >= 'a' && id[0] <= 'z') ||
              (id[0] >= 'A' && id[0] <= 'Z')))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:+-", id[i]))
                        return false;
        return true;
}

int session_path(const char *run_dir, const char *id, const char *suffix, char *buf, size_t size)
{
        if (!id_valid(id))
                return -EINVAL;
        if (snprintf(buf, size, "%s/sessions/%s%s", run_dir, id, suffix) >= (int)size)
                return -ENAMETOOLONG;
        return 0;
}

/* UUIDv7: 48 bits of milliseconds, then random bits: ids sort by time. */
int session_id_new(char buf[static 40])
{
        uint8_t b[16];
        struct timespec ts;
        uint64_t ms;

        if (getrandom(b, sizeof b, GRND_NONBLOCK) != (ssize_t)sizeof b)
                return errno == EAGAIN ? -EAGAIN : -EIO;
        (void)clock_gettime(CLOCK_REALTIME, &ts);
        ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
        for (int i = 0; i < 6; i++)
                b[i] = (uint8_t)(ms >> (40 - 8 * i));
        b[6] = (uint8_t)(0x70 | (b[6] & 0x0f));
        b[8] = (uint8_t)(0x80 | (b[8] & 0x3f));
        (void)snprintf(buf, 40, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                       b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
                       b[14], b[15]);
        return 0;
}

static bool text_ok(const char *s)
{
        return s && *s && vtext_valid((const uint8_t *)s, strlen(s));
}

static int put(FILE *f, const char *key, const char *value)
{
        if (!value)
                return 0;
        if (!text_ok(value))
                return -EINVAL;
        return fprintf(f, "%s %s\n", key, value) < 0 ? -EIO : 0;
}

int session_record_write(const char *path, const session_record *rec)
{
        const vigild_identity *id = rec->identity;
        char tmp[4200];
        FILE *f;
        int fd, r = 0;

        if (snprintf(tmp, sizeof tmp, "%s.new", path) >= (int)sizeof tmp)
                return -ENAMETOOLONG;
        (void)unlink(tmp);
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        f = fdopen(fd, "we");
        if (!f) {
                r = negative_errno();
                (void)close(fd);
                (void)unlink(tmp);
                return r;
        }
        if (fprintf(f, RECORD_MAGIC "\nsupervisor %d %" PRIu64 "\nuid %u\n", (int)rec->supervisor,
                    rec->supervisor_start, (unsigned)rec->uid) < 0)
                r = -EIO;
        if (r == 0)
                r = put(f, "user", rec->user);
        if (r == 0 && id) {
                r = put(f, "subject", id->subject);
                if (r == 0)
                        r = put(f, "email", id->email);
                for (size_t i = 0; r == 0 && i < id->n_groups; i++)
                        r = put(f, "group", id->groups[i]);
                if (r == 0)
                        r = put(f, "jti", id->jti);
                if (r == 0 && fprintf(f, "exp %" PRId64 "\n", id->exp) < 0)
                        r = -EIO;
        }
        if (r == 0)
                r = put(f, "tty", rec->tty);
        if (r == 0)
                r = put(f, "rhost", rec->rhost);
        if (fflush(f) != 0 && r == 0)
                r = negative_errno();
        if (fclose(f) != 0 && r == 0)
                r = negative_errno();
        if (r == 0 && rename(tmp, path) < 0)
                r = negative_errno();
        if (r < 0)
                (void)unlink(tmp);
        return r;
}

static int add_group(vigild_identity *id, const char *g)
{
        char **v = realloc(id->groups, (id->n_groups + 1) * sizeof *v);

        if (!v)
                return -ENOMEM;
        id->groups = v;
        v[id->n_groups] = strdup(g);
        if (!v[id->n_groups])
                return -ENOMEM;
        id->n_groups++;
        return 0;
}

static int set_once(char **slot, const char *v)
{
        if (*slot)
                return VIGIL_E_PARSE;
        *slot = strdup(v);
        return *slot ? 0 : -ENOMEM;
}

int session_record_read_identity(const char *path, vigild_identity **ret)
{
        _cleanup_free_ char *text = NULL;
        vigild_identity *id = NULL;
        bool has_exp = false;
        size_t len = 0;
        char *line, *save = NULL;
        int r;

        r = read_file_bounded(path, RECORD_MAX, &text, &len);
        if (r < 0)
                return r;
        if (memchr(text, '\0', len) || strncmp(text, RECORD_MAGIC "\n", sizeof RECORD_MAGIC) != 0)
                return VIGIL_E_PARSE;
        id = calloc(1, sizeof *id);
        if (!id)
                return -ENOMEM;
        for (line = strtok_r(text + sizeof RECORD_MAGIC, "\n", &save); line && r == 0;
             line = strtok_r(NULL, "\n", &save)) {
                char *v = strchr(line, ' ');

                if (!v) {
                        r = VIGIL_E_PARSE;
                        break;
                }
                *v++ = '\0';
                if (!text_ok(v))
                        r = VIGIL_E_PARSE;
                else if (strcmp(line, "subject") == 0)
                        r = set_once(&id->subject, v);
                else if (strcmp(line, "email") == 0)
                        r = set_once(&id->email, v);
                else if (strcmp(line, "jti") == 0)
                        r = set_once(&id->jti, v);
                else if (strcmp(line, "group") == 0)
                        r = id->n_groups < 256 ? add_group(id, v) : VIGIL_E_PARSE;
                else if (strcmp(line, "exp") == 0) {
                        char *end;

                        errno = 0;
                        id->exp = strtoll(v, &end, 10);
                        if (errno || *end || has_exp)
                                r = VIGIL_E_PARSE;
                        has_exp = true;
                }
                /* supervisor, uid, user, tty, rhost: not part of the identity */
        }
        explicit_bzero(text, len);
        if (r == 0 && !id->subject && (id->email || id->jti || id->n_groups || has_exp))
                r = VIGIL_E_PARSE;
        if (r < 0 || !id->subject) {
                vigild_identity_free(id);
                id = NULL;
        }
        if (r < 0)
                return r;
        *ret = id;
        return 0;
}

uint64_t proc_starttime(pid_t pid)
{
        char path[64], buf[1024];
        const char *p;
        ssize_t n;
        int fd;

        snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof buf - 1);
        (void)close(fd);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* the command name may hold spaces and parentheses: after the last ')' */
        p = strrchr(buf, ')');
        if (!p)
                return 0;
        p++;
        /* p is at the blank before field 3 (state); each step moves to the
         * blank before the next field, ending before field 22 */
        for (int field = 2; field < 21 && p; field++)
                p = strchr(p + 1, ' ');
        return p ? strtoull(p + 1, NULL, 10) : 0;
}
