# Shared by the pam_vigil tests (POSIX sh): the test identity provider,
# vigild on a private socket, test accounts, configuration and syslog checks.
# The caller sets `tmp` (a private directory) and SYSLOG (the with-syslog
# capture file), and calls pv_cleanup from its EXIT trap.
IDP_HOME=${VIGIL_SOURCE_ROOT:?VIGIL_SOURCE_ROOT is not set}/tests/idp
. "$IDP_HOME/lib.sh"

PV_USERS=
PV_PIDS=
PV_FILES=

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
t_start=$(date +%s%N)
step() {
    echo "# [$((($(date +%s%N) - t_start) / 1000000)) ms] $*"
}

# pv_cleanup: stop what was started, remove accounts and files made outside
# $tmp. With PV_KEEP_LOG=FILE the syslog capture is copied there first.
pv_cleanup() {
    for p in $PV_PIDS; do
        kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
    done
    # sshd writes its pid file: a server this shell lost track of still goes.
    for f in "${tmp:-/nonexistent}"/*.pid; do
        [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null
    done
    idp_stop
    for u in $PV_USERS; do
        userdel "$u" 2>/dev/null
    done
    for f in $PV_FILES; do
        rm -f "$f"
    done
    [ -n "${PV_KEEP_LOG:-}" ] && [ -n "${SYSLOG:-}" ] && cp "$SYSLOG" "$PV_KEEP_LOG"
    [ -n "${tmp:-}" ] && rm -rf "$tmp"
}

# pv_useradd NAME [SHELL]: a local account for this run (locked password, home in $tmp).
pv_useradd() {
    mkdir -p "$tmp/home"
    useradd -M -d "$tmp/home/$1" -s "${2:-/usr/sbin/nologin}" "$1" || fail "useradd $1"
    PV_USERS="$PV_USERS $1"
}

# pv_vigild SOCKET: start vigild (the real broker, as root) on a private socket.
pv_vigild() {
    "${VIGILD:?VIGILD is not set}" --socket "$1" --log-file "$tmp/vigild.log" &
    PV_PIDS="$PV_PIDS $!"
    _i=0
    while [ ! -S "$1" ]; do
        _i=$((_i + 1))
        [ "$_i" -lt 1200 ] || fail "vigild did not create '$1': $(cat "$tmp/vigild.log" 2>/dev/null)"
        sleep 0.05
    done
}

# pv_config FILE [key = value lines on stdin]: vigil.conf for the provider
# started last; lines from stdin are added and replace the base's keys.
pv_config() {
    cat >"$1.extra"
    {
        for _kv in "issuer = $IDP_URL" "audience = vigil" "client_id = vigil" "ca_file = $IDP_CA" \
            "scopes = openid profile email groups" "store = $tmp/store"; do
            grep -q "^${_kv%% *} " "$1.extra" || echo "$_kv"
        done
        cat "$1.extra"
    } >"$1"
    rm -f "$1.extra"
}

# pv_token FILE LOGIN [device-login options]: an ID token from the provider
# started last, through a whole device flow.
pv_token() {
    _f=$1 _l=$2
    shift 2
    "$IDP_HOME/device-login" --url "$IDP_URL" --ca "$IDP_CA" --approve-as "$_l" "$@" >"$_f" 2>"$_f.err" ||
        fail "device-login as $_l: $(cat "$_f.err")"
}

# pv_log_wait PATTERN [SECONDS]: wait for a syslog line matching the
# extended regular expression PATTERN (30 s at most unless told); print it.
pv_log_wait() {
    _i=0
    while :; do
        if grep -E -- "$1" "$SYSLOG" 2>/dev/null; then
            return 0
        fi
        _i=$((_i + 1))
        [ "$_i" -lt $((${2:-30} * 20)) ] || fail "no syslog line matches '$1'; the log has:
$(tail -n 40 "$SYSLOG")"
        sleep 0.05
    done
}

# pv_has FILE PATTERN / pv_hasnt FILE PATTERN: fixed-string checks on a transcript.
pv_has() {
    grep -qF -- "$2" "$1" || fail "$(basename "$1"): no line '$2' in:
$(cat "$1")"
}
pv_hasnt() {
    ! grep -qF -- "$2" "$1" || fail "$(basename "$1"): unexpected '$2' in:
$(cat "$1")"
}

# pv_sshd_start NAME [LINE...]: Debian's sshd run as NAME (a symlink in
# $tmp/bin, so its PAM service is /etc/pam.d/NAME, which the caller writes)
# on 127.0.0.1 with host key $tmp/hostkey (made when missing); the LINEs
# come first in its sshd_config. Sets PORT; not to be run in a subshell.
pv_sshd_start() {
    _svc=$1
    shift
    mkdir -p "$tmp/bin"
    ln -sf /usr/sbin/sshd "$tmp/bin/$_svc"
    # sshd's privilege separation directory (the package's service unit makes it at boot).
    [ -d /run/sshd ] || install -d -m 0755 /run/sshd
    [ -f "$tmp/hostkey" ] || ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey" || fail "ssh-keygen"
    printf '%s\n' "$@" >"$tmp/$_svc.head"
    PORT=
    for _try in 1 2 3 4 5 6 7 8; do
        _p=$((20000 + ($$ * 7 + _try * 7919 + $(printf '%s' "$_svc" | cksum | cut -d' ' -f1)) % 40000))
        {
            cat "$tmp/$_svc.head"
            echo "Port $_p"
            echo "ListenAddress 127.0.0.1"
            echo "HostKey $tmp/hostkey"
            echo "PidFile $tmp/$_svc.pid"
            echo "LogLevel VERBOSE"
            echo "Subsystem sftp /usr/lib/openssh/sftp-server"
        } >"$tmp/$_svc.conf"
        "$tmp/bin/$_svc" -t -f "$tmp/$_svc.conf" || fail "sshd -t refused $tmp/$_svc.conf"
        : >"$tmp/$_svc.log"
        "$tmp/bin/$_svc" -D -f "$tmp/$_svc.conf" -E "$tmp/$_svc.log" </dev/null >>"$tmp/$_svc.log" 2>&1 &
        _pid=$!
        _i=0
        while [ "$_i" -lt 600 ] && kill -0 "$_pid" 2>/dev/null && ! grep -q "Server listening" "$tmp/$_svc.log"; do
            sleep 0.05
            _i=$((_i + 1))
        done
        if grep -q "Server listening on 127.0.0.1 port $_p" "$tmp/$_svc.log"; then
            PORT=$_p
            PV_PIDS="$PV_PIDS $_pid"
            return 0
        fi
        kill "$_pid" 2>/dev/null
        wait "$_pid" 2>/dev/null
    done
    fail "sshd $_svc did not start: $(cat "$tmp/$_svc.log")"
}
