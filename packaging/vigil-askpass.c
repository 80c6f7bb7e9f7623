/* vigil-askpass: SSH_ASKPASS helper that signs in to a vigil host with an
 * OIDC token, for automation (CI jobs):
 *
 *   SSH_ASKPASS=/usr/bin/vigil-askpass SSH_ASKPASS_REQUIRE=force \
 *   VIGIL_TOKEN_FILE=/path/to/token ssh host cmd
 *
 * OpenSSH runs the askpass program once per prompt, with the prompt as its
 * only argument, and sends the line it prints as the answer. pam_vigil asks
 * first "vigil: press Enter to sign in with your browser, or type 'token':"
 * (answer: token), then "vigil token part N:" until an empty answer; part N
 * is bytes 500*(N-1) .. 500*N-1 of the token (blanks and line ends in the
 * file dropped). The slice is computed from N, since each prompt is a new
 * process.
 *
 * The token leaves only through stdout, to ssh: never argv, the
 * environment, another file, or a message. Any other prompt (a host key
 * question, the browser sign-in) gets no answer and exit status 1, and ssh
 * then sends an empty one. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FIRST_PROMPT "vigil: press Enter to sign in with your browser, or type 'token':"
#define PART_PREFIX "vigil token part "
#define PART 500u
#define TOKEN_MAX 16384u /* pam_vigil refuses a token of this size or more */
#define FILE_MAX (64u * 1024)

static int die(const char *msg)
{
        (void)fprintf(stderr, "vigil-askpass: %s\n", msg);
        return 1;
}

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return -1;
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

/* The prompt proper: sshd puts informational messages in front of it, one
 * per line, so it is the last line; the ssh client puts "(user@host) " in
 * front of the first line; trailing blanks do not count. */
static void prompt_of(const char *arg, char *out, size_t size)
{
        const char *p = strrchr(arg, '\n'), *q;
        size_t n;

        p = p ? p + 1 : arg;
        if (p[0] == '(' && (q = strstr(p, ") ")))
                p = q + 2;
        n = strlen(p);
        while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\r'))
                n--;
        if (n >= size)
                n = size - 1;
        memcpy(out, p, n);
        out[n] = '\0';
}

/* N from "vigil token part N:": 1 to 999, no sign, no leading zero. */
static int part_number(const char *prompt)
{
        const char *p = prompt + strlen(PART_PREFIX);
        unsigned n = 0, digits = 0;

        if (strncmp(prompt, PART_PREFIX, strlen(PART_PREFIX)) != 0 || *p == '0')
                return -1;
        for (; *p >= '0' && *p <= '9'; p++, digits++)
                n = n * 10 + (unsigned)(*p - '0');
        if (digits == 0 || digits > 3 || strcmp(p, ":") != 0)
                return -1;
        return (int)n;
}

int main(int argc, char **argv)
{
        static char buf[FILE_MAX + 1], tok[FILE_MAX];
        char prompt[256];
        const char *path;
        size_t got = 0, len = 0, off;
        struct stat st;
        int n, fd, rc;

        if (argc != 2)
                return die("usage: vigil-askpass PROMPT (run by ssh as SSH_ASKPASS)");
        prompt_of(argv[1], prompt, sizeof prompt);
        if (strcmp(prompt, FIRST_PROMPT) == 0)
                return write_all(1, "token\n", 6) < 0 ? die("cannot write the answer") : 0;
        n = part_number(prompt);
        if (n < 0)
                return die("not a vigil prompt; not answering");

        path = getenv("VIGIL_TOKEN_FILE");
        if (!path || !*path)
                return die("VIGIL_TOKEN_FILE is not set");
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                if (fd >= 0)
                        (void)close(fd);
                return die("cannot read the file VIGIL_TOKEN_FILE names");
        }
        for (;;) {
                ssize_t r = read(fd, buf + got, sizeof buf - got);

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        (void)close(fd);
                        return die("cannot read the file VIGIL_TOKEN_FILE names");
                }
                if (r == 0 || (got += (size_t)r) == sizeof buf)
                        break;
        }
        (void)close(fd);
        if (got > FILE_MAX) {
                explicit_bzero(buf, sizeof buf);
                return die("the file VIGIL_TOKEN_FILE names is too big for a token");
        }
        /* Blanks and line ends are not part of a token. */
        for (size_t i = 0; i < got; i++)
                if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\r' && buf[i] != '\n')
                        tok[len++] = buf[i];
        explicit_bzero(buf, got);
        if (len == 0)
                return die("the file VIGIL_TOKEN_FILE names is empty");
        if (len >= TOKEN_MAX) {
                explicit_bzero(tok, len);
                return die("the token is 16384 bytes or more; pam_vigil would refuse it");
        }

        off = (size_t)(n - 1) * PART;
        rc = 0;
        if (off < len && write_all(1, tok + off, len - off < PART ? len - off : PART) < 0)
                rc = -1;
        if (rc == 0 && write_all(1, "\n", 1) < 0) /* an empty line past the end: done */
                rc = -1;
        explicit_bzero(tok, len);
        return rc < 0 ? die("cannot write the answer") : 0;
}
