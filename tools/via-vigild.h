/* The store commands of a caller that is not root: through vigild
 * (sessions.list, session.replay, session.watch, session.kill), which
 * checks who may ask and answers with the same values root's commands
 * compute from the store (vigild/view.h). Internal to the CLI. */
#pragma once

#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "client.h"

/**
 * cli_via_vigild() - does this store command go through vigild? Yes for a
 * caller that is not root and did not name a store of its own (--store:
 * a store the caller owns is read directly, as before).
 */
bool cli_via_vigild(const vigil_globals *g);

/* One request and the messages that answer it. */
typedef struct cli_call {
        const char *cmd;  /* for messages: "sessions", ... */
        vigild_conn *c;
        vigild_reply *rep; /* the last message received */
        uint32_t status;   /* of the final reply */
        char text[512];    /* its error line without "<request>: ", or a transport error */
        const volatile sig_atomic_t *stop; /* optional: give up waiting when set */
} cli_call;

/**
 * cli_call_start() - connect to vigild (VIGILD_SOCKET, else the default
 * socket) and send @b.
 * @return 0, or EXIT_FAIL after printing "vigil: CMD: <why>".
 */
int cli_call_start(cli_call *c, const char *cmd, vmsg_builder *b);

/**
 * cli_call_next() - the next message.
 * @param[out] ret  an item, valid until the next call.
 * @return 1 with an item; 0 for the final reply (c->status, c->text); -EINTR
 *         when c->stop was set; another negative code for a transport error
 *         (c->text says it).
 */
int cli_call_next(cli_call *c, const vmsg **ret);

/** Does a message wait to be read now (so the caller may delay flushing)? */
bool cli_call_pending(const cli_call *c);

/** Print "vigil: CMD: <c->text>"; @return EXIT_FAIL. */
int cli_call_fail(const cli_call *c);

void cli_call_done(cli_call *c);

/**
 * cli_session_arg() - a session argument as vigild's requests carry it:
 * its hex digits (vigild/sessctl.h: sessctl_prefix()), which name the same
 * sessions. @return 0, or EXIT_FAIL after the line root's commands print
 * for an argument that is no session id.
 */
int cli_session_arg(const char *cmd, const char *arg, char buf[static 33]);

/**
 * cli_call_find_error() - a final reply about the session argument (no such
 * session, several, not an id) as root's commands print it.
 * @return EXIT_FAIL after printing; -1 when the reply is not one of those.
 */
int cli_call_find_error(const cli_call *c, const char *arg);
