#!/bin/sh
# Recording cost: how fast the writer API takes output (100 MB of ordinary
# text in writes of 1..8 KiB, one process, commits with fsync), per zstd level.
# The supervisor's relay comes on top; compare with script(1)'s ~40 MB/s.
. "$(dirname "$0")/store-lib.sh"

{ ls -lR /usr/share 2>/dev/null | head -c 600000; MANWIDTH=80 man bash 2>/dev/null | col -b | head -c 400000; } >"$WORK/text"
for level in adaptive 3 6 9; do
    rm -rf "$WORK/store"
    lv=""; [ $level = adaptive ] || lv="--level $level"
    t0=$(ms)
    # shellcheck disable=SC2086
    /usr/bin/time -f "%U %S" -o "$WORK/cpu" "$WRITER" --store "$WORK/store" --commands 10 --file "$WORK/text" --output 100M $lv >/dev/null
    t1=$(ms)
    read -r u s <"$WORK/cpu"
    awk -v l="$level" -v e=$((t1 - t0)) -v u="$u" -v s="$s" \
        'BEGIN {printf "level %-8s %6.1f MB/s elapsed, %6.1f MB/s of CPU (user %.2fs sys %.2fs)\n", l, 100 * 1.048576 / (e / 1000), 100 * 1.048576 / (u + s), u, s}'
done
