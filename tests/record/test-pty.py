#!/usr/bin/env python3
"""A real interactive session through `vigil run --pty` (a shell driven on a
terminal): the recording equals what the terminal got byte for byte, window
size changes are recorded, the terminal size is in the metadata, and the
tty is the terminal's name. Run by tests/record/test-pty.sh (which makes the
test user and the store)."""
import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptydrive import Pty  # noqa: E402

VIGIL, STORE, POLICY, USER = sys.argv[1:5]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def v(*args):
    return subprocess.run([VIGIL, "--store", STORE] + list(args), check=True, capture_output=True).stdout


env = dict(os.environ, TERM="xterm")
p = Pty([VIGIL, "--policy", POLICY, "--store", STORE, "run", "--user", USER, "--pty", "--", "/bin/sh"],
        env=env, rows=24, cols=80)
try:
    if not p.expect(b"$ "):
        fail("no prompt: %r" % bytes(p.got))
    p.write(b"echo hello; /bin/echo from echo; stty size\n")
    if not p.expect(b"24 80"):
        fail("stty size before the resize: %r" % bytes(p.got))
    p.drain()
    p.resize(30, 100)
    # the resize reaches vigil as SIGWINCH; give it a moment, then look
    for _ in range(50):
        mark = len(p.got)
        p.write(b"stty size\n")
        if p.expect(b"30 100", timeout=2, start=mark):
            break
    else:
        fail("the session never saw the new size: %r" % bytes(p.got))
    p.write(b"printf 'tab\\there\\r\\n'; exit 5\n")
    rc = p.wait()
finally:
    p.close()
if rc != 5:
    fail("exit status %d, expected 5: %r" % (rc, bytes(p.got)))

sessions = [json.loads(l) for l in v("sessions", "--json", "--user", USER).splitlines()]
s = sessions[-1]
if s["exit"] != 5 or s["ended"] != "exit" or not s["sealed"]:
    fail("metadata: %r" % s)
if (s["cols"], s["rows"]) != (80, 24):
    fail("terminal size at start: %r" % s)
if not (s["tty"] or "").startswith("/dev/pts/"):
    fail("tty: %r" % s)

replay = v("replay", "--instant", s["id"])
if replay != bytes(p.got):
    fail("the recording differs from what the terminal got:\n%r\n%r" % (replay, bytes(p.got)))

doc = json.loads(v("export", s["id"], "--format", "json"))
resizes = [c for c in doc["chunks"] if c.get("type") == "resize"]
if not resizes or (resizes[0]["cols"], resizes[0]["rows"]) != (100, 30):
    fail("resize not recorded: %r" % resizes)
cast = v("export", s["id"], "--format", "asciicast").decode().splitlines()
if not any(json.loads(l)[1:] == ["r", "100x30"] for l in cast[1:]):
    fail("no resize in the asciicast")
names = [e["argv"][0] for e in doc["events"]]
for want in ("/bin/sh", "/bin/echo", "stty"):
    if want not in names:
        fail("no event for %s: %r" % (want, names))
print("ok: %d bytes, %d resizes" % (len(replay), len(resizes)))
