# Shared by the supervisor benchmarks (sourced): a throwaway bench user, a
# permissive policy, cleanup on exit. VIGIL is the vigil binary (default:
# build/tools/vigil of this tree).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
VIGIL=${VIGIL:-$top/build/tools/vigil}
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 1; }
[ -x "$VIGIL" ] || { echo "no vigil at $VIGIL (meson compile -C build)" >&2; exit 1; }

BU="vb$$"
BT=$(mktemp -d /tmp/vigil-bench.XXXXXX)
chmod 755 "$BT"
bench_cleanup() {
    pkill -KILL -u "$BU" 2>/dev/null
    sleep 0.2
    userdel -f -r "$BU" >/dev/null 2>&1
    rm -f "/etc/sudoers.d/vigil-bench-$BU"
    rm -rf "$BT"
}
trap bench_cleanup EXIT
trap 'exit 1' INT TERM HUP
useradd -m -d "$BT/home" -s /bin/sh "$BU" || exit 1
printf 'default allow\n' > "$BT/policy"
mkdir -m 0700 "$BT/store"

# median of the numbers on stdin
median() {
    sort -g | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}

# now in seconds, with nanoseconds
now() {
    date +%s.%N
}
