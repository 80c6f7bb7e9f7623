/* JWKS over HTTPS from a real server on 127.0.0.1 (tests/identity/https-server.py,
 * Debian's python3) with certificates from a test CA made here with the
 * openssl tool: discovery, fetch, the on-disk cache, rotation to a new kid and
 * its rate limit, the provider going down, and certificates that must be
 * refused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "device-flow.h"
#include "forge.h"
#include "http.h"
#include "identity.h"
#include "testlib.h"
#include "vigil-error.h"

#define PYTHON "/usr/bin/python3"
#define OPENSSL "/usr/bin/openssl"

extern char **environ;

static char dir[1024];
static char server_script[4096];
static forge_key *k1, *k2, *k3;
/* Servers still running, killed by teardown if a test fails half-way. */
static pid_t running[16];

typedef struct server {
        pid_t pid;
        int port;
        char issuer[64];
        char docroot[2600];
        char log[2600];
} server;

/* Run a program, its output into DIR/tools.log; assert it succeeds. */
static void run(const char *const argv[])
{
        posix_spawn_file_actions_t fa;
        char log[2600];
        pid_t pid;
        int status;

        snprintf(log, sizeof log, "%s/tools.log", dir);
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600),
                         0);
        assert_int_equal(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
        assert_int_equal(posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("%s failed; see %s", argv[0], log);
}

static void path(char *buf, size_t size, const char *name)
{
        snprintf(buf, size, "%s/%s", dir, name);
}

/* A CA (name.pem, name.key). */
static void make_ca(const char *name)
{
        char key[2600], pem[2600], subj[128];

        path(key, sizeof key, name);
        strcat(key, ".key");
        path(pem, sizeof pem, name);
        strcat(pem, ".pem");
        snprintf(subj, sizeof subj, "/CN=vigil test %s", name);
        const char *argv[] = { OPENSSL,
                               "req",
                               "-x509",
                               "-newkey",
                               "ec",
                               "-pkeyopt",
                               "ec_paramgen_curve:P-256",
                               "-nodes",
                               "-keyout",
                               key,
                               "-out",
                               pem,
                               "-days",
                               "2",
                               "-subj",
                               subj,
                               "-addext",
                               "basicConstraints=critical,CA:TRUE",
                               "-addext",
                               "keyUsage=critical,keyCertSign,cRLSign",
                               NULL };
        run(argv);
}

/* A server certificate (name.pem, name.key) for @san, signed by @ca. */
static void make_cert(const char *name, const char *ca, const char *san)
{
        char key[2600], csr[2600], pem[2600], ext[2600], cakey[2600], capem[2600], text[256];

        path(key, sizeof key, name), strcat(key, ".key");
        path(csr, sizeof csr, name), strcat(csr, ".csr");
        path(pem, sizeof pem, name), strcat(pem, ".pem");
        path(ext, sizeof ext, name), strcat(ext, ".ext");
        path(cakey, sizeof cakey, ca), strcat(cakey, ".key");
        path(capem, sizeof capem, ca), strcat(capem, ".pem");
        snprintf(text, sizeof text,
                 "subjectAltName=%s\nbasicConstraints=CA:FALSE\n"
                 "keyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n",
                 san);
        forge_write_file(ext, text, 0600);
        const char *req[] = {
                OPENSSL,   "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key,   "-out",    csr,  "-subj",    "/CN=vigil test server",   NULL
        };
        run(req);
        const char *sign[] = { OPENSSL, "x509", "-req",   "-in", csr,
                               "-CA",   capem,  "-CAkey", cakey, "-CAcreateserial",
                               "-out",  pem,    "-days",  "2",   "-extfile",
                               ext,     NULL };
        run(sign);
}

static void write_doc(const server *s, const char *name, const char *text)
{
        char p[4096];

        snprintf(p, sizeof p, "%s/%s", s->docroot, name);
        forge_write_file(p, text, 0644);
}

static void serve_jwks(const server *s, forge_key *const *keys, size_t n)
{
        char *jwks = forge_jwks(keys, n);
        write_doc(s, "jwks.json", jwks);
        free(jwks);
}

static void serve_discovery(const server *s, const char *issuer)
{
        char doc[512];

        snprintf(doc, sizeof doc,
                 "{\"issuer\":\"%s\",\"jwks_uri\":\"%s/jwks.json\",\"token_endpoint\":\"%s/token\","
                 "\"device_authorization_endpoint\":\"%s/device\",\"response_types_supported\":[\"code\"]}",
                 issuer, s->issuer, s->issuer, s->issuer);
        write_doc(s, ".well-known/openid-configuration", doc);
}

/* Start the server with certificate @cert; keys k1 served, discovery ready. */
static void server_start(server *s, const char *cert, const char *tag)
{
        char pem[2600], key[2600], portfile[2600], wk[2700];
        posix_spawn_file_actions_t fa;
        char log[2600];

        path(pem, sizeof pem, cert), strcat(pem, ".pem");
        path(key, sizeof key, cert), strcat(key, ".key");
        snprintf(s->docroot, sizeof s->docroot, "%s/www-%s", dir, tag);
        snprintf(s->log, sizeof s->log, "%s/requests-%s.log", dir, tag);
        snprintf(portfile, sizeof portfile, "%s/port-%s", dir, tag);
        snprintf(wk, sizeof wk, "%s/.well-known", s->docroot);
        assert_int_equal(mkdir(s->docroot, 0755), 0);
        assert_int_equal(mkdir(wk, 0755), 0);
        forge_write_file(s->log, "", 0600);

        path(log, sizeof log, "server.log");
        const char *argv[] = { PYTHON, server_script, pem, key, s->docroot, portfile, s->log, NULL };
        assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
        assert_int_equal(posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_APPEND, 0600),
                         0);
        assert_int_equal(posix_spawn_file_actions_adddup2(&fa, 1, 2), 0);
        assert_int_equal(posix_spawn(&s->pid, PYTHON, &fa, NULL, (char *const *)argv, environ), 0);
        posix_spawn_file_actions_destroy(&fa);
        for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
                if (running[i] == 0) {
                        running[i] = s->pid;
                        break;
                }

        for (int i = 0; i < 1200; i++) { /* a minute: python and TLS start slowly on a loaded machine */
                FILE *f = fopen(portfile, "re");
                if (f) {
                        assert_int_equal(fscanf(f, "%d", &s->port), 1);
                        fclose(f);
                        break;
                }
                usleep(50 * 1000);
        }
        if (s->port <= 0)
                fail_msg("test HTTPS server did not start; see %s", log);
        snprintf(s->issuer, sizeof s->issuer, "https://127.0.0.1:%d", s->port);
        serve_jwks(s, &k1, 1);
        serve_discovery(s, s->issuer);
}

static void server_stop(server *s)
{
        int status;

        if (s->pid <= 0)
                return;
        (void)kill(s->pid, SIGTERM);
        (void)waitpid(s->pid, &status, 0);
        for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
                if (running[i] == s->pid)
                        running[i] = 0;
        s->pid = 0;
}

static int requests(const server *s)
{
        FILE *f = fopen(s->log, "re");
        int n = 0, c;

        assert_non_null(f);
        while ((c = fgetc(f)) != EOF)
                n += c == '\n';
        fclose(f);
        return n;
}

static vigil_config *config_for(const server *s, const char *extra)
{
        return test_config("issuer = %s\naudience = " TEST_AUDIENCE "\nca_file = %s/ca1.pem\n%s", s->issuer,
                           dir, extra ? extra : "");
}

static char *token_for(const server *s, const forge_key *k, const char *alg)
{
        char *h = NULL, *o = NULL, *p, *t;

        assert_true(asprintf(&h, "{\"alg\":\"%s\",\"kid\":\"%s\"}", alg, k->kid) > 0);
        assert_true(asprintf(&o, "{\"iss\":\"%s\"}", s->issuer) > 0);
        p = test_claims(o);
        t = forge_token(h, p, alg, k, NULL, 0);
        free(h);
        free(o);
        free(p);
        return t;
}

/* Verify with a new verifier, as a new process would. */
static int verify(const vigil_config *c, const char *state, const char *token, char **why)
{
        vigil_verifier_options o = { .state_dir = state, .clock = test_clock };
        vigil_identity *id = NULL;
        vigil_verifier *v = NULL;
        int r;

        assert_int_equal(vigil_verifier_new(c, &o, &v), 0);
        r = vigil_verifier_verify(v, token, strlen(token), "alice", 0, &id, why);
        if (r == 0) {
                assert_string_equal(id->sub, "u-1234");
                vigil_identity_free(id);
        }
        vigil_verifier_free(v);
        return r;
}

static void expect_valid(const vigil_config *c, const char *state, const char *token)
{
        char *why = NULL;
        int r = verify(c, state, token, &why);

        if (r != 0)
                fail_msg("refused (%d): %s", r, why ? why : "?");
}

static void state_path(char *buf, size_t size, const char *tag)
{
        snprintf(buf, size, "%s/state-%s/identity", dir, tag);
}

static void fetch_by_discovery_and_cache(void **state)
{
        char sd[4096];
        server s = {};
        vigil_config *c;
        char *t;
        (void)state;

        server_start(&s, "srv1", "discovery");
        state_path(sd, sizeof sd, "discovery");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");

        expect_valid(c, sd, t);
        assert_int_equal(requests(&s), 2); /* discovery document, then the JWKS */
        {
                struct stat st;
                assert_int_equal(stat(sd, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0700);
        }

        /* A second process: keys from the cache, nothing fetched. */
        expect_valid(c, sd, t);
        assert_int_equal(requests(&s), 2);

        /* The cache outlives the server. */
        server_stop(&s);
        expect_valid(c, sd, t);
        free(t);
        vigil_config_free(c);
}

static void fetch_by_jwks_uri(void **state)
{
        char sd[4096], extra[256];
        server s = {};
        vigil_config *c;
        char *t;
        (void)state;

        server_start(&s, "srv1", "uri");
        state_path(sd, sizeof sd, "uri");
        snprintf(extra, sizeof extra, "jwks_uri = %s/jwks.json\n", s.issuer);
        c = config_for(&s, extra);
        t = token_for(&s, k1, "RS256");
        expect_valid(c, sd, t);
        assert_int_equal(requests(&s), 1); /* no discovery when jwks_uri is set */
        server_stop(&s);
        free(t);
        vigil_config_free(c);
}

static void rotation_to_new_kid(void **state)
{
        char sd[4096], *why = NULL;
        forge_key *both[2];
        server s = {};
        vigil_config *c;
        char *t1, *t2, *t3;
        (void)state;

        server_start(&s, "srv1", "rotation");
        state_path(sd, sizeof sd, "rotation");
        c = config_for(&s, NULL);
        t1 = token_for(&s, k1, "RS256");
        t2 = token_for(&s, k2, "ES256");
        t3 = token_for(&s, k3, "EdDSA");

        test_now = TEST_NOW;
        expect_valid(c, sd, t1);
        assert_int_equal(requests(&s), 2);

        /* The provider rotates in k2. Within the minute after the last
         * fetch, an unknown kid does not make vigil fetch again. */
        both[0] = k1, both[1] = k2;
        serve_jwks(&s, both, 2);
        test_now = TEST_NOW + 30;
        assert_int_equal(verify(c, sd, t2, &why), VIGIL_E_DENIED);
        assert_string_equal(why, "kid 'k2' is not in the JWKS");
        free(why);
        assert_int_equal(requests(&s), 2);

        /* A minute later it does, and k2 is accepted. */
        test_now = TEST_NOW + 61;
        expect_valid(c, sd, t2);
        assert_int_equal(requests(&s), 4);
        expect_valid(c, sd, t1);
        assert_int_equal(requests(&s), 4);

        /* A kid the provider does not have: one fetch per minute at most,
         * however many tokens name it. */
        test_now = TEST_NOW + 130;
        for (int i = 0; i < 5; i++) {
                assert_int_equal(verify(c, sd, t3, &why), VIGIL_E_DENIED);
                assert_string_equal(why, "kid 'k3' is not in the JWKS");
                free(why);
        }
        assert_int_equal(requests(&s), 6);

        test_now = TEST_NOW;
        server_stop(&s);
        free(t1);
        free(t2);
        free(t3);
        vigil_config_free(c);
}

static void provider_down(void **state)
{
        char sd[4096], sd2[4096], *why = NULL, *prefix = NULL;
        server s = {};
        vigil_config *c;
        char *t;
        (void)state;

        server_start(&s, "srv1", "down");
        state_path(sd, sizeof sd, "down");
        state_path(sd2, sizeof sd2, "down-nocache");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");
        test_now = TEST_NOW;
        expect_valid(c, sd, t);
        server_stop(&s);

        /* Two hours on the cache is due for a refresh, which fails: the
         * cached keys keep working. */
        test_now = TEST_NOW + 7200;
        {
                char *o = NULL, *p, *h = NULL, *tt;
                assert_true(asprintf(&o, "{\"iss\":\"%s\",\"iat\":%lld,\"exp\":%lld}", s.issuer,
                                     TEST_NOW + 7100, TEST_NOW + 7800) > 0);
                p = test_claims(o);
                assert_true(asprintf(&h, "{\"alg\":\"RS256\",\"kid\":\"k1\"}") > 0);
                tt = forge_token(h, p, "RS256", k1, NULL, 0);
                expect_valid(c, sd, tt);
                free(tt);
                free(h);
                free(p);
                free(o);
        }
        test_now = TEST_NOW;

        /* Without a cache there is nothing to verify against: refused, as an error. */
        assert_int_equal(verify(c, sd2, t, &why), -ECONNREFUSED);
        assert_true(asprintf(&prefix,
                             "cannot get the identity provider's keys: discovery: fetching "
                             "'%s/.well-known/openid-configuration' failed: ",
                             s.issuer) > 0);
        if (strncmp(why, prefix, strlen(prefix)) != 0)
                fail_msg("reason: %s", why);
        free(prefix);
        free(why);
        free(t);
        vigil_config_free(c);
}

static void wrong_certificate(void **state)
{
        char sd[4096], *why = NULL;
        server s = {};
        vigil_config *c;
        char *t;
        struct stat st;
        (void)state;

        /* Signed by a CA that is neither in ca_file nor in the system store. */
        server_start(&s, "srv2", "wrongca");
        state_path(sd, sizeof sd, "wrongca");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");
        assert_int_equal(verify(c, sd, t, &why), -EBADMSG);
        if (!strstr(why, "SSL certificate problem"))
                fail_msg("reason: %s", why);
        assert_int_equal(requests(&s), 0);
        assert_int_equal(stat(sd, &st), -1); /* nothing cached */
        free(why);
        server_stop(&s);
        free(t);
        vigil_config_free(c);

        /* Signed by the right CA, for another name. */
        server_start(&s, "srv3", "wrongname");
        state_path(sd, sizeof sd, "wrongname");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");
        assert_int_equal(verify(c, sd, t, &why), -EBADMSG);
        if (!strstr(why, "127.0.0.1"))
                fail_msg("reason: %s", why);
        assert_int_equal(requests(&s), 0);
        free(why);
        server_stop(&s);
        free(t);
        vigil_config_free(c);
}

static void discovery_names_another_issuer(void **state)
{
        char sd[4096], *why = NULL, *expect = NULL;
        server s = {};
        vigil_config *c;
        char *t;
        (void)state;

        server_start(&s, "srv1", "issuer");
        serve_discovery(&s, "https://evil.example");
        state_path(sd, sizeof sd, "issuer");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");
        assert_int_equal(verify(c, sd, t, &why), -EPROTO);
        assert_true(asprintf(&expect,
                             "cannot get the identity provider's keys: discovery: "
                             "discovery document names issuer 'https://evil.example', not '%s'",
                             s.issuer) > 0);
        assert_string_equal(why, expect);
        free(expect);
        free(why);
        server_stop(&s);
        free(t);
        vigil_config_free(c);
}

static void discovery_api(void **state)
{
        vigil_oidc_provider *p = NULL;
        char u[256], *why = NULL;
        server s = {};
        vigil_config *c;
        (void)state;

        server_start(&s, "srv1", "api");
        c = config_for(&s, NULL);
        assert_int_equal(vigil_oidc_discover(c, &p, &why), 0);
        assert_string_equal(p->issuer, s.issuer);
        snprintf(u, sizeof u, "%s/jwks.json", s.issuer);
        assert_string_equal(p->jwks_uri, u);
        snprintf(u, sizeof u, "%s/device", s.issuer);
        assert_string_equal(p->device_authorization_endpoint, u);
        vigil_oidc_provider_free(p);
        server_stop(&s);
        vigil_config_free(c);
}

static void post_form(void **state)
{
        char url[256], ca[1100], *why = NULL, *body = NULL;
        struct timespec t0, t1;
        server s = {};
        size_t len = 0;
        long long ms;
        long status = 0;
        (void)state;

        server_start(&s, "srv1", "post");
        snprintf(url, sizeof url, "%s/token", s.issuer);
        snprintf(ca, sizeof ca, "%s/ca1.pem", dir);

        /* Same TLS rules as GET: without the test CA, refused before any request. */
        assert_int_equal(vigil_https_post_form(url, NULL, "a=1", 4096, VIGIL_HTTP_TOTAL_TIMEOUT_MS, &status, &body, &len,
                                               &why),
                         -EBADMSG);
        assert_non_null(strstr(why, "SSL certificate problem"));
        free(why);
        assert_int_equal(requests(&s), 0);

        /* A 400 with a JSON error is a response, handed back with its status. */
        assert_int_equal(vigil_https_post_form(url, ca, "grant_type=device_code&device_code=abc", 4096,
                                               VIGIL_HTTP_TOTAL_TIMEOUT_MS, &status, &body, &len, &why),
                         0);
        assert_int_equal(status, 400);
        assert_non_null(strstr(body, "\"error\": \"authorization_pending\""));
        assert_non_null(strstr(body, "\"form\": \"grant_type=device_code&device_code=abc\""));
        assert_non_null(strstr(body, "application/x-www-form-urlencoded"));
        assert_int_equal(len, strlen(body));
        free(body);
        assert_int_equal(requests(&s), 1);

        /* A caller's own bound (what is left of a sign-in) ends a request
         * that hangs, well before the 5 s every request has. */
        snprintf(url, sizeof url, "%s/stall/token", s.issuer);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(vigil_https_post_form(url, ca, "a=1", 4096, 1500, &status, &body, &len, &why),
                         -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms < 1400 || ms >= VIGIL_HTTP_TOTAL_TIMEOUT_MS - 500)
                fail_msg("a request bounded at 1500 ms ended after %lld ms", (long long)ms);
        assert_non_null(strstr(why, "timed out"));
        free(why);
        assert_int_equal(requests(&s), 2);
        server_stop(&s);
}

/* A device sign-in whose token endpoint hangs ends at its deadline
 * (login_timeout), not a whole request's bound after it: sshd's
 * LoginGraceTime is set above login_timeout, not above it plus 5 s. */
static void device_poll_ends_at_deadline(void **state)
{
        char url[256], *why = NULL, *token = NULL;
        vigil_device_grant g = { .interval = 1 };
        struct timespec t0, t1;
        server s = {};
        vigil_config *c;
        long long ms;
        (void)state;

        server_start(&s, "srv1", "device");
        snprintf(url, sizeof url, "%s/stall/token", s.issuer);
        c = config_for(&s, "client_id = vigil-test\n");
        g.device_code = strdup("dc");
        assert_non_null(g.device_code);
        g.next_poll_ms = vigil_device_now_ms();
        g.expires_ms = g.next_poll_ms + 60000;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(vigil_device_poll(c, url, &g, vigil_device_now_ms() + 1500, &token, &why),
                         VIGIL_E_DENIED);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
        if (ms < 1400 || ms >= VIGIL_HTTP_TOTAL_TIMEOUT_MS - 500)
                fail_msg("a sign-in with 1500 ms left ended after %lld ms", (long long)ms);
        assert_non_null(why);
        assert_string_equal(why, "login_timeout reached during a request");
        assert_null(token);
        assert_int_equal(requests(&s), 1);
        free(why);
        free(g.device_code);
        vigil_config_free(c);
        server_stop(&s);
}

static void untrusted_cache_ignored(void **state)
{
        char sd[2048], file[4300];
        server s = {};
        vigil_config *c;
        char *t;
        DIR *d;
        struct dirent *de;
        (void)state;

        server_start(&s, "srv1", "perm");
        state_path(sd, sizeof sd, "perm");
        c = config_for(&s, NULL);
        t = token_for(&s, k1, "RS256");
        expect_valid(c, sd, t);
        assert_int_equal(requests(&s), 2);

        /* Someone made the cache readable (so possibly writable) by others:
         * its keys are not trusted, they are fetched again. */
        file[0] = '\0';
        d = opendir(sd);
        assert_non_null(d);
        while ((de = readdir(d)))
                if (strncmp(de->d_name, "jwks-", 5) == 0)
                        snprintf(file, sizeof file, "%s/%s", sd, de->d_name);
        closedir(d);
        assert_true(file[0]);
        {
                struct stat st;
                assert_int_equal(stat(file, &st), 0);
                assert_int_equal(st.st_mode & 0777, 0600);
        }
        assert_int_equal(chmod(file, 0644), 0);
        expect_valid(c, sd, t);
        assert_int_equal(requests(&s), 4);
        server_stop(&s);
        free(t);
        vigil_config_free(c);
}

static void stalled_provider_times_out(void **state)
{
        struct sockaddr_in a = { .sin_family = AF_INET };
        socklen_t alen = sizeof a;
        char sd[4096], *why = NULL, cfgtext[64];
        struct timespec t0, t1;
        vigil_config *c;
        char *t;
        int fd;
        (void)state;

        /* Accepts connections (the kernel does, from the backlog) and never
         * answers: the TLS handshake, which libcurl counts in the connect
         * phase, waits until the 3 s connect timeout. */
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        assert_int_equal(listen(fd, 8), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &alen), 0);
        snprintf(cfgtext, sizeof cfgtext, "https://127.0.0.1:%d", ntohs(a.sin_port));
        c = test_config("issuer = %s\naudience = " TEST_AUDIENCE "\nca_file = %s/ca1.pem\n", cfgtext, dir);
        {
                server s = {};
                snprintf(s.issuer, sizeof s.issuer, "%s", cfgtext);
                t = token_for(&s, k1, "RS256");
        }
        state_path(sd, sizeof sd, "stall");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(verify(c, sd, t, &why), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true(t1.tv_sec - t0.tv_sec < 9);
        assert_true(t1.tv_sec - t0.tv_sec >= 2);
        if (!strstr(why, "timeout"))
                fail_msg("reason: %s", why);
        free(why);
        close(fd);
        free(t);
        vigil_config_free(c);
}

static void slow_provider_times_out(void **state)
{
        char sd[4096], extra[256], *why = NULL;
        struct timespec t0, t1;
        server s = {};
        vigil_config *c;
        char *t;
        (void)state;

        /* TLS completes, the response never comes: the 5 s total timeout ends it. */
        server_start(&s, "srv1", "slow");
        state_path(sd, sizeof sd, "slow");
        snprintf(extra, sizeof extra, "jwks_uri = %s/stall/jwks.json\n", s.issuer);
        c = config_for(&s, extra);
        t = token_for(&s, k1, "RS256");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(verify(c, sd, t, &why), -ETIMEDOUT);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        assert_true(t1.tv_sec - t0.tv_sec >= 4);
        assert_true(t1.tv_sec - t0.tv_sec < 9);
        if (!strstr(why, "timed out"))
                fail_msg("reason: %s", why);
        assert_int_equal(requests(&s), 1);
        free(why);
        server_stop(&s);
        free(t);
        vigil_config_free(c);
}

static int setup(void **state)
{
        const char *src = getenv("VIGIL_SOURCE_ROOT");
        (void)state;

        if (access(PYTHON, X_OK) < 0 || access(OPENSSL, X_OK) < 0) {
                fprintf(stderr, "needs " PYTHON " and " OPENSSL " (scripts/deps installs them)\n");
                return -1;
        }
        snprintf(dir, sizeof dir, "%s", test_tmpdir("https"));
        snprintf(server_script, sizeof server_script, "%s/tests/identity/https-server.py", src ? src : ".");
        make_ca("ca1");
        make_ca("ca2");
        make_cert("srv1", "ca1", "IP:127.0.0.1");
        make_cert("srv2", "ca2", "IP:127.0.0.1");
        make_cert("srv3", "ca1", "DNS:other.example");
        k1 = forge_key_new("RSA2048", "k1", NULL);
        k2 = forge_key_new("P-256", "k2", NULL);
        k3 = forge_key_new("Ed25519", "k3", NULL);
        return 0;
}

static int teardown(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof running / sizeof running[0]; i++)
                if (running[i] > 0) {
                        int status;
                        (void)kill(running[i], SIGTERM);
                        (void)waitpid(running[i], &status, 0);
                }
        forge_key_free(k1);
        forge_key_free(k2);
        forge_key_free(k3);
        test_rm_rf(dir);
        return 0;
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(fetch_by_discovery_and_cache),
                cmocka_unit_test(fetch_by_jwks_uri),
                cmocka_unit_test(rotation_to_new_kid),
                cmocka_unit_test(provider_down),
                cmocka_unit_test(wrong_certificate),
                cmocka_unit_test(discovery_names_another_issuer),
                cmocka_unit_test(discovery_api),
                cmocka_unit_test(post_form),
                cmocka_unit_test(untrusted_cache_ignored),
                cmocka_unit_test(stalled_provider_times_out),
                cmocka_unit_test(slow_provider_times_out),
                cmocka_unit_test(device_poll_ends_at_deadline),
        };

        return cmocka_run_group_tests_name("identity-jwks-https", tests, setup, teardown);
}
