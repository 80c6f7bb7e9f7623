#!/bin/sh
# vigil run end to end, --no-pty: a denied command, an allowed pipeline,
# exit statuses like env(1), the events file, stdout and stderr apart, the
# login-like environment, what the command inherits, and refusals that
# start nothing.
. "$(dirname "$0")/lib-session.sh"
cd "$TMPD/w" || fail "cd"

P="$TMPD/p.policy"
policy "$P" 'default allow
deny exe=/usr/bin/whoami message="no whoami here"
deny exe=/usr/bin/od'

# -- an allowed pipeline, a denied command, and the events they leave
out=$(vrun "$P" --events "$EV" -- sh -c 'echo abc | tr a x | cat; whoami; echo "rc=$?"' 2>"$TMPD/err")
st=$?
[ "$st" -eq 0 ] || fail "session exit $st"
[ "$out" = "xbc
rc=126" ] || [ "$out" = "xbc
rc=127" ] || fail "pipeline/denied stdout: '$out'"
grep -qx "vigil: denied: whoami ($P:2: no whoami here)" "$TMPD/err" || fail "denied line: $(cat "$TMPD/err")"
[ "$(grep -c 'vigil: denied' "$TMPD/err")" -eq 1 ] || fail "one denied line expected: $(cat "$TMPD/err")"
events_py '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
keys = ["time","session","user","pid","ppid","runas","cwd","exe","argv","decision","rule","exit","duration_ms"]
for e in ev:
    assert list(e.keys()) == keys, e.keys()
    assert e["user"] == e["runas"], e
    assert e["time"].endswith("Z") and len(e["time"]) == 24, e["time"]
by = {e["exe"]: e for e in ev}
assert len({e["session"] for e in ev}) == 1
d = by["/usr/bin/whoami"]
assert d["decision"] == "deny" and d["exit"] is None and d["duration_ms"] is None, d
assert d["rule"].endswith(":2"), d
for exe in ("/usr/bin/tr", "/usr/bin/cat", "/usr/bin/dash"):
    e = by[exe]
    assert e["decision"] == "allow" and e["exit"] == 0 and e["rule"] == "default", e
    assert isinstance(e["duration_ms"], int) and e["duration_ms"] >= 0, e
assert by["/usr/bin/dash"]["argv"][0] == "sh"
assert by["/usr/bin/tr"]["argv"] == ["tr", "a", "x"]
assert by["/usr/bin/tr"]["ppid"] == by["/usr/bin/dash"]["pid"]
assert by["/usr/bin/tr"]["cwd"] == sys.argv[1].rsplit("/", 1)[0] + "/w"
# echo is a builtin: no event; nothing for the PATH lookups that found nothing
assert len(ev) == 4, [e["exe"] for e in ev]
' || fail "events file"

# -- the cwd: recorded for each command (read after the answer when no rule
#    asks about it), and deciding when a cwd= rule does
mkdir -p "$TMPD/w/sub" && chown "$TU" "$TMPD/w/sub"
rm -f "$EV"
vrun "$P" --events "$EV" -- sh -c 'cd sub && /bin/true; cd / && /bin/true' 2>"$TMPD/err" || fail "cwd session exit $?"
events_py '
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e["exe"] == "/usr/bin/true"]
w = sys.argv[1].rsplit("/", 1)[0] + "/w"
assert [e["cwd"] for e in ev] == [w + "/sub", "/"], ev
' || fail "cwd events: $(cat "$EV")"
policy "$TMPD/c.policy" "default allow
deny exe=/usr/bin/true cwd=$TMPD/w/sub message=\"not here\""
rm -f "$EV"
out=$(vrun "$TMPD/c.policy" --events "$EV" -- sh -c 'cd sub && /bin/true; echo "a=$?"; cd / && /bin/true; echo "b=$?"' 2>"$TMPD/err") ||
    fail "cwd rule session exit $?"
[ "$out" = "a=126
b=0" ] || fail "cwd rule output: '$out' $(cat "$TMPD/err")"
grep -q "^vigil: denied: /bin/true (.*not here)" "$TMPD/err" || fail "cwd rule line: $(cat "$TMPD/err")"
events_py '
import json, sys
ev = [e for e in map(json.loads, open(sys.argv[1])) if e["exe"] == "/usr/bin/true"]
w = sys.argv[1].rsplit("/", 1)[0] + "/w"
assert [(e["cwd"], e["decision"]) for e in ev] == [(w + "/sub", "deny"), ("/", "allow")], ev
' || fail "cwd rule events: $(cat "$EV")"

# -- hold waits for approval (tests/approvals); nobody decides: it times out
#    and fails; audit runs and is flagged
policy "$TMPD/h.policy" 'default allow
hold exe=/usr/bin/whoami approvers=group:sre timeout=1s
audit exe=/usr/bin/id'
rm -f "$EV"
out=$(vrun "$TMPD/h.policy" --events "$EV" -- sh -c 'whoami; id -u' 2>"$TMPD/err") || fail "hold/audit exit $?"
[ "$out" = "$(id -u "$TU")" ] || fail "hold/audit output: '$out'"
grep -q "^vigil: held for approval (request [0-9a-z]\{8\}): whoami — waiting up to 1s; Ctrl-C cancels\$" "$TMPD/err" ||
    fail "hold line: $(cat "$TMPD/err")"
grep -q "^vigil: not approved within 1s (request [0-9a-z]\{8\}): whoami\$" "$TMPD/err" || fail "timeout line: $(cat "$TMPD/err")"
events_py '
import json, sys
ev = {e["exe"]: e for e in map(json.loads, open(sys.argv[1]))}
assert ev["/usr/bin/whoami"]["decision"] == "timeout" and ev["/usr/bin/whoami"]["rule"].endswith(":2")
assert len(ev["/usr/bin/whoami"]["request"]) == 8 and ev["/usr/bin/whoami"]["exit"] is None
assert ev["/usr/bin/id"]["decision"] == "audit" and ev["/usr/bin/id"]["exit"] == 0
' || fail "hold/audit events"

# -- exit statuses
vrun "$P" -- sh -c 'exit 3' 2>/dev/null; st=$?
[ "$st" -eq 3 ] || fail "exit 3 gave $st"
vrun "$P" -- sh -c 'kill -TERM $$' 2>/dev/null; st=$?
[ "$st" -eq 143 ] || fail "SIGTERM gave $st"
vrun "$P" -- whoami 2>"$TMPD/err"; st=$?
[ "$st" -eq 126 ] || fail "denied command gave $st"
grep -q 'vigil: denied: whoami' "$TMPD/err" || fail "denied CMD: no line"
vrun "$P" -- no-such-command-vt 2>"$TMPD/err"; st=$?
[ "$st" -eq 127 ] || fail "missing command gave $st"
printf 'echo hi\n' > "$TMPD/w/noexec"; chmod 644 "$TMPD/w/noexec"
vrun "$P" -- ./noexec 2>/dev/null; st=$?
[ "$st" -eq 126 ] || fail "non-executable gave $st"
vrun "$P" -- /usr/bin/od -c /dev/null 2>/dev/null; st=$?
[ "$st" -eq 126 ] || fail "denied by path gave $st"

# -- stdout and stderr stay apart; stdin reaches the command; binary data passes unchanged
vrun "$P" -- sh -c 'echo to-out; echo to-err >&2' >"$TMPD/o" 2>"$TMPD/e" || fail "streams exit $?"
[ "$(cat "$TMPD/o")" = "to-out" ] && [ "$(cat "$TMPD/e")" = "to-err" ] || fail "streams mixed: $(cat "$TMPD/o") / $(cat "$TMPD/e")"
head -c 300000 /dev/urandom > "$TMPD/bin"
vrun "$P" -- cat < "$TMPD/bin" > "$TMPD/bin.out" || fail "cat exit $?"
cmp -s "$TMPD/bin" "$TMPD/bin.out" || fail "binary data changed through the pipes"
out=$(printf 'line1\nline2\n' | vrun "$P" -- sh -c 'wc -l') || fail "stdin pipe exit $?"
[ "$(echo $out)" = "2" ] || fail "stdin through a pipe: '$out'"
# a reader that goes away: the writer gets EPIPE/SIGPIPE, the session ends
{ vrun "$P" -- sh -c 'yes | head -c 100000000; exit 0'; echo $? > "$TMPD/st"; } | head -c 10 >/dev/null
[ "$(cat "$TMPD/st")" -eq 0 ] || fail "closed reader: exit $(cat "$TMPD/st")"

# -- the login-like environment: exactly these variables, TERM kept
out=$(env -i TERM=xterm-vt FOO=bar PATH=/usr/bin:/bin "$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- env | sort)
home=$(getent passwd "$TU" | cut -d: -f6)
want=$(printf 'HOME=%s\nLOGNAME=%s\nPATH=/usr/local/bin:/usr/bin:/bin\nSHELL=/bin/sh\nTERM=xterm-vt\nUSER=%s\n' "$home" "$TU" "$TU")
[ "$out" = "$want" ] || fail "environment: '$out'"

# -- identity, and nothing inherited but 0, 1, 2
out=$(vrun "$P" -- id -u) || fail "id exit $?"
[ "$out" = "$(id -u "$TU")" ] || fail "runs as uid $out"
out=$(vrun "$P" -- sh -c 'grep -E "^(Uid|Gid|Groups|NoNewPrivs|Seccomp):" /proc/self/status' | tr -s '\t ' ' ')
uid=$(id -u "$TU"); gid=$(id -g "$TU")
echo "$out" | grep -qx "Uid: $uid $uid $uid $uid" || fail "uids: $out"
echo "$out" | grep -qx "Gid: $gid $gid $gid $gid" || fail "gids: $out"
echo "$out" | grep -qx "NoNewPrivs: 0" || fail "no_new_privs must stay off (sudo): $out"
echo "$out" | grep -qx "Seccomp: 2" || fail "not filtered: $out"
exec 7>"$TMPD/fd7"
# No pipeline inside the session: while a shell sets up a pipeline it holds
# the pipes' ends itself, so `ls` could see them (a race of the test, not of vigil).
out=$(vrun "$P" -- sh -c 'ls /proc/$$/fd') || fail "fd listing exit $?"
out=$(printf '%s\n' "$out" | sort -n | tr '\n' ' ')
exec 7>&-
[ "$out" = "0 1 2 " ] || [ "$out" = "0 1 2 10 " ] || fail "inherited fds: '$out'"

# -- refusals: one line, status 125, nothing started
marker="$TMPD/w/started"
expect_refusal() {
    what=$1
    shift
    rm -f "$marker"
    err=$("$@" 2>&1 >/dev/null); st=$?
    [ "$st" -eq 125 ] || fail "$what: exit $st"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$what: not one line: $err"
    case "$err" in "vigil: run: "*) ;; *) fail "$what: message '$err'" ;; esac
    [ ! -e "$marker" ] || fail "$what: the command ran"
}
expect_refusal "unknown user" "$VIGIL" --policy "$P" --store "$STORE" run --user no-such-user-vt --no-pty -- touch "$marker"
printf 'default allow\nallow exe=relative\n' > "$TMPD/bad.policy"
expect_refusal "invalid policy" "$VIGIL" --policy "$TMPD/bad.policy" --store "$STORE" run --user "$TU" --no-pty -- touch "$marker"
expect_refusal "missing policy" "$VIGIL" --policy "$TMPD/none.policy" --store "$STORE" run --user "$TU" --no-pty -- touch "$marker"
touch "$TMPD/notadir"
expect_refusal "unusable store" "$VIGIL" --policy "$P" --store "$TMPD/notadir" run --user "$TU" --no-pty -- touch "$marker"
expect_refusal "store in a missing directory" "$VIGIL" --policy "$P" --store "$TMPD/no/such/store" run --user "$TU" --no-pty -- touch "$marker"
expect_refusal "no command" "$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty
expect_refusal "bad option" "$VIGIL" --policy "$P" --store "$STORE" run --frob -- touch "$marker"
cp "$VIGIL" "$TMPD/vigil" && chmod 755 "$TMPD/vigil"   # the build tree may not be readable by the test user
expect_refusal "non-root for another user" setpriv --reuid="$TU" --regid="$(id -g "$TU")" --clear-groups \
    "$TMPD/vigil" --policy "$P" --store "$STORE" run --user root --no-pty -- touch "$marker"
expect_refusal "non-root for itself" setpriv --reuid="$TU" --regid="$(id -g "$TU")" --clear-groups \
    "$TMPD/vigil" --policy "$P" --store "$STORE" run --no-pty -- touch "$marker"
# a store that does not exist is created 0700
rm -rf "$TMPD/newstore"
"$VIGIL" --policy "$P" --store "$TMPD/newstore" run --user "$TU" --no-pty -- true || fail "new store: exit $?"
[ "$(stat -c %a "$TMPD/newstore")" = 700 ] || fail "new store mode $(stat -c %a "$TMPD/newstore")"
# --pty without a terminal still works (the session gets its own)
out=$("$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --pty -- sh -c 'tty' </dev/null)
case "$out" in /dev/pts/*) ;; *) fail "--pty without a terminal: '$out'" ;; esac
# nothing of the sessions left behind (other tests may run sessions meanwhile)
[ "$(alive_count "$TU")" -eq 0 ] || fail "processes of $TU left"
ok
