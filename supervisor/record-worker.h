/* The recording's writer thread (record-worker.c), used by record.c only.
 *
 * The store's writer costs CPU (compression, the search signatures, the hash
 * chain): in the relay's thread it would slow the terminal down. So the
 * relay only queues what is to be recorded, with the time it happened, and
 * one thread of the supervisor's own makes every store call for the session,
 * in queue order, and the commits when they are due. Nothing else touches
 * the session's store handle while the thread runs.
 *
 * Back-pressure: while more than RECQ_HIGH bytes wait, the relay stops
 * reading the session (so a command printing faster than the store writes
 * is slowed down, not recorded partly); the thread says on the eventfd when
 * it is below RECQ_LOW again. It says there too when a store call failed
 * (the first error, with the store's message), and from then on drops what
 * is queued: the supervisor applies on_failure. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store.h"

#define RECQ_HIGH (8u * 1024 * 1024)
#define RECQ_LOW (2u * 1024 * 1024)

typedef struct recq recq;

/**
 * recq_new() - a queue for @rs (borrowed: the thread uses it until
 * recq_finish()). The thread is not started yet.
 * @param[out] ret_fd  the eventfd to watch (readable: backlog drained or an error).
 */
int recq_new(vigil_store *st, vigil_session *rs, recq **ret, int *ret_fd);
/** Start the thread (after the supervisor's last fork). @return 0 or -errno. */
int recq_start(recq *q);

/* Queue one store call. @return 0, or the thread's error (then nothing is queued). */
int recq_output(recq *q, uint64_t t_us, const void *buf, size_t n);
int recq_input(recq *q, uint64_t t_us, const void *buf, size_t n);
int recq_resize(recq *q, uint64_t t_us, unsigned cols, unsigned rows);
/* @no is the number the store will give the command (commands are numbered
 * in the order they are recorded, from 0); the thread checks it. */
int recq_command(recq *q, const vigil_command_info *c, uint32_t no);
int recq_command_exit(recq *q, uint32_t no, uint64_t t_us, int wait_status, int decision);
int recq_masked(recq *q, const char *name, uint64_t n);
/* The outcome of a held command (strings copied). */
int recq_approval(recq *q, const vigil_approval_outcome *a);

/**
 * recq_kick() - wake the thread for what was queued since it last looked.
 * Queueing wakes it only when a batch is full; the relay calls this once per
 * turn of its loop, after the turn's writes to the terminal.
 */
void recq_kick(recq *q);

/** Whether the relay should stop reading the session for now. */
bool recq_backlogged(const recq *q);

/**
 * recq_poll() - read the eventfd. @return 0, or the thread's error (first
 * one; @ret_msg then points to its message, valid until recq_free()).
 */
int recq_poll(recq *q, const char **ret_msg);

/**
 * recq_finish() - the session is over: the thread writes what is queued, then
 * the end record and the seal (vigil_session_end(@status, @how)), and exits;
 * this waits for it. Without a thread started, does it here.
 * @return 0 or the error (message in *ret_msg).
 */
int recq_finish(recq *q, uint64_t t_us, int status, vigil_end_how how, const char **ret_msg);

/** Stop the thread without ending the session (drop what is queued) and free. */
recq *recq_free(recq *q);
