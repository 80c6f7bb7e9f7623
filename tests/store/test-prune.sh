#!/bin/sh
# Retention: --dry-run lists and changes nothing; prune removes whole sessions
# (records, events, indexes) and leaves the rest verifiable.
. "$(dirname "$0")/lib.sh"

now=$(date +%s)
writer --user old --sessions 3 --commands 5 --output 20k --start-us $(( (now - 10 * 86400) * 1000000 )) --step-us 1000000 || fail w1
writer --user new --sessions 2 --commands 5 --output 20k || fail w2
before=$(sum_store)
v prune --older-than 7d --dry-run >"$WORK/out" || fail "dry run"
[ "$(grep -c '^would prune ' "$WORK/out")" -eq 4 ] || fail "dry run output: $(cat "$WORK/out")"
[ "$(sum_store)" = "$before" ] || fail "--dry-run changed the store"
v prune --older-than 7d >"$WORK/out" || fail "prune"
grep -q "^pruned 3 sessions" "$WORK/out" || fail "prune output: $(cat "$WORK/out")"
[ "$(v sessions | wc -l)" -eq 2 ] || fail "sessions after prune"
[ "$(v sessions --user old | wc -l)" -eq 0 ] || fail "user index after prune"
[ "$(v audit | wc -l)" -eq 11 ] || fail "events after prune: $(v audit | wc -l)"
v verify >/dev/null 2>&1 || fail "verify after prune"
n=$(mdb_stat -s records "$STORE" | awk '/Entries/ {print $2}')
[ "$(v sessions --json | python3 -c 'import json,sys; print(sum(json.loads(l)["records"] for l in sys.stdin))')" -eq "$n" ] || fail "records left behind"
v prune --older-than 7d | grep -q "^pruned 0 sessions" || fail "second prune"
ok
