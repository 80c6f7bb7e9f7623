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
ok
