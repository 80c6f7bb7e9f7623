#!/bin/sh
# Masking in PTY mode through an interactive shell (test-mask-pty.py).
. "$(dirname "$0")/lib.sh"
DRIP=$(helper drip)
mkdir -p "$WORK/s" && python3 "$VIGIL_SOURCE_ROOT/tests/record/samples.py" "$WORK/s" || fail "samples"
chmod -R a+rX "$WORK/s"
policy "$WORK/p" "default allow" "record input=yes" "mask credit-card" "mask aws-access-key" \
    "mask aws-secret-key" "mask private-key" "mask jwt" "mask github-token" "mask slack-token" "mask ssn-us" \
    "mask email" "mask iban" "mask password-assignment"
python3 "$VIGIL_SOURCE_ROOT/tests/record/test-mask-pty.py" "$VIGIL" "$STORE" "$WORK/p" "$TU" "$WORK/s" "$DRIP" ||
    fail "test-mask-pty.py"
v verify >/dev/null 2>&1 || fail "verify"
ok
