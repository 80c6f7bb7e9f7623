#!/bin/sh
# What runs is what was judged: the exec race, scripts and their
# interpreters, the dynamic loader run as a command, fileless execs, foreign
# system call ABIs, and the namespace calls the filter refuses.
. "$(dirname "$0")/lib-session.sh"
cd "$TMPD/w" || fail "cd"

P="$TMPD/p.policy"

# -- the exec race: a second thread rewrites the path during execve,
# thousands of times; /usr/bin/echo (the same length as /usr/bin/true) is
# denied and must never run
race=$(helper helper-race)
policy "$P" 'default allow
deny exe=/usr/bin/echo'
n=${VIGIL_RACE_ITERATIONS:-3000}
out=$(vrun "$P" --events "$EV" -- "$race" "$n" /usr/bin/true /usr/bin/echo 2>"$TMPD/err") || fail "race session exit $?"
case "$out" in *DENIED-PROGRAM-RAN*) fail "the denied program ran: $out" ;; esac
summary=$(echo "$out" | grep '^ran=') || fail "no race summary: $out"
echo "race: $summary"
eval "$(echo "$summary" | tr ' ' ';')"
[ "$other" -eq 0 ] || fail "unexpected outcomes: $summary"
[ $((ran + denied + killed + missing)) -eq "$n" ] || fail "outcomes do not add up: $summary"
[ "$ran" -gt 0 ] && [ "$denied" -gt 0 ] || fail "the race was not exercised both ways: $summary"
# every kill is an event and a line
if [ "$killed" -gt 0 ]; then
    k=$(events_py 'import json,sys; print(sum(1 for l in open(sys.argv[1]) if json.loads(l)["decision"] == "killed"))')
    [ "$k" -eq "$killed" ] || fail "$killed killed, $k killed events"
    grep -q "vigil: killed: x DENIED-PROGRAM-RAN (the file executed is not the one that was allowed)" "$TMPD/err" ||
        fail "no killed line"
fi

# -- an execve interrupted by signals (a timer every 50 us) and restarted is
# one request: one verdict, one line, one event. (A handler without
# SA_RESTART, as Python's, sees EINTR when the signal comes before the
# supervisor picked the request up; Python then retries, as programs do.)
policy "$P" 'default allow
deny exe=/usr/bin/whoami'
rm -f "$EV"
for prog in whoami id; do
    vrun "$P" --events "$EV" -- python3 -c "
import os, signal
signal.signal(signal.SIGALRM, lambda s, f: None)
signal.setitimer(signal.ITIMER_REAL, 0.00005, 0.00005)
while True:
    try:
        os.execv('/usr/bin/$prog', ['$prog', '-u'] if '$prog' == 'id' else ['$prog'])
    except InterruptedError:
        continue
    except OSError as e:
        print('exec failed', e.errno)
    break
" >"$TMPD/out" 2>"$TMPD/err"
done

events_py '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
w = [e for e in ev if e["exe"] == "/usr/bin/whoami"]
i = [e for e in ev if e["exe"] == "/usr/bin/id"]
assert len(w) == 1 and w[0]["decision"] == "deny", w
# the timer outlives the exec and kills id (no handler there) unless it is quick
assert len(i) == 1 and i[0]["decision"] == "allow" and i[0]["exit"] in (0, "SIGALRM"), i
' || fail "interrupted execs: $(cat "$EV")"

# -- scripts: the script and its interpreter are both judged
printf '#!/bin/sh\necho script-ran "$@"\n' > "$TMPD/w/s.sh"
printf '#!/usr/bin/perl\nprint "perl-ran\\n";\n' > "$TMPD/w/p.pl"
printf '#!/bin/sh\necho never\n' > "$TMPD/w/denied.sh"
chmod 755 "$TMPD/w/s.sh" "$TMPD/w/p.pl" "$TMPD/w/denied.sh"
policy "$P" "default allow
deny exe=/usr/bin/perl*
deny exe=$TMPD/w/denied.sh"
rm -f "$EV"
out=$(vrun "$P" --events "$EV" -- sh -c './s.sh a "b c"; ./p.pl; echo rc=$?; ./denied.sh; echo rc=$?' 2>"$TMPD/err") ||
    fail "scripts exit $?"
[ "$out" = "script-ran a b c
rc=126
rc=126" ] || fail "scripts: '$out'"
grep -q "vigil: denied: ./p.pl ($P:2)" "$TMPD/err" || fail "interpreter denial line: $(cat "$TMPD/err")"
grep -q "vigil: denied: ./denied.sh ($P:3)" "$TMPD/err" || fail "script denial line: $(cat "$TMPD/err")"
events_py '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
s = [e for e in ev if e["argv"][0] == "./s.sh"][0]
assert s["decision"] == "allow" and s["exe"].endswith("/w/s.sh") and s["argv"] == ["./s.sh", "a", "b c"], s
p = [e for e in ev if e["argv"][0] == "./p.pl"][0]
assert p["decision"] == "deny" and p["exe"].endswith("/w/p.pl"), p
' || fail "script events"

# -- the dynamic loader run as a command is judged as itself and as PROG
LD=/lib64/ld-linux-x86-64.so.2
[ -x "$LD" ] || fail "no $LD"
policy "$P" 'default deny
allow exe=/usr/bin/dash
allow exe=/usr/bin/id
allow exe=/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2
allow exe=/usr/lib64/ld-linux-x86-64.so.2
allow exe=/lib64/ld-linux-x86-64.so.2'
out=$(vrun "$P" -- sh -c "$LD /usr/bin/id -u; $LD --argv0 zz /usr/bin/id -u; $LD /usr/bin/whoami; echo rc=\$?; $LD --preload /nonexistent.so /usr/bin/env; echo rc=\$?" 2>"$TMPD/err") ||
    fail "ld.so session exit $?"
[ "$out" = "$(id -u "$TU")
$(id -u "$TU")
rc=126
rc=126" ] || fail "ld.so: '$out' / $(cat "$TMPD/err")"
grep -q "vigil: denied: $LD /usr/bin/whoami (default)" "$TMPD/err" || fail "ld.so denial: $(cat "$TMPD/err")"
# a loader whose program is swapped after the check maps another file: killed.
# prog is a symlink that a thread flips between /usr/bin/id (allowed) and
# /usr/bin/whoami (denied); whoami must never run
mkdir -p "$TMPD/w/swap" && chown "$TU" "$TMPD/w/swap"
policy "$P" "default allow
deny exe=/usr/bin/whoami"
out=$(vrun "$P" -- python3 -c "
import os, subprocess, threading
d = '$TMPD/w/swap'
os.symlink('/usr/bin/id', d + '/prog')
os.symlink('/usr/bin/id', d + '/to-id')
os.symlink('/usr/bin/whoami', d + '/to-whoami')
def flip():
    while True:
        for t in ('whoami', 'id'):
            os.symlink('/usr/bin/' + t, d + '/new')
            os.replace(d + '/new', d + '/prog')
threading.Thread(target=flip, daemon=True).start()
n = {'id': 0, 'whoami': 0, 'other': 0}
for i in range(300):
    try:
        o = subprocess.run(['$LD', d + '/prog'], capture_output=True, text=True).stdout.strip()
    except OSError:
        o = 'denied'
    n['id' if o.startswith('uid=') else 'whoami' if o == '$TU' else 'other'] += 1
print('id=%d whoami=%d other=%d' % (n['id'], n['whoami'], n['other']))
" 2>"$TMPD/err") || fail "loader swap session exit $?"
echo "loader swap: $out"
case "$out" in *whoami=0*) ;; *) fail "a swapped-in denied program ran under the loader: $out" ;; esac
case "$out" in id=0*) fail "the allowed program never ran: $out" ;; esac

# -- fileless: a memfd or a deleted file never matches an exe= allow rule
policy "$P" 'default deny
allow exe=/usr/bin/python3*
allow exe=/usr/bin/id'
out=$(vrun "$P" -- /usr/bin/python3 -c '
import os, shutil
fd = os.memfd_create("x")
os.write(fd, open("/usr/bin/id", "rb").read())
try:
    os.execve(fd, ["id"], {})
except OSError as e:
    print("memfd:", e.errno)
' 2>"$TMPD/err") || fail "memfd session exit $?"
[ "$out" = "memfd: 1" ] || fail "memfd exec: '$out'"
grep -q "vigil: denied: id (default)" "$TMPD/err" || fail "memfd denial line: $(cat "$TMPD/err")"
cp /usr/bin/id "$TMPD/w/gone" && chown "$TU" "$TMPD/w/gone"
out=$(vrun "$P" -- /usr/bin/python3 -c "
import os
fd = os.open('$TMPD/w/gone', os.O_RDONLY)
os.unlink('$TMPD/w/gone')
try:
    os.execve('/proc/self/fd/%d' % fd, ['gone'], {})
except OSError as e:
    print('deleted:', e.errno)
" 2>/dev/null) || fail "deleted-file session exit $?"
[ "$out" = "deleted: 1" ] || fail "deleted file exec: '$out'"
# with default allow it runs, and the event says exe null
policy "$P" 'default allow'
rm -f "$EV"
out=$(vrun "$P" --events "$EV" -- /usr/bin/python3 -c '
import os
fd = os.memfd_create("x")
os.write(fd, open("/usr/bin/id", "rb").read())
os.execve(fd, ["id", "-u"], {})
') || fail "memfd allowed: exit $?"
[ "$out" = "$(id -u "$TU")" ] || fail "memfd allowed: '$out'"
events_py '
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
m = [e for e in ev if e["argv"] == ["id", "-u"]][0]
assert m["exe"] is None and m["decision"] == "allow" and m["exit"] == 0, m
' || fail "memfd event"

# -- foreign system call ABIs are killed (SIGSYS), before the call runs
i80=$(helper helper-int80)
policy "$P" 'default allow'
for abi in i386 x32 i386-getpid; do
    out=$(vrun "$P" -- "$i80" "$abi" 2>&1); st=$?
    [ "$st" -eq 159 ] || fail "$abi: exit $st ($out), expected 159 (SIGSYS)"
    case "$out" in *FOREIGN-ABI-EXEC-RAN*|*returned*) fail "$abi call ran: $out" ;; esac
done

# -- user namespaces: clone, unshare and setns refused; clone3 is ENOSYS
out=$(vrun "$P" -- /usr/bin/python3 -c '
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def call(nr, *a):
    r = libc.syscall(nr, *a)
    return 0 if r >= 0 else ctypes.get_errno()
CLONE_NEWUSER = 0x10000000
CLONE_NEWNS = 0x00020000
print("unshare", call(272, CLONE_NEWUSER), call(272, CLONE_NEWUSER | CLONE_NEWNS))
print("clone", call(56, CLONE_NEWUSER | 17, 0, 0, 0, 0), call(56, CLONE_NEWUSER | CLONE_NEWNS | 17, 0, 0, 0, 0))
fd = os.open("/proc/1/ns/user", os.O_RDONLY) if os.access("/proc/1/ns/user", os.R_OK) else os.open("/proc/self/ns/user", os.O_RDONLY)
print("setns", call(308, fd, CLONE_NEWUSER), call(308, fd, 0))
print("clone3", call(435, 0, 0))
') || fail "namespace session exit $?"
[ "$out" = "unshare 1 1
clone 1 1
setns 1 1
clone3 38" ] || fail "namespace calls: '$out'"
out=$(vrun "$P" -- unshare -Ur true 2>&1); st=$?
[ "$st" -ne 0 ] || fail "unshare -Ur succeeded"
ok
