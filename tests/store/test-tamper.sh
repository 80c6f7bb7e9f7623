#!/bin/sh
# Tamper evidence: changing, deleting, reordering or appending a record or a
# piece of one, or swapping two sessions' records, each makes vigil verify
# exit 1 with one line naming the first bad record. A fresh store for each
# case.
. "$(dirname "$0")/lib.sh"

fresh() {
    rm -rf "$STORE" "$WORK/m"
    writer --commands 12 --output 200k --manifest "$WORK/m" --seed 1 || fail "writer"
    writer --commands 12 --output 200k --manifest "$WORK/m" --seed 2 || fail "writer"
    A=$(sed -n 1p "$WORK/m" | cut -d' ' -f1)
    B=$(sed -n 2p "$WORK/m" | cut -d' ' -f1)
    v verify >/dev/null 2>&1 || fail "fresh store does not verify"
}
# expect_bad PATTERN: verify fails with one line for session A matching PATTERN
expect_bad() {
    out=$(v verify 2>/dev/null)
    rc=$?
    [ "$rc" -eq 1 ] || fail "verify exited $rc after $CASE"
    echo "$out" | grep -q "^$A: " || fail "$CASE: session A not reported: $out"
    line=$(echo "$out" | grep "^$A: ")
    echo "$line" | grep -Eq "$1" || fail "$CASE: '$line' does not match '$1'"
    [ "$(echo "$line" | wc -l)" -eq 1 ] || fail "$CASE: more than one line for A"
    # verifying the one session gives the same line
    [ "$(v verify "$A" 2>/dev/null)" = "$line" ] || fail "$CASE: verify SESSION differs"
}

CASE="change a record"; fresh
tamper flip "$A" 5 -3 || fail tamper
expect_bad "record 5 \(.*\): "

CASE="change the first record"; fresh
tamper flip "$A" 0 40 || fail tamper
expect_bad "record 0 \(begin\)"

CASE="change a stored hash"; fresh
tamper flip "$A" 3 0 || fail tamper
expect_bad "record 3 "

CASE="delete a record"; fresh
tamper delete "$A" 4 || fail tamper
expect_bad "record 4 missing"

CASE="delete the seal"; fresh
n=$(v sessions --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if json.loads(l)["id"]==sys.argv[1]][0]["records"])' "$A")
tamper delete "$A" $((n - 1)) || fail tamper
expect_bad "record $((n - 1)) .*missing"

CASE="reorder two records"; fresh
tamper swap "$A" 6 7 || fail tamper
expect_bad "record 6 "

CASE="append a record"; fresh
n=$(v sessions --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin if json.loads(l)["id"]==sys.argv[1]][0]["records"])' "$A")
tamper append "$A" || fail tamper
expect_bad "record $n "

CASE="swap two sessions' records"; fresh
tamper swap-sessions "$A" "$B" 2 || fail tamper
expect_bad "record 2 "
v verify 2>/dev/null | grep -q "^$B: record 2 " || fail "$CASE: session B not reported"

# Values in pieces (format 3): a record over what an LMDB leaf page holds is
# stored as pieces under continuation keys; deleting, reordering, changing
# or adding one is found like a change to the record.
piece_fresh() {
    fresh
    P=$(tamper pieced "$A" 2) || fail "$CASE: no record of A in three pieces or more"
}
CASE="delete a piece"; piece_fresh
tamper piece-delete "$A" "$P" 1 || fail tamper
expect_bad "record $P: piece 1 missing"

CASE="delete the last piece"; piece_fresh
tamper piece-delete "$A" "$P" 2 || fail tamper
expect_bad "record $P "

CASE="delete a record's first piece"; piece_fresh
tamper piece-delete "$A" "$P" 0 || fail tamper
expect_bad "record $P missing \(pieces of it exist\)"

CASE="swap two pieces"; piece_fresh
tamper piece-swap "$A" "$P" 1 2 || fail tamper
expect_bad "record $P \(.*\): "

CASE="swap a record's first piece with another"; piece_fresh
tamper piece-swap "$A" "$P" 0 1 || fail tamper
expect_bad "record $P "

CASE="change a piece"; piece_fresh
tamper piece-flip "$A" "$P" 1 -7 || fail tamper
expect_bad "record $P \(.*\): "

CASE="add a piece"; piece_fresh
tamper piece-append "$A" "$P" || fail tamper
expect_bad "record $P \(.*\): "

# A unit of 1 MiB of varied text has a signature of 8 KiB: in pieces too.
find "$VIGIL_SOURCE_ROOT" -path "$VIGIL_SOURCE_ROOT/build*" -prune -o -type f \( -name '*.c' -o -name '*.md' \) -print |
    sort | xargs cat >"$WORK/text"
unit_fresh() {
    rm -rf "$STORE" "$WORK/m"
    writer --commands 3 --file "$WORK/text" --output 1500k --manifest "$WORK/m" || fail "writer"
    A=$(sed -n 1p "$WORK/m" | cut -d' ' -f1)
    v verify >/dev/null 2>&1 || fail "fresh store does not verify"
    keys search | grep -q "^$(hexid "$A") 21$" || fail "$CASE: no signature in pieces"
}
CASE="delete a search signature's piece"; unit_fresh
tamper unit-piece-delete "$A" 0 1 || fail tamper
expect_bad "search index: unit 0 "

CASE="delete a search signature's first piece"; unit_fresh
tamper unit-piece-delete "$A" 0 0 || fail tamper
expect_bad "search index: unit 0: piece 1 of a value whose first piece is missing"

CASE="edit a summary"; fresh
tamper summary-user "$A" mallory && fail "summary-user should refuse a different length"
tamper summary-user "$A" alicf || fail tamper
expect_bad "summary"

CASE="another host key"; fresh
mv "$VIGIL_HOST_KEY" "$WORK/old.key"
openssl genpkey -algorithm ed25519 -out "$VIGIL_HOST_KEY" 2>/dev/null || fail "openssl genpkey"
chmod 600 "$VIGIL_HOST_KEY"
out=$(v verify 2>/dev/null) && fail "verify passed with another host key"
echo "$out" | grep -q "^$A: record .* (seal): sealed with a key that is not this host's key" || fail "$CASE: $out"
mv "$WORK/old.key" "$VIGIL_HOST_KEY"
v verify >/dev/null 2>&1 || fail "verify with the right key again"
ok
