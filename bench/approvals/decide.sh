#!/bin/sh
# What deciding costs: `vigil approvals --json` over N pending requests and
# one `vigil approve`, as root on the store and as an approver through vigild
# (a local: rule, so no sign-in is in the measurement). Anchor measured in
# the same run: `vigil --version` (the process start alone).
# Usage: bench/approvals/decide.sh [N] [M]   (root; a build in build/)
#   N pending requests (default 1000, the store's limit is 1024), M decisions (default 20)
. "$(dirname "$0")/../supervisor/lib.sh"
N=${1:-1000}
M=${2:-20}
MK=${MKREQUEST:-$top/build/tests/approvers/mkrequest}
VIGILD=${VIGILD:-$top/build/vigild/vigild}
[ -x "$MK" ] && [ -x "$VIGILD" ] || { echo "no mkrequest or vigild in build/ (meson compile -C build)" >&2; exit 1; }
G="vbg$$"
MKP=
VP=
groupadd "$G" || exit 1
usermod -a -G "$G" "$BU" || exit 1
trap 'kill $MKP $VP 2>/dev/null; groupdel "$G" 2>/dev/null; bench_cleanup' EXIT
export VIGIL_HOST_KEY="$BT/host.key"
cp "$VIGIL" "$BT/vigil" && chmod 755 "$BT/vigil"
printf 'issuer = https://idp.example\naudience = vigil\nstore = %s\n' "$BT/store" >"$BT/vigil.conf"

python3 - "$BT/spec" "$N" "$M" "$G" <<'PY'
import json, sys
path, n, m, g = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
with open(path, "w") as f:
    for i in range(n):
        f.write(json.dumps({"name": "r%d" % i, "session": "0190f5a0-0000-7000-8000-%012d" % (i % 50),
                            "user": "nobody", "argv": ["systemctl", "restart", "svc%d" % i], "cwd": "/srv",
                            "runas": "root", "env": ["FOO=bar"], "screen": "$ ls\r\n" * 40,
                            "rule": "/etc/vigil/policy.conf:%d" % (i % 30),
                            "approvers": "local:root,local:" + g}) + "\n")
PY
"$MK" "$BT/store" "$BT/spec" >"$BT/ids" 2>"$BT/mk.err" &
MKP=$!
while ! grep -qx ready "$BT/ids" 2>/dev/null; do
    kill -0 "$MKP" 2>/dev/null || { cat "$BT/mk.err" >&2; exit 1; }
    sleep 0.1
done
"$VIGILD" --socket "$BT/vigild.sock" --config "$BT/vigil.conf" --log-file "$BT/vigild.log" &
VP=$!
sleep 0.5

python3 - "$BT" "$BU" "$N" "$M" <<'PY'
import os, subprocess, sys, time
bt, bu, n, m = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
vigil = bt + "/vigil"
ids = [l.split()[1] for l in open(bt + "/ids") if len(l.split()) == 2]
env_user = {"PATH": "/usr/bin:/bin", "VIGILD_SOCKET": bt + "/vigild.sock", "HOME": bt}
as_user = ["setpriv", "--reuid=" + bu, "--regid=" + bu, "--init-groups"]

def timed(cmd, env=None):
    t0 = time.monotonic()
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    dt = time.monotonic() - t0
    if r.returncode != 0:
        sys.exit("failed: %s: %s" % (" ".join(cmd), r.stderr.decode()))
    return dt, r.stdout

def med(v):
    v = sorted(v)
    return v[len(v) // 2]

rows = []
rows.append(("vigil --version (anchor: process start)", med([timed([vigil, "--version"])[0] for _ in range(m)])))
t, out = timed([vigil, "--store", bt + "/store", "approvals", "--json"])
assert out.count(b"\n") == n, out.count(b"\n")
rows.append(("approvals --json, %d pending, root on the store" % n,
             med([timed([vigil, "--store", bt + "/store", "approvals", "--json"])[0] for _ in range(5)])))
t, out = timed(as_user + [vigil, "approvals", "--json"], env_user)
assert out.count(b"\n") == n, out.count(b"\n")
rows.append(("approvals --json, %d pending, through vigild" % n,
             med([timed(as_user + [vigil, "approvals", "--json"], env_user)[0] for _ in range(5)])))
root_dec = [timed([vigil, "--store", bt + "/store", "approve", i])[0] for i in ids[:m]]
rows.append(("approve, root on the store (%d pending)" % n, med(root_dec)))
user_dec = [timed(as_user + [vigil, "approve", i], env_user)[0] for i in ids[m:2 * m]]
rows.append(("approve, through vigild (%d pending)" % n, med(user_dec)))
print("deciding, median of %d runs (ms)" % m)
for name, v in rows:
    print("  %-52s %8.1f" % (name, v * 1000))
PY
