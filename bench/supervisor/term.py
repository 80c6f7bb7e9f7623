#!/usr/bin/env python3
"""Terminal benchmarks through a real pseudo-terminal.

throughput: 150 MB of base64 written by `cat` inside the session, the outer
  terminal read as fast as possible, through
    bare   cat directly on the pty
    script script -q -c CMD /dev/null (util-linux)
    vigil  vigil run --pty (policy: default allow)
latency: a driver types one byte every 5 ms into `stty raw -echo; dd bs=1`
  (which echoes every byte back) and times each echo; the median added over
  bare is what the relay costs per keystroke.

Usage: bench/supervisor/term.py [throughput|latency|all] [--mb N] [--keys N] [--rounds N]
Runs as root; makes a throwaway user for the sessions.
"""
import argparse, fcntl, os, select, shutil, statistics, struct, subprocess, sys, tempfile, termios, time

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VIGIL = os.environ.get("VIGIL", os.path.join(TOP, "build/tools/vigil"))


def spawn(argv):
    fd, follower = os.openpty()
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 50, 200, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(follower, termios.TIOCSCTTY, 0)
        for i in range(3):
            os.dup2(follower, i)
        os.closerange(3, 1 << 16)
        os.environ["TERM"] = "xterm"
        os.execvp(argv[0], argv)
    os.close(follower)
    return pid, fd


def wrap(mode, cmd, user, tmp):
    if mode == "bare":
        return ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "sh", "-c", cmd]
    if mode == "script":
        return ["setpriv", "--reuid", user, "--regid", user, "--init-groups", "script", "-q", "-c", cmd, "/dev/null"]
    return [VIGIL, "--policy", tmp + "/policy", "--store", tmp + "/store", "run", "--user", user, "--pty", "--", "sh", "-c", cmd]


def drain(fd):
    n = 0
    while True:
        try:
            d = os.read(fd, 1 << 20)
        except OSError:
            return n
        if not d:
            return n
        n += len(d)


def throughput(mode, user, tmp, path):
    pid, fd = spawn(wrap(mode, "cat " + path, user, tmp))
    t0 = time.monotonic()
    n = drain(fd)
    t = time.monotonic() - t0
    os.waitpid(pid, 0)
    os.close(fd)
    return n, t


def latency(mode, user, tmp, keys):
    pid, fd = spawn(wrap(mode, "stty raw -echo; echo READY; dd bs=1 2>/dev/null", user, tmp))
    buf = b""
    while b"READY" not in buf:
        r, _, _ = select.select([fd], [], [], 10)
        if not r:
            raise RuntimeError("%s: no READY" % mode)
        buf += os.read(fd, 4096)
    time.sleep(0.2)
    while select.select([fd], [], [], 0.05)[0]:
        os.read(fd, 4096)
    lat = []
    for i in range(keys):
        c = bytes([97 + i % 26])
        t0 = time.perf_counter()
        os.write(fd, c)
        got = b""
        while c not in got:
            r, _, _ = select.select([fd], [], [], 5)
            if not r:
                raise RuntimeError("%s: echo lost" % mode)
            got += os.read(fd, 64)
        lat.append((time.perf_counter() - t0) * 1e6)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    os.close(fd)
    return lat


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("what", nargs="?", default="all")
    ap.add_argument("--mb", type=int, default=150)
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("needs root")
    user = "vb%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="vigil-bench.")
    os.chmod(tmp, 0o755)
    try:
        subprocess.run(["useradd", "-m", "-d", tmp + "/home", "-s", "/bin/sh", user], check=True)
        with open(tmp + "/policy", "w") as f:
            f.write("default allow\n")
        os.mkdir(tmp + "/store", 0o700)
        modes = ["bare", "script", "vigil"]
        load = open("/proc/loadavg").read().split()[:3]
        if a.what in ("throughput", "all"):
            path = tmp + "/data.b64"
            raw = a.mb * 1000 * 1000 * 3 // 4
            subprocess.run("head -c %d /dev/urandom | base64 > %s" % (raw, path), shell=True, check=True)
            os.chmod(path, 0o644)
            res = {m: [] for m in modes}
            for _ in range(a.rounds):
                for m in modes:
                    n, t = throughput(m, user, tmp, path)
                    res[m].append(n / t / 1e6)
            print("terminal throughput, %d MB of base64, %d rounds (median MB/s), load %s" % (a.mb, a.rounds, " ".join(load)))
            sc = statistics.median(res["script"])
            for m in modes:
                v = statistics.median(res[m])
                print("  %-7s %7.1f MB/s  %.2fx script(1)" % (m, v, v / sc))
        if a.what in ("latency", "all"):
            med = {}
            for m in modes:
                lat = []
                for _ in range(a.rounds):
                    lat += latency(m, user, tmp, a.keys // a.rounds)
                lat.sort()
                med[m] = statistics.median(lat)
                med[m + "90"] = lat[int(len(lat) * 0.9)]
            print("keystroke echo, %d keys one every 5 ms (median / p90 us), load %s" % (a.keys, " ".join(load)))
            for m in modes:
                print("  %-7s %7.0f / %7.0f us  added %+5.0f us" % (m, med[m], med[m + "90"], med[m] - med["bare"]))
    finally:
        subprocess.run(["pkill", "-KILL", "-u", user], capture_output=True)
        time.sleep(0.2)
        subprocess.run(["userdel", "-f", "-r", user], capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)


main()
