# Shared by the hand-off tests (POSIX sh), on top of tests/pam_module/lib.sh:
# vigild with a configuration, the programs a test user runs copied where
# every account can execute them, logins through the real libpam, and the
# clean-up of sessions a failed test leaves running.
. "${VIGIL_SOURCE_ROOT:?}/tests/pam_module/lib.sh"
# sessions vigild starts are sealed with a key of the test's own
export VIGIL_HOST_KEY="$tmp/host.key"

VIGILD_PID=

# ho_bin: the binaries under test in $tmp/bin (mode 0755), so that test
# accounts can run them wherever the build tree is (sshd execs the login
# shell as the account).
ho_bin() {
    mkdir -p "$tmp/bin"
    for _b in "${VIGIL_SHELL:?}" "${VIGIL:?}" "${VIGILD_CALL:?}"; do
        cp "$_b" "$tmp/bin/" || fail "cp $_b"
    done
    chmod 755 "$tmp" "$tmp/bin" "$tmp/bin/"*
}

# ho_vigild SOCKET CONF [ARGS...]: the real vigild on a private socket with
# CONF, command events in $tmp/events; sets VIGILD_PID.
ho_vigild() {
    _s=$1 _c=$2
    shift 2
    mkdir -p "$tmp/events"
    "${VIGILD:?}" --socket "$_s" --config "$_c" --events-dir "$tmp/events" --log-file "$tmp/vigild.log" "$@" &
    VIGILD_PID=$!
    PV_PIDS="$PV_PIDS $VIGILD_PID"
    _i=0
    while ! "$tmp/bin/vigild-call" "$_s" status >/dev/null 2>&1; do
        _i=$((_i + 1))
        [ "$_i" -lt 600 ] || fail "vigild did not answer on '$_s': $(tail -n 5 "$tmp/vigild.log" 2>/dev/null)"
        sleep 0.05
    done
}

# ho_login OUT SERVICE USER TOKENFILE [OPS]: the PAM stack SERVICE (in
# $tmp/pam.d) for USER with the token in parts, through the real libpam;
# pam-converse's transcript in OUT, more pam-converse options in
# HO_LOGIN_OPTS. Prints the session reference (empty when none was set).
ho_login() {
    # shellcheck disable=SC2086
    "${PAM_CONVERSE:?}" --confdir "$tmp/pam.d" --service "$2" --user "$3" --first token --token-file "$4" \
        --ops "${5:-auth,account,open_session,env}" ${HO_LOGIN_OPTS:-} >"$1" 2>&1
    sed -n 's/^env-now: VIGIL_SESSION_REF=//p' "$1" | head -n 1
}

# ho_as USER CMD...: CMD as USER (groups from the group database), in its
# home, with a clean environment (what sshd's child would give it, plus
# VIGILD_SOCKET and whatever the caller exports in HO_ENV).
ho_as() {
    _u=$1
    shift
    # shellcheck disable=SC2086
    (cd "$tmp/home/$_u" && setpriv --reuid="$_u" --regid="$_u" --init-groups \
        env -i PATH=/usr/local/bin:/usr/bin:/bin HOME="$tmp/home/$_u" USER="$_u" LOGNAME="$_u" \
        LANG=C.UTF-8 ${HO_ENV:-} "$@")
}

# ho_session_ids: ids of the sessions vigild started that still run.
ho_session_ids() {
    for _f in "$tmp"/sessions/*; do
        case $_f in *.sock | *.new | *'*') continue ;; esac
        basename "$_f"
    done
}

# ho_wait_file FILE PATTERN [SECONDS]: wait until FILE has a line with PATTERN
# (60 s at most unless told: sessions start slowly on a loaded machine).
ho_wait_file() {
    _i=0
    while ! grep -qF -- "$2" "$1" 2>/dev/null; do
        _i=$((_i + 1))
        [ "$_i" -lt $((${3:-60} * 20)) ] || fail "no '$2' in $1: $(cat "$1" 2>/dev/null)"
        sleep 0.05
    done
}

# ho_cleanup: sessions first (their supervisors, by the pid in their
# records: killing one makes its watchdog end the session, and an account
# with processes left cannot be removed), then what pv_cleanup removes.
ho_cleanup() {
    # every vigild's run directory: $tmp, or the directory of a socket in $tmp/NAME/
    for _f in "$tmp"/sessions/* "$tmp"/*/sessions/*; do
        case $_f in *.sock | *'*') continue ;; esac
        _p=$(sed -n 's/^supervisor \([0-9]*\) .*/\1/p' "$_f" 2>/dev/null)
        _st=$(sed -n 's/^supervisor [0-9]* \([0-9]*\)$/\1/p' "$_f" 2>/dev/null)
        # the same process (pid and start time), not one that took its pid
        [ -n "$_p" ] && [ "$(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f20)" = "$_st" ] &&
            kill -9 "$_p" 2>/dev/null
    done
    # their watchdogs end those sessions; an account with a process left
    # is not removed (10 s at most)
    _i=0
    while [ "$_i" -lt 100 ]; do
        _busy=
        for _u in $PV_USERS; do
            pgrep -u "$_u" >/dev/null 2>&1 && _busy=1
        done
        [ -z "$_busy" ] && break
        sleep 0.1
        _i=$((_i + 1))
    done
    pv_cleanup
}
