#!/bin/sh
# `vigil policy check` and `vigil policy test` end to end: exit codes, output
# formats, files that are not policies, PATH resolution (against a fixture
# directory, never the host's programs), --explain, usage errors, and the
# shipped example policies.
set -u
. "$VIGIL_SOURCE_ROOT/tests/integration/lib.sh"

tmp=$(mktemp -d /tmp/vigil-policy-cli.XXXXXX) || fail "mktemp"
trap 'rm -rf "$tmp"' EXIT
tmp=$(cd "$tmp" && pwd -P)
cd "$tmp" || fail "cd"

# one_line CODE CMD...: CMD exits CODE, prints nothing on stdout and exactly
# one line on stderr; the line is left in $err.
one_line() {
    want=$1
    shift
    "$@" >out 2>errf
    got=$?
    err=$(cat errf)
    [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want: $err"
    [ ! -s out ] || fail "'$*' printed on stdout: $(cat out)"
    [ "$(wc -l <errf)" -eq 1 ] || fail "'$*' printed $(wc -l <errf) lines on stderr: $err"
}
# expect_out CMD...: CMD exits 0 and prints $want exactly on stdout.
expect_out() {
    got=$("$@" 2>errf)
    rc=$?
    [ "$rc" -eq 0 ] || fail "'$*' exited $rc: $(cat errf)"
    [ "$got" = "$want" ] || fail "'$*' printed '$got', expected '$want'"
}

# ---- check: valid files, the examples ----------------------------------------
for f in "$VIGIL_SOURCE_ROOT"/policy/examples/*.policy; do
    "$VIGIL" policy check "$f" >out 2>errf || fail "example $f: exit $?: $(cat errf)"
    [ ! -s out ] && [ ! -s errf ] || fail "example $f printed something: $(cat out errf)"
done
printf 'default deny\nallow exe=/bin/ls\n' >good.policy
"$VIGIL" policy check good.policy >out 2>&1 || fail "good.policy rejected"
[ ! -s out ] || fail "check printed on a valid file"
# Warnings go to stderr and keep exit 0.
printf 'default deny\nallow\nallow user=a\n' >warn.policy
"$VIGIL" policy check warn.policy >out 2>errf || fail "warnings made check fail"
[ ! -s out ] || fail "warnings on stdout"
grep -qx "warn.policy:3:1: warning: rule is never used: the rule on line 2 matches everything" errf ||
    fail "warning text: $(cat errf)"
# FILE defaults to the global --policy, before or after the command.
"$VIGIL" --policy good.policy policy check || fail "--policy before"
"$VIGIL" policy check --policy good.policy || fail "--policy after"
one_line 1 "$VIGIL" --policy "$tmp/none.policy" policy check

# ---- check: files that are not policies ----------------------------------------
one_line 1 "$VIGIL" policy check missing.policy
[ "$err" = "missing.policy: cannot read the policy: No such file or directory" ] || fail "missing: $err"
mkdir adir
one_line 1 "$VIGIL" policy check adir
[ "$err" = "adir: cannot read the policy: Is a directory" ] || fail "directory: $err"
: >empty.policy
one_line 1 "$VIGIL" policy check empty.policy
case "$err" in "empty.policy:1:1: the file is empty"*) ;; *) fail "empty: $err" ;; esac
# A binary file: the start of vigil's own executable (the whole one grows past
# the 4 MiB policy bound as components land, in sanitizer builds).
head -c 65536 "$VIGIL" >binary.policy
one_line 1 "$VIGIL" policy check binary.policy
case "$err" in *": NUL byte: this is a binary file, not a policy") ;; *) fail "binary: $err" ;; esac
head -c 1048576 /dev/zero | tr '\0' 'a' >longline.policy
one_line 1 "$VIGIL" policy check longline.policy
[ "$err" = "longline.policy:1:1: line is longer than 65536 bytes" ] || fail "1 MB line: $err"
{ echo "default deny"; head -c 1048576 /dev/zero | tr '\0' '#'; echo; } >longcomment.policy
one_line 1 "$VIGIL" policy check longcomment.policy
[ "$err" = "longcomment.policy:2:1: line is longer than 65536 bytes" ] || fail "1 MB comment: $err"
head -c 5000000 /dev/zero | tr '\0' '\n' >huge.policy
one_line 1 "$VIGIL" policy check huge.policy
[ "$err" = "huge.policy: file is larger than 4194304 bytes" ] || fail "huge: $err"
# Unreadable: as root, ask as an unprivileged user, since root reads anything.
printf 'default deny\n' >secret.policy
chmod 000 secret.policy
if [ "$(id -u)" -eq 0 ]; then
    # A copy of vigil in the temporary directory, so nobody can run it even
    # when the build tree is private (say, under /root).
    chmod 755 "$tmp"
    cp "$VIGIL" "$tmp/vigil-copy"
    chmod 755 "$tmp/vigil-copy"
    one_line 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$tmp/vigil-copy" policy check "$tmp/secret.policy"
else
    one_line 1 "$VIGIL" policy check "$tmp/secret.policy"
fi
[ "$err" = "$tmp/secret.policy: cannot read the policy: Permission denied" ] || fail "unreadable: $err"
# Errors: one line each, exit 1, nothing on stdout.
printf 'default deny\nallow exe~x\n' >bad.policy
one_line 1 "$VIGIL" policy check bad.policy
[ "$err" = "bad.policy:2:7: 'exe' takes '=' or '!=' and a path glob, not '~'" ] || fail "error line: $err"

# ---- test: decisions -------------------------------------------------------------
mkdir -p bin srv/app
printf '#!/bin/sh\n' >bin/tool
printf '#!/bin/sh\n' >bin/other
printf 'not executable\n' >bin/plain
chmod 755 bin/tool bin/other
ln -s tool bin/alias
cat >t.policy <<EOP
default deny
deny exe=$tmp/bin/tool arg~'^--danger$' message="no"
hold exe=$tmp/bin/tool runas=root approvers=group:sre
audit exe=$tmp/bin/other group=a group=b
allow exe=$tmp/bin/tool cwd=$tmp/srv/**
allow exe=/vtnx/hypothetical
allow cwd=/ user=carol
EOP
"$VIGIL" policy check t.policy || fail "t.policy invalid"
export PATH="$tmp/bin:/usr/bin:/bin"
want="allow t.policy:5"
expect_out "$VIGIL" policy test t.policy --user u --cwd "$tmp/srv/app" -- tool
# argv[0] with a '/' is a path, relative to --cwd; symlinks are resolved.
expect_out "$VIGIL" policy test t.policy --user u --cwd "$tmp/srv/app" -- ../../bin/tool x
expect_out "$VIGIL" policy test t.policy --user u --cwd "$tmp/srv/app" -- "$tmp/bin/alias"
expect_out "$VIGIL" policy test t.policy --user u --cwd "$tmp/srv/app" -- alias
# FILE is printed as given.
want="allow $tmp/t.policy:5"
expect_out "$VIGIL" policy test "$tmp/t.policy" --user u --cwd "$tmp/srv/app" -- tool
want="allow ./t.policy:5"
expect_out "$VIGIL" policy test ./t.policy --user u --cwd "$tmp/srv/app" -- tool
# Every decision exits 0.
want="deny t.policy:2"
expect_out "$VIGIL" policy test t.policy --user u --cwd "$tmp/srv/app" -- tool --danger
want="deny default"
expect_out "$VIGIL" policy test t.policy --user u --cwd /elsewhere -- tool
# --runas defaults to the user.
want="hold t.policy:3"
expect_out "$VIGIL" policy test t.policy --user root --cwd "$tmp/srv/app" -- tool
expect_out "$VIGIL" policy test t.policy --user u --runas root -- tool
# Groups only from --group.
want="audit t.policy:4"
expect_out "$VIGIL" policy test t.policy --user u --group a --group b -- other
want="deny default"
expect_out "$VIGIL" policy test t.policy --user u --group a -- other
expect_out "$VIGIL" policy test t.policy --user root -- other
# --cwd defaults to /.
want="allow t.policy:7"
expect_out "$VIGIL" policy test t.policy --user carol -- other
# --exe names the program; a path that does not exist is taken as written.
want="allow t.policy:6"
expect_out "$VIGIL" policy test t.policy --user u --exe /vtnx/hypothetical -- whatever
# Options may come before FILE.
want="allow t.policy:6"
expect_out "$VIGIL" policy test --user u --exe /vtnx/hypothetical t.policy -- whatever
# The command after -- is never taken for options.
want="deny t.policy:2"
expect_out "$VIGIL" policy test t.policy --user u -- tool --danger --user root

# --explain: one line per earlier rule, then the decision.
"$VIGIL" policy test t.policy --user carol --group a --explain -- other >out 2>errf || fail "explain exit $?"
cat >want <<EOW
t.policy:2: no match: exe '$tmp/bin/other' does not match '$tmp/bin/tool'
t.policy:3: no match: runas 'carol' is not 'root'
t.policy:4: no match: not in group 'b'
t.policy:5: no match: exe '$tmp/bin/other' does not match '$tmp/bin/tool'
t.policy:6: no match: exe '$tmp/bin/other' does not match '/vtnx/hypothetical'
allow t.policy:7
EOW
diff -u want out >&2 || fail "--explain output"
[ ! -s errf ] || fail "--explain wrote to stderr: $(cat errf)"

# ---- test: errors (exit 1) and usage errors (exit 2) ---------------------------------
one_line 1 "$VIGIL" policy test t.policy --user u -- nothere
[ "$err" = "vigil: policy test: 'nothere' not found in PATH (give --exe PATH)" ] || fail "not found: $err"
one_line 1 "$VIGIL" policy test t.policy --user u -- plain
one_line 1 "$VIGIL" policy test t.policy --user u -- ./nothere
one_line 1 "$VIGIL" policy test missing.policy --user u --exe /x -- x
one_line 1 "$VIGIL" policy test bad.policy --user u --exe /x -- x
# A regex past its match limit fails closed: an error, not a decision.
printf "default allow\ndeny cmd~'^(\\\\w+\\\\s?)*\$'\n" >slow.policy
"$VIGIL" policy check slow.policy || fail "slow.policy invalid"
one_line 1 "$VIGIL" policy test slow.policy --user u --exe /x -- x aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!
case "$err" in *"cannot decide"*) ;; *) fail "match limit: $err" ;; esac

one_line 2 "$VIGIL" policy test t.policy -- tool
case "$err" in *"--user USER is required"*"(try 'vigil policy test --help')") ;; *) fail "no --user: $err" ;; esac
one_line 2 "$VIGIL" policy test t.policy --user u tool
one_line 2 "$VIGIL" policy test t.policy --user u
one_line 2 "$VIGIL" policy test t.policy --user u --
one_line 2 "$VIGIL" policy test t.policy --user u --cwd relative -- tool
one_line 2 "$VIGIL" policy test t.policy --user u --exe relative -- tool
one_line 2 "$VIGIL" policy test t.policy --user u --bogus -- tool
one_line 2 "$VIGIL" policy test t.policy --user
one_line 2 "$VIGIL" policy check a b
one_line 2 "$VIGIL" policy check --bogus
one_line 2 "$VIGIL" policy
one_line 2 "$VIGIL" policy bogus
one_line 2 "$VIGIL" policy --bogus
"$VIGIL" policy --help | grep -q '^Usage: vigil policy check' || fail "policy --help"
"$VIGIL" policy check --help | grep -q 'vigil policy test' || fail "policy check --help"
"$VIGIL" policy test --help | grep -q -- '--explain' || fail "policy test --help"
"$VIGIL" help policy | grep -q '^Usage: vigil policy' || fail "help policy"

# ---- the shipped examples decide sensibly -------------------------------------------
prod=$VIGIL_SOURCE_ROOT/policy/examples/production.policy
dev=$VIGIL_SOURCE_ROOT/policy/examples/developer.policy
decide() {
    "$VIGIL" policy test "$@" 2>errf | cut -d' ' -f1
}
[ "$(decide "$prod" --user d --group deploy --cwd /srv/app --exe /bin/rm -- rm -rf /srv/app)" = deny ] ||
    fail "production: rm -rf"
[ "$(decide "$prod" --user d --group deploy --cwd /srv/app --exe /bin/rm -- rm old.log)" = allow ] ||
    fail "production: rm in /srv"
[ "$(decide "$prod" --user d --group deploy --cwd /srv/app --exe /usr/bin/git -- git pull)" = allow ] ||
    fail "production: git pull"
[ "$(decide "$prod" --user d --group web --cwd /srv/app --exe /usr/bin/git -- git pull)" = deny ] ||
    fail "production: git pull outside deploy"
[ "$(decide "$prod" --user d --group deploy --exe /bin/systemctl -- systemctl restart app)" = hold ] ||
    fail "production: systemctl restart"
[ "$(decide "$prod" --user d --group deploy --exe /bin/systemctl -- systemctl status app)" = allow ] ||
    fail "production: systemctl status"
[ "$(decide "$prod" --user d --group deploy --exe /bin/systemctl -- reboot)" = hold ] ||
    fail "production: reboot by argv[0]"
[ "$(decide "$prod" --user a --group dba --exe /usr/bin/psql -- psql -c 'DROP TABLE t')" = hold ] ||
    fail "production: DROP TABLE"
[ "$(decide "$prod" --user a --group dba --exe /usr/bin/psql -- psql -c 'SELECT 1')" = allow ] ||
    fail "production: SELECT"
[ "$(decide "$prod" --user d --exe /usr/bin/curl -- curl https://example.com)" = audit ] ||
    fail "production: curl"
[ "$(decide "$prod" --user d --exe /usr/bin/python3 -- python3)" = deny ] || fail "production: default"
[ "$(decide "$prod" --user d --exe /tmp/x -- /tmp/x)" = deny ] || fail "production: /tmp"
[ "$(decide "$dev" --user d --exe /bin/rm -- rm -rf /)" = deny ] || fail "developer: rm -rf /"
[ "$(decide "$dev" --user d --exe /bin/rm -- rm -rf build)" = allow ] || fail "developer: rm -rf build"
[ "$(decide "$dev" --user d --exe /usr/bin/git -- git push --force)" = hold ] || fail "developer: force push"
[ "$(decide "$dev" --user d --exe /usr/bin/git -- git push)" = allow ] || fail "developer: push"
[ "$(decide "$dev" --user d --runas root --exe /usr/bin/apt -- apt install x)" = audit ] ||
    fail "developer: root"
[ "$(decide "$dev" --user d --exe /tmp/payload -- /tmp/payload)" = deny ] || fail "developer: /tmp"
[ "$(decide "$dev" --user d --exe /usr/bin/make -- make)" = allow ] || fail "developer: default"
ok
