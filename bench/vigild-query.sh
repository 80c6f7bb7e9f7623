#!/bin/sh
# The store commands through vigild against root's on the store: `vigil
# sessions --user U --since 1d`, `--since 1d` (all users), `--live` (a scan of
# every session) over a store of SESSIONS sessions (default 20,000; 10 users
# over 30 days), and `replay --instant` of a 24 MiB session, as root and as
# an auditor (through vigild). The outputs are checked to be the same.
# Usage: bench/vigild-query.sh [BUILD_DIR]   (root; creates and removes a test user)
. "$(dirname "$0")/store-lib.sh"

VIGILD=$build/vigild/vigild
N=${SESSIONS:-20000}
U=vb$$
shm=$(mktemp -d /dev/shm/vigil-bench.XXXXXX)
chmod 700 "$shm"
chmod 755 "$WORK"
STORE=$shm/store
cleanup() {
    [ -n "${VPID:-}" ] && kill "$VPID" 2>/dev/null
    userdel "$U" 2>/dev/null
    groupdel "${U}g" 2>/dev/null
    rm -rf "$WORK" "$shm"
}
trap cleanup EXIT INT TERM
groupadd "${U}g"
useradd -M -N -s /usr/sbin/nologin -G "${U}g" "$U"
cp "$VIGIL" "$WORK/vigil" && chmod 755 "$WORK/vigil"

now=$(date +%s)
start=$(( (now - 30 * 86400) * 1000000 ))
step=$(( 30 * 86400 * 1000000 / N ))
per=$((N / 10))
for u in 0 1 2 3 4 5 6 7 8 9; do
    "$WRITER" --store "$STORE" --user "user$u" --sessions $per --commands 10 --output 2k \
        --start-us $((start + u * step)) --step-us $((10 * step)) >/dev/null &
    [ $((u % 2)) -eq 1 ] && wait
done
wait
"$WRITER" --store "$STORE" --user big --commands 10 --output 24M --kind base64 >/dev/null
big=$("$VIGIL" --store "$STORE" sessions --user big --json | sed 's/^{"id":"\([^"]*\)".*/\1/')
printf '{"keys":[]}\n' >"$WORK/jwks.json"
cat >"$WORK/vigil.conf" <<EOF
issuer = https://idp.example
audience = vigil
jwks_file = $WORK/jwks.json
policy = $WORK/policy
store = $STORE
auditors = local:${U}g
EOF
"$VIGILD" --socket "$WORK/vigild.sock" --config "$WORK/vigil.conf" --log-file "$WORK/vigild.log" &
VPID=$!
sleep 0.5
aud() { setpriv --reuid="$U" --regid="$(id -g "$U")" --init-groups env VIGILD_SOCKET="$WORK/vigild.sock" "$WORK/vigil" "$@"; }
root() { "$VIGIL" --store "$STORE" "$@"; }

# time WHO RUNS ARGS...: median ms of RUNS runs (includes process start)
time_of() {
    who=$1 runs=$2
    shift 2
    for i in $(seq "$runs"); do
        a=$(ms); $who "$@" >"$WORK/$who.out"; b=$(ms); echo $((b - a))
    done | median
}
echo "store: $N sessions (10 commands, 2 KB output each) and one of 24 MiB; $(du -sh "$STORE" | cut -f1)"
for q in "sessions --user user3 --since 1d" "sessions --since 1d" "sessions --live" "replay --instant $big"; do
    runs=11
    case "$q" in replay*) runs=3 ;; esac
    # shellcheck disable=SC2086
    r=$(time_of root $runs $q)
    # shellcheck disable=SC2086
    a=$(time_of aud $runs $q)
    cmp -s "$WORK/root.out" "$WORK/aud.out" || { echo "'$q': the outputs differ" >&2; exit 1; }
    echo "vigil $q: root (store) $r ms, auditor (vigild) $a ms; $(wc -c <"$WORK/root.out") bytes, the same"
done
