#!/usr/bin/python3
"""terminal.py [STEPS] -- ssh ARGS...: the person at the terminal in scripts/demo.

Runs the real ssh client on a new pseudo-terminal (24 x 100), signs in with
the device flow, then types the demo's commands into the supervised shell,
and prints a narrated transcript: what the terminal showed (as "  | " lines,
escape sequences removed) and what the person did.

  --approve-login CMD     run (sh -c) once pam_vigil shows the sign-in
                          instructions, with VIGIL_USER_CODE and
                          VIGIL_VERIFICATION_URI set: the person approving the
                          code in their browser.
Steps, in the order given:
  --note TEXT             print TEXT (a narration line, as it is)
  --step TITLE CMD EXPECT type CMD at the prompt; its output (up to the next
                          prompt) must match the regular expression EXPECT
  --held TITLE CMD HELD APPROVER EXPECT
                          type CMD; once the terminal matches HELD, run
                          APPROVER (sh -c: the person who approves, in another
                          process); then the output must match EXPECT
  --prompt REGEX          the shell's prompt at the end of the screen
                          (default: '\\$ $')

Exits 0 when every step showed what it expects and ssh ended with status 0;
otherwise 1 with one line saying which step failed (and the terminal's last
lines)."""
import argparse
import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time

ESCAPES = re.compile(rb"\x1b(\[[0-9;?<=>]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78cDEHM])")


class StepFailed(Exception):
    pass


class Steps(argparse.Action):
    """Keeps --note/--step/--held in the order they were given."""

    def __call__(self, parser, namespace, values, option_string=None):
        getattr(namespace, self.dest).append((option_string.lstrip("-"), values))


def clean(data):
    """Terminal bytes as plain lines: escape sequences and CRs removed."""
    text = ESCAPES.sub(b"", bytes(data)).replace(b"\r\n", b"\n").decode("utf-8", "replace")
    lines = []
    for line in text.split("\n"):
        # a bare CR returns to the start of the line: keep what was written last
        lines.append(line.split("\r")[-1] if "\r" in line.rstrip("\r") else line.rstrip("\r"))
    return lines


def say(text=""):
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class Terminal:
    def __init__(self, argv, rows=24, cols=100):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
            try:
                os.execvp(argv[0], argv)
            finally:
                os._exit(127)
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.seen = bytearray()
        self.shown = 0  # bytes of seen already printed
        self.eof = False

    def read_until(self, pattern, timeout, start=None, what="the terminal"):
        """Read until seen[start:] matches pattern; return the match."""
        start = self.shown if start is None else start
        end = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.seen[start:])
            if m:
                return m
            left = end - time.monotonic()
            if left <= 0 or self.eof:
                raise StepFailed("%s: no %r within %d s" % (what, pattern.decode(errors="replace"), timeout)
                                 if not self.eof else "%s: ssh ended before %r" % (what, pattern.decode()))
            r, _, _ = select.select([self.fd], [], [], min(left, 0.5))
            if not r:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                data = b""
            if not data:
                self.eof = True
            self.seen.extend(data)

    def show(self, upto=None, skip_empty_edges=True):
        """Print what the terminal showed since the last call, up to offset upto."""
        upto = len(self.seen) if upto is None else upto
        lines = clean(self.seen[self.shown:upto])
        self.shown = upto
        while skip_empty_edges and lines and not lines[0].strip():
            lines.pop(0)
        while skip_empty_edges and lines and not lines[-1].strip():
            lines.pop()
        for line in lines:
            say("     | " + line)

    def line_start(self, pos):
        """Offset of the start of the line that holds offset pos."""
        return self.seen.rfind(b"\n", 0, pos) + 1

    def type(self, text):
        os.write(self.fd, text.encode())

    def wait(self, timeout):
        end = time.monotonic() + timeout
        while True:
            wpid, st = os.waitpid(self.pid, os.WNOHANG)
            if wpid:
                self.pid = 0
                return os.waitstatus_to_exitcode(st)
            if time.monotonic() > end:
                return None
            # keep draining: ssh blocks on a full terminal
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if r:
                try:
                    data = os.read(self.fd, 65536)
                except OSError:
                    data = b""
                self.seen.extend(data)

    def kill(self):
        if self.pid:
            os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
            self.pid = 0


def sign_in(t, approve):
    m = t.read_until(rb"or type 'token': ?", 30, what="pam_vigil's first prompt")
    t.show(t.shown + m.end())
    say("   The person presses Enter: sign in with the browser (device flow).")
    t.type("\r")
    m = t.read_until(rb"Press Enter once you have signed in ?", 30, what="the sign-in instructions")
    t.show(t.shown + m.end())
    m = re.search(rb"To sign in, open (https://\S+) and enter (\S+)", t.seen)
    if not m:
        raise StepFailed("the sign-in instructions name no address and code")
    uri, code = m.group(1).decode(), m.group(2).decode()
    say("   The demo plays that person: it opens %s, enters %s, signs in" % (uri, code))
    say("   at the identity provider and consents (tests/idp/approve):")
    env = dict(os.environ, VIGIL_VERIFICATION_URI=uri, VIGIL_USER_CODE=code)
    out = subprocess.run(["/bin/sh", "-c", approve], env=env, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, check=False)
    for line in out.stdout.decode(errors="replace").splitlines():
        say("       " + line)
    if out.returncode != 0:
        raise StepFailed("approving the sign-in failed (exit %d)" % out.returncode)
    say("   ... and presses Enter. pam_vigil fetches the ID token, verifies it, and vigild")
    say("   starts the session under its supervisor, where the real shell (bash) runs.")
    t.type("\r")


def run_command(t, prompt, title, cmd, expect, held=None, approver=None):
    say("")
    say("   " + title)
    start = len(t.seen)
    t.type(cmd + "\r")
    if held is not None:
        m = t.read_until(held.encode(), 20, start=start, what="'%s' (the hold)" % cmd)
        # print up to the end of the held line
        nl = t.seen.find(b"\n", start + m.end())
        t.show(len(t.seen) if nl < 0 else nl + 1)
        rc = subprocess.call(["/bin/sh", "-c", approver])
        if rc != 0:
            raise StepFailed("approving '%s' failed (exit %d)" % (cmd, rc))
    m = t.read_until(prompt, 60, start=start, what="'%s'" % cmd)
    out_end = max(t.line_start(start + m.start()), start)
    output = "\n".join(clean(t.seen[start:out_end]))
    t.show(out_end)
    if not re.search(expect, output, re.M):
        raise StepFailed("'%s' did not show what the demo expects (%s)" % (cmd, expect))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--approve-login", required=True)
    ap.add_argument("--prompt", default=r"\$ $")
    ap.add_argument("--note", dest="steps", action=Steps, nargs=1, default=[])
    ap.add_argument("--step", dest="steps", action=Steps, nargs=3)
    ap.add_argument("--held", dest="steps", action=Steps, nargs=5)
    ap.add_argument("ssh", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    if not args.ssh or args.ssh[0] != "--" or len(args.ssh) < 2:
        ap.error("give the ssh command after --")
    prompt = args.prompt.encode()
    # killed by the demo's clean-up: end ssh too (the finally below)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    t = Terminal(args.ssh[1:])
    try:
        sign_in(t, args.approve_login)
        m = t.read_until(prompt, 30, what="the shell's prompt")
        t.show(t.line_start(t.shown + m.start()))
        for kind, v in args.steps:
            if kind == "note":
                say("")
                say(v[0])
            elif kind == "step":
                run_command(t, prompt, v[0], v[1], v[2])
            else:
                run_command(t, prompt, v[0], v[1], v[4], held=v[2], approver=v[3])
        say("")
        say("   The person logs out; the session ends and its recording is sealed:")
        t.type("exit\r")
        rc = t.wait(20)
        t.show()
        if rc is None:
            raise StepFailed("ssh did not end after 'exit'")
        if rc != 0:
            raise StepFailed("ssh ended with status %d" % rc)
    except StepFailed as e:
        t.kill()
        rest = clean(t.seen[t.shown:])
        if len(rest) > 15:
            say("     | ...")
        for line in rest[-15:]:
            say("     | " + line)
        print("demo: %s" % e, file=sys.stderr)
        return 1
    finally:
        t.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
