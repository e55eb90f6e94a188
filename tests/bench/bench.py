#!/usr/bin/env python3
"""Gantry benchmarks (make bench). Prints each figure with its reference, measured in the
same run on the same machine. Nothing here asserts a time; the figures go to
docs/performance.md together with the command that produced them."""
import argparse
import fcntl
import os
import pty
import re
import random
import shutil
import signal
import sqlite3
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time


def seed_store(gantry, home, n):
    """Creates the store through gantry itself, then adds n ended jobs (with events)."""
    env = dict(os.environ, GANTRY_HOME=home)
    subprocess.run([gantry, "ls"], env=env, check=True, stdout=subprocess.DEVNULL)
    db = sqlite3.connect(os.path.join(home, "state", "gantry.db"))
    now = int(time.time() * 1000)
    rng = random.Random(7)
    states = ["SUCCEEDED", "FAILED", "STOPPED"]
    kinds = [("training", "train-mnist-tiny"), ("notebook", "jupyter-notebook"),
             ("endpoint", "http-endpoint")]
    rows, events = [], []
    for i in range(n):
        kind, tpl = kinds[i % 3]
        jid = "j%08x" % rng.getrandbits(32)
        created = now - (n - i) * 60000
        st = states[i % 3]
        rows.append((jid, "%s-%d" % (tpl, i + 1), kind, st, tpl, "local", "bench",
                     "gantry-" + jid, '{"epochs":"3"}', "{}", None, "bench seed", None, 0,
                     1, 0, 0, created, created + 5000, created + 1000, created + 5000))
        events.append((jid, created, None, "PENDING", "launch requested"))
        events.append((jid, created + 5000, "RUNNING", st, "bench seed"))
    db.executemany("INSERT INTO jobs (id, name, kind, state, template_name, provider, owner, "
                   "idem_key, params_json, spec_json, provider_ref, reason, url, port, has_exit,"
                   " exit_code, gpus, created_ms, updated_ms, started_ms, ended_ms) VALUES "
                   "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    db.executemany("INSERT INTO job_events (job_id, at_ms, from_state, to_state, reason) "
                   "VALUES (?,?,?,?,?)", events)
    db.commit()
    db.close()


def time_cmd(argv, env, runs):
    """Median and min wall time (ms) of running argv to completion, output discarded."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(out), min(out)


# Escape sequences (CSI, charset selection, OSC) removed before looking for the marker text.
ANSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b\][^\x07]*\x07|\x1b[=>78]")


def first_frame_ms(argv, env, marker, rows=40, cols=120, timeout=10.0):
    """Time from exec to the moment marker has been written to a rows x cols pty."""
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe(argv[0], argv, env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    buf = b""
    elapsed = None
    while time.perf_counter() - t0 < timeout:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        buf += chunk
        if marker in ANSI.sub(b"", buf):
            elapsed = (time.perf_counter() - t0) * 1000
            break
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    os.close(fd)
    if elapsed is None:
        raise RuntimeError("marker %r never appeared; last output: %r" % (marker, buf[-300:]))
    return elapsed


def median_first_frame(argv, env, marker, runs):
    vals = [first_frame_ms(argv, env, marker) for _ in range(runs)]
    return statistics.median(vals), min(vals)


def proc_cpu_ticks(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock, "-f", "/dev/null"] + list(args), check=True,
                          capture_output=True, text=True).stdout


def watch_in_tmux(sock, argv, env_extra, seconds, cols=120, rows=40, ready=None):
    """Runs argv in a cols x rows tmux pane for `seconds`; returns (cpu %, bytes/second)."""
    log = tempfile.mktemp(prefix="gantry-bench-pipe.")
    cmd = " ".join("%s=%s" % kv for kv in env_extra.items()) + " " + " ".join(argv)
    tmux(sock, "new-session", "-d", "-x", str(cols), "-y", str(rows), "env " + cmd)
    pid = int(tmux(sock, "display-message", "-p", "#{pane_pid}").strip())
    t_end = time.time() + 15
    while ready and time.time() < t_end:
        if ready in tmux(sock, "capture-pane", "-p"):
            break
        time.sleep(0.2)
    time.sleep(3)  # let start-up work finish before measuring the steady state
    tmux(sock, "pipe-pane", "-o", "cat > %s" % log)
    c0, w0 = proc_cpu_ticks(pid), time.time()
    time.sleep(seconds)
    c1, w1 = proc_cpu_ticks(pid), time.time()
    tmux(sock, "pipe-pane")
    time.sleep(0.3)
    nbytes = os.path.getsize(log)
    os.unlink(log)
    tmux(sock, "kill-server")
    hz = os.sysconf("SC_CLK_TCK")
    return 100.0 * (c1 - c0) / hz / (w1 - w0), nbytes / (w1 - w0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gantry", required=True)
    ap.add_argument("--datadir", required=True)
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=15)
    a = ap.parse_args()
    gantry = os.path.abspath(a.gantry)
    base = dict(os.environ, GANTRY_DATADIR=a.datadir, TERM="xterm-256color",
                LANG="C.UTF-8", LC_ALL="C.UTF-8")
    base.pop("NO_COLOR", None)
    print("machine: %s, %d CPUs" % (os.uname().release, os.cpu_count()))

    # 1 and 2: 10,000 jobs in the store
    home = tempfile.mkdtemp(prefix="gantry-bench.")
    try:
        seed_store(gantry, home, 10000)
        env = dict(base, GANTRY_HOME=home)
        db = os.path.join(home, "state", "gantry.db")
        med, lo = median_first_frame([gantry, "--view", "jobs"], env, b"q quit", a.runs)
        print("first-frame  gantry TUI, 10,000 jobs, 120x40: median %.1f ms (min %.1f)" % (med, lo))
        if shutil.which("htop"):
            med, lo = median_first_frame(["htop"], env, b"F10", a.runs)
            print("first-frame  reference htop, 120x40:           median %.1f ms (min %.1f)" % (med, lo))
        med, lo = time_cmd([gantry, "ls", "-o", "json"], env, a.runs)
        print("ls-json      gantry ls -o json, 10,000 jobs:    median %.1f ms (min %.1f)" % (med, lo))
        med, lo = time_cmd(["sqlite3", "-json", db, "SELECT * FROM jobs ORDER BY created_ms DESC"],
                           env, a.runs)
        print("ls-json      reference sqlite3 -json, same rows: median %.1f ms (min %.1f)" % (med, lo))
    finally:
        shutil.rmtree(home, ignore_errors=True)

    # 3 and 4: 200 running jobs, TUI open at a 1 s refresh, 120x40
    home = tempfile.mkdtemp(prefix="gantry-bench.")
    env = dict(base, GANTRY_HOME=home)
    tdir = os.path.join(home, "config", "templates")
    os.makedirs(tdir)
    with open(os.path.join(tdir, "idle.yaml"), "w") as f:
        f.write("name: idle\nkind: training\ndescription: sleeps\nrun: exec sleep 100000\n")
    try:
        for _ in range(200):
            subprocess.run([gantry, "launch", "idle", "--detach"], env=env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        subprocess.run([gantry, "ls"], env=env, check=True, stdout=subprocess.DEVNULL)
        extra = {"GANTRY_HOME": home, "GANTRY_DATADIR": a.datadir, "TERM": "xterm-256color",
                 "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
        cpu, bps = watch_in_tmux("gantry-bench-%d" % os.getpid(),
                                 [gantry, "-d", "1000", "--view", "jobs"], extra, a.seconds,
                                 ready="idle-")
        print("idle-cpu     gantry TUI, 200 running jobs, -d 1000, %d s: %.2f%% of a core"
              % (a.seconds, cpu))
        print("bytes        gantry TUI, only ages/clock change: %.0f bytes per refresh" % bps)
        if shutil.which("htop"):
            cpu, bps = watch_in_tmux("htop-bench-%d" % os.getpid(), ["htop", "-d", "10"], extra,
                                     a.seconds, ready="F10")
            print("idle-cpu     reference htop -d 10, %d s: %.2f%% of a core" % (a.seconds, cpu))
            print("bytes        reference htop -d 10: %.0f bytes per refresh (1 s)" % bps)
    finally:
        subprocess.run([gantry, "ls", "-o", "json"], env=env, stdout=subprocess.DEVNULL)
        jobs = os.path.join(home, "state", "jobs")
        for d in os.listdir(jobs) if os.path.isdir(jobs) else []:
            for fn in ("pid", "supervisor.pid"):
                p = os.path.join(jobs, d, fn)
                if os.path.exists(p):
                    try:
                        pid = int(open(p).read().split()[0])
                        os.killpg(pid, signal.SIGKILL) if fn == "pid" else os.kill(pid, signal.SIGKILL)
                    except (OSError, ValueError):
                        pass
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
