/* `vigil approve`/`deny` for someone who works in no vigil session: a fresh
 * sign-in at the identity provider (RFC 8628 device flow), verified with
 * every identity rule but the username match (an approver is known by the
 * token's subject and groups, not by a local account). Internal to the CLI. */
#pragma once

#include "cli.h"
#include "identity.h"

/**
 * cli_sign_in() - run the device flow with vigil.conf (g->config): print
 * "To sign in, open URI and enter CODE" on stderr, poll until the person
 * approved, denied or login_timeout passed.
 * @param[in]  cmd        the command, for messages.
 * @param[out] ret_token  the ID token (the caller wipes and frees it).
 * @return 0, or EXIT_FAIL after printing one line "vigil: CMD: sign-in failed: ...".
 */
int cli_sign_in(const vigil_globals *g, const char *cmd, char **ret_token);

/**
 * cli_verify_approver_token() - verify @token as an approver's (root, on the
 * store's own identity state): every rule of vigil.conf but the username
 * match; a single_use token is spent.
 * @param[out] ret  the identity (vigil_identity_free()).
 * @return 0, or EXIT_FAIL after printing one line "vigil: CMD: sign-in refused: <reason>".
 */
int cli_verify_approver_token(const vigil_globals *g, const char *cmd, const char *token,
                              vigil_identity **ret);
