#!/bin/sh
# `vigil search` over a large store: SIZE_MB of recorded text output (default
# 2048) in sessions of 64 MB, with a rare line planted once, and timings for a
# rare literal, a common word, and a regex without usable literals (full scan).
. "$(dirname "$0")/store-lib.sh"

SIZE_MB=${SIZE_MB:-2048}
STORE=${STORE_DIR:-$WORK/store}
per=64
n=$(( SIZE_MB / per ))
{ ls -lR /usr 2>/dev/null | head -c 6000000; MANWIDTH=80 man bash 2>/dev/null | col -b; find /usr/include -name '*.h' | sort | head -400 | xargs cat 2>/dev/null | head -c 3000000; } >"$WORK/text"
printf 'this line carries the needle zq-4711-unobtanium-needle once\n' >"$WORK/needle"
t0=$(ms)
i=0
while [ $i -lt $n ]; do
    f=$WORK/text
    if [ $i -eq $((n / 2)) ]; then cat "$WORK/text" "$WORK/needle" "$WORK/text" >"$WORK/text2"; f=$WORK/text2; fi
    "$WRITER" --store "$STORE" --user "u$((i % 7))" --commands 50 --file "$f" --output ${per}M >/dev/null &
    [ $((i % 2)) -eq 1 ] && wait
    i=$((i + 1))
done
wait
t1=$(ms)
echo "built $n sessions x $per MB = $((n * per)) MB of output in $(( (t1 - t0) / 1000 )) s; store on disk $(du -sh "$STORE" | cut -f1)"
sync
run() {
    for k in 1 2 3; do
        # exit 1 = no match: still a timing
        a=$(ms); "$VIGIL" --store "$STORE" search "$@" >"$WORK/hits" || true; b=$(ms); echo $((b - a))
    done | median >"$WORK/med"
    echo "search $*: $(wc -l <"$WORK/hits") hits, median $(cat "$WORK/med") ms (page cache warm)"
}
run 'unobtanium-needle'
run --user u3 'unobtanium-needle'
run 'zq-[0-9]+-unob'
run 'EXIT_SUCCESS' 
echo 3 >/proc/sys/vm/drop_caches 2>/dev/null && {
    a=$(ms); "$VIGIL" --store "$STORE" search 'unobtanium-needle' >/dev/null || true; b=$(ms)
    echo "search unobtanium-needle, cold cache: $((b - a)) ms"
}
a=$(ms); "$VIGIL" --store "$STORE" search '[0-9]{9}x' >/dev/null || true; b=$(ms)
echo "search '[0-9]{9}x' (no literal: every unit decoded): $((b - a)) ms"
