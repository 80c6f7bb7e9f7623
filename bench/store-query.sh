#!/bin/sh
# `vigil sessions --user U --since 1d` over a store of 100,000 sessions
# (10 users, spread over 30 days), and the `vigil audit` export rate.
# The store is built on a tmpfs (/dev/shm) so that 200,000 fsyncs do not take
# half an hour; the queries read through the page cache either way.
. "$(dirname "$0")/store-lib.sh"

N=${SESSIONS:-100000}
shm=$(mktemp -d /dev/shm/vigil-bench.XXXXXX)
chmod 700 "$shm"
trap 'rm -rf "$WORK" "$shm"' EXIT INT TERM
STORE=$shm/store
now=$(date +%s)
start=$(( (now - 30 * 86400) * 1000000 ))
step=$(( 30 * 86400 * 1000000 / N ))
t0=$(ms)
per=$((N / 10))
for u in 0 1 2 3 4 5 6 7 8 9; do
    # users interleaved in time: user u's k-th session at start + (k*10+u)*step
    "$WRITER" --store "$STORE" --user "user$u" --sessions $per --commands 10 --output 2k \
        --start-us $((start + u * step)) --step-us $((10 * step)) >/dev/null &
    [ $((u % 2)) -eq 1 ] && wait
done
wait
t1=$(ms)
echo "built $N sessions (10 commands, 2 KB output each) in $(( (t1 - t0) / 1000 )) s; store $(du -sh "$STORE" | cut -f1)"

for i in 1 2 3 4 5 6 7 8 9 10 11; do
    a=$(ms); "$VIGIL" --store "$STORE" sessions --user user3 --since 1d >"$WORK/out"; b=$(ms)
    echo $((b - a))
done | median >"$WORK/med"
echo "vigil sessions --user user3 --since 1d: $(wc -l <"$WORK/out") sessions, median $(cat "$WORK/med") ms of 11 runs (includes process start)"
for i in 1 2 3 4 5; do
    a=$(ms); "$VIGIL" --store "$STORE" sessions --since 1d >/dev/null; b=$(ms); echo $((b - a))
done | median >"$WORK/med"
echo "vigil sessions --since 1d (all users, $(( N / 30 )) sessions): median $(cat "$WORK/med") ms"

events=$(( N * 10 ))
a=$(ms); "$VIGIL" --store "$STORE" audit >"$WORK/audit.csv"; b=$(ms)
echo "vigil audit (csv): $(( $(wc -l <"$WORK/audit.csv") - 1 )) events in $((b - a)) ms = $(( ($(wc -l <"$WORK/audit.csv") - 1) * 1000 / (b - a + 1) )) events/s"
a=$(ms); "$VIGIL" --store "$STORE" audit --format json >/dev/null; b=$(ms)
echo "vigil audit --format json: $events events in $((b - a)) ms = $(( events * 1000 / (b - a + 1) )) events/s"
