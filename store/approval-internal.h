/* Shared by the store's approval files (and its unit tests and fuzzer); not an interface. */
#pragma once

#include <jansson.h>

#include "approval.h"
#include "store-internal.h"

/* Crockford's base32 in lower case: no i, l, o, u. */
#define APPROVAL_ID_ALPHABET "0123456789abcdefghjkmnpqrstvwxyz"
#define APPROVAL_REASON_MAX 1024u
/* Requests that may wait at once in one store: a bound on what sessions can
 * make the store hold (and on what listing the pending ones costs). */
#define APPROVALS_PENDING_MAX 1024u

bool approval_id_valid(const char *id);
void approver_id_clear(vigil_approver_id *b);
/* Parse exactly the text vigil_format_time() writes. @return 0 or -EINVAL. */
int approval_parse_time(const char *s, int64_t *ret_ms);
int approval_to_jsonv(const vigil_approval *a, bool with_owner, json_t **ret);
int approval_from_jsonv(json_t *o, vigil_approval **ret);
