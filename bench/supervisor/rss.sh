#!/bin/sh
# Supervisor memory: resident size of the supervising vigil process with an
# idle session, and with 1,000 processes in the session (each one a running
# command the supervisor follows with a pidfd and an event).
# Usage: bench/supervisor/rss.sh [PROCS]
. "$(dirname "$0")/lib.sh"
n=${1:-1000}

rss_of() { # PID -> VmRSS in kB
    awk '/^VmRSS:/ {print $2}' "/proc/$1/status"
}

# the supervisor is the vigil process whose parent is this shell's child
start() { # CMD
    "$VIGIL" --policy "$BT/policy" --store "$BT/store" run --user "$BU" --no-pty -- sh -c "$1" \
        </dev/null >/dev/null 2>&1 &
    echo $!
}

vp=$(start "sleep 30")
sleep 2
idle=$(rss_of "$vp")
kill -TERM "$vp"
wait "$vp" 2>/dev/null

vp=$(start "i=0; while [ \$i -lt $n ]; do sleep 60 & i=\$((i+1)); done; touch $BT/home/started; wait")
while [ ! -e "$BT/home/started" ]; do sleep 0.2; done
sleep 2
busy=$(rss_of "$vp")
procs=$(pgrep -c -u "$BU")
fds=$(ls "/proc/$vp/fd" | wc -l)
kill -TERM "$vp"
wait "$vp" 2>/dev/null

echo "supervisor resident size (VmRSS), load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '  idle session:              %6d kB\n' "$idle"
printf '  %d processes in session: %6d kB  (%d fds open)\n' "$procs" "$busy" "$fds"
