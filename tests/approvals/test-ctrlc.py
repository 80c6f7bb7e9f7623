#!/usr/bin/env python3
# The held terminal, driven through a real pseudo-terminal as a user would:
# an interactive shell holds a command (the line on the terminal, the
# request showing the last screenful), Ctrl-C withdraws it and the shell
# goes on; a second hold is approved and its output appears on the
# terminal; a third is rejected and the reason shows.
import json, os, re, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.join(os.environ["VIGIL_SOURCE_ROOT"], "tests", "record"))
from ptydrive import Pty  # noqa: E402

VIGIL = os.environ["VIGIL"]
TOOL = os.path.join(os.environ["VIGIL_BUILD_ROOT"], "tests", "approvals", "approval-tool")
if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

tu = "vt%d" % os.getpid()
tmp = tempfile.mkdtemp(prefix="vigil-appr-pty.")
os.chmod(tmp, 0o755)
store = tmp + "/store"


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def tool(*args, check=True):
    r = subprocess.run([TOOL, store] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        fail("approval-tool %s: %s" % (" ".join(args), r.stderr))
    return r.stdout


def request(rid):
    return json.loads(tool("get", rid))


def main(pty):
    marker = 0

    def cmd(line, want=None, timeout=20):
        """Type @line; wait for @want (or the shell's next prompt marker)."""
        nonlocal marker
        marker += 1
        start = len(pty.got)
        pty.write(line + b"\n")
        if want is None:
            pty.write(b"echo M%d$((0))\n" % marker)
            want = b"M%d0\r\n" % marker
        if not pty.expect(want, timeout=timeout, start=start):
            fail("did not see %r after %r; the terminal shows %r" % (want, line, bytes(pty.got[start:])[-600:]))
        return bytes(pty.got[start:])

    cmd(b"PS1='P> '")
    cmd(b"echo screen-marker-$((6*7))")
    # held: exactly the line, and the shell waits in the execve
    out = cmd(b"whoami", want=b"Ctrl-C cancels\r\n")
    m = re.search(rb"vigil: held for approval \(request ([0-9a-z]{8})\): whoami \xe2\x80\x94 waiting up to 1m; Ctrl-C cancels\r\n", out)
    if not m:
        fail("hold line: %r" % out)
    rid = m.group(1).decode()
    r = request(rid)
    if r["state"] != "pending" or "screen-marker-42" not in (r["screen"] or ""):
        fail("request while held: %r" % r)
    # the last screenful, as the terminal showed it, with the command typed
    if "P> whoami" not in r["screen"]:
        fail("screen: %r" % r["screen"])
    # Ctrl-C: the exec fails, the request is withdrawn, the shell is back
    start = len(pty.got)
    time.sleep(0.3)
    pty.write(b"\x03")
    if not pty.expect(b"vigil: withdrawn (request %s): whoami\r\n" % rid.encode(), timeout=30, start=start):
        fail("no withdrawal line: %r" % bytes(pty.got[start:]))
    out = cmd(b"echo alive-$((1+1))")
    if b"alive-2\r\n" not in out:
        fail("the shell after Ctrl-C: %r" % out)
    r = request(rid)
    if r["state"] != "withdrawn" or r["decided_by"] is not None:
        fail("request after Ctrl-C: %r" % r)
    if tool("decide", rid, "approve", "--subject", "bob", check=False):
        pass
    if request(rid)["state"] != "withdrawn":
        fail("a withdrawn request was approved")

    # approved: the command's output appears on the terminal
    start = len(pty.got)
    pty.write(b"whoami; echo rc=$?\n")
    if not pty.expect(b"Ctrl-C cancels\r\n", start=start):
        fail("second hold: %r" % bytes(pty.got[start:]))
    rid2 = tool("wait", "--timeout", "30").split()[0]
    if rid2 == rid:
        fail("the withdrawn request is pending again")
    tool("decide", rid2, "approve", "--subject", "bob-sub", "--email", "bob@example.com")
    if not pty.expect(b"vigil: approved by bob@example.com (request %s)\r\n" % rid2.encode(), start=start):
        fail("approved line: %r" % bytes(pty.got[start:]))
    if not pty.expect(b"\r\n%s\r\nrc=0\r\n" % tu.encode(), start=start):
        fail("approved output: %r" % bytes(pty.got[start:]))

    # rejected: the reason in one line
    start = len(pty.got)
    pty.write(b"whoami; echo rc=$?\n")
    if not pty.expect(b"Ctrl-C cancels\r\n", start=start):
        fail("third hold: %r" % bytes(pty.got[start:]))
    rid3 = tool("wait", "--timeout", "30").split()[0]
    tool("decide", rid3, "reject", "--local", "dba1", "--reason", "use the runbook")
    if not pty.expect(b"vigil: rejected by dba1 (request %s): use the runbook\r\n" % rid3.encode(), start=start):
        fail("rejected line: %r" % bytes(pty.got[start:]))
    if not pty.expect(b"rc=126\r\n", start=start):
        fail("rejected status: %r" % bytes(pty.got[start:]))

    pty.write(b"exit 3\n")
    st = pty.wait()
    if st != 3:
        fail("exit status %r" % st)


try:
    subprocess.run(["useradd", "-m", "-d", tmp + "/home", "-s", "/bin/bash", tu], check=True)
    policy = tmp + "/p.policy"
    with open(policy, "w") as f:
        f.write("default allow\nhold exe=/usr/bin/whoami approvers=group:sre timeout=60s\n")
    env = dict(os.environ, TERM="xterm", VIGIL_HOST_KEY=tmp + "/host.key")
    pty = Pty([VIGIL, "--policy", policy, "--store", store, "run", "--user", tu, "--pty", "--",
               "bash", "--norc", "--noprofile", "-i"], env=env, rows=30, cols=100)
    try:
        main(pty)
    finally:
        pty.close()
finally:
    subprocess.run(["pkill", "-KILL", "-u", tu], capture_output=True)
    time.sleep(0.2)
    subprocess.run(["userdel", "-f", "-r", tu], capture_output=True)
    subprocess.run(["rm", "-rf", tmp])
