#!/usr/bin/env python3
"""samples.py DIR: text for the masking tests, one secret per line for each
built-in detector, and near-misses that must stay visible.
    DIR/in        what the session prints
    DIR/want      what the terminal and the recording must show instead
    DIR/secrets   the secrets (one per line): none may appear anywhere
    DIR/visible   lines that must appear unchanged
    DIR/counts    "detector count" per line: the maskings expected in `in`
"""
import sys

M = lambda n: "[MASKED:%s]" % n  # noqa: E731
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
AWSK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
PEMBODY = ("MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu\n"
           "KUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n")

# (text, masked text, [secrets], {detector: count})
HITS = [
    ("pay 4111 1111 1111 1111 now\n", "pay %s now\n" % M("credit-card"), ["4111 1111 1111 1111"],
     {"credit-card": 1}),
    ("card=4111-1111-1111-1111;\n", "card=%s;\n" % M("credit-card"), ["4111-1111-1111-1111"], {"credit-card": 1}),
    ("\x1b[31m4111111111111111\x1b[0m\n", "\x1b[31m%s\x1b[0m\n" % M("credit-card"), ["4111111111111111"],
     {"credit-card": 1}),
    ("key AKIAIOSFODNN7EXAMPLE end\n", "key %s end\n" % M("aws-access-key"), ["AKIAIOSFODNN7EXAMPLE"],
     {"aws-access-key": 1}),
    ("aws_secret_access_key = %s\n" % AWSK, "aws_secret_access_key = %s\n" % M("aws-secret-key"), [AWSK],
     {"aws-secret-key": 1}),
    ("-----BEGIN RSA PRIVATE KEY-----\n" + PEMBODY + "-----END RSA PRIVATE KEY-----\n", M("private-key") + "\n",
     ["MIIBOgIBAAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf9Cnzj4p4WGeKLs1Pt8Qu", "KUpRKfFLfRYC9AIKjbJTWit"],
     {"private-key": 1}),
    ("Authorization: Bearer %s\n" % JWT, "Authorization: Bearer %s\n" % M("jwt"), [JWT.split(".")[2]], {"jwt": 1}),
    ("ghp_abcdefghijklmnopqrstuvwxyz0123456789\n", M("github-token") + "\n",
     ["ghp_abcdefghijklmnopqrstuvwxyz0123456789"], {"github-token": 1}),
    ("xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx\n", M("slack-token") + "\n",
     ["xoxb-123456789012"], {"slack-token": 1}),
    ("ssn 123-45-6789.\n", "ssn %s.\n" % M("ssn-us"), ["123-45-6789"], {"ssn-us": 1}),
    ("mail bob@example.com.\n", "mail %s.\n" % M("email"), ["bob@example.com"], {"email": 1}),
    ("IBAN DE89 3704 0044 0532 0130 00 EUR\n", "IBAN %s EUR\n" % M("iban"), ["DE89 3704 0044 0532 0130 00"],
     {"iban": 1}),
    ("DB_PASSWORD='s3cr3t pass'\n", "DB_PASSWORD='%s'\n" % M("password-assignment"), ["s3cr3t pass"],
     {"password-assignment": 1}),
    ("password=hunter2\n", "password=%s\n" % M("password-assignment"), ["hunter2"], {"password-assignment": 1}),
]

# false positives and near-misses: shown as they are
VISIBLE = [
    "4111 1111 1111 1112 fails Luhn",
    "order 12345678901234567890 ok",
    "AKIA1234567890ABCDEFG is 21 characters",
    "a bare Zq7rT2vLm9Xc4Bn8Hk3Jp6Wd1Fs5Gy0Ua/Re+T12 is no assignment",
    "-----BEGIN PUBLIC KEY-----",
    "ghp_short",
    "xoxz-123456789012-abcdef",
    "666-12-3456 never issued",
    "user@localhost",
    "DE89 3704 0044 0532 0130 02 bad checksum",
    "Enter password: ",
    "token == null",
    "secretary: Jane",
]


def main(d):
    text, want, secrets, counts = "", "", [], {}
    for t, w, s, c in HITS:
        text += t
        want += w
        secrets += s
        for k, n in c.items():
            counts[k] = counts.get(k, 0) + n
    for line in VISIBLE:
        text += line + "\n"
        want += line + "\n"
    open(d + "/in", "w").write(text)
    open(d + "/want", "w").write(want)
    open(d + "/secrets", "w").write("\n".join(secrets) + "\n")
    open(d + "/visible", "w").write("\n".join(VISIBLE) + "\n")
    open(d + "/counts", "w").write("".join("%s %d\n" % kv for kv in sorted(counts.items())))


if __name__ == "__main__":
    main(sys.argv[1])
