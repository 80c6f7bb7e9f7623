#!/bin/sh
# The test identity provider, end to end: the real oidc-provider over HTTPS
# with a test CA on 127.0.0.1, real RFC 8628 device flows (device-login as
# the client, approve as the person), ID token claims, signatures checked by
# openssl against the JWKS from the discovery document, deny, expiry, bad
# codes and accounts, and clean stops.
set -u
IDP_HOME=${VIGIL_SOURCE_ROOT:?VIGIL_SOURCE_ROOT is not set}/tests/idp
. "$IDP_HOME/lib.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-idp-test.XXXXXX") || { echo "FAIL: mktemp" >&2; exit 1; }
bg=
cleanup() {
    for p in $bg; do
        kill "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    [ -n "${orphan:-}" ] && kill "$orphan" 2>/dev/null
    idp_stop
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
t_start=$(date +%s%N)
step() {
    echo "# [$((($(date +%s%N) - t_start) / 1000000)) ms] $*"
}
now_ms() {
    echo $(($(date +%s%N) / 1000000))
}
# Debian's python3 (scripts/deps); a python3 earlier in PATH may be a slow shim.
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3) || fail "python3 not found (scripts/deps installs it)"
py() {
    "$PY" "$IDP_HOME/jwtparts.py" "$@"
}
command -v curl >/dev/null 2>&1 || fail "curl not found (scripts/deps installs it)"
command -v openssl >/dev/null 2>&1 || fail "openssl not found (scripts/deps installs it)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"

user=vt$$
cat >"$tmp/accounts.json" <<EOF
{
  "$user": {"preferred_username": "$user", "email": "$user@example.test", "groups": ["vigil-users", "wheel-$$"]},
  "plain$$": {"email": "plain$$@example.test"}
}
EOF

# start_login NAME [device-login options]: the client, in the background;
# waits for its user code -> CODE, LOGIN_PID.
start_login() {
    _n=$1
    shift
    "$IDP_HOME/device-login" --url "$URL" --ca "$CA" --code-file "$tmp/$_n.code" "$@" \
        >"$tmp/$_n.out" 2>"$tmp/$_n.err" &
    LOGIN_PID=$!
    bg="$bg $LOGIN_PID"
    _i=0
    while [ ! -s "$tmp/$_n.code" ]; do
        _i=$((_i + 1))
        [ "$_i" -le 600 ] || fail "$_n: no user code within 60 s: $(cat "$tmp/$_n.err")"
        _idp_alive "$LOGIN_PID" || { wait "$LOGIN_PID"; fail "$_n: device-login exited early: $(cat "$tmp/$_n.err")"; }
        sleep 0.1
    done
    CODE=$(cat "$tmp/$_n.code")
}
# finish_login: wait for the client started last -> LOGIN_RC
finish_login() {
    LOGIN_RC=0
    wait "$LOGIN_PID" || LOGIN_RC=$?
    bg=$(echo " $bg " | sed "s/ $LOGIN_PID / /")
}
approve() {
    "$IDP_HOME/approve" --url "$URL" --ca "$CA" "$@"
}
# verify_sig TOKEN_FILE JWKS_FILE: openssl checks the signature with the key
# the token's kid picks from the JWKS; a token with a changed payload must
# then fail the same check. Prints the alg.
verify_sig() {
    _d=$tmp/sig.$$.$(date +%s%N)
    mkdir "$_d"
    _alg=$(py prepare "$1" "$2" "$_d") || fail "$1: cannot take the token apart"
    _check() {
        case $_alg in
        RS256 | ES256) openssl dgst -sha256 -verify "$_d/pub.pem" -signature "$_d/sig" "$_d/signed" ;;
        EdDSA) openssl pkeyutl -verify -pubin -inkey "$_d/pub.pem" -rawin -in "$_d/signed" -sigfile "$_d/sig" ;;
        *) return 2 ;;
        esac >"$_d/log" 2>&1
    }
    _check || fail "$1: $_alg signature does not verify: $(cat "$_d/log")"
    printf 'x' >>"$_d/signed"
    if _check; then fail "$1: $_alg signature verifies over a changed payload"; fi
    echo "$_alg"
}
expect_claim() {
    _got=$(py claim "$1" "$2") || fail "$1: no claim '$2'"
    [ "$_got" = "$3" ] || fail "$1: claim $2 is '$_got', expected '$3'"
}

step "provider A: RS256 default, ES256 and EdDSA clients, ID tokens for 120 s"
t0=$(now_ms)
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --keys RS256,ES256,EdDSA --id-token-ttl 120 \
    --client-id vigil --client-id vigil-es:ES256 --client-id vigil-ed:EdDSA --log ||
    fail "provider A did not start"
URL=$IDP_URL CA=$IDP_CA A_PID=$IDP_PID A_LOG=$IDP_LOG
echo "# provider A ready at $URL after $(($(now_ms) - t0)) ms"
case $URL in https://127.0.0.1:[0-9]*) ;; *) fail "ready line gave '$URL'" ;; esac

step "TLS: the test CA is needed, another CA is refused"
curl -sS --fail --cacert "$CA" -o "$tmp/disco.json" "$URL/.well-known/openid-configuration" ||
    fail "discovery over HTTPS with the test CA failed"
rc=0
curl -sS --fail -o /dev/null "$URL/.well-known/openid-configuration" 2>/dev/null || rc=$?
[ "$rc" -eq 60 ] || fail "curl without the test CA: exit $rc, expected 60 (certificate refused)"
"$IDP_HOME/mkca" "$tmp/other-ca" || fail "mkca other-ca"
rc=0
curl -sS --fail --cacert "$tmp/other-ca/ca.pem" -o /dev/null "$URL/.well-known/openid-configuration" 2>/dev/null || rc=$?
[ "$rc" -eq 60 ] || fail "curl with another CA: exit $rc, expected 60"
rc=0
"$IDP_HOME/device-login" --url "$URL" --ca "$tmp/other-ca/ca.pem" >/dev/null 2>"$tmp/wrongca.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'device-login: .*certificate' "$tmp/wrongca.err" ||
    fail "device-login with another CA: exit $rc: $(cat "$tmp/wrongca.err")"

step "discovery: issuer, endpoints and jwks_uri on the one origin"
disco() { "$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$tmp/disco.json" "$1"; }
[ "$(disco issuer)" = "$URL" ] || fail "discovery issuer '$(disco issuer)' is not '$URL'"
[ "$(disco device_authorization_endpoint)" = "$URL/device/auth" ] || fail "device_authorization_endpoint $(disco device_authorization_endpoint)"
jwks_uri=$(disco jwks_uri)
case $jwks_uri in "$URL"/*) ;; *) fail "jwks_uri '$jwks_uri' is not under $URL" ;; esac
curl -sS --fail --cacert "$CA" -o "$tmp/jwks.json" "$jwks_uri" || fail "cannot fetch $jwks_uri"
"$PY" -c 'import json,sys
keys = json.load(open(sys.argv[1]))["keys"]
assert sorted(k["alg"] for k in keys) == ["ES256", "EdDSA", "RS256"], keys
assert all("d" not in k for k in keys), "private key in the JWKS"' "$tmp/jwks.json" ||
    fail "JWKS: expected one public RS256, ES256 and EdDSA key each"
curl -sS --fail --cacert "$CA" -d client_id=vigil -d scope=openid -o "$tmp/da.json" "$URL/device/auth" ||
    fail "device authorization by curl"
"$PY" -c 'import json,sys; d = json.load(open(sys.argv[1])); assert d["interval"] == 1 and d["user_code"], d' \
    "$tmp/da.json" || fail "device authorization response: $(cat "$tmp/da.json")"

step "device flow: device-login polls, approve signs in as $user"
t0=$(now_ms)
start_login ok
case $CODE in [A-Z][A-Z][A-Z][A-Z]-[A-Z][A-Z][A-Z][A-Z]) ;; *) fail "user code '$CODE'" ;; esac
grep -q "^To sign in, open $URL/device and enter $CODE\$" "$tmp/ok.err" || fail "device-login's prompt: $(cat "$tmp/ok.err")"
out=$(approve --code "$CODE" --login "$user" approve) || fail "approve failed"
[ "$out" = "approved $CODE as $user" ] || fail "approve printed '$out'"
finish_login
[ "$LOGIN_RC" -eq 0 ] || fail "device-login exit $LOGIN_RC: $(cat "$tmp/ok.err")"
echo "# full device flow (interval 1 s): $(($(now_ms) - t0)) ms"
[ "$(wc -l <"$tmp/ok.out")" -eq 1 ] || fail "device-login printed more than the token"
tok=$tmp/ok.out

step "ID token claims"
expect_claim "$tok" iss "$URL"
expect_claim "$tok" aud vigil
expect_claim "$tok" sub "$user"
expect_claim "$tok" preferred_username "$user"
expect_claim "$tok" email "$user@example.test"
expect_claim "$tok" groups "[\"vigil-users\",\"wheel-$$\"]"
exp=$(py claim "$tok" exp) && iat=$(py claim "$tok" iat) || fail "no exp or iat"
[ $((exp - iat)) -eq 120 ] || fail "exp - iat = $((exp - iat)), expected --id-token-ttl 120"
now=$(date +%s)
[ "$iat" -le $((now + 5)) ] && [ "$iat" -ge $((now - 60)) ] || fail "iat $iat is not about now ($now)"
jti1=$(py claim "$tok" jti) || fail "no jti"
[ -n "$jti1" ] || fail "empty jti"
[ "$(py header "$tok" alg)" = RS256 ] || fail "alg $(py header "$tok" alg), expected RS256"

step "signature: openssl with the key from jwks_uri"
[ "$(verify_sig "$tok" "$tmp/jwks.json")" = RS256 ] || fail "alg"

step "a used code cannot be approved again"
rc=0
approve --code "$CODE" --login "$user" approve >/dev/null 2>"$tmp/reuse.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "refused" "$tmp/reuse.err" || fail "second approve of a used code: exit $rc: $(cat "$tmp/reuse.err")"

step "ES256 and EdDSA clients; a second account with no groups"
for spec in vigil-es:ES256 vigil-ed:EdDSA; do
    cid=${spec%:*} alg=${spec#*:}
    start_login "$cid" --client-id "$cid"
    approve --code "$CODE" --login "plain$$" approve >/dev/null || fail "$cid: approve failed"
    finish_login
    [ "$LOGIN_RC" -eq 0 ] || fail "$cid: device-login exit $LOGIN_RC: $(cat "$tmp/$cid.err")"
    expect_claim "$tmp/$cid.out" aud "$cid"
    expect_claim "$tmp/$cid.out" preferred_username "plain$$"
    expect_claim "$tmp/$cid.out" groups "[]"
    [ "$(verify_sig "$tmp/$cid.out" "$tmp/jwks.json")" = "$alg" ] || fail "$cid: not signed with $alg"
    [ "$(py claim "$tmp/$cid.out" jti)" != "$jti1" ] || fail "$cid: jti repeated"
done

step "deny -> access_denied (approver given the verification_uri the client showed)"
start_login deny
vuri=$(sed -n 's/^To sign in, open \(.*\) and enter .*/\1/p' "$tmp/deny.err")
[ "$vuri" = "$URL/device" ] || fail "verification_uri '$vuri'"
out=$("$IDP_HOME/approve" --url "$vuri" --ca "$CA" --code "$CODE" deny) || fail "approve deny failed"
[ "$out" = "denied $CODE" ] || fail "approve deny printed '$out'"
finish_login
[ "$LOGIN_RC" -eq 1 ] || fail "denied device-login exit $LOGIN_RC"
[ ! -s "$tmp/deny.out" ] || fail "denied device-login printed a token"
grep -q '^device-login: access_denied: ' "$tmp/deny.err" || fail "deny: $(cat "$tmp/deny.err")"

step "an unknown account and an unknown code are refused"
curl -sS --fail --cacert "$CA" -d client_id=vigil -d scope=openid -o "$tmp/da2.json" "$URL/device/auth" ||
    fail "device authorization by curl"
CODE=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["user_code"])' "$tmp/da2.json")
rc=0
approve --code "$CODE" --login "nobody$$" approve >/dev/null 2>"$tmp/nobody.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "unknown account 'nobody$$'" "$tmp/nobody.err" ||
    fail "approve as an unknown account: exit $rc: $(cat "$tmp/nobody.err")"
rc=0
approve --code BCDF-GHJK --login "$user" approve >/dev/null 2>"$tmp/badcode.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "incorrect" "$tmp/badcode.err" || fail "unknown code: exit $rc: $(cat "$tmp/badcode.err")"
rc=0
approve --code X --login "$user" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "approve without an action: exit $rc, expected 2"
rc=0
"$IDP_HOME/device-login" --url "$URL" --ca "$CA" --client-id nosuch >/dev/null 2>"$tmp/nosuch.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'invalid_client' "$tmp/nosuch.err" || fail "unknown client: exit $rc: $(cat "$tmp/nosuch.err")"

step "SIGTERM stops provider A cleanly"
rc=0
idp_stop "$A_PID" || rc=$?
[ "$rc" -eq 0 ] || fail "provider A exit $rc after SIGTERM: $(grep -v WARNING "$A_LOG" | tail -n 3)"
rc=0
curl -sS --cacert "$CA" -o /dev/null "$URL/.well-known/openid-configuration" 2>/dev/null || rc=$?
[ "$rc" -eq 7 ] || fail "provider A still answers after SIGTERM (curl exit $rc)"
grep -q 'server error' "$A_LOG" && fail "provider A logged a server error: $(grep 'server error' "$A_LOG")"

step "provider B: its own JWKS file, no jti"
node -e 'const c = require("crypto");
const k = c.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ format: "jwk" });
console.log(JSON.stringify({ keys: [{ ...k, kid: process.argv[1], alg: "ES256" }] }));' "given-$$" >"$tmp/jwks-private.json" ||
    fail "cannot make a JWKS"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --jwks "$tmp/jwks-private.json" --no-jti \
    --public-jwks-out "$tmp/b-public.json" --ready-file "$tmp/b.ready" || fail "provider B did not start"
URL=$IDP_URL CA=$IDP_CA
[ "$(cat "$tmp/b.ready")" = "$URL" ] || fail "ready file: '$(cat "$tmp/b.ready")', ready line: '$URL'"
curl -sS --fail --cacert "$CA" -o "$tmp/b-jwks.json" "$URL/jwks" || fail "provider B: no JWKS"
"$PY" -c 'import json,sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
assert a == b, (a, b)
assert [k["kid"] for k in a["keys"]] == [sys.argv[3]] and "d" not in a["keys"][0]' \
    "$tmp/b-jwks.json" "$tmp/b-public.json" "given-$$" || fail "--public-jwks-out differs from jwks_uri, or not the given key"
start_login given
approve --code "$CODE" --login "$user" approve >/dev/null || fail "provider B: approve failed"
finish_login
[ "$LOGIN_RC" -eq 0 ] || fail "provider B: device-login exit $LOGIN_RC: $(cat "$tmp/given.err")"
[ "$(py header "$tmp/given.out" kid)" = "given-$$" ] || fail "provider B: not signed with the given key"
[ "$(verify_sig "$tmp/given.out" "$tmp/b-public.json")" = ES256 ] || fail "provider B: alg"
if py claim "$tmp/given.out" jti >/dev/null 2>&1; then fail "provider B: jti despite --no-jti"; fi

step "provider C: device codes expire after 3 s"
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" --keys ES256 --device-code-ttl 3 || fail "provider C did not start"
URL=$IDP_URL CA=$IDP_CA
t0=$(now_ms)
start_login expire
finish_login
[ "$LOGIN_RC" -eq 1 ] || fail "expired device-login exit $LOGIN_RC"
grep -q '^device-login: expired_token: ' "$tmp/expire.err" || fail "expiry: $(cat "$tmp/expire.err")"
echo "# expired_token after $(($(now_ms) - t0)) ms (device code TTL 3 s)"
rc=0
approve --code "$CODE" --login "$user" approve >/dev/null 2>"$tmp/late.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q 'ExpiredError' "$tmp/late.err" || fail "approve of an expired code: exit $rc: $(cat "$tmp/late.err")"

step "a provider whose parent dies stops by itself"
(
    node "$IDP_HOME/provider.js" --certs "$tmp/idp/ca" --accounts "$tmp/accounts.json" >"$tmp/orphan.out" 2>/dev/null &
    echo $! >"$tmp/orphan.pid"
    i=0
    while ! grep -q '^ready ' "$tmp/orphan.out" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
)
orphan=$(cat "$tmp/orphan.pid")
grep -q '^ready ' "$tmp/orphan.out" || fail "orphan provider did not start"
i=0
while _idp_alive "$orphan" && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
_idp_alive "$orphan" && fail "the provider outlived its parent by 30 s"
orphan=

step "bad options and files: one line, exit 2 / 1"
rc=0
node "$IDP_HOME/provider.js" --certs "$tmp/idp/ca" --accounts "$tmp/accounts.json" --keys RS256 --client-id x:EdDSA \
    >/dev/null 2>"$tmp/bad.err" || rc=$?
[ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] || fail "client alg without a key: exit $rc: $(cat "$tmp/bad.err")"
echo '{"x": {"grups": []}}' >"$tmp/bad-accounts.json"
rc=0
node "$IDP_HOME/provider.js" --certs "$tmp/idp/ca" --accounts "$tmp/bad-accounts.json" >/dev/null 2>"$tmp/bad.err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "unknown field 'grups'" "$tmp/bad.err" && [ "$(wc -l <"$tmp/bad.err")" -eq 1 ] ||
    fail "bad accounts file: exit $rc: $(cat "$tmp/bad.err")"

idp_stop || fail "provider B did not stop cleanly"
echo "# all idp checks passed"
exit 0
