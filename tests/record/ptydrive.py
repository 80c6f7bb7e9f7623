"""A terminal for tests: runs a program on a fresh pseudo-terminal as its
controlling terminal (so it is the foreground process group, as in a login),
records every byte the terminal receives, types into it and measures echo.
"""
import fcntl
import os
import select
import signal
import struct
import subprocess
import termios
import time


class Pty:
    def __init__(self, argv, env=None, rows=24, cols=80):
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

        def ctty():
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, preexec_fn=ctty, close_fds=True)
        os.close(slave)
        self.got = bytearray()
        self.eof = False

    def _read(self, timeout):
        """Read what is there within @timeout seconds; False at EOF."""
        if self.eof:
            return False
        r, _, _ = select.select([self.master], [], [], max(timeout, 0))
        if not r:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: no follower open any more
            data = b""
        if not data:
            self.eof = True
            return False
        self.got += data
        return True

    def expect(self, pattern, timeout=20.0, start=0):
        """Wait until @pattern appears in what was received after @start."""
        end = time.monotonic() + timeout
        while pattern not in self.got[start:]:
            left = end - time.monotonic()
            if left <= 0 or not self._read(left):
                return pattern in self.got[start:]
        return True

    def write(self, data):
        os.write(self.master, data)

    def drain(self, quiet=0.2, timeout=5.0):
        """Read until nothing came for @quiet seconds."""
        end = time.monotonic() + timeout
        n = len(self.got)
        while time.monotonic() < end:
            if not self._read(quiet):
                return
            if len(self.got) == n:
                return
            n = len(self.got)

    def resize(self, rows, cols):
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def wait(self, timeout=30.0):
        """Read to EOF, then the exit status."""
        end = time.monotonic() + timeout
        while not self.eof and time.monotonic() < end:
            self._read(end - time.monotonic())
        try:
            return self.proc.wait(max(end - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGKILL)
            return self.proc.wait()

    def type_and_time(self, byte, timeout=30.0):
        """Type one byte; seconds until it came back (None when it did not)."""
        start = len(self.got)
        t0 = time.monotonic()
        self.write(byte)
        while byte not in self.got[start:]:
            left = timeout - (time.monotonic() - t0)
            if left <= 0 or not self._read(left):
                return None
        return time.monotonic() - t0

    def close(self):
        try:
            os.close(self.master)
        except OSError:
            pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
