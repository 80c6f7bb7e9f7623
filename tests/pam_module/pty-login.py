#!/usr/bin/python3
"""pty-login.py APPROVE_CMD -- ssh ARGS...: a person at a terminal doing a
device sign-in through ssh. Runs ssh on a new pseudo-terminal, presses Enter
at pam_vigil's first prompt, reads the user code and address from the
sign-in instructions, runs APPROVE_CMD (sh -c, with VIGIL_USER_CODE and
VIGIL_VERIFICATION_URI set) as the person approving in their browser, then
presses Enter once signed in. Prints everything the terminal showed and
exits with ssh's status (124 when a step timed out)."""
import os
import pty
import re
import select
import subprocess
import sys
import time


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--":
        print("usage: pty-login.py APPROVE_CMD -- ssh ARGS...", file=sys.stderr)
        return 2
    approve, argv = sys.argv[1], sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(argv[0], argv)
    seen = bytearray()

    def read_until(pattern, timeout):
        end = time.monotonic() + timeout
        while not re.search(pattern, seen):
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

    def finish(status):
        sys.stdout.write(seen.decode("utf-8", "replace"))
        sys.stdout.flush()
        return status

    if not read_until(rb"or type 'token':", 30):
        os.kill(pid, 9)
        return finish(124)
    os.write(fd, b"\r")
    if not read_until(rb"Press Enter once you have signed in", 30):
        os.kill(pid, 9)
        return finish(124)
    m = re.search(rb"To sign in, open (https://\S+) and enter (\S+)", seen)
    if not m:
        os.kill(pid, 9)
        return finish(124)
    env = dict(os.environ, VIGIL_VERIFICATION_URI=m.group(1).decode(), VIGIL_USER_CODE=m.group(2).decode())
    rc = subprocess.call(["/bin/sh", "-c", approve], env=env, stdout=sys.stderr)
    seen.extend(b"\n[approve exited %d]\n" % rc)
    os.write(fd, b"\r")
    read_until(rb"(?!)", 60)  # to EOF (or 60 s)
    end = time.monotonic() + 5
    while True:
        wpid, st = os.waitpid(pid, os.WNOHANG)
        if wpid:
            return finish(os.waitstatus_to_exitcode(st))
        if time.monotonic() > end:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            return finish(124)
        time.sleep(0.05)


if __name__ == "__main__":
    sys.exit(main())
