#!/bin/sh
# `vigil policy check` on each tests/policy/check/*.in against its .out.ok:
# stderr and stdout together, then "exit N". Run from that folder, so FILE
# is printed as given (a relative name).
# To review a change of messages: VIGIL_REGEN=1 rewrites the .out.ok files.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"
cd "$VIGIL_SOURCE_ROOT/tests/policy/check" || fail "no check folder"
n=0
bad=0
for in in *.in; do
    ok=${in%.in}.out.ok
    got=$( { "$VIGIL" policy check "$in"; echo "exit $?"; } 2>&1 )
    if [ "${VIGIL_REGEN:-}" = 1 ]; then
        printf '%s\n' "$got" >"$ok"
    elif [ ! -f "$ok" ]; then
        echo "FAIL: $ok is missing" >&2
        bad=$((bad + 1))
    elif ! printf '%s\n' "$got" | diff -u "$ok" - >&2; then
        echo "FAIL: $in" >&2
        bad=$((bad + 1))
    fi
    n=$((n + 1))
done
[ "$n" -ge 10 ] || fail "only $n golden files"
[ "$bad" -eq 0 ] || fail "$bad of $n golden files differ"
ok
