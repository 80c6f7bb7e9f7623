/* vigil approvers: who may decide a held command (issue 9). The whole
 * interface; the CLI (root, on the store) and vigild (everyone else) both
 * judge with this code, so that the answer never depends on the door taken.
 *
 * The rules (docs/approvals.md, "Deciding"):
 *  - Only what the rule's approvers= names may decide. A rule that names
 *    nobody can be decided by nobody: its request waits for its timeout
 *    (fail closed; `vigil policy check` warns about such a rule).
 *  - group:G matches an identity-provider group of the approver's verified
 *    token; user:U its subject or its username claim. An approver without a
 *    verified identity matches neither.
 *  - local:NAME matches the approver's local account by name, or a local
 *    group the account is in (the group database, getgrouplist()). A local
 *    account or group decides nothing unless the rule names it this way.
 *  - Four-eyes: never the requester. Same token subject, same local account
 *    name, or the same uid as the requester's account: refused, whatever
 *    approvers= says.
 *
 * The approver's identity is established by the caller (a vigil session's
 * verified token, a fresh device sign-in verified with every identity rule
 * but the username match, or the local account alone); this module only
 * compares. It reads the account and group databases and the store, and
 * never logs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "approval.h"

/* vigil_approver_decide()'s message for -ENOKEY starts with this, also when
 * it reaches the CLI as vigild's refusal: the CLI then signs in and asks again. */
#define VIGIL_APPROVER_SIGN_IN_PREFIX "sign-in needed: "

/* How an approver's identity was established (vigil_approver_id.via). */
#define VIGIL_VIA_SESSION "session" /* the verified token of the vigil session they work in */
#define VIGIL_VIA_DEVICE "device"   /* a device sign-in (RFC 8628) for this decision */
#define VIGIL_VIA_LOCAL "local"     /* the local account alone */

/* Someone who wants to decide. Every pointer is borrowed. */
typedef struct vigil_approver_who {
        /* The identity provider's verified identity; subject NULL when none. */
        const char *subject;
        const char *username; /* the token's username claim; NULL when unknown */
        const char *email;
        const char *const *groups;
        size_t n_groups;
        const char *via; /* VIGIL_VIA_SESSION or VIGIL_VIA_DEVICE when subject is set */

        /* The local account the approver runs as (always known: the uid). */
        uid_t uid;
        const char *local; /* its name; NULL when the uid has no account */
} vigil_approver_who;

typedef enum vigil_approver_verdict {
        VIGIL_APPROVER_BY_IDENTITY, /* allowed: a group:/user: entry names the identity */
        VIGIL_APPROVER_BY_LOCAL,    /* allowed: a local: entry names the account or one of its groups */
        VIGIL_APPROVER_NONE_NAMED,  /* refused: the rule has no approvers= */
        VIGIL_APPROVER_SELF,        /* refused: the approver is the requester (four-eyes) */
        VIGIL_APPROVER_SIGN_IN,     /* refused for now: only a group:/user: entry could name the
                                     * approver, who has no verified identity yet */
        VIGIL_APPROVER_NOT_NAMED,   /* refused: no entry names the approver */
} vigil_approver_verdict;

/** @return true for VIGIL_APPROVER_BY_IDENTITY and VIGIL_APPROVER_BY_LOCAL. */
bool vigil_approver_allowed(vigil_approver_verdict v);

/**
 * vigil_approver_judge() - may @who decide the request @a (whatever its state)?
 * @param[in]  a            the request: approvers, user (the requester's account), subject.
 * @param[in]  who          the approver.
 * @param[out] ret_verdict  the verdict.
 * @param[out] ret_entry    may be NULL; for an allowed verdict the approvers= entry that
 *                          matched ("group:sre"), malloc'd (caller frees); else NULL.
 * @return 0, or -ENOMEM (then nothing is allowed).
 */
int vigil_approver_judge(const vigil_approval *a, const vigil_approver_who *who,
                         vigil_approver_verdict *ret_verdict, char **ret_entry);

/**
 * vigil_approver_id_of() - the decider to record for an allowed verdict:
 * subject, email, groups, via from the identity for BY_IDENTITY, and the
 * local account in both cases (via "local" for BY_LOCAL, whose identity is
 * not recorded: it did not decide).
 * @param[out] ret  pointers into @who (borrowed; vigil_approval_decide() copies them).
 */
void vigil_approver_id_of(const vigil_approver_who *who, vigil_approver_verdict v, vigil_approver_id *ret);

/**
 * vigil_approver_refusal() - one line saying why @v refuses @who for @a,
 * for the person who asked ("not allowed: ...").
 * @return malloc'd text, or NULL on -ENOMEM.
 */
char *vigil_approver_refusal(const vigil_approval *a, const vigil_approver_who *who,
                             vigil_approver_verdict v);

/**
 * vigil_approval_id_normalize() - what a person typed as a request id or a
 * prefix of one, as the store reads it: 4 to VIGIL_APPROVAL_ID_LEN characters
 * of Crockford's base32, case ignored, i and l read as 1, o as 0.
 * @param[out] ret  the id or prefix in lower case (untouched when invalid).
 * @return true when @s is one.
 */
bool vigil_approval_id_normalize(const char *s, char ret[VIGIL_APPROVAL_ID_LEN + 1]);

/* What to do (vigil_approver_decide). */
typedef struct vigil_decision_req {
        const char *id;     /* the request id or a prefix of at least 4 characters */
        bool approve;       /* false: deny */
        const char *reason; /* required to deny; one line, at most 1024 bytes */
        int64_t now_ms;     /* Unix time in ms; 0 = now */
} vigil_decision_req;

/**
 * vigil_approver_decide() - everything a decision takes, the same for every
 * door: reject the requests whose supervisor is gone (vigil_approvals_reap():
 * nobody approves a command no process waits for), find the request, refuse
 * one that is decided or expired, judge @who (approvers=, four-eyes), then
 * vigil_approval_decide() with the decider. Needs a store opened for writing.
 * @param[out] ret      on success the request after the decision (vigil_approval_free()).
 * @param[out] ret_why  on failure a malloc'd one-line message for the person who asked
 *                      (may stay NULL on -ENOMEM); may be NULL.
 * @return 0; -EINVAL (a malformed id, a denial without a reason, a reason that is not one
 *         line of at most 1024 bytes); -ENOENT (no such request); -EEXIST (ambiguous prefix);
 *         -EALREADY (decided already: by whom and when in @ret_why); -ETIME (its deadline
 *         passed: its supervisor rejects it); -EPERM (refused: not named, the requester, or a
 *         rule without approvers=); -ENOKEY (only an identity-provider entry could name
 *         @who, who has no verified identity: sign in and try again); store errors.
 */
int vigil_approver_decide(vigil_store *st, const vigil_decision_req *d, const vigil_approver_who *who,
                          vigil_approval **ret, char **ret_why);

/**
 * vigil_approval_decided_text() - "approved by alice (subject 'alice', via
 * session) at 2026-11-27T10:00:00Z: reason" or "timed out at ..." for a
 * request that is no longer pending; "pending" for one that is.
 * @return malloc'd text, or NULL on -ENOMEM.
 */
char *vigil_approval_decided_text(const vigil_approval *a);
