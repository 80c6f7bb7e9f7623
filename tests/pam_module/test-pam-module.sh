#!/bin/sh
# pam_vigil through the real libpam (pam_start_confdir, service files in a
# temp dir naming the built module), against the real test identity
# provider and the real vigild: every path and every refusal, what the
# person sees, what goes to syslog (a listener on a private /dev/log), and
# the module's behaviour as a guest in the process (pam-converse checks
# stdout/stderr, signal dispositions and fds on every run).
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PV_INNER:-}" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-pam-test.XXXXXX") || exit 1
    PV_INNER=1 PV_TMP=$tmp SYSLOG=$tmp/syslog exec "$here/with-syslog" "$tmp/syslog" "$0" "$@"
fi
export PV_INNER
tmp=$PV_TMP
. "$here/lib.sh"
trap pv_cleanup EXIT
trap 'exit 1' INT TERM HUP

: "${PAM_CONVERSE:?}" "${PAM_VIGIL_SO:?}"
[ "$(id -u)" -eq 0 ] || fail "must run as root (test accounts, vigild's root-only requests)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"

user=vtp$$
other=${user}o   # another person at the identity provider
nolocal=${user}x # at the identity provider, without a local account
pv_useradd "$user"
cat >"$tmp/accounts.json" <<EOF2
{
  "$user": {"email": "$user@example.test", "groups": ["vigil-users", "ops-$$"]},
  "$other": {"groups": ["vigil-users"]},
  "$nolocal": {"groups": []}
}
EOF2

step "providers and vigild"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --client-id vigil --client-id other || fail "idp_start"
P1_URL=$IDP_URL
pv_config "$tmp/main.conf" </dev/null
# A provider whose ID tokens live 1 s, and one whose device codes live 2 s.
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --id-token-ttl 1 || fail "idp_start 2"
pv_config "$tmp/short.conf" <<EOF2
clock_skew = 0s
EOF2
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --device-code-ttl 2 || fail "idp_start 3"
pv_config "$tmp/expire.conf" </dev/null
IDP_URL=$P1_URL
sock=$tmp/vigild.sock
pv_vigild "$sock"

step "tokens"
pv_token "$tmp/good" "$user"
pv_token "$tmp/other-aud" "$user" --client-id other
pv_token "$tmp/other-user" "$other"
pv_token "$tmp/nolocal" "$nolocal"
# The good token with one character in the middle of its signature changed.
/usr/bin/python3 - "$tmp/good" >"$tmp/badsig" <<'EOF2'
import sys
h, p, s = open(sys.argv[1]).read().strip().split(".")
i = len(s) // 2
print(h + "." + p + "." + s[:i] + ("B" if s[i] == "A" else "A") + s[i + 1:])
EOF2
cmp -s "$tmp/good" "$tmp/badsig" && fail "the corrupted token equals the good one"
echo "not.a.token" >"$tmp/garbage"
: >"$tmp/empty"
head -c 17000 /dev/zero | tr '\0' 'a' >"$tmp/huge"
IDP_URL=$(sed -n 's/^issuer = //p' "$tmp/short.conf")
pv_token "$tmp/expired" "$user"
IDP_URL=$P1_URL
sleep 2 # the short-lived token is now past its exp

mkdir "$tmp/pam.d"
# libpam reads "other" for any stack a service file leaves out.
printf '%s\n' "auth required pam_deny.so" "account required pam_deny.so" "password required pam_deny.so" \
    "session required pam_deny.so" >"$tmp/pam.d/other"
# svc NAME MODULE-ARGS...: a service file with auth and account lines.
svc() {
    _n=$1
    shift
    {
        echo "auth required $PAM_VIGIL_SO $*"
        echo "account required $PAM_VIGIL_SO $*"
    } >"$tmp/pam.d/$_n"
}
# conv NAME USER [pam-converse options]: run, transcript in $tmp/NAME.out.
conv() {
    _n=$1 _u=$2
    shift 2
    "$PAM_CONVERSE" --confdir "$tmp/pam.d" --service "$_n" --user "$_u" "$@" >"$tmp/$_n.out" 2>"$tmp/$_n.err"
    _rc=$?
    [ "$_rc" -eq 0 ] || fail "pam-converse $_n exited $_rc: $(cat "$tmp/$_n.out" "$tmp/$_n.err")"
}
main="config=$tmp/main.conf vigild_socket=$sock"
refused() { # NAME RESULT LOG-PATTERN
    pv_has "$tmp/$1.out" "auth: $2"
    pv_has "$tmp/$1.out" "error: vigil: sign-in refused"
    pv_log_wait "pam_vigil\($1:auth\): .*$3" >/dev/null
}

step "module arguments"
svc args-unknown config="$tmp/main.conf" frobnicate
conv args-unknown "$user" --ops auth,account,setcred
pv_has "$tmp/args-unknown.out" "auth: PAM_SERVICE_ERR"
pv_has "$tmp/args-unknown.out" "account: PAM_SERVICE_ERR"
pv_has "$tmp/args-unknown.out" "setcred: PAM_SERVICE_ERR"
pv_hasnt "$tmp/args-unknown.out" "prompt-"
pv_log_wait "pam_vigil\(args-unknown:auth\): module argument 'frobnicate' is not a pam_vigil argument" >/dev/null
svc args-relative config=main.conf
conv args-relative "$user"
pv_has "$tmp/args-relative.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "module argument 'config=main.conf' needs an absolute path" >/dev/null
svc args-twice "$main" debug debug
conv args-twice "$user"
pv_has "$tmp/args-twice.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "pam_vigil\(args-twice:auth\): module argument 'debug' given twice" >/dev/null
svc args-empty config=
conv args-empty "$user"
pv_has "$tmp/args-empty.out" "auth: PAM_SERVICE_ERR"

step "configuration"
svc config-missing config="$tmp/nonexistent.conf" vigild_socket="$sock"
conv config-missing "$user"
pv_has "$tmp/config-missing.out" "auth: PAM_SERVICE_ERR"
pv_has "$tmp/config-missing.out" "error: vigil: sign-in refused"
pv_hasnt "$tmp/config-missing.out" "prompt-"
pv_log_wait "pam_vigil\(config-missing:auth\): configuration: .*nonexistent.conf.*No such file" >/dev/null
pv_config "$tmp/invalid.conf" <<EOF2
frobnicate = yes
EOF2
svc config-invalid config="$tmp/invalid.conf"
conv config-invalid "$user"
pv_has "$tmp/config-invalid.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "pam_vigil\(config-invalid:auth\): configuration: .*invalid.conf:7: unknown key 'frobnicate'" >/dev/null
pv_config "$tmp/zero.conf" <<EOF2
login_timeout = 0s
EOF2
svc config-zero config="$tmp/zero.conf"
conv config-zero "$user"
pv_has "$tmp/config-zero.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "'login_timeout' must be above 0s" >/dev/null
chmod 666 "$tmp/zero.conf"
svc config-writable config="$tmp/zero.conf"
conv config-writable "$user"
pv_has "$tmp/config-writable.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "pam_vigil\(config-writable:auth\): configuration: " >/dev/null

step "first prompt"
svc first-other "$main"
conv first-other "$user" --first nope
pv_has "$tmp/first-other.out" "prompt-on: vigil: press Enter to sign in with your browser, or type 'token':"
refused first-other PAM_AUTH_ERR "the first answer was neither empty nor 'token'"

svc user-ctl "$main"
conv user-ctl "$(printf 'vt%s\033[31m' $$)" --first nope
refused user-ctl PAM_AUTH_ERR "sign-in refused for 'vt$$.x1b.31m' \(first prompt\)"
! grep -q "$(printf '\033')" "$SYSLOG" || fail "an escape character from the user name reached the log"

step "token in parts: valid, then the identity in vigild"
svc token-good "$main" debug
conv token-good "$user" --first token --token-file "$tmp/good"
len=$(tr -d '\n' <"$tmp/good" | wc -c)
parts=$(((len + 499) / 500))
pv_has "$tmp/token-good.out" "auth: PAM_SUCCESS"
pv_has "$tmp/token-good.out" "account: PAM_SUCCESS"
pv_has "$tmp/token-good.out" "prompt-off: vigil token part 1:"
pv_has "$tmp/token-good.out" "prompt-off: vigil token part $((parts + 1)):"
pv_has "$tmp/token-good.out" "answer: part $((parts + 1)) (0 characters)"
pv_hasnt "$tmp/token-good.out" "prompt-off: vigil token part $((parts + 2)):"
pv_hasnt "$tmp/token-good.out" "error:"
ref=$(sed -n 's/^env: VIGIL_LOGIN_REF=//p' "$tmp/token-good.out")
printf '%s' "$ref" | grep -qxE '[0-9a-f]{64}' || fail "VIGIL_LOGIN_REF is not 64 hex digits: '$ref'"
pv_log_wait "pam_vigil\(token-good:auth\): signed in '$user' \(token\): subject '$user', email '$user@example.test', groups \[vigil-users,ops-$$\]" >/dev/null
pv_log_wait "pam_vigil\(token-good:account\): account granted for '$user' \(identity from auth\)" >/dev/null
grep -q "pam.register: login reference for '$user'" "$tmp/vigild.log" || fail "vigild did not register the login"

# account on its own, in another process, as sshd's monitor would: the
# identity comes back from vigild through the reference.
svc handoff "$main" debug
conv handoff "$user" --ops account --putenv "VIGIL_LOGIN_REF=$ref"
pv_has "$tmp/handoff.out" "account: PAM_SUCCESS"
pv_log_wait "pam_vigil\(handoff:account\): account granted for '$user' \(identity from vigild\)" >/dev/null
svc handoff-root "$main"
conv handoff-root root --ops account --putenv "VIGIL_LOGIN_REF=$ref"
pv_has "$tmp/handoff-root.out" "account: PAM_AUTH_ERR"
pv_log_wait "pam_vigil\(handoff-root:account\): account refused for 'root': hand-off lookup: vigild refused \(not found\)" >/dev/null
svc handoff-bogus "$main"
conv handoff-bogus "$user" --ops account --putenv "VIGIL_LOGIN_REF=$(printf '0%.0s' $(seq 64))"
pv_has "$tmp/handoff-bogus.out" "account: PAM_AUTH_ERR"
pv_log_wait "pam_vigil\(handoff-bogus:account\): account refused for '$user': hand-off lookup: vigild refused \(not found\): pam.lookup: unknown, expired or used reference" >/dev/null
svc handoff-none "$main"
conv handoff-none "$user" --ops account
pv_has "$tmp/handoff-none.out" "account: PAM_AUTH_ERR"
pv_log_wait "pam_vigil\(handoff-none:account\): account refused for '$user': no vigil sign-in for this login \(VIGIL_LOGIN_REF not set\)" >/dev/null
svc handoff-malformed "$main"
conv handoff-malformed "$user" --ops account --putenv "VIGIL_LOGIN_REF=../../etc"
pv_has "$tmp/handoff-malformed.out" "account: PAM_AUTH_ERR"
pv_log_wait "pam_vigil\(handoff-malformed:account\): .*VIGIL_LOGIN_REF is not 64 hex digits" >/dev/null

step "token in parts: refusals"
svc token-long "$main"
conv token-long "$user" --first token --token-file "$tmp/good" --part-size 501
refused token-long PAM_AUTH_ERR "\(token\): part 1 has 501 characters, more than 500"
svc token-huge "$main"
conv token-huge "$user" --first token --token-file "$tmp/huge"
refused token-huge PAM_AUTH_ERR "the token reaches 16384 bytes at part 33"
pv_hasnt "$tmp/token-huge.out" "vigil token part 34:"
svc token-empty "$main"
conv token-empty "$user" --first token --token-file "$tmp/empty"
refused token-empty PAM_AUTH_ERR "no token: the first part was empty"
svc token-badsig "$main"
conv token-badsig "$user" --first token --token-file "$tmp/badsig"
refused token-badsig PAM_AUTH_ERR "\(token\): verify: .*signature"
svc token-garbage "$main"
conv token-garbage "$user" --first token --token-file "$tmp/garbage"
refused token-garbage PAM_AUTH_ERR "\(token\): verify: "
svc token-expired config="$tmp/short.conf" vigild_socket="$sock"
conv token-expired "$user" --first token --token-file "$tmp/expired"
refused token-expired PAM_AUTH_ERR "\(token\): verify: exp [0-9T:-]+Z is in the past"
svc token-aud "$main"
conv token-aud "$user" --first token --token-file "$tmp/other-aud"
refused token-aud PAM_AUTH_ERR "\(token\): verify: aud 'other' does not contain the audience 'vigil'"
svc token-user "$main"
conv token-user "$user" --first token --token-file "$tmp/other-user"
refused token-user PAM_AUTH_ERR "\(token\): verify: username claim 'preferred_username' is '$other', not '$user'"
svc token-nolocal "$main"
conv token-nolocal "$nolocal" --first token --token-file "$tmp/nolocal"
refused token-nolocal PAM_AUTH_ERR "\(token\): no local account '$nolocal'"
pv_hasnt "$tmp/token-nolocal.out" "env: VIGIL_LOGIN_REF"
svc token-silent "$main"
conv token-silent "$user" --first token --token-file "$tmp/garbage" --silent
pv_has "$tmp/token-silent.out" "auth: PAM_AUTH_ERR"
pv_hasnt "$tmp/token-silent.out" "error:"

step "single_use"
pv_config "$tmp/single.conf" <<EOF2
single_use = yes
store = $tmp/store-single
EOF2
svc single config="$tmp/single.conf" vigild_socket="$sock"
conv single "$user" --first token --token-file "$tmp/good" --ops auth
pv_has "$tmp/single.out" "auth: PAM_SUCCESS"
svc single-again config="$tmp/single.conf" vigild_socket="$sock"
conv single-again "$user" --first token --token-file "$tmp/good" --ops auth
refused single-again PAM_AUTH_ERR "verify: jti '.*' was already used"

step "vigild unreachable"
svc vigild-down config="$tmp/main.conf" vigild_socket="$tmp/nothing.sock"
conv vigild-down "$user" --first token --token-file "$tmp/good"
refused vigild-down PAM_AUTHINFO_UNAVAIL "hand-off: cannot reach vigild at '$tmp/nothing.sock'"
pv_hasnt "$tmp/vigild-down.out" "env: VIGIL_LOGIN_REF"

step "device sign-in: approve"
approve="\"$IDP_HOME/approve\" --url \"\$VIGIL_VERIFICATION_URI\" --ca \"$IDP_CA\" --code \"\$VIGIL_USER_CODE\""
svc device-ok "$main"
conv device-ok "$user" --approve "$approve --login $user approve"
pv_has "$tmp/device-ok.out" "prompt-on: vigil: press Enter to sign in with your browser, or type 'token':"
grep -qE "^info: To sign in, open $P1_URL/[^ ]+ and enter [A-Z]{4}-[A-Z]{4}$" "$tmp/device-ok.out" ||
    fail "device-ok: no sign-in instructions: $(cat "$tmp/device-ok.out")"
grep -qE "^info: or open $P1_URL/[^ ]+user_code=[A-Z]{4}-[A-Z]{4}$" "$tmp/device-ok.out" ||
    fail "device-ok: no complete URI: $(cat "$tmp/device-ok.out")"
pv_has "$tmp/device-ok.out" "prompt-on: Press Enter once you have signed in"
pv_has "$tmp/device-ok.out" "approve: exit 0"
pv_has "$tmp/device-ok.out" "auth: PAM_SUCCESS"
pv_has "$tmp/device-ok.out" "account: PAM_SUCCESS"
grep -qE '^env: VIGIL_LOGIN_REF=[0-9a-f]{64}$' "$tmp/device-ok.out" || fail "device-ok: no VIGIL_LOGIN_REF"
pv_log_wait "pam_vigil\(device-ok:auth\): signed in '$user' \(device\): subject '$user'" >/dev/null

step "device sign-in: deny, expiry, timeout, wrong person"
svc device-deny "$main"
conv device-deny "$user" --approve "$approve deny"
refused device-deny PAM_AUTH_ERR "\(device\): token endpoint: the sign-in was denied \(access_denied"
svc device-expire config="$tmp/expire.conf" vigild_socket="$sock"
conv device-expire "$user" --approve "sleep 3"
refused device-expire PAM_AUTH_ERR "\(device\): token endpoint: the device code expired before approval \(expired_token"
pv_config "$tmp/timeout.conf" <<EOF2
login_timeout = 3s
EOF2
svc device-timeout config="$tmp/timeout.conf" vigild_socket="$sock"
conv device-timeout "$user"
refused device-timeout PAM_AUTH_ERR "\(device\): token endpoint: login_timeout reached before the sign-in was approved"
ms=$(sed -n 's/^auth-ms: //p' "$tmp/device-timeout.out")
# Polls every second (the provider's interval): the last one that fits in
# 3 s is at about 2 s, none starts after the 3 s, and a request still
# running at 3 s is cut off there (tests/identity: device_poll_ends_at_deadline).
# 2 s of room for a loaded machine to schedule the module.
echo "device-timeout: refused after $ms ms (login_timeout 3 s)"
[ "$ms" -ge 1800 ] && [ "$ms" -le 5000 ] || fail "device-timeout: refused after $ms ms, expected 2000-3000"
svc device-person "$main"
conv device-person "$user" --approve "$approve --login $other approve"
refused device-person PAM_AUTH_ERR "\(device\): verify: username claim 'preferred_username' is '$other', not '$user'"
pv_config "$tmp/unreachable.conf" <<EOF2
EOF2
sed -i "s|^issuer = .*|issuer = https://127.0.0.1:9|" "$tmp/unreachable.conf"
svc device-unreachable config="$tmp/unreachable.conf" vigild_socket="$sock"
conv device-unreachable "$user"
refused device-unreachable PAM_AUTHINFO_UNAVAIL "\(device\): discovery: "

step "require_group (account)"
pv_config "$tmp/group-missing.conf" <<EOF2
require_group = admins-$$
EOF2
svc group-missing config="$tmp/group-missing.conf" vigild_socket="$sock"
conv group-missing "$user" --first token --token-file "$tmp/good"
pv_has "$tmp/group-missing.out" "auth: PAM_SUCCESS"
pv_has "$tmp/group-missing.out" "account: PAM_PERM_DENIED"
pv_has "$tmp/group-missing.out" "error: vigil: sign-in refused"
pv_log_wait "pam_vigil\(group-missing:account\): account refused for '$user': the token's groups do not include require_group 'admins-$$'" >/dev/null
pv_config "$tmp/group-ok.conf" <<EOF2
require_group = ops-$$
EOF2
svc group-ok config="$tmp/group-ok.conf" vigild_socket="$sock"
conv group-ok "$user" --first token --token-file "$tmp/good"
pv_has "$tmp/group-ok.out" "account: PAM_SUCCESS"

step "sudo stack"
pv_config "$tmp/sudo.conf" <<EOF2
sudo_group = ops-$$
EOF2
svc sudo-ok config="$tmp/sudo.conf" sudo
conv sudo-ok "$user" --first token --token-file "$tmp/good"
pv_has "$tmp/sudo-ok.out" "auth: PAM_SUCCESS"
pv_has "$tmp/sudo-ok.out" "account: PAM_SUCCESS"
pv_hasnt "$tmp/sudo-ok.out" "env: VIGIL_LOGIN_REF"
svc sudo-stale config="$tmp/sudo.conf" sudo
conv sudo-stale "$user" --ops account
pv_has "$tmp/sudo-stale.out" "account: PAM_AUTH_ERR"
pv_log_wait "pam_vigil\(sudo-stale:account\): account refused for '$user': no sign-in on this request" >/dev/null
pv_config "$tmp/sudo-other.conf" <<EOF2
sudo_group = admins-$$
EOF2
svc sudo-nogroup config="$tmp/sudo-other.conf" sudo
conv sudo-nogroup "$user" --first token --token-file "$tmp/good"
refused sudo-nogroup PAM_AUTH_ERR "\(token\): the token's groups do not include sudo_group 'admins-$$'"
svc sudo-unset config="$tmp/main.conf" sudo
conv sudo-unset "$user"
pv_has "$tmp/sudo-unset.out" "auth: PAM_SERVICE_ERR"
pv_log_wait "the 'sudo' module argument needs 'sudo_group'" >/dev/null

step "no secret in any log"
sig=$(tr -d '\n' <"$tmp/good" | cut -d. -f3)
for f in "$SYSLOG" "$tmp/vigild.log" "$tmp"/*.out; do
    ! grep -qF -- "$sig" "$f" || fail "the token's signature appears in $f"
done
! grep -qF -- "$ref" "$SYSLOG" "$tmp/vigild.log" || fail "the login reference appears in a log"
step "done"
