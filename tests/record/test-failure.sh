#!/bin/sh
# When the store cannot be used: record on_failure=kill (the default) and
# on_failure=continue, at the start (a store that cannot be opened) and in
# the middle of a session (a full disk: a small tmpfs).
. "$(dirname "$0")/lib.sh"

PK=$WORK/pk
PC=$WORK/pc
policy "$PK" "default allow"
policy "$PC" "default allow" "record on_failure=continue"
marker=$WORK/w/ran

# 1. a store that cannot be opened: nothing runs (125), one line ...
touch "$WORK/notadir"
"$VIGIL" --policy "$PK" --store "$WORK/notadir" run --user "$TU" --no-pty -- touch "$marker" >"$WORK/o" 2>"$WORK/e"
rc=$?
[ $rc -eq 125 ] || fail "unusable store: exit $rc, expected 125"
[ -e "$marker" ] && fail "unusable store: the command ran"
[ "$(wc -l <"$WORK/e")" -eq 1 ] || fail "unusable store: not one line: $(cat "$WORK/e")"
grep -q "not a directory" "$WORK/e" || fail "unusable store: $(cat "$WORK/e")"
mkdir -m 0755 "$WORK/openstore"
"$VIGIL" --policy "$PK" --store "$WORK/openstore" run --user "$TU" --no-pty -- touch "$marker" 2>"$WORK/e"
[ $? -eq 125 ] && [ ! -e "$marker" ] || fail "a store open to others was used"
grep -q "mode 0700" "$WORK/e" || fail "store mode: $(cat "$WORK/e")"
# ... unless the policy says continue: it runs, and says so in one line
"$VIGIL" --policy "$PC" --store "$WORK/notadir" run --user "$TU" --no-pty -- touch "$marker" >"$WORK/o" 2>"$WORK/e"
rc=$?
[ $rc -eq 0 ] || fail "on_failure=continue: exit $rc: $(cat "$WORK/e")"
[ -e "$marker" ] || fail "on_failure=continue: the command did not run"
[ "$(wc -l <"$WORK/e")" -eq 1 ] && grep -q "runs unrecorded" "$WORK/e" || fail "continue: $(cat "$WORK/e")"
rm -f "$marker"

# 2. a full disk in the middle of a session
mkdir -p "$WORK/mnt"
mount -t tmpfs -o size=3m,mode=0700 tmpfs "$WORK/mnt" || fail "cannot mount a tmpfs"
MOUNTS="$WORK/mnt"
FS=$WORK/mnt/store
big='head -c 12000000 /dev/urandom | base64; echo END-OF-OUTPUT; touch '"$marker"

# kill: the session ends with one line, exit 125, its processes gone
"$VIGIL" --policy "$PK" --store "$FS" run --user "$TU" --no-pty -- sh -c "$big" >"$WORK/o" 2>"$WORK/e"
rc=$?
[ $rc -eq 125 ] || fail "full disk, kill: exit $rc, expected 125"
[ "$(wc -l <"$WORK/e")" -eq 1 ] || fail "full disk, kill: not one line: $(cat "$WORK/e")"
grep -q "^vigil: recording failed (.*No space left on device.*); ending the session" "$WORK/e" ||
    fail "full disk, kill: $(cat "$WORK/e")"
grep -q END-OF-OUTPUT "$WORK/o" && fail "full disk, kill: the session went on"
[ -e "$marker" ] && fail "full disk, kill: the session went on"
_i=0
while [ "$(pgrep -u "$TU" | wc -l)" -ne 0 ] && [ $_i -lt 100 ]; do sleep 0.1; _i=$((_i + 1)); done
[ "$(pgrep -u "$TU" | wc -l)" -eq 0 ] || fail "full disk, kill: processes left: $(pgrep -a -u "$TU")"
# the store stays readable; the session is an orphan, sealed as truncated later
"$VIGIL" --store "$FS" sessions >"$WORK/s" || fail "sessions on the full store"
grep -q orphan "$WORK/s" || fail "the killed session: $(cat "$WORK/s")"

# continue: the session goes on, unrecorded from there, and says so in one line
rm -rf "$FS"
"$VIGIL" --policy "$PC" --store "$FS" run --user "$TU" --no-pty -- sh -c "$big" >"$WORK/o" 2>"$WORK/e"
rc=$?
[ $rc -eq 0 ] || fail "full disk, continue: exit $rc: $(cat "$WORK/e")"
grep -q END-OF-OUTPUT "$WORK/o" || fail "full disk, continue: the output stopped"
[ -e "$marker" ] || fail "full disk, continue: the session did not go on"
[ "$(wc -l <"$WORK/e")" -eq 1 ] || fail "full disk, continue: not one line: $(cat "$WORK/e")"
grep -q "^vigil: recording failed (.*No space left on device.*); this session goes on unrecorded" "$WORK/e" ||
    fail "full disk, continue: $(cat "$WORK/e")"
[ "$(wc -c <"$WORK/o")" -gt 16000000 ] || fail "full disk, continue: output lost"
# room again (an administrator freed space): the orphan is sealed
mount -o remount,size=8m "$WORK/mnt" || fail "remount"
"$VIGIL" --store "$FS" verify --seal-orphans >"$WORK/v" 2>&1
grep -q "sealed as truncated" "$WORK/v" || fail "the unrecorded session's start was not sealed as truncated: $(cat "$WORK/v")"
ok
