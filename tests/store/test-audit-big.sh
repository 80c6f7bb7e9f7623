#!/bin/sh
# 1,000,000 command events exported in constant memory: the peak RSS of
# exporting all of them stays within a small margin of exporting a tenth.
. "$(dirname "$0")/lib.sh"

N=${STORE_TEST_EVENTS:-1000000}
per=10000
sessions=$((N / per))
i=0
pids=""
while [ $i -lt 4 ]; do
    writer --user "u$i" --sessions $((sessions / 4)) --commands $per --output 0 --deny-every 7 \
        --start-us $((1700000000000000 + i * 1000)) --step-us 3600000000 >"$WORK/w$i.log" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do wait "$p" || fail "writer: $(cat "$WORK"/w*.log)"; done

python3 - "$VIGIL" "$STORE" "$N" <<'PY' || fail "audit export"
import csv, io, resource, subprocess, sys
vigil, store, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def run(args):
    p = subprocess.Popen([vigil, "--store", store, "audit"] + args, stdout=subprocess.PIPE)
    rows = 0
    reader = csv.reader(io.TextIOWrapper(p.stdout, encoding="utf-8", newline=""))
    header = next(reader)
    for row in reader:
        assert len(row) == len(header), row
        rows += 1
    assert p.wait() == 0
    # ru_maxrss of the children waited for so far: the largest one
    return rows, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

small, rss_small = run(["--user", "u0", "--until", "2023-11-15T00:00:00Z"])
rows, rss = run([])
assert rows == n, (rows, n)
print(f"audit: {rows} rows; peak RSS {rss} KiB (a {small}-row export: {rss_small} KiB)")
# constant memory: a hundredfold more rows may not cost more than 8 MiB more
assert rss - rss_small < 8192, (rss, rss_small)
PY
ok
