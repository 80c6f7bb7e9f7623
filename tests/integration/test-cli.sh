#!/bin/sh
# The CLI's dispatch contract: help, version, unknown commands and options,
# global options before and after the command.
set -u
. "$(dirname "$0")/lib.sh"

out=$("$VIGIL" --version) || fail "--version exit $?"
case "$out" in "vigil "*) ;; *) fail "--version printed '$out'" ;; esac

"$VIGIL" help >/dev/null || fail "help exit $?"
"$VIGIL" help | grep -q '^  policy' || fail "help does not list policy"

expect_exit 2 "$VIGIL" frobnicate
err=$("$VIGIL" frobnicate 2>&1)
[ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "unknown command: more than one line: $err"
case "$err" in *"unknown command 'frobnicate'"*) ;; *) fail "unknown command message: $err" ;; esac

expect_exit 2 "$VIGIL" --bogus
expect_exit 2 "$VIGIL" policy --bogus
expect_exit 2 "$VIGIL" --store
expect_exit 2 "$VIGIL"

# Global options stand before or after the command, as --opt V or --opt=V.
pol=$VIGIL_SOURCE_ROOT/policy/examples/production.policy
expect_exit 0 "$VIGIL" --policy "$pol" policy check
expect_exit 0 "$VIGIL" policy check --policy "$pol"
expect_exit 0 "$VIGIL" policy --policy="$pol" check
expect_exit 1 "$VIGIL" --policy /nonexistent/policy policy check
expect_exit 1 "$VIGIL" policy check --policy /nonexistent/policy
# after "--" nothing is taken as a global option
out=$("$VIGIL" policy test "$pol" --user u --exe /bin/echo -- echo --policy x) || fail "policy test with --policy after --: exit $?"
case "$out" in allow*|deny*|hold*|audit*) ;; *) fail "policy test after --: '$out'" ;; esac
ok
