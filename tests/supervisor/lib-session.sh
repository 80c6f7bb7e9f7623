# Shared setup for the supervisor's integration tests (sourced).
# Creates a real test user (unique per run: vt<pid>), a scratch directory it
# can use, and removes both (and every process of the user, and any sudoers
# file) on exit, whatever happened.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (real sessions, a real test user)"; exit 77; }

TU="vt$$"
TMPD=$(mktemp -d /tmp/vigil-sup-test.XXXXXX)
chmod 755 "$TMPD"
SUDOERS="/etc/sudoers.d/vigil-test-$TU"
HELPERS="$VIGIL_BUILD_ROOT/tests/supervisor"

cleanup() {
    rc=$?
    # the test user's processes first (a test may have left some on purpose)
    if id "$TU" >/dev/null 2>&1; then
        pkill -KILL -u "$TU" 2>/dev/null
        for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -u "$TU" >/dev/null 2>&1 || break; sleep 0.1; done
        # -f: killed processes may still be zombies waiting for init to reap them
        userdel -f -r "$TU" >/dev/null 2>&1 || userdel -f "$TU" >/dev/null 2>&1
    fi
    [ -f "$TMPD/root-pids" ] && while read -r p; do kill -KILL "$p" 2>/dev/null; done < "$TMPD/root-pids"
    [ -f "$TMPD/umount" ] && umount "$(cat "$TMPD/umount")" 2>/dev/null
    rm -f "$SUDOERS"
    rm -rf "$TMPD"
    trap - EXIT
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

useradd -m -d "$TMPD/home" -s /bin/sh "$TU" || fail "useradd $TU"
mkdir -p "$TMPD/w" && chown "$TU" "$TMPD/w"
STORE="$TMPD/store"
# sessions are sealed with a key of the test's own, not the host's
export VIGIL_HOST_KEY="$TMPD/host.key"
EV="$TMPD/events.json"

# policy FILE TEXT: write a policy file
policy() {
    printf '%s\n' "$2" > "$1"
}

# vrun POLICY [vigil run options] -- CMD...: a --no-pty session as the test user
vrun() {
    p=$1
    shift
    "$VIGIL" --policy "$p" --store "$STORE" run --user "$TU" --no-pty "$@"
}

# field NAME LINE: a JSON field of one event line (python3 parses it)
events_py() {
    python3 -c "$1" "$EV"
}

allow_sudo() {
    printf '%s ALL=(ALL) NOPASSWD: ALL\nDefaults:%s !requiretty, !use_pty\n' "$TU" "$TU" > "$SUDOERS"
    chmod 440 "$SUDOERS"
    visudo -cf "$SUDOERS" >/dev/null || fail "sudoers file rejected"
}

# alive_count USER: processes of USER that are not zombies
alive_count() {
    n=0
    for p in $(pgrep -u "$1"); do
        st=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ] && n=$((n + 1))
    done
    echo "$n"
}

# helper NAME: a copy of a test helper the test user can execute
helper() {
    cp "$HELPERS/$1" "$TMPD/$1" && chmod 755 "$TMPD/$1" || fail "copy helper $1"
    echo "$TMPD/$1"
}
