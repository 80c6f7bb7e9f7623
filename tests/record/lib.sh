# Shared by the recording and masking tests (sourced): real sessions through
# `vigil run` for a real test user (unique per run: vr<pid>), a private store
# and host key, and clean-up of the user, its processes, mounts and files on
# exit, whatever happened.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (real sessions, a real test user)"; exit 77; }

TU="vr$$"
WORK=$(mktemp -d /tmp/vigil-record-test.XXXXXX)
chmod 755 "$WORK"
STORE=$WORK/store
export VIGIL_HOST_KEY=$WORK/host.key
HELPERS="$VIGIL_BUILD_ROOT/tests/record"
MOUNTS=""

cleanup() {
    rc=$?
    if id "$TU" >/dev/null 2>&1; then
        pkill -KILL -u "$TU" 2>/dev/null
        for _i in 1 2 3 4 5 6 7 8 9 10; do pgrep -u "$TU" >/dev/null 2>&1 || break; sleep 0.1; done
        userdel -r "$TU" >/dev/null 2>&1 || userdel "$TU" >/dev/null 2>&1
    fi
    [ -f "$WORK/root-pids" ] && while read -r p; do kill -KILL "$p" 2>/dev/null; done <"$WORK/root-pids"
    for m in $MOUNTS; do umount "$m" 2>/dev/null; done
    rm -rf "$WORK"
    exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

useradd -m -d "$WORK/home" -s /bin/sh "$TU" || fail "useradd $TU"
mkdir -p "$WORK/w" && chown "$TU" "$WORK/w"

# policy FILE LINE...: write a policy file (one argument per line)
policy() {
    _f=$1
    shift
    printf '%s\n' "$@" >"$_f"
}

# vrun POLICY [run options] -- CMD...: a --no-pty session as the test user
vrun() {
    _p=$1
    shift
    "$VIGIL" --policy "$_p" --store "$STORE" run --user "$TU" --no-pty "$@"
}

# v ARGS...: a vigil command on the test store
v() {
    "$VIGIL" --store "$STORE" "$@"
}

# last_id: the id of the newest session in the store
last_id() {
    v sessions --json | python3 -c 'import json,sys; print([json.loads(l) for l in sys.stdin][-1]["id"])'
}

# helper NAME: a copy of a test helper the test user can execute
helper() {
    cp "$HELPERS/$1" "$WORK/$1" && chmod 755 "$WORK/$1" || fail "copy helper $1"
    echo "$WORK/$1"
}

# no_secret FILE SECRET...: FILE contains none of the secrets
no_secret() {
    _f=$1
    shift
    for _s in "$@"; do
        grep -qF -- "$_s" "$_f" && fail "'$_s' leaked into $_f"
    done
    return 0
}
