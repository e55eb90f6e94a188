#!/usr/bin/env python3
"""Telemetry sweep of the ssh provider over a fleet of real OpenSSH workers (loopback).

Starts N workers with tests/sshd/start-workers.sh (loopback mode), then runs
`fleettool sweep ROUNDS` RUNS times: each run opens the provider, sweeps every host once
cold (connects included) and ROUNDS times warm (connections kept), printing the wall time
of each sweep and the CPU time (getrusage, all threads) the fleettool process spent on it.
Done three times: with the fake nvidia-smi on the workers (a bash and awk script, about
25 ms of CPU per call), with that fake behind a cache (the first call per host and
arguments runs it, later ones print the same bytes: Gantry gets and parses the same
output, but the remote side costs what a few small processes cost), and without any
nvidia-smi. All workers run on this machine, so the remote side's CPU competes with
Gantry's. Prints a markdown table of medians.
--user logs the workers in as another account (start-sshd.sh creates it with useradd -m
if missing): on machines whose root ~/.bashrc does slow things on every SSH session (a
pyenv rehash under a global lock, say), that measures Gantry rather than root's shell
start-up. Nothing here asserts a time."""
import argparse
import os
import pwd
import re
import shutil
import statistics
import subprocess
import sys
import tempfile


CACHED_FAKE = """#!/bin/sh
# nvidia-smi answering from a cache: the first call per host and arguments runs the fake
# from tests/sshd/fake-bin, later ones print what it printed.
c="%(cache)s/$(printf '%%s %%s' "${FAKE_GPU_HOST:-}" "$*" | md5sum | cut -c1-32)"
[ -f "$c" ] && exec cat "$c"
bash %(real)s "$@" >"$c.$$" && mv -f "$c.$$" "$c" && exec cat "$c"
"""


def cached_fake_bin(src, d):
    """A fake-bin directory whose nvidia-smi is the cached fake."""
    fb = os.path.join(d, "cached-bin")
    cache = os.path.join(d, "cache")
    os.makedirs(fb)
    os.makedirs(cache)
    os.chmod(fb, 0o755)
    os.chmod(cache, 0o1777)  # the workers' login user writes here
    path = os.path.join(fb, "nvidia-smi")
    with open(path, "w") as f:
        f.write(CACHED_FAKE % {"cache": cache,
                               "real": os.path.join(os.path.abspath(src),
                                                    "tests/sshd/fake-bin/nvidia-smi")})
    os.chmod(path, 0o755)
    return fb


def start_workers(src, n, d, port, mode, user):
    env = dict(os.environ, SSH_WORKERS_MODE="loopback")
    env.pop("SSH_TEST_USER", None)
    if user:
        env["SSH_TEST_USER"] = user
    if mode == "none":
        env["SSH_WORKERS_FAKE_BIN"] = "none"
    else:
        env["SSH_TEST_SETENV"] = "FAKE_GPU_COUNT=8"
        if mode == "cached":
            env["SSH_WORKERS_FAKE_BIN"] = cached_fake_bin(src, os.path.dirname(d))
    subprocess.run(["bash", os.path.join(src, "tests/sshd/start-workers.sh"), str(n), d,
                    str(port)], env=env, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)


def stop_workers(src, d):
    subprocess.run(["bash", os.path.join(src, "tests/sshd/stop-workers.sh"), d],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fleet_args(d, n, port, remote, user):
    args = ["--set", "key=%s/client_key" % d, "--set", "known_hosts=%s/known_hosts" % d,
            "--set", "connect_timeout_ms=10000", "--set", "io_timeout_ms=30000"]
    if user:
        args += ["--set", "user=%s" % user]
    for i in range(n):
        args += ["--set", "hosts.%d.name=w%d" % (i, i + 1),
                 "--set", "hosts.%d.address=127.0.0.%d" % (i, i + 2),
                 "--set", "hosts.%d.port=%d" % (i, port),
                 "--set", "hosts.%d.gpus=8" % i,
                 "--set", "hosts.%d.dir=%s/w%d" % (i, remote, i + 1)]
    return args


LINE = re.compile(r"^sweep (cold|warm) hosts=(\d+) reachable=(\d+) wall_ms=(\d+) cpu_ms=([\d.]+)"
                  r" gpus=(\d+)")


def measure(tool, args, runs, rounds, gpus):
    cold_wall, cold_cpu, warm_wall, warm_cpu = [], [], [], []
    for _ in range(runs):
        out = subprocess.run([tool] + args + ["sweep", str(rounds)], check=True,
                             capture_output=True, text=True).stdout
        for line in out.splitlines():
            m = LINE.match(line)
            if not m:
                continue
            if m.group(2) != m.group(3):
                raise RuntimeError("not every host answered: " + line)
            if int(m.group(6)) != gpus:
                raise RuntimeError("expected %d GPUs in all: %s" % (gpus, line))
            (cold_wall if m.group(1) == "cold" else warm_wall).append(int(m.group(4)))
            (cold_cpu if m.group(1) == "cold" else warm_cpu).append(float(m.group(5)))
    med = statistics.median
    return med(cold_wall), med(cold_cpu), med(warm_wall), med(warm_cpu)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fleettool", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--port", type=int, default=24100)
    ap.add_argument("--user", default="", help="log in as this user (default: the rig's)")
    a = ap.parse_args()
    tool = os.path.abspath(a.fleettool)
    print("machine: %s, %d CPUs; %d loopback workers (user %s), %d runs x (1 cold + %d warm)"
          " sweeps" % (os.uname().release, os.cpu_count(), a.hosts, a.user or "default",
                       a.runs, a.rounds))
    remote = ".gantry-sweep-%d" % os.getpid()  # under the remote user's home
    rows = []
    labels = {"fake": "fake nvidia-smi (8 GPUs)",
              "cached": "fake nvidia-smi behind a cache (8 GPUs)",
              "none": "no nvidia-smi"}
    for k, mode in enumerate(("fake", "cached", "none")):
        d = tempfile.mkdtemp(prefix="gantry-sweep.")
        os.chmod(d, 0o711)  # sshd reads authorized_keys below it as the login user
        wdir = os.path.join(d, "workers")
        try:
            start_workers(a.srcdir, a.hosts, wdir, a.port + k, mode, a.user)
            args = fleet_args(wdir, a.hosts, a.port + k, remote, a.user)
            cw, cc, ww, wc = measure(tool, args, a.runs, a.rounds,
                                     0 if mode == "none" else 8 * a.hosts)
            cmd = "fleettool --set key=... --set hosts.N.*=... (x%d) sweep %d" % (a.hosts,
                                                                                  a.rounds)
            if a.user:
                cmd = cmd.replace("sweep", "--set user=%s sweep" % a.user)
            label = labels[mode]
            rows.append((label, "cold (connect + sweep)", cw, cc, cmd))
            rows.append((label, "warm (sessions kept)", ww, wc, cmd))
        finally:
            stop_workers(a.srcdir, wdir)
            shutil.rmtree(d, ignore_errors=True)
            try:
                home = pwd.getpwnam(a.user).pw_dir if a.user else os.path.expanduser("~")
                shutil.rmtree(os.path.join(home, remote), ignore_errors=True)
            except KeyError:
                pass
    print()
    print("| workers | sweep of %d hosts | wall ms (median) | gantry CPU ms (median) | command |"
          % a.hosts)
    print("|---|---|---:|---:|---|")
    for label, kind, wall, cpu, cmd in rows:
        print("| %s | %s | %d | %.1f | `%s` |" % (label, kind, wall, cpu, cmd))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
