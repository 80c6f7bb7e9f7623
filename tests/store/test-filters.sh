#!/bin/sh
# sessions, search and audit filters: user, time range, host, command, decision, session.
. "$(dirname "$0")/lib.sh"

now=$(date +%s)
old=$(( (now - 3 * 86400) * 1000000 ))
writer --user alice --sessions 3 --commands 5 --output 20k --start-us $old --step-us 3600000000 || fail w1
writer --user bob --sessions 2 --commands 5 --output 20k --deny-every 2 || fail w2
writer --user carol --commands 5 --output 20k --kind base64 || fail w3

[ "$(v sessions | wc -l)" -eq 6 ] || fail "all: $(v sessions | wc -l)"
[ "$(v sessions --user alice | wc -l)" -eq 3 ] || fail "--user alice"
[ "$(v sessions --user nobody | wc -l)" -eq 0 ] || fail "--user nobody"
[ "$(v sessions --since 1d | wc -l)" -eq 3 ] || fail "--since 1d: $(v sessions --since 1d | wc -l)"
[ "$(v sessions --user alice --since 1d | wc -l)" -eq 0 ] || fail "--user alice --since 1d"
[ "$(v sessions --until 1d | wc -l)" -eq 3 ] || fail "--until 1d"
t2=$(python3 -c "import datetime; print(datetime.datetime.fromtimestamp($now - 3*86400 + 1800, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'))")
[ "$(v sessions --since "$t2" --until 2d | wc -l)" -eq 2 ] || fail "--since RFC3339 --until 2d: $(v sessions --since "$t2" --until 2d)"
[ "$(v sessions --host "$(hostname)" | wc -l)" -eq 6 ] || fail "--host"
[ "$(v sessions --host elsewhere | wc -l)" -eq 0 ] || fail "--host elsewhere"
[ "$(v sessions --command '^ls -l /srv/dir4$' | wc -l)" -eq 6 ] || fail "--command"
[ "$(v sessions --command 'dir9' | wc -l)" -eq 0 ] || fail "--command dir9"
v sessions --json | python3 -c 'import json,sys; [json.loads(l) for l in sys.stdin]' || fail "--json lines"

# search: command lines and output, with filters
v search '/srv/dir3' >"$WORK/s" || fail "search dir3"
[ "$(grep -c . "$WORK/s")" -eq 6 ] || fail "search dir3: $(cat "$WORK/s")"
[ "$(v search --user bob '/srv/dir3' | wc -l)" -eq 2 ] || fail "search --user"
[ "$(v search --since 1d '/srv/dir3' | wc -l)" -eq 3 ] || fail "search --since"
v search 'no such text anywhere' >/dev/null && fail "search found nothing but exited 0"
# output lines carry the running command
v search --user alice 'listening' | head -1 | cut -f3 | grep -q '^ls -l /srv/dir' || fail "running command column"

# audit
[ "$(v audit | wc -l)" -eq 31 ] || fail "audit rows"
[ "$(v audit --user bob | wc -l)" -eq 11 ] || fail "audit --user"
[ "$(v audit --decision deny | wc -l)" -eq 5 ] || fail "audit --decision deny: $(v audit --decision deny | wc -l)"
[ "$(v audit --since 1d | wc -l)" -eq 16 ] || fail "audit --since"
[ "$(v audit --until 1d --format json | wc -l)" -eq 15 ] || fail "audit --until json"
sid=$(v sessions --user carol --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["id"])')
[ "$(v audit --session "${sid%%-*}$(echo "$sid" | cut -c9-14)" --format json | wc -l)" -eq 5 ] || fail "audit --session prefix"
ok
