#!/bin/sh
# Held commands through real sessions of a real test user: approve (the
# command runs, its output appears), reject with a reason, self-approval
# refused, timeout, two holds in one session while the session goes on,
# remember=session, a signal during the hold, and the exec check killing a
# binary swapped after approval. The approver is approval-tool (the store's
# vigil_approval_decide()). Every outcome (approved, rejected, timeout,
# withdrawn, remembered) then shows in vigil audit (JSON, CSV) and vigil
# export as the session's chain recorded it: who, by which identity, when,
# why, which request; the commands that were not held show none.
. "$(dirname "$0")/lib.sh"

# expect SID REQUEST DECISION REMEMBERED: an outcome the store's outputs
# must show for the command of that request (checked at the end)
expect() {
    echo "$1 $2 $3 $4" >>"$TMPD/expect"
}

P="$TMPD/p.policy"
policy "$P" "default allow
mask password-assignment
hold exe=/usr/bin/whoami approvers=group:sre,local:dba timeout=60s
hold exe=/usr/bin/id approvers=user:carol timeout=1s
hold exe=$TMPD/w/prog approvers=group:sre"

# -- approve: the request shows the command in full; the command runs
rm -f "$EV"
vrun "$P" --events "$EV" -- sh -c 'echo before-the-hold; export DEPLOY_TOKEN=s3cr3t42 EDITOR=vi; whoami; echo "rc=$?"' \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request: $(cat "$TMPD/err")"
wait_line "$TMPD/err" "held for approval (request $id)" || fail "hold line: $(cat "$TMPD/err")"
grep -qx "vigil: held for approval (request $id): whoami — waiting up to 1m; Ctrl-C cancels" "$TMPD/err" ||
    fail "hold line: $(cat "$TMPD/err")"
[ ! -s "$TMPD/out" ] || [ "$(cat "$TMPD/out")" = before-the-hold ] || fail "ran before approval: $(cat "$TMPD/out")"
atool get "$id" >"$TMPD/req.json" || fail "get"
python3 - "$TMPD/req.json" "$TU" "$TMPD" "$P" "$(hostname)" <<'PY' || fail "request: $(cat "$TMPD/req.json")"
import json, sys
from datetime import datetime
d = json.load(open(sys.argv[1]))
tu, tmp, pol, host = sys.argv[2:6]
keys = ["id", "session", "command_no", "user", "subject", "email", "groups", "host", "runas", "cwd", "exe", "argv",
        "env", "screen", "rule", "approvers", "remember", "created", "expires", "state", "decided_by", "decided_at",
        "reason"]
assert list(d) == keys, list(d)
assert d["user"] == tu and d["runas"] == tu and d["host"] == host, d
assert d["subject"] is None and d["email"] is None, d
assert d["groups"] == [tu], d["groups"]
assert d["cwd"] == tmp + "/w" and d["exe"] == "/usr/bin/whoami" and d["argv"] == ["whoami"], d
assert d["rule"] == pol + ":3" and d["approvers"] == "group:sre,local:dba" and d["remember"] is False, d
assert d["state"] == "pending" and d["decided_by"] is None and d["decided_at"] is None and d["reason"] is None, d
assert "before-the-hold" in d["screen"], d["screen"]
# what differs from a login: the exported variables, the secret masked
assert "EDITOR=vi" in d["env"], d["env"]
assert "DEPLOY_TOKEN=[MASKED:password-assignment]" in d["env"], d["env"]
assert not any("s3cr3t42" in e for e in d["env"]), d["env"]
t = lambda s: datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ")
assert (t(d["expires"]) - t(d["created"])).total_seconds() == 60, (d["created"], d["expires"])
assert isinstance(d["command_no"], int)
PY
# four eyes: the requester's own account cannot decide
atool decide "$id" approve --local "$TU" 2>"$TMPD/e2" && fail "self-approval accepted"
grep -q EPERM "$TMPD/e2" || fail "self-approval: $(cat "$TMPD/e2")"
[ "$(state_of "$id")" = pending ] || fail "still pending after the refused self-approval"
atool decide "$id" approve --subject bob-sub --email bob@example.com --group sre --local bob --via device \
    --reason "change 42" || fail "approve"
wait "$vp" || fail "session exit $?: $(cat "$TMPD/err")"
[ "$(cat "$TMPD/out")" = "before-the-hold
$TU
rc=0" ] || fail "approved output: $(cat "$TMPD/out")"
grep -qx "vigil: approved by bob@example.com (request $id)" "$TMPD/err" || fail "approved line: $(cat "$TMPD/err")"
atool decide "$id" reject --subject eve 2>"$TMPD/e2" && fail "second decision accepted"
grep -q EALREADY "$TMPD/e2" || fail "second decision: $(cat "$TMPD/e2")"
sid=$(session_of "$id")
check_events "$EV" "
w = [e for e in ev if e['exe'] == '/usr/bin/whoami']
assert len(w) == 1, ev
w = w[0]
assert w['decision'] == 'approved' and w['request'] == '$id' and w['exit'] == 0, w
assert w['session'] == '$sid'
assert all('request' not in e for e in ev if e['exe'] != '/usr/bin/whoami'), ev
" || fail "approved events: $(cat "$EV")"
"$VIGIL" --store "$STORE" audit --format json --session "$sid" >"$TMPD/audit" || fail "audit"
grep '"/usr/bin/whoami"' "$TMPD/audit" | grep -q '"decision":"approved"' || fail "store event: $(cat "$TMPD/audit")"
"$VIGIL" --store "$STORE" verify >"$TMPD/v" 2>&1 ||
    fail "verify: $(cat "$TMPD/v")"
atool get "$id" | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert d["state"] == "approved" and d["reason"] == "change 42" and d["decided_at"], d
assert d["decided_by"] == {"subject": "bob-sub", "email": "bob@example.com", "groups": ["sre"], "local": "bob", "via": "device"}, d
' || fail "approved request"
expect "$sid" "$id" approved false

# -- reject: the exec fails with EPERM, the terminal shows the reason in one line
rm -f "$EV"
vrun "$P" --events "$EV" -- sh -c 'whoami; echo "rc=$?"' >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request"
atool decide "$id" reject --local dba1 --via local --reason "not during the freeze" || fail "reject"
wait "$vp" || fail "session exit $?"
[ "$(cat "$TMPD/out")" = "rc=126" ] || fail "rejected output: $(cat "$TMPD/out")"
grep -qx "vigil: rejected by dba1 (request $id): not during the freeze" "$TMPD/err" || fail "rejected line: $(cat "$TMPD/err")"
[ "$(grep -c '^vigil: ' "$TMPD/err")" -eq 2 ] || fail "one hold and one rejection line: $(cat "$TMPD/err")"
check_events "$EV" "
w = [e for e in ev if e['exe'] == '/usr/bin/whoami'][0]
assert w['decision'] == 'rejected' and w['request'] == '$id' and w['exit'] is None, w
" || fail "rejected events: $(cat "$EV")"
[ "$(state_of "$id")" = rejected ] || fail "rejected state"
expect "$(session_of "$id")" "$id" rejected false

# -- timeout: nobody decides within timeout=1s
rm -f "$EV"
vrun "$P" --events "$EV" -- sh -c 'id -u; echo "rc=$?"' >"$TMPD/out" 2>"$TMPD/err" || fail "timeout session"
[ "$(cat "$TMPD/out")" = "rc=126" ] || fail "timeout output: $(cat "$TMPD/out")"
id=$(sed -n 's/^vigil: held for approval (request \([0-9a-z]*\)).*/\1/p' "$TMPD/err")
grep -qx "vigil: not approved within 1s (request $id): id -u" "$TMPD/err" || fail "timeout line: $(cat "$TMPD/err")"
[ "$(state_of "$id")" = timeout ] || fail "timeout state: $(state_of "$id")"
atool decide "$id" approve --subject carol 2>/dev/null && fail "approved after the timeout"
check_events "$EV" "
w = [e for e in ev if e['exe'] == '/usr/bin/id'][0]
assert w['decision'] == 'timeout' and w['request'] == '$id', w
" || fail "timeout events"
expect "$(session_of "$id")" "$id" timeout false

# -- withdrawn: the session ends while its command is held (once it is held:
# the session waits for withdraw.go, made when the request is there)
vrun "$P" -- sh -c 'whoami & i=0; while [ ! -e withdraw.go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done' \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
wid=$(atool wait --timeout 30) || fail "no request: $(cat "$TMPD/err")"
touch "$TMPD/w/withdraw.go"
wait "$vp" || fail "withdrawing session: $(cat "$TMPD/err")"
id=$(sed -n 's/^vigil: held for approval (request \([0-9a-z]*\)).*/\1/p' "$TMPD/err")
[ -n "$id" ] && [ "$id" = "$wid" ] || fail "no hold of $wid: $(cat "$TMPD/err")"
[ "$(state_of "$id")" = withdrawn ] || fail "withdrawn state: $(state_of "$id")"
expect "$(session_of "$id")" "$id" withdrawn false

# -- two holds in one session; the session goes on meanwhile
policy "$TMPD/two.policy" "default allow
hold exe=/usr/bin/whoami timeout=60s
hold exe=/usr/bin/id timeout=60s"
vrun "$TMPD/two.policy" -- sh -c '(whoami; echo "w=$?") & (id -un; echo "i=$?") & sleep 0.3; echo running; wait; echo done' \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
atool wait --count 2 --timeout 30 >"$TMPD/ids" || fail "two requests: $(cat "$TMPD/err")"
wait_line "$TMPD/out" '^running$' || fail "the session stopped while holding: $(cat "$TMPD/out")"
for i in $(cat "$TMPD/ids"); do
    case $(atool get "$i") in
    *'"argv":["whoami"]'*) wi=$i ;;
    *'"argv":["id","-un"]'*) ii=$i ;;
    esac
done
[ -n "${wi:-}" ] && [ -n "${ii:-}" ] || fail "the two requests: $(cat "$TMPD/ids")"
[ "$(session_of "$wi")" = "$(session_of "$ii")" ] || fail "two sessions?"
atool decide "$ii" reject --subject bob --reason no || fail "reject id"
sleep 0.5
grep -q '^i=126$' "$TMPD/out" || wait_line "$TMPD/out" '^i=126$' || fail "id not failed: $(cat "$TMPD/out")"
grep -q "^$TU\$" "$TMPD/out" && fail "whoami ran before its approval"
atool decide "$wi" approve --subject bob || fail "approve whoami"
wait "$vp" || fail "two-hold session exit $?"
grep -q "^$TU\$" "$TMPD/out" && grep -q '^w=0$' "$TMPD/out" && grep -q '^done$' "$TMPD/out" ||
    fail "two-hold output: $(cat "$TMPD/out")"
expect "$(session_of "$ii")" "$ii" rejected false
expect "$(session_of "$wi")" "$wi" approved false

# -- remember=session: approved once, the same command line runs again without a request
policy "$TMPD/rem.policy" "default allow
hold exe=/usr/bin/whoami remember=session timeout=60s"
rm -f "$EV"
vrun "$TMPD/rem.policy" --events "$EV" -- sh -c 'whoami; whoami; whoami -V >/dev/null 2>&1; echo "v=$?"' \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request"
atool decide "$id" approve --subject bob || fail "approve"
# another argv is another command line: asked for again, and rejected here
id2=$(atool wait --timeout 30) || fail "no second request for another argv"
[ "$id2" != "$id" ] || fail "the same request for another argv"
atool decide "$id2" reject --subject bob || fail "reject"
wait "$vp" || fail "remember session exit $?"
[ "$(cat "$TMPD/out")" = "$TU
$TU
v=126" ] || fail "remember output: $(cat "$TMPD/out")"
sid=$(session_of "$id")
[ "$(atool list --all --session "$sid" | wc -l)" -eq 2 ] || fail "requests: $(atool list --all --session "$sid")"
[ "$(grep -c 'held for approval' "$TMPD/err")" -eq 2 ] || fail "hold lines: $(cat "$TMPD/err")"
check_events "$EV" "
w = [e for e in ev if e['exe'] == '/usr/bin/whoami']
assert [e['decision'] for e in w] == ['approved', 'approved', 'rejected'], w
assert [e['request'] for e in w] == ['$id', '$id', '$id2'], w
assert w[0]['exit'] == 0 and w[1]['exit'] == 0, w
" || fail "remember events: $(cat "$EV")"
"$VIGIL" --store "$STORE" audit --format json --session "$sid" | grep -c '"decision":"approved"' | grep -qx 2 ||
    fail "remember store events"
expect "$sid" "$id" approved false
expect "$sid" "$id" approved true
expect "$sid" "$id2" rejected false
"$VIGIL" --store "$STORE" verify >"$TMPD/v" 2>&1 || fail "verify: $(cat "$TMPD/v")"

# -- a signal during the hold: the call waits on (or restarts) under the same request
cp "$AHELPERS/helper-restart" "$TMPD/w/helper-restart" && chmod 755 "$TMPD/w/helper-restart"
vrun "$P" -- "$TMPD/w/helper-restart" "$TMPD/w/pid" /usr/bin/whoami >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request"
hp=$(cat "$TMPD/w/pid")
for i in 1 2 3 4 5; do kill -WINCH "$hp"; sleep 0.2; done
sid=$(session_of "$id")
[ "$(atool list --all --session "$sid" | wc -l)" -eq 1 ] || fail "signals made requests: $(atool list --all --session "$sid")"
atool decide "$id" approve --subject bob || fail "approve"
wait "$vp" || fail "restart session exit $?: $(cat "$TMPD/err")"
[ "$(cat "$TMPD/out")" = "$TU" ] || fail "restart output: $(cat "$TMPD/out")"

# -- the exec check still applies: the file swapped while held is killed at its exec
cp /usr/bin/id "$TMPD/w/prog" && chmod 755 "$TMPD/w/prog"
rm -f "$EV"
vrun "$P" --events "$EV" -- sh -c './prog -u; echo "rc=$?"' >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request"
cp /usr/bin/whoami "$TMPD/w/prog.new" && chmod 755 "$TMPD/w/prog.new" && mv -f "$TMPD/w/prog.new" "$TMPD/w/prog"
atool decide "$id" approve --subject bob || fail "approve"
wait "$vp" || fail "swap session exit $?"
[ "$(cat "$TMPD/out")" = "rc=137" ] || fail "swapped binary ran: $(cat "$TMPD/out")"
grep -q "^vigil: killed: ./prog -u (" "$TMPD/err" || fail "killed line: $(cat "$TMPD/err")"
check_events "$EV" "
w = [e for e in ev if e.get('request') == '$id']
assert len(w) == 1 and w[0]['decision'] == 'killed', ev
" || fail "swap events: $(cat "$EV")"
# audit shows the approval it ran on, with the decision killed
expect "$(session_of "$id")" "$id" killed false

# -- the outcomes as vigil audit (JSON, CSV) and vigil export show them,
# from the sessions' chains; the same who, when and why as the requests say
python3 - "$VIGIL" "$STORE" "$TMPD/expect" "$TOOL" <<'PY' || fail "audit and export outcomes"
import csv, io, json, subprocess, sys
vigil, store, expect_file, tool = sys.argv[1:5]

def run(*args):
    return subprocess.run([vigil, "--store", store] + list(args), check=True, capture_output=True, text=True).stdout

want = {}  # session -> list of (request, decision, remembered) in command order
for line in open(expect_file):
    sid, req, dec, rem = line.split()
    want.setdefault(sid, []).append((req, dec, rem == "true"))
kinds = set(d for w in want.values() for _, d, _ in w)
assert kinds == {"approved", "rejected", "timeout", "withdrawn", "killed"}, kinds

def request(rid):
    return json.loads(subprocess.run([tool, store, "get", rid], check=True, capture_output=True, text=True).stdout)

head = ("time,session,user,host,pid,ppid,runas,cwd,exe,argv,decision,rule,exit,duration_ms,exec_t,exec_offset,"
        "exit_t,exit_offset,output_bytes,request,decided_by,decided_at,reason").split(",")
for sid, outcomes in want.items():
    audit = [json.loads(l) for l in run("audit", "--format", "json", "--session", sid).splitlines()]
    rows = list(csv.reader(io.StringIO(run("audit", "--session", sid), newline="")))
    exported = json.loads(run("export", sid, "--format", "json"))["events"]
    assert rows[0] == head, rows[0]
    assert len(audit) == len(rows) - 1 == len(exported) > len(outcomes), (sid, audit)
    held = [e for e in audit if e["approval"] is not None]
    assert len(held) == len(outcomes), (sid, held, outcomes)
    # commands held at once are numbered in the order they reached exec
    by_req = {(rid, rem): (rid, dec, rem) for rid, dec, rem in outcomes}
    outcomes = [by_req[(e["approval"]["request"], e["approval"]["remembered"])] for e in held]
    # the commands that were not held: none, as null and as empty cells
    for e, row, x in zip(audit, rows[1:], exported):
        assert x["approval"] == e["approval"], (x, e)
        row = dict(zip(head, row))
        if e["approval"] is None:
            assert e["decision"] in ("allow", "audit", "deny", "killed"), e
            assert [row[k] for k in head[-4:]] == ["", "", "", ""], row
    for e, (rid, dec, rem) in zip(held, outcomes):
        a = e["approval"]
        r = request(rid)
        assert e["decision"] == dec and a["request"] == rid and a["remembered"] == rem, (e, rid, dec, rem)
        # killed: approved, then killed at its exec check
        if dec == "killed":
            dec = "approved"
        assert r["state"] == dec, r
        # who, when, why: as the request says (the chain is what stays)
        if dec in ("approved", "rejected"):
            assert a["decided_by"] == r["decided_by"] and a["decided_by"] is not None, (a, r)
        else:
            assert "decided_by" not in a and r["decided_by"] is None, (a, r)
        assert a["decided_at"] == r["decided_at"] and a["reason"] == r["reason"], (a, r)
        row = dict(zip(head, rows[1 + audit.index(e)]))
        by = a.get("decided_by")
        who = by["subject"] or ("local:" + by["local"] if by["local"] else "") if by else ""
        assert [row["request"], row["decided_by"], row["decided_at"], row["reason"]] == \
            [rid, who, a["decided_at"], a["reason"] or ""], (row, a)
        if dec == "approved" and not rem and r["reason"] == "change 42":
            assert a["decided_by"] == {"subject": "bob-sub", "email": "bob@example.com", "groups": ["sre"],
                                       "local": "bob", "via": "device"}, a
            assert row["decided_by"] == "bob-sub", row
        if dec == "rejected" and r["reason"] == "not during the freeze":
            assert a["decided_by"]["local"] == "dba1" and a["decided_by"]["via"] == "local", a
            assert row["decided_by"] == "local:dba1", row
        if dec == "withdrawn":
            assert a["reason"] == "the session ended", a
print("outcomes of %d held commands in %d sessions checked" % (sum(map(len, want.values())), len(want)))
PY
exit 0
