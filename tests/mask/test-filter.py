#!/usr/bin/env python3
"""mask-filter through real pipes: slow drip with pauses, prompts appearing
at once, random chunkings, binary pass-through. Exit 0 pass, 1 fail."""
import os
import select
import subprocess
import sys
import time

FILTER = sys.argv[1]

SAMPLE = (b"total 4\r\ncard \x1b[31m4111 1111 1111 1111\x1b[0m ok\r\n"
          b"AKIAIOSFODNN7EXAMPLE mail john.doe@example.com\r\n"
          b"-----BEGIN RSA PRIVATE KEY-----\r\nMIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\r\n"
          b"-----END RSA PRIVATE KEY-----\r\nDB_PASSWORD=hunter2\r\n$ ")
WANT = (b"total 4\r\ncard \x1b[31m[MASKED:credit-card]\x1b[0m ok\r\n"
        b"[MASKED:aws-access-key] mail [MASKED:email]\r\n"
        b"[MASKED:private-key]\r\nDB_PASSWORD=[MASKED:password-assignment]\r\n$ ")
SECRETS = [b"4111", b"IOSFODNN", b"john.doe", b"MIIBOg", b"hunter2"]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def start(*args):
    return subprocess.Popen([FILTER, "--detectors", "all", *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, bufsize=0)


def read_while(p, wait, more):
    """What the filter writes while more(what it wrote so far) holds, within
    `wait` seconds."""
    out = b""
    end = time.monotonic() + wait
    while more(out):
        left = end - time.monotonic()
        if left <= 0:
            return out
        r, _, _ = select.select([p.stdout], [], [], left)
        if not r:
            return out
        chunk = os.read(p.stdout.fileno(), 65536)
        if not chunk:
            return out
        out += chunk
    return out


def read_available(p, wait):
    """Everything the filter has written within `wait` seconds."""
    return read_while(p, wait, lambda out: True)


def read_until(p, want, wait):
    """What the filter writes until it has written as much as `want`, or
    `wait` seconds passed (a filter that holds part of it back, waiting for
    more input, never gets there)."""
    return read_while(p, wait, lambda out: len(out) < len(want))


def finish(p):
    p.stdin.close()
    rest = p.stdout.read()
    if p.wait() != 0:
        fail("mask-filter exited %d" % p.returncode)
    return rest


def slow_drip():
    p = start()
    out = b""
    for i in range(len(SAMPLE)):
        p.stdin.write(SAMPLE[i:i + 1])
        # pauses between pieces: nothing is released on a timer
        out += read_available(p, 0.02 if i % 10 == 0 else 0)
        for s in SECRETS:
            if s in out:
                fail("slow drip released %r" % s)
    out += finish(p)
    if out != WANT:
        fail("slow drip output %r" % out)


def prompt_at_once():
    p = start()
    for prompt, value, want in ((b"Enter password: ", b"hunter2\r\n", b"[MASKED:password-assignment]\r\n"),
                                (b"user@host:~$ ", b"echo ok\r\n", b"echo ok\r\n")):
        p.stdin.write(prompt)
        # at once: without more input (the time allows a loaded machine)
        got = read_until(p, prompt, 10.0)
        if got != prompt:
            fail("prompt %r: got %r within 10 s" % (prompt, got))
        p.stdin.write(value)
        got = read_until(p, want, 10.0)
        if got != want:
            fail("after prompt %r: got %r" % (prompt, got))
    finish(p)


def random_chunks():
    for seed in range(1, 30):
        r = subprocess.run([FILTER, "--detectors", "all", "--random-chunks", "7", "--seed", str(seed)],
                           input=SAMPLE * 3, capture_output=True, check=True)
        if r.stdout != WANT * 3:
            fail("random chunks seed %d: %r" % (seed, r.stdout))


def binary_passthrough():
    data = bytes(range(256)) * 8 + b"4111 1111 1111 1111\n"
    r = subprocess.run([FILTER, "--detectors", "all", "--sniff"], input=b"card 4111 1111 1111 1111\n" + data,
                       capture_output=True, check=True)
    # one read may hold both parts; either way the binary part passes unchanged
    if not r.stdout.endswith(data):
        fail("binary data changed: %r" % r.stdout[-64:])


slow_drip()
prompt_at_once()
random_chunks()
binary_passthrough()
print("ok")
