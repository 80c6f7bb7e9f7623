#!/bin/sh
# Real sessions through `vigil run --no-pty`, recorded: the recording equals
# what the terminal got; the session's metadata (user, host, client from
# SSH_CONNECTION, exit, how it ended); command events with their exit codes
# and output positions; `vigil sessions`, `audit`, `search`, `replay` and
# `export --format asciicast` (checked by asciinema cat) on them.
. "$(dirname "$0")/lib.sh"

P=$WORK/p
policy "$P" "default allow" "deny exe=/usr/bin/whoami message=\"no whoami\""

# 1. output as the terminal got it, stdout and stderr in one file
SSH_CONNECTION="192.0.2.7 40022 192.0.2.1 22" vrun "$P" --events "$WORK/ev" -- sh -c '
    echo first line
    /bin/echo to stderr >&2
    printf "%s\n" "αβγ unicode ✓"
    sleep 0.2
    /bin/echo ccc
    whoami
    head -c 3000 /dev/zero | tr "\0" b
    echo
    sh -c "kill -9 \$\$"
    exit 7' >"$WORK/out1" 2>&1
rc=$?
[ "$rc" -eq 7 ] || fail "session exit status $rc, expected 7"
id=$(last_id)
v replay --instant "$id" >"$WORK/rep1" || fail "replay"
cmp -s "$WORK/out1" "$WORK/rep1" || fail "the recording differs from what the terminal got: $(diff "$WORK/out1" "$WORK/rep1" | head)"
grep -q "vigil: denied: whoami (.*: no whoami)" "$WORK/out1" || fail "no denial line: $(cat "$WORK/out1")"

# 2. metadata
v sessions --json --user "$TU" | python3 -c '
import json, sys, socket
s = [json.loads(l) for l in sys.stdin]
assert len(s) == 1, s
s = s[0]
tu, host = sys.argv[1], socket.gethostname()
assert s["user"] == tu and s["host"] == host, s
assert s["client"] == "192.0.2.7 40022", s["client"]
assert s["exit"] == 7 and s["ended"] == "exit" and s["sealed"] is True and s["truncated"] is False, s
assert s["command"][:2] == ["sh", "-c"], s["command"]
assert s["commands"] >= 7, s
assert s["output_bytes"] == int(sys.argv[2]), (s["output_bytes"], sys.argv[2])
assert s["end"] >= s["start"]
' "$TU" "$(wc -c <"$WORK/out1")" || fail "session metadata"
v sessions --user "$TU" | grep -q "^$id " || fail "sessions --user does not list it"
v sessions --user nobody-else-$$ | grep -q . && fail "sessions --user of another user lists it"

# 3. command events: exit codes, decisions, output positions (the bytes a
#    command wrote lie between its exec and exit offsets)
v audit --format json --session "$id" >"$WORK/audit.json" || fail "audit"
python3 - "$WORK/audit.json" "$WORK/rep1" "$WORK/ev" <<'PY' || fail "command events"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2], "rb").read()
by = {}
for e in ev:
    by.setdefault(e["argv"][0], []).append(e)
def one(name):
    assert len(by.get(name, [])) == 1, (name, by.get(name))
    return by[name][0]
echos = by["/bin/echo"]
assert len(echos) == 2, echos
ccc = [e for e in echos if e["argv"] == ["/bin/echo", "ccc"]][0]
assert ccc["decision"] == "allow" and ccc["exit"] == 0, ccc
assert out[ccc["exec_offset"]:ccc["exit_offset"]] == b"ccc\n", (ccc, out[ccc["exec_offset"]:ccc["exit_offset"]])
assert ccc["output_bytes"] == 4, ccc
w = one("whoami")
assert w["decision"] == "deny" and w["exit"] is None and w["rule"].endswith(":2"), w
tr = one("tr")
assert tr["exit"] == 0
assert out[tr["exec_offset"]:tr["exit_offset"]].count(b"b") == 3000, tr
sl = one("sleep")
assert sl["exit"] == 0 and 150 <= sl["duration_ms"] <= 10000, sl
killed = [e for e in by["sh"] if e["argv"][:2] == ["sh", "-c"] and "kill" in e["argv"][2] and e["argv"][2].startswith("kill")]
assert len(killed) == 1 and killed[0]["exit"] == "SIGKILL", by["sh"]
top = [e for e in by["sh"] if e["argv"][2].lstrip().startswith("echo first")][0]
assert top["exit"] == 7 and top["exec_offset"] == 0 and top["exit_offset"] == len(out), top
# the --events file has the same events
lines = [json.loads(l) for l in open(sys.argv[3])]
assert sorted(l["pid"] for l in lines) == sorted(e["pid"] for e in ev), (lines, ev)
assert all(l["session"] == ev[0]["session"] for l in lines)
PY
v audit --format csv --user "$TU" | head -n 1 | grep -q "^time,session,user" || fail "audit csv header"
[ "$(v audit --format csv --user "$TU" --decision deny | wc -l)" -eq 2 ] || fail "audit --decision deny"

# 4. search: a line of output, with the command running then; a command line
v search 'to stde(rr)' >"$WORK/s1" || fail "search"
grep -q "^$id" "$WORK/s1" || fail "search found nothing: $(cat "$WORK/s1")"
grep -q "echo" "$WORK/s1" || fail "search does not name the command: $(cat "$WORK/s1")"
v search 'unicode ✓' --user "$TU" | grep -q "αβγ" || fail "search unicode"
v search 'zzz-not-there' | grep -q . && fail "search found what was never shown"

# 5. asciicast: the format, and asciinema cat gives what the terminal got
v export "$id" --format asciicast >"$WORK/a.cast" || fail "export asciicast"
python3 - "$WORK/a.cast" <<'PY' || fail "asciicast format"
import json, sys
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
h = json.loads(lines[0])
assert h["version"] == 2 and isinstance(h["width"], int) and isinstance(h["height"], int), h
assert isinstance(h["timestamp"], int) and isinstance(h["env"], dict), h
last = 0.0
for l in lines[1:-1]:
    e = json.loads(l)
    assert len(e) == 3 and e[1] in ("o", "i", "r") and e[0] >= last, e
    last = e[0]
PY
script -qec "asciinema cat '$WORK/a.cast' >'$WORK/cat.out'" /dev/null >/dev/null 2>&1 || fail "asciinema cat failed"
cmp -s "$WORK/cat.out" "$WORK/out1" || fail "asciinema cat differs from what the terminal got"

# 6. input: not recorded by default, recorded with record input=yes
printf 'typed line\n' | vrun "$P" -- sh -c 'read x; echo "got $x"' >/dev/null 2>&1 || fail "input session"
v export "$(last_id)" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert not [c for c in d["chunks"] if c.get("stream") == "i"], "input recorded without input=yes"
assert d["session"]["input_bytes"] == 11, d["session"]
' || fail "input kept without record input=yes"
PI=$WORK/pi
policy "$PI" "default allow" "record input=yes"
printf 'typed line\n' | vrun "$PI" -- sh -c 'read x; echo "got $x"' >/dev/null 2>&1 || fail "input session 2"
v export "$(last_id)" --format json | python3 -c '
import json, sys
d = json.load(sys.stdin)
i = "".join(c.get("data", "") for c in d["chunks"] if c.get("stream") == "i")
assert i == "typed line\n", d["chunks"]
' || fail "input not recorded with input=yes"

# 7. an idle session costs its supervisor no CPU, even with a commit pending:
# measured from when the session has started, printed its line and waits
# (on a fifo the test writes to at the end), not from a fixed delay
mkfifo -m 644 "$WORK/w/idle.fifo" || fail "mkfifo"
"$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- sh -c "echo x; read l <'$WORK/w/idle.fifo'" \
    >"$WORK/idle.out" 2>&1 &
sup=$!
echo "$sup" >>"$WORK/root-pids"
_i=0
until grep -qx x "$WORK/idle.out" && [ "$(ps -o stat= -u "$TU" | grep -c '^S')" -eq 1 ]; do
    _i=$((_i + 1))
    [ $_i -lt 600 ] || fail "the idle session did not start: $(cat "$WORK/idle.out"; ps -o pid,stat,args -u "$TU")"
    sleep 0.05
done
t0=$(sed 's/.*) //' "/proc/$sup/stat" | awk '{print $12 + $13}')
sleep 2
t1=$(sed 's/.*) //' "/proc/$sup/stat" | awk '{print $12 + $13}')
timeout 60 sh -c 'echo go >"$1"' sh "$WORK/w/idle.fifo" || fail "the idle session did not read"
wait "$sup" || fail "idle session"
[ $((t1 - t0)) -le 20 ] || fail "an idle session's supervisor used $((t1 - t0)) clock ticks in 2 s"

# 8. every session verifies and is sealed
v verify >"$WORK/verify" 2>&1 || fail "verify: $(cat "$WORK/verify")"
ok
