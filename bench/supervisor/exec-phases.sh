#!/bin/sh
# Where an exec's time goes: a shell loop of /bin/true, bare and under
# vigil run, traced with the scheduler's tracepoints (perf record -a), and
# each iteration cut into four phases, averaged:
#   fork->enter_execve   the notification and its answer (bare: nothing)
#   enter_execve->exec   the kernel's exec (seccomp runs before the
#                        sys_enter tracepoint, so vigil's handling is not here)
#   exec->exit           the program, and vigil's exec stop
#   exit->fork           the shell's wait and its next fork
# Needs perf (apt-get install linux-perf). Usage: exec-phases.sh [LOOP]
. "$(dirname "$0")/lib.sh"
loop=${1:-2000}
command -v perf >/dev/null || { echo "needs perf (linux-perf)" >&2; exit 1; }
uid=$(id -u "$BU"); gid=$(id -g "$BU")
LOOP="i=0; while [ \$i -lt $loop ]; do /bin/true; i=\$((i+1)); done"
EV="-e syscalls:sys_enter_execve -e sched:sched_process_exec -e sched:sched_process_fork -e sched:sched_process_exit"

phases() {
    perf script -i "$1" -F comm,pid,time,event,trace 2>/dev/null | awk '
    { t = $3 + 0; ev = $4 }
    ev ~ /sched_process_fork/ && $1 == "sh" {
        match($0, /child_pid=[0-9]+/); c = substr($0, RSTART + 10, RLENGTH - 10); fork[c] = t
        if (last) { ph["4 exit->fork"] += t - last; n["4 exit->fork"]++ } }
    ev ~ /sys_enter_execve/ && ($2 in fork) { ee[$2] = t; ph["1 fork->enter_execve"] += t - fork[$2]; n["1 fork->enter_execve"]++ }
    ev ~ /sched_process_exec/ && ($2 in ee) { ex[$2] = t; ph["2 enter_execve->exec"] += t - ee[$2]; n["2 enter_execve->exec"]++ }
    ev ~ /sched_process_exit/ && ($2 in ex) { ph["3 exec->exit"] += t - ex[$2]; n["3 exec->exit"]++; last = t
        delete fork[$2]; delete ee[$2]; delete ex[$2] }
    END {
        split("1 fork->enter_execve|2 enter_execve->exec|3 exec->exit|4 exit->fork", order, "|")
        for (i = 1; i <= 4; i++) {
            k = order[i]
            if (n[k]) printf "    %-22s %7.1f us  (n=%d)\n", substr(k, 3), ph[k] / n[k] * 1e6, n[k]
        }
    }'
}

echo "exec phases, $loop x /bin/true from a shell loop, load $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in bare vigil; do
    case "$mode" in
        bare) perf record -q -a $EV -o "$BT/perf.data" -- \
                  setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env sh -c "$LOOP" ;;
        vigil) perf record -q -a $EV -o "$BT/perf.data" -- \
                   "$VIGIL" --policy "$BT/policy" --store "$BT/store" run --user "$BU" --no-pty -- sh -c "$LOOP" </dev/null ;;
    esac >/dev/null 2>&1 || echo "bench: $mode failed" >&2
    echo "  $mode"
    phases "$BT/perf.data"
done
