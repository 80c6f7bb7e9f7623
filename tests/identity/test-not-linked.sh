#!/bin/sh
# libcurl is loaded at the first HTTPS request (identity/libcurl.c), not
# linked: none of the programs and modules that may make a request has it,
# or any library it alone brings, among its NEEDED entries. Starting them
# would otherwise map ~28 more libraries (~7 ms at every `vigil` start, and
# in sudo and sshd through the PAM module).
set -u
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
n=0
for f in "$VIGIL" "$VIGILD" "$PAM_VIGIL_SO"; do
    [ -f "$f" ] || fail "no $f"
    needed=$(readelf -d "$f" | awk '/\(NEEDED\)/ { print $NF }')
    [ -n "$needed" ] || fail "readelf found no NEEDED entry in $f"
    case $needed in *curl* | *gnutls* | *ldap* | *krb5* | *ssh2* | *rtmp*)
        fail "$f is linked with: $(echo "$needed" | tr '\n' ' ')" ;;
    esac
    n=$((n + 1))
done
echo "ok: $n binaries without libcurl among their NEEDED entries"
