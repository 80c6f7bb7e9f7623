#!/bin/sh
# 1,000,000 command events exported in constant memory: the peak RSS of
# exporting all of them stays within a small margin of exporting a tenth.
# Every 50th command is held and decided, so that the approval outcomes
# looked up in the sessions' chains (four sessions at a time interleave)
# are part of what is measured.
. "$(dirname "$0")/lib.sh"

N=${STORE_TEST_EVENTS:-1000000}
per=10000
sessions=$((N / per))
i=0
pids=""
while [ $i -lt 4 ]; do
    writer --user "u$i" --sessions $((sessions / 4)) --commands $per --output 0 --deny-every 7 --hold-every 50 \
        --start-us $((1700000000000000 + i * 1000)) --step-us 3600000000 >"$WORK/w$i.log" 2>&1 &
    pids="$pids $!"
    i=$((i + 1))
done
for p in $pids; do wait "$p" || fail "writer: $(cat "$WORK"/w*.log)"; done

python3 - "$VIGIL" "$STORE" "$N" <<'PY' || fail "audit export"
import csv, io, os, subprocess, sys, threading, time
vigil, store, n = sys.argv[1], sys.argv[2], int(sys.argv[3])

def anon_kib(pid):
    try:
        for l in open(f"/proc/{pid}/status"):
            if l.startswith("RssAnon:"):
                return int(l.split()[1])
    except OSError:
        pass
    return 0

outcomes = [0]

def run(args):
    # The LMDB map's file pages count in RSS but are page cache; the memory
    # the export itself holds is its anonymous memory, sampled while it runs.
    # Under ASan, freed memory waits in a quarantine of up to 256 MiB: keep it
    # small so that what is measured is what the export holds.
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4:thread_local_quarantine_size_kb=64"
    p = subprocess.Popen([vigil, "--store", store, "audit"] + args, stdout=subprocess.PIPE, env=env)
    peak = [0]
    def sample():
        while p.poll() is None:
            peak[0] = max(peak[0], anon_kib(p.pid))
            time.sleep(0.02)
    t = threading.Thread(target=sample)
    t.start()
    rows = 0
    reader = csv.reader(io.TextIOWrapper(p.stdout, encoding="utf-8", newline=""))
    header = next(reader)
    for row in reader:
        assert len(row) == len(header), row
        rows += 1
        if row[10] in ("approved", "rejected", "timeout", "withdrawn"):
            assert row[header.index("request")], row
            outcomes[0] += 1
    assert p.wait() == 0
    t.join()
    return rows, peak[0]

small, anon_small = run(["--user", "u0", "--until", "2023-11-15T00:00:00Z"])
outcomes[0] = 0
rows, anon = run([])
assert rows == n, (rows, n)
assert outcomes[0] >= n // 100, outcomes[0]
print(f"audit: {rows} rows ({outcomes[0]} with an approval outcome); peak anonymous RSS {anon} KiB "
      f"(a {small}-row export: {anon_small} KiB)")
# constant memory: fifty times the rows may not cost more than 4 MiB more
assert anon - anon_small < 4096, (anon, anon_small)
PY
ok
