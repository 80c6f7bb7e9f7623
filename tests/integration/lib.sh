# Helpers for shell integration tests (TAP-less: exit 0 pass, 77 skip, else fail).
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
ok() {
    exit 0
}
# expect_exit CODE CMD...: run CMD with stdout/stderr discarded, check its exit status.
expect_exit() {
    want=$1
    shift
    "$@" >/dev/null 2>&1
    got=$?
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want"
}
