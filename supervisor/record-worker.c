/* The recording's writer thread: see record-worker.h. */
#include <errno.h>
#include <pthread.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "macro.h"
#include "record-worker.h"
#include "vigil-error.h"

/* A batch: the thread takes what is queued once this much is there, or
 * RECQ_GATHER_MS after the first write of the batch came. */
#define RECQ_BATCH (256u * 1024)
#define RECQ_GATHER_MS 10

typedef enum op_type {
        OP_OUTPUT,
        OP_INPUT,
        OP_RESIZE,
        OP_COMMAND,
        OP_EXIT,
        OP_MASKED,
        OP_APPROVAL,
} op_type;

typedef struct op {
        struct op *next;
        op_type type;
        uint64_t t_us;
        size_t len; /* OUTPUT/INPUT: bytes in data */
        union {
                struct {
                        unsigned cols, rows;
                } resize;
                struct {
                        vigil_command_info info; /* strings point into data */
                        uint32_t no;
                } cmd;
                struct {
                        uint32_t no;
                        int status, decision;
                } exit;
                uint64_t masked; /* MASKED: the count; data: the name */
                vigil_approval_outcome appr; /* APPROVAL: strings point into data */
        };
        alignas(max_align_t) unsigned char data[];
} op;

struct recq {
        vigil_store *st;
        vigil_session *rs;
        int efd;
        pthread_t thread;
        bool started;

        pthread_mutex_t lock;
        pthread_cond_t cond;
        op *head, **tail;
        size_t bytes;    /* queued OUTPUT/INPUT bytes */
        bool backlogged; /* bytes went over RECQ_HIGH and not yet below RECQ_LOW */
        bool finishing;  /* end the session once the queue is empty */
        bool stopping;   /* leave now */
        uint64_t end_t_us;
        int end_status;
        vigil_end_how end_how;
        int error; /* the first store error (sticky) */
        char msg[512];
        bool done; /* the thread has left */
        bool unsignaled; /* ops wait that the thread was not woken for */
};

/* The first error, with what failed and the store's message. Called
 * without the lock held (the store's message is this thread's to read). */
static void set_error_msg(recq *q, int r, const char *msg)
{
        pthread_mutex_lock(&q->lock);
        if (!q->error) {
                (void)snprintf(q->msg, sizeof(q->msg), "%s", msg);
                q->error = r;
        }
        pthread_mutex_unlock(&q->lock);
}

static void set_error(recq *q, int r, const char *what)
{
        const char *m = vigil_store_errmsg(q->st);
        char msg[512];

        (void)snprintf(msg, sizeof(msg), "%s: %s", what, m && *m ? m : vigil_strerror(r));
        set_error_msg(q, r, msg);
}

static bool failed(recq *q)
{
        bool f;

        pthread_mutex_lock(&q->lock);
        f = q->error != 0;
        pthread_mutex_unlock(&q->lock);
        return f;
}

static void wake_main(recq *q)
{
        uint64_t one = 1;

        (void)!write(q->efd, &one, sizeof(one));
}

static void ops_free(op *o)
{
        while (o) {
                op *next = o->next;

                free(o);
                o = next;
        }
}

/* One store call; @return 0 or the error (the store's message set). */
static int apply(recq *q, op *o)
{
        uint32_t no;
        int r = 0;

        switch (o->type) {
        case OP_OUTPUT:
                r = vigil_session_output(q->rs, o->t_us, o->data, o->len);
                if (r < 0)
                        set_error(q, r, "output");
                break;
        case OP_INPUT:
                r = vigil_session_input(q->rs, o->t_us, o->data, o->len);
                if (r < 0)
                        set_error(q, r, "input");
                break;
        case OP_RESIZE:
                r = vigil_session_resize(q->rs, o->t_us, (uint16_t)o->resize.cols, (uint16_t)o->resize.rows);
                if (r < 0)
                        set_error(q, r, "resize");
                break;
        case OP_COMMAND:
                r = vigil_session_command(q->rs, &o->cmd.info, &no);
                if (r >= 0 && no != o->cmd.no) {
                        /* the relay's numbering and the store's disagree: the
                         * exits that follow would be recorded on the wrong commands */
                        char msg[128];

                        r = -EPROTO;
                        (void)snprintf(msg, sizeof(msg), "command: numbered %u by the store, %u by vigil",
                                       no, o->cmd.no);
                        set_error_msg(q, r, msg);
                } else if (r < 0)
                        set_error(q, r, "command");
                break;
        case OP_EXIT:
                r = vigil_session_command_exit(q->rs, o->exit.no, o->t_us, o->exit.status, o->exit.decision);
                if (r == -ENOENT)
                        r = 0; /* nothing of it could exit (denied): nothing to end */
                if (r < 0)
                        set_error(q, r, "command exit");
                break;
        case OP_MASKED:
                r = vigil_session_masked(q->rs, (const char *)o->data, o->masked);
                if (r < 0)
                        set_error(q, r, "masking counts");
                break;
        case OP_APPROVAL:
                r = vigil_session_approval(q->rs, &o->appr);
                if (r == -ENOENT)
                        r = 0; /* its command was not recorded as held */
                if (r < 0)
                        set_error(q, r, "approval");
                break;
        }
        return r;
}

static void deadline(struct timespec *ts, int ms)
{
        clock_gettime(CLOCK_MONOTONIC, ts);
        ts->tv_sec += ms / 1000;
        ts->tv_nsec += (long)(ms % 1000) * 1000000L;
        if (ts->tv_nsec >= 1000000000L) {
                ts->tv_sec++;
                ts->tv_nsec -= 1000000000L;
        }
}

static void *worker(void *userdata)
{
        recq *q = userdata;

        pthread_mutex_lock(&q->lock);
        for (;;) {
                op *batch;
                size_t bytes = 0;
                int r = 0, due;

                while (!q->head && !q->stopping && !q->finishing) {
                        due = q->error ? -1 : vigil_session_flush_timeout_ms(q->rs);
                        if (due == 0)
                                break;
                        if (due < 0)
                                pthread_cond_wait(&q->cond, &q->lock);
                        else {
                                struct timespec ts;

                                deadline(&ts, due);
                                if (pthread_cond_timedwait(&q->cond, &q->lock, &ts) == ETIMEDOUT)
                                        break;
                        }
                }
                /* after the wake-up for the first write, not before the wait for it */
                if (q->head && q->bytes < RECQ_BATCH && !q->stopping && !q->finishing) {
                        /* gather a batch: one wake-up per many writes, not one per write
                         * (the terminal never waits for this) */
                        struct timespec ts;

                        deadline(&ts, RECQ_GATHER_MS);
                        while (q->bytes < RECQ_BATCH && !q->stopping && !q->finishing &&
                               pthread_cond_timedwait(&q->cond, &q->lock, &ts) != ETIMEDOUT)
                                ;
                }
                if (q->stopping)
                        break;
                batch = q->head;
                q->head = NULL;
                q->tail = &q->head;
                pthread_mutex_unlock(&q->lock);

                /* the store calls, outside the lock: the relay keeps queueing */
                for (op *o = batch; o; o = o->next) {
                        if (o->type == OP_OUTPUT || o->type == OP_INPUT)
                                bytes += o->len;
                        if (r >= 0)
                                r = apply(q, o);
                }
                ops_free(batch);
                if (r >= 0 && !failed(q) && (r = vigil_session_flush(q->rs, false)) < 0)
                        set_error(q, r, "commit");

                pthread_mutex_lock(&q->lock);
                q->bytes -= bytes;
                if (q->error) {
                        /* nothing more is written: drop what came meanwhile */
                        ops_free(q->head);
                        q->head = NULL;
                        q->tail = &q->head;
                        q->bytes = 0;
                        wake_main(q);
                }
                if (q->backlogged && q->bytes < RECQ_LOW) {
                        __atomic_store_n(&q->backlogged, false, __ATOMIC_RELAXED);
                        wake_main(q);
                }
                if (q->finishing && !q->head)
                        break;
        }
        if (q->finishing && !q->stopping && !q->error) {
                int r;

                pthread_mutex_unlock(&q->lock);
                r = vigil_session_end(q->rs, q->end_t_us, q->end_status, q->end_how);
                if (r < 0)
                        set_error(q, r, "end");
                pthread_mutex_lock(&q->lock);
        }
        q->done = true;
        pthread_mutex_unlock(&q->lock);
        return NULL;
}

int recq_new(vigil_store *st, vigil_session *rs, recq **ret, int *ret_fd)
{
        recq *q = calloc(1, sizeof(*q));
        pthread_condattr_t ca;

        if (!q)
                return -ENOMEM;
        q->st = st;
        q->rs = rs;
        q->tail = &q->head;
        q->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (q->efd < 0) {
                int r = negative_errno();

                free(q);
                return r;
        }
        pthread_mutex_init(&q->lock, NULL);
        /* deadlines are on the monotonic clock (deadline()) */
        if (pthread_condattr_init(&ca) != 0 || pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
            pthread_cond_init(&q->cond, &ca) != 0) {
                pthread_mutex_destroy(&q->lock);
                (void)close(q->efd);
                free(q);
                return -ENOMEM;
        }
        pthread_condattr_destroy(&ca);
        *ret = q;
        *ret_fd = q->efd;
        return 0;
}

int recq_start(recq *q)
{
        int r = pthread_create(&q->thread, NULL, worker, q);

        if (r != 0)
                return -r;
        q->started = true;
        return 0;
}

/* Queue @o (taken over). */
static int push(recq *q, op *o)
{
        int r;

        pthread_mutex_lock(&q->lock);
        r = q->error;
        if (r == 0 && !q->done) {
                bool was_empty = !q->head, was_small = q->bytes < RECQ_BATCH;

                *q->tail = o;
                q->tail = &o->next;
                if (o->type == OP_OUTPUT || o->type == OP_INPUT) {
                        q->bytes += o->len;
                        if (q->bytes > RECQ_HIGH)
                                __atomic_store_n(&q->backlogged, true, __ATOMIC_RELAXED);
                }
                /* Wake the thread when a batch is full; a new batch waits for
                 * recq_kick(), so that no wake-up (a system call, often a
                 * cross-CPU interrupt) delays the relay between a keystroke
                 * and its echo. */
                if (was_small && q->bytes >= RECQ_BATCH) {
                        pthread_cond_signal(&q->cond);
                        q->unsignaled = false;
                } else if (was_empty)
                        q->unsignaled = true;
                o = NULL;
        }
        pthread_mutex_unlock(&q->lock);
        free(o);
        return r;
}

static op *op_new(op_type type, uint64_t t_us, size_t extra)
{
        op *o = malloc(sizeof(*o) + extra);

        if (!o)
                return NULL;
        memset(o, 0, sizeof(*o));
        o->type = type;
        o->t_us = t_us;
        return o;
}

static int push_bytes(recq *q, op_type type, uint64_t t_us, const void *buf, size_t n)
{
        op *o = op_new(type, t_us, n);

        if (!o)
                return -ENOMEM;
        o->len = n;
        memcpy(o->data, buf, n);
        return push(q, o);
}

int recq_output(recq *q, uint64_t t_us, const void *buf, size_t n)
{
        return push_bytes(q, OP_OUTPUT, t_us, buf, n);
}

int recq_input(recq *q, uint64_t t_us, const void *buf, size_t n)
{
        return push_bytes(q, OP_INPUT, t_us, buf, n);
}

int recq_resize(recq *q, uint64_t t_us, unsigned cols, unsigned rows)
{
        op *o = op_new(OP_RESIZE, t_us, 0);

        if (!o)
                return -ENOMEM;
        o->resize.cols = cols;
        o->resize.rows = rows;
        return push(q, o);
}

static size_t str_size(const char *s)
{
        return s ? strlen(s) + 1 : 0;
}

static char *str_put(char **p, const char *s)
{
        char *at = *p;

        if (!s)
                return NULL;
        memcpy(at, s, strlen(s) + 1);
        *p += strlen(s) + 1;
        return at;
}

int recq_command(recq *q, const vigil_command_info *c, uint32_t no)
{
        size_t size = c->argc * sizeof(char *) + str_size(c->runas) + str_size(c->cwd) + str_size(c->exe) +
                      str_size(c->rule);
        const char **argv;
        char *p;
        op *o;

        for (size_t i = 0; i < c->argc; i++)
                size += str_size(c->argv[i] ? c->argv[i] : "");
        o = op_new(OP_COMMAND, c->time_us, size);
        if (!o)
                return -ENOMEM;
        /* the pointer array first (aligned), then the strings */
        argv = (const char **)(void *)o->data;
        p = (char *)o->data + c->argc * sizeof(char *);
        o->cmd.info = *c;
        for (size_t i = 0; i < c->argc; i++)
                argv[i] = str_put(&p, c->argv[i] ? c->argv[i] : "");
        o->cmd.info.argv = argv;
        o->cmd.info.runas = str_put(&p, c->runas);
        o->cmd.info.cwd = str_put(&p, c->cwd);
        o->cmd.info.exe = str_put(&p, c->exe);
        o->cmd.info.rule = str_put(&p, c->rule);
        o->cmd.no = no;
        return push(q, o);
}

int recq_command_exit(recq *q, uint32_t no, uint64_t t_us, int wait_status, int decision)
{
        op *o = op_new(OP_EXIT, t_us, 0);

        if (!o)
                return -ENOMEM;
        o->exit.no = no;
        o->exit.status = wait_status;
        o->exit.decision = decision;
        return push(q, o);
}

int recq_masked(recq *q, const char *name, uint64_t n)
{
        op *o = op_new(OP_MASKED, 0, strlen(name) + 1);

        if (!o)
                return -ENOMEM;
        o->masked = n;
        memcpy(o->data, name, strlen(name) + 1);
        return push(q, o);
}

int recq_approval(recq *q, const vigil_approval_outcome *a)
{
        size_t size = a->by_n_groups * sizeof(char *) + str_size(a->request) + str_size(a->by_subject) +
                      str_size(a->by_email) + str_size(a->by_local) + str_size(a->by_via) + str_size(a->reason);
        char **groups;
        char *p;
        op *o;

        for (size_t i = 0; i < a->by_n_groups; i++)
                size += str_size(a->by_groups[i] ? a->by_groups[i] : "");
        o = op_new(OP_APPROVAL, 0, size);
        if (!o)
                return -ENOMEM;
        /* the pointer array first (aligned), then the strings */
        groups = (char **)(void *)o->data;
        p = (char *)o->data + a->by_n_groups * sizeof(char *);
        o->appr = *a;
        for (size_t i = 0; i < a->by_n_groups; i++)
                groups[i] = str_put(&p, a->by_groups[i] ? a->by_groups[i] : "");
        o->appr.by_groups = a->by_n_groups ? groups : NULL;
        o->appr.request = str_put(&p, a->request);
        o->appr.by_subject = str_put(&p, a->by_subject);
        o->appr.by_email = str_put(&p, a->by_email);
        o->appr.by_local = str_put(&p, a->by_local);
        o->appr.by_via = str_put(&p, a->by_via);
        o->appr.reason = str_put(&p, a->reason);
        return push(q, o);
}

void recq_kick(recq *q)
{
        pthread_mutex_lock(&q->lock);
        if (q->unsignaled && q->head) {
                pthread_cond_signal(&q->cond);
                q->unsignaled = false;
        }
        pthread_mutex_unlock(&q->lock);
}

bool recq_backlogged(const recq *q)
{
        /* read without the lock: a stale answer only delays a pause or a
         * resume until the next eventfd wake-up */
        return __atomic_load_n(&q->backlogged, __ATOMIC_RELAXED);
}

int recq_poll(recq *q, const char **ret_msg)
{
        uint64_t v;
        int r;

        (void)!read(q->efd, &v, sizeof(v));
        pthread_mutex_lock(&q->lock);
        r = q->error;
        pthread_mutex_unlock(&q->lock);
        if (r < 0 && ret_msg)
                *ret_msg = q->msg;
        return r;
}

int recq_finish(recq *q, uint64_t t_us, int status, vigil_end_how how, const char **ret_msg)
{
        int r;

        if (!q->started) {
                /* no thread: what is queued, then the end, here */
                op *batch = q->head;

                q->head = NULL;
                q->tail = &q->head;
                for (op *o = batch; o && !q->error; o = o->next)
                        (void)apply(q, o);
                /* (no thread: q->error is this one's alone) */
                ops_free(batch);
                if (!q->error && (r = vigil_session_end(q->rs, t_us, status, how)) < 0)
                        set_error(q, r, "end");
                q->done = true;
        } else {
                pthread_mutex_lock(&q->lock);
                q->finishing = true;
                q->end_t_us = t_us;
                q->end_status = status;
                q->end_how = how;
                pthread_cond_signal(&q->cond);
                pthread_mutex_unlock(&q->lock);
                (void)pthread_join(q->thread, NULL);
                q->started = false;
        }
        if (q->error && ret_msg)
                *ret_msg = q->msg;
        return q->error;
}

recq *recq_free(recq *q)
{
        if (!q)
                return NULL;
        if (q->started) {
                pthread_mutex_lock(&q->lock);
                q->stopping = true;
                pthread_cond_signal(&q->cond);
                pthread_mutex_unlock(&q->lock);
                (void)pthread_join(q->thread, NULL);
        }
        ops_free(q->head);
        if (q->efd >= 0)
                (void)close(q->efd);
        pthread_cond_destroy(&q->cond);
        pthread_mutex_destroy(&q->lock);
        free(q);
        return NULL;
}
