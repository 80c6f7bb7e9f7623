#!/bin/sh
# What starting a session costs: one /bin/true as a test user,
#   bare    setpriv to the user (the anchor)
#   sudo    sudo -u USER /bin/true (a privileged start with PAM and a log)
#   vigil   vigil run --user USER --no-pty -- /bin/true (policy, store,
#           cgroups, watchdog, the exec check, the recording and its seal)
#   base    the same with VIGIL_BASE, another vigil binary, when set (an
#           older build, to compare in the same run)
# and `vigil --version` (loading the binary and its libraries). Rounds are
# interleaved, PAUSE_MS apart (default 500: session starts are not back to
# back, and some kernel state differs when they are); medians in ms.
# Usage: bench/supervisor/start-cost.sh [ROUNDS]
. "$(dirname "$0")/lib.sh"
rounds=${1:-15}
pause=${PAUSE_MS:-500}
uid=$(id -u "$BU"); gid=$(id -g "$BU")
printf '%s ALL=(ALL) NOPASSWD: ALL\n' "$BU" > "/etc/sudoers.d/vigil-bench-$BU"
chmod 440 "/etc/sudoers.d/vigil-bench-$BU"
mkdir -m 0700 "$BT/store-base"
export VIGIL_HOST_KEY="$BT/host.key"

run() { # MODE -> ms
    t0=$(now)
    case "$1" in
        bare) setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env /bin/true ;;
        sudo) sudo -u "$BU" /bin/true ;;
        vigil) "$VIGIL" --policy "$BT/policy" --store "$BT/store" run --user "$BU" --no-pty -- /bin/true </dev/null ;;
        base) "$VIGIL_BASE" --policy "$BT/policy" --store "$BT/store-base" run --user "$BU" --no-pty -- /bin/true </dev/null ;;
        version) "$VIGIL" --version ;;
    esac >/dev/null 2>&1 || echo "bench: $1 failed" >&2
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f\n", (b - a) * 1000 }'
}

modes="bare sudo vigil version"
[ -n "${VIGIL_BASE:-}" ] && modes="bare sudo vigil base version"
for m in $modes; do : > "$BT/t.$m"; done
r=0
while [ "$r" -lt "$rounds" ]; do
    for m in $modes; do
        sleep "$(awk -v p="$pause" 'BEGIN { print p / 1000 }')"
        run "$m" >> "$BT/t.$m"
    done
    r=$((r + 1))
done

echo "session start, $rounds interleaved rounds ${pause} ms apart (medians), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
bare=$(median < "$BT/t.bare")
for m in $modes; do
    med=$(median < "$BT/t.$m")
    case $m in
        bare) what="setpriv USER /bin/true" ;;
        sudo) what="sudo -u USER /bin/true" ;;
        vigil) what="vigil run --user USER --no-pty -- /bin/true" ;;
        base) what="the same, VIGIL_BASE" ;;
        version) what="vigil --version" ;;
    esac
    awk -v m="$med" -v b="$bare" -v w="$what" 'BEGIN { printf "  %-45s %8.1f ms  (+%.1f over bare)\n", w, m, m - b }'
done
