#!/bin/sh
# Deciding held commands end to end (issue 9, "Deciding"): pending requests
# created in a real store with vigil_approval_create() (tests/approvers/
# mkrequest, which stays alive as their owner), decided by the real CLI as
# root on the store and as test accounts through the real vigild, with
# sign-ins at the real test identity provider (tests/idp) whose approving
# person a script plays. As root (test accounts, vigild).
#   (a) vigil approvals, --json, show (escaping, watch hint)
#   (b) root decides through local:root; the decision in the store, syslog
#   (c) refusals: already decided, deny without --reason, self (local
#       account), not in approvers=, no approvers=, expired, bad/unknown ids
#   (d) root at a console signs in with the device flow: approved by the
#       token's identity; self by subject; not named; a denied sign-in
#   (e) a non-root approver through vigild: local: by group, the same JSON
#       as root's, only what they may decide, self, not named, deny
#   (f) a non-root approver signs in through vigild (token sent, verified there)
#   (g) session.watch as an approver: only a session holding a request they may decide
#   (h) approvers working in their own vigil session, known by its token:
#       root in `vigil run --token-file` (the store's session record), and a
#       test account in a session vigild started (vigild's session record)
#   (i) real held sessions (the supervisor holds the exec): approved by root,
#       by a test account through vigild, by a sign-in; denied with the
#       reason on the user's terminal; self-approval refused, then timeout
set -u
here=$(cd "$(dirname "$0")" && pwd)
if [ -z "${PV_INNER:-}" ]; then
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-approvers.XXXXXX") || exit 1
    PV_INNER=1 PV_TMP=$tmp SYSLOG=$tmp/syslog exec "$VIGIL_SOURCE_ROOT/tests/pam_module/with-syslog" "$tmp/syslog" "$0" "$@"
fi
export PV_INNER
tmp=$PV_TMP
. "$VIGIL_SOURCE_ROOT/tests/pam_module/lib.sh"
MK_PID=
GROUPS_MADE=
cleanup() {
    [ -n "$MK_PID" ] && kill "$MK_PID" 2>/dev/null && wait "$MK_PID" 2>/dev/null
    pv_cleanup
    for g in $GROUPS_MADE; do groupdel "$g" 2>/dev/null; done
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

[ "$(id -u)" -eq 0 ] || fail "must run as root (test accounts, vigild, the store)"
idp_setup || fail "cannot install the test identity provider (tests/idp/setup)"
chmod 755 "$tmp"
export VIGIL_HOST_KEY="$tmp/host.key"
store=$tmp/store
mkdir -p "$tmp/bin"
for b in "${VIGIL:?}" "${MKREQUEST:?}" "${VIGILD_APPROVALS:?}"; do
    cp "$b" "$tmp/bin/" || fail "cp $b"
done
chmod 755 "$tmp/bin" "$tmp/bin/"*
V="$tmp/bin/vigil"

# one_line FILE: exactly one line (the error)
one_line() {
    [ "$(wc -l <"$1")" -eq 1 ] || fail "$(basename "$1"): not one line: $(cat "$1")"
}
# expect RC OUT ERR CMD...: run, check the exit status
expect() {
    _want=$1 _o=$2 _e=$3
    shift 3
    "$@" >"$_o" 2>"$_e"
    _rc=$?
    [ "$_rc" -eq "$_want" ] || fail "'$*' exited $_rc, not $_want: $(cat "$_o" "$_e")"
}

appr=vta$$  # a local approver (group vtg$$), and a sign-in approver outside any session
req=vtr$$   # the requester's account
other=vto$$ # in no group of any rule
grp=vtg$$
groupadd "$grp" || fail "groupadd $grp"
GROUPS_MADE=$grp
pv_useradd "$appr"
pv_useradd "$req"
pv_useradd "$other"
usermod -a -G "$grp" "$appr" || fail "usermod"
as() {
    _u=$1
    shift
    (cd "$tmp" && setpriv --reuid="$_u" --regid="$_u" --init-groups \
        env -i PATH=/usr/bin:/bin HOME="$tmp" LANG=C.UTF-8 VIGILD_SOCKET="$tmp/vigild.sock" "$@")
}

step "provider and configuration"
cat >"$tmp/accounts.json" <<EOF
{
  "vti$$": {"email": "vti$$@example.test", "groups": ["sre-$$", "dev"]},
  "vtj$$": {"groups": ["dev"]},
  "$req": {"groups": ["sre-$$"]},
  "$appr": {"groups": ["sre-$$"]},
  "vts$$": {"preferred_username": "root", "groups": ["sre-$$"]}
}
EOF
idp_start "$tmp/idp" --accounts "$tmp/accounts.json" || fail "idp_start"
printf 'default allow\n' >"$tmp/policy"
pv_config "$tmp/vigil.conf" <<EOF
policy = $tmp/policy
EOF
chmod 644 "$tmp/vigil.conf" "$tmp/policy"

step "pending requests in the store"
S1=0190f5a0-0000-7000-8000-00000000a001
S2=0190f5a0-0000-7000-8000-00000000a002
S3=0190f5a0-0000-7000-8000-00000000a003
S5=0190f5a0-0000-7000-8000-00000000a005
esc=$(printf '\033')
# the screen: colours, a title, a right-to-left override, a bell
screen="$(printf '\033]0;title\007\033[01;32m%s@web1\033[0m:/srv$ ls\r\nold  \342\200\256txt.exe\r\n\007$ ' "$req")"
base="\"user\":\"$req\",\"subject\":\"$req\",\"groups\":[\"sre-$$\"],\"host\":\"web1\",\"runas\":\"root\",\"cwd\":\"/srv\",\"exe\":\"/usr/bin/rm\""
python3 - "$tmp/spec" "$screen" <<EOF || fail "spec"
import json, sys
base = json.loads('{' + '''$base''' + '}')
screen = sys.argv[2]
rows = [
    ("local", "$S1", {"approvers": "local:root", "argv": ["rm", "-rf", "/srv/old dir"], "env": ["FOO=bar"], "screen": screen, "command_no": 4}),
    ("local2", "$S1", {"approvers": "local:root", "argv": ["rm", "x"]}),
    ("selfroot", "$S1", {"approvers": "local:root", "argv": ["id"], "user": "root", "subject": None, "groups": []}),
    ("nogroup", "$S1", {"approvers": "local:nogroup", "argv": ["id"]}),
    ("none", "$S1", {"argv": ["reboot"]}),
    ("expire", "$S1", {"approvers": "local:root", "argv": ["id"], "expires_in_ms": 1500}),
    ("devok", "$S2", {"approvers": "group:sre-$$", "argv": ["systemctl", "restart", "pay"]}),
    ("devself", "$S2", {"approvers": "group:sre-$$", "argv": ["id"], "subject": "vti$$"}),
    ("devnot", "$S2", {"approvers": "group:sre-$$", "argv": ["id"]}),
    ("devdeny", "$S2", {"approvers": "group:sre-$$", "argv": ["id"]}),
    ("vg", "$S3", {"approvers": "local:$grp", "argv": ["make", "deploy"]}),
    ("vgself", "$S3", {"approvers": "local:$grp", "argv": ["id"], "user": "$appr", "subject": None}),
    ("vgdeny", "$S3", {"approvers": "local:$grp", "argv": ["id"]}),
    ("vd", "$S3", {"approvers": "group:sre-$$,local:root", "argv": ["psql"]}),
    ("rootonly", "$S1", {"approvers": "local:root", "argv": ["id"]}),
    ("sessroot", "$S5", {"approvers": "group:sre-$$", "argv": ["id"]}),
    ("sessnr", "$S5", {"approvers": "group:sre-$$", "argv": ["id"]}),
]
with open(sys.argv[1], "w") as f:
    for name, session, extra in rows:
        o = dict(base, name=name, session=session, rule="$tmp/policy:7")
        o.update(extra)
        o = {k: v for k, v in o.items() if v is not None}
        f.write(json.dumps(o) + "\n")
EOF
"$tmp/bin/mkrequest" "$store" "$tmp/spec" >"$tmp/ids" 2>"$tmp/mk.err" &
MK_PID=$!
i=0
until grep -qx ready "$tmp/ids"; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] && kill -0 "$MK_PID" 2>/dev/null || fail "mkrequest: $(cat "$tmp/mk.err")"
    sleep 0.05
done
rid() { sed -n "s/^$1 //p" "$tmp/ids"; }
for n in local local2 selfroot nogroup none expire devok devself devnot devdeny vg vgself vgdeny vd rootonly sessroot sessnr; do
    rid "$n" | grep -qxE '[0-9a-hjkmnp-tv-z]{8}' || fail "no id for $n: $(cat "$tmp/ids")"
done

step "(a) vigil approvals, --json, show"
expect 0 "$tmp/a.json" "$tmp/a.err" "$V" --store "$store" approvals --json
[ ! -s "$tmp/a.err" ] || fail "(a) stderr: $(cat "$tmp/a.err")"
python3 - "$tmp/a.json" "$(rid local)" "$S1" "$req" <<'EOF' || fail "(a) --json: $(cat "$tmp/a.json")"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 17, len(lines)
objs = [json.loads(l) for l in lines]
for o in objs:
    for k in ("id", "session", "user", "argv", "cwd", "rule", "approvers", "created", "expires"):
        assert k in o, (k, o)
    assert o["state"] == "pending" and "owner" not in o
o = [o for o in objs if o["id"] == sys.argv[2]][0]
assert o["session"] == sys.argv[3] and o["user"] == sys.argv[4] and o["argv"] == ["rm", "-rf", "/srv/old dir"], o
assert o["cwd"] == "/srv" and o["approvers"] == "local:root" and o["rule"].endswith("/policy:7"), o
assert o["created"].endswith("Z") and o["expires"] > o["created"], o
EOF
expect 0 "$tmp/a.txt" "$tmp/a.err" "$V" --store "$store" approvals
[ "$(wc -l <"$tmp/a.txt")" -eq 17 ] || fail "(a) list: $(cat "$tmp/a.txt")"
grep -E "^$(rid local)  age [0-9.ms]+  expires in [0-9hms.]+  $req  session ${S1%%-*}  approvers=local:root  rm -rf '/srv/old dir'\$" \
    "$tmp/a.txt" >/dev/null || fail "(a) line: $(grep "$(rid local)" "$tmp/a.txt")"
grep -q "^$(rid none) .*approvers=(none: nobody may decide)  reboot\$" "$tmp/a.txt" || fail "(a) none: $(cat "$tmp/a.txt")"
expect 0 "$tmp/a.show" "$tmp/a.err" "$V" --store "$store" approvals show "$(rid local | cut -c1-5)"
pv_has "$tmp/a.show" "request    $(rid local) (pending; expires in"
pv_has "$tmp/a.show" "session    $S1 (command 4); watch it live: vigil watch $S1"
pv_has "$tmp/a.show" "command    rm -rf '/srv/old dir'"
pv_has "$tmp/a.show" "runas      root"
pv_has "$tmp/a.show" "cwd        /srv"
pv_has "$tmp/a.show" "env        FOO=bar"
pv_has "$tmp/a.show" "approvers  local:root"
pv_has "$tmp/a.show" "identity   subject '$req', groups sre-$$"
pv_has "$tmp/a.show" "$req@web1:/srv\$ ls"
pv_has "$tmp/a.show" 'old  \u{202e}txt.exe'
pv_has "$tmp/a.show" '\x07$ '
! grep -q "$esc" "$tmp/a.show" || fail "(a) an escape character reached the terminal: $(od -c "$tmp/a.show" | head)"
! grep -q "$(printf '\342\200\256')" "$tmp/a.show" || fail "(a) a bidi override reached the terminal"
! grep -q "$(printf '\007')" "$tmp/a.show" || fail "(a) a bell reached the terminal"

step "(b) root decides through local:root"
expect 0 "$tmp/b.out" "$tmp/b.err" "$V" --store "$store" approve "$(rid local)" --reason "change 42"
grep -qE "^request $(rid local): approved by local account 'root' \(via local\) at [0-9T:.-]+Z: change 42\$" "$tmp/b.out" ||
    fail "(b) approve: $(cat "$tmp/b.out" "$tmp/b.err")"
"$V" --store "$store" approvals show "$(rid local)" >"$tmp/b.show" || fail "(b) show"
pv_has "$tmp/b.show" "request    $(rid local) (approved)"
pv_has "$tmp/b.show" "decision   approved by local account 'root' (via local) at"
"$V" --store "$store" approvals --json >"$tmp/b.json"
! grep -q "$(rid local)" "$tmp/b.json" || fail "(b) a decided request is still listed"
pv_log_wait "vigil\[[0-9]+\]: approve: request $(rid local) \(session $S1, command 4, rule $tmp/policy:7\): approved by local account 'root' \(via local\) at .*: change 42" >/dev/null
expect 0 "$tmp/b2.out" "$tmp/b2.err" "$V" --store "$store" deny "$(rid local2)" --reason "not now"
pv_has "$tmp/b2.out" "request $(rid local2): rejected by local account 'root' (via local) at"
pv_has "$tmp/b2.out" ": not now"

step "(c) refusals"
expect 1 "$tmp/c1.out" "$tmp/c1.err" "$V" --store "$store" approve "$(rid local)"
one_line "$tmp/c1.err"
grep -qE "^vigil: approve: request $(rid local) was already decided: approved by local account 'root' \(via local\) at .*: change 42\$" \
    "$tmp/c1.err" || fail "(c) already: $(cat "$tmp/c1.err")"
expect 2 "$tmp/c2.out" "$tmp/c2.err" "$V" --store "$store" deny "$(rid nogroup)"
pv_has "$tmp/c2.err" "vigil: deny: a denial needs --reason R (its user sees it)"
expect 2 "$tmp/c2b.out" "$tmp/c2b.err" "$V" --store "$store" deny "$(rid nogroup)" --reason "$(printf 'two\nlines')"
pv_has "$tmp/c2b.err" "--reason must be one line of text"
expect 1 "$tmp/c3.out" "$tmp/c3.err" "$V" --store "$store" approve "$(rid selfroot)"
one_line "$tmp/c3.err"
pv_has "$tmp/c3.err" "vigil: approve: not allowed: you made this request (four-eyes: same local account 'root')"
expect 1 "$tmp/c4.out" "$tmp/c4.err" "$V" --store "$store" approve "$(rid nogroup)"
pv_has "$tmp/c4.err" "vigil: approve: not allowed: approvers=local:nogroup does not name you (local account 'root')"
expect 1 "$tmp/c5.out" "$tmp/c5.err" "$V" --store "$store" deny "$(rid none)" --reason x
pv_has "$tmp/c5.err" "vigil: deny: not allowed: the rule $tmp/policy:7 names no approvers=, so nobody may decide this request (it is refused when it times out)"
sleep 1.6
expect 1 "$tmp/c6.out" "$tmp/c6.err" "$V" --store "$store" approve "$(rid expire)"
grep -qE "^vigil: approve: request $(rid expire) expired at [0-9T:.-]+Z; its session refuses the command\$" "$tmp/c6.err" ||
    fail "(c) expired: $(cat "$tmp/c6.err")"
expect 1 "$tmp/c7.out" "$tmp/c7.err" "$V" --store "$store" approve zzzzzzzz
pv_has "$tmp/c7.err" "vigil: approve: no approval request 'zzzzzzzz'"
expect 1 "$tmp/c8.out" "$tmp/c8.err" "$V" --store "$store" approve 'k3f'
pv_has "$tmp/c8.err" "vigil: approve: 'k3f' is not a request id (4 to 8 characters of 0-9 and a-z without u)"
expect 1 "$tmp/c9.out" "$tmp/c9.err" "$V" --store "$store" approvals show 'k3fu'
pv_has "$tmp/c9.err" "is not a request id"
# upper case, as a person may type it
expect 0 "$tmp/c10.out" "$tmp/c10.err" "$V" --store "$store" approvals show "$(rid nogroup | tr a-z A-Z)"
pv_has "$tmp/c10.out" "request    $(rid nogroup) (pending"
for f in c1 c3 c4 c5 c6 c7 c8; do
    [ ! -s "$tmp/$f.out" ] || fail "($f) stdout: $(cat "$tmp/$f.out")"
done
# a request whose supervisor is gone is rejected as lost before anyone decides it
printf '%s\n' "{\"name\": \"lost\", \"session\": \"$S1\", \"user\": \"$req\", \"argv\": [\"id\"], \"approvers\": \"local:root\", \"rule\": \"r:1\"}" >"$tmp/spec3"
"$tmp/bin/mkrequest" "$store" "$tmp/spec3" >"$tmp/ids3" 2>"$tmp/mk3.err" &
mk3=$!
i=0
until grep -qx ready "$tmp/ids3" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] || fail "mkrequest 3: $(cat "$tmp/mk3.err")"
    sleep 0.05
done
kill "$mk3"
wait "$mk3"
lost=$(sed -n 's/^lost //p' "$tmp/ids3")
expect 1 "$tmp/c11.out" "$tmp/c11.err" "$V" --store "$store" approve "$lost"
grep -qE "^vigil: approve: request $lost was already decided: rejected at [0-9T:.-]+Z: supervisor lost\$" "$tmp/c11.err" ||
    fail "(c) lost: $(cat "$tmp/c11.err")"
# nothing of the refusals changed the requests
"$V" --store "$store" approvals --json >"$tmp/c.json"
for n in selfroot nogroup none expire; do
    grep -q "\"id\":\"$(rid "$n")\".*\"state\":\"pending\"" "$tmp/c.json" || fail "(c) $n changed: $(cat "$tmp/c.json")"
done

# sign_in OUT ERR LOGIN approve|deny CMD...: run CMD in the background, play
# the person signing in at the provider with LOGIN, wait for CMD.
sign_in() {
    _o=$1 _e=$2 _l=$3 _act=$4
    shift 4
    "$@" >"$_o" 2>"$_e" &
    _p=$!
    _i=0
    until grep -q "^To sign in, open https://.* and enter " "$_e" 2>/dev/null; do
        _i=$((_i + 1))
        [ "$_i" -lt 1200 ] && kill -0 "$_p" 2>/dev/null || fail "no sign-in prompt from '$*': $(cat "$_o" "$_e")"
        sleep 0.05
    done
    _code=$(sed -n 's/^To sign in, open .* and enter \([^ ]*\)$/\1/p' "$_e")
    _uri=$(sed -n 's/^To sign in, open \([^ ]*\) and enter .*$/\1/p' "$_e")
    if [ "$_act" = approve ]; then
        "$IDP_HOME/approve" --url "$_uri" --ca "$IDP_CA" --code "$_code" --login "$_l" approve >"$_o.idp" 2>&1 ||
            fail "the person could not approve the sign-in: $(cat "$_o.idp")"
    else
        "$IDP_HOME/approve" --url "$_uri" --ca "$IDP_CA" --code "$_code" deny >"$_o.idp" 2>&1 ||
            fail "the person could not deny the sign-in: $(cat "$_o.idp")"
    fi
    wait "$_p"
    SIGN_RC=$?
}

step "(d) root at a console signs in"
sign_in "$tmp/d1.out" "$tmp/d1.err" "vti$$" approve \
    "$V" --store "$store" --config "$tmp/vigil.conf" approve "$(rid devok)" --reason "on call"
[ "$SIGN_RC" -eq 0 ] || fail "(d) approve after a sign-in exited $SIGN_RC: $(cat "$tmp/d1.out" "$tmp/d1.err")"
grep -qE "^request $(rid devok): approved by subject 'vti$$' local account 'root' \(via device\) at .*: on call\$" "$tmp/d1.out" ||
    fail "(d) $(cat "$tmp/d1.out" "$tmp/d1.err")"
"$V" --store "$store" approvals show "$(rid devok)" >"$tmp/d1.show"
pv_has "$tmp/d1.show" "decision   approved by subject 'vti$$' local account 'root' (via device)"
pv_log_wait "vigil\[[0-9]+\]: approve: request $(rid devok) .*: approved by subject 'vti$$' local account 'root' \(via device\)" >/dev/null
sign_in "$tmp/d2.out" "$tmp/d2.err" "vti$$" approve \
    "$V" --store "$store" --config "$tmp/vigil.conf" approve "$(rid devself)"
[ "$SIGN_RC" -eq 1 ] || fail "(d) self by subject exited $SIGN_RC"
pv_has "$tmp/d2.err" "vigil: approve: not allowed: you made this request (four-eyes: same identity-provider subject 'vti$$')"
sign_in "$tmp/d3.out" "$tmp/d3.err" "vtj$$" approve \
    "$V" --store "$store" --config "$tmp/vigil.conf" approve "$(rid devnot)"
[ "$SIGN_RC" -eq 1 ] || fail "(d) not named exited $SIGN_RC"
pv_has "$tmp/d3.err" "vigil: approve: not allowed: approvers=group:sre-$$ does not name you (subject 'vtj$$' (via device, groups dev), local account 'root')"
pv_log_wait "vigil\[[0-9]+\]: approve: request $(rid devnot): refused for uid 0: not allowed" >/dev/null
sign_in "$tmp/d4.out" "$tmp/d4.err" - deny \
    "$V" --store "$store" --config "$tmp/vigil.conf" deny "$(rid devdeny)" --reason no
[ "$SIGN_RC" -eq 1 ] || fail "(d) a denied sign-in exited $SIGN_RC"
pv_has "$tmp/d4.err" "vigil: deny: sign-in failed: token endpoint: the sign-in was denied"
"$V" --store "$store" approvals --json >"$tmp/d.json"
for n in devself devnot devdeny; do
    grep -q "\"id\":\"$(rid "$n")\".*\"state\":\"pending\"" "$tmp/d.json" || fail "(d) $n changed"
done

step "(e) a non-root approver through vigild"
"${VIGILD:?}" --socket "$tmp/vigild.sock" --config "$tmp/vigil.conf" --log-file "$tmp/vigild.log" &
PV_PIDS="$PV_PIDS $!"
i=0
until as "$other" "$tmp/bin/vigild-approvals" "$tmp/vigild.sock" list >/dev/null 2>&1; do
    i=$((i + 1))
    [ "$i" -lt 600 ] || fail "vigild did not answer: $(cat "$tmp/vigild.log")"
    sleep 0.05
done
expect 0 "$tmp/e1.json" "$tmp/e1.err" as "$appr" "$V" approvals --json
ids=$(sed 's/^{"id":"\([^"]*\)".*/\1/' "$tmp/e1.json" | sort | tr '\n' ' ')
want=$(printf '%s\n' "$(rid vg)" "$(rid vgdeny)" | sort | tr '\n' ' ')
[ "$ids" = "$want" ] || fail "(e) $appr sees '$ids', not '$want': $(cat "$tmp/e1.json" "$tmp/e1.err")"
# the same JSON as root's for the same request
"$V" --store "$store" approvals --json | grep "\"id\":\"$(rid vg)\"" >"$tmp/e1.root"
grep "\"id\":\"$(rid vg)\"" "$tmp/e1.json" | cmp -s - "$tmp/e1.root" || fail "(e) JSON differs from root's:
$(grep "$(rid vg)" "$tmp/e1.json")
$(cat "$tmp/e1.root")"
expect 0 "$tmp/e1.show" "$tmp/e1.err" as "$appr" "$V" approvals show "$(rid vg)"
pv_has "$tmp/e1.show" "command    make deploy"
"$V" --store "$store" approvals show "$(rid vg)" | grep -v '^request\|^created' >"$tmp/e1.rootshow"
grep -v '^request\|^created' "$tmp/e1.show" | cmp -s - "$tmp/e1.rootshow" ||
    fail "(e) show differs from root's (beyond the age): $(grep -v '^request\|^created' "$tmp/e1.show" | diff - "$tmp/e1.rootshow")"
expect 1 "$tmp/e2.out" "$tmp/e2.err" as "$appr" "$V" approvals show "$(rid rootonly)"
pv_has "$tmp/e2.err" "vigil: approvals: no pending request '$(rid rootonly)' that you may decide"
expect 0 "$tmp/e3.out" "$tmp/e3.err" as "$other" "$V" approvals
[ ! -s "$tmp/e3.out" ] || fail "(e) $other sees requests: $(cat "$tmp/e3.out")"
expect 0 "$tmp/e4.out" "$tmp/e4.err" as "$appr" "$V" approve "$(rid vg)" --reason ship
grep -qE "^request $(rid vg): approved by local account '$appr' \(via local\) at .*: ship\$" "$tmp/e4.out" ||
    fail "(e) approve: $(cat "$tmp/e4.out" "$tmp/e4.err")"
grep -qE "approvals.decide: request $(rid vg) \(session $S3, command 0, rule $tmp/policy:7\) by uid=$(id -u "$appr"): approved by local account '$appr'" \
    "$tmp/vigild.log" || fail "(e) vigild did not log the decision: $(tail -n 5 "$tmp/vigild.log")"
expect 1 "$tmp/e5.out" "$tmp/e5.err" as "$appr" "$V" approve "$(rid vgself)"
one_line "$tmp/e5.err"
pv_has "$tmp/e5.err" "vigil: approve: not allowed: you made this request (four-eyes: same local account '$appr')"
expect 1 "$tmp/e6.out" "$tmp/e6.err" as "$appr" "$V" approve "$(rid rootonly)"
pv_has "$tmp/e6.err" "vigil: approve: not allowed: approvers=local:root does not name you (local account '$appr')"
expect 1 "$tmp/e7.out" "$tmp/e7.err" as "$appr" "$V" approve "$(rid vg)"
pv_has "$tmp/e7.err" "vigil: approve: request $(rid vg) was already decided: approved by local account '$appr' (via local)"
expect 0 "$tmp/e8.out" "$tmp/e8.err" as "$appr" "$V" deny "$(rid vgdeny)" --reason "wrong window"
pv_has "$tmp/e8.out" "request $(rid vgdeny): rejected by local account '$appr' (via local) at"
expect 1 "$tmp/e9.out" "$tmp/e9.err" as "$other" "$V" approve "$(rid none)"
pv_has "$tmp/e9.err" "vigil: approve: not allowed: the rule $tmp/policy:7 names no approvers="
expect 1 "$tmp/e10.out" "$tmp/e10.err" as "$appr" "$V" approve zzzzzzzz
pv_has "$tmp/e10.err" "vigil: approve: no approval request 'zzzzzzzz'"
# a raw token vigild refuses
printf 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln\n' >"$tmp/bad.token"
as "$appr" "$tmp/bin/vigild-approvals" "$tmp/vigild.sock" decide "$(rid vd)" approve --token-file "$tmp/bad.token" >"$tmp/e11.out"
pv_has "$tmp/e11.out" "status: refused"
pv_has "$tmp/e11.out" "error: approvals.decide: token refused:"
"$V" --store "$store" approvals --json >"$tmp/e.json"
grep -q "\"id\":\"$(rid vd)\".*\"state\":\"pending\"" "$tmp/e.json" || fail "(e) a refused token changed the request"

step "(f) a non-root approver signs in through vigild"
sign_in "$tmp/f1.out" "$tmp/f1.err" "vti$$" approve as "$appr" "$V" --config "$tmp/vigil.conf" approve "$(rid vd)"
[ "$SIGN_RC" -eq 0 ] || fail "(f) exited $SIGN_RC: $(cat "$tmp/f1.out" "$tmp/f1.err")"
grep -qE "^request $(rid vd): approved by subject 'vti$$' local account '$appr' \(via device\) at " "$tmp/f1.out" ||
    fail "(f) $(cat "$tmp/f1.out" "$tmp/f1.err")"
grep -q "by uid=$(id -u "$appr"): approved by subject 'vti$$' local account '$appr' (via device)" "$tmp/vigild.log" ||
    fail "(f) vigild did not log it: $(tail -n 5 "$tmp/vigild.log")"

step "(g) session.watch as an approver"
# $appr may decide nothing pending in S3 now; a new request makes it so
printf '%s\n' "{\"name\": \"w\", \"session\": \"0190f5a0-0000-7000-8000-00000000a004\", \"user\": \"$req\", \"argv\": [\"id\"], \"approvers\": \"local:$grp\", \"rule\": \"r:1\"}" >"$tmp/spec2"
"$tmp/bin/mkrequest" "$store" "$tmp/spec2" >"$tmp/ids2" 2>"$tmp/mk2.err" &
MK2=$!
PV_PIDS="$PV_PIDS $MK2"
i=0
until grep -qx ready "$tmp/ids2"; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] || fail "mkrequest 2: $(cat "$tmp/mk2.err")"
    sleep 0.05
done
as "$appr" "$tmp/bin/vigild-approvals" "$tmp/vigild.sock" watch 0190f5a0-0000-7000-8000-00000000a004 >"$tmp/g1.out"
! grep -q "status: refused" "$tmp/g1.out" || fail "(g) an approver may not watch: $(cat "$tmp/g1.out")"
as "$appr" "$tmp/bin/vigild-approvals" "$tmp/vigild.sock" watch "$S1" >"$tmp/g2.out"
pv_has "$tmp/g2.out" "status: refused"
as "$other" "$tmp/bin/vigild-approvals" "$tmp/vigild.sock" watch 0190f5a0-0000-7000-8000-00000000a004 >"$tmp/g3.out"
pv_has "$tmp/g3.out" "status: refused"
grep -q "refused session.watch from uid=$(id -u "$other")" "$tmp/vigild.log" || fail "(g) no log line"

step "(h) approvers in their own vigil session"
pv_token "$tmp/root.token" "vts$$"
pv_token "$tmp/appr.token" "$appr"
chmod 644 "$tmp/appr.token"
# root: `vigil run` records the token's identity with the session; the CLI
# inside finds its session by its cgroup, and the identity in the store
"$V" --config "$tmp/vigil.conf" run --token-file "$tmp/root.token" --user root --no-pty -- \
    "$V" --store "$store" approve "$(rid sessroot)" >"$tmp/h1.out" 2>"$tmp/h1.err" ||
    fail "(h) root in a session: $(cat "$tmp/h1.out" "$tmp/h1.err")"
grep -qE "^request $(rid sessroot): approved by subject 'vts$$' local account 'root' \(via session\) at " "$tmp/h1.out" ||
    fail "(h) root: $(cat "$tmp/h1.out" "$tmp/h1.err")"
! grep -q "To sign in" "$tmp/h1.err" || fail "(h) root in a session was asked to sign in"
# a test account: a session vigild starts (vigil run --token-file through
# vigild); inside it, vigild knows the caller by that session's token
as "$appr" "$V" run --token-file "$tmp/appr.token" -- \
    /usr/bin/env VIGILD_SOCKET="$tmp/vigild.sock" "$V" approve "$(rid sessnr)" >"$tmp/h2.out" 2>"$tmp/h2.err" ||
    fail "(h) $appr in a session: $(cat "$tmp/h2.out" "$tmp/h2.err")"
grep -qE "^request $(rid sessnr): approved by subject '$appr' local account '$appr' \(via session\) at " "$tmp/h2.out" ||
    fail "(h) $appr: $(cat "$tmp/h2.out" "$tmp/h2.err")"

step "(i) real held sessions"
cat >"$tmp/hold.policy" <<EOF
default allow
hold exe=/usr/bin/whoami approvers=local:root timeout=60s
hold exe=/usr/bin/id approvers=local:$grp timeout=60s
hold exe=/usr/bin/stat approvers=group:sre-$$ timeout=60s
hold exe=/usr/bin/uname approvers=local:$req timeout=15s
EOF
# held OUT ERR CMD: a session of $req running sh -c CMD (in the background),
# until its command is held; HP its pid, HID the request
held() {
    (cd "$tmp" && exec "$V" --store "$store" --policy "$tmp/hold.policy" run --user "$req" --no-pty -- sh -c "$3") \
        >"$1" 2>"$2" &
    HP=$!
    _i=0
    until grep -q "^vigil: held for approval (request " "$2" 2>/dev/null; do
        _i=$((_i + 1))
        [ "$_i" -lt 1200 ] && kill -0 "$HP" 2>/dev/null || fail "no hold: $(cat "$1" "$2")"
        sleep 0.05
    done
    HID=$(sed -n 's/^vigil: held for approval (request \([0-9a-z]*\)).*/\1/p' "$2")
}
held "$tmp/i1.out" "$tmp/i1.err" 'whoami; echo "rc=$?"'
"$V" --store "$store" approvals show "$HID" >"$tmp/i1.show" || fail "(i) show"
pv_has "$tmp/i1.show" "command    whoami"
pv_has "$tmp/i1.show" "user       $req on "
pv_has "$tmp/i1.show" "approvers  local:root"
expect 0 "$tmp/i1.dec" "$tmp/i1.decerr" "$V" --store "$store" approve "$HID" --reason "go ahead"
wait "$HP" || fail "(i) the approved session exited $?: $(cat "$tmp/i1.err")"
[ "$(cat "$tmp/i1.out")" = "$req
rc=0" ] || fail "(i) approved output: $(cat "$tmp/i1.out")"
pv_has "$tmp/i1.err" "vigil: approved by root (request $HID)"

held "$tmp/i2.out" "$tmp/i2.err" 'echo "before the hold"; id -un; echo "rc=$?"'
# the approver watches the held session through vigild; someone else may not
sess=$(as "$appr" "$V" approvals --json | python3 -c "
import json, sys
print([o['session'] for o in map(json.loads, sys.stdin) if o['id'] == '$HID'][0])") || fail "(i) no session for $HID"
as "$appr" "$V" watch "$sess" >"$tmp/i2.watch" 2>"$tmp/i2.watcherr" &
wp=$!
i=0
until grep -q "before the hold" "$tmp/i2.watch" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] && kill -0 "$wp" 2>/dev/null || fail "(i) the approver cannot watch: $(cat "$tmp/i2.watch" "$tmp/i2.watcherr")"
    sleep 0.05
done
expect 1 "$tmp/i2.w2" "$tmp/i2.w2err" as "$other" "$V" watch "$sess"
pv_has "$tmp/i2.w2err" "not permitted"
expect 0 "$tmp/i2.dec" "$tmp/i2.decerr" as "$appr" "$V" approve "$HID"
wait "$HP" || fail "(i) session exited $?: $(cat "$tmp/i2.err")"
[ "$(cat "$tmp/i2.out")" = "before the hold
$req
rc=0" ] || fail "(i) approved through vigild: $(cat "$tmp/i2.out" "$tmp/i2.err")"
pv_has "$tmp/i2.err" "vigil: approved by $appr (request $HID)"
i=0
while kill -0 "$wp" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 1200 ] || fail "(i) the watch did not end with the session"
    sleep 0.05
done
pv_has "$tmp/i2.watch" "$req"

held "$tmp/i3.out" "$tmp/i3.err" 'stat -c %n /etc/hostname; echo "rc=$?"'
sign_in "$tmp/i3.dec" "$tmp/i3.decerr" "vti$$" approve "$V" --store "$store" --config "$tmp/vigil.conf" approve "$HID"
[ "$SIGN_RC" -eq 0 ] || fail "(i) sign-in approval: $(cat "$tmp/i3.dec" "$tmp/i3.decerr")"
wait "$HP" || fail "(i) session exited $?"
[ "$(cat "$tmp/i3.out")" = "/etc/hostname
rc=0" ] || fail "(i) approved by a sign-in: $(cat "$tmp/i3.out" "$tmp/i3.err")"
pv_has "$tmp/i3.err" "vigil: approved by vti$$@example.test (request $HID)"

held "$tmp/i4.out" "$tmp/i4.err" 'whoami; echo "rc=$?"'
expect 0 "$tmp/i4.dec" "$tmp/i4.decerr" "$V" --store "$store" deny "$HID" --reason "not during the freeze"
wait "$HP" || fail "(i) denied session exited $?"
[ "$(cat "$tmp/i4.out")" = "rc=126" ] || fail "(i) denied output: $(cat "$tmp/i4.out")"
pv_has "$tmp/i4.err" "vigil: rejected by root (request $HID): not during the freeze"

held "$tmp/i5.out" "$tmp/i5.err" 'uname; echo "rc=$?"'
expect 1 "$tmp/i5.dec" "$tmp/i5.decerr" as "$req" "$V" approve "$HID"
pv_has "$tmp/i5.decerr" "vigil: approve: not allowed: you made this request (four-eyes: same local account '$req')"
wait "$HP"
[ "$(cat "$tmp/i5.out")" = "rc=126" ] || fail "(i) self-approved: $(cat "$tmp/i5.out")"
pv_has "$tmp/i5.err" "vigil: not approved within 15s (request $HID): uname"

echo "ok"
