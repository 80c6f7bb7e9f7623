#!/bin/sh
# vigil doctor on fixture hosts: a clean host has no findings (exit 0);
# each way of breaking it gives exactly the expected findings (exit 1);
# --json is one valid object per finding; the live clock check agrees with
# the kernel. sshd -T runs for real, on the fixture's sshd_config.
set -eu
. "$VIGIL_SOURCE_ROOT/tests/doctor/lib.sh"
VIGILD=${1:-} # the vigild binary, when the build has one

tmp=$(mktemp -d)
listener=
cleanup() {
    [ -z "$listener" ] || kill "$listener" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

SKIP_LIVE=clock,idp,vigild # checks of the live machine, tested on their own below
i=0

# fresh: a new clean fixture in $r (a copy of one made once: keys take time).
make_clean_root "$tmp/template"
fresh() {
    i=$((i + 1))
    r=$tmp/case$i
    cp -a "$tmp/template" "$r"
    sed -i "s|$tmp/template|$r|g" "$r/etc/ssh/sshd_config"
}

# expect CHECK SUBSTRING [CHECK SUBSTRING]...: exactly these findings.
expect() {
    doctor "$r" --skip "$SKIP_LIVE"
    got=$(check_json)
    want=$(($# / 2))
    [ "$got" -eq "$want" ] || fail "case $i: $got findings, expected $want ($*): $out"
    [ "$rc" -eq 1 ] || fail "case $i: exit $rc with findings"
    while [ $# -ge 2 ]; do
        printf '%s\n' "$out" | python3 -c '
import json, sys
check, sub = sys.argv[1], sys.argv[2]
sys.exit(0 if any(o["check"] == check and sub in o["message"] for o in map(json.loads, sys.stdin)) else 1)
' "$1" "$2" || fail "case $i: no '$1' finding with '$2' in: $out"
        shift 2
    done
}

dropin() { # dropin SED-EXPR: edit the enabled drop-in
    sed -i "$1" "$r/etc/ssh/sshd_config.d/00-vigil.conf"
}

# ---- a clean host --------------------------------------------------------------
fresh
doctor "$r" --skip "$SKIP_LIVE"
[ "$rc" -eq 0 ] || fail "clean fixture: exit $rc: $out $(cat "$r.stderr")"
[ "$(check_json)" -eq 0 ] || fail "clean fixture has findings: $out"
set +e
text=$("$VIGIL" doctor --root "$r" --sshd "$SSHD" --skip "$SKIP_LIVE" 2>/dev/null)
trc=$?
set -e
[ "$trc" -eq 0 ] && [ "$text" = "vigil doctor: no findings" ] || fail "clean fixture, text mode: $trc '$text'"

# ---- sshd ------------------------------------------------------------------------
fresh; dropin '/PermitUserRC/d'
expect sshd "PermitUserRC is 'yes'"
fresh; dropin 's/DisableForwarding yes/DisableForwarding no/; s/AllowTcpForwarding no/AllowTcpForwarding yes/'
expect sshd "AllowTcpForwarding is 'yes': forwarded TCP ports"
fresh; dropin 's/DisableForwarding yes/DisableForwarding no/; s/X11Forwarding no/X11Forwarding yes/; /AllowAgentForwarding/d; /AllowStreamLocal/d'
expect sshd "X11Forwarding is 'yes'" sshd "AllowAgentForwarding is 'yes'" sshd "AllowStreamLocalForwarding is 'yes'"
fresh; dropin '/PermitTunnel/d'; echo 'PermitTunnel point-to-point' >>"$r/etc/ssh/sshd_config"
expect sshd "PermitTunnel is 'point-to-point'"
fresh; dropin 's/UsePAM yes/UsePAM no/; s/KbdInteractiveAuthentication yes/KbdInteractiveAuthentication no/; s/AuthenticationMethods keyboard-interactive/AuthenticationMethods any/'
expect sshd "UsePAM is 'no'" sshd "KbdInteractiveAuthentication is 'no'"
fresh; dropin 's/AuthenticationMethods keyboard-interactive/AuthenticationMethods any/; s/PubkeyAuthentication no/PubkeyAuthentication yes/'
expect sshd "PubkeyAuthentication is 'yes' with AuthenticationMethods 'any'"
fresh; dropin 's/AuthenticationMethods keyboard-interactive/AuthenticationMethods publickey,keyboard-interactive publickey/; s/PubkeyAuthentication no/PubkeyAuthentication yes/'
expect sshd "AuthenticationMethods list 'publickey' completes a login without keyboard-interactive"
fresh; dropin 's/LoginGraceTime 120/LoginGraceTime 60/'
expect sshd "LoginGraceTime is 60s but vigil.conf login_timeout is 90s"
fresh; dropin 's/PermitUserEnvironment no/PermitUserEnvironment yes/'; echo 'AcceptEnv LANG LC_* LD_*' >>"$r/etc/ssh/sshd_config"
expect sshd "PermitUserEnvironment is 'yes'" sshd "AcceptEnv 'LD_*' lets the client set LD_PRELOAD"
fresh; sed -i 's|^Subsystem sftp .*|Subsystem sftp internal-sftp -f AUTHPRIV|' "$r/etc/ssh/sshd_config"
expect sshd "'Subsystem sftp internal-sftp -f AUTHPRIV': sshd serves SFTP itself"
fresh; printf 'Match User %s\n  ForceCommand internal-sftp\n  PermitTunnel yes\n' "$TUSER" >>"$r/etc/ssh/sshd_config"
expect sshd "ForceCommand is 'internal-sftp' for user '$TUSER' from 127.0.0.1 (a Match block)" \
    sshd "PermitTunnel is 'yes' for user '$TUSER' from 127.0.0.1 (a Match block)"
# A Match block overrides the drop-in's global value, for some connections only.
fresh; printf 'Match Address 192.0.2.0/24\n  PermitUserRC yes\n' >>"$r/etc/ssh/sshd_config"
expect sshd "PermitUserRC is 'yes' for user '$TUSER' from 192.0.2.1 (a Match block)"
fresh; printf 'Match User nobody-else\n  PermitUserRC yes\n' >>"$r/etc/ssh/sshd_config"
doctor "$r" --skip "$SKIP_LIVE"
[ "$rc" -eq 0 ] || fail "a Match block for an unsupervised user is not a finding: $out"
fresh; echo 'NoSuchKeyword yes' >>"$r/etc/ssh/sshd_config"
expect sshd "sshd cannot read its configuration"

# ---- crypto ------------------------------------------------------------------------
fresh
sed -i 's/^Ciphers .*/&,aes128-cbc,3des-cbc/; s/^MACs .*/&,hmac-sha1,umac-64@openssh.com/; s/^KexAlgorithms .*/&,diffie-hellman-group14-sha1/' \
    "$r/etc/ssh/sshd_config"
expect crypto "weak Ciphers: aes128-cbc (CBC mode), 3des-cbc (CBC mode)" \
    crypto "weak MACs: hmac-sha1 (SHA-1), umac-64@openssh.com (64-bit tag)" \
    crypto "weak KexAlgorithms: diffie-hellman-group14-sha1 (SHA-1)"
printf '%s\n' "$out" | grep -qF "set 'MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com'" ||
    fail "the crypto fix does not keep the strong MACs: $out"

# ---- the drop-in --------------------------------------------------------------------
fresh
cat "$r/etc/ssh/sshd_config.d/00-vigil.conf" >>"$r/etc/ssh/sshd_config"
rm "$r/etc/ssh/sshd_config.d/00-vigil.conf"
expect dropin "the vigil sshd drop-in is not enabled"
fresh
sed -i '/^Include/d' "$r/etc/ssh/sshd_config"
cat "$r/etc/ssh/sshd_config.d/00-vigil.conf" >>"$r/etc/ssh/sshd_config"
expect dropin "does not include /etc/ssh/sshd_config.d"

# ---- PAM (the stack analysis has its own case table) ----------------------------------
fresh; rm "$r/usr/lib/x86_64-linux-gnu/security/pam_vigil.so"
expect pam "uses 'pam_vigil.so', which is not installed" pam "uses 'pam_vigil.so', which is not installed" \
    pam "uses 'pam_vigil.so', which is not installed" pam "uses 'pam_vigil.so', which is not installed" \
    pam "uses 'pam_vigil.so', which is not installed"
fresh; chmod 0666 "$r/usr/lib/x86_64-linux-gnu/security/pam_vigil.so"
expect pam "pam_vigil.so' is owned by uid 0 with mode 0666" pam "mode 0666" pam "mode 0666" pam "mode 0666" \
    pam "mode 0666"
fresh; sed -i '/^auth/d' "$r/etc/pam.d/sudo"
expect pam "/etc/pam.d/sudo (auth) does not use pam_vigil"
fresh; echo 'session optional pam_systemd.so' >>"$r/etc/pam.d/sshd"
expect jobs "pam_systemd starts a systemd user manager"
fresh; printf '%s\n' 'session [success=1 default=ignore] pam_succeed_if.so quiet shell = /usr/sbin/vigil-shell' \
    'session optional pam_systemd.so' >>"$r/etc/pam.d/sshd"
doctor "$r" --skip "$SKIP_LIVE"
[ "$rc" -eq 0 ] || fail "pam_systemd guarded by pam_succeed_if is not a finding: $out"

# ---- shells -------------------------------------------------------------------------
fresh; sed -i '\|/usr/sbin/vigil-shell|d' "$r/etc/shells"
expect shells "/usr/sbin/vigil-shell is not listed in /etc/shells"
fresh; echo "${TUSER}b:x:64124:64124::/home/${TUSER}b:/bin/bash" >>"$r/etc/passwd"
doctor "$r" --skip "$SKIP_LIVE" --user "${TUSER}b"
[ "$(check_json)" -eq 1 ] && printf '%s\n' "$out" | grep -qF "user '${TUSER}b' has login shell '/bin/bash'" ||
    fail "--user with another shell: $out"
fresh; rm "$r/usr/sbin/vigil-shell"
expect shells "/usr/sbin/vigil-shell is missing but 1 account(s) use it"
fresh; chmod 0775 "$r/usr/sbin/vigil-shell"
expect shells "'/usr/sbin/vigil-shell' is owned by uid 0 with mode 0775"

# ---- cron, at, systemd ---------------------------------------------------------------
fresh; rm "$r/etc/cron.allow"
expect jobs "supervised user '$TUSER' may install a crontab"
fresh; echo "$TUSER" >"$r/etc/cron.allow"; : >"$r/var/spool/cron/crontabs/$TUSER"
expect jobs "supervised user '$TUSER' may install a crontab" jobs "supervised user '$TUSER' has a crontab"
fresh; echo daemon >"$r/etc/at.deny"
expect jobs "supervised user '$TUSER' may queue at/batch jobs"
fresh; echo "$TUSER" >"$r/etc/at.allow"; echo "$TUSER" >"$r/etc/at.deny"
expect jobs "may queue at/batch jobs"
fresh; mkdir -p "$r/var/spool/cron/atjobs"; : >"$r/var/spool/cron/atjobs/a0001"; chown 64123 "$r/var/spool/cron/atjobs/a0001"
expect jobs "supervised user '$TUSER' has queued at jobs"
fresh; : >"$r/var/lib/systemd/linger/$TUSER"
expect jobs "supervised user '$TUSER' has lingering enabled"
fresh; rm "$r/usr/bin/crontab" "$r/etc/cron.allow"
doctor "$r" --skip "$SKIP_LIVE"
[ "$rc" -eq 0 ] || fail "no cron installed: no cron finding expected: $out"

# ---- files ---------------------------------------------------------------------------
fresh; chmod 0755 "$r/var/lib/vigil"
expect files "'/var/lib/vigil' is owned by uid 0 with mode 0755 (want root, at most 0700)"
fresh; rmdir "$r/var/lib/vigil"
expect files "the store '/var/lib/vigil' does not exist"
fresh; : >"$r/var/lib/vigil/data.mdb"; chmod 0644 "$r/var/lib/vigil/data.mdb"
expect files "'/var/lib/vigil/data.mdb' is owned by uid 0 with mode 0644 (want root, at most 0600)"
fresh; chmod 0640 "$r/etc/vigil/host.key"
expect files "'/etc/vigil/host.key' is owned by uid 0 with mode 0640"
fresh; openssl genpkey -algorithm ec -pkeyopt ec_paramgen_curve:P-256 -out "$r/etc/vigil/host.key" 2>/dev/null
chmod 0600 "$r/etc/vigil/host.key"
expect files "/etc/vigil/host.key is not a PEM Ed25519 private key"
fresh; rm "$r/etc/vigil/host.key"
expect files "/etc/vigil/host.key does not exist"
fresh; ln -s /dev/null "$r/etc/vigil/host.key.tmp"; rm "$r/etc/vigil/host.key"; mv "$r/etc/vigil/host.key.tmp" "$r/etc/vigil/host.key"
expect files "'/etc/vigil/host.key' is not a regular file (a symbolic link)"
fresh; chmod 0777 "$r/etc/vigil"
expect files "'/etc/vigil' is owned by uid 0 with mode 0777"
fresh; chmod 0775 "$r/etc"
expect files "'/etc' (above '/etc/vigil') is owned by uid 0 with mode 0775"
fresh; chmod 0644 "$r/etc/vigil/vigil.conf"; echo 'client_secret = s3cret#' >>"$r/etc/vigil/vigil.conf"
expect files "'/etc/vigil/vigil.conf' holds client_secret and is readable by others"
fresh; chmod 0664 "$r/etc/vigil/policy.conf"
expect files "'/etc/vigil/policy.conf' is owned by uid 0 with mode 0664"
fresh; chown 65534 "$r/var/lib/vigil"
expect files "'/var/lib/vigil' is owned by uid 65534"

# ---- policy -------------------------------------------------------------------------
fresh; echo 'allow exe=' >>"$r/etc/vigil/policy.conf"
expect policy "the policy does not load (1 error(s), first /etc/vigil/policy.conf:3:"
fresh; rm "$r/etc/vigil/policy.conf"
expect policy "there is no policy at '/etc/vigil/policy.conf'"
fresh; echo 'default deny' >"$r/p2"; chmod 0644 "$r/p2"
doctor "$r" --skip "$SKIP_LIVE" --policy /p2
[ "$rc" -eq 0 ] || fail "--policy is looked up under --root: $out"

# ---- vigil.conf and the identity provider (builds with the config and identity libraries) ----
fresh; echo 'no_such_key = 1' >>"$r/etc/vigil/vigil.conf"
doctor "$r" --skip "$SKIP_LIVE"
if grep -q "this build has no vigil.conf parser" "$r.stderr"; then
    [ "$rc" -eq 0 ] || fail "without the config library vigil.conf is not read: $out"
else
    expect config "vigil.conf:5: " # the parser's FILE:LINE: message
    fresh; echo 'login_timeout = 150s' >>"$r/etc/vigil/vigil.conf"
    expect sshd "LoginGraceTime is 120s but vigil.conf login_timeout is 150s"
    fresh; rm "$r/etc/vigil/vigil.conf"
    expect config "there is no '/etc/vigil/vigil.conf': every login is refused"
fi
fresh
doctor "$r" --only config,idp
if grep -q "this build has no identity library" "$r.stderr"; then
    [ "$rc" -eq 0 ] || fail "without the identity library the provider is not checked: $out"
else
    # idp.invalid never resolves: the provider cannot be used.
    [ "$(check_json)" -eq 1 ] && printf '%s\n' "$out" | grep -qF "the identity provider 'https://idp.invalid' cannot be used" ||
        fail "unreachable provider: $out"
    chmod 0666 "$r/etc/vigil/jwks.json"
    doctor "$r" --only config,idp
    printf '%s\n' "$out" | grep -qF "'/etc/vigil/jwks.json' is owned by uid 0 with mode 0666" || fail "writable jwks_file: $out"
    fresh; sed -i '/^jwks_file/d' "$r/etc/vigil/vigil.conf"
    mkdir -m 0700 "$r/var/lib/vigil/identity"
    printf '{"issuer":"https://idp.invalid","jwks_uri":"https://idp.invalid/k","fetched_at":1000,"checked_at":1000,"jwks":{"keys":[]}}' \
        >"$r/var/lib/vigil/identity/jwks-test.json"
    chmod 0600 "$r/var/lib/vigil/identity/jwks-test.json"
    doctor "$r" --only config,idp
    [ "$(check_json)" -eq 2 ] && printf '%s\n' "$out" | grep -qF "the cached JWKS '/var/lib/vigil/identity/jwks-test.json' was last confirmed by the provider" ||
        fail "stale JWKS cache: $out"
fi

# ---- several at once: the known set, in the order the checks run ----------------------
fresh
dropin '/PermitUserRC/d'
rm "$r/etc/cron.allow"
chmod 0755 "$r/var/lib/vigil"
echo 'allow exe=' >>"$r/etc/vigil/policy.conf"
doctor "$r" --skip "$SKIP_LIVE"
[ "$rc" -eq 1 ] || fail "several findings: exit $rc"
checks=$(printf '%s\n' "$out" | python3 -c 'import json,sys; print(" ".join(json.loads(l)["check"] for l in sys.stdin))')
[ "$checks" = "sshd jobs files policy" ] || fail "several findings: got '$checks': $out"

# ---- vigild: the socket must answer --------------------------------------------------
fresh
doctor "$r" --only vigild
[ "$(check_json)" -eq 1 ] && printf '%s\n' "$out" | grep -qF "vigild does not answer at '/run/vigil/vigild.sock'" ||
    fail "no vigild: $out"
sock=$r/run/vigil/vigild.sock
if [ -n "${VIGILD:-}" ]; then
    "$VIGILD" --socket "$sock" --log-stderr 2>"$tmp/vigild.log" &
else
    python3 -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.bind(sys.argv[1]); s.listen(8)
time.sleep(60)' "$sock" &
fi
listener=$!
n=0
while [ ! -S "$sock" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n + 1)); done
doctor "$r" --only vigild
[ "$rc" -eq 0 ] || fail "vigild listening: exit $rc: $out $(cat "$r.stderr")"
chown 65534 "$sock"
doctor "$r" --only vigild
printf '%s\n' "$out" | grep -qF "'/run/vigil/vigild.sock' is a socket owned by uid 65534" || fail "foreign socket: $out"
kill "$listener"; wait "$listener" 2>/dev/null || true; listener=
chmod 0777 "$r/run/vigil"
doctor "$r" --only vigild
printf '%s\n' "$out" | grep -qF "'/run/vigil' is owned by uid 0 with mode 0777" || fail "writable socket directory: $out"

# ---- clock: what adjtimex(2) says -----------------------------------------------------
doctor "$r" --only clock
state=$(python3 -c 'import ctypes; b = ctypes.create_string_buffer(512); print(ctypes.CDLL(None).adjtimex(b))')
if [ "$state" -eq 5 ]; then
    [ "$rc" -eq 1 ] && printf '%s\n' "$out" | grep -qF "the system clock is not synchronised" || fail "clock: $out"
else
    [ "$rc" -eq 0 ] || fail "clock is synchronised (state $state) but: $out"
fi

# ---- no sshd, usage errors -------------------------------------------------------------
fresh
set +e
"$VIGIL" doctor --root "$r" --sshd /nonexistent/sshd --skip "$SKIP_LIVE" >"$tmp/o" 2>"$tmp/e"
nrc=$?
set -e
[ "$nrc" -eq 0 ] && grep -q "no sshd at '/nonexistent/sshd'" "$tmp/e" || fail "no sshd: exit $nrc, $(cat "$tmp/e")"
set +e
expect_exit 2 "$VIGIL" doctor --skip nosuchcheck
expect_exit 2 "$VIGIL" doctor --root relative/dir
expect_exit 2 "$VIGIL" doctor extra-argument
expect_exit 2 "$VIGIL" doctor --user
set -e
"$VIGIL" doctor --help | grep -q 'Usage: vigil doctor' || fail "doctor --help"
echo "ok: $i fixture hosts"
