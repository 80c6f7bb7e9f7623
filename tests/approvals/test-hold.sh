#!/bin/sh
# Held commands through real sessions of a real test user: approve (the
# command runs, its output appears), reject with a reason, self-approval
# refused, timeout, two holds in one session while the session goes on,
# remember=session, a signal during the hold, and the exec check killing a
# binary swapped after approval. The approver is approval-tool (the store's
# vigil_approval_decide()).
. "$(dirname "$0")/lib.sh"

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
exit 0
