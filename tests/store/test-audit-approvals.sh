#!/bin/sh
# vigil audit (JSON and CSV) and vigil export show each held command's
# approval outcome as its session's chain records it: approved (and the
# commands run on it by remember=session), rejected, timeout, withdrawn;
# the other commands none. Across 70 sessions whose commands interleave in
# time (more sessions than the lookup cache keeps), a session with more
# outcomes than one window of it, and a command run on an approval given
# long before it. A damaged approval record is one clear line, and only
# commands that need an outcome look one up.
. "$(dirname "$0")/lib.sh"

writer --user inter --sessions 70 --commands 40 --hold-every 3 --output 0 \
    --start-us 1700000000000000 --step-us 100 --manifest "$WORK/m1" || fail "writer inter"
writer --user long --commands 3000 --hold-every 2 --output 2M \
    --start-us 1700001000000000 --manifest "$WORK/m2" || fail "writer long"
v audit --format json >"$WORK/a.json" || fail "audit json"
v audit >"$WORK/a.csv" || fail "audit csv"
long=$(cut -d' ' -f1 "$WORK/m2")
inter=$(sed -n 5p "$WORK/m1" | cut -d' ' -f1)
v export "$long" --format json >"$WORK/long.json" || fail "export long"
v export "$inter" --format json >"$WORK/inter.json" || fail "export inter"

python3 - "$WORK" "$long" "$inter" <<'PY' || fail "outcomes"
import csv, json, sys
work, long_id, inter_id = sys.argv[1:4]
ev = [json.loads(l) for l in open(work + "/a.json")]
assert len(ev) == 70 * 40 + 3000, len(ev)

APPROVER = {"subject": "bob-sub", "email": "bob@example.com", "groups": ["sre", "dba"], "local": "bob", "via": "device"}
REJECTER = {"subject": None, "email": None, "groups": None, "local": "dba1", "via": "local"}

def expected(every, n):
    """store-writer's decisions: every K-th command held, decided in turn
    approved, rejected, timeout, withdrawn; the command after an approved
    one runs on its approval (remember=session)."""
    out, holds, approved = {}, 0, None
    for c in range(n):
        if (c + 1) % every == 0:
            turn = holds % 4
            holds += 1
            req = "q%07d" % c
            if turn == 0:
                out[c] = ("approved", dict(request=req, remembered=False, decided_by=APPROVER, reason="change 42"), c)
                approved = c
            elif turn == 1:
                out[c] = ("rejected", dict(request=req, remembered=False, decided_by=REJECTER,
                                           reason='not during the freeze, "really"'), c)
            elif turn == 2:
                out[c] = ("timeout", dict(request=req, remembered=False, reason=None), c)
            else:
                out[c] = ("withdrawn", dict(request=req, remembered=False, reason="the session ended"), c)
        elif approved is not None and c == approved + 1:
            out[c] = ("approved", dict(request="q%07d" % approved, remembered=True, decided_by=APPROVER,
                                       reason="change 42"), approved)
    return out

want = {"inter": expected(3, 40), "long": expected(2, 3000)}
assert sum(1 for o in want["long"].values() if o[0] != "allow") > 1500  # more than a window
times = {}  # (session, c) -> event time
for e in ev:
    times[(e["session"], int(e["argv"][2][len("/srv/dir"):]))] = e["time"]

def check(e, where):
    c = int(e["argv"][2][len("/srv/dir"):])
    w = want[e["user"]].get(c)
    if w is None:
        assert e["decision"] == "allow" and e["approval"] is None, (where, e)
        return
    d, a, origin = w
    assert e["decision"] == d, (where, e)
    got = dict(e["approval"])
    # decided at the held command's time (+5 us: the same millisecond here)
    assert got.pop("decided_at") == times[(e["session"], origin)], (where, e)
    assert got == a, (where, got, a)
    if d in ("timeout", "withdrawn"):
        assert "decided_by" not in e["approval"], e

switches = sum(1 for a, b in zip(ev, ev[1:]) if a["session"] != b["session"])
assert switches > 1000, switches  # the sessions' events do interleave
for e in ev:
    check(e, "audit json")

rows = list(csv.reader(open(work + "/a.csv", newline="")))
head = rows[0]
assert head == ("time,session,user,host,pid,ppid,runas,cwd,exe,argv,decision,rule,exit,duration_ms,exec_t,"
                "exec_offset,exit_t,exit_offset,output_bytes,request,decided_by,decided_at,reason").split(","), head
assert len(rows) == len(ev) + 1
for r, e in zip(rows[1:], ev):
    assert len(r) == len(head), r
    row = dict(zip(head, r))
    assert row["session"] == e["session"] and row["argv"] == json.dumps(e["argv"], separators=(",", ":")), (row, e)
    a = e["approval"]
    if a is None:
        assert (row["request"], row["decided_by"], row["decided_at"], row["reason"]) == ("", "", "", ""), row
        continue
    by = a.get("decided_by")
    who = "" if not by else by["subject"] or ("local:" + by["local"] if by["local"] else "")
    assert row["request"] == a["request"] and row["decided_by"] == who, (row, a)
    assert row["decided_at"] == a["decided_at"] and row["reason"] == (a["reason"] or ""), (row, a)
    assert row["decision"] == e["decision"]

for sid, name in ((long_id, "long"), (inter_id, "inter")):
    doc = json.load(open("%s/%s.json" % (work, name)))
    mine = [e for e in ev if e["session"] == sid]
    assert len(doc["events"]) == len(mine) > 0
    for x, e in zip(doc["events"], mine):
        assert x["argv"] == e["argv"] and x["approval"] == e["approval"], (x, e)
print("outcomes: %d events, %d with an outcome, %d session switches" %
      (len(ev), sum(1 for e in ev if e["approval"]), switches))
PY

# filters: only the events asked for, each with its outcome
v audit --format json --decision approved --session "$long" >"$WORK/f.json" || fail "audit --decision"
python3 - "$WORK/f.json" <<'PY' || fail "filtered outcomes"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert len(ev) == 750, len(ev)
assert all(e["decision"] == "approved" and e["approval"]["decided_by"]["subject"] == "bob-sub" for e in ev)
assert sum(e["approval"]["remembered"] for e in ev) == 375
PY

# a command run on an approval given long before it (remember=session), seen
# from a point past that approval: its decider still shows
writer --user gap --commands 400 --hold-every 100 --remember-gap 50 --output 0 \
    --start-us 1700002000000000 --manifest "$WORK/m3" || fail "writer gap"
gap=$(cut -d' ' -f1 "$WORK/m3")
since=$(v audit --format json --session "$gap" | python3 -c '
import json, sys
print([json.loads(l) for l in sys.stdin if "/srv/dir149" in l][0]["time"])') || fail "gap events"
v audit --format json --session "$gap" --since "$since" >"$WORK/g.json" || fail "audit --since"
python3 - "$WORK/g.json" <<'PY' || fail "remembered long after: $(cat "$WORK/g.json")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
assert ev[0]["argv"][2] == "/srv/dir149", ev[0]
got = [(e["argv"][2], e["decision"], e["approval"]) for e in ev if e["approval"]]
assert [g[:2] for g in got] == [("/srv/dir149", "approved"), ("/srv/dir199", "rejected"), ("/srv/dir299", "timeout"),
                                ("/srv/dir399", "withdrawn")], got
a = got[0][2]
assert a["remembered"] is True and a["request"] == "q0000099" and a["reason"] == "change 42", a
assert a["decided_by"] == {"subject": "bob-sub", "email": "bob@example.com", "groups": ["sre", "dba"],
                           "local": "bob", "via": "device"}, a
PY

# a damaged approval record: one line naming it; nothing changes; commands
# that need no outcome still list
seq=$(tamper find "$inter" 10 | sed -n 3p)
[ -n "$seq" ] || fail "no approval records found"
tamper truncate "$inter" "$seq" 1 || fail "truncate"
before=$(sum_store)
# fails_one_line CMD...: exit 1 and exactly one line on stderr (what was
# streamed before the damaged session stays on stdout)
fails_one_line() {
    "$@" >/dev/null 2>"$WORK/err"
    rc=$?
    [ "$rc" -eq 1 ] || fail "'$*' exited $rc, expected 1"
    [ "$(wc -l <"$WORK/err")" -eq 1 ] || fail "'$*' printed not one line: $(cat "$WORK/err")"
}
fails_one_line v audit
grep -qx "vigil: audit: read: session $inter: record $seq (approval): malformed record (run 'vigil verify')" "$WORK/err" ||
    fail "audit damaged: $(cat "$WORK/err")"
fails_one_line v audit --format json --session "$inter"
fails_one_line v export "$inter" --format json
grep -q "record $seq (approval): malformed record" "$WORK/err" || fail "export damaged: $(cat "$WORK/err")"
v audit --decision allow --session "$inter" >/dev/null || fail "audit of allowed commands"
v audit --format json --session "$long" >/dev/null || fail "audit of another session"
[ "$(sum_store)" = "$before" ] || fail "a read changed the store"
ok
