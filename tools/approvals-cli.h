/* What `vigil approvals` and `vigil approve`/`deny` share: where requests
 * come from (the store itself for root, vigild for everyone else, with the
 * same output either way), who the caller is as an approver, and how a
 * request is printed. Each function prints its own one-line error. Internal
 * to the CLI. */
#pragma once

#include <stdbool.h>

#include "approval.h"
#include "cli.h"

typedef struct cli_approvals cli_approvals;

/**
 * cli_approvals_open() - root (or anyone with a --store of their own): the
 * store at g->store (read-only unless @write); anyone else: vigild
 * (VIGILD_SOCKET or its default socket), as cli_via_vigild() decides.
 * @return 0, or EXIT_FAIL after printing one line.
 */
int cli_approvals_open(const vigil_globals *g, const char *cmd, bool write, cli_approvals **ret);

/** Close. Accepts NULL; returns NULL. */
cli_approvals *cli_approvals_close(cli_approvals *c);

typedef int (*cli_approval_cb)(void *userdata, const vigil_approval *a);

/**
 * cli_approvals_list() - the pending requests: all of them for root (and
 * for vigild's auditors), otherwise those the caller may decide.
 * @return 0, EXIT_FAIL after printing one line, or the callback's non-zero value.
 */
int cli_approvals_list(cli_approvals *c, cli_approval_cb cb, void *userdata);

/**
 * cli_approvals_get() - one request by id or prefix: any state for root;
 * through vigild only a pending one the caller may decide.
 * @return 0, or EXIT_FAIL after printing one line.
 */
int cli_approvals_get(cli_approvals *c, const char *id, vigil_approval **ret);

/**
 * cli_approvals_decide() - approve or deny with the caller's identity: the
 * vigil session it runs in, else its local account, and when only an
 * identity-provider entry of approvers= could name it a device sign-in.
 * Logs the decision (syslog, LOG_AUTHPRIV) when it is made here (root).
 * @param[out] ret  the request after the decision; NULL when vigild decided
 *                  but could not send it back (too big for its protocol).
 * @return 0, or EXIT_FAIL after printing one line.
 */
int cli_approvals_decide(cli_approvals *c, const char *id, bool approve, const char *reason,
                         vigil_approval **ret);

/* ---- printing (approvals-print.c) ---- */

/** One line: id, age, time left, user, session, approvers=, command. */
void cli_approval_print_line(FILE *f, const vigil_approval *a, int64_t now_ms);

/** The request in full, for `vigil approvals show`. */
void cli_approval_print_full(FILE *f, const vigil_approval *a, int64_t now_ms);

/** One JSON object and a newline (vigil_approval_to_json() without the owner). @return 0 or -errno. */
int cli_approval_print_json(FILE *f, const vigil_approval *a);

/** Unix time in milliseconds. */
int64_t cli_now_ms(void);
