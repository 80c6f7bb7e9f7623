#!/bin/sh
# sudo inside a session: it still gains root (no no_new_privs, the tracer
# is root), what it runs is still judged, with runas=root, and the
# per-session process bound holds for root too.
. "$(dirname "$0")/lib-session.sh"
cd "$TMPD/w" || fail "cd"
allow_sudo

P="$TMPD/p.policy"
policy "$P" 'default allow
deny exe=/usr/bin/whoami runas=root message="not as root"'

out=$(vrun "$P" --events "$EV" -- sh -c 'whoami; sudo -n id -u; sudo -n whoami; echo "rc=$?"' 2>"$TMPD/err") ||
    fail "session exit $?"
[ "$out" = "$TU
0
rc=1" ] || fail "sudo session: '$out' / $(cat "$TMPD/err")"
grep -q "vigil: denied: whoami ($P:2: not as root)" "$TMPD/err" || fail "no denial line: $(cat "$TMPD/err")"
events_py "
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
tu = '$TU'
w = [e for e in ev if e['exe'] == '/usr/bin/whoami']
assert [(e['runas'], e['decision']) for e in w] == [(tu, 'allow'), ('root', 'deny')], w
s = [e for e in ev if e['exe'] == '/usr/bin/sudo']
assert len(s) == 2 and all(e['runas'] == 'root' and e['user'] == tu for e in s), s
i = [e for e in ev if e['exe'] == '/usr/bin/id'][0]
assert i['runas'] == 'root' and i['exit'] == 0 and i['decision'] == 'allow', i
" || fail "sudo events"

# sudo -u another account: runas follows
out=$(vrun "$P" --events "$EV" -- sudo -n -u nobody id -un 2>&1) || fail "sudo -u exit $?"
[ "$out" = "nobody" ] || fail "sudo -u nobody: '$out'"

# root may chroot inside a session: what runs in the chroot is judged by
# the file it really is (a bind mount of /usr here), and the process's root
# is where its paths are resolved
mkdir -p "$TMPD/jail/usr" "$TMPD/jail/tmp"
mount --bind /usr "$TMPD/jail/usr" || fail "bind mount"
echo "$TMPD/jail/usr" > "$TMPD/umount"
for l in bin lib lib64 sbin; do [ -e "/usr/$l" ] && ln -s "usr/$l" "$TMPD/jail/$l"; done
policy "$P" 'default allow
deny exe=**/whoami'
out=$(vrun "$P" --events "$EV" -- sudo -n chroot "$TMPD/jail" /bin/sh -c 'id -u; whoami; echo "rc=$?"; cd /usr/bin && ./whoami; echo "rc=$?"' 2>"$TMPD/err")
st=$?
umount "$TMPD/jail/usr" && rm -f "$TMPD/umount"
[ "$st" -eq 0 ] || fail "chroot session exit $st: $(cat "$TMPD/err")"
[ "$out" = "0
rc=126
rc=126" ] || fail "chroot: '$out' / $(cat "$TMPD/err")"
grep -q "vigil: denied: whoami (" "$TMPD/err" || fail "no denial in the chroot: $(cat "$TMPD/err")"
events_py "
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
i = [e for e in ev if e['argv'] == ['id', '-u']][-1]
assert i['exe'].endswith('/jail/usr/bin/id') and i['runas'] == 'root' and i['decision'] == 'allow', i
" || fail "chroot events"
policy "$P" 'default allow
deny exe=/usr/bin/whoami runas=root message="not as root"'

# a process bound that RLIMIT_NPROC could not give: a fork bomb as root
bomb=$(helper helper-forkbomb)
vrun "$P" -- sudo -n "$bomb" 60 >"$TMPD/bomb.out" 2>"$TMPD/bomb.err"; st=$?
[ "$st" -eq 0 ] || fail "root fork bomb session exit $st: $(tail -c 2000 "$TMPD/bomb.err")"
out=$(cat "$TMPD/bomb.out")
echo "root fork bomb: $out"
case "$out" in "bomb-done current="*" max=2048 refused="[1-9]*) ;; *) fail "root fork bomb not bounded at 2048: '$out'" ;; esac
[ "$(alive_count "$TU")" -eq 0 ] || fail "processes of $TU left"
ok
