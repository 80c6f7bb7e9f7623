#!/usr/bin/python3
"""A syslog receiver for tests: binds a datagram socket (the /dev/log a
test made private to itself), writes each message as one line to a file,
and touches a ready file once it listens. Stops on SIGTERM."""
import os
import signal
import socket
import sys


def main():
    if len(sys.argv) != 4:
        print("usage: syslog-listener.py SOCKET LOGFILE READYFILE", file=sys.stderr)
        return 2
    path, out, ready = sys.argv[1:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(ready, "w"):
        pass
    with open(out, "ab", buffering=0) as f:
        while True:
            d = s.recv(65536)
            f.write(d.replace(b"\n", b" ").rstrip(b"\0") + b"\n")


if __name__ == "__main__":
    sys.exit(main())
