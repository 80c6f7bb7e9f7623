/* The tests' approval_hook: records what it was given, next to itself in
 * hookout/: ID.EVENT.fds (its open fds as exec'd: "N target" lines),
 * ID.EVENT.user, ID.EVENT.env, and last ID.EVENT.json (stdin, as read).
 * A compiled program, so that the fds it lists are what the runner passed
 * (an interpreter would add its own). With hookout/slow present it then
 * execs "sleep 61.25" (a hook that hangs). */
#include <dirent.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern char **environ;

int main(void)
{
        const char *id = getenv("VIGIL_APPROVAL_ID"), *ev = getenv("VIGIL_APPROVAL_EVENT");
        char self[PATH_MAX], dir[PATH_MAX], p[PATH_MAX + 64], q[PATH_MAX + 64], buf[65536];
        struct passwd *pw;
        struct dirent *de;
        ssize_t n;
        DIR *d;
        FILE *f;

        if (!id || !ev || (n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0)
                return 2;
        self[n] = 0;
        snprintf(dir, sizeof(dir), "%.*s/hookout", (int)(strrchr(self, '/') - self), self);

        /* the fds first, before this program opens any */
        snprintf(p, sizeof(p), "%s/%s.%s.fds", dir, id, ev);
        d = opendir("/proc/self/fd");
        f = fopen(p, "w");
        if (!d || !f)
                return 2;
        while ((de = readdir(d))) {
                char l[64], t[PATH_MAX];
                int fd = atoi(de->d_name);

                if (de->d_name[0] == '.' || fd == dirfd(d) || fd == fileno(f))
                        continue;
                snprintf(l, sizeof(l), "/proc/self/fd/%d", fd);
                n = readlink(l, t, sizeof(t) - 1);
                t[n > 0 ? n : 0] = 0;
                fprintf(f, "%d %s\n", fd, t);
        }
        closedir(d);
        fclose(f);

        snprintf(p, sizeof(p), "%s/%s.%s.user", dir, id, ev);
        pw = getpwuid(geteuid());
        if (!(f = fopen(p, "w")))
                return 2;
        fprintf(f, "%s\n", pw ? pw->pw_name : "?");
        fclose(f);

        snprintf(p, sizeof(p), "%s/%s.%s.env", dir, id, ev);
        if (!(f = fopen(p, "w")))
                return 2;
        for (char **e = environ; *e; e++)
                fprintf(f, "%s\n", *e);
        fclose(f);

        snprintf(p, sizeof(p), "%s/%s.%s.json.tmp", dir, id, ev);
        snprintf(q, sizeof(q), "%s/%s.%s.json", dir, id, ev);
        if (!(f = fopen(p, "w")))
                return 2;
        while ((n = read(0, buf, sizeof(buf))) > 0)
                fwrite(buf, 1, (size_t)n, f);
        fclose(f);
        if (rename(p, q) < 0)
                return 2;

        snprintf(p, sizeof(p), "%s/slow", dir);
        if (access(p, F_OK) == 0)
                execl("/bin/sleep", "sleep", "61.25", (char *)NULL);
        return 0;
}
