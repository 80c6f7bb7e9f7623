#!/usr/bin/python3
"""pty-session.py APPROVE_CMD -- ssh ARGS...: a person at a terminal who
signs in with the device flow and then works in the interactive shell.

Runs ssh on a new pseudo-terminal of 40 rows and 100 columns, presses Enter
at pam_vigil's first prompt, reads the user code and address from the
sign-in instructions, runs APPROVE_CMD (sh -c, with VIGIL_USER_CODE and
VIGIL_VERIFICATION_URI set), presses Enter once signed in, and then, at the
shell's prompt:
  - types a command that prints a marker, the account, and how many cgroup
    lines name a vigil session, then `stty size`;
  - resizes the terminal to 50 x 120 (ssh passes the change on) and types
    `stty size` again;
  - types `sleep 30`, then Ctrl-C, and a command that prints a second marker;
  - types `exit`.
Prints everything the terminal showed and exits with ssh's status (124 when
a step timed out)."""
import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time


def set_size(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


def wait_foreground(cmdline, timeout):
    """Whether a process running @cmdline is, within @timeout, in its
    terminal's foreground: Ctrl-C typed before that reaches the shell, not
    the command (a loaded machine can take a while to start it)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % p, "rb") as f:
                    if f.read() != cmdline:
                        continue
                with open("/proc/%s/stat" % p) as f:
                    # after the name: state ppid pgrp session tty_nr tpgid
                    st = f.read().rsplit(")", 1)[1].split()
                if st[0] in ("R", "S") and st[2] == st[5]:
                    return True
            except (OSError, IndexError):
                continue
        time.sleep(0.02)
    return False


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: pty-session.py APPROVE_CMD -- ssh ARGS...", file=sys.stderr)
        return 2
    approve, argv = sys.argv[1], sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        set_size(0, 40, 100)
        os.execvp(argv[0], argv)
    set_size(fd, 40, 100)
    seen = bytearray()

    def read_until(pattern, timeout, start=0):
        end = time.monotonic() + timeout
        while not re.search(pattern, seen[start:]):
            left = end - time.monotonic()
            if left <= 0:
                return False
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            if not data:
                return False
            seen.extend(data)
        return True

    def finish(status, why=None):
        if why:
            seen.extend(b"\n[timed out: " + why.encode() + b"]\n")
        sys.stdout.write(seen.decode("utf-8", "replace"))
        sys.stdout.flush()
        return status

    def fail(why):
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        return finish(124, why)

    def type_and_wait(text, pattern, timeout=20):
        start = len(seen)
        os.write(fd, text)
        return read_until(pattern, timeout, start)

    if not read_until(rb"or type 'token':", 30):
        return fail("first prompt")
    os.write(fd, b"\r")
    if not read_until(rb"Press Enter once you have signed in", 30):
        return fail("sign-in prompt")
    m = re.search(rb"To sign in, open (https://\S+) and enter (\S+)", seen)
    if not m:
        return fail("sign-in instructions")
    env = dict(os.environ, VIGIL_VERIFICATION_URI=m.group(1).decode(), VIGIL_USER_CODE=m.group(2).decode())
    rc = subprocess.call(["/bin/sh", "-c", approve], env=env, stdout=sys.stderr)
    seen.extend(b"\n[approve exited %d]\n" % rc)
    # the prompt of the supervised login shell
    if not type_and_wait(b"\r", rb"[$#] $", 30):
        return fail("shell prompt")
    if not type_and_wait(b'echo "mark-$(id -un)-$(grep -c :/vigil/ /proc/self/cgroup)"; stty size\r',
                         rb"40 100\r\n"):
        return fail("first stty size")
    set_size(fd, 50, 120)
    # the change travels: ssh -> sshd -> SIGWINCH to the supervisor -> the
    # session's terminal; asked until seen
    end = time.monotonic() + 30
    while True:
        start = len(seen)
        if not type_and_wait(b"stty size\r", rb"\d+ \d+\r\n"):
            return fail("stty size after the resize")
        if re.search(rb"50 120\r\n", seen[start:]):
            break
        if time.monotonic() > end:
            return fail("stty size after the resize (still %r)" % bytes(seen[start:]))
        time.sleep(0.1)
    start = len(seen)
    os.write(fd, b"sleep 30\r")
    if not wait_foreground(b"sleep\x0030\x00", 60):
        return fail("sleep 30 in the foreground")
    os.write(fd, b"\x03")
    if not read_until(rb"[$#] $", 30, start):
        return fail("prompt after Ctrl-C")
    if not type_and_wait(b'echo "after-$((6 * 7))"\r', rb"after-42"):
        return fail("after Ctrl-C")
    os.write(fd, b"exit\r")
    read_until(rb"(?!)", 20)  # to EOF
    end = time.monotonic() + 5
    while True:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            return finish(os.waitstatus_to_exitcode(st))
        if time.monotonic() > end:
            return fail("ssh did not exit")
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
