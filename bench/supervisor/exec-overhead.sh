#!/bin/sh
# Exec overhead: a shell loop of 3,000 x /bin/true, and make -j2 of a small
# C project (40 files), as a test user:
#   bare        setpriv to the user, nothing else
#   vigil       vigil run --no-pty (notify + exec-event check, policy: default allow)
#   strace      strace -f -e trace=execve (ptrace of every fork/exec/exit)
#   sudo        sudo's own intercept mode (Defaults intercept, intercept_type=trace)
#   base        vigil run with VIGIL_BASE, another vigil binary, when set (an
#               older build: two builds compared in one run)
# Rounds are interleaved; medians and ratios to bare are printed.
# Usage: bench/supervisor/exec-overhead.sh [ROUNDS] [LOOP]
. "$(dirname "$0")/lib.sh"
rounds=${1:-5}
loop=${2:-3000}

uid=$(id -u "$BU"); gid=$(id -g "$BU")
as_user() {
    setpriv --reuid="$uid" --regid="$gid" --init-groups --reset-env "$@"
}

# the C project
proj="$BT/proj"
mkdir -p "$proj"
i=0
while [ $i -lt 40 ]; do
    printf '#include <stdio.h>\nint f%d(int x);\nint f%d(int x) { return x * %d + printf("%%d", x); }\n' $i $i $i > "$proj/f$i.c"
    i=$((i + 1))
done
printf 'int main(void) { return 0; }\n' > "$proj/main.c"
cat > "$proj/Makefile" <<'MK'
SRCS := $(wildcard *.c)
OBJS := $(SRCS:.c=.o)
prog: $(OBJS)
	$(CC) -o $@ $(OBJS)
%.o: %.c
	$(CC) -O1 -c -o $@ $<
clean:
	rm -f $(OBJS) prog
MK
chown -R "$BU" "$proj"

printf '%s ALL=(ALL) NOPASSWD: ALL\nDefaults:root intercept, intercept_type=trace, !log_subcmds, !use_pty\n' "$BU" \
    > "/etc/sudoers.d/vigil-bench-$BU"
chmod 440 "/etc/sudoers.d/vigil-bench-$BU"

LOOP="i=0; while [ \$i -lt $loop ]; do /bin/true; i=\$((i+1)); done"
MAKE="cd $proj && make -s clean && make -s -j2 >/dev/null"

run() { # MODE WORKLOAD -> seconds
    mode=$1
    cmd=$2
    t0=$(now)
    case "$mode" in
        bare) as_user sh -c "$cmd" ;;
        vigil) "$VIGIL" --policy "$BT/policy" --store "$BT/store" run --user "$BU" --no-pty -- sh -c "$cmd" </dev/null ;;
        base) "$VIGIL_BASE" --policy "$BT/policy" --store "$BT/store-base" run --user "$BU" --no-pty -- sh -c "$cmd" </dev/null ;;
        strace) strace -f -qq -o /dev/null -e trace=execve -u "$BU" sh -c "$cmd" ;;
        sudo) sudo -u "$BU" sh -c "$cmd" ;;
    esac >/dev/null 2>&1 || echo "bench: $mode failed" >&2
    t1=$(now)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f\n", b - a }'
}

modes="bare vigil strace sudo"
[ -n "${VIGIL_BASE:-}" ] && { modes="bare vigil base strace sudo"; mkdir -m 0700 "$BT/store-base"; }
for w in loop make; do
    for m in $modes; do : > "$BT/$w.$m"; done
done
r=0
while [ $r -lt "$rounds" ]; do
    for m in $modes; do
        run "$m" "$LOOP" >> "$BT/loop.$m"
        run "$m" "$MAKE" >> "$BT/make.$m"
    done
    r=$((r + 1))
done

echo "exec overhead, $rounds interleaved rounds (medians), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in loop make; do
    bare=$(median < "$BT/$w.bare")
    case $w in
        loop) echo "  $loop x /bin/true from a shell loop:" ;;
        make) echo "  make -j2 of 41 C files:" ;;
    esac
    for m in $modes; do
        t=$(median < "$BT/$w.$m")
        if [ $w = loop ]; then
            awk -v m="$m" -v t="$t" -v b="$bare" -v n="$loop" \
                'BEGIN { printf "    %-7s %7.3f s  %5.2fx  %+6.0f us per exec\n", m, t, t / b, (t - b) * 1000000 / n }'
        else
            awk -v m="$m" -v t="$t" -v b="$bare" 'BEGIN { printf "    %-7s %7.3f s  %5.2fx\n", m, t, t / b }'
        fi
    done
done
