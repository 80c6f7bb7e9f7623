/* vigild_main(): options, process hygiene, setup and teardown around the
 * event loop (loop.c). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "loop-internal.h"
#include "server.h"
#include "vigil-error.h"

static void usage(FILE *f)
{
        fputs("Usage: vigild [OPTIONS]\n"
              "The vigil broker: answers a fixed table of requests from unprivileged callers.\n\n"
              "  --socket PATH              listen here (default " VIGILD_SOCKET_PATH ")\n"
              "  --config FILE              vigil.conf for auditors/responders "
              "(default " VIGIL_DEFAULT_CONFIG ")\n"
              "  --events-dir DIR           also write each session's command events to\n"
              "                             DIR/SESSION.jsonl (until the store records them)\n"
              "  --log-file FILE            log to FILE instead of syslog/stderr\n"
              "  --log-stderr               log to stderr even when syslog is there\n"
              "  --request-timeout MS       per request and idle connection (default 10000)\n"
              "  --ref-ttl SECONDS          life of a one-time login reference (default 120)\n"
              "  --max-clients N            connections at once (default 1024)\n"
              "  --max-clients-per-uid N    per non-root uid (default 16)\n"
              "  --max-pending N            requests in flight (default 256)\n"
              "  --max-pending-per-uid N    per non-root uid (default 4)\n"
              "  --max-refs N               pending login references (default 1024)\n"
              "  --version, --help\n",
              f);
}

static char *dirname_dup(const char *path)
{
        const char *slash = strrchr(path, '/');

        if (!slash)
                return strdup(".");
        if (slash == path)
                return strdup("/");
        return strndup(path, (size_t)(slash - path));
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret)
{
        char *end;
        unsigned long v;

        errno = 0;
        if (!s || !*s || *s == '-' || *s == '+')
                return -EINVAL;
        v = strtoul(s, &end, 10);
        if (errno || *end || v < min || v > max)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* Closed stdio fds would be handed out to the first sockets we open, and a
 * log line would then go to a client: fill them with /dev/null first. */
static int sanitize_stdio(void)
{
        for (int fd = 0; fd < 3; fd++) {
                if (fcntl(fd, F_GETFD) >= 0)
                        continue;
                int n = open("/dev/null", O_RDWR | O_NOCTTY);

                if (n < 0)
                        return negative_errno();
                if (n != fd) {
                        (void)close(n);
                        return -EBADF;
                }
        }
        return 0;
}

/* vigil.conf through the config component, and the auditors and responders
 * in it. Without --config a missing default file is no error: vigild then
 * has no configuration, and the requests that need one (session.start) are
 * refused. */
static int load_config(const vigild_server *s, vigil_config **ret_cfg, vigild_access **ret_access, char *err,
                       size_t errlen)
{
        _cleanup_free_ char *why = NULL;
        vigil_config *cfg = NULL;
        int r;

        r = vigil_config_load(s->config_path, &cfg, &why);
        if (r == -ENOENT && !s->config_required)
                cfg = NULL;
        else if (r < 0) {
                snprintf(err, errlen, "%s", why ? why : vigil_strerror(r));
                return r;
        }
        r = access_from_config(cfg, ret_access, err, errlen);
        if (r < 0) {
                vigil_config_free(cfg);
                return r;
        }
        *ret_cfg = cfg;
        return 0;
}

void server_reload(vigild_server *s)
{
        vigild_access *a = NULL;
        vigil_config *cfg = NULL;
        char err[512];
        int r = load_config(s, &cfg, &a, err, sizeof err);

        if (r < 0) {
                /* Fail closed: a broken configuration grants nothing and
                 * starts no session. */
                vlog(LOG_ERR, "reload: %s; no auditors or responders and no sessions until it is fixed",
                     err);
                a = calloc(1, sizeof *a);
                if (!a)
                        return;
                cfg = NULL;
        } else
                vlog(LOG_NOTICE, "reload: %zu auditor and %zu responder entries%s", a->auditors.n,
                     a->responders.n, cfg ? "" : " (no configuration file)");
        access_free(s->access);
        s->access = a;
        vigil_config_free(s->config);
        s->config = cfg;
}

const vigil_config *vigild_server_config(const vigild_server *s)
{
        return s->config;
}

const char *vigild_server_run_dir(const vigild_server *s)
{
        return s->run_dir;
}

const char *vigild_server_events_dir(const vigild_server *s)
{
        return s->events_dir;
}

enum {
        OPT_SOCKET = 0x100,
        OPT_CONFIG,
        OPT_LOG_FILE,
        OPT_EVENTS_DIR,
        OPT_LOG_STDERR,
        OPT_REQUEST_TIMEOUT,
        OPT_REF_TTL,
        OPT_MAX_CLIENTS,
        OPT_MAX_CLIENTS_UID,
        OPT_MAX_PENDING,
        OPT_MAX_PENDING_UID,
        OPT_MAX_REFS,
        OPT_VERSION,
};

int vigild_main(int argc, char **argv, const vigild_ops *ops)
{
        static const struct option longopts[] = {
                { "socket", required_argument, NULL, OPT_SOCKET },
                { "config", required_argument, NULL, OPT_CONFIG },
                { "log-file", required_argument, NULL, OPT_LOG_FILE },
                { "events-dir", required_argument, NULL, OPT_EVENTS_DIR },
                { "log-stderr", no_argument, NULL, OPT_LOG_STDERR },
                { "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
                { "ref-ttl", required_argument, NULL, OPT_REF_TTL },
                { "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
                { "max-clients-per-uid", required_argument, NULL, OPT_MAX_CLIENTS_UID },
                { "max-pending", required_argument, NULL, OPT_MAX_PENDING },
                { "max-pending-per-uid", required_argument, NULL, OPT_MAX_PENDING_UID },
                { "max-refs", required_argument, NULL, OPT_MAX_REFS },
                { "version", no_argument, NULL, OPT_VERSION },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        vigild_server s = {
                .ops = ops, .limits = VIGILD_DEFAULT_LIMITS, .listen_fd = -1, .signal_fd = -1, .epoll_fd = -1
        };
        const char *socket_path = VIGILD_SOCKET_PATH, *log_file = NULL;
        bool log_stderr = false;
        server_socket sock = { .fd = -1, .lock_fd = -1 };
        struct rlimit rl;
        sigset_t mask;
        char err[512];
        int c, r, status = 1;

        s.config_path = VIGIL_DEFAULT_CONFIG;
        while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
                unsigned *target = NULL, min = 1, max = 1000000;

                switch (c) {
                case OPT_SOCKET:
                        socket_path = optarg;
                        break;
                case OPT_CONFIG:
                        s.config_path = optarg;
                        s.config_required = true;
                        break;
                case OPT_LOG_FILE:
                        log_file = optarg;
                        break;
                case OPT_EVENTS_DIR:
                        if (optarg[0] != '/') {
                                fprintf(stderr, "vigild: --events-dir needs an absolute path\n");
                                return 2;
                        }
                        s.events_dir = optarg;
                        break;
                case OPT_LOG_STDERR:
                        log_stderr = true;
                        break;
                case OPT_REQUEST_TIMEOUT:
                        target = &s.limits.request_timeout_ms;
                        min = 50;
                        max = 600000;
                        break;
                case OPT_REF_TTL:
                        target = &s.limits.ref_ttl_s;
                        max = 3600;
                        break;
                case OPT_MAX_CLIENTS:
                        target = &s.limits.max_clients;
                        max = 65536;
                        break;
                case OPT_MAX_CLIENTS_UID:
                        target = &s.limits.max_clients_per_uid;
                        max = 65536;
                        break;
                case OPT_MAX_PENDING:
                        target = &s.limits.max_pending;
                        max = 65536;
                        break;
                case OPT_MAX_PENDING_UID:
                        target = &s.limits.max_pending_per_uid;
                        max = 65536;
                        break;
                case OPT_MAX_REFS:
                        target = &s.limits.max_refs;
                        max = 1000000;
                        break;
                case OPT_VERSION:
                        printf("vigild " VIGIL_VERSION "\n");
                        return 0;
                case 'h':
                        usage(stdout);
                        return 0;
                default:
                        fprintf(stderr, "Try 'vigild --help'.\n");
                        return 2;
                }
                if (target && parse_uint(optarg, min, max, target) < 0) {
                        fprintf(stderr, "vigild: '%s' is not a number from %u to %u\n", optarg, min, max);
                        return 2;
                }
        }
        if (optind < argc) {
                fprintf(stderr, "vigild: unexpected argument '%s'\nTry 'vigild --help'.\n", argv[optind]);
                return 2;
        }

        if (sanitize_stdio() < 0)
                return 1;
        if (geteuid() != 0) {
                fprintf(stderr, "vigild: must run as root\n");
                return 1;
        }
        umask(022);
        r = log_setup(log_file, log_stderr);
        if (r < 0) {
                fprintf(stderr, "vigild: cannot open log file '%s': %s\n", log_file, vigil_strerror(r));
                return 1;
        }
        r = load_config(&s, &s.config, &s.access, err, sizeof err);
        if (r < 0) {
                vlog(LOG_ERR, "%s", err);
                goto out;
        }
        s.run_dir = dirname_dup(socket_path);
        if (!s.run_dir) {
                vlog(LOG_ERR, "setup failed: %s", strerror(ENOMEM));
                goto out;
        }

        /* Signals arrive through the loop; SIGPIPE never (sends use MSG_NOSIGNAL). */
        (void)signal(SIGPIPE, SIG_IGN);
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
            (s.signal_fd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) < 0) {
                vlog(LOG_ERR, "signalfd: %s", strerror(errno));
                goto out;
        }
        /* Every connection is an fd: allow as many as the hard limit does. */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }

        r = server_listen(socket_path, &sock, err, sizeof err);
        if (r < 0) {
                vlog(LOG_ERR, "%s", err);
                goto out;
        }
        s.listen_fd = sock.fd;
        s.epoll_fd = epoll_create1(EPOLL_CLOEXEC);
        s.rxbuf = malloc(VMSG_MAX + 1);
        s.rxmsg = malloc(sizeof *s.rxmsg);
        if (s.epoll_fd < 0 || !s.rxbuf || !s.rxmsg || refs_init(&s.refs, s.limits.max_refs) < 0) {
                vlog(LOG_ERR, "setup failed: %s", strerror(errno ? errno : ENOMEM));
                goto out;
        }
        s.started_ms = vigild_now_ms();
        if (ops->init) {
                r = ops->init(&s);
                if (r < 0) {
                        vlog(LOG_ERR, "backends (%s) failed to start: %s", ops->backends, vigil_strerror(r));
                        goto out;
                }
        }
        vlog(LOG_NOTICE, "listening on %s (backends: %s; %zu auditor and %zu responder entries)",
             sock.owned ? socket_path : "activated socket", ops->backends ? ops->backends : "none",
             s.access->auditors.n, s.access->responders.n);
        r = server_run(&s);
        if (r < 0)
                vlog(LOG_ERR, "event loop: %s", vigil_strerror(r));
        else
                status = 0;
        if (ops->done)
                ops->done();
out:
        refs_done(&s.refs);
        while (s.slots) {
                uid_slot *n = s.slots->next;

                free(s.slots);
                s.slots = n;
        }
        if (s.rxbuf)
                explicit_bzero(s.rxbuf, VMSG_MAX + 1);
        free(s.rxbuf);
        free(s.rxmsg);
        access_free(s.access);
        vigil_config_free(s.config);
        free(s.run_dir);
        if (sock.owned)
                (void)unlink(socket_path);
        if (sock.fd >= 0)
                (void)close(sock.fd);
        if (sock.lock_fd >= 0)
                (void)close(sock.lock_fd);
        if (s.epoll_fd >= 0)
                (void)close(s.epoll_fd);
        if (s.signal_fd >= 0)
                (void)close(s.signal_fd);
        log_close();
        return status;
}
