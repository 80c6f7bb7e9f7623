#!/bin/sh
# Masking through real sessions in pipe mode (`vigil run --no-pty`): every
# built-in detector, near-misses that stay visible; the same text one byte
# at a time, dripped slowly, and split at every byte position with a pause;
# a private key over many writes; the recording, replay and asciicast hold
# no secret and the counts are in the metadata; input is masked in the
# recording; binary output and a file transfer pass unchanged.
. "$(dirname "$0")/lib.sh"

DRIP=$(helper drip)
mkdir -p "$WORK/s" && python3 "$VIGIL_SOURCE_ROOT/tests/record/samples.py" "$WORK/s" || fail "samples"
chmod -R a+rX "$WORK/s"
P=$WORK/p
policy "$P" "default allow" "mask credit-card" "mask aws-access-key" "mask aws-secret-key" "mask private-key" \
    "mask jwt" "mask github-token" "mask slack-token" "mask ssn-us" "mask email" "mask iban" \
    "mask password-assignment"

# secrets_absent FILE: no secret of the samples in FILE
secrets_absent() {
    while IFS= read -r sec; do
        grep -qF -- "$sec" "$1" && fail "secret '$sec' leaked into $1"
    done <"$WORK/s/secrets"
    return 0
}

# 1. all at once: the terminal gets exactly the masked text
vrun "$P" -- cat "$WORK/s/in" >"$WORK/o1" 2>"$WORK/e1" || fail "session: $(cat "$WORK/e1")"
cmp -s "$WORK/o1" "$WORK/s/want" || fail "masked output differs: $(diff "$WORK/s/want" "$WORK/o1" | head -20)"
id=$(last_id)
v replay --instant "$id" >"$WORK/r1"
cmp -s "$WORK/r1" "$WORK/s/want" || fail "the recording differs from what the terminal got"
v export "$id" --format asciicast >"$WORK/a1" || fail "export"
v export "$id" --format json >"$WORK/j1" || fail "export json"
v audit --format json --session "$id" >"$WORK/au1"
for f in "$WORK/r1" "$WORK/a1" "$WORK/j1" "$WORK/au1"; do secrets_absent "$f"; done
while IFS= read -r line; do
    grep -qxF -- "$line" "$WORK/o1" || fail "a false positive was masked: '$line'"
done <"$WORK/s/visible"
v sessions --json | python3 -c '
import json, sys
s = [json.loads(l) for l in sys.stdin][-1]
want = dict((l.split()[0], int(l.split()[1])) for l in open(sys.argv[1]))
assert s["masks"] == want, (s["masks"], want)
' "$WORK/s/counts" || fail "masking counts in the metadata"

# 2. one byte per write
"$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- "$DRIP" -c 1 "$WORK/s/in" >"$WORK/o2" 2>&1 ||
    fail "drip session"
cmp -s "$WORK/o2" "$WORK/s/want" || fail "one byte at a time: $(diff "$WORK/s/want" "$WORK/o2" | head)"
secrets_absent "$WORK/o2"
v replay --instant "$(last_id)" | cmp -s - "$WORK/s/want" || fail "one byte at a time: the recording differs"

# 3. a slow drip (two bytes every 30 ms) of a few secrets
grep -E '^(pay 4111|aws_secret|Authorization)' "$WORK/s/in" >"$WORK/s/slow.in"
grep -E '^(pay |aws_secret|Authorization)' "$WORK/s/want" >"$WORK/s/slow.want"
[ "$(wc -l <"$WORK/s/slow.in")" -eq 3 ] && [ "$(wc -l <"$WORK/s/slow.want")" -eq 3 ] || fail "slow drip samples"
vrun "$P" -- "$DRIP" -c 2 -d 30 "$WORK/s/slow.in" >"$WORK/o3" 2>&1 || fail "slow drip session"
cmp -s "$WORK/o3" "$WORK/s/slow.want" || fail "slow drip: $(diff "$WORK/s/slow.want" "$WORK/o3" | head)"

# 4. a card number split at every byte position, with a pause between the halves
line="pay 4111 1111 1111 1111 now"
printf '%s\n' "$line" >"$WORK/s/card.in"
printf 'pay [MASKED:credit-card] now\n' >"$WORK/s/card.want"
pos=1
while [ $pos -le ${#line} ]; do
    vrun "$P" -- "$DRIP" -a $pos -d 120 "$WORK/s/card.in" >"$WORK/o4" 2>&1 || fail "split at $pos: session"
    cmp -s "$WORK/o4" "$WORK/s/card.want" || fail "split at $pos: $(cat "$WORK/o4")"
    pos=$((pos + 1))
done

# 5. a private key over many writes (64 bytes each, 5 ms apart), and byte by byte
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$WORK/s/key.pem" 2>/dev/null || fail "openssl"
{ echo "before"; cat "$WORK/s/key.pem"; echo "after"; } >"$WORK/s/pem.in"
chmod a+r "$WORK/s/pem.in"
printf 'before\n[MASKED:private-key]\nafter\n' >"$WORK/s/pem.want"
sed -n 2p "$WORK/s/key.pem" >"$WORK/s/pem.secret"
for c in 64 1; do
    vrun "$P" -- "$DRIP" -c $c -d $((c == 1 ? 0 : 5)) "$WORK/s/pem.in" >"$WORK/o5" 2>&1 || fail "pem session"
    cmp -s "$WORK/o5" "$WORK/s/pem.want" || fail "pem in writes of $c: $(head -c 300 "$WORK/o5")"
    v replay --instant "$(last_id)" >"$WORK/r5"
    grep -qF -f "$WORK/s/pem.secret" "$WORK/r5" && fail "key material in the recording"
done

# 6. input is masked in the recording (record input=yes)
PI=$WORK/pi
cp "$P" "$PI" && echo "record input=yes" >>"$PI"
printf 'password=hunter2 4111111111111111\n' | vrun "$PI" -- cat >"$WORK/o6" 2>&1 || fail "input session"
[ "$(cat "$WORK/o6")" = "password=[MASKED:password-assignment] [MASKED:credit-card]" ] || fail "input echo: $(cat "$WORK/o6")"
v export "$(last_id)" --format json >"$WORK/j6"
grep -q '"stream":"i"' "$WORK/j6" || fail "no input recorded"
no_secret "$WORK/j6" hunter2 4111111111111111

# 7. binary output passes unchanged (pipe mode), even with a secret in it;
#    the recording keeps it as a digest
head -c 1048576 /dev/urandom >"$WORK/s/bin"
printf '\0pay 4111 1111 1111 1111 now password=hunter2\n' >>"$WORK/s/bin"
chmod a+r "$WORK/s/bin"
vrun "$P" -- cat "$WORK/s/bin" >"$WORK/o7" 2>"$WORK/e7" || fail "binary session: $(cat "$WORK/e7")"
cmp -s "$WORK/o7" "$WORK/s/bin" || fail "binary output was changed"
v replay --instant "$(last_id)" | grep -q "binary output not recorded" || fail "binary not kept as a digest"

# 8. a file transfer (scp's source end) passes a text file unchanged; the
#    recording of it is masked
printf 'pay 4111 1111 1111 1111 now\n' >"$WORK/s/t.txt"
chmod a+r "$WORK/s/t.txt"
printf '\0\0\0\0' | vrun "$P" -- scp -f "$WORK/s/t.txt" >"$WORK/o8" 2>&1
grep -qF "pay 4111 1111 1111 1111 now" "$WORK/o8" || fail "scp -f: the transfer was changed: $(cat -A "$WORK/o8")"
grep -q "^C0644 28 t.txt" "$WORK/o8" || fail "scp -f: no file header: $(cat -A "$WORK/o8")"
v replay --instant "$(last_id)" >"$WORK/r8"
v export "$(last_id)" --format json >"$WORK/j8"
no_secret "$WORK/r8" "4111 1111 1111 1111"
no_secret "$WORK/j8" "4111 1111 1111 1111"
# masked text, or (the file and scp's NUL in one write) a digest of the masked bytes
grep -qF "[MASKED:credit-card]" "$WORK/r8" || grep -q "binary output not recorded" "$WORK/r8" ||
    fail "scp -f: the recording: $(cat -A "$WORK/r8")"
# two files: the NUL after the first must not let the second into the recording
cp "$WORK/s/t.txt" "$WORK/s/u.txt"
printf '\0\0\0\0\0\0\0\0' | vrun "$P" -- scp -f "$WORK/s/t.txt" "$WORK/s/u.txt" >"$WORK/o9" 2>&1
[ "$(grep -c "pay 4111 1111 1111 1111 now" "$WORK/o9")" -eq 2 ] || fail "scp -f, two files: $(cat -A "$WORK/o9")"
v export "$(last_id)" --format json >"$WORK/j9"
no_secret "$WORK/j9" "4111 1111 1111 1111"

v verify >"$WORK/verify" 2>&1 || fail "verify: $(cat "$WORK/verify")"
ok
