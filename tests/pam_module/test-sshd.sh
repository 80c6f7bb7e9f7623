#!/bin/sh
# pam_vigil end to end with the real OpenSSH server and client, and the real
# sudo: Debian's /usr/sbin/sshd runs under another name (a symlink), so it
# uses its own PAM service /etc/pam.d/sshd-vtPID and leaves the host's sshd
# stack alone; it listens on 127.0.0.1 with its own host key and
# sshd_config, which includes packaging/sshd/00-vigil.conf as shipped.
#   (a) a CI-style login: vigil-askpass gives the token in parts
#       (SSH_ASKPASS_REQUIRE=force, no terminal) and `ssh host cmd` runs;
#       the login reference reaches the session's environment and vigild
#       resolves it;
#   (b) a person's device sign-in through a real pseudo-terminal, the code
#       read from the prompt and approved at the identity provider;
#   (c) an expired and a wrong-audience token are refused;
#   (d) sudo with pam_vigil's sudo stack (a PAM service of its own, chosen by
#       a sudoers drop-in for the test accounts only), with and without the
#       sudo_group.
# The session phase (vigil-shell and the supervisor) is not built yet: the
# test accounts' shell is /bin/sh and the PAM session stack is pam_permit.
#
# Plain build only (meson.build): Debian's sshd and sudo are not built with
# AddressSanitizer, and an ASan module needs the ASan runtime preloaded into
# them (and through sshd's re-exec and privilege separation). The module's
# code runs under ASan+UBSan in test-pam-module.sh through the real libpam.
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PV_INNER:-}" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-sshd-test.XXXXXX") || exit 1
    chmod 755 "$tmp" # the test accounts' homes are in here
    PV_INNER=1 PV_TMP=$tmp SYSLOG=$tmp/syslog exec "$here/with-syslog" "$tmp/syslog" "$0" "$@"
fi
export PV_INNER
tmp=$PV_TMP
. "$here/lib.sh"
trap pv_cleanup EXIT
trap 'exit 1' INT TERM HUP

: "${PAM_CONVERSE:?}" "${PAM_VIGIL_SO:?}"
[ "$(id -u)" -eq 0 ] || fail "must run as root (sshd, test accounts, /etc/pam.d)"
SSHD=/usr/sbin/sshd
[ -x "$SSHD" ] && command -v ssh >/dev/null && command -v sudo >/dev/null ||
    fail "openssh-server, openssh-client and sudo are needed (scripts/deps installs them)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"
ASKPASS=${VIGIL_ASKPASS:?}
DROPIN=$VIGIL_SOURCE_ROOT/packaging/sshd/00-vigil.conf

user=vts$$  # in ops-PID: may sudo
plain=vtn$$ # not in ops-PID
pv_useradd "$user" /bin/sh
pv_useradd "$plain" /bin/sh
mkdir -p "$tmp/home/$user" "$tmp/home/$plain"
chown "$user:" "$tmp/home/$user"
chown "$plain:" "$tmp/home/$plain"
cat >"$tmp/accounts.json" <<EOF2
{
  "$user": {"email": "$user@example.test", "groups": ["vigil-users", "ops-$$"]},
  "$plain": {"groups": ["vigil-users"]}
}
EOF2

step "providers, vigild, tokens"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --client-id vigil --client-id other || fail "idp_start"
P1_URL=$IDP_URL
pv_config "$tmp/main.conf" </dev/null
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --id-token-ttl 1 || fail "idp_start 2"
pv_config "$tmp/short.conf" <<EOF2
clock_skew = 0s
EOF2
pv_token "$tmp/expired" "$user"
IDP_URL=$P1_URL
sock=$tmp/vigild.sock
pv_vigild "$sock"
pv_token "$tmp/good" "$user"
pv_token "$tmp/other-aud" "$user" --client-id other
pv_token "$tmp/plain" "$plain"
chmod 644 "$tmp/good" "$tmp/plain"

step "sshd as sshd-vt$$ with the shipped drop-in"
# start_sshd NAME VIGIL_CONF: sshd as NAME with the drop-in, its PAM
# service running pam_vigil with VIGIL_CONF; sets PORT.
start_sshd() {
    PV_FILES="$PV_FILES /etc/pam.d/$1"
    cat >"/etc/pam.d/$1" <<EOF2
# vigil test $$ ($0): removed when the test ends
auth     required $PAM_VIGIL_SO config=$2 vigild_socket=$sock
account  required $PAM_VIGIL_SO config=$2 vigild_socket=$sock
password required pam_deny.so
session  required pam_permit.so
EOF2
    pv_sshd_start "$1" "Include $DROPIN"
}
svc=sshd-vt$$
start_sshd "$svc" "$tmp/main.conf"
port=$PORT
# What the drop-in turns on and off, as sshd itself sees it.
"$tmp/bin/$svc" -T -f "$tmp/$svc.conf" -C user="$user",host=localhost,addr=127.0.0.1 >"$tmp/sshd-T" ||
    fail "sshd -T"
for kv in "usepam yes" "kbdinteractiveauthentication yes" "authenticationmethods keyboard-interactive" \
    "passwordauthentication no" "pubkeyauthentication no" "hostbasedauthentication no" "permituserrc no" \
    "permituserenvironment no" "disableforwarding yes" "allowtcpforwarding no" "allowstreamlocalforwarding no" \
    "x11forwarding no" "permittunnel no" "allowagentforwarding no" "subsystem sftp /usr/lib/openssh/sftp-server"; do
    grep -qx "$kv" "$tmp/sshd-T" || fail "sshd -T: no '$kv'"
done
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

step "(a) token in parts through vigil-askpass: ssh host cmd"
askpass_ssh "$tmp/a.out" "$tmp/good" "$user" 'echo "hello from $(id -un)"; echo "ref=${VIGIL_LOGIN_REF:-none}"'
rc=$?
[ "$rc" -eq 0 ] || fail "(a) ssh exited $rc: $(cat "$tmp/a.out.err"; tail -n 20 "$tmp/$svc.log")"
grep -qx "hello from $user" "$tmp/a.out" || fail "(a) the command did not run as $user: $(cat "$tmp/a.out")"
ref=$(sed -n 's/^ref=//p' "$tmp/a.out")
printf '%s' "$ref" | grep -qxE '[0-9a-f]{64}' || fail "(a) no login reference in the session: '$ref'"
pv_log_wait "pam_vigil\($svc:auth\): signed in '$user' \(token\): subject '$user'" >/dev/null
grep -q "Accepted keyboard-interactive/pam for $user from 127.0.0.1" "$tmp/$svc.log" ||
    fail "(a) sshd did not log the keyboard-interactive/pam login"
# The reference crossed sshd's separate authentication child: vigild still
# has the identity behind it (the session phase will use it up).
mkdir "$tmp/pam.d"
printf '%s\n' "account required $PAM_VIGIL_SO config=$tmp/main.conf vigild_socket=$sock debug" >"$tmp/pam.d/lookup"
"$PAM_CONVERSE" --confdir "$tmp/pam.d" --service lookup --user "$user" --ops account --putenv "VIGIL_LOGIN_REF=$ref" \
    >"$tmp/lookup.out" 2>&1 || fail "pam-converse lookup: $(cat "$tmp/lookup.out")"
pv_has "$tmp/lookup.out" "account: PAM_SUCCESS"
pv_log_wait "pam_vigil\(lookup:account\): account granted for '$user' \(identity from vigild\)" >/dev/null
# Nothing of the token in what sshd or the client printed.
sig=$(tr -d '\n' <"$tmp/good" | cut -d. -f3)
for f in "$tmp/a.out" "$tmp/a.out.err" "$tmp/$svc.log" "$SYSLOG"; do
    ! grep -qF -- "$sig" "$f" || fail "(a) the token's signature appears in $f"
done

step "(b) device sign-in through a pseudo-terminal"
approve="\"$IDP_HOME/approve\" --url \"\$VIGIL_VERIFICATION_URI\" --ca \"$IDP_CA\" --code \"\$VIGIL_USER_CODE\" --login $user approve"
# shellcheck disable=SC2086
env -u SSH_ASKPASS -u DISPLAY /usr/bin/python3 "$here/pty-login.py" "$approve" -- \
    ssh $ssh_opts -p "$port" "$user@127.0.0.1" 'echo "device login as $(id -un)"' >"$tmp/b.out" 2>"$tmp/b.err"
rc=$?
[ "$rc" -eq 0 ] || fail "(b) ssh exited $rc: $(cat "$tmp/b.out" "$tmp/b.err"; tail -n 20 "$tmp/$svc.log")"
tr -d '\r' <"$tmp/b.out" >"$tmp/b.txt"
pv_has "$tmp/b.txt" "vigil: press Enter to sign in with your browser, or type 'token':"
grep -qE "^(\($user@vigil-test-$$\) )?To sign in, open $P1_URL/[^ ]+ and enter [A-Z]{4}-[A-Z]{4}$" "$tmp/b.txt" ||
    fail "(b) the terminal showed no sign-in instructions: $(cat "$tmp/b.txt")"
grep -qE "^or open $P1_URL/[^ ]+user_code=[A-Z]{4}-[A-Z]{4}$" "$tmp/b.txt" ||
    fail "(b) the terminal showed no complete URI: $(cat "$tmp/b.txt")"
pv_has "$tmp/b.txt" "Press Enter once you have signed in"
pv_has "$tmp/b.txt" "[approve exited 0]"
pv_has "$tmp/b.txt" "device login as $user"
pv_log_wait "pam_vigil\($svc:auth\): signed in '$user' \(device\)" >/dev/null

step "(c) expired and wrong-audience tokens are refused"
# The expired token is from the provider whose tokens live 1 s: an sshd of
# its own whose pam_vigil trusts that provider.
start_sshd "${svc}e" "$tmp/short.conf"
main_port=$port
for t in other-aud expired; do
    [ "$t" = expired ] && port=$PORT
    askpass_ssh "$tmp/c-$t.out" "$tmp/$t" "$user" 'echo should-not-run'
    rc=$?
    [ "$rc" -eq 255 ] || fail "(c) $t: ssh exited $rc, expected 255: $(cat "$tmp/c-$t.out" "$tmp/c-$t.out.err")"
    pv_hasnt "$tmp/c-$t.out" "should-not-run"
    grep -q "Permission denied" "$tmp/c-$t.out.err" || fail "(c) $t: $(cat "$tmp/c-$t.out.err")"
done
port=$main_port
pv_log_wait "pam_vigil\(${svc}e:auth\): sign-in refused for '$user' \(token\): verify: exp [0-9T:-]+Z is in the past" >/dev/null
pv_log_wait "pam_vigil\($svc:auth\): sign-in refused for '$user' \(token\): verify: aud 'other' does not contain the audience 'vigil'" >/dev/null
askpass_ssh "$tmp/c-wrong.out" "$tmp/plain" "$user" 'echo should-not-run'
[ $? -eq 255 ] || fail "(c) another person's token was accepted"
pv_log_wait "pam_vigil\($svc:auth\): sign-in refused for '$user' \(token\): verify: username claim" >/dev/null

step "(d) sudo with the sudo stack"
sudo_svc=sudo-vt$$
pv_config "$tmp/sudo.conf" <<EOF2
sudo_group = ops-$$
EOF2
PV_FILES="$PV_FILES /etc/pam.d/$sudo_svc /etc/sudoers.d/vigil-test-$$"
cat >"/etc/pam.d/$sudo_svc" <<EOF2
# vigil test $$ ($0): removed when the test ends
auth     required $PAM_VIGIL_SO config=$tmp/sudo.conf sudo
account  required $PAM_VIGIL_SO config=$tmp/sudo.conf sudo
session  required pam_permit.so
EOF2
cat >"$tmp/sudoers" <<EOF2
Defaults:$user, $plain pam_service=$sudo_svc, timestamp_timeout=0, passwd_tries=1, !mail_badpass, !lecture
$user, $plain ALL=(root) /usr/bin/id
EOF2
visudo -cqf "$tmp/sudoers" || fail "visudo refused the test's sudoers drop-in"
chmod 440 "$tmp/sudoers"
# A name with a dot is ignored by sudo, so the file appears whole or not at all.
cp "$tmp/sudoers" "/etc/sudoers.d/.vigil-test-$$" && mv "/etc/sudoers.d/.vigil-test-$$" "/etc/sudoers.d/vigil-test-$$"
# sudo_answers TOKENFILE: what a person types at sudo -S: token, the parts, an empty line.
sudo_answers() {
    echo token
    tr -d '\n' <"$1" | fold -w 500
    echo
    echo
}
sudo_answers "$tmp/good" | setpriv --reuid="$user" --regid="$user" --init-groups \
    env -i PATH=/usr/bin:/bin HOME="$tmp/home/$user" sudo -S /usr/bin/id -un >"$tmp/d-ok.out" 2>"$tmp/d-ok.err"
rc=$?
[ "$rc" -eq 0 ] || fail "(d) sudo with sudo_group exited $rc: $(cat "$tmp/d-ok.out" "$tmp/d-ok.err")"
grep -qx root "$tmp/d-ok.out" || fail "(d) sudo did not run id as root: $(cat "$tmp/d-ok.out")"
grep -q "vigil token part 2:" "$tmp/d-ok.err" || fail "(d) sudo showed no token prompts: $(cat "$tmp/d-ok.err")"
pv_log_wait "pam_vigil\($sudo_svc:auth\): signed in '$user' \(token\)" >/dev/null
sudo_answers "$tmp/plain" | setpriv --reuid="$plain" --regid="$plain" --init-groups \
    env -i PATH=/usr/bin:/bin HOME="$tmp/home/$plain" sudo -S /usr/bin/id -un >"$tmp/d-no.out" 2>"$tmp/d-no.err"
rc=$?
[ "$rc" -ne 0 ] || fail "(d) sudo without sudo_group succeeded: $(cat "$tmp/d-no.out")"
pv_hasnt "$tmp/d-no.out" "root"
# sudo passes PAM_SILENT (its pam_silent default), so pam_vigil keeps its
# refusal line to itself and sudo reports the failure in its own words.
grep -q "incorrect password attempt" "$tmp/d-no.err" || fail "(d) sudo did not report the refusal: $(cat "$tmp/d-no.err")"
pv_hasnt "$tmp/d-no.err" "vigil: sign-in refused"
pv_log_wait "pam_vigil\($sudo_svc:auth\): sign-in refused for '$plain' \(token\): the token's groups do not include sudo_group 'ops-$$'" >/dev/null
step "done"
