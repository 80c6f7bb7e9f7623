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
#include "mask.h"
#include "pidmap.h"
#include "plan.h"
#include "approval.h"
#include "store.h"
#include "supervisor.h"

typedef struct session session;

/* ---- the event loop (loop.c) ------------------------------------------ */

typedef struct watch watch;
typedef void (*watch_fn)(session *s, watch *w, uint32_t events);
struct watch {
        int fd;
        watch_fn fn;
        bool added;
        /* dispatched before the other events of a batch: a process's exit
         * happened before whatever else the batch reports that vigil answers
         * (an exec denied after it prints its line after the exit is
         * recorded, so the exit's output position is the right one) */
        bool first;
};

int loop_add(session *s, watch *w, int fd, watch_fn fn, uint32_t events);
int loop_mod(session *s, watch *w, uint32_t events);
void loop_del(session *s, watch *w);
/* Wait for and dispatch events; @timeout_ms as epoll_wait. @return 0 or -errno. */
int loop_once(session *s, int timeout_ms);
/* An event is due within about @ns (an exec stop, a keystroke's echo): the
 * next loop_once() polls for it that long before it sleeps. */
/* cpufree.c: whether a CPU is idle besides this thread's (polling steals none) */
int cpufree_open(session *s);
bool cpufree_now(session *s);
void loop_expect(session *s, uint64_t ns);

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
        size_t head; /* the first unwritten byte is buf[head] */
        size_t len, cap; /* len: bytes waiting, from head */
        watch w;
        bool armed; /* waiting for the fd to become writable */
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
/* Read what the session has written so far, without blocking (before a
 * command's exec or exit is recorded, so that its output position is right). */
void relay_drain(session *s);
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
/* Read the session again if nothing holds it back any more (the outer
 * terminal's queues, the recording's backlog). */
void relay_resume(session *s);

/* ---- tracing (notify.c, tracer.c, verify.c) -------------------------- */

/* An exec the supervisor allowed and waits to see happen, or (issue 9) one
 * that is held unanswered while the loop serves others. */
typedef struct pending {
        uint64_t id; /* the notification */
        uint64_t t_us;
        exec_input in; /* what was asked for (the event shows it) */
        exec_plan plan;
        cmd_event *ev;      /* an approved hold: its event, recorded already */
        char remembered[9]; /* remember=session: the request whose approval lets it run */
} pending;

void pending_free(pending *pe);
/* Free @pe; an event it still holds (an approved command that never got to
 * its exec) ends, with no exit. */
void pending_end(session *s, pending *pe);
/* Answer a notification: deny (EPERM, a line, an event) or allow (seize,
 * CONTINUE; the exec event checks it). @in and @p are taken over by allow. */
void notify_deny(session *s, uint64_t id, const exec_input *in, const exec_plan *p, uint64_t t_us);
void notify_allow(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us);
/* notify_allow() for a held command: with its event (@ev, taken over: it is
 * ended when the exec does not happen), or as remembered approved by
 * request @remembered (remember=session). */
void notify_allow_held(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us, cmd_event *ev,
                       const char *remembered);
/* Deny with a reason of vigil's own ("(reason)" on the terminal). */
void notify_deny_reason(session *s, uint64_t id, const exec_input *in, exec_plan *p, uint64_t t_us,
                        const char *reason);
int notify_respond(session *s, uint64_t id, int error, bool cont);
bool notify_id_valid(session *s, uint64_t id);
/* A denial (of a hold too) that the same process's immediate retry of the
 * same file and argv gets again silently; notify_recently_denied() asks. */
void notify_note_denied(session *s, const exec_input *in, const exec_plan *p);
bool notify_recently_denied(session *s, const exec_input *in, const exec_plan *p);
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
 * pidfd for @pid (or -1) for its exit. @w: scratch for reading its memory. */
int verify_exec(tracee_window *w, pid_t pid, const exec_plan *p, int pidfd, const char **ret_reason, int *ret_pidfd);

/* procs.c; @pidfd: -1, or one for @pid that is taken over */
proc *proc_get_or_add(session *s, pid_t pid, int pidfd);
void proc_add_event(session *s, proc *p, cmd_event *e);
void proc_exited(session *s, proc *p, bool known, int wait_status);
void procs_finish_all(session *s);

/* ---- holding for approval (hold.c) ----------------------------------- */

/* Commands of one session that may wait for approval at once. */
#define HOLDS_MAX 16u
/* Approvals a session remembers (remember=session). */
#define HOLDS_REMEMBER_MAX 64u
/* How often the store is asked about the requests held. */
#define HOLDS_POLL_MS 200u
/* The environment read from a held execve (the rest is not shown). */
#define HOLD_ENV_MAX 4096u
#define HOLD_ENV_MAX_BYTES (256u * 1024)

typedef struct hold hold;

typedef struct remembered_cmd {
        dev_t dev;
        ino_t ino;
        strv argv; /* as the process passed it */
        char id[9];
} remembered_cmd;

typedef struct approvals {
        hold *holds[HOLDS_MAX];
        size_t n;
        int timerfd; /* armed while something is held */
        watch timer_w;
        bool armed;
        remembered_cmd rem[HOLDS_REMEMBER_MAX];
        size_t n_rem;
        /* the last output, masked (a ring) */
        uint8_t *screen;
        size_t screen_len, screen_pos;
        /* approval_hook's runner (hooks.c) */
        int hook_fd; /* our end of its socket, or -1 */
        watch hook_w;
        pid_t hook_pid;
} approvals;

/* Set up (the poll timer) before the loop runs. @return 0 or -errno. */
int holds_setup(session *s);
/* A notification the policy holds: keep it unanswered and create a request
 * (or deny when that cannot be done). @in and @p are taken over. */
void notify_hold(session *s, uint64_t id, exec_input *in, exec_plan *p, uint64_t t_us);
/* Keep the last screenful of masked output (record_output() calls it). */
void holds_screen(session *s, const void *buf, size_t n);
/* The session ends: every request still held is withdrawn, and what the
 * store may still list as pending of this session is rejected. */
void holds_end_all(session *s);
void holds_done(session *s);

/* approval_hook (hooks.c): start its runner (before the store is opened and
 * the recording's thread started: it forks); tell it of a request created or
 * decided (never waits); stop (the runner finishes what it has, then exits). */
int hooks_start(session *s);
void hooks_request(session *s, const vigil_approval *a);
void hooks_decided(session *s, const vigil_approval *a);
void hooks_stop(session *s);

/* ---- events (session-event.c) ---------------------------------------- */

/* An exec attempt became a command (executed, denied, killed): its command
 * line is masked, then it is recorded. */
void session_event_begin(session *s, cmd_event *e);
/* The same, when the caller has read the session's output up to the exec
 * already (relay_drain()): the event keeps that output position. */
void session_event_begin_drained(session *s, cmd_event *e);
/* The second half of session_event_begin(): record an event already masked. */
void session_event_record(session *s, cmd_event *e);
/* It ended (denied and killed ones at once); writes the --events line and frees @e. */
void session_event_end(session *s, cmd_event *e);

/* ---- recording (record.c) and masking (masking.c) ---------------------- */

typedef struct recq recq;

typedef struct recorder {
        vigil_store *st;
        vigil_session *rs;   /* the store's session; the thread's while it runs */
        recq *q;             /* what the thread is to record (record-worker.h) */
        watch efd_w;         /* the thread's eventfd: backlog drained, or an error */
        uint32_t next_no;    /* the number the store gives the next command */
        bool off;            /* not recording (any more): failed, on_failure decided */
        bool failing;        /* on_failure is being applied (its line passes the pipeline) */
        unsigned cols, rows; /* the last size recorded */
} recorder;

/* Open the store, seal orphans, begin the session's record (after the
 * terminal is set up, before the session's process is forked). On failure
 * with on_failure=kill: s->error is set and the error returned (the session
 * must not start); with continue: 0, the session runs unrecorded. */
int record_open(session *s);
/* Start the recording's thread (after the last fork: the session's process). */
void record_start(session *s);
/* The calls below queue for the thread, with the current time, and apply
 * on_failure themselves; they do nothing once off. */
int record_output(session *s, const void *buf, size_t n);
void record_input(session *s, const void *buf, size_t n);
void record_resize(session *s, unsigned cols, unsigned rows);
void record_command(session *s, cmd_event *e);      /* at exec (or denial) */
void record_command_exit(session *s, cmd_event *e); /* at exit */
/* A held command's outcome (e->decision), into the session's chain. */
void record_approval(session *s, const cmd_event *e, const vigil_approval_outcome *o);
void record_masked(session *s, const char *name, uint64_t n);
/* Each turn of the loop: the masking counts, when they changed. */
void record_tick(session *s);
/* Whether the store is behind (the relay then stops reading the session). */
bool record_backlogged(const session *s);
/* End and seal the record (how: exit, or killed when vigil ended it), stop
 * the thread, close the store. */
void record_close(session *s);
/* One line to the administrator's log (cfg->log, or syslog authpriv). */
void supervisor_log(session *s, int prio, const char *fmt, ...) _printf_(3, 4);

typedef struct masker {
        relay_stage filter;        /* the pipeline's head: mask, record, pass to the terminal */
        vigil_mask_set *set;       /* NULL: the policy masks nothing */
        vigil_mask_stream *out[2]; /* per output channel; pty mode: [0] only */
        vigil_mask_stream *in;     /* input, when it is recorded */
        vigil_mask_stream *argv;   /* command lines of events, one element at a time */
        vigil_mask_buf rec, term, rec_in;
        uint64_t *reported; /* per rule: count already given to the store */
        uint64_t errors_logged;
        bool transfer; /* pipe mode, a file transfer: the terminal gets the bytes as
                        * they are, the streams make the recording's copy only */
        bool poisoned; /* a stream failed: nothing passes any more */
        bool own_line; /* relay_message() is writing vigil's own line */
        bool no_echo_run; /* input at a password prompt: its mark is recorded */
} masker;

/* Compile the policy's mask rules, make the streams and put the filter at
 * the head of the pipeline (after relay_setup()). On failure s->error is set. */
int masking_setup(session *s);
/* Mask the command line of an event (what the store and --events keep;
 * the policy judged the real one). On failure the session fails. */
void masking_argv(session *s, cmd_event *e);
/* A masked copy of @argv (the session's command, for its record). @return 0 or -errno. */
int masking_copy_argv(session *s, char *const *argv, strv *ret);
/* Input from the user: the echo to expect, and the input recording. */
void masking_input(session *s, const void *buf, size_t n);
/* The session's output ended: decide what the streams hold, pass it on. */
void masking_finish(session *s);
/* Give the store the counts since the last report (and log broken rules). */
void masking_report(session *s);
void masking_done(session *s);
/* Whether argv is a file transfer's server end (scp -t/-f, sftp-server,
 * rsync --server), directly or as SHELL -c 'LINE'. */
bool transfer_command(char *const *argv);

/* ---- vigild's hand-over: the control socket and the deadline (control.c) */

#define CONTROL_MAX_CONNS 4u

typedef struct control_conn {
        int fd;
        watch w;
} control_conn;

/* Bind cfg->control_socket and watch it. @return 0 or -errno. */
int control_start(session *s);
/* Close it and remove the socket file. */
void control_stop(session *s);
/* Arm the timer of cfg->deadline (warning, then the end). @return 0, or
 * -ETIME when the deadline has already passed, or -errno. */
int deadline_start(session *s);
void deadline_stop(session *s);

/* ---- the session ----------------------------------------------------- */

struct session {
        const vigil_session_config *cfg;
        char id[40];
        account acct;
        uid_names names;
        exec_cache exec_cache; /* what finding programs remembers (exec-cache.h) */
        plan_env penv;

        int epfd;
        struct epoll_event batch[64]; /* the events being dispatched (loop.c) */
        int batch_n;
        uint64_t poll_until_ns; /* loop.c: poll, not sleep, until then (an exec stop is due) */
        int loadavg_fd;         /* cpufree.c */
        unsigned ncpus;
        int sigfd;
        watch sig_w;
        int listener;
        watch notify_w;
        struct seccomp_notif *req;
        struct seccomp_notif_resp *resp;
        size_t req_size, resp_size;
        tracee_window win; /* the memory of the request or exec being checked */
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

        int control_fd; /* listening, or -1 */
        watch control_w;
        control_conn conns[CONTROL_MAX_CONNS];
        bool control_bound; /* the socket file is ours to remove */
        int deadline_fd;    /* timerfd (CLOCK_REALTIME), or -1 */
        watch deadline_w;
        bool deadline_warned;

        recorder rec;
        masker mask;
        approvals appr;
        bool killed_by_vigil; /* ended by vigil before the command exited */

        char *error; /* the first fatal error, with context */
};

/* Record the first fatal error ("what: detail") and start ending the session. */
void session_fail(session *s, int r, const char *fmt, ...) _printf_(3, 4);
/* Kill every process of the session and let the loop wind down. */
void session_end(session *s, const char *why);
