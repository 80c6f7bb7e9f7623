#!/usr/bin/env python3
"""Masking in PTY mode, through a real interactive shell under
`vigil run --pty` with every detector on (run by test-mask-pty.sh):
  - the samples printed by cat, and dripped one byte at a time: no secret
    reaches the terminal, false positives stay visible;
  - a secret the user types: its echo shows at once (it is the user's own
    input), the program's output of it is masked, and the recording (output
    and input, record input=yes) holds no secret, nor does the asciicast;
  - digits typed at the shell prompt echo as fast as letters (the masker
    holds a trailing digit run for the recording only).
Arguments: VIGIL STORE POLICY USER SAMPLES_DIR DRIP."""
import json
import os
import pwd
import statistics
import subprocess
import sys
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ptydrive import Pty  # noqa: E402

VIGIL, STORE, POLICY, USER, SAMPLES, DRIP = sys.argv[1:7]
SECRETS = [l for l in open(os.path.join(SAMPLES, "secrets")).read().split("\n") if l]
VISIBLE = [l for l in open(os.path.join(SAMPLES, "visible")).read().split("\n") if l]
N_MASKS = sum(int(l.split()[1]) for l in open(os.path.join(SAMPLES, "counts")) if l.strip())
TYPED = b"4111111111111111"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def v(*args):
    return subprocess.run([VIGIL, "--store", STORE] + list(args), check=True, capture_output=True).stdout


def no_secret(data, where):
    for s in SECRETS:
        if s.encode() in data:
            fail("secret %r reached %s" % (s, where))


def session_echoes():
    """Whether the session's own terminal (the shell's, inside vigil) echoes
    what is typed; None while no process of USER has it open."""
    uid = pwd.getpwnam(USER).pw_uid
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            if os.stat("/proc/" + pid).st_uid != uid:
                continue
            tty = os.readlink("/proc/%s/fd/0" % pid)
            if not tty.startswith("/dev/pts/"):
                continue
            fd = os.open(tty, os.O_RDONLY | os.O_NOCTTY | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            return bool(termios.tcgetattr(fd)[3] & termios.ECHO)
        finally:
            os.close(fd)
    return None


p = Pty([VIGIL, "--policy", POLICY, "--store", STORE, "run", "--user", USER, "--pty", "--", "/bin/sh"],
        env=dict(os.environ, TERM="xterm"))
try:
    if not p.expect(b"$ "):
        fail("no prompt: %r" % bytes(p.got))

    # the samples, at once and one byte per write
    for cmd in (b"cat %s/in; echo END1\n" % SAMPLES.encode(), b"%s -c 1 %s/in; echo END2\n" % (DRIP.encode(),
                                                                                              SAMPLES.encode())):
        mark = len(p.got)
        p.write(cmd)
        tag = cmd.split(b"echo ")[-1].strip()
        if not p.expect(b"\n" + tag + b"\r\n", timeout=60, start=mark):
            fail("no %r: %r" % (tag, bytes(p.got[mark:])))
        shown = bytes(p.got[mark:])
        no_secret(shown, "the terminal (%s)" % tag.decode())
        for line in VISIBLE:
            if line.encode() not in shown:
                fail("false positive masked or missing: %r in %r" % (line, shown))
        if shown.count(b"[MASKED:") != N_MASKS:
            fail("%d maskings shown, expected %d: %r" % (shown.count(b"[MASKED:"), N_MASKS, shown))

    # a typed secret: the echo at once, cat's copy masked
    p.drain()
    mark = len(p.got)
    p.write(b"cat\n")
    time.sleep(0.3)
    p.drain()
    mark = len(p.got)
    for c in TYPED:
        if p.type_and_time(bytes([c])) is None:
            fail("the echo of a typed digit did not come: %r" % bytes(p.got[mark:]))
    p.write(b"\n")
    if not p.expect(b"[MASKED:credit-card]", start=mark):
        fail("cat's output of the typed card is not masked: %r" % bytes(p.got[mark:]))
    shown = bytes(p.got[mark:])
    if shown.count(TYPED) != 1:
        fail("the typed card should show once (the echo): %r" % shown)
    p.write(b"\x04")  # end cat
    time.sleep(0.3)

    # typed at a password prompt (no echo, reads a line): never recorded
    p.drain()
    mark = len(p.got)
    p.write(b"stty -echo; read x; stty echo; echo got-${#x}\n")
    if not p.expect(b"stty echo; echo got-${#x}\r\n", timeout=60, start=mark):
        fail("the line was not echoed: %r" % bytes(p.got[mark:]))
    # typed once stty -echo has run (the session's terminal no longer echoes)
    end = time.monotonic() + 60
    while session_echoes() is not False:
        if time.monotonic() > end:
            fail("the session's terminal still echoes: %r" % bytes(p.got[mark:]))
        time.sleep(0.02)
    p.write(b"hunter2secret\n")
    if not p.expect(b"got-13", start=mark):
        fail("the prompt did not read the line: %r" % bytes(p.got[mark:]))
    if b"hunter2secret" in p.got[mark:]:
        fail("a no-echo prompt echoed: %r" % bytes(p.got[mark:]))

    # digits echo as fast as letters at the prompt
    p.drain()
    times = {"digit": [], "letter": []}
    for i in range(24):
        kind = "digit" if i % 2 else "letter"
        ch = bytes([ord("0") + i % 10]) if kind == "digit" else bytes([ord("a") + i % 26])
        t = p.type_and_time(ch)
        if t is None:
            fail("the echo of %r did not come (%s)" % (ch, kind))
        times[kind].append(t)
        time.sleep(0.005)
    p.write(b"\x15")  # kill the line
    md, ml = statistics.median(times["digit"]), statistics.median(times["letter"])
    print("echo median: digits %.0f us, letters %.0f us" % (md * 1e6, ml * 1e6))
    # A masker that held digits would hold them until more input decided
    # (seconds here); the 20 ms margin only absorbs scheduling noise on a
    # loaded 2-core CI machine.
    if md > 3 * ml + 0.02:
        fail("digits echo slower than letters: %.0f us vs %.0f us" % (md * 1e6, ml * 1e6))
    p.write(b"exit 0\n")
    rc = p.wait()
finally:
    p.close()
if rc != 0:
    fail("exit status %d" % rc)

s = [json.loads(l) for l in v("sessions", "--json", "--user", USER).splitlines()][-1]
replay = v("replay", "--instant", s["id"])
no_secret(replay, "the recording")
if TYPED in replay:
    fail("the typed card is in the recording")
cast = v("export", s["id"], "--format", "asciicast")
no_secret(cast, "the asciicast")
if TYPED in cast:
    fail("the typed card is in the asciicast")
doc = v("export", s["id"], "--format", "json")
if TYPED in doc or b'"stream":"i"' not in doc:
    fail("input recording: not there, or not masked")
if b"hunter2secret" in doc or b"[MASKED:no-echo]" not in doc:
    fail("what was typed at the no-echo prompt: %r" % doc)
if s["masks"].get("no-echo", 0) != 1:
    fail("no-echo count: %r" % s["masks"])
if s["masks"].get("credit-card", 0) < 3:
    fail("counts: %r" % s["masks"])
print("ok")
