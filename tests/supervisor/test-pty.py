#!/usr/bin/env python3
# An interactive shell through a real pseudo-terminal, as a user at a
# terminal would drive it: prompt, a denied command, Ctrl-C, Ctrl-Z and fg,
# a window resize, exit status; and the outer terminal's mode restored
# afterwards, also when the session is killed.
import fcntl, os, select, shutil, signal, struct, subprocess, sys, tempfile, termios, time

VIGIL = os.environ["VIGIL"]
if os.geteuid() != 0:
    print("SKIP: needs root")
    sys.exit(77)

tu = "vt%d" % os.getpid()
tmp = tempfile.mkdtemp(prefix="vigil-pty-test.")
os.chmod(tmp, 0o755)
failed = []


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def read_until(fd, want, timeout=30.0):
    buf = b""
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                d = os.read(fd, 65536)
            except OSError:
                break
            if not d:
                break
            buf += d
            if want in buf:
                return buf
    raise AssertionError("did not see %r in %r" % (want, buf[-400:]))


def wait_foreground(argv, timeout=60.0):
    """Wait until a process of the test user runs @argv in its terminal's
    foreground. A control character typed before that would reach the
    shell instead (on a loaded machine the command can take a while to
    start); a fixed sleep is not enough there."""
    want = b"\0".join(argv) + b"\0"
    uid = int(subprocess.run(["id", "-u", tu], capture_output=True, check=True).stdout)
    end = time.time() + timeout
    while time.time() < end:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                if os.stat("/proc/" + p).st_uid != uid:
                    continue
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if f.read() != want:
                        continue
                with open("/proc/%s/stat" % p) as f:
                    # after the name: state ppid pgrp session tty_nr tpgid
                    st = f.read().rsplit(")", 1)[1].split()
                if st[0] in ("R", "S") and st[2] == st[5]:
                    return
            except (OSError, IndexError):
                continue
        time.sleep(0.02)
    fail("%r never ran in the foreground" % (argv,))


def spawn(policy, args, extra=()):
    """vigil on a fresh terminal of ours; returns (pid, leader fd, the terminal's mode before)."""
    fd, follower = os.openpty()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    before = termios.tcgetattr(fd)
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(follower, termios.TIOCSCTTY, 0)
        for i in range(3):
            os.dup2(follower, i)
        os.environ["TERM"] = "xterm"
        os.execv(VIGIL, [VIGIL, "--policy", policy, "--store", tmp + "/store", "run", "--user", tu] + list(extra) + ["--"] + args)
    os.close(follower)
    # the session is up once vigil has put the outer terminal in raw mode
    end = time.time() + 60
    while time.time() < end:
        m = termios.tcgetattr(fd)
        if not (m[3] & termios.ICANON) and not (m[3] & termios.ECHO):
            return pid, fd, before
        time.sleep(0.01)
    shown = b""
    while select.select([fd], [], [], 0.1)[0]:
        try:
            shown += os.read(fd, 4096)
        except OSError:
            break
    fail("the outer terminal was never put in raw mode; the terminal shows %r" % shown[-500:])


def main():
    subprocess.run(["useradd", "-m", "-d", tmp + "/home", "-s", "/bin/bash", tu], check=True)
    policy = tmp + "/p.policy"
    with open(policy, "w") as f:
        f.write('default allow\ndeny exe=/usr/bin/whoami message="no whoami"\n')

    pid, fd, before = spawn(policy, ["bash", "--norc", "--noprofile", "-i"])
    counter = [0]

    def cmd(line):
        """Type @line, then wait until the shell is back at its prompt; returns what it printed."""
        counter[0] += 1
        n = counter[0]
        os.write(fd, line + b"\n")
        # typed, the marker reads M<n>$((0)); printed, it is M<n>0
        os.write(fd, b"echo M%d$((0))\n" % n)
        out = read_until(fd, b"M%d0\r\n" % n)
        return out

    cmd(b"PS1='P> '")
    out = cmd(b"tty; stty size; echo $TERM")
    if b"/dev/pts/" not in out or b"30 100" not in out or b"xterm" not in out:
        fail("tty/size/TERM: %r" % out)
    # a denied command: one line on the terminal
    out = cmd(b"whoami")
    if out.count(b"vigil: denied: whoami (") != 1 or b": no whoami)\r\n" not in out:
        fail("denied line: %r" % out)
    # resize: SIGWINCH reaches the session
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 51, 133, 0, 0))
    os.kill(pid, signal.SIGWINCH)
    # the change travels: vigil -> the session's terminal; asked until seen
    end = time.time() + 30
    while True:
        out = cmd(b"stty size")
        if b"51 133" in out:
            break
        if time.time() > end:
            fail("resize: %r" % out)
        time.sleep(0.1)
    # Ctrl-C interrupts the foreground job, not the session
    os.write(fd, b"sleep 100; echo after-$((1+1))\n")
    wait_foreground([b"sleep", b"100"])
    os.write(fd, b"\x03")
    out = cmd(b"echo alive")
    if b"after-2" in out or b"alive\r\n" not in out:
        fail("Ctrl-C: %r" % out)
    # Ctrl-Z stops a job, jobs lists it, fg brings it back, Ctrl-C ends it
    os.write(fd, b"sleep 101\n")
    wait_foreground([b"sleep", b"101"])
    os.write(fd, b"\x1a")
    read_until(fd, b"Stopped")
    out = cmd(b"jobs")
    if b"sleep 101" not in out:
        fail("jobs after Ctrl-Z: %r" % out)
    os.write(fd, b"fg\n")
    read_until(fd, b"sleep 101\r\n")
    wait_foreground([b"sleep", b"101"])
    os.write(fd, b"\x03")
    out = cmd(b"jobs; echo jobs-listed")
    if b"sleep 101" in out.split(b"jobs-listed")[-1] or b"Stopped" in out.split(b"jobs; echo")[-1]:
        fail("job still there after fg and Ctrl-C: %r" % out)
    # a full-screen program's escape sequences pass untouched
    out = cmd(b"printf '\\033[?1049h\\033[2J\\033[Hfull\\033[?1049l'; echo")
    if b"\x1b[?1049h\x1b[2J\x1b[Hfull\x1b[?1049l" not in out:
        fail("escape sequences: %r" % out)
    # exit status
    os.write(fd, b"exit 7\n")
    _, st = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(st) != 7:
        fail("exit status %d" % os.waitstatus_to_exitcode(st))
    after = termios.tcgetattr(fd)
    if after != before:
        fail("outer terminal mode not restored: %r != %r" % (after, before))
    os.close(fd)

    # the session is killed from outside (SIGTERM to vigil): it ends, and the mode is restored
    pid, fd, before = spawn(policy, ["bash", "--norc", "--noprofile", "-i"])
    os.write(fd, b"echo R$((1+1))\n")
    read_until(fd, b"R2\r\n")
    os.kill(pid, signal.SIGTERM)
    t0 = time.time()
    _, st = os.waitpid(pid, 0)
    if time.time() - t0 > 10:
        fail("SIGTERM: the session took %.1f s to end" % (time.time() - t0))
    if termios.tcgetattr(fd) != before:
        fail("outer terminal mode not restored after SIGTERM")
    os.close(fd)
    alive = subprocess.run(["pgrep", "-u", tu], capture_output=True).stdout.split()
    for p in alive:
        try:
            if open("/proc/%s/stat" % p.decode()).read().rsplit(")", 1)[1].split()[0] != "Z":
                fail("processes of %s left: %r" % (tu, alive))
        except OSError:
            pass
    print("ok")


try:
    main()
finally:
    subprocess.run(["pkill", "-KILL", "-u", tu], capture_output=True)
    time.sleep(0.2)
    # -f: killed processes may still be zombies waiting for init to reap them
    subprocess.run(["userdel", "-f", "-r", tu], capture_output=True)
    shutil.rmtree(tmp, ignore_errors=True)
