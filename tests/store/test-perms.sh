#!/bin/sh
# The store and the host key are root's alone: directory 0700, files 0600.
. "$(dirname "$0")/lib.sh"

writer --commands 2 --output 1k || fail writer
[ "$(stat -c %a "$STORE")" = 700 ] || fail "store dir mode $(stat -c %a "$STORE")"
for f in data.mdb lock.mdb; do
    [ "$(stat -c %a "$STORE/$f")" = 600 ] || fail "$f mode $(stat -c %a "$STORE/$f")"
    [ "$(stat -c %u "$STORE/$f")" = "$(id -u)" ] || fail "$f owner"
done
[ "$(stat -c %a "$VIGIL_HOST_KEY")" = 600 ] || fail "host key mode $(stat -c %a "$VIGIL_HOST_KEY")"
openssl pkey -in "$VIGIL_HOST_KEY" -noout -text 2>/dev/null | grep -q ED25519 || fail "host key is not Ed25519"
# a readable key is refused (sealing fails closed)
chmod 644 "$VIGIL_HOST_KEY"
out=$(writer --commands 1 --output 1k 2>&1) && fail "sealed with a world-readable key"
echo "$out" | grep -q "mode 0600" || fail "key mode error: $out"
ok
