#!/bin/sh
# The PAM stack analysis, case by case: each pam-cases/*.pam becomes the
# fixture's /etc/pam.d/sshd auth stack, and its "# expect:" lines are the
# exact set of findings (substrings of their messages), or "clean".
set -eu
. "$VIGIL_SOURCE_ROOT/tests/doctor/lib.sh"
cases=$VIGIL_SOURCE_ROOT/tests/doctor/pam-cases

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

n=0
for case in "$cases"/*.pam; do
    name=$(basename "$case" .pam)
    r=$tmp/$name
    make_clean_root "$r"
    cp "$cases"/include/* "$r/etc/pam.d/"
    cp "$case" "$r/etc/pam.d/sshd"
    # The other types are not what these cases are about.
    printf '%s\n' "account required pam_vigil.so" "session required pam_vigil.so" >>"$r/etc/pam.d/sshd"
    doctor "$r" --only pam
    got=$(check_json)
    want=$(grep -c '^# expect: ' "$case")
    if grep -q '^# expect: clean$' "$case"; then
        want=0
    fi
    [ "$got" -eq "$want" ] || fail "$name: $got findings, expected $want: $out"
    if [ "$want" -eq 0 ]; then
        [ "$rc" -eq 0 ] || fail "$name: exit $rc with no findings"
    else
        [ "$rc" -eq 1 ] || fail "$name: exit $rc with findings"
        grep '^# expect: ' "$case" | sed 's/^# expect: //' | while IFS= read -r sub; do
            printf '%s\n' "$out" | grep -qF -- "$sub" || fail "$name: no finding with '$sub' in: $out"
        done
    fi
    n=$((n + 1))
done
[ "$n" -ge 19 ] || fail "only $n PAM cases ran"
echo "ok: $n PAM cases"
