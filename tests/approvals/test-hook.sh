#!/bin/sh
# approval_hook: run (as nobody, without a shell, with only the request's
# JSON on stdin and /dev/null) when a request is created and when it is
# decided, also after the session ended; a slow hook delays nothing and is
# killed after 10 s; the packaged examples post to a webhook and to syslog.
. "$(dirname "$0")/lib.sh"

OUT="$TMPD/hookout"
mkdir -p "$OUT" && chmod 777 "$OUT"
HOOK="$TMPD/hook"
cp "$AHELPERS/hook-probe" "$HOOK" || fail "copy the hook"
chmod 755 "$HOOK"
CONF="$TMPD/vigil.conf"
cat >"$CONF" <<EOC
issuer = https://idp.example.test
audience = vigil
jwks_file = $TMPD/jwks.json
approval_hook = $HOOK
EOC
chmod 600 "$CONF"

P="$TMPD/p.policy"
policy "$P" "default allow
hold exe=/usr/bin/whoami approvers=group:sre timeout=60s"
hrun() {
    "$VIGIL" --config "$CONF" --policy "$P" --store "$STORE" run --user "$TU" --no-pty "$@"
}
# wait_file FILE [SECS]
wait_file() {
    i=0
    while [ ! -e "$1" ]; do
        i=$((i + 1))
        [ $i -gt $((${2:-60} * 20)) ] && return 1
        sleep 0.05
    done
}

# -- created, then decided (approved)
hrun -- sh -c 'whoami; echo "rc=$?"' >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request: $(cat "$TMPD/err")"
wait_file "$OUT/$id.created.json" || fail "no created hook run"
python3 - "$OUT/$id.created.json" "$id" "$TU" <<'PY' || fail "created JSON: $(cat "$OUT/$id.created.json")"
import json, sys
raw = open(sys.argv[1]).read()
assert raw.endswith("\n") and raw.count("\n") == 1, raw
d = json.loads(raw)
assert "owner" not in d, d
assert d["id"] == sys.argv[2] and d["state"] == "pending" and d["user"] == sys.argv[3], d
assert d["argv"] == ["whoami"] and d["approvers"] == "group:sre" and d["decided_by"] is None, d
for k in ("session", "cwd", "rule", "created", "expires", "host", "runas", "exe", "screen", "env", "groups"):
    assert k in d, k
PY
[ "$(cat "$OUT/$id.created.user")" = nobody ] || fail "hook user: $(cat "$OUT/$id.created.user")"
grep -qx "VIGIL_APPROVAL_EVENT=created" "$OUT/$id.created.env" && grep -qx "VIGIL_APPROVAL_ID=$id" "$OUT/$id.created.env" &&
    grep -qx "VIGIL_APPROVAL_STATE=pending" "$OUT/$id.created.env" || fail "hook env: $(cat "$OUT/$id.created.env")"
grep -q "^VIGIL_HOST_KEY=\|^SSH_\|^TERM=" "$OUT/$id.created.env" && fail "the hook inherited the environment"
# fds: the request (a memfd) and /dev/null twice, nothing else
python3 - "$OUT/$id.created.fds" <<'PY' || fail "hook fds: $(cat "$OUT/$id.created.fds")"
import sys
fds = dict(l.rstrip("\n").split(" ", 1) for l in open(sys.argv[1]))
assert fds.pop("0").startswith("/memfd:vigil-approval"), fds
assert fds.pop("1") == "/dev/null" and fds.pop("2") == "/dev/null", fds
assert not fds, fds
PY
atool decide "$id" approve --subject bob-sub --email bob@example.com --reason ok || fail "approve"
wait "$vp" || fail "session exit $?"
[ "$(cat "$TMPD/out")" = "$TU
rc=0" ] || fail "output: $(cat "$TMPD/out")"
wait_file "$OUT/$id.decided.json" || fail "no decided hook run"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "approved" and d["decided_by"]["email"] == "bob@example.com" and d["reason"] == "ok", d
assert d["decided_at"] is not None
' "$OUT/$id.decided.json" || fail "decided JSON: $(cat "$OUT/$id.decided.json")"
grep -qx "VIGIL_APPROVAL_EVENT=decided" "$OUT/$id.decided.env" || fail "decided env"

# -- the session ends while a command is held: withdrawn, and the hook runs after vigil is gone
# (the session ends once the request is there: it waits for end.go)
hrun -- sh -c 'whoami & i=0; while [ ! -e end.go ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i + 1)); done' \
    >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
wid=$(atool wait --timeout 30) || fail "no request: $(cat "$TMPD/err")"
touch "$TMPD/w/end.go"
wait "$vp" || fail "ending session: $(cat "$TMPD/err")"
id=$(sed -n 's/^vigil: held for approval (request \([0-9a-z]*\)).*/\1/p' "$TMPD/err")
[ -n "$id" ] && [ "$id" = "$wid" ] || fail "no hold of $wid: $(cat "$TMPD/err")"
wait_file "$OUT/$id.decided.json" || fail "no decided hook after the session's end"
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["state"] == "withdrawn" and d["reason"] == "the session ended" and d["decided_by"] is None, d
' "$OUT/$id.decided.json" || fail "withdrawn JSON: $(cat "$OUT/$id.decided.json")"

# -- a hook that hangs: the session does not wait for it, and it is killed after 10 s
touch "$OUT/slow"
t0=$(date +%s)
hrun -- sh -c 'whoami; echo "rc=$?"' >"$TMPD/out" 2>"$TMPD/err" &
vp=$!
id=$(atool wait --timeout 30) || fail "no request"
wait_file "$OUT/$id.created.json" || fail "no created hook run (slow)"
# the created hook now hangs (it execs sleep after writing its JSON)
i=0
until h1=$(pgrep -u nobody -f 'sleep 61.25'); do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "the slow hook is not running"
    sleep 0.05
done
atool decide "$id" reject --subject bob --reason "too slow" || fail "reject"
wait "$vp" || fail "session exit $?"
t1=$(date +%s)
# the session did not wait for the hook: it ended while the hook still hung
# (which is killed 10 s after it started)
kill -0 $h1 2>/dev/null || fail "the session waited for the hook: it ended after $((t1 - t0)) s, the hook was gone"
echo "the session ended after $((t1 - t0)) s, its hook still running"
grep -q '^rc=126$' "$TMPD/out" || fail "rejected output: $(cat "$TMPD/out")"
i=0
while pgrep -u nobody -f 'sleep 61.25' >/dev/null; do
    i=$((i + 1))
    [ $i -gt 300 ] && fail "the slow hook was not killed"
    sleep 0.1
done
t2=$(date +%s)
[ $((t2 - t0)) -ge 9 ] || fail "the hook was killed too early: $((t2 - t0)) s"
wait_file "$OUT/$id.decided.json" 15 || fail "no decided hook run (slow)"
rm -f "$OUT/slow"
pkill -KILL -u nobody -f 'sleep 61.25' 2>/dev/null

# -- the packaged examples, on that JSON
EX="$VIGIL_SOURCE_ROOT/packaging/examples"
# syslog: logger gets one line naming the request
mkdir -p "$TMPD/bin"
cat >"$TMPD/bin/logger" <<'LG'
#!/bin/sh
printf '%s\n' "$*" >>"$LOGGED"
LG
chmod 755 "$TMPD/bin/logger"
LOGGED="$TMPD/logged" PATH="$TMPD/bin:$PATH" VIGIL_APPROVAL_EVENT=decided VIGIL_APPROVAL_ID="$id" \
    "$EX/approval-hook-syslog" <"$OUT/$id.decided.json" || fail "syslog hook exit $?"
grep -q -- "-p authpriv.notice -t vigil-approval" "$TMPD/logged" && grep -q "request $id decided: rejected by bob" "$TMPD/logged" &&
    grep -q "user $TU" "$TMPD/logged" && grep -q "whoami" "$TMPD/logged" || fail "syslog hook: $(cat "$TMPD/logged")"
# slack: posts a message to the webhook URL from its configuration file
python3 - "$TMPD/webhook" <<'PY' &
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers["Content-Length"])
        open(sys.argv[1] + ".body", "wb").write(self.rfile.read(n))
        open(sys.argv[1] + ".type", "w").write(self.headers["Content-Type"])
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".port", "w").write(str(s.server_port))
s.handle_request()
PY
wp=$!
wait_file "$TMPD/webhook.port" || fail "webhook server"
printf 'SLACK_WEBHOOK_URL=http://127.0.0.1:%s/hook\n' "$(cat "$TMPD/webhook.port")" >"$TMPD/slack.conf"
VIGIL_SLACK_CONF="$TMPD/slack.conf" VIGIL_APPROVAL_EVENT=created VIGIL_APPROVAL_ID="$id" \
    "$EX/approval-hook-slack" <"$OUT/$id.created.json" || fail "slack hook exit $?"
wait "$wp"
python3 -c '
import json, sys
b = json.load(open(sys.argv[1] + ".body"))
t = b["text"]
assert sys.argv[2] in t and "whoami" in t and sys.argv[3] in t and "vigil approve " + sys.argv[2] in t, t
assert open(sys.argv[1] + ".type").read() == "application/json"
' "$TMPD/webhook" "$id" "$TU" || fail "slack hook post: $(cat "$TMPD/webhook.body")"
exit 0
