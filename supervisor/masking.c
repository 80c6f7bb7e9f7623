/* The first stage of the output pipeline (relay.c): masking, then
 * recording, then the terminal.
 *
 *   bytes of channel ch -> mask stream of ch -> rec copy  -> the store
 *                                            -> term copy -> the outer terminal
 *
 * The two copies differ only in timing: the echo of what the user just
 * typed reaches the terminal at once, while the recording's copy may still
 * hold it (a digit could begin a card number). In PTY mode every channel
 * shares one stream (one terminal, vigil's own lines included); in pipe
 * mode stdout and stderr each have their own, which pass binary data
 * unchanged (VIGIL_MASK_SNIFF_BINARY). For a file transfer (scp -t/-f,
 * sftp-server, rsync --server) the terminal copy is the bytes as they are
 * (rewriting a transferred text file would corrupt it) and only the
 * recording's copy goes through the stream. The input, when recorded, has a
 * stream of its own and never a terminal copy.
 *
 * Fail closed: a stream that runs out of memory is poisoned; the session
 * ends and no byte of it passes unmasked. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <termios.h>

#include "sup.h"
#include "vigil-error.h"

static const char *base_name(const char *p)
{
        const char *sl = strrchr(p, '/');

        return sl ? sl + 1 : p;
}

static bool has_word(char *const *argv, size_t from, const char *w)
{
        for (size_t i = from; argv[i]; i++)
                if (strcmp(argv[i], w) == 0)
                        return true;
        return false;
}

/* scp's remote end: -t (sink) or -f (source), alone or among other flags. */
static bool scp_endpoint(char *const *argv)
{
        for (size_t i = 1; argv[i] && argv[i][0] == '-'; i++) {
                if (strcmp(argv[i], "--") == 0)
                        break;
                if (strchr(argv[i] + 1, 't') || strchr(argv[i] + 1, 'f'))
                        return true;
        }
        return false;
}

static bool transfer_argv(char *const *argv)
{
        const char *b;

        if (!argv || !argv[0])
                return false;
        b = base_name(argv[0]);
        if (strcmp(b, "sftp-server") == 0 || strcmp(b, "internal-sftp") == 0)
                return true;
        if (strcmp(b, "scp") == 0)
                return scp_endpoint(argv);
        if (strcmp(b, "rsync") == 0)
                return has_word(argv, 1, "--server");
        return false;
}

bool transfer_command(char *const *argv)
{
        char *words[16 + 1];
        char line[4096];
        size_t n = 0;
        char *save = NULL, *w;
        bool r;

        if (!argv || !argv[0])
                return false;
        if (transfer_argv(argv))
                return true;
        /* a login's one command line: SHELL -c 'scp -t /dir' (sshd's form) */
        if (!argv[1] || strcmp(argv[1], "-c") != 0 || !argv[2] || argv[3])
                return false;
        if (strlen(argv[2]) >= sizeof(line))
                return false;
        memcpy(line, argv[2], strlen(argv[2]) + 1);
        for (w = strtok_r(line, " \t", &save); w && n < 16; w = strtok_r(NULL, " \t", &save))
                words[n++] = w;
        words[n] = NULL;
        r = n > 0 && transfer_argv(words);
        explicit_bzero(line, sizeof(line));
        return r;
}

static unsigned stream_of(const session *s, unsigned ch)
{
        return s->io.mode == VIGIL_IO_PTY ? 0 : ch == CH_ERR ? 1 : 0;
}

/* The masker failed: nothing more of the session is shown or recorded. */
static void mask_failed(session *s, int r)
{
        masker *m = &s->mask;

        if (m->poisoned)
                return;
        m->poisoned = true;
        supervisor_log(s, LOG_ERR, "masking failed: %s; the session is ended", vigil_strerror(r));
        session_fail(s, r, "masking");
}

/* Hand what the stream decided on: the terminal first (a keystroke's echo
 * waits for nothing else), then the recording's queue. */
static int pass_on(session *s, relay_stage *st, unsigned ch)
{
        masker *m = &s->mask;
        int r = 0;

        if (m->term.len > 0)
                r = st->next->write(s, st->next, ch, m->term.data, m->term.len);
        m->term.len = 0;
        if (m->rec.len > 0)
                (void)record_output(s, m->rec.data, m->rec.len);
        m->rec.len = 0;
        return r;
}

static int filter_write(session *s, relay_stage *st, unsigned ch, const void *buf, size_t n)
{
        masker *m = &s->mask;
        vigil_mask_stream *ms;
        int r;

        if (m->poisoned) {
                /* only vigil's own lines still go out, unrecorded, while the session ends */
                if (m->own_line)
                        return st->next->write(s, st->next, ch, buf, n);
                return 0;
        }
        ms = m->out[stream_of(s, ch)];
        if (!ms) {
                r = st->next->write(s, st->next, ch, buf, n);
                (void)record_output(s, buf, n);
                return r;
        }
        if (m->transfer) {
                /* the transfer unchanged; the recording masked */
                r = vigil_mask_stream_feed(ms, buf, n, &m->rec, NULL);
                if (m->rec.len > 0)
                        (void)record_output(s, m->rec.data, m->rec.len);
                m->rec.len = 0;
                if (r < 0) {
                        mask_failed(s, r);
                        return 0;
                }
                return st->next->write(s, st->next, ch, buf, n);
        }
        r = vigil_mask_stream_feed(ms, buf, n, &m->rec, &m->term);
        if (r < 0) {
                /* what the failed call appended is masked and may go on */
                (void)pass_on(s, st, ch);
                mask_failed(s, r);
                return 0;
        }
        return pass_on(s, st, ch);
}

int masking_setup(session *s)
{
        masker *m = &s->mask;
        const vigil_session_config *c = s->cfg;
        _cleanup_free_ char *err = NULL;
        unsigned flags = 0;
        int r;

        m->filter.write = filter_write;
        m->filter.next = &s->io.sink;
        s->io.head = &m->filter;
        if (vigil_policy_n_masks(c->policy) == 0)
                return 0;
        r = vigil_mask_set_from_policy(c->policy, &m->set, &err);
        if (r < 0) {
                if (!s->error && asprintf(&s->error, "masking: %s", err ? err : vigil_strerror(r)) < 0)
                        s->error = NULL;
                return r;
        }
        /* Pipe mode: binary output must reach the terminal unchanged. A
         * transfer's terminal copy is never masked; its streams make the
         * recording's copy only, and mask all of it (a NUL in the protocol
         * must not let the next file's text into the recording). */
        if (s->io.mode == VIGIL_IO_PIPES) {
                m->transfer = transfer_command(c->argv);
                flags = m->transfer ? 0 : VIGIL_MASK_SNIFF_BINARY;
        }
        for (unsigned i = 0; i < (s->io.mode == VIGIL_IO_PTY ? 1u : 2u); i++) {
                r = vigil_mask_stream_new(m->set, flags, &m->out[i]);
                if (r < 0)
                        goto fail;
        }
        /* the input's copy is only ever recorded: all of it masked */
        if (vigil_policy_record(c->policy)->input) {
                r = vigil_mask_stream_new(m->set, 0, &m->in);
                if (r < 0)
                        goto fail;
        }
        r = vigil_mask_stream_new(m->set, 0, &m->argv);
        if (r < 0)
                goto fail;
        m->reported = calloc(vigil_mask_set_n_rules(m->set), sizeof(uint64_t));
        if (!m->reported) {
                r = -ENOMEM;
                goto fail;
        }
        return 0;
fail:
        if (!s->error && asprintf(&s->error, "masking: %s", vigil_strerror(r)) < 0)
                s->error = NULL;
        return r;
}

/* @a masked as a whole stream of its own. @return 0 with *ret NULL when
 * nothing in it is masked, 0 with a malloc'd copy when something is, or -errno. */
static int mask_string(masker *m, vigil_mask_stream *ms, const char *a, char **ret)
{
        size_t len = strlen(a);
        int r;

        *ret = NULL;
        m->rec.len = 0;
        r = vigil_mask_stream_feed(ms, a, len, &m->rec, NULL);
        if (r >= 0)
                r = vigil_mask_stream_flush(ms, &m->rec, NULL);
        if (r >= 0 && !(m->rec.len == len && memcmp(m->rec.data, a, len) == 0)) {
                *ret = strndup(m->rec.data, m->rec.len);
                if (!*ret)
                        r = -ENOMEM;
        }
        m->rec.len = 0;
        return r;
}

void masking_argv(session *s, cmd_event *e)
{
        masker *m = &s->mask;
        int r = 0;

        if (!m->argv || m->poisoned)
                return;
        for (size_t i = 0; i < e->argv.n && r >= 0; i++) {
                char *masked;

                r = mask_string(m, m->argv, e->argv.v[i], &masked);
                if (r < 0 || !masked)
                        continue;
                explicit_bzero(e->argv.v[i], strlen(e->argv.v[i]));
                free(e->argv.v[i]);
                e->argv.v[i] = masked;
        }
        if (r < 0)
                mask_failed(s, r);
}

int masking_copy_argv(session *s, char *const *argv, strv *ret)
{
        masker *m = &s->mask;
        vigil_mask_stream *ms = NULL;
        strv v = { 0 };
        int r = 0;

        /* a stream of its own: the command's own event counts its maskings */
        if (m->set)
                r = vigil_mask_stream_new(m->set, 0, &ms);
        for (size_t i = 0; argv[i] && r >= 0; i++) {
                _cleanup_free_ char *masked = NULL;

                if (ms)
                        r = mask_string(m, ms, argv[i], &masked);
                if (r >= 0)
                        r = strv_push(&v, masked ? masked : argv[i]);
        }
        vigil_mask_stream_free(ms);
        if (r < 0) {
                strv_clear(&v);
                return r;
        }
        *ret = v;
        return 0;
}

/* The session's terminal reads lines without echoing them: a password
 * prompt (sudo, passwd, ssh). A full-screen program turns echo off too, but
 * also reads characters one by one (no ICANON); it echoes what it wants. */
static bool secret_prompt(const session *s)
{
        struct termios t;

        return s->io.mode == VIGIL_IO_PTY && tcgetattr(s->io.leader, &t) == 0 && !(t.c_lflag & ECHO) &&
               (t.c_lflag & ICANON);
}

#define NO_ECHO_MARK "[MASKED:no-echo]"

void masking_input(session *s, const void *buf, size_t n)
{
        masker *m = &s->mask;
        bool hidden = secret_prompt(s);
        int r;

        /* what is typed at a password prompt is not echoed: nothing of the
         * output is its echo, and none of it is recorded */
        if (m->out[0] && s->io.mode == VIGIL_IO_PTY) {
                if (hidden)
                        vigil_mask_stream_clear_echo(m->out[0]);
                else
                        vigil_mask_stream_expect_echo(m->out[0], buf, n);
        }
        if (hidden && vigil_policy_record(s->cfg->policy)->input) {
                /* one mark per line typed at the prompt */
                if (!m->no_echo_run) {
                        record_input(s, NO_ECHO_MARK, strlen(NO_ECHO_MARK));
                        record_masked(s, "no-echo", 1);
                        m->no_echo_run = true;
                }
                if (memchr(buf, '\r', n) || memchr(buf, '\n', n)) {
                        record_input(s, "\n", 1);
                        m->no_echo_run = false;
                }
                return;
        }
        m->no_echo_run = false;
        if (!vigil_policy_record(s->cfg->policy)->input) {
                /* not kept, only counted (the store drops the bytes) */
                record_input(s, buf, n);
                return;
        }
        if (!m->in) {
                record_input(s, buf, n);
                return;
        }
        if (m->poisoned)
                return;
        r = vigil_mask_stream_feed(m->in, buf, n, &m->rec_in, NULL);
        if (m->rec_in.len > 0)
                record_input(s, m->rec_in.data, m->rec_in.len);
        m->rec_in.len = 0;
        if (r < 0)
                mask_failed(s, r);
}

void masking_finish(session *s)
{
        masker *m = &s->mask;
        int r;

        if (m->poisoned)
                return;
        for (unsigned i = 0; i < 2; i++) {
                if (!m->out[i])
                        continue;
                r = vigil_mask_stream_flush(m->out[i], &m->rec, m->transfer ? NULL : &m->term);
                (void)pass_on(s, &m->filter, i == 1 ? CH_ERR : CH_OUT);
                if (r < 0) {
                        mask_failed(s, r);
                        return;
                }
        }
        if (m->in) {
                r = vigil_mask_stream_flush(m->in, &m->rec_in, NULL);
                if (m->rec_in.len > 0)
                        record_input(s, m->rec_in.data, m->rec_in.len);
                m->rec_in.len = 0;
                if (r < 0)
                        mask_failed(s, r);
        }
}

void masking_report(session *s)
{
        masker *m = &s->mask;
        uint64_t errors = 0;
        size_t n;

        if (!m->set)
                return;
        n = vigil_mask_set_n_rules(m->set);
        for (size_t i = 0; i < n; i++) {
                uint64_t c = 0;
                char origin[4200];
                const char *name = vigil_mask_set_rule_name(m->set, i), *file;
                unsigned line = 0;

                for (unsigned k = 0; k < 2; k++)
                        if (m->out[k])
                                c += vigil_mask_stream_count(m->out[k], i);
                if (m->in)
                        c += vigil_mask_stream_count(m->in, i);
                c += vigil_mask_stream_count(m->argv, i);
                if (c <= m->reported[i])
                        continue;
                /* a regex rule is counted under where it was written */
                file = strcmp(name, "regex") == 0 ? vigil_mask_set_rule_origin(m->set, i, &line) : NULL;
                if (file && snprintf(origin, sizeof(origin), "%s:%u", file, line) < (int)sizeof(origin))
                        name = origin;
                record_masked(s, name, c - m->reported[i]);
                m->reported[i] = c;
        }
        for (unsigned k = 0; k < 2; k++)
                if (m->out[k])
                        errors += vigil_mask_stream_errors(m->out[k]);
        if (m->in)
                errors += vigil_mask_stream_errors(m->in);
        errors += vigil_mask_stream_errors(m->argv);
        if (errors > m->errors_logged) {
                supervisor_log(s, LOG_WARNING, "a mask regex= rule hit PCRE2's match limit %llu time(s): %s",
                               (unsigned long long)(errors - m->errors_logged),
                               "masked, failing closed; the rule is broken");
                m->errors_logged = errors;
        }
}

void masking_done(session *s)
{
        masker *m = &s->mask;

        for (unsigned i = 0; i < 2; i++)
                m->out[i] = vigil_mask_stream_free(m->out[i]);
        m->in = vigil_mask_stream_free(m->in);
        m->argv = vigil_mask_stream_free(m->argv);
        m->set = vigil_mask_set_free(m->set);
        vigil_mask_buf_done(&m->rec);
        vigil_mask_buf_done(&m->term);
        vigil_mask_buf_done(&m->rec_in);
        free(m->reported);
        m->reported = NULL;
}
