/* sshd: the settings that would let a login (or what rides on it) skip
 * pam_vigil or the supervised login shell. Checked on sshd's effective
 * configuration, globally and for each supervised user (Match blocks). */
#define _GNU_SOURCE
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "doctor.h"

#define DROPIN_HINT "(the vigil drop-in sets it: ln -s " DOCTOR_DROPIN_SHIPPED " " DOCTOR_DROPIN_DIR "/)"
#define MAX_MATCH_USERS 64

/* What one sshd -T run is checked as: the global configuration, or the one a
 * Match block gives a user. Findings already reported globally are not
 * repeated for each user. */
typedef struct scope {
        const char *who;  /* "" or " for user 'U' from A (a Match block)" */
        const char *user; /* NULL for the global configuration */
        char **seen;      /* "key=value" of global findings, "user\nkey=value" of a user's */
        size_t n_seen, cap_seen;
} scope;

static bool seen_has(const scope *s, const char *k)
{
        for (size_t i = 0; i < s->n_seen; i++)
                if (strcmp(s->seen[i], k) == 0)
                        return true;
        return false;
}

/* Has this problem been reported already (globally, or for this user from
 * another address)? Remembers it if not. */
static bool seen(scope *s, const char *key, const char *val)
{
        _cleanup_free_ char *g = doctor_fmt("%s=%s", key, val), *u = NULL;
        char *k;

        if (!g)
                return false;
        if (seen_has(s, g))
                return true;
        if (s->user) {
                u = doctor_fmt("%s\n%s", s->user, g);
                if (!u)
                        return false;
                if (seen_has(s, u))
                        return true;
        }
        if (s->n_seen == s->cap_seen) {
                size_t nc = s->cap_seen ? s->cap_seen * 2 : 16;
                char **n = reallocarray(s->seen, nc, sizeof *n);

                if (!n)
                        return false;
                s->seen = n;
                s->cap_seen = nc;
        }
        k = s->user ? TAKE_PTR(u) : TAKE_PTR(g);
        s->seen[s->n_seen++] = k;
        return false;
}

/* One keyword that must have a given value. */
typedef struct want {
        const char *key;     /* as sshd -T prints it */
        const char *name;    /* as sshd_config spells it */
        const char *good;    /* the value it must have */
        bool covered_by_df;  /* DisableForwarding yes makes any value harmless */
        const char *why;
} want;

static const want wants[] = {
        { "usepam", "UsePAM", "yes", false,
          "sshd never runs the PAM stacks, so pam_vigil neither asks for a token nor hands the login to its "
          "supervisor" },
        { "kbdinteractiveauthentication", "KbdInteractiveAuthentication", "yes", false,
          "pam_vigil's sign-in prompts reach ssh clients only through keyboard-interactive authentication" },
        { "permituserrc", "PermitUserRC", "no", false,
          "sshd runs ~/.ssh/rc, a file the user writes, for every login before the supervised shell starts" },
        { "permituserenvironment", "PermitUserEnvironment", "no", false,
          "~/.ssh/environment and authorized_keys environment= can set LD_PRELOAD for the login shell, which "
          "then runs the user's code before the session is supervised" },
        { "allowtcpforwarding", "AllowTcpForwarding", "no", true,
          "forwarded TCP ports carry traffic from and to this host that the supervisor never sees" },
        { "allowstreamlocalforwarding", "AllowStreamLocalForwarding", "no", true,
          "forwarded Unix sockets (a container runtime's, D-Bus) let the client act on this host without running "
          "a command" },
        { "x11forwarding", "X11Forwarding", "no", true,
          "X11 forwarding opens a channel sshd serves outside the supervised session" },
        { "allowagentforwarding", "AllowAgentForwarding", "no", true,
          "a forwarded agent socket is served by sshd outside the session and lets processes here use the "
          "user's keys elsewhere" },
        { "permittunnel", "PermitTunnel", "no", false,
          "tun/tap tunnels carry whole networks past the supervisor" },
};

static void check_wants(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        const char *df = doctor_sshd_get(s, "disableforwarding");
        bool disable_fwd = df && strcmp(df, "yes") == 0;

        for (size_t i = 0; i < ELEMENTSOF(wants); i++) {
                const want *w = &wants[i];
                const char *v = doctor_sshd_get(s, w->key);
                _cleanup_free_ char *fix = NULL;

                /* An sshd that does not know the keyword cannot have the problem. */
                if (!v || strcmp(v, w->good) == 0 || (w->covered_by_df && disable_fwd))
                        continue;
                if (seen(sc, w->key, v))
                        continue;
                fix = doctor_fmt("set '%s %s' %s", w->name, w->good, DROPIN_HINT);
                doctor_finding(c, "sshd", fix, "%s is '%s'%s: %s", w->name, v, sc->who, w->why);
        }
}

/* Environment variables that change what the (unsupervised) login shell
 * binary does before it hands over to the supervisor. */
static const char *const dangerous_env[] = { "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_AUDIT", "GCONV_PATH", "LOCPATH" };

static void check_acceptenv(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->keys[i], "acceptenv") != 0)
                        continue;
                for (size_t k = 0; k < ELEMENTSOF(dangerous_env); k++) {
                        if (fnmatch(s->vals[i], dangerous_env[k], 0) != 0)
                                continue;
                        if (seen(sc, "acceptenv", s->vals[i]))
                                break;
                        doctor_finding(c, "sshd", "remove the pattern from AcceptEnv (Debian's default, 'LANG LC_*', is fine)",
                                       "AcceptEnv '%s'%s lets the client set %s for the login shell, which then runs "
                                       "the client's code before the session is supervised",
                                       s->vals[i], sc->who, dangerous_env[k]);
                        break;
                }
        }
}

/* internal-sftp runs inside sshd itself: no login shell, no supervisor. */
static void check_sftp(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        const char *fc = doctor_sshd_get(s, "forcecommand");

        if (fc && strncmp(fc, "internal-sftp", 13) == 0 && !seen(sc, "forcecommand", fc))
                doctor_finding(c, "sshd",
                               "remove 'ForceCommand internal-sftp'; Debian's 'Subsystem sftp "
                               "/usr/lib/openssh/sftp-server' runs through the login shell",
                               "ForceCommand is '%s'%s: sshd serves SFTP itself, without the login shell, so file "
                               "transfers are neither supervised nor recorded",
                               fc, sc->who);
        for (size_t i = 0; i < s->n; i++) {
                const char *v = s->vals[i], *cmd;

                if (strcmp(s->keys[i], "subsystem") != 0)
                        continue;
                cmd = strchr(v, ' ');
                if (!cmd || strncmp(cmd + 1, "internal-sftp", 13) != 0 || seen(sc, "subsystem", v))
                        continue;
                doctor_finding(c, "sshd", "use 'Subsystem sftp /usr/lib/openssh/sftp-server', which runs through the "
                               "login shell",
                               "'Subsystem %s'%s: sshd serves SFTP itself, without the login shell, so file transfers "
                               "are neither supervised nor recorded",
                               v, sc->who);
        }
}

/* Which authentication methods can complete a login without keyboard-interactive? */
static void check_methods(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        static const struct {
                const char *key, *name, *why;
        } methods[] = {
                { "pubkeyauthentication", "PubkeyAuthentication",
                  "a public key alone logs in: the PAM auth stack, and so pam_vigil's token sign-in, never runs" },
                { "passwordauthentication", "PasswordAuthentication",
                  "sshd's password method answers PAM prompts with a password (or checks /etc/shadow without "
                  "PAM) instead of pam_vigil's sign-in" },
                { "hostbasedauthentication", "HostbasedAuthentication",
                  "trusted hosts log users in without the PAM auth stack, so pam_vigil never runs" },
                { "gssapiauthentication", "GSSAPIAuthentication",
                  "a Kerberos ticket logs in without the PAM auth stack, so pam_vigil never runs" },
                { "kerberosauthentication", "KerberosAuthentication",
                  "a Kerberos password logs in without pam_vigil's sign-in" },
        };
        const char *am = doctor_sshd_get(s, "authenticationmethods");
        _cleanup_free_ char *copy = NULL;
        char *save = NULL;

        if (!am || strcmp(am, "any") == 0) {
                for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
                        const char *v = doctor_sshd_get(s, methods[i].key);
                        _cleanup_free_ char *fix = NULL;

                        if (!v || strcmp(v, "no") == 0 || seen(sc, methods[i].key, v))
                                continue;
                        fix = doctor_fmt("set '%s no' and 'AuthenticationMethods keyboard-interactive' (or "
                                         "'publickey,keyboard-interactive' to require both) %s",
                                         methods[i].name, DROPIN_HINT);
                        doctor_finding(c, "sshd", fix, "%s is '%s' with AuthenticationMethods 'any'%s: %s",
                                       methods[i].name, v, sc->who, methods[i].why);
                }
                return;
        }
        /* Every list must contain keyboard-interactive, or it completes without pam_vigil. */
        copy = strdup(am);
        if (!copy)
                return;
        for (char *list = strtok_r(copy, " ", &save); list; list = strtok_r(NULL, " ", &save)) {
                bool kbd = false;

                for (const char *p = list; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                        if (strncmp(p, "keyboard-interactive", 20) == 0 && (p[20] == ',' || p[20] == ':' || !p[20]))
                                kbd = true;
                if (kbd || seen(sc, "authenticationmethods", list))
                        continue;
                doctor_finding(c, "sshd", "add keyboard-interactive to every list of AuthenticationMethods, e.g. "
                               "'AuthenticationMethods keyboard-interactive'",
                               "AuthenticationMethods list '%s'%s completes a login without keyboard-interactive, "
                               "so pam_vigil's sign-in never runs",
                               list, sc->who);
        }
}

static void check_grace(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        const char *v = doctor_sshd_get(s, "logingracetime");
        _cleanup_free_ char *fix = NULL;
        unsigned long long g;
        char *end;

        if (!v)
                return;
        errno = 0;
        g = strtoull(v, &end, 10);
        if (errno || end == v || *end)
                return;
        /* 0 is no limit at all. */
        if (g == 0 || g > c->login_timeout || seen(sc, "logingracetime", v))
                return;
        fix = doctor_fmt("set 'LoginGraceTime %llus' (above login_timeout) %s",
                         (unsigned long long)c->login_timeout + 30, DROPIN_HINT);
        doctor_finding(c, "sshd", fix,
                       "LoginGraceTime is %llus%s but vigil.conf login_timeout is %llus%s: sshd cuts off a "
                       "device sign-in that is still within its time",
                       g, sc->who, (unsigned long long)c->login_timeout, c->conf_loaded ? "" : " (its default)");
}

static void check_all(doctor_ctx *c, const doctor_sshd_conf *s, scope *sc)
{
        check_wants(c, s, sc);
        check_methods(c, s, sc);
        check_acceptenv(c, s, sc);
        check_sftp(c, s, sc);
        check_grace(c, s, sc);
}

void doctor_check_sshd(doctor_ctx *c)
{
        /* Match blocks are seen by evaluating them for a connection: each
         * supervised user, from the loopback and from an outside address
         * (TEST-NET-1: no packet is sent, sshd only matches the text). */
        static const char *const addrs[] = { "127.0.0.1", "192.0.2.1" };
        doctor_sshd_conf s = { 0 };
        _cleanup_free_ char *err = NULL;
        scope sc = { .who = "" };
        int r = doctor_sshd_dump(c, NULL, &s, &err);

        if (r == -ENOENT) {
                doctor_note(c, "no sshd at '%s': sshd checks skipped", c->sshd);
                return;
        }
        if (r < 0) {
                /* sshd -T wants its privilege separation directory, which the
                 * ssh service creates when it starts. */
                bool privsep = err && strstr(err, "privilege separation directory");

                doctor_finding(c, "sshd",
                               privsep ? "start the ssh service (it creates /run/sshd), then run vigil doctor again"
                                       : "fix sshd's configuration until 'sshd -T' accepts it",
                               "sshd cannot read its configuration '%s': %s", c->sshd_config,
                               err ? err : "out of memory");
                return;
        }
        check_all(c, &s, &sc);
        doctor_sshd_conf_done(&s);

        if (c->n_users > MAX_MATCH_USERS)
                doctor_note(c, "Match blocks evaluated for the first %u of %zu supervised users", MAX_MATCH_USERS,
                            c->n_users);
        for (size_t i = 0; i < c->n_users && i < MAX_MATCH_USERS; i++) {
                for (size_t a = 0; a < ELEMENTSOF(addrs); a++) {
                        _cleanup_free_ char *spec = NULL, *who = NULL, *uerr = NULL;

                        spec = doctor_fmt("user=%s,host=vigil-doctor.invalid,addr=%s,laddr=192.0.2.2,lport=22",
                                          c->users[i], addrs[a]);
                        who = doctor_fmt(" for user '%s' from %s (a Match block)", c->users[i], addrs[a]);
                        if (!spec || !who)
                                break;
                        sc.who = who;
                        sc.user = c->users[i];
                        r = doctor_sshd_dump(c, spec, &s, &uerr);
                        if (r < 0) {
                                doctor_finding(c, "sshd", "fix sshd's Match blocks until 'sshd -T -C' accepts them",
                                               "sshd cannot evaluate its configuration%s: %s", who,
                                               uerr ? uerr : "out of memory");
                                break;
                        }
                        check_all(c, &s, &sc);
                        doctor_sshd_conf_done(&s);
                }
        }
        for (size_t i = 0; i < sc.n_seen; i++)
                free(sc.seen[i]);
        free(sc.seen);
}
