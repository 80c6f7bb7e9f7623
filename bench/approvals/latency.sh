#!/bin/sh
# How long an approval takes to reach a held process, and what holding costs
# the supervisor. One session holds N commands one after the other; for each,
# the time from the decision's commit (approval-tool returns) to the
# command's first output line. Anchors in the same run: the same command
# allowed without a hold (exec to output), and the poll interval (200 ms),
# which bounds the wait by design. Then the supervisor's CPU while it holds
# one command for 5 s, idle otherwise.
# Usage: bench/approvals/latency.sh [N]   (root; a build in build/)
. "$(dirname "$0")/../supervisor/lib.sh"
N=${1:-20}
TOOL=${TOOL:-$top/build/tests/approvals/approval-tool}
[ -x "$TOOL" ] || { echo "no approval-tool at $TOOL (meson compile -C build)" >&2; exit 1; }
printf 'default allow\nhold exe=/usr/bin/whoami timeout=60s\n' >"$BT/hold.policy"
export VIGIL_HOST_KEY="$BT/host.key"

python3 - "$VIGIL" "$TOOL" "$BT" "$BU" "$N" <<'PY'
import os, subprocess, sys, time
vigil, tool, bt, bu, n = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
store = bt + "/store"

def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, int(p * len(v)))]

# anchor: allowed, a line of output per exec, paced like the held ones
p = subprocess.Popen([vigil, "--policy", bt + "/policy", "--store", store, "run", "--user", bu, "--no-pty", "--",
                      "sh", "-c", "while read x; do whoami; done"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=subprocess.DEVNULL, bufsize=0)
allowed = []
for i in range(n):
    t0 = time.monotonic()
    p.stdin.write(b"x\n")
    p.stdout.readline()
    allowed.append(time.monotonic() - t0)
p.stdin.close(); p.wait()

# held: the decision's commit to the output
p = subprocess.Popen([vigil, "--policy", bt + "/hold.policy", "--store", store, "run", "--user", bu, "--no-pty",
                      "--", "sh", "-c", "while read x; do whoami; done"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, bufsize=0)
held = []
for i in range(n):
    p.stdin.write(b"x\n")
    rid = subprocess.run([tool, store, "wait", "--timeout", "30"], capture_output=True, text=True,
                         check=True).stdout.split()[0]
    subprocess.run([tool, store, "decide", rid, "approve", "--subject", "bench"], check=True)
    t0 = time.monotonic()
    p.stdout.readline()
    held.append(time.monotonic() - t0)
p.stdin.close(); p.wait()

# the supervisor's CPU while it holds one command (idle otherwise) for 5 s
p = subprocess.Popen([vigil, "--policy", bt + "/hold.policy", "--store", store, "run", "--user", bu, "--no-pty",
                      "--", "sh", "-c", "whoami"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
rid = subprocess.run([tool, store, "wait", "--timeout", "30"], capture_output=True, text=True,
                     check=True).stdout.split()[0]
def cpu(pid):
    f = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
c0, t0 = cpu(p.pid), time.monotonic()
time.sleep(5)
c1, t1 = cpu(p.pid), time.monotonic()
subprocess.run([tool, store, "decide", rid, "reject", "--subject", "bench"], check=True)
p.wait()

ms = lambda v: "%8.1f" % (v * 1000)
print("approvals latency, %d commands each (ms)      median      p90      max" % n)
print("  allowed, no hold (anchor)                  %s %s %s" % (ms(pct(allowed, .5)), ms(pct(allowed, .9)), ms(max(allowed))))
print("  held: decision committed -> output         %s %s %s" % (ms(pct(held, .5)), ms(pct(held, .9)), ms(max(held))))
print("  poll interval (design bound)                  200.0")
print("supervisor CPU while holding one command: %.2f%% of one core (%.3f s in %.1f s)" %
      (100 * (c1 - c0) / (t1 - t0), c1 - c0, t1 - t0))
PY
