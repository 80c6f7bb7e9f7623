#!/usr/bin/python3
"""Take a JWS compact token apart for shell tests, with the standard library
only, so that openssl (not a JWT library, and not the provider's own `jose`)
checks the signature.

  jwtparts.py claim TOKEN_FILE NAME     print a payload claim (strings raw, else JSON)
  jwtparts.py header TOKEN_FILE NAME    print a header field
  jwtparts.py prepare TOKEN_FILE JWKS_FILE OUTDIR
      pick the JWKS key by the token's kid and write OUTDIR/signed (the
      signing input), OUTDIR/sig (raw for RS256 and EdDSA, DER for ES256)
      and OUTDIR/pub.pem; print the alg. Then:
        RS256, ES256: openssl dgst -sha256 -verify pub.pem -signature sig signed
        EdDSA:        openssl pkeyutl -verify -pubin -inkey pub.pem -rawin -in signed -sigfile sig
Exit 1 with one line on stderr on any error (missing claim, unknown kid...).
"""
import base64
import json
import os
import sys


def die(msg):
    sys.stderr.write("jwtparts: %s\n" % msg)
    sys.exit(1)


def b64url(s):
    try:
        return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
    except ValueError as e:
        die("bad base64url: %s" % e)


def read_token(path):
    with open(path, encoding="ascii") as f:
        tok = f.read().strip()
    parts = tok.split(".")
    if len(parts) != 3:
        die("%s: not a JWS compact token (%d parts)" % (path, len(parts)))
    return parts


def der_len(n):
    if n < 0x80:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def der(tag, body):
    return bytes([tag]) + der_len(len(body)) + body


def der_int(b):
    b = b.lstrip(b"\0") or b"\0"
    if b[0] & 0x80:
        b = b"\0" + b
    return der(0x02, b)


def spki(jwk):
    kty = jwk.get("kty")
    if kty == "RSA":
        alg_id = der(0x30, der(0x06, bytes.fromhex("2a864886f70d010101")) + b"\x05\x00")
        key = der(0x30, der_int(b64url(jwk["n"])) + der_int(b64url(jwk["e"])))
    elif kty == "EC" and jwk.get("crv") == "P-256":
        alg_id = der(0x30, der(0x06, bytes.fromhex("2a8648ce3d0201")) + der(0x06, bytes.fromhex("2a8648ce3d030107")))
        key = b"\x04" + b64url(jwk["x"]) + b64url(jwk["y"])
    elif kty == "OKP" and jwk.get("crv") == "Ed25519":
        alg_id = der(0x30, der(0x06, bytes.fromhex("2b6570")))
        key = b64url(jwk["x"])
    else:
        die("unsupported key type %s/%s" % (kty, jwk.get("crv")))
    body = base64.encodebytes(der(0x30, alg_id + der(0x03, b"\0" + key))).decode()
    return "-----BEGIN PUBLIC KEY-----\n%s-----END PUBLIC KEY-----\n" % body


def field(obj, name, what):
    if name not in obj:
        die("%s has no '%s'" % (what, name))
    v = obj[name]
    print(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")))


def main(argv):
    if len(argv) == 4 and argv[1] in ("claim", "header"):
        parts = read_token(argv[2])
        obj = json.loads(b64url(parts[1] if argv[1] == "claim" else parts[0]))
        field(obj, argv[3], "payload" if argv[1] == "claim" else "header")
        return
    if len(argv) == 5 and argv[1] == "prepare":
        parts = read_token(argv[2])
        header = json.loads(b64url(parts[0]))
        with open(argv[3], encoding="utf-8") as f:
            jwks = json.load(f)
        kid, alg = header.get("kid"), header.get("alg")
        keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
        if len(keys) != 1:
            die("kid %r: %d keys in the JWKS" % (kid, len(keys)))
        key = keys[0]
        if key.get("alg") not in (None, alg):
            die("token alg %s, key alg %s" % (alg, key.get("alg")))
        sig = b64url(parts[2])
        if alg == "ES256":
            if len(sig) != 64:
                die("ES256 signature of %d bytes" % len(sig))
            sig = der(0x30, der_int(sig[:32]) + der_int(sig[32:]))
        elif alg not in ("RS256", "EdDSA"):
            die("unsupported alg %s" % alg)
        out = argv[4]
        with open(os.path.join(out, "signed"), "wb") as f:
            f.write(("%s.%s" % (parts[0], parts[1])).encode("ascii"))
        with open(os.path.join(out, "sig"), "wb") as f:
            f.write(sig)
        with open(os.path.join(out, "pub.pem"), "w", encoding="ascii") as f:
            f.write(spki(key))
        print(alg)
        return
    die("usage: jwtparts.py claim|header TOKEN_FILE NAME | prepare TOKEN_FILE JWKS_FILE OUTDIR")


if __name__ == "__main__":
    main(sys.argv)
