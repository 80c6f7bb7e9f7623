#!/bin/sh
# `vigil token verify` against ID tokens from a real OpenID Connect provider
# (tests/idp: oidc-provider over HTTPS with a test CA on 127.0.0.1, device
# flow): discovery and JWKS over HTTPS, RS256, ES256 and EdDSA, the username
# and audience rules, the cache when the provider is gone, and the CA check.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"
IDP_HOME=$VIGIL_SOURCE_ROOT/tests/idp
. "$IDP_HOME/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-token-idp-XXXXXX") || fail "mktemp"
trap 'idp_stop; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"

user=vt$$
cat >"$tmp/accounts.json" <<EOA
{"$user": {"preferred_username": "$user", "email": "$user@example.test", "groups": ["vigil-users", "dev-$$"]}}
EOA
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --keys RS256,ES256,EdDSA --id-token-ttl 300 \
    --client-id vigil --client-id vigil-es:ES256 --client-id vigil-ed:EdDSA || fail "the provider did not start"

# conf NAME AUDIENCE [extra line]: a configuration using discovery from the provider.
conf() {
    {
        echo "issuer = $IDP_URL"
        echo "audience = $2"
        echo "store = $tmp/store-$1"
        [ -n "${3:-}" ] && echo "$3"
    } >"$tmp/$1.conf"
    chmod 600 "$tmp/$1.conf"
}

for spec in vigil:RS256 vigil-es:ES256 vigil-ed:EdDSA; do
    cid=${spec%:*} alg=${spec#*:}
    "$IDP_HOME/device-login" --url "$IDP_URL" --ca "$IDP_CA" --client-id "$cid" --approve-as "$user" \
        >"$tmp/$cid.jwt" 2>"$tmp/$cid.err" || fail "$cid: device sign-in failed: $(cat "$tmp/$cid.err")"
    conf "$cid" "$cid" "ca_file = $IDP_CA"
    out=$("$VIGIL" --config "$tmp/$cid.conf" token verify --user "$user" - <"$tmp/$cid.jwt" 2>"$tmp/err") ||
        fail "$cid ($alg): refused: $out $(cat "$tmp/err")"
    [ "$(printf '%s\n' "$out" | tail -n 1)" = valid ] || fail "$cid: $out"
    printf '%s\n' "$out" | head -n 1 | /usr/bin/python3 -c '
import json, sys
c = json.loads(sys.stdin.read())
assert c["preferred_username"] == sys.argv[1] and c["groups"] == ["vigil-users", "dev-" + sys.argv[2]], c
assert c["aud"] == sys.argv[3], c' "$user" "$$" "$cid" || fail "$cid: claims: $out"
    [ -n "$(ls "$tmp/store-$cid/identity/" 2>/dev/null | grep '^jwks-')" ] || fail "$cid: no JWKS cache"
done

# The rules still apply to a real provider's tokens.
out=$("$VIGIL" --config "$tmp/vigil.conf" token verify --user "other$$" - <"$tmp/vigil.jwt")
[ "$out" = "rejected: username claim 'preferred_username' is '$user', not 'other$$'" ] || fail "wrong user: $out"
out=$("$VIGIL" --config "$tmp/vigil.conf" token verify --user "$user" - <"$tmp/vigil-es.jwt")
[ "$out" = "rejected: aud 'vigil-es' does not contain the audience 'vigil'" ] || fail "wrong audience: $out"

# Without ca_file the provider's certificate is not trusted: no keys, refused.
conf noca vigil
out=$("$VIGIL" --config "$tmp/noca.conf" token verify --user "$user" - <"$tmp/vigil.jwt")
rc=$?
[ "$rc" -eq 1 ] || fail "without ca_file: exit $rc"
case $out in "rejected: cannot get the identity provider's keys: discovery: fetching '$IDP_URL/.well-known/openid-configuration' failed: SSL certificate problem"*) ;;
*) fail "without ca_file: $out" ;; esac

# The provider goes away: cached keys keep working; with no cache, refused.
idp_stop || fail "the provider did not stop cleanly"
out=$("$VIGIL" --config "$tmp/vigil-ed.conf" token verify --user "$user" - <"$tmp/vigil-ed.jwt") ||
    fail "provider down, cache present: $out"
conf fresh vigil "ca_file = $IDP_CA"
out=$("$VIGIL" --config "$tmp/fresh.conf" token verify --user "$user" - <"$tmp/vigil.jwt")
case $out in "rejected: cannot get the identity provider's keys: discovery: fetching "*"Couldn't connect to server"*) ;;
*) fail "provider down, no cache: $out" ;; esac
ok
