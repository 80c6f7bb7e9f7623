#!/bin/sh
# The CLI through vigild, with real sessions of a real test account:
#   (a) an auditor's `vigil sessions` (every option), `replay --instant`,
#       `replay` with its timing, `watch` print byte for byte what root's do
#       on the store (stdout, stderr and exit status), errors included;
#   (b) the interactive player on a terminal, both ways;
#   (c) who may: a responder lists and watches but does not replay, an
#       auditor does not kill, a plain user gets nothing;
#   (d) a live `vigil run` session: `sessions --live` both ways, two watchers,
#       a responder's `vigil kill --reason`: the user's line, exit 137, no
#       process left, sealed as killed, verify passes, vigild's log says who;
#   (e) root's `vigil kill` of a `vigil run` session through its control
#       socket, without a reason;
#   (f) a session vigild started (`vigil run --token-file` as the account),
#       killed by a responder;
#   (g) vigild SIGKILLed while a session it started runs: the session goes
#       on, new sessions and queries are refused, a restarted vigild works
#       and still ends the old session;
#   (h) a vigil run whose supervisor is SIGKILLed leaves no control socket.
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"
set -u

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (test users, vigild, real sessions)"; exit 77; }
: "${VIGILD:?}" "${MINT_USER:?}"

P=vc$$
TU=${P}u  # runs the sessions
TA=${P}a  # auditor (group ${P}ga)
TR=${P}r  # responder (group ${P}gr)
TP=${P}p  # plain
WORK=$(mktemp -d /tmp/vigil-vigild-cli.XXXXXX)
chmod 755 "$WORK"
STORE=$WORK/store
export VIGIL_HOST_KEY=$WORK/host.key
export VIGILD_SOCKET=$WORK/vigild.sock
VIGILD_PID=

cleanup() {
    rc=$?
    [ -n "$VIGILD_PID" ] && kill -KILL "$VIGILD_PID" 2>/dev/null
    [ -f "$WORK/pids" ] && while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$WORK/pids"
    for u in "$TU" "$TA" "$TR" "$TP"; do
        if id "$u" >/dev/null 2>&1; then
            pkill -KILL -u "$u" 2>/dev/null
            for _i in 1 2 3 4 5 6 7 8 9 10; do pgrep -u "$u" >/dev/null 2>&1 || break; sleep 0.1; done
            userdel -r "$u" >/dev/null 2>&1 || userdel "$u" >/dev/null 2>&1
        fi
    done
    groupdel "${P}ga" 2>/dev/null
    groupdel "${P}gr" 2>/dev/null
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

groupadd "${P}ga" && groupadd "${P}gr" || fail "groupadd"
useradd -m -d "$WORK/home" -s /bin/sh "$TU" || fail "useradd $TU"
useradd -M -N -s /usr/sbin/nologin -G "${P}ga" "$TA" || fail "useradd $TA"
useradd -M -N -s /usr/sbin/nologin -G "${P}gr" "$TR" || fail "useradd $TR"
useradd -M -N -s /usr/sbin/nologin "$TP" || fail "useradd $TP"
mkdir -p "$WORK/bin" "$WORK/id" "$WORK/w" "$WORK/ta"
cp "$VIGIL" "$WORK/bin/vigil" && chmod 755 "$WORK/bin/vigil" || fail "copy vigil"
cp "$VIGIL_SOURCE_ROOT/tests/vigild/pty-replay.py" "$WORK/bin/" && chmod 755 "$WORK/bin/pty-replay.py" || fail "copy"
chown "$TU" "$WORK/w"
chown "$TA" "$WORK/ta"
"$MINT_USER" "$WORK/id" "$TU" || fail "mint"
chown "$TU" "$WORK/id/token.jwt"
printf '%s\n' "default allow" "deny exe=/usr/bin/whoami" "mask email" >"$WORK/policy"
cat >"$WORK/vigil.conf" <<EOF
issuer = https://idp.example
audience = vigil-test
jwks_file = $WORK/id/jwks.json
policy = $WORK/policy
store = $STORE
auditors = local:${P}ga
responders = local:${P}gr
EOF
chmod 600 "$WORK/vigil.conf"

"$VIGILD" --socket "$VIGILD_SOCKET" --config "$WORK/vigil.conf" --log-file "$WORK/vigild.log" &
VIGILD_PID=$!
i=0
until [ -S "$VIGILD_SOCKET" ]; do
    i=$((i + 1)); [ $i -lt 1200 ] || fail "vigild did not start: $(cat "$WORK/vigild.log")"; sleep 0.05
done

# root: on the store; as USER: through vigild (no --store)
root() { "$WORK/bin/vigil" --store "$STORE" "$@"; }
as() {
    _u=$1
    shift
    (cd "$WORK/w" && setpriv --reuid="$_u" --regid="$(id -g "$_u")" --init-groups env -i PATH=/usr/bin:/bin \
        VIGILD_SOCKET="$VIGILD_SOCKET" "$WORK/bin/vigil" "$@")
}
# same ARGS...: root's and the auditor's (or $SAME_AS's) output and status are the same
SAME_AS=$TA
same() {
    root "$@" >"$WORK/r.out" 2>"$WORK/r.err"
    _rr=$?
    as "$SAME_AS" "$@" >"$WORK/a.out" 2>"$WORK/a.err"
    _ra=$?
    [ "$_rr" -eq "$_ra" ] || fail "'$*': root exited $_rr, $SAME_AS $_ra: $(cat "$WORK/r.err" "$WORK/a.err")"
    cmp -s "$WORK/r.out" "$WORK/a.out" || fail "'$*': stdout differs: $(diff "$WORK/r.out" "$WORK/a.out" | head -5)"
    cmp -s "$WORK/r.err" "$WORK/a.err" || fail "'$*': stderr differs: $(cat "$WORK/r.err"; echo ---; cat "$WORK/a.err")"
    echo "same ($_rr, $(wc -c <"$WORK/r.out") bytes): $*"
}
vrun() {
    "$WORK/bin/vigil" --policy "$WORK/policy" --store "$STORE" run --user "$TU" --no-pty "$@"
}
json_field() { # json_field ID FIELD: a field of session ID in root's --json
    root sessions --json | python3 -c '
import json, sys
for l in sys.stdin:
    s = json.loads(l)
    if s["id"] == sys.argv[1]:
        print(json.dumps(s[sys.argv[2]]))
' "$1" "$2"
}
live_id() { # the one live session's id
    root sessions --live --json | python3 -c 'import json,sys; l=[json.loads(x)["id"] for x in sys.stdin]; print(l[0] if len(l)==1 else "")'
}
wait_for() { # wait_for FILE TEXT (a minute at most: sessions start slowly on a loaded machine)
    for _i in $(seq 600); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    fail "'$2' did not appear in $1: $(cat "$1")"
}

echo "recorded sessions"
vrun -- sh -c 'for i in 1 2 3 4 5; do /bin/echo "line $i of alice@example.com"; sleep 0.3; done; whoami; exit 3' \
    >/dev/null 2>&1
[ $? -eq 3 ] || fail "session 1"
vrun -- sh -c 'head -c 20000 /dev/urandom; echo; echo text after binary; date -u +%Y >/dev/null' >/dev/null 2>&1 ||
    fail "session 2"
vrun -- sh -c 'for i in $(seq 200); do echo "row $i"; done; printf "\033[1mbold\033[0m \342\200\256 rtl\n"' \
    >/dev/null 2>&1 || fail "session 3"
S1=$(root sessions --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][0]["id"])')
[ -n "$S1" ] || fail "no session"

echo "(a) the same output both ways"
same sessions
same sessions --json
same sessions --user "$TU"
same sessions --user nobody-here
same sessions --user 'not a name'
same sessions --since 1h --until 1m
same sessions --since 1m --until 1h
same sessions --host "$(hostname)"
same sessions --command whoami
same sessions --command '^date' --json
same sessions --command '('
same sessions --live
same sessions --bogus
same replay --instant "$S1"
same replay --instant "$(echo "$S1" | cut -c1-13)"
same replay --instant --command 1 "$S1"
same replay --instant --command 99 "$S1"
same replay --instant --at 0.7s "$S1"
same replay --speed 20 "$S1"
same replay --speed 50 --idle-limit 0.01 --at 0.5s "$S1"
for s in $(root sessions --json | python3 -c 'import json,sys; [print(json.loads(l)["id"]) for l in sys.stdin]'); do
    same replay --instant "$s"
    same watch "$s"
done
same replay --instant 0
same replay --instant 0000
same replay --instant zz
same replay --instant
same watch 0000ffff
root replay --instant "$S1" | grep -q "line 3 of \[MASKED:email\]" || fail "(a) the replay is not the masked output"

echo "(b) the interactive player on a terminal"
PTYR="python3 $WORK/bin/pty-replay.py"
root replay --instant "$S1" >"$WORK/instant"
$PTYR "$WORK/pr.out" "n" "$WORK/bin/vigil" --store "$STORE" replay "$S1" || fail "(b) root's player"
# as the auditor, on a terminal of its own
setpriv --reuid="$TA" --regid="$(id -g "$TA")" --init-groups env -i PATH=/usr/bin:/bin VIGILD_SOCKET="$VIGILD_SOCKET" \
    $PTYR "$WORK/ta/pa.out" "n" "$WORK/bin/vigil" replay "$S1" || fail "(b) the auditor's player"
cmp -s "$WORK/pr.out" "$WORK/ta/pa.out" || fail "(b) the players showed different things"
# jumping forward to the end shows all of it (the terminal adds CRs)
python3 -c 'import sys; a=open(sys.argv[1],"rb").read().replace(b"\r\n",b"\n"); b=open(sys.argv[2],"rb").read(); sys.exit(a!=b)' \
    "$WORK/pr.out" "$WORK/instant" || fail "(b) the player's output is not the session's"
# q quits at once; p goes back (the screen is cleared and drawn again)
$PTYR "$WORK/pq.out" "q" "$WORK/bin/vigil" --store "$STORE" replay --speed 0.1 "$S1" || fail "(b) q"
setpriv --reuid="$TA" --regid="$(id -g "$TA")" --init-groups env -i PATH=/usr/bin:/bin VIGILD_SOCKET="$VIGILD_SOCKET" \
    $PTYR "$WORK/ta/pp.out" "nnp" "$WORK/bin/vigil" replay "$S1" || fail "(b) p"
grep -q "$(printf '\033\\[H\033\\[2J')" "$WORK/ta/pp.out" || fail "(b) p did not go back"

echo "(c) who may"
as "$TR" sessions >"$WORK/c1" 2>&1 || fail "(c) a responder cannot list: $(cat "$WORK/c1")"
as "$TR" watch "$S1" >/dev/null 2>"$WORK/c2" || fail "(c) a responder cannot watch: $(cat "$WORK/c2")"
as "$TR" replay --instant "$S1" >"$WORK/c3" 2>&1
[ $? -eq 1 ] && grep -qx "vigil: replay: not permitted for uid $(id -u "$TR")" "$WORK/c3" ||
    fail "(c) a responder replayed: $(cat "$WORK/c3")"
for cmd in "sessions" "sessions --user $TP" "replay --instant $S1" "watch $S1" "kill $S1"; do
    # shellcheck disable=SC2086
    as "$TP" $cmd >"$WORK/c4" 2>&1
    rc=$?
    c=${cmd%% *}
    [ $rc -eq 1 ] && [ "$(cat "$WORK/c4")" = "vigil: $c: not permitted for uid $(id -u "$TP")" ] ||
        fail "(c) a plain user's '$cmd': exit $rc, $(cat "$WORK/c4")"
done
# the recorded user itself is no auditor either
as "$TU" replay --instant "$S1" >"$WORK/c5" 2>&1
[ $? -eq 1 ] || fail "(c) the recorded user replayed its session"
# vigild down: one clear line
VIGILD_SOCKET=$WORK/none.sock
as "$TA" sessions >"$WORK/c6" 2>&1
[ $? -eq 1 ] && grep -qx "vigil: sessions: vigild is not running" "$WORK/c6" || fail "(c) vigild down: $(cat "$WORK/c6")"
VIGILD_SOCKET=$WORK/vigild.sock

echo "(d) a live session, watched and killed by a responder"
vrun -- sh -c 'echo started; i=0; while :; do i=$((i+1)); /bin/echo "tick $i"; sleep 0.2; done' \
    >"$WORK/d.out" 2>"$WORK/d.err" &
RUN=$!
echo "$RUN" >>"$WORK/pids"
wait_for "$WORK/d.out" "tick 3"
L=$(live_id)
[ -n "$L" ] || fail "(d) no live session: $(root sessions --live)"
# (its command count moves on between two listings: compared in (e))
for who in root "as $TA"; do
    # shellcheck disable=SC2086
    $who sessions --live >"$WORK/d0" 2>&1
    [ "$(wc -l <"$WORK/d0")" -eq 1 ] && grep -q "^$L .* live$" "$WORK/d0" || fail "(d) --live ($who): $(cat "$WORK/d0")"
done
[ -S "$WORK/sessions/$L.sock" ] || fail "(d) no control socket at $WORK/sessions/$L.sock"
root watch "$L" >"$WORK/dw-r.out" 2>"$WORK/dw-r.err" &
echo $! >>"$WORK/pids"
W1=$!
as "$TA" watch "$(echo "$L" | tr -d -)" >"$WORK/dw-a.out" 2>"$WORK/dw-a.err" &
W2=$!
echo $W2 >>"$WORK/pids"
# both follow it before it is killed
wait_for "$WORK/dw-r.out" "tick"
wait_for "$WORK/dw-a.out" "tick"
as "$TA" kill "$L" >"$WORK/d1" 2>&1
[ $? -eq 1 ] && grep -qx "vigil: kill: not permitted for uid $(id -u "$TA")" "$WORK/d1" ||
    fail "(d) an auditor killed: $(cat "$WORK/d1")"
as "$TR" kill "$(echo "$L" | cut -c1-18)" --reason "incident 9" >"$WORK/d2" 2>&1 ||
    fail "(d) the responder's kill: $(cat "$WORK/d2")"
[ "$(cat "$WORK/d2")" = "session $L ended" ] || fail "(d) kill said: $(cat "$WORK/d2")"
wait "$RUN"
rc=$?
[ $rc -eq 137 ] || fail "(d) the killed session exited $rc: $(cat "$WORK/d.err")"
[ "$(grep -c . "$WORK/d.err")" -eq 1 ] &&
    grep -qx "vigil: this session was ended: incident 9 (by $TR, uid $(id -u "$TR"))" "$WORK/d.err" ||
    fail "(d) the user's line: $(cat "$WORK/d.err")"
pgrep -u "$TU" >/dev/null && fail "(d) processes of the session are left: $(pgrep -a -u "$TU")"
wait "$W1" || fail "(d) root's watch: $(cat "$WORK/dw-r.err")"
wait "$W2" || fail "(d) the auditor's watch: $(cat "$WORK/dw-a.err")"
cmp -s "$WORK/dw-r.out" "$WORK/dw-a.out" || fail "(d) the watchers saw different output"
cmp -s "$WORK/dw-r.err" "$WORK/dw-a.err" || fail "(d) the watchers ended differently"
grep -q "vigil: watch: session ended (killed, exit " "$WORK/dw-a.err" || fail "(d) watch end: $(cat "$WORK/dw-a.err")"
grep -q "incident 9" "$WORK/dw-a.out" || fail "(d) the recording lacks the kill line"
[ "$(json_field "$L" ended)" = '"killed"' ] && [ "$(json_field "$L" sealed)" = true ] ||
    fail "(d) not sealed as killed: $(root sessions --json | grep "$L")"
[ ! -e "$WORK/sessions/$L.sock" ] || fail "(d) the control socket stayed"
root verify >"$WORK/d3" 2>&1 || fail "(d) verify: $(cat "$WORK/d3")"
grep -q "session.kill: session $L ended by $TR, uid $(id -u "$TR") (reason 'incident 9')" "$WORK/vigild.log" ||
    fail "(d) vigild did not log who: $(tail -3 "$WORK/vigild.log")"
same sessions --live
SAME_AS=$TR
same kill "$L"
SAME_AS=$TA
grep -qx "vigil: kill: no running session '$L'" "$WORK/r.err" || fail "(d) kill of an ended session: $(cat "$WORK/r.err")"

echo "(e) root kills a vigil run session through its control socket"
vrun -- sh -c 'echo started; sleep 30; echo not-killed' >"$WORK/e.out" 2>"$WORK/e.err" &
RUN=$!
echo "$RUN" >>"$WORK/pids"
wait_for "$WORK/e.out" started
L=$(live_id)
# still now once its last command (sleep) and its output are committed: the same both ways
for _i in $(seq 600); do
    [ "$(json_field "$L" commands)" = 2 ] && [ "$(json_field "$L" output_bytes)" = 8 ] && break
    sleep 0.1
done
[ "$(json_field "$L" commands)" = 2 ] && [ "$(json_field "$L" output_bytes)" = 8 ] ||
    fail "(e) the sleep and 'started' were not recorded: $(root sessions --json | grep "$L")"
same sessions --live
grep -q "^$L .* live$" "$WORK/a.out" || fail "(e) --live: $(cat "$WORK/a.out")"
same sessions --live --json
root kill "$L" >"$WORK/e1" 2>&1 || fail "(e) kill: $(cat "$WORK/e1")"
wait "$RUN"
[ $? -eq 137 ] || fail "(e) exit status"
grep -qx "vigil: this session was ended (by root, uid 0.*)" "$WORK/e.err" || fail "(e) the user's line: $(cat "$WORK/e.err")"
grep -q not-killed "$WORK/e.out" && fail "(e) the session went on"
[ "$(json_field "$L" ended)" = '"killed"' ] || fail "(e) not sealed as killed"
root kill zz >"$WORK/e2" 2>&1
[ $? -eq 1 ] && grep -qx "vigil: kill: 'zz' is not a session id (hexadecimal, dashes optional)" "$WORK/e2" ||
    fail "(e) a bad id: $(cat "$WORK/e2")"
root kill "$L" --reason "$(printf 'two\nlines')" >"$WORK/e3" 2>&1
[ $? -eq 2 ] || fail "(e) a reason of two lines was taken"

echo "(f) a session vigild started, killed by a responder"
(cd "$WORK/w" && setpriv --reuid="$TU" --regid="$(id -g "$TU")" --init-groups env -i PATH=/usr/bin:/bin \
    VIGILD_SOCKET="$VIGILD_SOCKET" "$WORK/bin/vigil" run --token-file "$WORK/id/token.jwt" --no-pty -- \
    sh -c 'echo started; sleep 30; echo not-killed') >"$WORK/f.out" 2>"$WORK/f.err" &
RUN=$!
echo "$RUN" >>"$WORK/pids"
wait_for "$WORK/f.out" started
L=$(live_id)
[ -n "$L" ] || fail "(f) the session is not live in the store"
[ -f "$WORK/sessions/$L" ] || fail "(f) not a session vigild started (no record)"
as "$TR" kill "$L" --reason "token revoked" >"$WORK/f1" 2>&1 || fail "(f) kill: $(cat "$WORK/f1")"
wait "$RUN"
rc=$?
[ $rc -eq 137 ] || fail "(f) exit $rc: $(cat "$WORK/f.err")"
grep -qx "vigil: this session was ended: token revoked (by $TR, uid $(id -u "$TR"))" "$WORK/f.err" ||
    fail "(f) the user's line: $(cat "$WORK/f.err")"
grep -q not-killed "$WORK/f.out" && fail "(f) the session went on"
pgrep -u "$TU" >/dev/null && fail "(f) processes left: $(pgrep -a -u "$TU")"
[ "$(json_field "$L" ended)" = '"killed"' ] && [ "$(json_field "$L" sealed)" = true ] || fail "(f) not sealed as killed"
[ "$(json_field "$L" subject)" = "\"sub-$TU\"" ] || fail "(f) the session has not the token's identity"
root verify >"$WORK/f2" 2>&1 || fail "(f) verify: $(cat "$WORK/f2")"

echo "(g) vigild SIGKILL during a session it started"
start_vigild() {
    "$VIGILD" --socket "$VIGILD_SOCKET" --config "$WORK/vigil.conf" --log-file "$WORK/vigild.log" &
    VIGILD_PID=$!
    for _i in $(seq 1200); do as "$TA" sessions --live >/dev/null 2>&1 && return 0; sleep 0.05; done
    fail "vigild did not start: $(tail -3 "$WORK/vigild.log")"
}
token_run() {
    (cd "$WORK/w" && setpriv --reuid="$TU" --regid="$(id -g "$TU")" --init-groups env -i PATH=/usr/bin:/bin \
        VIGILD_SOCKET="$VIGILD_SOCKET" "$WORK/bin/vigil" run --token-file "$WORK/id/token.jwt" --no-pty -- "$@")
}
# it goes on past g.go, which comes once vigild died and was missed
rm -f "$WORK/w/g.go"
token_run sh -c 'echo started; i=0; while [ ! -e g.go ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
    [ -e g.go ] && echo survived; sleep 60; echo not-killed' >"$WORK/g.out" 2>"$WORK/g.err" &
RUN=$!
echo "$RUN" >>"$WORK/pids"
wait_for "$WORK/g.out" started
L=$(live_id)
kill -KILL "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null
VIGILD_PID=
token_run /bin/echo ran >"$WORK/g1.out" 2>"$WORK/g1.err"
rc=$?
[ $rc -eq 125 ] && [ ! -s "$WORK/g1.out" ] && grep -qx "vigil: run: vigild is not running" "$WORK/g1.err" ||
    fail "(g) a session started without vigild: exit $rc, $(cat "$WORK/g1.out" "$WORK/g1.err")"
as "$TR" kill "$L" >"$WORK/g2" 2>&1
[ $? -eq 1 ] && grep -qx "vigil: kill: vigild is not running" "$WORK/g2" || fail "(g) kill without vigild: $(cat "$WORK/g2")"
touch "$WORK/w/g.go"
wait_for "$WORK/g.out" survived
start_vigild
token_run /bin/echo back >"$WORK/g3.out" 2>&1 || fail "(g) no session after the restart: $(cat "$WORK/g3.out")"
grep -qx back "$WORK/g3.out" || fail "(g) $(cat "$WORK/g3.out")"
as "$TR" kill "$L" --reason "after the restart" >"$WORK/g4" 2>&1 || fail "(g) kill after the restart: $(cat "$WORK/g4")"
wait "$RUN"
rc=$?
[ $rc -eq 137 ] || fail "(g) exit $rc: $(cat "$WORK/g.err")"
grep -qx "vigil: this session was ended: after the restart (by $TR, uid $(id -u "$TR"))" "$WORK/g.err" ||
    fail "(g) the user's line: $(cat "$WORK/g.err")"
grep -q not-killed "$WORK/g.out" && fail "(g) the session went on"
[ "$(json_field "$L" ended)" = '"killed"' ] && [ "$(json_field "$L" sealed)" = true ] || fail "(g) not sealed as killed"
root verify >"$WORK/g5" 2>&1 || fail "(g) verify: $(cat "$WORK/g5")"

echo "(h) a supervisor SIGKILLed leaves no control socket"
"$WORK/bin/vigil" --policy "$WORK/policy" --store "$STORE" run --user "$TU" --no-pty -- sh -c 'echo started; sleep 30' \
    >"$WORK/h.out" 2>&1 &
RUN=$! # vigil itself: the supervisor
echo "$RUN" >>"$WORK/pids"
wait_for "$WORK/h.out" started
L=$(live_id)
[ -S "$WORK/sessions/$L.sock" ] || fail "(h) no control socket"
kill -KILL "$RUN"
wait "$RUN" 2>/dev/null
for i in $(seq 300); do [ -e "$WORK/sessions/$L.sock" ] || break; sleep 0.1; done
[ ! -e "$WORK/sessions/$L.sock" ] || fail "(h) the dead supervisor's control socket stayed"
SAME_AS=$TR
same kill "$L"
SAME_AS=$TA
# the watchdog killed the session (zombies wait for init to reap them)
for i in $(seq 300); do ps -u "$TU" -o stat= | grep -qv '^Z' || break; sleep 0.1; done
ps -u "$TU" -o stat= | grep -qv '^Z' && fail "(h) processes left: $(ps -u "$TU" -o pid,stat,cmd)"

kill -TERM "$VIGILD_PID"
wait "$VIGILD_PID"
rc=$?
VIGILD_PID=
[ $rc -eq 0 ] || fail "vigild exited $rc"
ok
