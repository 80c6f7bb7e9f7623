#!/bin/sh
# vigil store migrate on a store a format 1 vigil left: before it, readers
# read it and writers refuse it (saying what to do) without changing it;
# after it (1 -> 2 -> 3 in one run), the approval tables exist and
# everything works on.
. "$VIGIL_SOURCE_ROOT/tests/store/lib.sh"
TOOL="$VIGIL_BUILD_ROOT/tests/approvals/approval-tool"

writer --user alice --sessions 2 --commands 3 --output 8k || fail "writer"
writer --user bob --sessions 1 --commands 2 --no-end || fail "orphan writer"
# a format 1 store: the same tables but the approvals, no value in pieces
# (format 3), and version 1 (sessions without held commands are the same
# bytes in every version)
tamper join-pieces && tamper drop approvals && tamper drop approvals-pending && tamper format 1 ||
    fail "make format 1"
before=$(sum_store)

# readers read it
[ "$(v sessions | wc -l)" -eq 3 ] || fail "sessions on format 1: $(v sessions 2>&1)"
[ "$(v audit | wc -l)" -eq 9 ] || fail "audit on format 1: $(v audit 2>&1)"
id=$(v sessions --user alice --json | head -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
v export "$id" --format json >/dev/null || fail "export on format 1"
v verify >"$WORK/out" 2>&1
grep -q "not sealed and its writer is gone" "$WORK/out" || fail "verify on format 1: $(cat "$WORK/out")"
v verify "$id" 2>&1 | grep -q "1 sessions intact" || fail "verify a session on format 1: $(v verify "$id" 2>&1)"
# approvals say what to do
"$TOOL" "$STORE" list >/dev/null 2>"$WORK/err" && fail "approvals listed on format 1"
grep -q "has format version 1, which has no approval requests; run 'vigil store migrate'" "$WORK/err" ||
    fail "approvals on format 1: $(cat "$WORK/err")"
# writers refuse it, in one line, and change nothing
one_line v prune --older-than 1d
grep -q "format version 1; run 'vigil store migrate' first" "$WORK/err" || fail "prune: $(cat "$WORK/err")"
one_line v verify --seal-orphans
grep -q "run 'vigil store migrate' first" "$WORK/err" || fail "verify --seal-orphans: $(cat "$WORK/err")"
v prune --older-than 1d --dry-run | grep -q "^would prune 0 sessions and 0 decided approval requests" ||
    fail "prune --dry-run on format 1"
[ "$(sum_store)" = "$before" ] || fail "format 1 store changed before migrating"

v store migrate >"$WORK/out" || fail "migrate: $(cat "$WORK/out")"
grep -qx "store '$STORE' migrated from format version 1 to 3" "$WORK/out" || fail "migrate output: $(cat "$WORK/out")"
mdb_stat -s approvals "$STORE" >/dev/null && mdb_stat -s approvals-pending "$STORE" >/dev/null || fail "tables after migrate"
v store migrate | grep -q "is at format version 3; nothing to migrate" || fail "second migrate"
[ -z "$("$TOOL" "$STORE" list --all)" ] || fail "approvals after migrate"
[ "$(v sessions | wc -l)" -eq 3 ] || fail "sessions after migrate"
v verify --seal-orphans >"$WORK/out" 2>&1
grep -q "sealed" "$WORK/out" || fail "verify --seal-orphans after migrate: $(cat "$WORK/out")"
v verify >/dev/null 2>&1 || fail "verify after migrate"
writer --user carol --sessions 1 --commands 2 || fail "writer after migrate"
v prune --older-than 1d | grep -q "^pruned 0 sessions and 0 decided approval requests" || fail "prune after migrate"
ok
