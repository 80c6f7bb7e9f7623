#!/bin/sh
# Requests of two sessions at once, each decided on its own; and a
# supervisor killed (SIGKILL) while it holds a request: the held process
# never runs, the session's processes are gone, and the next supervisor's
# start rejects the request ("supervisor lost"), after which nobody can
# approve it.
. "$(dirname "$0")/lib.sh"

P="$TMPD/p.policy"
policy "$P" "default allow
hold exe=/usr/bin/whoami timeout=60s"

# -- two sessions, two requests, decided differently
vrun "$P" -- sh -c 'echo one; whoami; echo "rc=$?"' >"$TMPD/out1" 2>"$TMPD/err1" &
v1=$!
vrun "$P" -- sh -c 'echo two; whoami; echo "rc=$?"' >"$TMPD/out2" 2>"$TMPD/err2" &
v2=$!
atool wait --count 2 --timeout 30 >"$TMPD/ids" || fail "two requests: $(cat "$TMPD/err1" "$TMPD/err2")"
set -- $(cat "$TMPD/ids")
[ "$(session_of "$1")" != "$(session_of "$2")" ] || fail "both requests in one session"
# which is which: the request's screen shows its session's first line
case $(atool get "$1") in
*'"screen":"one'*) r1=$1 r2=$2 ;;
*) r1=$2 r2=$1 ;;
esac
atool decide "$r2" reject --subject bob --reason "not this one" || fail "reject"
wait "$v2" || fail "session two exit $?"
[ "$(cat "$TMPD/out2")" = "two
rc=126" ] || fail "session two: $(cat "$TMPD/out2")"
grep -q "rejected by bob (request $r2): not this one" "$TMPD/err2" || fail "session two line: $(cat "$TMPD/err2")"
# the first is still waiting
[ "$(state_of "$r1")" = pending ] || fail "session one's request: $(state_of "$r1")"
grep -q "^$TU\$" "$TMPD/out1" && fail "session one ran before its approval"
atool decide "$r1" approve --subject bob || fail "approve"
wait "$v1" || fail "session one exit $?"
[ "$(cat "$TMPD/out1")" = "one
$TU
rc=0" ] || fail "session one: $(cat "$TMPD/out1")"
grep -q "held for approval (request $r2)" "$TMPD/err1" && fail "session one saw the other's request"

# -- the supervisor is killed while it holds a request
( exec "$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- sh -c 'whoami > ran; sleep 100' ) \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request: $(cat "$TMPD/err")"
kill -KILL "$vp"
wait "$vp" 2>/dev/null
# the watchdog ends the session: nothing of it is left (the bound is a hang guard)
i=0
while [ "$(alive_count "$TU")" -ne 0 ]; do
    i=$((i + 1))
    [ $i -gt 600 ] && fail "processes left after the supervisor died: $(pgrep -u "$TU" -a)"
    sleep 0.05
done
[ -s "$TMPD/w/ran" ] && fail "the held command ran: $(cat "$TMPD/w/ran")"
# nobody has looked yet: the request is still pending, its owner gone
[ "$(state_of "$id")" = pending ] || fail "state before the next start: $(state_of "$id")"
# the next supervisor's start rejects it
vrun "$P" -- true || fail "next session"
atool get "$id" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["state"] == "rejected" and d["reason"] == "supervisor lost" and d["decided_by"] is None, d
' || fail "request after the next start: $(atool get "$id")"
atool decide "$id" approve --subject bob 2>"$TMPD/e" && fail "approved a lost request"
grep -q EALREADY "$TMPD/e" || fail "approve lost: $(cat "$TMPD/e")"
[ -s "$TMPD/w/ran" ] && fail "the held command ran late"
# the killed session was sealed as truncated by that start; the store verifies
"$VIGIL" --store "$STORE" verify >"$TMPD/v" 2>&1 || fail "verify: $(cat "$TMPD/v")"
exit 0
