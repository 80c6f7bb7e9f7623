#!/bin/sh
# How soon a session's processes die once its supervisor is SIGKILLed (the
# watchdog's work: issue 3 asks for "within a second"), against the anchor of
# the same processes killed directly:
#   bare    a process group of a test user's shell and three background
#           sleeps, killed with kill -KILL -PGID: what seeing processes die
#           costs at all
#   vigil   the same shell as a vigil session; the supervisor (vigil run)
#           is SIGKILLed, the watchdog notices and kills the session's cgroup
# Each round measures from the kill until no process of the user is left but
# zombies (a /proc scan every 0.2 ms). Rounds interleaved; medians in ms.
# Usage: bench/supervisor/watchdog.sh [ROUNDS]
. "$(dirname "$0")/lib.sh"
rounds=${1:-15}
uid=$(id -u "$BU"); gid=$(id -g "$BU")
export VIGIL_HOST_KEY="$BT/host.key"
script='sleep 1000 & sleep 1000 & sleep 1000 & echo up; wait'

# kill_and_time PID PGID_OR_EMPTY -> ms from the SIGKILL to no live process of uid
kill_and_time() {
    python3 - "$uid" "$1" "$2" <<'EOF'
import os, signal, sys, time
uid, pid, pgid = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]

def live():
    n = 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            if os.stat("/proc/" + p).st_uid != uid:
                continue
            with open("/proc/%s/stat" % p) as f:
                if f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X"):
                    n += 1
        except (OSError, IndexError):
            pass
    return n

t0 = time.monotonic()
if pgid:
    os.killpg(int(pgid), signal.SIGKILL)
else:
    os.kill(pid, signal.SIGKILL)
while live() > 0:
    if time.monotonic() - t0 > 30:
        print("bench: processes alive 30 s after the kill", file=sys.stderr)
        sys.exit(1)
    time.sleep(0.0002)
print("%.3f" % ((time.monotonic() - t0) * 1000))
EOF
}

# wait_up FILE: the session printed "up" and its three sleeps run
wait_up() {
    i=0
    until grep -qx up "$1" 2>/dev/null && [ "$(pgrep -c -u "$BU" -x sleep)" -eq 3 ]; do
        i=$((i + 1))
        [ $i -lt 1000 ] || { echo "bench: the session did not start" >&2; exit 1; }
        sleep 0.01
    done
}

: > "$BT/t.bare"; : > "$BT/t.vigil"
r=0
while [ "$r" -lt "$rounds" ]; do
    # alternate which mode goes first
    if [ $((r % 2)) -eq 0 ]; then order="bare vigil"; else order="vigil bare"; fi
    for m in $order; do
        : > "$BT/up"
        if [ "$m" = bare ]; then
            setsid setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env /bin/sh -c "$script" \
                >"$BT/up" 2>/dev/null </dev/null &
            p=$!
            wait_up "$BT/up"
            kill_and_time "$p" "$p" >> "$BT/t.bare" || exit 1
        else
            "$VIGIL" --policy "$BT/policy" --store "$BT/store" run --user "$BU" --no-pty -- /bin/sh -c "$script" \
                >"$BT/up" 2>/dev/null </dev/null &
            p=$!
            wait_up "$BT/up"
            kill_and_time "$p" "" >> "$BT/t.vigil" || exit 1
        fi
        wait "$p" 2>/dev/null
        sleep 0.3
    done
    r=$((r + 1))
done

bare=$(median < "$BT/t.bare")
vig=$(median < "$BT/t.vigil")
worst=$(sort -g "$BT/t.vigil" | tail -n 1)
echo "processes dead after a SIGKILL, $rounds interleaved rounds (medians), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v m="$bare" 'BEGIN { printf "  %-50s %8.1f ms\n", "bare: kill -KILL of the process group", m }'
awk -v m="$vig" -v b="$bare" -v w="$worst" \
    'BEGIN { printf "  %-50s %8.1f ms  (%.1fx bare; worst %.1f ms)\n", "vigil: SIGKILL to the supervisor, the watchdog", m, m / b, w }'
