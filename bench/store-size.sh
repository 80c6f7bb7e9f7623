#!/bin/sh
# Bytes on disk per byte of output: vigil's store vs sudo's I/O log
# (log_output, zlib) vs tlog, for the same output (about 1 MB of ordinary
# text of three kinds, one of them also at an interactive pace, 10 MB of
# listings at once, and about 1 MB of random base64), written through a
# terminal.
# Needs: sudo, tlog (apt-get install tlog), script(1). Changes nothing
# permanent: a sudoers drop-in is added for the run and removed after.
. "$(dirname "$0")/store-lib.sh"

# The inputs: ordinary text (listings, headers, a man page, processes) and base64.
{
    ls -lR /usr/share 2>/dev/null | head -c 400000
    find /usr/include -name '*.h' 2>/dev/null | sort | head -300 | xargs cat 2>/dev/null | head -c 300000
    MANWIDTH=80 man bash 2>/dev/null | col -b | head -c 250000
    ps auxww | head -c 50000
} >"$WORK/text" || true
head -c 750000 /dev/urandom | base64 >"$WORK/base64"
ls -lR /usr 2>/dev/null | head -c 1000000 >"$WORK/ls-lR"
find / -xdev 2>/dev/null | head -c 1000000 >"$WORK/find"
# 10 MB of listings at once: past a session's first MiB, bulk output is
# compressed fast (level 3) so that recording keeps up with the terminal
{ ls -lR /usr 2>/dev/null; find / -xdev 2>/dev/null; } | head -c 10000000 >"$WORK/bulk"

# Live bytes of the store: pages in use minus free pages (LMDB keeps pages
# freed by earlier commits for reuse; the file itself never shrinks). The
# free pages are only listed with -f (the freelist).
live_bytes() {
    mdb_stat -ef "$WORK/store" | awk '/Page size/ {ps=$3} /Number of pages used/ {u=$5} /Free pages/ {f=$3} END {print (u - f) * ps}'
}
vigil_size() { # FILE [PACE] -> bytes one more session showing FILE adds to a store (mean of K)
    K=4
    rm -rf "$WORK/store"
    # a first small session: the tables' fixed pages are not a session's cost
    "$WRITER" --store "$WORK/store" --commands 1 --output 1000 >/dev/null
    base=$(live_bytes)
    # PACE: bytes per second of (synthetic) session time, committed every
    # second as the supervisor does; without it, all at once
    "$WRITER" --store "$WORK/store" --sessions $K --commands 1 --file "$1" --output "$(stat -c %s "$1")" \
        ${LEVEL:+--level $LEVEL} ${2:+--pace $2} >/dev/null
    echo $(( ($(live_bytes) - base) / K ))
}
vigil_file() {
    stat -c %s "$WORK/store/data.mdb"
}

sudo_size() { # FILE -> bytes of sudo's I/O log directory for `cat FILE` on a terminal
    rm -rf "$WORK/iolog"
    mkdir -p "$WORK/iolog"
    cat >"$WORK/sudoers" <<EOS
Defaults log_output, iolog_dir=$WORK/iolog, iolog_file=s, !use_pty
EOS
    cp "$WORK/sudoers" /etc/sudoers.d/zz-vigil-bench
    chmod 440 /etc/sudoers.d/zz-vigil-bench
    visudo -cq || { rm -f /etc/sudoers.d/zz-vigil-bench; echo "sudoers drop-in invalid" >&2; exit 1; }
    script -qec "sudo /bin/cat '$1'" /dev/null >/dev/null
    rm -f /etc/sudoers.d/zz-vigil-bench
    # apparent bytes of its files, and the blocks they occupy (du: what the disk holds)
    sudo_apparent=$(find "$WORK/iolog" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
    du -s -B1 "$WORK/iolog" | cut -f1
}

tlog_size() {
    command -v tlog-rec >/dev/null || { echo "-"; return; }
    rm -f "$WORK/tlog.json"
    # tlog-rec refuses to start without a utmp file (fresh containers have none)
    [ -e /var/run/utmp ] || : >/var/run/utmp
    script -qec "tlog-rec --writer=file --file-path='$WORK/tlog.json' /bin/cat '$1'" /dev/null >/dev/null 2>&1
    stat -c %s "$WORK/tlog.json"
}

printf "%-8s %8s | %8s %7s | %8s %7s %8s %7s | %8s %7s | %s\n" input bytes vigil per_MB sudo_du per_MB sudo_app per_MB tlog per_MB "vigil/sudo du (apparent)"
for kind in text text@16k ls-lR find bulk base64; do
    # text@16k: the same text at an interactive pace, 16 KB per second (sudo
    # buffers its log, iolog_flush being off by default: its size does not
    # depend on the pace, and its run is the same)
    f=$WORK/${kind%@*}
    pace=; [ "$kind" = text@16k ] && pace=16000
    n=$(stat -c %s "$f")
    vs=$(vigil_size "$f" $pace)
    vf=$(vigil_file)
    sudo_size "$f" >"$WORK/ss"
    ss=$(cat "$WORK/ss")
    ts=$(tlog_size "$f")
    per() { [ "$1" = - ] && echo - || awk -v a="$1" -v n="$n" 'BEGIN {printf "%.0f KB", a / n * 1000}'; }
    sa=$(find "$WORK/iolog" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
    printf "%-8s %8s | %8s %7s | %8s %7s %8s %7s | %8s %7s | %s (%s)\n" "$kind" "$n" "$vs" "$(per "$vs")" "$ss" "$(per "$ss")" \
        "$sa" "$(per "$sa")" "$ts" "$(per "$ts")" "$(awk -v a="$vs" -v b="$ss" 'BEGIN {printf "%.2f", a / b}')" \
        "$(awk -v a="$vs" -v b="$sa" 'BEGIN {printf "%.2f", a / b}')"
    echo "         (vigil: mean added live bytes over 4 sessions; data.mdb after 5 sessions: $vf bytes)"
done
echo "vigil zstd level: ${LEVEL:-adaptive (docs/store.md: 14 for a burst of text, 3 for bulk after its first MiB, 19 at an interactive pace, 1 for random-looking data)}"
echo "vigil: whole LMDB pages a session adds (records with their chain hashes, the search signatures, summary, events, indexes), free pages not counted"
echo "sudo: its I/O log directory for one session (zlib): du (blocks) and apparent size; tlog: its JSON log"
