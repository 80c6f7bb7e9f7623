#!/usr/bin/env python3
"""The terminal with recording and masking in the stream (issues 4 and 5).

throughput: 150 MB of base64 with planted secrets (one line in 500 carries a
  card number, an AWS key, a JWT, an e-mail address, a password assignment,
  in turn), written by `cat` inside a session; the outer terminal is a
  pseudo-terminal read as fast as possible. Modes, in one run:
    script      script -q -c CMD /dev/null (util-linux), the anchor
    vigil       vigil run --pty, recording on, no mask rules
    vigil+mask  vigil run --pty, recording on, every built-in detector
    script+rec  script(1) again, with a process beside it that spends the
                CPU vigil's recording thread took in this round (its ms per
                MB times script(1)'s MB/s, in bursts of that share of every
                5 ms): what script(1) would reach if it did vigil's
                recording work. The relay's own speed is vigil against it.
  Ratios: each against script(1), and masking's cost against vigil. Also
  the CPU time of the relaying process per MB (script(1), or vigil's
  supervisor: its relay thread and its recording thread), which depends far
  less than MB/s on what else the machine runs.
latency: a driver types one byte every 5 ms into `stty raw -echo; dd bs=1`
  (which echoes each byte back) and times each echo, letters and digits in
  turn (a digit could begin a card number: the masker holds it for the
  recording, never for the terminal); bare (dd on the pty directly) is the
  anchor for the added latency.

Usage: bench/record/term.py [throughput|latency|all] [--mb N] [--keys N] [--rounds N]
Runs as root; makes a throwaway user and store, removed at the end.
VIGIL names the vigil binary (default: build/tools/vigil of this tree).
VIGIL_BASE, when set, names another vigil binary run as one more mode, "base"
(e.g. a build without recording, to see what recording costs in the same run).
"""
import argparse
import fcntl
import os
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.environ.get("VIGIL", os.path.join(TOP, "build/tools/vigil"))
BASE = os.environ.get("VIGIL_BASE")
DETECTORS = ["credit-card", "aws-access-key", "aws-secret-key", "private-key", "jwt", "github-token",
             "slack-token", "ssn-us", "email", "iban", "password-assignment"]
PLANTED = [b"card 4111 1111 1111 1111 end", b"key AKIAIOSFODNN7EXAMPLE end",
           b"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0."
           b"dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
           b"mail bob@example.com now", b"password=hunter2"]


def spawn(argv, env):
    fd, follower = os.openpty()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(follower, termios.TIOCSCTTY, 0)
        for i in range(3):
            os.dup2(follower, i)
        os.closerange(3, 1 << 16)
        os.execvpe(argv[0], argv, env)
    os.close(follower)
    return pid, fd


def command(mode, cmd, user, tmp):
    asuser = ["setpriv", "--reuid", user, "--regid", user, "--init-groups"]
    if mode == "bare":
        return asuser + ["sh", "-c", cmd]
    if mode in ("script", "script+rec"):
        return asuser + ["script", "-q", "-c", cmd, "/dev/null"]
    pol = tmp + ("/mask.policy" if mode == "vigil+mask" else "/plain.policy")
    exe = BASE if mode == "base" else VIGIL
    # a store per build: another build ("base") may write another format
    store = tmp + ("/store-base" if mode == "base" else "/store")
    return [exe, "--policy", pol, "--store", store, "run", "--user", user, "--pty", "--", "sh", "-c", cmd]


def own_cpu(pid):
    """CPU seconds (user + system) of process @pid itself, all its threads,
    not its children; read while it is a zombie, so the figure is final."""
    f = open("/proc/%d/stat" % pid).read()
    f = f[f.rindex(")") + 2:].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def thread_cpu(pid, seen):
    """Record each thread's CPU seconds so far in @seen (tid -> seconds)."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            f = open("/proc/%d/task/%s/stat" % (pid, tid)).read()
            f = f[f.rindex(")") + 2:].split()
            seen[int(tid)] = (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        pass


def machine_cpu():
    """(busy, idle) seconds of all CPUs so far, from /proc/stat."""
    f = [int(x) for x in open("/proc/stat").readline().split()[1:]]
    idle = f[3] + f[4]
    return (sum(f[:8]) - idle) / os.sysconf("SC_CLK_TCK"), idle / os.sysconf("SC_CLK_TCK")


BURN = """
import sys, time
share, period = float(sys.argv[1]), 0.005
while True:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < share * period:
        pass
    time.sleep(period * (1 - share))
"""


def rec_share(rec_ms_per_mb, mb_per_s):
    """The share of one CPU that recording at @rec_ms_per_mb takes at @mb_per_s."""
    return min(1.0, rec_ms_per_mb * mb_per_s / 1000)


def throughput(mode, user, tmp, env, path, burn=0.0):
    """@burn: a share of one CPU that a process beside the run spends."""
    burner = subprocess.Popen([sys.executable, "-c", BURN, "%.4f" % burn]) if burn > 0 else None
    try:
        return throughput_run(mode, user, tmp, env, path)
    finally:
        if burner:
            burner.kill()
            burner.wait()


def throughput_run(mode, user, tmp, env, path):
    m0 = machine_cpu()
    pid, fd = spawn(command(mode, "cat " + path, user, tmp), env)
    n = 0
    t0 = time.monotonic()
    threads, sampled = {}, t0
    while True:
        try:
            d = os.read(fd, 1 << 20)
        except OSError:
            break
        if not d:
            break
        n += len(d)
        if time.monotonic() - sampled > 0.05:
            sampled = time.monotonic()
            thread_cpu(pid, threads)
    t = time.monotonic() - t0
    # the relaying process (script, or vigil's supervisor with its recording
    # thread; the session's processes are its children and not counted)
    os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
    cpu = own_cpu(pid)
    os.waitpid(pid, 0)
    os.close(fd)
    m1 = machine_cpu()
    # the main thread relays; vigil's other thread records (its last sample
    # may miss up to 50 ms of it: the end and the seal)
    main = threads.get(pid, 0.0)
    return n, t, cpu, main, sum(v for k, v in threads.items() if k != pid), m1[0] - m0[0], m1[1] - m0[1]


def latency(mode, user, tmp, env, keys):
    pid, fd = spawn(command(mode, "stty raw -echo; echo READY; exec dd bs=1 2>/dev/null", user, tmp), env)
    buf = b""
    while b"READY" not in buf:
        if not select.select([fd], [], [], 20)[0]:
            raise RuntimeError("%s: no READY" % mode)
        buf += os.read(fd, 4096)
    time.sleep(0.2)
    while select.select([fd], [], [], 0.05)[0]:
        os.read(fd, 4096)
    lat = {"letter": [], "digit": []}
    for i in range(keys):
        kind = "digit" if i % 2 else "letter"
        c = bytes([(48 + i % 10) if kind == "digit" else (97 + i % 26)])
        t0 = time.perf_counter()
        os.write(fd, c)
        got = b""
        while c not in got:
            if not select.select([fd], [], [], 5)[0]:
                raise RuntimeError("%s: the echo of %r did not come" % (mode, c))
            got += os.read(fd, 64)
        lat[kind].append((time.perf_counter() - t0) * 1e6)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return lat


def make_data(path, mb):
    raw = mb * 1000 * 1000 * 3 // 4
    b64 = subprocess.run("head -c %d /dev/urandom | base64" % raw, shell=True, check=True,
                         capture_output=True).stdout.split(b"\n")
    for i in range(0, len(b64), 500):
        b64[i] = PLANTED[(i // 500) % len(PLANTED)]
    with open(path, "wb") as f:
        f.write(b"\n".join(b64))
    os.chmod(path, 0o644)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="all")
    ap.add_argument("--mb", type=int, default=150)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    if not os.access(VIGIL, os.X_OK):
        sys.exit("no vigil at %s (meson compile -C build)" % VIGIL)
    user = "vb%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="vigil-bench-record.")
    os.chmod(tmp, 0o755)
    env = dict(os.environ, TERM="xterm", VIGIL_HOST_KEY=tmp + "/host.key")
    try:
        subprocess.run(["useradd", "-m", "-d", tmp + "/home", "-s", "/bin/sh", user], check=True)
        with open(tmp + "/plain.policy", "w") as f:
            f.write("default allow\n")
        with open(tmp + "/mask.policy", "w") as f:
            f.write("default allow\n" + "".join("mask %s\n" % d for d in DETECTORS))
        load = " ".join(open("/proc/loadavg").read().split()[:3])
        if a.what in ("throughput", "all"):
            modes = ["script"] + (["base"] if BASE else []) + ["vigil", "vigil+mask", "script+rec"]
            path = tmp + "/data.b64"
            make_data(path, a.mb)
            size = os.path.getsize(path)
            res = {m: [] for m in modes}
            cpu = {m: [] for m in modes}
            relay = {m: [] for m in modes}
            rec = {m: [] for m in modes}
            busy = {m: [] for m in modes}
            idle = {m: [] for m in modes}
            for _ in range(a.rounds):
                for m in modes:
                    # this round's recording CPU per MB at this round's script(1) speed
                    burn = rec_share(rec["vigil"][-1], res["script"][-1]) if m == "script+rec" else 0.0
                    n, t, c, cm, cr, mb, mi = throughput(m, user, tmp, env, path, burn)
                    if n < size:
                        raise RuntimeError("%s: %d of %d bytes" % (m, n, size))
                    res[m].append(n / t / 1e6)
                    cpu[m].append(c * 1000 / (n / 1e6))
                    relay[m].append(cm * 1000 / (n / 1e6))
                    rec[m].append(cr * 1000 / (n / 1e6))
                    busy[m].append(mb * 1000 / (n / 1e6))
                    idle[m].append(100 * mi / (mb + mi) if mb + mi > 0 else 0)
                # recordings of earlier rounds are not needed
                subprocess.run([VIGIL, "--store", tmp + "/store", "prune", "--older-than", "0s"], env=env,
                               capture_output=True)
                if BASE:
                    subprocess.run([BASE, "--store", tmp + "/store-base", "prune", "--older-than", "0s"], env=env,
                                   capture_output=True)
            med = {m: statistics.median(res[m]) for m in modes}
            print("terminal throughput: %.0f MB of base64 with planted secrets, recording on, %d rounds "
                  "(median MB/s), load %s" % (size / 1e6, a.rounds, load))
            cmed = {m: statistics.median(cpu[m]) for m in modes}
            for m in modes:
                split = "" if m.startswith("script") else "  (relay thread %.2f, recording %.2f)" % (
                    statistics.median(relay[m]), statistics.median(rec[m]))
                print("  %-11s %7.1f MB/s  %.2fx script(1)   (rounds: %s)   relay CPU %5.2f ms/MB%s" %
                      (m, med[m], med[m] / med["script"], " ".join("%.1f" % x for x in res[m]), cmed[m], split))
            for m in modes:
                print("  %-11s machine CPU %5.2f ms/MB, CPUs idle %4.1f%% of the run" %
                      (m, statistics.median(busy[m]), statistics.median(idle[m])))
            print("  masking costs %.1f%% of vigil's throughput" % (100 * (1 - med["vigil+mask"] / med["vigil"])))
            print("  script(1) with vigil's recording CPU beside it (%.1f%% of a CPU, median): %.2fx script(1); "
                  "vigil %.2fx of it, vigil+mask %.2fx" % (
                      100 * statistics.median(rec_share(r, v) for r, v in zip(rec["vigil"], res["script"])),
                      med["script+rec"] / med["script"], med["vigil"] / med["script+rec"],
                      med["vigil+mask"] / med["script+rec"]))
            print("  relay CPU: the CPU time (user + system, all threads) of the relaying process per MB shown:"
                  " script(1), or vigil's supervisor (its relay thread and its recording thread); medians")
        if a.what in ("latency", "all"):
            modes = ["bare", "script"] + (["base"] if BASE else []) + ["vigil", "vigil+mask"]
            # rounds interleaved, mode after mode, so that a change in the
            # machine's state (its other load, the host's) falls on all alike
            out = {m: {"letter": [], "digit": []} for m in modes}
            for _ in range(a.rounds):
                for m in modes:
                    one = latency(m, user, tmp, env, a.keys // a.rounds)
                    for k in out[m]:
                        out[m][k] += one[k]
            print("keystroke echo: %d keys, one every 5 ms, letters and digits in turn, %d interleaved rounds "
                  "(median / p90 us), load %s" % (a.keys, a.rounds, load))
            base = statistics.median(out["bare"]["letter"] + out["bare"]["digit"])
            for m in modes:
                both = sorted(out[m]["letter"] + out[m]["digit"])
                md = statistics.median(both)
                print("  %-11s %6.0f / %6.0f us  added %+5.0f us   (letters %.0f, digits %.0f)" %
                      (m, md, both[int(len(both) * 0.9)], md - base, statistics.median(out[m]["letter"]),
                       statistics.median(out[m]["digit"])))
    finally:
        subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
        time.sleep(0.2)
        subprocess.run(["userdel", "-r", user], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


main()
