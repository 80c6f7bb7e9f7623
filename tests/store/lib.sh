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
# keys TABLE: one line per key of the table: its first 16 bytes (a session
# id, in hex) and its length (continuation keys of values in pieces are one
# longer than the table's keys: docs/store.md)
keys() {
    mdb_dump -s "$1" "$STORE" | awk '/^ / { if (++n % 2 == 1) print substr($1, 1, 32), length($1) / 2 }'
}
# hexid ID: a session id as keys prints it
hexid() {
    echo "$1" | tr -d -
}
