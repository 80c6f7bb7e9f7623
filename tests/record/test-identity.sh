#!/bin/sh
# Sessions with a verified identity are recorded with it, through both
# paths that start them:
#   - root: `vigil --config C run --token-file T --user U` (the supervisor in
#     vigil itself; vigil.conf's store);
#   - a user: `vigil run --token-file T` through vigild, whose own supervisor
#     process records into vigil.conf's store (the same code path).
# The token comes from tests/record/mint-user (forge.c, OpenSSL).
. "$(dirname "$0")/lib.sh"

MINT=${MINT_USER:?}
[ -n "${VIGILD:-}" ] || fail "VIGILD is not set"
mkdir -p "$WORK/id" "$WORK/bin"
"$MINT" "$WORK/id" "$TU" || fail "mint"
chown "$TU" "$WORK/id/token.jwt"
cp "$VIGIL" "$WORK/bin/vigil" && chmod 755 "$WORK/bin" "$WORK/bin/vigil"
VSTORE=$WORK/vstore
policy "$WORK/p" "default allow" "deny exe=/usr/bin/whoami group=rec-b" "mask email"
cat >"$WORK/vigil.conf" <<EOF
issuer = https://idp.example
audience = vigil-test
jwks_file = $WORK/id/jwks.json
policy = $WORK/p
store = $VSTORE
EOF
chmod 600 "$WORK/vigil.conf"

# check_identity_session ID_FILTER: the newest session in the vigild store
# has the token's identity, its output and events
check_session() {
    "$VIGIL" --store "$VSTORE" sessions --json --user "$TU" | python3 -c '
import json, sys
s = [json.loads(l) for l in sys.stdin][-1]
tu = sys.argv[1]
assert s["user"] == tu, s
assert s["subject"] == "sub-" + tu and s["email"] == tu + "@example.test", s
assert s["groups"] == ["rec-a", "rec-b"], s
assert s["exit"] == 3 and s["ended"] == "exit" and s["sealed"], s
assert s["masks"] == {"email": 2}, s  # the output and the command line
print(s["id"])
' "$TU" >"$WORK/sid" || fail "$1: the identity is not in the record: $("$VIGIL" --store "$VSTORE" sessions --json)"
    sid=$(cat "$WORK/sid")
    "$VIGIL" --store "$VSTORE" replay --instant "$sid" >"$WORK/rep"
    grep -q "^hello \[MASKED:email\]" "$WORK/rep" || fail "$1: output: $(cat "$WORK/rep")"
    grep -q "vigil: denied: whoami" "$WORK/rep" || fail "$1: no denial recorded: $(cat "$WORK/rep")"
    "$VIGIL" --store "$VSTORE" audit --format json --session "$sid" | python3 -c '
import json, sys
ev = [json.loads(l) for l in sys.stdin]
assert [e["decision"] for e in ev if e["argv"][0] == "whoami"] == ["deny"], ev
' || fail "$1: events"
}

CMD='echo hello alice@example.com; whoami; exit 3'

# 1. root with a token: the supervisor in vigil itself
"$VIGIL" --config "$WORK/vigil.conf" run --token-file "$WORK/id/token.jwt" --user "$TU" --no-pty -- sh -c "$CMD" \
    >"$WORK/o1" 2>&1
[ $? -eq 3 ] || fail "root --token-file: $(cat "$WORK/o1")"
check_session "root --token-file"

# 2. the user through vigild
"$VIGILD" --socket "$WORK/vigild.sock" --config "$WORK/vigil.conf" --log-file "$WORK/vigild.log" &
echo $! >>"$WORK/root-pids"
i=0
until [ -S "$WORK/vigild.sock" ]; do
    i=$((i + 1)); [ $i -lt 1200 ] || fail "vigild did not start: $(cat "$WORK/vigild.log")"; sleep 0.05
done
(cd "$WORK/w" && setpriv --reuid="$TU" --regid="$TU" --init-groups env -i PATH=/usr/bin:/bin \
    VIGILD_SOCKET="$WORK/vigild.sock" "$WORK/bin/vigil" run --token-file "$WORK/id/token.jwt" --no-pty -- \
    sh -c "$CMD") >"$WORK/o2" 2>&1
rc=$?
[ $rc -eq 3 ] || fail "through vigild: exit $rc: $(cat "$WORK/o2"; tail -n 5 "$WORK/vigild.log")"
grep -q "^hello \[MASKED:email\]" "$WORK/o2" || fail "through vigild: output $(cat "$WORK/o2")"
[ "$("$VIGIL" --store "$VSTORE" sessions --user "$TU" | wc -l)" -eq 2 ] || fail "through vigild: not recorded"
check_session "through vigild"
"$VIGIL" --store "$VSTORE" verify >"$WORK/v" 2>&1 || fail "verify: $(cat "$WORK/v")"
ok
