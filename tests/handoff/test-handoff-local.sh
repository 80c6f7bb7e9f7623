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
#       account through vigild (as itself only);
#   (j) a per-user shell (vigil.conf `shell.USER`) runs supervised for that
#       account only, recorded in the store with the identity, tty and client
#       address open_session passed on;
#   (k) close_session ends a session that still runs;
#   (l) a login whose supervisor cannot start is refused: a per-user shell
#       that is missing, not executable or not root's alone, a policy that
#       does not load; nothing runs;
#   (m) session_max = token with a token that lives 90 s: the warning comes a
#       minute before the expiry, the end at the expiry (this session runs in
#       the background from the start).
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
zu=vtw$$   # an account with a shell of its own in vigil.conf (shell.vtwPID)
pv_useradd "$user" "$tmp/bin/vigil-shell"
pv_useradd "$ci" "$tmp/bin/vigil-shell"
pv_useradd "$alt" /bin/sh
pv_useradd "$zu" "$tmp/bin/vigil-shell"
for u in "$user" "$ci" "$alt" "$zu"; do
    mkdir -p "$tmp/home/$u"
    chown "$u:" "$tmp/home/$u"
done
cat >"$tmp/accounts.json" <<EOF2
{
  "$user": {"email": "$user@example.test", "groups": ["vigil-users", "ops-$$", "deploy-$$"]},
  "$ci": {"groups": ["ci-$$"]},
  "$alt": {"groups": ["vigil-users"]},
  "$zu": {"email": "$zu@example.test", "groups": ["vigil-users", "zsh-$$"]}
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
shell.$zu = /bin/dash
auditors = group:ops-$$
EOF2
# A second provider whose tokens live 8 s, with its own vigild: session_max = token.
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --id-token-ttl 8 || fail "idp_start 2"
pv_config "$tmp/short.conf" <<EOF2
policy = $tmp/policy
session_max = token
clock_skew = 0s
EOF2
# A third provider whose tokens live 90 s, with its own vigild: the warning a
# minute before the expiry (m).
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --id-token-ttl 90 || fail "idp_start 3"
pv_config "$tmp/long.conf" <<EOF2
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
pv_token "$tmp/zu" "$zu"
chmod 644 "$tmp/ci" "$tmp/good"

# (m) starts here and is checked at the end: a session whose token lives 90 s
# (the login and the session's start must come before the warning is due,
# 30 s after the token was made: a loaded machine takes a while).
sock3=$tmp/long/vigild.sock
mkdir -p "$tmp/long"
_keep=$VIGILD_PID
ho_vigild "$sock3" "$tmp/long.conf"
VIGILD3_PID=$VIGILD_PID
VIGILD_PID=$_keep
for t in auth account session; do
    echo "$t required $PAM_VIGIL_SO config=$tmp/long.conf vigild_socket=$sock3 vigil_shell=$tmp/bin/vigil-shell"
done >"$tmp/pam.d/handoff-long"
IDP_URL=$(sed -n 's/^issuer = //p' "$tmp/long.conf")
pv_token "$tmp/long-token" "$user"
IDP_URL=$P1_URL
long_exp=$(/usr/bin/python3 -c '
import base64, json, sys
p = open(sys.argv[1]).read().strip().split(".")[1]
print(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))["exp"])' "$tmp/long-token") ||
    fail "(m) cannot read the token's exp"
ref=$(ho_login "$tmp/m.login" handoff-long "$user" "$tmp/long-token")
[ -n "$ref" ] || fail "(m) no login: $(cat "$tmp/m.login")"
# each line the session writes to stderr, with the second it arrived
mkfifo "$tmp/m.fifo"
(while IFS= read -r l; do echo "$(date +%s) $l"; done <"$tmp/m.fifo" >"$tmp/m.err") &
m_reader=$!
HO_ENV="VIGILD_SOCKET=$sock3 VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'sleep 150; echo outlived' \
    >"$tmp/m.out" 2>"$tmp/m.fifo" &
m_pid=$!

step "(a) a login runs supervised"
ref=$(ho_login "$tmp/a.login" handoff "$user" "$tmp/good")
printf '%s' "$ref" | grep -qxE '[0-9a-f]{64}' || fail "(a) no session reference: $(cat "$tmp/a.login")"
pv_has "$tmp/a.login" "open_session: PAM_SUCCESS"
pv_hasnt "$tmp/a.login" "env-now: VIGIL_LOGIN_REF="
pv_has "$tmp/a.login" "env-now: VIGILD_SOCKET=$sock"
pv_has "$tmp/a.login" "hygiene: ok"
pv_log_wait "pam_vigil\(handoff:session\): session for '$user' handed to vigil-shell" >/dev/null
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c \
    'echo "hello $(id -un)"; echo "shell=$SHELL"; grep -c ":/vigil/" /proc/self/cgroup; echo "ref=${VIGIL_SESSION_REF:-none}"; echo "exe=$(readlink /proc/$$/exe)"' \
    >"$tmp/a.out" 2>"$tmp/a.err"
rc=$?
[ "$rc" -eq 0 ] || fail "(a) vigil-shell exited $rc: $(cat "$tmp/a.out" "$tmp/a.err")"
pv_has "$tmp/a.out" "hello $user"
pv_has "$tmp/a.out" "shell=/bin/bash"
pv_has "$tmp/a.out" "exe=$(readlink -f /bin/bash)"
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
# the session goes on until h.go is there, which comes after vigild died
rm -f "$tmp/home/$user/h.go"
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c \
    'echo started; i=0; while [ ! -e '"$tmp/home/$user/h.go"' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; [ -e '"$tmp/home/$user/h.go"' ] && echo survived' \
    >"$tmp/h.out" 2>"$tmp/h.err" &
bg=$!
ho_wait_file "$tmp/h.out" started
kill -9 "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null
ref=$(ho_login "$tmp/h2.login" handoff "$user" "$tmp/good")
[ -z "$ref" ] || fail "(h) a login while vigild is down"
pv_has "$tmp/h2.login" "auth: PAM_AUTHINFO_UNAVAIL"
touch "$tmp/home/$user/h.go"
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
"$tmp/bin/vigil" --policy "$tmp/policy" --store "$tmp/store" run --user "$user" --no-pty -- stat -c %n /etc/hostname \
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
# not anchored: script(1), its input at an end, types ^D; one typed before
# vigil's side of the terminal goes raw becomes a NUL there (the kernel's
# canonical EOF mark), which the session's terminal echoes as "^@"
grep -q "/dev/pts/[0-9]" "$tmp/i8.out" || fail "(i) CI on a terminal: $(cat "$tmp/i8.out")"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" --user root -- id >"$tmp/i5.out" 2>"$tmp/i5.err"
[ $? -eq 125 ] && [ ! -s "$tmp/i5.out" ] || fail "(i) CI ran as root"
pv_has "$tmp/i5.err" "vigil: run: only root can run a session as another user"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/good" -- id >"$tmp/i6.out" 2>"$tmp/i6.err"
[ $? -eq 125 ] && [ ! -s "$tmp/i6.out" ] || fail "(i) CI ran with another person's token"
pv_has "$tmp/i6.err" "vigil: run: session.start: token refused"
ho_as "$ci" "$tmp/bin/vigil" run --token-file "$tmp/ci" --policy /dev/null -- id >"$tmp/i7.out" 2>"$tmp/i7.err"
[ $? -eq 125 ] || fail "(i) CI chose its own policy"
grep -q "username claim" "$tmp/vigild.log" || fail "(i) vigild did not log why the token was refused"

step "(j) a per-user shell (shell.$zu = /bin/dash)"
dash=$(readlink -f /bin/dash)
[ "$dash" != "$(readlink -f /bin/bash)" ] || fail "(j) /bin/dash is bash here: the test cannot tell them apart"
HO_LOGIN_OPTS="--tty ssh --rhost 192.0.2.7"
ref=$(ho_login "$tmp/j.login" handoff "$zu" "$tmp/zu")
HO_LOGIN_OPTS=
[ -n "$ref" ] || fail "(j) no login: $(cat "$tmp/j.login")"
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$zu" "$tmp/bin/vigil-shell" -c \
    'echo "exe=$(readlink /proc/$$/exe)"; echo "shell=$SHELL"; grep -c ":/vigil/" /proc/self/cgroup; echo "parent=$(cat /proc/$PPID/comm)"; id -un' \
    >"$tmp/j.out" 2>"$tmp/j.err"
rc=$?
[ "$rc" -eq 0 ] || fail "(j) vigil-shell exited $rc: $(cat "$tmp/j.out" "$tmp/j.err")"
pv_has "$tmp/j.out" "exe=$dash"
pv_has "$tmp/j.out" "shell=/bin/dash"
pv_has "$tmp/j.out" "parent=vigil-session"
pv_has "$tmp/j.out" "$zu"
grep -qxE '[1-9][0-9]*' "$tmp/j.out" || fail "(j) not in a session cgroup: $(cat "$tmp/j.out")"
grep -h '"exe":"/usr/bin/id"' "$tmp"/events/*.jsonl | grep -q "\"user\":\"$zu\"" || fail "(j) no event of id for $zu"
# an interactive login (no -c, commands on stdin) gets the same shell, as a login shell
ref=$(ho_login "$tmp/j2.login" handoff "$zu" "$tmp/zu")
echo 'echo "exe=$(readlink /proc/$$/exe) arg0=$0"' |
    HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$zu" "$tmp/bin/vigil-shell" >"$tmp/j2.out" 2>"$tmp/j2.err" ||
    fail "(j) login form: $(cat "$tmp/j2.out" "$tmp/j2.err")"
pv_has "$tmp/j2.out" "exe=$dash arg0=/bin/dash"
# recorded in the store: the shell, the identity, and what open_session passed on
"$tmp/bin/vigil" --store "$tmp/store" sessions --user "$zu" --json >"$tmp/j.sessions" 2>"$tmp/j.sessions.err" ||
    fail "(j) vigil sessions: $(cat "$tmp/j.sessions.err")"
[ "$(wc -l <"$tmp/j.sessions")" -eq 2 ] || fail "(j) expected 2 recorded sessions of $zu: $(cat "$tmp/j.sessions")"
first=$(head -n 1 "$tmp/j.sessions")
for want in "\"user\":\"$zu\"" "\"subject\":\"$zu\"" "\"email\":\"$zu@example.test\"" "\"groups\":[\"vigil-users\",\"zsh-$$\"]" \
    '"tty":"ssh"' '"client":"192.0.2.7"' '"command":["/bin/dash","-c",' '"exit":0'; do
    case $first in *"$want"*) ;; *) fail "(j) the recorded session lacks $want: $first" ;; esac
done
tail -n 1 "$tmp/j.sessions" | grep -qF '"command":["/bin/dash","-l"]' || fail "(j) login form: $(tail -n 1 "$tmp/j.sessions")"
# the others keep the global shell: $user's sessions ran bash
"$tmp/bin/vigil" --store "$tmp/store" sessions --user "$user" --json | head -n 1 | grep -qF '"command":["/bin/bash","-c",' ||
    fail "(j) $user's session did not run /bin/bash"

step "(k) close_session ends a session that still runs"
"$PAM_CONVERSE" --confdir "$tmp/pam.d" --service handoff --user "$user" --first token --token-file "$tmp/good" \
    --ops auth,account,open_session,pause,close_session --pause "$tmp/k.env" >"$tmp/k.login" 2>&1 &
k_conv=$!
ho_wait_file "$tmp/k.env" VIGIL_SESSION_REF= 20
ref=$(sed -n 's/^VIGIL_SESSION_REF=//p' "$tmp/k.env")
HO_ENV="$HO_ENV VIGIL_SESSION_REF=$ref" ho_as "$user" "$tmp/bin/vigil-shell" -c 'echo started; sleep 30; echo not-ended' \
    >"$tmp/k.out" 2>"$tmp/k.err" &
bg=$!
ho_wait_file "$tmp/k.out" started
t0=$(date +%s)
touch "$tmp/k.env.go"
wait "$k_conv" || fail "(k) pam-converse: $(cat "$tmp/k.login")"
pv_has "$tmp/k.login" "close_session: PAM_SUCCESS"
wait "$bg"
rc=$?
[ $(($(date +%s) - t0)) -le 10 ] || fail "(k) the session outlived close_session by more than 10 s"
[ "$rc" -ge 128 ] || fail "(k) exit $rc after close_session: $(cat "$tmp/k.err")"
pv_hasnt "$tmp/k.out" "not-ended"
grep -q "pam.close: session [0-9a-f-]* told to end" "$tmp/vigild.log" || fail "(k) vigild did not end the session"

step "(l) a login whose supervisor cannot start is refused"
sock4=$tmp/l/vigild.sock
mkdir -p "$tmp/l"
cp "$(readlink -f /bin/dash)" "$tmp/bin/dash-copy"
chmod 755 "$tmp/bin/dash-copy"
printf 'default allow\nallow exe=\n' >"$tmp/broken.policy"
# l_conf EXTRA-LINE: l.conf is main.conf with one more line
l_conf() {
    grep -v "^shell\.$zu " "$tmp/main.conf" >"$tmp/l.conf.new"
    printf '%s\n' "$1" >>"$tmp/l.conf.new"
    mv "$tmp/l.conf.new" "$tmp/l.conf"
}
l_conf "shell.$zu = /nonexistent/zsh"
_keep=$VIGILD_PID
ho_vigild "$sock4" "$tmp/l.conf"
VIGILD4_PID=$VIGILD_PID
VIGILD_PID=$_keep
for t in auth account session; do
    echo "$t required $PAM_VIGIL_SO config=$tmp/l.conf vigild_socket=$sock4 vigil_shell=$tmp/bin/vigil-shell"
done >"$tmp/pam.d/handoff-l"
line=$(wc -l <"$tmp/l.conf")
# l_refused NAME EXPECTED-MESSAGE: a login of $zu is refused with the message, nothing runs
l_refused() {
    ref=$(ho_login "$tmp/l-$1.login" handoff-l "$zu" "$tmp/zu")
    [ -n "$ref" ] || fail "(l) $1: no login: $(cat "$tmp/l-$1.login")"
    HO_ENV="VIGILD_SOCKET=$sock4 VIGIL_SESSION_REF=$ref" ho_as "$zu" "$tmp/bin/vigil-shell" -c "touch $tmp/home/$zu/ran-$1" \
        >"$tmp/l-$1.out" 2>"$tmp/l-$1.err"
    _rc=$?
    [ "$_rc" -eq 1 ] || fail "(l) $1: vigil-shell exited $_rc, not 1: $(cat "$tmp/l-$1.err")"
    [ ! -e "$tmp/home/$zu/ran-$1" ] || fail "(l) $1: the command ran"
    pv_has "$tmp/l-$1.err" "$2"
    pv_has "$tmp/l-$1.err" "; refusing to run anything"
    [ "$(wc -l <"$tmp/l-$1.err")" -eq 1 ] || fail "(l) $1: more than one line: $(cat "$tmp/l-$1.err")"
}
# l_reload: vigild re-reads l.conf (SIGHUP) and says so
l_reload() {
    _n=$(grep -c "reload:" "$tmp/vigild.log")
    kill -HUP "$VIGILD4_PID"
    _i=0
    while [ "$(grep -c "reload:" "$tmp/vigild.log")" -le "$_n" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 600 ] || fail "(l) vigild did not reload: $(tail -n 3 "$tmp/vigild.log")"
        sleep 0.05
    done
}
l_refused missing "vigil: session.start: the shell '/nonexistent/zsh' from 'shell.$zu' ($tmp/l.conf:$line) cannot be used: No such file or directory"
grep -q "no session for '$zu' (uid [0-9]*): the shell '/nonexistent/zsh' from 'shell.$zu'" "$tmp/vigild.log" ||
    fail "(l) vigild did not log why: $(tail -n 3 "$tmp/vigild.log")"
# a shell under a path that is root's: not executable, then writable by all
shell_l=/usr/libexec/vigil-test-sh-$$
PV_FILES="$PV_FILES $shell_l"
cp "$tmp/bin/dash-copy" "$shell_l"
chmod 644 "$shell_l"
l_conf "shell.$zu = $shell_l"
l_reload
l_refused notexec "the shell '$shell_l' from 'shell.$zu' ($tmp/l.conf:$line) is not an executable file"
chmod 757 "$shell_l"
l_reload
l_refused worldfile "'$shell_l' (owner uid 0, mode 0757) can be changed by another user"
# a root-owned 0755 shell in a directory anyone can write to (the first such
# component is named; /tmp itself may be it)
mkdir -m 1777 "$tmp/ww"
cp -p "$tmp/bin/dash-copy" "$tmp/ww/dash"
l_conf "shell.$zu = $tmp/ww/dash"
l_reload
l_refused writable "the shell '$tmp/ww/dash' from 'shell.$zu' ($tmp/l.conf:$line) is not root's alone: '"
grep -qE "is not root's alone: '[^']*' \(owner uid [0-9]+, mode [0-7]{4}\) can be changed by another user, who would decide what the session runs" "$tmp/l-writable.err" ||
    fail "(l) writable: $(cat "$tmp/l-writable.err")"
# the same file once it is root's alone runs
chmod 755 "$shell_l"
l_conf "shell.$zu = $shell_l"
l_reload
ref=$(ho_login "$tmp/l-ok.login" handoff-l "$zu" "$tmp/zu")
HO_ENV="VIGILD_SOCKET=$sock4 VIGIL_SESSION_REF=$ref" ho_as "$zu" "$tmp/bin/vigil-shell" -c 'echo "exe=$(readlink /proc/$$/exe)"' \
    >"$tmp/l-ok.out" 2>"$tmp/l-ok.err" || fail "(l) a root-owned 0755 shell: $(cat "$tmp/l-ok.err")"
pv_has "$tmp/l-ok.out" "exe=$shell_l"
# a policy that does not load: the supervisor cannot start
l_conf "shell.$zu = /bin/dash"
sed -i "s|^policy = .*|policy = $tmp/broken.policy|" "$tmp/l.conf"
l_reload
l_refused policy "vigil: session.start: cannot start the session: policy $tmp/broken.policy:2:"

step "(m) session_max = token: the warning a minute before the expiry"
wait "$m_pid"
rc=$?
wait "$m_reader"
end=$(date +%s)
[ "$rc" -eq 137 ] || fail "(m) exit $rc, not 137: $(cat "$tmp/m.err")"
pv_hasnt "$tmp/m.out" "outlived"
warn=$(grep -E "^[0-9]+ vigil: your sign-in expires at [0-9:]+ UTC: this session ends in [0-9]+ seconds$" "$tmp/m.err") ||
    fail "(m) no warning: $(cat "$tmp/m.err")"
warn_t=${warn%% *}
left=$(echo "$warn" | sed 's/.* ends in \([0-9]*\) seconds$/\1/')
expired=$(grep "vigil: your sign-in has expired; ending the session" "$tmp/m.err") || fail "(m) no end: $(cat "$tmp/m.err")"
expired_t=${expired%% *}
# the warning 60 s before exp (to the second, and 3 s for the reader), the end
# at exp; the supervisor's time() is the coarse clock and may say 61 when its
# timer fires at exp - 60
[ "$left" -ge 59 ] && [ "$left" -le 61 ] || fail "(m) warned $left s before the end, not 60: $warn"
[ "$warn_t" -ge $((long_exp - 61)) ] && [ "$warn_t" -le $((long_exp - 57)) ] ||
    fail "(m) warned at $warn_t, the token expires at $long_exp: $(cat "$tmp/m.err")"
[ "$expired_t" -ge "$long_exp" ] && [ "$expired_t" -le $((long_exp + 3)) ] && [ "$end" -le $((long_exp + 6)) ] ||
    fail "(m) ended at $expired_t (shell gone at $end), the token expires at $long_exp"

step "vigild stops cleanly (in the ASan build: without leaks)"
for p in "$VIGILD_PID" "$VIGILD2_PID" "$VIGILD3_PID" "$VIGILD4_PID"; do
    kill -TERM "$p"
    wait "$p"
    rc=$?
    [ "$rc" -eq 0 ] || fail "vigild (pid $p) exited $rc"
done
step "done"
