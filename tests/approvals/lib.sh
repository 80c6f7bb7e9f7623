# Shared setup for the approval tests (sourced): the supervisor tests' test
# user, scratch directory and cleanup (tests/supervisor/lib-session.sh), the
# tests' approver (approval-tool, straight on the store), and helpers.
. "$VIGIL_SOURCE_ROOT/tests/supervisor/lib-session.sh"

TOOL="$VIGIL_BUILD_ROOT/tests/approvals/approval-tool"
AHELPERS="$VIGIL_BUILD_ROOT/tests/approvals"
cd "$TMPD/w" || fail "cd"

# atool ARGS...: approval-tool on the test's store
atool() {
    "$TOOL" "$STORE" "$@"
}

# wait_line FILE PATTERN [SECS]: until a line of FILE matches the grep pattern
wait_line() {
    i=0
    while ! grep -q "$2" "$1" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt $((${3:-20} * 20)) ] && return 1
        sleep 0.05
    done
    return 0
}

# session_of ID: the session a request belongs to
session_of() {
    atool get "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["session"])'
}

# state_of ID: the request's state
state_of() {
    atool get "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["state"])'
}

# events_of FILE: the events file as a python list for the checks (stdin script)
check_events() {
    python3 -c "import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
$2" "$1"
}
