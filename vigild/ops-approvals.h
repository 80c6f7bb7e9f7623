/* vigild's approvals backend (ops-approvals.c): approvals.list,
 * approvals.decide and the approver check of session.watch, on the store
 * named by vigil.conf's `store`, judged by approvers/ (the code root's CLI
 * runs too). Internal to vigild; wired into vigild_ops_vigil. */
#pragma once

#include "ops.h"

/** ops->approvals_list. */
int approvals_list_op(vigild_req *r, const vigild_approver *a, const char *session);
/** ops->approvals_decide. */
int approvals_decide_op(vigild_req *r, const vigild_approver *a, const vigild_decision *d);
/** ops->may_watch. */
int approvals_may_watch(const vigild_approver *a, const char *session);
