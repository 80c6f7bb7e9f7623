#!/bin/sh
# vigil-askpass on its own: the answers to each prompt form, slices that put
# the token back together, and refusals that print nothing on stdout and
# never the token on stderr.
set -u
A=${VIGIL_ASKPASS:?}
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-askpass-test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
FIRST="vigil: press Enter to sign in with your browser, or type 'token':"

[ "$("$A" "$FIRST")" = token ] || fail "first prompt"
[ "$("$A" "(u@h) $FIRST")" = token ] || fail "first prompt with ssh's (user@host) prefix"
[ "$("$A" "$FIRST ")" = token ] || fail "first prompt with a trailing blank"

# A 1234-character token with a line break and blanks in the file.
tok=$(head -c 1234 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 1234)
printf '  %s\n%s \n' "$(printf '%s' "$tok" | head -c 700)" "$(printf '%s' "$tok" | tail -c +701)" >"$tmp/tok"
export VIGIL_TOKEN_FILE="$tmp/tok"
whole=
for n in 1 2 3; do
    part=$("$A" "vigil token part $n:") || fail "part $n: exit $?"
    [ "${#part}" -le 500 ] || fail "part $n has ${#part} characters"
    whole=$whole$part
done
[ "$whole" = "$tok" ] || fail "the parts do not make the token"
[ "$("$A" "vigil token part 3:" | wc -c)" -eq 235 ] || fail "part 3: 234 characters and a newline"
[ "$("$A" "vigil token part 4:" | od -An -c | tr -d ' ')" = '\n' ] || fail "part 4 is not an empty line"
[ "$("$A" "(u@h) To sign in ...
vigil token part 2:")" = "$(printf '%s' "$tok" | cut -c 501-1000)" ] || fail "prompt after an info line"

# refuse PROMPT [ENV=VALUE...]: exit 1, nothing on stdout, no token on stderr.
refuse() {
    _p=$1
    shift
    env "$@" "$A" "$_p" >"$tmp/out" 2>"$tmp/err" && fail "'$_p' answered"
    [ ! -s "$tmp/out" ] || fail "'$_p' printed '$(cat "$tmp/out")'"
    ! grep -qF -- "$(printf '%s' "$tok" | head -c 32)" "$tmp/err" || fail "'$_p' printed the token on stderr"
    grep -q '^vigil-askpass: ' "$tmp/err" || fail "'$_p': no message: $(cat "$tmp/err")"
}
refuse "Are you sure you want to continue connecting (yes/no/[fingerprint])?"
refuse "Press Enter once you have signed in"
refuse "vigil token part 0:"
refuse "vigil token part 01:"
refuse "vigil token part -1:"
refuse "vigil token part 1000:"
refuse "vigil token part 1"
refuse "vigil token part 1: x"
refuse "vigil token part 1:" VIGIL_TOKEN_FILE="$tmp/none"
refuse "vigil token part 1:" VIGIL_TOKEN_FILE=
refuse "vigil token part 1:" VIGIL_TOKEN_FILE="$tmp"
: >"$tmp/empty"
refuse "vigil token part 1:" VIGIL_TOKEN_FILE="$tmp/empty"
head -c 16384 /dev/zero | tr '\0' 'a' >"$tmp/big"
refuse "vigil token part 1:" VIGIL_TOKEN_FILE="$tmp/big"
head -c 16383 /dev/zero | tr '\0' 'a' >"$tmp/max"
[ "$(VIGIL_TOKEN_FILE="$tmp/max" "$A" "vigil token part 33:" | wc -c)" -eq 384 ] || fail "a 16383-byte token's last part"
"$A" >/dev/null 2>&1 && fail "no argument answered"
"$A" a b >/dev/null 2>&1 && fail "two arguments answered"
echo "vigil-askpass: ok"
