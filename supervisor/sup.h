/* The supervisor's internal state, shared by its files. Not an interface:
 * supervisor.h is. */
#pragma once

#include <linux/filter.h>
#include <sys/epoll.h>
#include <linux/seccomp.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <termios.h>

#include "cgroup.h"
#include "event.h"
#include "macro.h"
#include "pidmap.h"
#include "plan.h"
#include "supervisor.h"

typedef struct session session;

/* ---- the event loop (loop.c) ------------------------------------------ */

typedef struct watch watch;
typedef void (*watch_fn)(session *s, watch *w, uint32_t events);
struct watch {
        int fd;
        watch_fn fn;
        bool added;
};

int loop_add(session *s, watch *w, int fd, watch_fn fn, uint32_t events);
int loop_mod(session *s, watch *w, uint32_t events);
void loop_del(session *s, watch *w);
/* Wait for and dispatch events; @timeout_ms as epoll_wait. @return 0 or -errno. */
int loop_once(session *s, int timeout_ms);

/* ---- the account (account.c) ------------------------------------------ */

typedef struct account {
        char *name, *home, *shell;
        uid_t uid;
        gid_t gid;
        gid_t *gids; /* supplementary groups, for setgroups() */
        size_t n_gids;
        char **group_names; /* the same, by name, for the policy's group= */
        size_t n_group_names;
} account;

int account_lookup(const char *name, account *ret);
void account_done(account *a);

/* ---- the output pipeline and the terminal (relay.c, pty.c, pipes.c) -- */

enum { CH_OUT = 0, CH_ERR = 1 };

/* One step of the output pipeline: bytes of channel @ch go in, and the
 * stage passes what it makes of them to ->next. The last stage is the
 * outer terminal. Masking (issue 5) is a stage before it, recording
 * (issue 4) a stage that keeps what it sees and passes it on. */
typedef struct relay_stage relay_stage;
struct relay_stage {
        int (*write)(session *s, relay_stage *st, unsigned ch, const void *buf, size_t n);
        relay_stage *next;
};

/* Bytes waiting for a non-blocking fd. */
typedef struct outq {
        int fd;
        bool sock, owned, dead;
        uint8_t *buf;
        size_t len, cap;
        watch w;
        bool armed;
} outq;

typedef struct relay {
        vigil_io_mode mode;
        /* outer side */
        int in_fd; /* reopened non-blocking, or the caller's */
        bool in_sock, in_owned, in_eof, in_tty, in_regular;
        watch in_w;
        outq out[2];
        int tty_fd; /* the caller's terminal (for termios), or -1 */
        struct termios saved;
        bool raw;
        /* session side */
        int leader;        /* pty: the leader */
        int child_end[3];  /* the child's ends: pty follower x1, or pipes (stdin r, stdout w, stderr w) */
        int from_child[2]; /* pipes: our read ends of stdout and stderr */
        watch from_w[2];
        bool from_eof[2];
        outq to_child; /* stdin bytes for the pty leader or the stdin pipe */
        bool read_paused;
        relay_stage sink;
        relay_stage *head;
} relay;

int relay_setup(session *s);       /* before the fork */
int relay_child_setup(session *s); /* in the child: the fds 0, 1, 2 */
int relay_start(session *s);       /* after the fork */
int relay_output(session *s, unsigned ch, const void *buf, size_t n);
void relay_message(session *s, const char *fmt, ...) _printf_(2, 3);
void relay_winch(session *s);
/* Read input that cannot be polled (a regular file). @return true when more is left. */
bool relay_pump(session *s);
void relay_after_stop(session *s);
/* Read what the session left, until EOF or @deadline_ns; flush toward the
 * outer side. @return true when everything was read and written. */
bool relay_finish(session *s, uint64_t deadline_ns);
void relay_restore(session *s);
void relay_done(session *s);
bool relay_session_eof(const session *s);

/* pty.c / pipes.c, used by relay.c */
int pty_setup(session *s);
int pty_child_setup(session *s);
int pty_start(session *s);
int pipes_setup(session *s);
int pipes_child_setup(session *s);
int pipes_start(session *s);
void relay_session_readable(session *s, watch *w, uint32_t events);
void relay_pause_reading(session *s, bool pause);

/* ---- tracing (notify.c, tracer.c, verify.c) -------------------------- */

/* An exec the supervisor allowed and waits to see happen, or (issue 9) one
 * that is held unanswered while the loop serves others. */
typedef struct pending {
        uint64_t id; /* the notification */
        uint64_t t_us;
        exec_input in; /* what was asked for (the event shows it) */
        exec_plan plan;
} pending;

void pending_free(pending *pe);
/* Answer a notification: deny (EPERM, a line, an event) or allow (seize,
 * CONTINUE; the exec event checks it). @in and @p are taken over by allow. */
void notify_deny(session *s, uint64_t id, const exec_input *in, const exec_plan *p, uint64_t t_us);
void notify_allow(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us);
/* The event of an exec attempt, from what was asked for. */
cmd_event *notify_event_new(const exec_input *in, const exec_plan *p, uint64_t t_us, cmd_decision d);

typedef enum task_state {
        TASK_IDLE,       /* seized, nothing expected (its exec failed) */
        TASK_AWAIT_EXEC, /* answered CONTINUE: the exec event will come */
        TASK_LDSO,       /* a loader run as a command: watching it map its program */
} task_state;

/* A thread the supervisor has PTRACE_SEIZEd, by thread id. */
typedef struct task {
        pid_t tid;
        task_state state;
        pending *pe;
        unsigned ldso_steps;
        int ldso_nr;   /* the syscall entered last (TASK_LDSO) */
        cmd_event *ev; /* TASK_LDSO: the event to turn into "killed" */
} task;

/* A process whose image was verified, by pid: its events wait for its exit. */
typedef struct proc {
        pid_t pid;
        int pidfd;
        watch w;
        cmd_event *events; /* newest first */
        size_t n_events;
} proc;

void notify_readable(session *s, watch *w, uint32_t events);
void tracer_reap(session *s);
void tracer_detach_all(session *s);
/* verify.c: @return 0 when the new image is what @p allowed, else 1 with a
 * reason. @pidfd (-1, or one for @pid) is taken over; *ret_pidfd gets a
 * pidfd for @pid (or -1) for its exit. */
int verify_exec(pid_t pid, const exec_plan *p, int pidfd, const char **ret_reason, int *ret_pidfd);

/* procs.c; @pidfd: -1, or one for @pid that is taken over */
proc *proc_get_or_add(session *s, pid_t pid, int pidfd);
void proc_add_event(session *s, proc *p, cmd_event *e);
void proc_exited(session *s, proc *p, bool known, int wait_status);
void procs_finish_all(session *s);

/* ---- events (session-event.c) ---------------------------------------- */

/* An exec attempt became a command (executed, denied, killed). */
void session_event_begin(session *s, cmd_event *e);
/* It ended (denied and killed ones at once); writes the --events line and frees @e. */
void session_event_end(session *s, cmd_event *e);

/* ---- the session ----------------------------------------------------- */

struct session {
        const vigil_session_config *cfg;
        char id[40];
        account acct;
        uid_names names;
        plan_env penv;

        int epfd;
        struct epoll_event batch[64]; /* the events being dispatched (loop.c) */
        int batch_n, batch_next;
        int sigfd;
        watch sig_w;
        int listener;
        watch notify_w;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        size_t req_size, resp_size;
        struct sock_fprog prog;

        session_cgroup cg;
        int timerfd;
        watch timer_w;

        pid_t child;
        bool child_exited;
        int child_status;
        bool ending;
        uint64_t end_deadline_ns;
        uint64_t term_deadline_ns; /* SIGTERM/SIGHUP received: end by then */

        pid_t watchdog;
        int watchdog_fd;
        int watchdog_pidfd;
        watch watchdog_w;

        pidmap tasks; /* tid -> task */
        pidmap procs; /* pid -> proc */
        relay io;

        bool relay_started; /* the child may go on: from here on, the session runs */
        bool nofile_raised;
        struct rlimit nofile_saved;
        struct {
                pid_t tgid;
                dev_t dev;
                ino_t ino;
                uint64_t argv_hash, mono_ns;
        } last_deny;
        bool events_failed;
        char *error; /* the first fatal error, with context */
};

/* Record the first fatal error ("what: detail") and start ending the session. */
void session_fail(session *s, int r, const char *fmt, ...) _printf_(3, 4);
/* Kill every process of the session and let the loop wind down. */
void session_end(session *s, const char *why);
