#!/bin/sh
# `vigil token verify`: output contract, exit codes, stdin, --user, single_use
# untouched, configuration errors. Keys and tokens come from tests/identity/mint.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"
[ -n "${MINT:-}" ] || fail "MINT is not set"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-token-cli-XXXXXX") || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
"$MINT" "$tmp" || fail "mint"
conf=$tmp/vigil.conf
cat >"$conf" <<EOC
issuer = https://idp.example
audience = vigil-test
jwks_file = $tmp/jwks.json
store = $tmp/store
EOC
chmod 600 "$conf"

# valid, each algorithm: the claims as one JSON line, then "valid"
for alg in rs256 es256 eddsa; do
    out=$("$VIGIL" --config "$conf" token verify --user alice "$(cat "$tmp/$alg.jwt")" 2>"$tmp/err") \
        || fail "$alg: exit $? ($(cat "$tmp/err"))"
    [ "$(printf '%s\n' "$out" | wc -l)" -eq 2 ] || fail "$alg: not two lines: $out"
    [ "$(printf '%s\n' "$out" | sed -n 2p)" = valid ] || fail "$alg: second line is not 'valid': $out"
    printf '%s\n' "$out" | head -n 1 | /usr/bin/python3 -c '
import json, sys
c = json.loads(sys.stdin.read())
assert c["sub"] == "u-1234" and c["preferred_username"] == "alice", c
' || fail "$alg: first line is not the claims object: $out"
    [ -s "$tmp/err" ] && fail "$alg: unexpected stderr: $(cat "$tmp/err")"
done

# from standard input, with --config after the command
out=$("$VIGIL" token verify --config "$conf" --user alice - <"$tmp/rs256.jwt") || fail "stdin: exit $?"
[ "$(printf '%s\n' "$out" | tail -n 1)" = valid ] || fail "stdin: $out"

# without --user: valid, and it says the username rule was not applied
out=$("$VIGIL" --config "$conf" token verify "$(cat "$tmp/eddsa.jwt")" 2>"$tmp/err") || fail "no --user: exit $?"
[ "$(printf '%s\n' "$out" | tail -n 1)" = valid ] || fail "no --user: $out"
grep -q "username rule not applied (no --user)" "$tmp/err" || fail "no --user: no note: $(cat "$tmp/err")"

# rejections: exactly one line with the reason, exit 1
expect_reject() {
    want=$1
    shift
    out=$("$VIGIL" --config "$conf" token verify "$@" 2>/dev/null)
    rc=$?
    [ "$rc" -eq 1 ] || fail "'$want': exit $rc"
    [ "$out" = "$want" ] || fail "expected '$want', got '$out'"
}
expect_reject "rejected: username claim 'preferred_username' is 'alice', not 'bob'" --user bob "$(cat "$tmp/rs256.jwt")"
exp_iso=$(date -u -d "@$(cat "$tmp/expired.exp")" +%Y-%m-%dT%H:%M:%SZ)
expect_reject "rejected: exp $exp_iso is in the past" --user alice "$(cat "$tmp/expired.jwt")"
expect_reject "rejected: signature does not verify with key 'rsa-1'" --user alice "$(cat "$tmp/forged.jwt")"
expect_reject "rejected: token is not three base64url parts separated by '.'" --user alice "garbage"

# single_use: verify never uses the token up
cat "$conf" >"$tmp/single.conf"
echo "single_use = yes" >>"$tmp/single.conf"
chmod 600 "$tmp/single.conf"
for i in 1 2 3; do
    "$VIGIL" --config "$tmp/single.conf" token verify --user alice - <"$tmp/es256.jwt" >/dev/null \
        || fail "single_use: verify $i refused"
done

# configuration errors: one line FILE:LINE, exit 1, no verdict
printf 'issuer = https://idp.example\nbogus = 1\n' >"$tmp/bad.conf"
chmod 600 "$tmp/bad.conf"
out=$("$VIGIL" --config "$tmp/bad.conf" token verify --user alice "$(cat "$tmp/rs256.jwt")" 2>"$tmp/err")
rc=$?
[ "$rc" -eq 1 ] || fail "bad config: exit $rc"
[ -z "$out" ] || fail "bad config: stdout: $out"
[ "$(cat "$tmp/err")" = "vigil: $tmp/bad.conf:2: unknown key 'bogus'" ] || fail "bad config: $(cat "$tmp/err")"
out=$("$VIGIL" --config "$tmp/none.conf" token verify "$(cat "$tmp/rs256.jwt")" 2>&1)
[ "$out" = "vigil: $tmp/none.conf: cannot read: No such file or directory" ] || fail "missing config: $out"

# usage errors: exit 2
expect_exit 2 "$VIGIL" token
expect_exit 2 "$VIGIL" token frob
expect_exit 2 "$VIGIL" token verify
expect_exit 2 "$VIGIL" token verify --user
expect_exit 2 "$VIGIL" token verify --bogus x
expect_exit 2 "$VIGIL" token verify a b
expect_exit 0 "$VIGIL" token verify --help
expect_exit 0 "$VIGIL" help token
ok
