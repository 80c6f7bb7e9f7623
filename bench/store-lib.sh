# Shared by the store benchmarks: the build to use, a private work dir.
# Usage of every store bench: bench/store-X.sh [BUILD_DIR]   (default: build)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$top/build}
case "$build" in /*) ;; *) build=$top/$build ;; esac
VIGIL=$build/tools/vigil
WRITER=$build/tests/store/store-writer
[ -x "$VIGIL" ] && [ -x "$WRITER" ] || { echo "build vigil first: meson compile -C $build" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "run as root (the store is root's)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/vigil-bench.XXXXXX)
chmod 700 "$WORK"
export VIGIL_HOST_KEY=$WORK/host.key
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT INT TERM

# median of the numbers on stdin
median() {
    sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'
}
# now in ms (monotonic enough for timing a command)
ms() {
    date +%s%3N
}
