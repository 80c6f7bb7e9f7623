#!/bin/sh
# Bad input: unknown session, ambiguous prefix, corrupt store, newer format,
# missing store, bad options. One clear line, exit 1 (2 for usage), nothing changed.
. "$(dirname "$0")/lib.sh"

# two sessions started in the same millisecond share their first 12 hex digits
writer --sessions 2 --commands 3 --output 10k --start-us 1700000000000000 --step-us 0 --manifest "$WORK/m" || fail writer
a=$(sed -n 1p "$WORK/m" | cut -d' ' -f1)
before=$(sum_store)

for cmd in replay export verify watch; do
    extra=""; [ $cmd = export ] && extra="--format json"
    # shellcheck disable=SC2086
    one_line v $cmd 0123abcd $extra
    grep -q "no session '0123abcd'" "$WORK/err" || fail "$cmd unknown: $(cat "$WORK/err")"
    # shellcheck disable=SC2086
    one_line v $cmd "${a%%-*}" $extra
    grep -q "ambiguous" "$WORK/err" || fail "$cmd ambiguous: $(cat "$WORK/err")"
    # shellcheck disable=SC2086
    one_line v $cmd "not-an-id!" $extra
done
one_line v audit --session 0123abcd
[ "$(sum_store)" = "$before" ] || fail "a failed command changed the store"

# usage errors: exit 2, one line
for args in "sessions --since yesterday" "sessions --bogus" "replay" "replay $a --speed 0" "export $a" \
        "export $a --format mp4" "audit --format xml" "audit --decision maybe" "search" "search (unclosed" \
        "prune" "prune --older-than soon" "store" "store frobnicate" "verify a b"; do
    # shellcheck disable=SC2086
    out=$(v $args 2>&1 >/dev/null)
    rc=$?
    [ $rc -eq 2 ] || fail "'$args' exited $rc, expected 2"
    [ "$(echo "$out" | wc -l)" -eq 1 ] || fail "'$args': not one line: $out"
done

# a store of a newer format version
cp -a "$STORE" "$WORK/newer"
"$STORE_TAMPER" "$WORK/newer" format 99 || fail tamper
nb=$(sha256sum "$WORK/newer/data.mdb")
for cmd in sessions "verify" "audit" "search x" "store migrate" "prune --older-than 1d"; do
    # shellcheck disable=SC2086
    one_line "$VIGIL" --store "$WORK/newer" $cmd
    grep -q "format version 99, newer than this vigil understands" "$WORK/err" || fail "$cmd newer: $(cat "$WORK/err")"
done
[ "$(sha256sum "$WORK/newer/data.mdb")" = "$nb" ] || fail "a newer store was changed"
"$STORE_WRITER" --store "$WORK/newer" --commands 1 2>"$WORK/err" && fail "writer opened a newer store"
grep -q "newer than this vigil" "$WORK/err" || fail "writer on newer: $(cat "$WORK/err")"

# a corrupt store (garbage in data.mdb), an empty directory, a missing one
mkdir -m 700 "$WORK/corrupt"
head -c 65536 /dev/urandom >"$WORK/corrupt/data.mdb"
cb=$(sha256sum "$WORK/corrupt/data.mdb")
for cmd in sessions verify audit; do
    one_line "$VIGIL" --store "$WORK/corrupt" $cmd
done
[ "$(sha256sum "$WORK/corrupt/data.mdb")" = "$cb" ] || fail "a corrupt store was changed"
one_line "$VIGIL" --store "$WORK/missing" sessions
grep -q "does not exist" "$WORK/err" || fail "missing store: $(cat "$WORK/err")"
[ ! -e "$WORK/missing" ] || fail "a read command created the store"

# an unsafe store directory is refused
mkdir -m 755 "$WORK/open"
one_line "$VIGIL" --store "$WORK/open" sessions
grep -q "mode 0700" "$WORK/err" || fail "unsafe dir: $(cat "$WORK/err")"

# migrate: current is a no-op
v store migrate | grep -q "nothing to migrate" || fail "store migrate"
[ "$(sum_store)" = "$before" ] || fail "store migrate changed a current store"
ok
