#!/bin/sh
# A supervisor killed with SIGKILL mid-session: the session's processes
# die, and its recording stays readable and verifiable up to the last commit;
# plain `vigil verify` reports it and writes nothing; `vigil verify
# --seal-orphans`, or the next supervisor's start, seals it as truncated.
. "$(dirname "$0")/lib.sh"

P=$WORK/p
policy "$P" "default allow"

# start_ticking N: a session printing a tick every 100 ms; waits for tick N
start_ticking() {
    # a fresh file: the last session's ticks must not count for this one
    rm -f "$WORK/out"
    "$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- \
        sh -c 'i=0; while :; do i=$((i + 1)); echo tick $i; sleep 0.1; done' >"$WORK/out" 2>&1 &
    SUP=$!
    echo "$SUP" >>"$WORK/root-pids"
    _i=0
    until grep -q "^tick $1\$" "$WORK/out" 2>/dev/null; do
        _i=$((_i + 1))
        [ $_i -lt 600 ] || fail "the session did not tick: $(cat "$WORK/out")"
        sleep 0.05
    done
}

# alive_count: processes of the test user that are not zombies
alive_count() {
    _n=0
    for _p in $(pgrep -u "$TU"); do
        _st=$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f1)
        [ -n "$_st" ] && [ "$_st" != Z ] && _n=$((_n + 1))
    done
    echo "$_n"
}

# committed N: tick N of the newest session is in the store (a commit comes
# within a second or so of the output; on a loaded machine later)
committed() {
    _i=0
    until v replay --instant "$(last_id)" 2>/dev/null | grep -q "^tick $1\$"; do
        _i=$((_i + 1))
        [ $_i -lt 600 ] || fail "tick $1 was not committed: $(v replay --instant "$(last_id)" 2>&1 | tail -n 3)"
        sleep 0.05
    done
}

# kill_supervisor: SIGKILL it; the session's processes must be gone (within
# a second by design; the bound is a hang guard)
kill_supervisor() {
    kill -KILL "$SUP"
    wait "$SUP" 2>/dev/null
    _i=0
    while [ "$(alive_count)" -gt 0 ]; do
        _i=$((_i + 1))
        [ $_i -lt 200 ] || fail "the session's processes outlived their supervisor: $(pgrep -a -u "$TU")"
        sleep 0.05
    done
}

start_ticking 20
committed 5
kill_supervisor
id=$(last_id)
v sessions | grep "^$id " | grep -q orphan || fail "sessions does not show the orphan: $(v sessions)"
v replay --instant "$id" >"$WORK/rep" || fail "replay of the orphan"
grep -q "^tick 5\$" "$WORK/rep" || fail "nothing committed before the kill: $(cat "$WORK/rep")"
# what was recorded is a prefix of what was shown
head -c "$(wc -c <"$WORK/rep")" "$WORK/out" | cmp -s - "$WORK/rep" || fail "the orphan's recording is not what was shown"
before=$(sha256sum "$STORE/data.mdb")
out=$(v verify 2>/dev/null) && fail "plain verify passed with an orphan"
echo "$out" | grep -q "^$id: not sealed" || fail "verify: $out"
[ "$(sha256sum "$STORE/data.mdb")" = "$before" ] || fail "plain verify wrote to the store"
v verify --seal-orphans >"$WORK/seal" 2>&1 || fail "--seal-orphans: $(cat "$WORK/seal")"
grep -q "^$id: sealed as truncated" "$WORK/seal" || fail "--seal-orphans: $(cat "$WORK/seal")"
v verify >"$WORK/v" 2>&1 || fail "verify after sealing: $(cat "$WORK/v")"
v sessions --json | python3 -c '
import json, sys
s = [x for x in (json.loads(l) for l in sys.stdin) if x["id"] == sys.argv[1]][0]
assert s["ended"] == "lost" and s["truncated"] and s["sealed"], s
' "$id" || fail "the sealed orphan's metadata"
v replay --instant "$id" | cmp -s - "$WORK/rep" || fail "sealing changed the recording"

# the next supervisor seals what a killed one left
start_ticking 15
kill_supervisor
id2=$(last_id)
[ "$id2" != "$id" ] || fail "no new session"
v sessions | grep "^$id2 " | grep -q orphan || fail "second orphan not shown"
vrun "$P" -- true || fail "a new session"
v sessions --json | python3 -c '
import json, sys
s = [x for x in (json.loads(l) for l in sys.stdin) if x["id"] == sys.argv[1]][0]
assert s["ended"] == "lost" and s["truncated"] and s["sealed"], s
' "$id2" || fail "the next supervisor did not seal the orphan"
v verify >"$WORK/v" 2>&1 || fail "verify: $(cat "$WORK/v")"
ok
