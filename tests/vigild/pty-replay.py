#!/usr/bin/env python3
"""pty-replay.py OUT KEYS CMD...: run CMD (vigil replay, interactive) on a
fresh terminal, type KEYS one at a time once CMD has put the terminal in
raw mode (a key every 150 ms: n, p, q, space; '.' types nothing), then 'n'
every 150 ms until CMD exits; write everything CMD wrote to the terminal
into OUT. Exit status: CMD's, or 124 after 60 s."""
import os
import pty
import select
import sys
import termios
import time


def raw(fd):
    """Whether the terminal no longer echoes nor collects lines: a key typed
    before that would be echoed into the output (and read only at a newline)."""
    try:
        lflag = termios.tcgetattr(fd)[3]
    except termios.error:
        return False
    return not (lflag & (termios.ICANON | termios.ECHO))


def main():
    out, keys, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(cmd[0], cmd)
    got = bytearray()
    deadline = time.monotonic() + 60
    next_key = None  # once the terminal is raw
    queue = list(keys)
    status = None
    while time.monotonic() < deadline:
        r, _, _ = select.select([fd], [], [], 0.05)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            got += data
        if next_key is None and raw(fd):
            next_key = time.monotonic()
        if next_key is not None and time.monotonic() >= next_key:
            k = queue.pop(0) if queue else "n"
            if k != ".":
                try:
                    os.write(fd, k.encode())
                except OSError:
                    pass
            next_key = time.monotonic() + 0.15
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
            # what is still buffered
            while True:
                r, _, _ = select.select([fd], [], [], 0.1)
                if not r:
                    break
                try:
                    data = os.read(fd, 65536)
                except OSError:
                    break
                if not data:
                    break
                got += data
            break
    end = time.monotonic() + 5
    while status is None and time.monotonic() < end:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = st
        else:
            time.sleep(0.05)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        code = 124
    else:
        code = os.waitstatus_to_exitcode(status)
    with open(out, "wb") as f:
        f.write(got)
    sys.exit(code)


main()
