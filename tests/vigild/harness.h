/* Test harness for vigild: a real daemon process in a private directory,
 * real test users (created and removed by the test, unique per run), and
 * requests sent from a forked child that has become one of those users. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "client.h"
#include "macro.h"
#include "proto.h"

#define H_CHECK(expr)                                                                                       \
        do {                                                                                                \
                if (!(expr)) {                                                                              \
                        fprintf(stderr, "%s:%d: check failed: %s (errno: %s)\n", __FILE__, __LINE__, #expr, \
                                strerror(errno));                                                           \
                        abort();                                                                            \
                }                                                                                           \
        } while (0)

typedef struct tdaemon {
        pid_t pid;
        char dir[256];
        char sock[300];
        char log[300];
        char conf[300];
        const char *exe;
        char *args[32]; /* extra arguments (owned) */
        size_t n_args;
} tdaemon;

/* Make a private directory (root-owned, 0755 so test users can reach the
 * socket) and remember @exe and the extra @args (NULL-terminated). */
void tdaemon_init(tdaemon *d, const char *exe, const char *const *args);
/* Write vigil.conf for the daemon (before start or before a SIGHUP): the
 * keys every vigil.conf needs (issuer, audience, an empty jwks_file, store,
 * a policy path with no file), TDAEMON_CONF_LINES lines, then @text. */
void tdaemon_write_conf(tdaemon *d, const char *text);
#define TDAEMON_CONF_LINES 5
/* How long the harness waits for something that normally takes a moment (a
 * start, an answer, a connection to close): long, for a loaded machine and
 * a sanitizer build. What a test expects to time out is the daemon's own
 * --request-timeout, always well below this. */
#define TDAEMON_WAIT_MS 30000
/* Start it and wait until it answers a ping (TDAEMON_WAIT_MS at most).
 * Returns 0 or -1. */
int tdaemon_start(tdaemon *d);
/* Run it expecting it to exit on its own (a start that must fail): returns
 * its exit status, or -1 if it still ran after TDAEMON_WAIT_MS (then it is
 * killed). */
int tdaemon_run_once(tdaemon *d);
/* SIGTERM and reap; returns the exit status (or 128+signal). */
int tdaemon_stop(tdaemon *d);
/* SIGKILL and reap. */
void tdaemon_kill9(tdaemon *d);
/* Remove the directory and its files; stop the daemon if it still runs. */
void tdaemon_cleanup(tdaemon *d);
/* Does the daemon's log contain @needle? */
bool tdaemon_log_has(const tdaemon *d, const char *needle);
/* Number of fds the daemon process has open. */
int tdaemon_fd_count(const tdaemon *d);
/* Connections to the daemon's socket it has not closed yet (accepted or still
 * in its backlog), as /proc/net/unix shows them; -1 when it cannot be read. */
int tdaemon_connections(const tdaemon *d);
/* Wait until the daemon holds no connection (TDAEMON_WAIT_MS at most): the
 * clients of earlier steps are gone from it. Whether it holds none. */
bool tdaemon_wait_idle(const tdaemon *d);
/* The fd count once the daemon holds no connection and the count stopped
 * changing: two samples 50 ms apart that agree, within 3 s. */
int tdaemon_fd_count_settled(const tdaemon *d);

/* Test users: plain, auditor (member of an auditors group), responder
 * (member of a responders group), named vd<pid>p/a/r, groups vd<pid>ga/gr. */
typedef struct tusers {
        char plain[32], auditor[32], responder[32];
        char g_aud[32], g_resp[32];
        uid_t plain_uid, auditor_uid, responder_uid;
        gid_t plain_gid, auditor_gid, responder_gid;
        bool created;
} tusers;

int tusers_create(tusers *u);
void tusers_remove(tusers *u);

/* A field to put in a request. */
typedef struct tfield {
        uint16_t tag;
        char kind; /* 's' string, 'r' raw bytes (len), 'i' i64, 'u' u32, 'b' bool */
        const char *s;
        size_t len;
        int64_t i;
} tfield;
#define TS(tag, str) ((tfield){ tag, 's', str, 0, 0 })
#define TI(tag, v) ((tfield){ tag, 'i', NULL, 0, v })
#define TU(tag, v) ((tfield){ tag, 'u', NULL, 0, v })
#define TB(tag, v) ((tfield){ tag, 'b', NULL, 0, v })
#define TR(tag, p, n) ((tfield){ tag, 'r', p, n, 0 })
#define TEND ((tfield){ 0, 0, NULL, 0, 0 })

/* What came back. */
typedef struct tresult {
        int transport; /* 0, or the client library's negative code */
        uint32_t status;
        char error[600];
        char ref[80], handle[80], session[80], subject[300];
        size_t n_groups, n_fds;
        char fd_text[512]; /* what could be read from the first reply fd, if any */
} tresult;

/* Send one request from a process running as @uid (with its groups: the
 * account @user's, from initgroups), wait for the final reply. @fds are
 * passed as they are (a child inherits them). -1 as @uid: stay root. */
tresult tcall_as(const tdaemon *d, const char *user, uint16_t type, const tfield *fields, const int *fds,
                 size_t n_fds);
/* The same as root, in this process. */
tresult tcall(const tdaemon *d, uint16_t type, const tfield *fields, const int *fds, size_t n_fds);

/* What a streamed request (sessions.list, session.watch, session.replay)
 * brought: its items and its final reply. */
typedef struct tstream {
        int transport; /* 0, or the client library's negative code */
        uint32_t status;
        char error[600];
        size_t n_items, n_json; /* all items; those with a JSON `item` */
        char items[32768];      /* the JSON items, one per line, as many as fit */
        size_t data_bytes;      /* output bytes in `data` items */
        uint64_t hash;          /* FNV-1a of those bytes, in order */
} tstream;

/* Send a request from a process running as @user (NULL: root), read every
 * item and the final reply. */
tstream tstream_as(const tdaemon *d, const char *user, uint16_t type, const tfield *fields);
/* FNV-1a of a file's bytes (as tstream.hash), and its length. */
uint64_t thash_file(const char *path, size_t *ret_len);
/* Number of processes whose parent is @parent. */
int tchildren_of(pid_t parent);

/* Build a request into @b from @fields (no checks beyond the builder's). */
void tbuild(vmsg_builder *b, uint16_t type, uint32_t id, const tfield *fields);

/* Connect (as this process), with a raw datagram: returns the fd. */
int traw_connect(const tdaemon *d);
/* Send raw bytes (+fds); receive one reply's status and error line.
 * Returns 0, or -errno when nothing came back (EOF counts as -ECONNRESET). */
int traw_roundtrip(int fd, const void *buf, size_t len, const int *fds, size_t n_fds, uint32_t *ret_status,
                   char *ret_error, size_t errlen);

/* Become @user (groups, gid, uid; checked). For forked children. */
int tbecome(const char *user);

/* Run @fn(@arg) in a child that became @user; returns its exit status. */
int trun_as(const char *user, int (*fn)(void *), void *arg);

int64_t tnow_ms(void);
