#!/bin/sh
# 16 real sessions at once on one store, each with hundreds of commands and
# megabytes of output: every byte and every event accounted for, each in
# its own session, with its own exit status and output positions.
. "$(dirname "$0")/lib.sh"

N=16
CMDS=200
P=$WORK/p
policy "$P" "default allow" "mask credit-card"
# the first session creates the store; the rest start together
vrun "$P" -- true || fail "first session"

i=1
while [ $i -le $N ]; do
    vrun "$P" -- sh -c "
        for k in \$(seq $CMDS); do /bin/echo \"session $i line \$k\"; done
        head -c 1100000 /dev/urandom | base64 -w 76
        echo card 4111111111111111 end
        exit $i" >"$WORK/out.$i" 2>"$WORK/err.$i" &
    echo $! >>"$WORK/pids"
    i=$((i + 1))
done
i=1
for pid in $(cat "$WORK/pids"); do
    wait "$pid"
    rc=$?
    [ "$rc" -eq $i ] || fail "session $i exited $rc: $(cat "$WORK/err.$i")"
    i=$((i + 1))
done

v sessions --json --user "$TU" >"$WORK/sessions"
[ "$(wc -l <"$WORK/sessions")" -eq $((N + 1)) ] || fail "$(wc -l <"$WORK/sessions") sessions recorded, expected $((N + 1))"
i=1
while [ $i -le $N ]; do
    id=$(python3 - "$WORK/sessions" "$i" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1])]
m = [x for x in s if x["exit"] == int(sys.argv[2])]
assert len(m) == 1, m
print(m[0]["id"])
PY
) || fail "session $i not found once in the store"
    v replay --instant "$id" >"$WORK/rep"
    cmp -s "$WORK/rep" "$WORK/out.$i" || fail "session $i: the recording differs from its output"
    grep -q "card \[MASKED:credit-card\] end" "$WORK/out.$i" || fail "session $i: not masked"
    v audit --format json --session "$id" >"$WORK/audit"
    python3 - "$WORK/audit" "$WORK/rep" "$i" "$CMDS" <<'PY' || fail "session $i: events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2], "rb").read()
n, cmds = int(sys.argv[3]), int(sys.argv[4])
echos = [e for e in ev if e["argv"][0] == "/bin/echo"]
assert len(echos) == cmds, len(echos)
assert len(ev) == cmds + 4, [e["argv"][0] for e in ev if e["argv"][0] != "/bin/echo"]  # sh, seq, head, base64
seen = set()
for e in echos:
    assert e["decision"] == "allow" and e["exit"] == 0, e
    want = ("session %d line %s\n" % (n, e["argv"][-1].split()[-1])).encode()
    assert " ".join(e["argv"][1:]) + "\n" == want.decode(), e["argv"]
    assert out[e["exec_offset"]:e["exit_offset"]] == want, (e, out[e["exec_offset"]:e["exit_offset"]])
    seen.add(e["argv"][-1])
assert len(seen) == cmds
top = [e for e in ev if e["argv"][0] == "sh"][0]
assert top["exit"] == n and top["exit_offset"] == len(out), top
PY
    i=$((i + 1))
done
# the line after a megabyte of base64 (a unit the search index leaves unindexed) is found
v search 'card \[MASKED:credit-card\] end' >"$WORK/found" || fail "search"
tab=$(printf '\t')
[ "$(grep -c "${tab}card \[MASKED:credit-card\] end\$" "$WORK/found")" -eq $N ] || fail "search found $(cat "$WORK/found")"
v verify >"$WORK/verify" 2>&1 || fail "verify: $(cat "$WORK/verify")"
ok
