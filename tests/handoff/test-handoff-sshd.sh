#!/bin/sh
# The hand-off end to end with the real OpenSSH server and client: Debian's
# /usr/sbin/sshd runs under another name (its own PAM service, leaving the
# host's sshd stack alone) on 127.0.0.1 with the shipped drop-in, its PAM
# stack pam_vigil's auth, account and session sides, and the test accounts'
# login shell vigil-shell; vigild is the real daemon, the identity provider
# the real test one.
#   (a) token in parts through vigil-askpass: `ssh host cmd` runs supervised
#       (in the session's cgroup, under the supervisor, not vigil-shell;
#       the real shell); a denied command; exit statuses; vigil-shell keeps
#       no copy of the reference;
#   (b) an interactive device sign-in through a pseudo-terminal lands in a
#       supervised login shell: window size at start and after a resize,
#       Ctrl-C;
#   (c) scp, in both protocols (sftp subsystem and legacy scp), and sftp,
#       through the shell; every login above recorded in the store with its
#       identity, tty and client address;
#   (d) sudo inside a session, with pam_vigil's sudo stack: a fresh token
#       with sudo_group runs the command as root, supervised and audited
#       with runas=root; one without the group is refused;
#   (e) a login without pam_vigil's session phase: vigil-shell refuses; an
#       account whose shell is not vigil-shell gets no session; ~/.ssh/rc is
#       not run and forwarding is refused (the drop-in);
#   (f) vigild SIGKILL during a running session: it goes on, new logins are
#       refused, a restarted vigild takes logins again;
#   (g) an account with a shell of its own (vigil.conf `shell.USER`) gets
#       that shell, supervised and recorded.
# Plain build only (meson.build): Debian's sshd and sudo load the module and
# are not ASan-instrumented; test-handoff-local.sh runs the same code paths
# under ASan+UBSan through libpam.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PV_INNER:-}" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-handoff-sshd.XXXXXX") || exit 1
    PV_INNER=1 PV_TMP=$tmp SYSLOG=$tmp/syslog exec "$VIGIL_SOURCE_ROOT/tests/pam_module/with-syslog" "$tmp/syslog" "$0" "$@"
fi
export PV_INNER
tmp=$PV_TMP
. "$here/lib.sh"
trap ho_cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" -eq 0 ] || fail "must run as root (sshd, test accounts, /etc/pam.d)"
[ -x /usr/sbin/sshd ] && command -v ssh >/dev/null && command -v scp >/dev/null && command -v sudo >/dev/null ||
    fail "openssh-server, openssh-client and sudo are needed (scripts/deps installs them)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"
ho_bin
ASKPASS=${VIGIL_ASKPASS:?}
DROPIN=$VIGIL_SOURCE_ROOT/packaging/sshd/00-vigil.conf

user=vts$$ # login shell vigil-shell; in ops-PID (sudo_group)
alt=vtz$$  # login shell /bin/sh
zu=vtw$$   # login shell vigil-shell; shell.vtwPID = /bin/dash; not in ops-PID
pv_useradd "$user" "$tmp/bin/vigil-shell"
pv_useradd "$alt" /bin/sh
pv_useradd "$zu" "$tmp/bin/vigil-shell"
for u in "$user" "$alt" "$zu"; do
    mkdir -p "$tmp/home/$u"
    chown "$u:" "$tmp/home/$u"
done
cat >"$tmp/accounts.json" <<EOF2
{
  "$user": {"email": "$user@example.test", "groups": ["vigil-users", "ops-$$"]},
  "$alt": {"groups": ["vigil-users"]},
  "$zu": {"email": "$zu@example.test", "groups": ["vigil-users"]}
}
EOF2
cat >"$tmp/policy" <<EOF2
default allow
deny exe=/usr/bin/whoami message="whoami is not allowed here"
EOF2

step "provider, vigild, sshd"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" || fail "idp_start"
pv_config "$tmp/main.conf" <<EOF2
policy = $tmp/policy
shell = /bin/bash
shell.$zu = /bin/dash
EOF2
sock=$tmp/vigild.sock
ho_vigild "$sock" "$tmp/main.conf"
pv_token "$tmp/good" "$user"
pv_token "$tmp/alt" "$alt"
pv_token "$tmp/zu" "$zu"

# start_sshd NAME SESSION-LINE: sshd as NAME with the drop-in; sets PORT.
start_sshd() {
    PV_FILES="$PV_FILES /etc/pam.d/$1"
    cat >"/etc/pam.d/$1" <<EOF2
# vigil test $$ ($0): removed when the test ends
auth     required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock
account  required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock
password required pam_deny.so
$2
EOF2
    pv_sshd_start "$1" "Include $DROPIN"
}
svc=sshd-ho$$
start_sshd "$svc" "session  required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock vigil_shell=$tmp/bin/vigil-shell"
port=$PORT
echo "vigil-test-$$ $(cat "$tmp/hostkey.pub")" >"$tmp/known_hosts"
ssh_opts="-F /dev/null -o UserKnownHostsFile=$tmp/known_hosts -o GlobalKnownHostsFile=/dev/null -o HostKeyAlias=vigil-test-$$
 -o StrictHostKeyChecking=yes -o PreferredAuthentications=keyboard-interactive -o NumberOfPasswordPrompts=1
 -o ConnectTimeout=60 -o LogLevel=ERROR"

# askpass_ssh OUT TOKENFILE USER CMD: ssh to $port with vigil-askpass, no terminal.
askpass_ssh() {
    _out=$1 _tok=$2 _u=$3
    shift 3
    # shellcheck disable=SC2086
    setsid -w env -u DISPLAY SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force VIGIL_TOKEN_FILE="$_tok" \
        ssh $ssh_opts -p "$port" "$_u@127.0.0.1" "$@" </dev/null >"$_out" 2>"$_out.err"
}
events() {
    cat "$tmp"/events/*.jsonl 2>/dev/null
}
# recorded USER: the store's sessions of USER, one JSON line each
recorded() {
    "$tmp/bin/vigil" --store "$tmp/store" sessions --user "$1" --json
}

step "(a) ssh host cmd runs supervised"
askpass_ssh "$tmp/a.out" "$tmp/good" "$user" \
    'echo "hello $(id -un)"; echo "shell=$SHELL"; grep -c ":/vigil/" /proc/self/cgroup; echo "parent=$(cat /proc/$PPID/comm)"; echo "ref=${VIGIL_SESSION_REF:-none}"'
rc=$?
[ "$rc" -eq 0 ] || fail "(a) ssh exited $rc: $(cat "$tmp/a.out.err"; tail -n 20 "$tmp/$svc.log")"
pv_has "$tmp/a.out" "hello $user"
pv_has "$tmp/a.out" "shell=/bin/bash"
pv_has "$tmp/a.out" "parent=vigil-session"
pv_has "$tmp/a.out" "ref=none"
grep -qxE '[1-9][0-9]*' "$tmp/a.out" || fail "(a) not in a session cgroup: $(cat "$tmp/a.out")"
[ "$(getent passwd "$user" | cut -d: -f7)" = "$tmp/bin/vigil-shell" ] || fail "(a) the login shell is not vigil-shell"
pv_log_wait "pam_vigil\($svc:session\): session for '$user' handed to vigil-shell" >/dev/null
events | grep '"exe":"/usr/bin/id"' | grep -q "\"user\":\"$user\"" || fail "(a) no event of id: $(events)"
askpass_ssh "$tmp/a2.out" "$tmp/good" "$user" whoami
rc=$?
[ "$rc" -eq 126 ] || fail "(a) a denied command: ssh exited $rc, not 126: $(cat "$tmp/a2.out.err")"
pv_has "$tmp/a2.out.err" "vigil: denied: whoami ($tmp/policy:2: whoami is not allowed here)"
[ ! -s "$tmp/a2.out" ] || fail "(a) whoami printed: $(cat "$tmp/a2.out")"
askpass_ssh "$tmp/a3.out" "$tmp/good" "$user" 'exit 42'
[ $? -eq 42 ] || fail "(a) exit 42 did not come back"
# while a session runs (until a4.go is there): vigil-shell holds no copy of its reference
rm -f "$tmp/home/$user/a4.go"
askpass_ssh "$tmp/a4.out" "$tmp/good" "$user" \
    'echo started; i=0; while [ ! -e '"$tmp/home/$user/a4.go"' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done' &
bg=$!
ho_wait_file "$tmp/a4.out" started
uid=$(id -u "$user")
vs=
for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = vigil-shell ] && [ "$(stat -c %u "$p")" = "$uid" ] && vs=${p#/proc/}
done
[ -n "$vs" ] || fail "(a) no vigil-shell process of $user: $(ps -eo pid,ppid,user,comm,args | grep -E "$user|vigil" | grep -v grep)"
tr '\0' '\n' <"/proc/$vs/environ" | grep -qE '^VIGIL_SESSION_REF=[0-9a-f]{64}$' &&
    fail "(a) vigil-shell still has its session reference"
touch "$tmp/home/$user/a4.go"
wait "$bg" || fail "(a) the background session failed"

step "(b) an interactive device sign-in lands in a supervised shell"
approve="\"$IDP_HOME/approve\" --url \"\$VIGIL_VERIFICATION_URI\" --ca \"$IDP_CA\" --code \"\$VIGIL_USER_CODE\" --login $user approve"
# shellcheck disable=SC2086
env -u SSH_ASKPASS -u DISPLAY TERM=xterm /usr/bin/python3 "$here/pty-session.py" "$approve" -- \
    ssh $ssh_opts -tt -p "$port" "$user@127.0.0.1" >"$tmp/b.out" 2>"$tmp/b.err"
rc=$?
tr -d '\r' <"$tmp/b.out" >"$tmp/b.txt"
[ "$rc" -eq 0 ] || fail "(b) exited $rc: $(cat "$tmp/b.txt" "$tmp/b.err"; tail -n 20 "$tmp/$svc.log")"
grep -qE "mark-$user-[1-9][0-9]*$" "$tmp/b.txt" || fail "(b) the shell is not in a session: $(cat "$tmp/b.txt")"
pv_has "$tmp/b.txt" "40 100"
pv_has "$tmp/b.txt" "50 120"
pv_has "$tmp/b.txt" "after-42"
# the login shell's commands are the session's events (interactive bash runs them)
events | grep '"exe":"/usr/bin/stty"' | grep -q "\"user\":\"$user\"" || fail "(b) no event of stty"

step "(c) scp through the shell (sftp subsystem and legacy protocol)"
head -c 100000 /dev/urandom >"$tmp/payload"
for mode in sftp legacy; do
    flag=
    [ "$mode" = legacy ] && flag=-O
    # shellcheck disable=SC2086
    setsid -w env -u DISPLAY SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force VIGIL_TOKEN_FILE="$tmp/good" \
        scp $ssh_opts $flag -P "$port" "$tmp/payload" "$user@127.0.0.1:$tmp/home/$user/up-$mode" \
        </dev/null >"$tmp/c-$mode.out" 2>&1 || fail "(c) scp ($mode): $(cat "$tmp/c-$mode.out"; tail -n 20 "$tmp/$svc.log")"
    cmp -s "$tmp/payload" "$tmp/home/$user/up-$mode" || fail "(c) scp ($mode): the file differs"
done
events | grep -q '"exe":"/usr/lib/openssh/sftp-server"' || fail "(c) the sftp server did not run supervised"
events | grep '"exe":"/usr/bin/scp"' | grep -q '"-t"' || fail "(c) legacy scp -t did not run supervised"
# sftp itself: the subsystem through the shell (commands on stdin, not -b,
# which would set BatchMode and so turn off the askpass sign-in)
printf '%s\n' "put $tmp/payload $tmp/home/$user/up-sftp" "ls -l $tmp/home/$user/up-sftp" >"$tmp/c.batch"
# shellcheck disable=SC2086
setsid -w env -u DISPLAY SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force VIGIL_TOKEN_FILE="$tmp/good" \
    sftp $ssh_opts -P "$port" "$user@127.0.0.1" <"$tmp/c.batch" >"$tmp/c-sftp.out" 2>&1 ||
    fail "(c) sftp: $(cat "$tmp/c-sftp.out"; tail -n 20 "$tmp/$svc.log")"
cmp -s "$tmp/payload" "$tmp/home/$user/up-sftp" || fail "(c) sftp: the file differs"
# recorded in the store, each with the identity, the tty sshd named and the client
recorded "$user" >"$tmp/c.sessions" || fail "(c) vigil sessions failed"
for want in '"command":["/bin/bash","-c","echo \"hello' '"command":["/bin/bash","-l"]' \
    '"command":["/bin/bash","-c","/usr/lib/openssh/sftp-server"]' '"command":["/bin/bash","-c","scp -t '; do
    line=$(grep -F -- "$want" "$tmp/c.sessions" | head -n 1)
    [ -n "$line" ] || fail "(c) no recorded session with $want in: $(cat "$tmp/c.sessions")"
    for field in "\"subject\":\"$user\"" "\"email\":\"$user@example.test\"" '"client":"127.0.0.1 ' '"sealed":true'; do
        case $line in *"$field"*) ;; *) fail "(c) the session with $want lacks $field: $line" ;; esac
    done
done
grep -F '"command":["/bin/bash","-l"]' "$tmp/c.sessions" | grep -qE '"tty":"/dev/pts/[0-9]+"' ||
    fail "(c) the interactive session has no terminal recorded: $(cat "$tmp/c.sessions")"
# what the interactive login showed is in the store
"$tmp/bin/vigil" --store "$tmp/store" search "mark-$user-[1-9]" --user "$user" >"$tmp/c.search" ||
    fail "(c) the interactive session's output is not in the store"

step "(d) sudo inside a session, with the sudo stack: with and without sudo_group"
sudo_svc=sudo-ho$$
pv_config "$tmp/sudo.conf" <<EOF2
sudo_group = ops-$$
EOF2
PV_FILES="$PV_FILES /etc/pam.d/$sudo_svc /etc/sudoers.d/vigil-ho-$$"
cat >"/etc/pam.d/$sudo_svc" <<EOF2
# vigil test $$ ($0): removed when the test ends
auth     required $PAM_VIGIL_SO config=$tmp/sudo.conf sudo
account  required $PAM_VIGIL_SO config=$tmp/sudo.conf sudo
session  required pam_permit.so
EOF2
cat >"$tmp/sudoers" <<EOF2
Defaults:$user, $zu pam_service=$sudo_svc, timestamp_timeout=0, passwd_tries=1, !mail_badpass, !lecture
$user, $zu ALL=(root) /usr/bin/id
EOF2
visudo -cqf "$tmp/sudoers" || fail "visudo refused the test's sudoers drop-in"
chmod 440 "$tmp/sudoers"
# A name with a dot is ignored by sudo, so the file appears whole or not at all.
cp "$tmp/sudoers" "/etc/sudoers.d/.vigil-ho-$$" && mv "/etc/sudoers.d/.vigil-ho-$$" "/etc/sudoers.d/vigil-ho-$$"
# sudo_answers TOKENFILE: what a person types at sudo -S: token, the parts, an empty line.
sudo_answers() {
    echo token
    tr -d '\n' <"$1" | fold -w 500
    echo
    echo
}
# in_session OUT TOKENFILE USER CMD: ssh host CMD (vigil-askpass signs in), the
# answers to sudo's prompts on the session's stdin
in_session() {
    _out=$1 _tok=$2 _u=$3
    shift 3
    sudo_answers "$_tok" >"$_out.in"
    # shellcheck disable=SC2086
    setsid -w env -u DISPLAY SSH_ASKPASS="$ASKPASS" SSH_ASKPASS_REQUIRE=force VIGIL_TOKEN_FILE="$_tok" \
        ssh $ssh_opts -p "$port" "$_u@127.0.0.1" "$@" <"$_out.in" >"$_out" 2>"$_out.err"
}
in_session "$tmp/d.out" "$tmp/good" "$user" 'sudo -S /usr/bin/id -u; echo "sudo=$?"'
[ $? -eq 0 ] || fail "(d) ssh: $(cat "$tmp/d.out.err")"
grep -qx 0 "$tmp/d.out" || fail "(d) sudo did not run id as root: $(cat "$tmp/d.out" "$tmp/d.out.err")"
pv_has "$tmp/d.out" "sudo=0"
grep -q "vigil token part 2:" "$tmp/d.out.err" || fail "(d) sudo asked for no token: $(cat "$tmp/d.out.err")"
pv_log_wait "pam_vigil\($sudo_svc:auth\): signed in '$user' \(token\)" >/dev/null
events | grep '"exe":"/usr/bin/id"' | grep '"runas":"root"' | grep -q "\"user\":\"$user\"" ||
    fail "(d) no event of id with runas=root: $(events | grep /usr/bin/id)"
events | grep '"exe":"/usr/bin/sudo"' | grep "\"user\":\"$user\"" | grep -q '"decision":"allow"' ||
    fail "(d) no event of sudo"
# $zu's token lacks sudo_group: refused, and nothing ran as root in its session
in_session "$tmp/d2.out" "$tmp/zu" "$zu" '/usr/bin/sudo -S /usr/bin/id -u; echo "sudo=$?"'
[ $? -eq 0 ] || fail "(d) ssh as $zu: $(cat "$tmp/d2.out.err")"
pv_has "$tmp/d2.out" "sudo=1"
! grep -qx 0 "$tmp/d2.out" || fail "(d) sudo ran id as root without sudo_group"
grep -q "incorrect password attempt" "$tmp/d2.out.err" || fail "(d) sudo did not report the refusal: $(cat "$tmp/d2.out.err")"
pv_log_wait "pam_vigil\($sudo_svc:auth\): sign-in refused for '$zu' \(token\): the token's groups do not include sudo_group 'ops-$$'" >/dev/null
events | grep '"exe":"/usr/bin/sudo"' | grep -q "\"user\":\"$zu\"" || fail "(d) $zu's sudo was not supervised"
! events | grep "\"user\":\"$zu\"" | grep -q '"exe":"/usr/bin/id"' || fail "(d) id ran in $zu's session"

step "(e) no session phase, or another login shell: nothing runs"
start_sshd "${svc}n" "session  required pam_permit.so"
main_port=$port
port=$PORT
askpass_ssh "$tmp/e1.out" "$tmp/good" "$user" 'echo should-not-run'
rc=$?
[ "$rc" -eq 1 ] || fail "(e) vigil-shell without a session: ssh exited $rc: $(cat "$tmp/e1.out.err")"
pv_hasnt "$tmp/e1.out" "should-not-run"
pv_has "$tmp/e1.out.err" "vigil: not in a vigil session (no VIGIL_SESSION_REF); refusing to run anything"
port=$main_port
askpass_ssh "$tmp/e2.out" "$tmp/alt" "$alt" 'echo should-not-run'
rc=$?
[ "$rc" -ne 0 ] || fail "(e) an account with /bin/sh got a session"
pv_hasnt "$tmp/e2.out" "should-not-run"
pv_log_wait "pam_vigil\($svc:session\): session refused for '$alt': its login shell is '/bin/sh'" >/dev/null
# the drop-in: ~/.ssh/rc would run before the login shell; forwarding carries
# what no supervisor sees
mkdir -p "$tmp/home/$user/.ssh"
echo "touch $tmp/home/$user/rc-ran" >"$tmp/home/$user/.ssh/rc"
chown -R "$user:" "$tmp/home/$user/.ssh"
askpass_ssh "$tmp/e3.out" "$tmp/good" "$user" 'echo in-session'
pv_has "$tmp/e3.out" "in-session"
[ ! -e "$tmp/home/$user/rc-ran" ] || fail "(e) sshd ran ~/.ssh/rc"
rm -rf "$tmp/home/$user/.ssh"
askpass_ssh "$tmp/e4.out" "$tmp/good" "$user" -W "127.0.0.1:$port"
[ $? -ne 0 ] || fail "(e) stdio forwarding (ssh -W) was allowed"
grep -qiE "administratively prohibited|stdio forwarding failed|open failed" "$tmp/e4.out.err" ||
    fail "(e) ssh -W: $(cat "$tmp/e4.out.err")"
# a remote forward is asked of sshd at once (a local one only when used)
askpass_ssh "$tmp/e5.out" "$tmp/good" "$user" -o ExitOnForwardFailure=yes -R "127.0.0.1:0:127.0.0.1:$port" 'echo forwarded'
[ $? -ne 0 ] || fail "(e) remote port forwarding (ssh -R) was allowed"
pv_hasnt "$tmp/e5.out" "forwarded"
pv_has "$tmp/e5.out.err" "remote port forwarding failed"

step "(f) vigild SIGKILL during a running session"
# the session goes on until f.go is there, which comes after vigild died
rm -f "$tmp/home/$user/f.go"
askpass_ssh "$tmp/f.out" "$tmp/good" "$user" \
    'echo started; i=0; while [ ! -e '"$tmp/home/$user/f.go"' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done; [ -e '"$tmp/home/$user/f.go"' ] && echo survived' &
bg=$!
ho_wait_file "$tmp/f.out" started
kill -9 "$VIGILD_PID"
wait "$VIGILD_PID" 2>/dev/null
askpass_ssh "$tmp/f2.out" "$tmp/good" "$user" 'echo should-not-run'
rc=$?
[ "$rc" -eq 255 ] || fail "(f) a login while vigild was down: ssh exited $rc"
pv_hasnt "$tmp/f2.out" "should-not-run"
touch "$tmp/home/$user/f.go"
wait "$bg"
rc=$?
[ "$rc" -eq 0 ] || fail "(f) the session did not go on: exit $rc: $(cat "$tmp/f.out.err")"
pv_has "$tmp/f.out" "survived"
ho_vigild "$sock" "$tmp/main.conf"
askpass_ssh "$tmp/f3.out" "$tmp/good" "$user" 'echo back'
[ $? -eq 0 ] || fail "(f) no login after the restart: $(cat "$tmp/f3.out.err")"
pv_has "$tmp/f3.out" "back"
step "(g) an account with a shell of its own (shell.$zu = /bin/dash)"
askpass_ssh "$tmp/g.out" "$tmp/zu" "$zu" \
    'echo "exe=$(readlink /proc/$$/exe)"; echo "shell=$SHELL"; grep -c ":/vigil/" /proc/self/cgroup; echo "parent=$(cat /proc/$PPID/comm)"'
rc=$?
[ "$rc" -eq 0 ] || fail "(g) ssh exited $rc: $(cat "$tmp/g.out.err")"
pv_has "$tmp/g.out" "exe=$(readlink -f /bin/dash)"
pv_has "$tmp/g.out" "shell=/bin/dash"
pv_has "$tmp/g.out" "parent=vigil-session"
grep -qxE '[1-9][0-9]*' "$tmp/g.out" || fail "(g) not in a session cgroup: $(cat "$tmp/g.out")"
recorded "$zu" | grep -F '"command":["/bin/dash","-c","echo \"exe=' | grep -qF "\"subject\":\"$zu\"" ||
    fail "(g) no recorded session of /bin/dash for $zu: $(recorded "$zu")"
# and $user, without one, still gets bash
askpass_ssh "$tmp/g2.out" "$tmp/good" "$user" 'echo "exe=$(readlink /proc/$$/exe)"'
pv_has "$tmp/g2.out" "exe=$(readlink -f /bin/bash)"
step "done"
