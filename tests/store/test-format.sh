#!/bin/sh
# Format 2 -> 3 (values in pieces): a store a format 2 vigil left (no value
# in pieces: large ones on LMDB overflow pages) is read as it is, refused by
# writers until `vigil store migrate`, which only moves the version; after
# it the old sessions read and verify the same and new ones are in pieces.
. "$(dirname "$0")/lib.sh"

writer --user alice --sessions 2 --commands 12 --output 200k --manifest "$WORK/m" || fail "writer"
writer --user bob --sessions 1 --commands 2 --output 50k --no-end || fail "orphan writer"
A=$(sed -n 1p "$WORK/m" | cut -d' ' -f1)
v export "$A" --format json >"$WORK/a.json" || fail "export"
v search "database server" >"$WORK/search" && [ -s "$WORK/search" ] || fail "search"
v audit >"$WORK/audit" || fail "audit"
keys records | grep -q ' 25$' || fail "no record in pieces"

# the store a format 2 vigil would have written: the same values, whole
tamper join-pieces && tamper format 2 || fail "make format 2"
keys records | grep -q ' 25$' && fail "pieces left after join-pieces"
for t in search events sessions; do
    keys $t | grep -q ' 17$\| 21$' && fail "$t: pieces left after join-pieces"
done
before=$(sum_store)

# readers read it as it is
[ "$(v sessions | wc -l)" -eq 3 ] || fail "sessions on format 2: $(v sessions 2>&1)"
v export "$A" --format json | cmp -s - "$WORK/a.json" || fail "export on format 2 differs"
v search 'database server' | cmp -s - "$WORK/search" || fail "search on format 2 differs"
v audit | cmp -s - "$WORK/audit" || fail "audit on format 2 differs"
v verify >"$WORK/out" 2>&1
grep -q "not sealed and its writer is gone" "$WORK/out" || fail "verify on format 2: $(cat "$WORK/out")"
v verify "$A" 2>&1 | grep -q "1 sessions intact" || fail "verify a session on format 2: $(v verify "$A" 2>&1)"
# writers refuse it, in one line, and change nothing
one_line v prune --older-than 1d
grep -q "format version 2; run 'vigil store migrate' first" "$WORK/err" || fail "prune: $(cat "$WORK/err")"
one_line v verify --seal-orphans
grep -q "run 'vigil store migrate' first" "$WORK/err" || fail "verify --seal-orphans: $(cat "$WORK/err")"
writer --sessions 1 2>"$WORK/err" && fail "a session written on format 2"
grep -q "format version 2; run 'vigil store migrate' first" "$WORK/err" || fail "writer: $(cat "$WORK/err")"
[ "$(sum_store)" = "$before" ] || fail "format 2 store changed before migrating"

v store migrate >"$WORK/out" || fail "migrate: $(cat "$WORK/out")"
grep -qx "store '$STORE' migrated from format version 2 to 3" "$WORK/out" || fail "migrate output: $(cat "$WORK/out")"
v store migrate | grep -q "is at format version 3; nothing to migrate" || fail "second migrate"
v export "$A" --format json | cmp -s - "$WORK/a.json" || fail "export after migrate differs"
v verify --seal-orphans >"$WORK/out" 2>&1
grep -q "sealed" "$WORK/out" || fail "verify --seal-orphans after migrate: $(cat "$WORK/out")"
v verify >/dev/null 2>&1 || fail "verify after migrate"
# a new session next to the old ones: in pieces, and everything verifies
writer --user carol --sessions 1 --commands 12 --output 200k --manifest "$WORK/m2" || fail "writer after migrate"
C=$(sed -n 1p "$WORK/m2" | cut -d' ' -f1)
keys records | grep -q "^$(hexid "$C") 25$" || fail "the new session has no record in pieces"
v verify >/dev/null 2>&1 || fail "verify with old and new sessions"
[ "$(v sessions | wc -l)" -eq 4 ] || fail "sessions after migrate"

# a newer format is refused by every command, in one line
tamper format 4 || fail "format 4"
one_line v sessions
grep -q "format version 4, newer than this vigil understands (3)" "$WORK/err" || fail "format 4: $(cat "$WORK/err")"
ok
