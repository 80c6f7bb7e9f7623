#!/bin/sh
# A writer killed with SIGKILL mid-session: the session stays readable, plain
# verify reports it and writes nothing, --seal-orphans seals it as truncated.
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/dump"
writer --commands 20 --output 400k --manifest "$WORK/m" || fail "writer"
"$STORE_WRITER" --store "$STORE" --commands 20 --output 1M --hang --dump "$WORK/dump" >"$WORK/ready" 2>"$WORK/w.err" &
wpid=$!
i=0
until grep -q READY "$WORK/ready"; do
    i=$((i + 1)); [ $i -lt 600 ] || fail "writer never got ready: $(cat "$WORK/w.err")"; sleep 0.05
done
id=$(cut -d' ' -f2 "$WORK/ready")
# alive: verify sees it live and intact
v verify >"$WORK/out" 2>&1 || fail "verify with a live writer: $(cat "$WORK/out")"
kill -9 $wpid
wait $wpid 2>/dev/null

v sessions | grep "^$id " | grep -q orphan || fail "sessions does not show the orphan: $(v sessions)"
v replay --instant "$id" | cmp -s - "$WORK/dump/$id.out" || fail "orphan replay differs from what was committed"
before=$(sum_store)
out=$(v verify 2>/dev/null) && fail "plain verify passed with an orphan"
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "verify: not one line: $out"
echo "$out" | grep -q "^$id: not sealed" || fail "verify line: $out"
[ "$(sum_store)" = "$before" ] || fail "plain verify changed the store"
v search 'dir1[0-9]' >/dev/null || fail "search over an unsealed session"

v verify --seal-orphans >"$WORK/out" 2>&1 || fail "--seal-orphans: $(cat "$WORK/out")"
grep -q "^$id: sealed as truncated" "$WORK/out" || fail "--seal-orphans said: $(cat "$WORK/out")"
v verify >"$WORK/out" 2>&1 || fail "verify after sealing: $(cat "$WORK/out")"
v sessions | grep "^$id " | grep -q "lost,truncated" || fail "sessions: $(v sessions)"
v replay --instant "$id" | cmp -s - "$WORK/dump/$id.out" || fail "replay changed by sealing"
# sealing twice does nothing
before=$(sum_store)
v verify --seal-orphans >/dev/null 2>&1 || fail "second --seal-orphans"
ok
