#!/bin/sh
# A store on a full file system: the writer gets the error (ENOSPC), the
# sessions written before stay readable and verifiable.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || { echo "needs root for a tmpfs mount"; exit 77; }
mkdir -p "$WORK/mnt"
mount -t tmpfs -o size=3m,mode=0700 tmpfs "$WORK/mnt" || fail "cannot mount a tmpfs"
trap 'umount "$WORK/mnt" 2>/dev/null; rm -rf "$WORK"' EXIT INT TERM
STORE=$WORK/mnt/store

writer --commands 10 --output 100k --manifest "$WORK/m" || fail "first session"
id=$(cut -d' ' -f1 "$WORK/m")
out=$(writer --commands 50 --kind raw --binary full --output 16M 2>&1) && fail "writing 16 MB to a 3 MB disk succeeded"
echo "$out" | grep -Eq "No space left on device|MDB_MAP_FULL" || fail "error not surfaced: $out"
[ "$(echo "$out" | wc -l)" -eq 1 ] || fail "writer error is not one line: $out"

v verify "$id" >/dev/null 2>&1 || fail "the earlier session no longer verifies"
v replay --instant "$id" >/dev/null || fail "the earlier session no longer replays"
v sessions >/dev/null || fail "sessions on a full disk"
ok
