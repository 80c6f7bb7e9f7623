#!/bin/sh
# Retention: --dry-run lists and changes nothing; prune removes whole sessions
# (records, events, indexes) and leaves the rest verifiable.
. "$(dirname "$0")/lib.sh"

now=$(date +%s)
writer --user old --sessions 3 --commands 5 --output 20k --start-us $(( (now - 10 * 86400) * 1000000 )) --step-us 1000000 || fail w1
writer --user new --sessions 2 --commands 5 --output 20k || fail w2
v sessions --user old --json | python3 -c 'import json,sys; [print(json.loads(l)["id"].replace("-", "")) for l in sys.stdin]' >"$WORK/old"
[ "$(wc -l <"$WORK/old")" -eq 3 ] || fail "old sessions"
# their values in pieces: prune must take those too
keys records | grep -Ff "$WORK/old" | grep -q ' 25$' || fail "no record in pieces to prune"
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
# nothing of the pruned sessions is left: no record, piece, event, unit or summary
for t in records events search sessions; do
    keys $t | grep -Ff "$WORK/old" >"$WORK/left"
    [ ! -s "$WORK/left" ] || fail "$t: keys of pruned sessions left behind: $(head -3 "$WORK/left")"
done
v prune --older-than 7d | grep -q "^pruned 0 sessions" || fail "second prune"
ok
