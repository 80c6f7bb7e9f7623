#!/bin/sh
# The hand-off of a login to its supervisor, without sshd: the real libpam
# runs pam_vigil's auth, account and session phases (pam-converse, token in
# parts from the real test identity provider), and vigil-shell is then run
# as the account the way sshd would run it, with the session reference in
# its environment. vigild is the real daemon with its real backends; every
# session is a real supervised session of a real test account. Both builds
# (this is where vigild's backends, vigil-shell and the PAM session side run
# under ASan+UBSan); test-handoff-sshd.sh does the same through sshd.
#   (a) a login runs supervised: the command runs as the account, in the
#       session's cgroup, with the real shell, its commands in the events;
#       its reference works once; a denied command; exit statuses;
#   (b) group= sees the token's groups, not the local ones;
#   (c) vigil-shell outside a session, with a bad reference, vigild down;
#   (d) the login shell must be vigil-shell; pam.close drops an unused reference;
#   (e) session.kill: the user sees the reason, the session ends;
#   (f) auditors by an identity-provider group: from inside a session only;
#   (g) session_max = token: warned, then ended at the token's expiry;
#   (h) vigild SIGKILL during a session: it goes on, logins are refused,
#       a restarted vigild works;
#   (i) vigil run --token-file: root (identity in the session) and a CI
#       account through vigild (as itself only).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PV_INNER:-}" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-handoff.XXXXXX") || exit 1
    PV_INNER=1 PV_TMP=$tmp SYSLOG=$tmp/syslog exec "$VIGIL_SOURCE_ROOT/tests/pam_module/with-syslog" "$tmp/syslog" "$0" "$@"
fi
export PV_INNER
tmp=$PV_TMP
. "$here/lib.sh"
trap ho_cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" -eq 0 ] || fail "must run as root (test accounts, vigild, supervised sessions)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"
ho_bin

user=vth$$ # signs in; groups ops-PID (auditors) and deploy-PID (policy)
ci=vtc$$   # a CI runner account; its token has neither
alt=vta$$  # an account whose login shell is not vigil-shell
pv_useradd "$user" "$tmp/bin/vigil-shell"
pv_useradd "$ci" "$tmp/bin/vigil-shell"
pv_useradd "$alt" /bin/sh
for u in "$user" "$ci" "$alt"; do
    mkdir -p "$tmp/home/$u"
    chown "$u:" "$tmp/home/$u"
done
cat >"$tmp/accounts.json" <<EOF2
{
  "$user": {"email": "$user@example.test", "groups": ["vigil-users", "ops-$$", "deploy-$$"]},
  "$ci": {"groups": ["ci-$$"]},
  "$alt": {"groups": ["vigil-users"]}
}
EOF2
cat >"$tmp/policy" <<EOF2
default allow
deny exe=/usr/bin/whoami message="whoami is not allowed here"
deny exe=/usr/bin/stat group!=deploy-$$ message="stat needs deploy"
EOF2

step "provider, vigild, PAM services"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" || fail "idp_start"
P1_URL=$IDP_URL
pv_config "$tmp/main.conf" <<EOF2
policy = $tmp/policy
shell = /bin/bash
auditors = group:ops-$$
EOF2
# A second provider whose tokens live 8 s, with its own vigild: session_max = token.
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --id-token-ttl 8 || fail "idp_start 2"
pv_config "$tmp/short.conf" <<EOF2
policy = $tmp/policy
session_max = token
clock_skew = 0s
EOF2
IDP_URL=$P1_URL
sock=$tmp/vigild.sock
ho_vigild "$sock" "$tmp/main.conf"
HO_ENV="VIGILD_SOCKET=$sock"

mkdir "$tmp/pam.d"
printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" "password required pam_deny.so" \
    "session required pam_deny.so" >"$tmp/pam.d/other"
for t in auth account session; do
    echo "$t required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock vigil_shell=$tmp/bin/vigil-shell"
done >"$tmp/pam.d/handoff"

pv_token "$tmp/good" "$user"
pv_token "$tmp/ci" "$ci"
pv_token "$tmp/alt" "$alt"
chmod 644 "$tmp/ci" "$tmp/good"

step "(a) a login runs supervised"
ref=$(ho_login "$tmp/a.login" handoff "$user" "$tmp/good")
printf '%s' "$ref" | grep -qxE '[0-9a-f]{64}' || fail "(a) no session reference: $(cat "$tmp/a.login")"
pv_has "$tmp/a.login" "open_session: PAM_SUCCESS"
pv_hasnt "$tmp/a.login" "env-now: VIGIL_LOGIN_REF="
pv_has "$tmp/a.login" "env-now: VIGILD_SOCKET=$sock"
pv_has "$tmp/a.login" "hygiene: ok"
pv_log_wait "pam_vigil\(handoff:session\): session for '$user' handed to vigil-shell" >/dev/null
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c \
    'echo "hello $(id -un)"; echo "shell=$SHELL"; grep -c ":/vigil/" /proc/self/cgroup; echo "ref=${VIGIL_SESSION_REF:-none}"' \
    >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
[ "$rc" -eq 0 ] || fail "(a) vigil-shell exited $rc: $(cat "$tmp/a.out" "$tmp/a.err")"
pv_has "$tmp/a.out" "hello $user"
pv_has "$tmp/a.out" "shell=/bin/bash"
pv_has "$tmp/a.out" "ref=none"
grep -qxE '[1-9][0-9]*' "$tmp/a.out" || fail "(a) the command did not run in a session cgroup: $(cat "$tmp/a.out")"
# its commands are the session's events, with the account and the identity's session id
grep -h '"exe":"/usr/bin/id"' "$tmp"/events/*.jsonl | grep -q "\"user\":\"$user\"" ||
    fail "(a) no event of id in $(cat "$tmp"/events/*.jsonl)"
grep -q "session.start: session [0-9a-f-]* of '$user'" "$tmp/vigild.log" || fail "(a) vigild did not log the session"
# the reference was used up
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo again' >"$tmp/a2.out" 2>"$tmp/a2.err"
rc=$?
[ "$rc" -eq 1 ] || fail "(a) a second use of the reference exited $rc"
pv_hasnt "$tmp/a2.out" "again"
pv_has "$tmp/a2.err" "vigil: session.start: unknown, expired or used reference; refusing to run anything"
[ "$(wc -l <"$tmp/a2.err")" -eq 1 ] || fail "(a) more than one line: $(cat "$tmp/a2.err")"
# a denied command, and exit statuses
ref=$(ho_login "$tmp/a3.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'whoami' >"$tmp/a3.out" 2>"$tmp/a3.err"
rc=$?
[ "$rc" -eq 126 ] || fail "(a) a denied command: exit $rc, not 126: $(cat "$tmp/a3.err")"
pv_has "$tmp/a3.err" "vigil: denied: whoami ($tmp/policy:2: whoami is not allowed here)"
ref=$(ho_login "$tmp/a4.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'exit 7' >/dev/null 2>&1
rc=$?
[ "$rc" -eq 7 ] || fail "(a) exit 7 came back as $rc"

step "(b) group= sees the token's groups"
# $user has no local group deploy-PID; its token has it.
ref=$(ho_login "$tmp/b.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'stat -c %n /etc/hostname' \
    >"$tmp/b.out" 2>"$tmp/b.err" || fail "(b) stat was refused with the token's group: $(cat "$tmp/b.err")"
pv_has "$tmp/b.out" "/etc/hostname"

step "(c) vigil-shell outside a session"
ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo ran' >"$tmp/c1.out" 2>"$tmp/c1.err"
rc=$?
[ "$rc" -eq 1 ] && [ ! -s "$tmp/c1.out" ] || fail "(c) without a reference: exit $rc, $(cat "$tmp/c1.out")"
pv_has "$tmp/c1.err" "vigil: not in a vigil session (no VIGIL_SESSION_REF); refusing to run anything"
HO_ENV="$HO_ENV VIGIL_SESSION_REF=nothex" ho_as "$user" "$tmp/bin/vigil-shell" >"$tmp/c2.out" 2>"$tmp/c2.err" </dev/null
[ $? -eq 1 ] || fail "(c) a malformed reference was not refused"
pv_has "$tmp/c2.err" "VIGIL_SESSION_REF is not a session reference"
HO_ENV="VIGILD_SOCKET=$tmp/none.sock VIGIL_SESSION_REF=$(printf '%064d' 0)" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo ran' \
    >"$tmp/c3.out" 2>"$tmp/c3.err"
[ $? -eq 1 ] && [ ! -s "$tmp/c3.out" ] || fail "(c) vigild down: not refused"
pv_has "$tmp/c3.err" "vigil: cannot start the session: vigild is not running; refusing to run anything"
ho_as "$user" "$tmp/bin/vigil-shell" -i >"$tmp/c4.out" 2>"$tmp/c4.err"
[ $? -eq 1 ] || fail "(c) vigil-shell -i was not refused"

step "(d) the login shell must be vigil-shell; pam.close drops an unused reference"
echo "session required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock vigil_shell=vigil-shell" \
    >"$tmp/pam.d/args-shell"
"$PAM_CONVERSE" --confdir "$tmp/pam.d" --service args-shell --user "$user" --ops open_session,close_session \
    >"$tmp/d0.out" 2>&1
pv_has "$tmp/d0.out" "open_session: PAM_SERVICE_ERR"
pv_has "$tmp/d0.out" "close_session: PAM_SERVICE_ERR"
pv_log_wait "pam_vigil\(args-shell:session\): module argument 'vigil_shell=vigil-shell' needs an absolute path" >/dev/null
ref=$(ho_login "$tmp/d1.login" handoff "$alt" "$tmp/alt")
[ -z "$ref" ] || fail "(d) a session reference for an account whose shell is /bin/sh"
pv_has "$tmp/d1.login" "open_session: PAM_SESSION_ERR"
pv_has "$tmp/d1.login" "error: vigil: the session cannot start"
pv_log_wait "pam_vigil\(handoff:session\): session refused for '$alt': its login shell is '/bin/sh', not '$tmp/bin/vigil-shell'" >/dev/null
ref=$(ho_login "$tmp/d2.login" handoff "$user" "$tmp/good" auth,account,open_session,env,close_session)
pv_has "$tmp/d2.login" "close_session: PAM_SUCCESS"
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo ran' >"$tmp/d2.out" 2>"$tmp/d2.err"
[ $? -eq 1 ] && [ ! -s "$tmp/d2.out" ] || fail "(d) a reference pam.close dropped still worked"

step "(e) session.kill"
ref=$(ho_login "$tmp/e.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo started; sleep 30; echo not-killed' \
    >"$tmp/e.out" 2>"$tmp/e.err" &
bg=$!
ho_wait_file "$tmp/e.out" started
sid=$(ho_session_ids)
[ "$(echo "$sid" | wc -w)" -eq 1 ] || fail "(e) expected one running session, found '$sid'"
"$tmp/bin/vigild-call" "$sock" kill "$sid" "incident 7" >"$tmp/e.kill" || fail "(e) vigild-call"
pv_has "$tmp/e.kill" "status: ok"
wait "$bg"
rc=$?
[ "$rc" -eq 137 ] || fail "(e) the killed session exited $rc, not 137: $(cat "$tmp/e.err" "$tmp/e.out")"
pv_has "$tmp/e.err" "vigil: this session was ended: incident 7"
pv_hasnt "$tmp/e.out" "not-killed"
"$tmp/bin/vigild-call" "$sock" kill "$sid" >"$tmp/e.kill2"
pv_has "$tmp/e.kill2" "error: session.kill: no running session with this id"
[ -z "$(ho_session_ids)" ] || fail "(e) a session record stayed: $(ho_session_ids)"

step "(f) auditors by an identity-provider group, from inside a session"
ho_as "$user" "$tmp/bin/vigild-call" "$sock" status >"$tmp/f1.out"
pv_has "$tmp/f1.out" "status: refused"
ref=$(ho_login "$tmp/f.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c "$tmp/bin/vigild-call $sock status" \
    >"$tmp/f2.out" 2>"$tmp/f2.err" || fail "(f) $(cat "$tmp/f2.err")"
pv_has "$tmp/f2.out" "status: ok"

step "(g) session_max = token: warned, then ended"
sock2=$tmp/short/vigild.sock
mkdir -p "$tmp/short"
_keep=$VIGILD_PID
ho_vigild "$sock2" "$tmp/short.conf"
VIGILD2_PID=$VIGILD_PID
VIGILD_PID=$_keep
for t in auth account session; do
    echo "$t required $PAM_VIGIL_SO config=$tmp/short.conf vigild_socket=$sock2 vigil_shell=$tmp/bin/vigil-shell"
done >"$tmp/pam.d/handoff-short"
IDP_URL=$(sed -n 's/^issuer = //p' "$tmp/short.conf")
pv_token "$tmp/short-token" "$user"
IDP_URL=$P1_URL
ref=$(ho_login "$tmp/g.login" handoff-short "$user" "$tmp/short-token")
[ -n "$ref" ] || fail "(g) no login: $(cat "$tmp/g.login")"
t0=$(date +%s)
HO_ENV="VIGILD_SOCKET=$sock2 VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'sleep 60; echo outlived' \
    >"$tmp/g.out" 2>"$tmp/g.err"
rc=$?
t=$(($(date +%s) - t0))
[ "$rc" -eq 137 ] || fail "(g) exit $rc, not 137: $(cat "$tmp/g.err")"
[ "$t" -le 12 ] || fail "(g) the session ran $t s past a token that lived 8 s"
grep -qE "^vigil: your sign-in expires at [0-9:]+ UTC: this session ends in [0-9]+ seconds$" "$tmp/g.err" ||
    fail "(g) no warning: $(cat "$tmp/g.err")"
pv_has "$tmp/g.err" "vigil: your sign-in has expired; ending the session"
pv_hasnt "$tmp/g.out" "outlived"
# the token has expired now: a login with it gets no session
ref=$(ho_login "$tmp/g2.login" handoff-short "$user" "$tmp/short-token")
[ -z "$ref" ] || fail "(g) an expired token opened a session"

step "(h) vigild SIGKILL during a session"
ref=$(ho_login "$tmp/h.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo started; sleep 3; echo survived' \
    >"$tmp/h.out" 2>"$tmp/h.err" &
bg=$!
ho_wait_file "$tmp/h.out" started
kill -9 "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null
ref=$(ho_login "$tmp/h2.login" handoff "$user" "$tmp/good")
[ -z "$ref" ] || fail "(h) a login while vigild is down"
pv_has "$tmp/h2.login" "auth: PAM_AUTHINFO_UNAVAIL"
wait "$bg"
rc=$?
[ "$rc" -eq 0 ] || fail "(h) the session did not go on without vigild: exit $rc, $(cat "$tmp/h.err")"
pv_has "$tmp/h.out" "survived"
ho_vigild "$sock" "$tmp/main.conf"
ref=$(ho_login "$tmp/h3.login" handoff "$user" "$tmp/good")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo back' >"$tmp/h3.out" 2>&1 ||
    fail "(h) no session after the restart: $(cat "$tmp/h3.out")"
pv_has "$tmp/h3.out" "back"

step "(i) vigil run --token-file"
# root: the token's identity goes with the session (group= sees deploy-PID)
"$tmp/bin/vigil" --config "$tmp/main.conf" run --token-file "$tmp/good" --user "$user" --no-pty -- \
    stat -c %n /etc/hostname >"$tmp/i1.out" 2>"$tmp/i1.err" || fail "(i) root with a token: $(cat "$tmp/i1.err")"
pv_has "$tmp/i1.out" "/etc/hostname"
"$tmp/bin/vigil" --policy "$tmp/policy" run --user "$user" --no-pty -- stat -c %n /etc/hostname \
    >"$tmp/i2.out" 2>"$tmp/i2.err"
[ $? -eq 126 ] || fail "(i) without the token the local groups should not allow stat"
"$tmp/bin/vigil" --config "$tmp/main.conf" run --token-file "$tmp/ci" --user "$user" --no-pty -- true \
    >"$tmp/i3.out" 2>"$tmp/i3.err"
[ $? -eq 125 ] || fail "(i) root ran with another person's token"
grep -q "^vigil: run: token refused: username claim" "$tmp/i3.err" || fail "(i) $(cat "$tmp/i3.err")"
# a CI account through vigild: runs as itself, with the host's policy
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" -- /bin/sh -c 'id -un; echo "$PWD"; stat -c %n /etc/hostname' \
    >"$tmp/i4.out" 2>"$tmp/i4.err"
rc=$?
[ "$rc" -eq 126 ] || fail "(i) CI: exit $rc, not 126: $(cat "$tmp/i4.out" "$tmp/i4.err")"
pv_has "$tmp/i4.out" "$ci"
pv_has "$tmp/i4.out" "$tmp/home/$ci"
pv_has "$tmp/i4.err" "vigil: denied: stat -c %n /etc/hostname ($tmp/policy:3: stat needs deploy)"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" -- /bin/sh -c 'exit 3' </dev/null >/dev/null 2>&1
[ $? -eq 3 ] || fail "(i) CI: exit status not relayed"
# on a terminal: the session gets a terminal of its own, relayed to the caller's
ho_as "$ci" script -qec "$tmp/bin/vigil run --token-file $tmp/ci -- /bin/sh -c 'test -t 0 && echo on-a-tty; tty'" \
    /dev/null </dev/null >"$tmp/i8.out" 2>&1 || fail "(i) CI on a terminal: $(cat "$tmp/i8.out")"
pv_has "$tmp/i8.out" "on-a-tty"
grep -q "^/dev/pts/[0-9]" "$tmp/i8.out" || fail "(i) CI on a terminal: $(cat "$tmp/i8.out")"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" --user root -- id >"$tmp/i5.out" 2>"$tmp/i5.err"
[ $? -eq 125 ] && [ ! -s "$tmp/i5.out" ] || fail "(i) CI ran as root"
pv_has "$tmp/i5.err" "vigil: run: only root can run a session as another user"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/good" -- id >"$tmp/i6.out" 2>"$tmp/i6.err"
[ $? -eq 125 ] && [ ! -s "$tmp/i6.out" ] || fail "(i) CI ran with another person's token"
pv_has "$tmp/i6.err" "vigil: run: session.start: token refused"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" --policy /dev/null -- id >"$tmp/i7.out" 2>"$tmp/i7.err"
[ $? -eq 125 ] || fail "(i) CI chose its own policy"
grep -q "username claim" "$tmp/vigild.log" || fail "(i) vigild did not log why the token was refused"

step "vigild stops cleanly (in the ASan build: without leaks)"
for p in "$VIGILD_PID" "$VIGILD2_PID"; do
    kill -TERM "$p"
    wait "$p"
    rc=$?
    [ "$rc" -eq 0 ] || fail "vigild (pid $p) exited $rc"
done
step "done"
