#!/usr/bin/env python3
"""Write the seed corpora for fuzz-vigild-msg and fuzz-vigild-conf.

Each msg seed is one byte (the number of fds, 0-3) followed by one message
as vigild and its clients send it (proto.h). Run from the source root:
    python3 fuzz/vigild/make-seeds.py
"""
import os
import struct

def msg(t, fields, id=1):
    b = b"VGD1" + struct.pack("<HHI", t, 0, id)
    for tag, val in fields:
        b += struct.pack("<HI", tag, len(val)) + val
    return b

def s(x):
    return x.encode()

def i64(v):
    return struct.pack("<q", v)

def u32(v):
    return struct.pack("<I", v)

REF = s("0123456789abcdef" * 4)
REPLY, ITEM = 0x8000, 0x4000
seeds = {
    "ping": (0, msg(1, [])),
    "status": (0, msg(2, [])),
    "pam-register": (0, msg(16, [(16, s("alice")), (17, s("sub-1")), (18, s("a@example.org")),
                                 (19, s("ops")), (19, s("dev")), (20, s("jti-1")), (21, i64(2000000000)),
                                 (22, s("sshd"))])),
    "pam-lookup": (0, msg(17, [(25, REF), (16, s("alice"))])),
    "pam-open": (0, msg(18, [(25, REF), (16, s("alice")), (22, s("sshd")), (23, s("pts/3")),
                             (24, s("192.0.2.1"))])),
    "pam-close": (0, msg(19, [(26, REF)])),
    "start-ref-pipes": (3, msg(32, [(25, REF), (32, s("-bash")), (33, s("LANG=C")), (34, s("/home/alice"))])),
    "start-ref-pty": (1, msg(32, [(25, REF), (36, b"\x01"), (37, u32(40)), (38, u32(120)),
                                  (35, s("xterm-256color"))])),
    "start-token": (3, msg(33, [(27, s("eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln")), (32, s("/usr/bin/make")),
                                (32, s("-j2")), (32, b"")])),
    "approvals-list": (0, msg(48, [(48, s("01HZ")), (27, s("a.b.c"))])),
    "approvals-decide": (0, msg(49, [(49, s("a7")), (50, s("deny")), (51, s("not during the freeze"))])),
    "sessions-list": (0, msg(64, [(16, s("alice")), (52, i64(0)), (53, i64(1700000000000)),
                                  (54, s("rm -rf .*")), (55, s("web-1")), (56, b"\x01")])),
    "watch": (0, msg(65, [(48, s("01HZY8"))])),
    "replay": (0, msg(66, [(48, s("01HZY8")), (58, u32(3))])),
    "kill": (0, msg(67, [(48, s("01HZY8")), (51, s("incident 42 \u00e9".encode("utf-8").decode()))])),
    "reply-ok": (0, msg(1 | REPLY, [(1, u32(0)), (3, s("0.1.0"))])),
    "reply-refused": (0, msg(64 | REPLY, [(1, u32(1)), (2, s("sessions.list: not permitted for uid 1000"))])),
    "reply-none": (0, msg(REPLY, [(1, u32(5)), (2, s("too many connections to vigild"))], id=0)),
    "reply-start-fd": (1, msg(32 | REPLY, [(1, u32(0)), (48, s("s-1000"))])),
    "reply-status": (0, msg(2 | REPLY, [(1, u32(0)), (3, s("0.1.0")), (4, s("none")), (5, i64(12)),
                                        (6, u32(3)), (7, u32(1)), (8, u32(0))])),
    "item-list": (0, msg(64 | ITEM, [(64, s('{"id":"s-1","user":"alice"}'))])),
    "item-watch": (0, msg(65 | ITEM, [(65, b"\x1b[31mred\x1b[0m\r\n"), (66, i64(1700000000000))])),
    "bad-magic": (0, b"HTTP/1.1 200 OK\r\n"),
    "bad-overrun": (0, msg(67, [])[:12] + struct.pack("<HI", 48, 100) + b"abc"),
}
BASE = "issuer = https://idp.example\naudience = vigil\n"
conf = {
    "basic": "# vigil.conf\n" + BASE + "auditors = group:sec-audit, local:wheel\nresponders = local:oncall\n",
    "lists": BASE + "auditors = group:a group:b,local:c\nresponders = group:oncall\n",
    "crlf": BASE.replace("\n", "\r\n") + "auditors = group:a\r\nresponders = group:b\r\n",
    "bad": BASE + "auditors = wheel\n",
    "dup": BASE + "auditors = group:a\nauditors = group:b\n",
    "value": "group:sec-audit, local:wheel",
    "value-bad": "group:, local:",
}

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "corpus")
os.makedirs(os.path.join(root, "vigild-msg"), exist_ok=True)
os.makedirs(os.path.join(root, "vigild-conf"), exist_ok=True)
for name, (nfds, data) in seeds.items():
    with open(os.path.join(root, "vigild-msg", name), "wb") as f:
        f.write(bytes([nfds]) + data)
for name, text in conf.items():
    with open(os.path.join(root, "vigild-conf", name), "w") as f:
        f.write(text)
