#!/bin/sh
# An interactive shell on a terminal through `vigil run --pty` (test-pty.py).
. "$(dirname "$0")/lib.sh"
policy "$WORK/p" "default allow"
python3 "$VIGIL_SOURCE_ROOT/tests/record/test-pty.py" "$VIGIL" "$STORE" "$WORK/p" "$TU" || fail "test-pty.py"
v verify >/dev/null 2>&1 || fail "verify"
ok
