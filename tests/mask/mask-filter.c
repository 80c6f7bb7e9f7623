/* mask-filter: stdin -> masker -> stdout, for tests and for trying rules.
 *
 *   mask-filter [--policy FILE] [--detectors all|NAME,...] [--regex RE [--replace TEXT]]...
 *               [--chunk N | --random-chunks MAX --seed S] [--term FILE]
 *               [--echo TEXT] [--sniff] [--counts] [--held] [--no-prefilter]
 *
 * --policy takes the mask statements of a policy file (and nothing else).
 * stdout gets the recording's copy; --term FILE the terminal's copy. Input is
 * fed in chunks of N bytes (default: as read). --echo TEXT declares TEXT as
 * typed before the first feed. --counts prints "NAME COUNT" per rule to
 * stderr at the end, --held prints the held byte count after every feed.
 * Exit 0, or 1 with a one-line message on stderr. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mask.h"
#include "mask-internal.h"

static int write_all(int fd, const char *p, size_t n)
{
        while (n > 0) {
                ssize_t w = write(fd, p, n);

                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t)w;
        }
        return 0;
}

static int drain(vigil_mask_buf *rec, vigil_mask_buf *term, int term_fd)
{
        int k = write_all(STDOUT_FILENO, rec->data, rec->len);

        rec->len = 0;
        if (k >= 0 && term_fd >= 0)
                k = write_all(term_fd, term->data, term->len);
        term->len = 0;
        return k;
}

static int usage(const char *msg)
{
        fprintf(stderr, "mask-filter: %s\n", msg);
        return 1;
}

int main(int argc, char **argv)
{
        vigil_mask_rule rules[VIGIL_MASK_MAX_RULES];
        size_t n = 0, chunk = 0, rmax = 0;
        unsigned seed = 1, flags = 0;
        const char *term_path = NULL, *echo = NULL;
        bool counts = false, held = false, no_pre = false;
        vigil_mask_set *set = NULL;
        vigil_mask_stream *s = NULL;
        vigil_mask_buf rec = {0}, term = {0};
        char *err = NULL, buf[65536];
        int term_fd = -1, k;
        char *lists[16];
        size_t n_lists = 0;
        vigil_policy *policy = NULL;

        for (int i = 1; i < argc; i++) {
                const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (strcmp(a, "--detectors") == 0 && v && n_lists < sizeof(lists) / sizeof(lists[0])) {
                        char *list = strdup(v), *save = NULL;

                        i++;
                        for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                                if (strcmp(t, "all") == 0) {
                                        for (size_t d = 0;
                                             vigil_mask_detectors[d] && n < VIGIL_MASK_MAX_RULES; d++)
                                                rules[n++] = (vigil_mask_rule){
                                                        .detector = vigil_mask_detectors[d]};
                                } else if (n < VIGIL_MASK_MAX_RULES) {
                                        rules[n++] = (vigil_mask_rule){.detector = t};
                                }
                        }
                        if (n_lists < sizeof(lists) / sizeof(lists[0]))
                                lists[n_lists++] = list; /* the rules point into it */
                } else if (strcmp(a, "--policy") == 0 && v && !policy) {
                        vigil_diags d = {0};

                        if (vigil_policy_load(v, &policy, &d) < 0) {
                                fprintf(stderr, "mask-filter: %s:%u: %s\n", v, d.n ? d.items[0].line : 0,
                                        d.n ? d.items[0].message : "cannot load");
                                vigil_diags_clear(&d);
                                return 1;
                        }
                        vigil_diags_clear(&d);
                        for (size_t j = 0; j < vigil_policy_n_masks(policy) && n < VIGIL_MASK_MAX_RULES; j++)
                                rules[n++] = *vigil_policy_mask(policy, j);
                        i++;
                } else if (strcmp(a, "--regex") == 0 && v && n < VIGIL_MASK_MAX_RULES) {
                        rules[n] = (vigil_mask_rule){.regex = v, .file = "--regex", .line = (unsigned)n + 1};
                        n++;
                        i++;
                } else if (strcmp(a, "--replace") == 0 && v && n > 0) {
                        rules[n - 1].replace = v;
                        i++;
                } else if (strcmp(a, "--chunk") == 0 && v) {
                        chunk = strtoul(v, NULL, 10);
                        i++;
                } else if (strcmp(a, "--random-chunks") == 0 && v) {
                        rmax = strtoul(v, NULL, 10);
                        i++;
                } else if (strcmp(a, "--seed") == 0 && v) {
                        seed = (unsigned)strtoul(v, NULL, 10);
                        i++;
                } else if (strcmp(a, "--term") == 0 && v) {
                        term_path = v;
                        i++;
                } else if (strcmp(a, "--echo") == 0 && v) {
                        echo = v;
                        i++;
                } else if (strcmp(a, "--sniff") == 0) {
                        flags |= VIGIL_MASK_SNIFF_BINARY;
                } else if (strcmp(a, "--counts") == 0) {
                        counts = true;
                } else if (strcmp(a, "--held") == 0) {
                        held = true;
                } else if (strcmp(a, "--no-prefilter") == 0) {
                        no_pre = true;
                } else {
                        return usage("unknown or incomplete option (see the comment at the top of "
                                     "mask-filter.c)");
                }
        }
        k = vigil_mask_set_new(rules, n, &set, &err);
        if (k < 0) {
                fprintf(stderr, "mask-filter: %s\n", err ? err : strerror(-k));
                return 1;
        }
        if (vigil_mask_stream_new(set, flags, &s) < 0)
                return usage("out of memory");
        if (no_pre)
                mask_stream_debug_no_prefilter(s);
        if (term_path) {
                term_fd = open(term_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (term_fd < 0)
                        return usage("cannot open --term file");
        }
        if (echo)
                vigil_mask_stream_expect_echo(s, echo, strlen(echo));
        srand(seed);
        for (;;) {
                ssize_t r = read(STDIN_FILENO, buf, sizeof(buf));
                size_t off = 0;

                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return usage("read error");
                if (r == 0)
                        break;
                while (off < (size_t)r) {
                        size_t m = (size_t)r - off;

                        if (rmax)
                                m = 1 + (size_t)rand() % rmax;
                        else if (chunk)
                                m = chunk;
                        if (m > (size_t)r - off)
                                m = (size_t)r - off;
                        k = vigil_mask_stream_feed(s, buf + off, m, &rec, term_fd >= 0 ? &term : NULL);
                        if (k < 0)
                                return usage(strerror(-k));
                        if (held)
                                fprintf(stderr, "held %zu\n", vigil_mask_stream_held(s));
                        if (drain(&rec, &term, term_fd) < 0)
                                return usage("write error");
                        off += m;
                }
        }
        k = vigil_mask_stream_flush(s, &rec, term_fd >= 0 ? &term : NULL);
        if (k < 0 || drain(&rec, &term, term_fd) < 0)
                return usage("flush failed");
        if (counts)
                for (size_t i = 0; i < vigil_mask_set_n_rules(set); i++)
                        fprintf(stderr, "%s %" PRIu64 "\n", vigil_mask_set_rule_name(set, i),
                                vigil_mask_stream_count(s, i));
        if (term_fd >= 0)
                close(term_fd);
        vigil_mask_buf_done(&rec);
        vigil_mask_buf_done(&term);
        vigil_mask_stream_free(s);
        vigil_mask_set_free(set);
        free(err);
        for (size_t i = 0; i < n_lists; i++)
                free(lists[i]);
        vigil_policy_free(policy);
        return 0;
}
