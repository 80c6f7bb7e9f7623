# Fixture hosts for `vigil doctor --root`: a temporary tree that looks like
# a Debian host with vigil installed and configured (make_clean_root), which
# tests then break one piece at a time. Nothing here touches the real /etc.

. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

SSHD=${SSHD:-/usr/sbin/sshd}

[ "$(id -u)" -eq 0 ] || { echo "SKIP: vigil doctor tests need root (ownership checks)"; exit 77; }
[ -x "$SSHD" ] || fail "no sshd at $SSHD (scripts/deps installs openssh-server)"

# A user name unique to this run; it exists only in the fixture's passwd.
TUSER=vt$$

# make_clean_root DIR: a host with nothing to report (with --skip clock,idp,vigild).
make_clean_root() {
    r=$1
    mkdir -p "$r/etc/ssh/sshd_config.d" "$r/etc/pam.d" "$r/etc/vigil" "$r/var/lib/vigil" \
        "$r/usr/share/vigil/sshd" "$r/usr/sbin" "$r/usr/bin" "$r/usr/lib/x86_64-linux-gnu/security" \
        "$r/run/vigil" "$r/var/spool/cron/crontabs" "$r/var/lib/systemd/linger"
    chmod 0755 "$r" "$r/etc" "$r/etc/vigil" "$r/run" "$r/run/vigil"
    chmod 0700 "$r/var/lib/vigil"

    ssh-keygen -q -t ed25519 -N '' -f "$r/etc/ssh/ssh_host_ed25519_key" </dev/null
    # What sshd -T evaluates; Include paths are absolute, so they point into the fixture.
    cat >"$r/etc/ssh/sshd_config" <<EOC
Include $r/etc/ssh/sshd_config.d/*.conf
HostKey $r/etc/ssh/ssh_host_ed25519_key
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com
KexAlgorithms sntrup761x25519-sha512@openssh.com,curve25519-sha256,curve25519-sha256@libssh.org
Subsystem sftp /usr/lib/openssh/sftp-server
EOC
    cat >"$r/usr/share/vigil/sshd/00-vigil.conf" <<'EOC'
UsePAM yes
KbdInteractiveAuthentication yes
AuthenticationMethods keyboard-interactive
PasswordAuthentication no
PubkeyAuthentication no
LoginGraceTime 120
PermitUserRC no
PermitUserEnvironment no
DisableForwarding yes
AllowTcpForwarding no
AllowStreamLocalForwarding no
X11Forwarding no
PermitTunnel no
AllowAgentForwarding no
EOC
    # Enabled as a copy: a link to /usr/share/... would send the real sshd to
    # the real root's file.
    cp "$r/usr/share/vigil/sshd/00-vigil.conf" "$r/etc/ssh/sshd_config.d/00-vigil.conf"

    for svc in sshd sudo; do
        printf '%s\n' "auth required pam_vigil.so" "account required pam_vigil.so" \
            "session required pam_vigil.so" >"$r/etc/pam.d/$svc"
    done
    : >"$r/usr/lib/x86_64-linux-gnu/security/pam_vigil.so"
    chmod 0644 "$r/usr/lib/x86_64-linux-gnu/security/pam_vigil.so"
    : >"$r/usr/bin/sudo"
    : >"$r/usr/bin/crontab"
    : >"$r/usr/bin/at"
    : >"$r/etc/cron.allow" # nobody may use crontab; no at.allow/at.deny: only root may use at

    printf '%s\n' 'root:x:0:0:root:/root:/bin/bash' "$TUSER:x:64123:64123::/home/$TUSER:/usr/sbin/vigil-shell" \
        >"$r/etc/passwd"
    printf '%s\n' /bin/sh /bin/bash /usr/sbin/vigil-shell >"$r/etc/shells"
    printf '#!/bin/sh\nexit 1\n' >"$r/usr/sbin/vigil-shell"
    chmod 0755 "$r/usr/sbin/vigil-shell"

    (umask 077 && openssl genpkey -algorithm ed25519 -out "$r/etc/vigil/host.key" 2>/dev/null)
    printf '%s\n' 'default deny' 'allow exe=/bin/true' >"$r/etc/vigil/policy.conf"
    chmod 0644 "$r/etc/vigil/policy.conf"
    printf '%s\n' 'issuer = https://idp.invalid' 'audience = vigil' 'client_id = vigil' \
        'jwks_file = /etc/vigil/jwks.json' >"$r/etc/vigil/vigil.conf"
    chmod 0600 "$r/etc/vigil/vigil.conf"
    printf '{"keys":[]}\n' >"$r/etc/vigil/jwks.json"
    chmod 0644 "$r/etc/vigil/jwks.json"
}

# doctor ROOT [ARGS...]: vigil doctor --json on the fixture; sets $out and $rc.
doctor() {
    droot=$1
    shift
    set +e
    out=$("$VIGIL" doctor --json --root "$droot" --sshd "$SSHD" "$@" 2>"$droot.stderr")
    rc=$?
    set -e
}

# Validate --json output: one object per line with exactly check, message, fix.
check_json() {
    printf '%s\n' "$out" | python3 -c '
import json, sys
n = 0
for line in sys.stdin:
    if not line.strip():
        continue
    o = json.loads(line)
    assert isinstance(o, dict) and sorted(o) == ["check", "fix", "message"], line
    assert all(isinstance(v, str) and v for v in o.values()), line
    n += 1
print(n)
' || fail "--json output is not one {check,message,fix} object per line: $out"
}
