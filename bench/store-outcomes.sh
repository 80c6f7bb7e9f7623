#!/bin/sh
# What showing who decided costs: `vigil audit` of one session with a lot of
# output and many held commands, with the approval outcomes (read from the
# session's chain, approval records only) against the same audit of its
# allowed commands alone (no outcome looked up), and against reading the
# whole chain with its output decoded (`vigil export --format json`, the
# anchor: what a reader that decodes every record would pay).
# Usage: bench/store-outcomes.sh [BUILD_DIR]; OUTPUT (default 256M) and
# COMMANDS (default 20000) change the session.
. "$(dirname "$0")/store-lib.sh"

OUTPUT=${OUTPUT:-256M}
COMMANDS=${COMMANDS:-20000}
STORE=$WORK/store
"$WRITER" --store "$STORE" --commands "$COMMANDS" --output "$OUTPUT" --hold-every 20 --manifest "$WORK/m" >/dev/null
id=$(cut -d' ' -f1 "$WORK/m")
"$VIGIL" --store "$STORE" sessions --json | python3 -c '
import json, sys
d = json.loads(sys.stdin.readline())
print("session: %d records, %d commands, %d MiB of output; store %s" % (d["records"], d["commands"],
      d["output_bytes"] >> 20, sys.argv[1]))' "$(du -sh "$STORE" | cut -f1)"

# run NAME CMD...: median ms of 5 runs (process start included)
run() {
    name=$1
    shift
    for i in 1 2 3 4 5; do
        a=$(ms); "$@" >"$WORK/out"; b=$(ms); echo $((b - a))
    done | median >"$WORK/med"
    echo "$name: $(cat "$WORK/med") ms ($(wc -l <"$WORK/out") lines)"
}
run "audit, allowed commands only (no outcome looked up)" "$VIGIL" --store "$STORE" audit --session "$id" --decision allow
run "audit, every command (outcomes from the chain)     " "$VIGIL" --store "$STORE" audit --session "$id"
run "audit, held commands only (outcomes)               " "$VIGIL" --store "$STORE" audit --session "$id" --decision timeout
run "anchor: export --format json (every record decoded)" "$VIGIL" --store "$STORE" export "$id" --format json
