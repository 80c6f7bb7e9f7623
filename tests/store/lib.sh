# Helpers for the store's integration tests. Each test gets its own store
# directory and host key under a private temporary directory, removed on exit.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

: "${STORE_WRITER:?}" "${STORE_TAMPER:?}"
WORK=$(mktemp -d /tmp/vigil-store-test.XXXXXX)
chmod 700 "$WORK"
STORE=$WORK/store
export VIGIL_HOST_KEY=$WORK/host.key
trap 'rm -rf "$WORK"' EXIT INT TERM

v() {
    "$VIGIL" --store "$STORE" "$@"
}
writer() {
    "$STORE_WRITER" --store "$STORE" "$@"
}
tamper() {
    "$STORE_TAMPER" "$STORE" "$@"
}
# sum_store: a checksum of the store's data file (to show nothing changed)
sum_store() {
    sha256sum "$STORE/data.mdb" | cut -d' ' -f1
}
# one_line CMD...: run, expect exit 1 and exactly one line on stderr, nothing on stdout
one_line() {
    out=$("$@" 2>"$WORK/err")
    rc=$?
    [ "$rc" -eq 1 ] || fail "'$*' exited $rc, expected 1"
    [ -z "$out" ] || fail "'$*' printed to stdout: $out"
    [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*' printed not one line: $(cat "$WORK/err")"
}
