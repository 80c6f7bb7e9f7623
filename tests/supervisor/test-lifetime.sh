#!/bin/sh
# A session's processes end with it: background jobs, nohup, setsid, double
# forks and stopped jobs; a fork bomb is bounded and the supervisor survives
# it; when the supervisor is SIGKILLed, nothing further runs and every
# process of the session dies (the time it took is printed: within a second
# is the design, measured under 100 ms; the test's bound is a hang guard).
. "$(dirname "$0")/lib-session.sh"
cd "$TMPD/w" || fail "cd"

P="$TMPD/p.policy"
policy "$P" 'default allow'

# -- what a command leaves behind is killed and reaped when it exits
out=$(vrun "$P" -- sh -c '
sleep 1001 &
nohup sleep 1002 >/dev/null 2>&1 &
setsid sleep 1003 &
(sleep 1004 & ) &
sh -c "sleep 1005 & kill -STOP \$!" &
sleep 0.3
echo started' 2>&1) || fail "session exit $?"
[ "$out" = "started" ] || fail "output: '$out'"
n=$(alive_count "$TU")
[ "$n" -eq 0 ] || fail "$n processes of $TU outlived the session: $(pgrep -a -u "$TU")"

# -- a fork bomb: bounded by the session's pids limit, the supervisor survives
bomb=$(helper helper-forkbomb)
vrun "$P" -- "$bomb" 60 >"$TMPD/bomb.out" 2>"$TMPD/bomb.err"; st=$?
[ "$st" -eq 0 ] || fail "fork bomb session exit $st: $(tail -c 2000 "$TMPD/bomb.err")"
out=$(cat "$TMPD/bomb.out")
echo "fork bomb: $out"
case "$out" in "bomb-done current="*" max=2048 refused="[1-9]*) ;; *) fail "fork bomb not bounded at 2048: '$out'" ;; esac
set -- $(echo "$out" | tr '=' ' ')
[ "$3" -le 2048 ] || fail "more tasks than the bound: $out"
[ "$(alive_count "$TU")" -eq 0 ] || fail "bomb processes left"

# -- a host without the pids controller: the supervisor counts the session's
# processes itself and ends a session that passes the bound. Here the pids
# hierarchy is a cgroup v1 mount, so a private mount namespace without it is
# such a host for the supervisor started inside it.
if awk '$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { found = 1 } END { exit !found }' /proc/self/mountinfo; then
    unshare -m --propagation private sh -c '
        awk '\''$9 == "cgroup" && $NF ~ /(^|,)pids(,|$)/ { print $5 }'\'' /proc/self/mountinfo |
            while read -r m; do umount "$m" || exit 1; done
        ! grep -q " - cgroup .*pids" /proc/self/mountinfo || exit 1
        exec "$@"' sh "$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- "$bomb" 20 \
        >"$TMPD/bomb2.out" 2>"$TMPD/bomb2.err"; st=$?
    echo "fork bomb without a pids controller: exit $st, $(cat "$TMPD/bomb2.err")"
    [ "$st" -eq 137 ] || fail "uncounted fork bomb: exit $st: $(tail -c 2000 "$TMPD/bomb2.err")"
    grep -q "^vigil: the session has more than 2048 processes; ending it" "$TMPD/bomb2.err" ||
        fail "uncounted fork bomb: no message: $(tail -c 2000 "$TMPD/bomb2.err")"
    [ -s "$TMPD/bomb2.out" ] && fail "the bomb ran to its end: $(cat "$TMPD/bomb2.out")"
    [ "$(alive_count "$TU")" -eq 0 ] || fail "uncounted bomb processes left"
else
    # a cgroup v2 host: its pids controller cannot be hidden from one process
    echo "the pids controller is not a v1 mount here: the counting fallback is tested by hosts that have one"
fi

# -- the watchdog is killed (root only): the supervisor ends the session (125)
"$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- sleep 1000 >/dev/null 2>"$TMPD/wd.err" &
vp=$!
wd=""
i=0
while [ -z "$wd" ] && [ $i -lt 600 ]; do
    sleep 0.05
    for c in $(pgrep -P "$vp"); do
        [ "$(cat "/proc/$c/comm" 2>/dev/null)" = vigil-watchdog ] && wd=$c
    done
    i=$((i + 1))
done
[ -n "$wd" ] || fail "no watchdog found under vigil $vp"
kill -KILL "$wd"
wait $vp; st=$?
[ "$st" -eq 125 ] || fail "watchdog killed: vigil exit $st"
grep -q "vigil: the watchdog died" "$TMPD/wd.err" || fail "watchdog killed: message '$(cat "$TMPD/wd.err")'"
[ "$(alive_count "$TU")" -eq 0 ] || fail "processes left after the watchdog died"

# -- the supervisor is SIGKILLed: the watchdog kills the session within a
# second, and a process that left the session's cgroup (root can, through
# sudo) cannot run anything any more: its execs fail
allow_sudo
cat > "$TMPD/w/escape.py" <<'PY'
import os, subprocess, sys, time
# leave the session's cgroups (root only), then try to run a program every 20 ms
for f in sys.argv[2:]:
    open(f, "w").write(str(os.getpid()))
open(sys.argv[1] + ".pid", "w").write(str(os.getpid()))
log = open(sys.argv[1], "a", buffering=1)
while True:
    try:
        subprocess.run(["/bin/true"], check=True)
        log.write("ran\n")
    except OSError as e:
        log.write("failed %d\n" % e.errno)
    except subprocess.CalledProcessError as e:
        log.write("died %d\n" % e.returncode)  # killed with its tracer
    time.sleep(0.02)
PY
procs=""
for d in /sys/fs/cgroup/unified /sys/fs/cgroup /sys/fs/cgroup/pids /sys/fs/cgroup/freezer; do
    [ -f "$d/cgroup.procs" ] && procs="$procs $d/cgroup.procs"
done
"$VIGIL" --policy "$P" --store "$STORE" run --user "$TU" --no-pty -- \
    sh -c "sudo -n python3 $TMPD/w/escape.py $TMPD/w/escape.log $procs & sleep 1000 & while :; do sleep 0.05; done" \
    >/dev/null 2>&1 &
vp=$!   # vigil itself
i=0
while [ ! -s "$TMPD/w/escape.log" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$TMPD/w/escape.log" ] || fail "the escaping process did not start"
epid=$(cat "$TMPD/w/escape.log.pid")
echo "$epid" >> "$TMPD/root-pids"
grep -q '^ran$' "$TMPD/w/escape.log" || fail "the escaping process could not run programs before"
[ "$(alive_count "$TU")" -ge 2 ] || fail "session not running"
kill -KILL $vp
t0=$(date +%s%N)
while [ "$(alive_count "$TU")" -gt 0 ]; do
    # a hang guard, not a speed check (the time is printed below)
    [ $(( ($(date +%s%N) - t0) / 1000000 )) -lt 10000 ] ||
        fail "processes of $TU alive 10 s after the supervisor died: $(pgrep -a -u "$TU")"
    sleep 0.01
done
echo "session dead $(( ($(date +%s%N) - t0) / 1000000 )) ms after the supervisor"
n0=$(wc -l < "$TMPD/w/escape.log")
wait $vp 2>/dev/null
# the process outside the cgroup lives on, but runs nothing: it tries one
# program at a time, so of the lines it writes from now on only the first
# can be one that ran (approved before the kill); and once an exec failed
# for want of the supervisor (ENOSYS), every later one fails so
kill -0 "$epid" 2>/dev/null || fail "the escaped process is gone (the test expects it alive)"
i=0
until grep -q '^failed 38$' "$TMPD/w/escape.log"; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "no exec failed after the supervisor died: $(tail -n 3 "$TMPD/w/escape.log")"
    sleep 0.05
done
first=$(grep -n '^failed 38$' "$TMPD/w/escape.log" | head -n 1 | cut -d: -f1)
i=0
while [ "$(wc -l < "$TMPD/w/escape.log")" -lt $((first + 10)) ]; do
    i=$((i + 1))
    [ $i -lt 600 ] || fail "the escaped process stopped trying: $(tail -n 3 "$TMPD/w/escape.log")"
    sleep 0.05
done
tail -n +"$((n0 + 2))" "$TMPD/w/escape.log" | grep -q '^ran$' &&
    fail "a program ran after the supervisor died: $(tail -n +"$((n0 + 1))" "$TMPD/w/escape.log" | tr '\n' ' ')"
tail -n +"$first" "$TMPD/w/escape.log" | grep -qv '^failed 38$' &&
    fail "execs after the supervisor died: $(tail -n +"$first" "$TMPD/w/escape.log" | sort | uniq -c | tr '\n' ' ')"
kill -KILL "$epid"
ok
