#!/usr/bin/env python3
"""Port forwarding benchmark (make bench): Gantry's forward (core/ssh_forward.c, driven by
tests/ssh/fwdtool) against OpenSSH's `ssh -N -L` on the same machine, in the same run, through
the same sshd (tests/sshd/start-sshd.sh) to the same server.

The server is a small Python socket server on loopback: a client sends "N\\n" and gets N
zero bytes, then EOF. Measured per path:
  throughput  one connection fetching --size MiB, --runs runs, median (MB/s = 10^6 bytes/s),
              with the CPU seconds the forwarding process spent per GB;
  set-up      --requests sequential 100-byte requests (connect .. EOF), median and p95 in
              ms, and what the path adds to the direct figure.
Runs of the different paths are interleaved so that load from elsewhere on the machine
spreads over all of them. Nothing here asserts a figure; results also go to --results
(JSON)."""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SRCDIR = os.path.abspath(os.path.join(HERE, "..", ".."))

SERVER = r"""
import socket, sys, threading
ZEROS = bytes(1 << 20)
def serve(c):
    try:
        f = c.makefile("rb")
        n = int(f.readline() or 0)
        view = memoryview(ZEROS)
        while n > 0:
            k = min(n, len(ZEROS))
            c.sendall(view[:k])
            n -= k
    except OSError:
        pass
    finally:
        c.close()
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(128)
print(s.getsockname()[1], flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fetch(port, nbytes, buf):
    """Asks the server behind port for nbytes; returns (seconds, bytes received)."""
    t0 = time.perf_counter()
    c = socket.create_connection(("127.0.0.1", port))
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.sendall(b"%d\n" % nbytes)
    got = 0
    while True:
        n = c.recv_into(buf)
        if n == 0:
            break
        got += n
    c.close()
    return time.perf_counter() - t0, got


def cpu_seconds(pid):
    """utime + stime of a process (all its threads), in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_port(port, proc, timeout=15.0):
    t_end = time.time() + timeout
    while time.time() < t_end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("forwarder exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("nothing listens on %d after %.0f s" % (port, timeout))


def find_fwdtool(a):
    cands = []
    if a.fwdtool:
        cands.append(a.fwdtool)
    if os.environ.get("GANTRY_FWDTOOL"):
        cands.append(os.environ["GANTRY_FWDTOOL"])
    builds = []
    for g in (a.gantry, os.environ.get("GANTRY_BIN")):
        if g:
            builds.append(os.path.dirname(os.path.abspath(g)))
    builds += [os.getcwd(), SRCDIR, os.path.join(SRCDIR, "build"), os.path.join(SRCDIR, "_build")]
    for b in builds:
        cands.append(os.path.join(b, "tests", "ssh", "fwdtool"))
    for c in cands:
        if os.access(c, os.X_OK):
            return os.path.abspath(c)
    # a configured build tree without the test driver built yet: build it
    for b in builds:
        if os.path.exists(os.path.join(b, "Makefile")):
            subprocess.run(["make", "-C", b, "tests/ssh/fwdtool"], check=True,
                           stdout=subprocess.DEVNULL)
            return os.path.join(b, "tests", "ssh", "fwdtool")
    sys.exit("forward.py: tests/ssh/fwdtool not found; build it (make tests/ssh/fwdtool in a "
             "build tree) and pass --fwdtool PATH or --gantry PATH, or run from the build tree")


class Path:
    """One way to reach the server: a name, the command line shown, and a local port."""

    def __init__(self, name, argv, port, proc=None):
        self.name, self.argv, self.port, self.proc = name, argv, port, proc
        self.mbps, self.cpu, self.lat = [], [], []

    def command(self):
        return " ".join(self.argv) if self.argv else "(direct connection)"


def start_ssh(env, sport, tport, extra):
    port = free_port()
    argv = ["ssh", "-F", "/dev/null", "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes",
            "-i", env["SSH_TEST_KEY"], "-o", "UserKnownHostsFile=" + env["SSH_TEST_KNOWN_HOSTS"],
            "-o", "StrictHostKeyChecking=yes", "-o", "ExitOnForwardFailure=yes"] + extra + \
           ["-N", "-L", "127.0.0.1:%d:127.0.0.1:%d" % (port, tport), "-p", str(sport),
            "%s@%s" % (env["SSH_TEST_USER"], env["SSH_TEST_HOST"])]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, argv, port


def start_fwdtool(fwdtool, env, sport, tport):
    argv = [fwdtool, "--host", env["SSH_TEST_HOST"], "--port", str(sport), "--user",
            env["SSH_TEST_USER"], "--key", env["SSH_TEST_KEY"], "--known-hosts",
            env["SSH_TEST_KNOWN_HOSTS"], "--remote-port", str(tport)]
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    port = None
    for line in proc.stdout:
        if line.startswith("listening "):
            port = int(line.rsplit(":", 1)[1])
        elif line.strip() == "up":
            break
        else:
            raise RuntimeError("fwdtool: " + line.strip())
    if port is None:
        raise RuntimeError("fwdtool printed no port")
    return proc, argv, port


def pct(vals, p):
    s = sorted(vals)
    return s[min(len(s) - 1, int(round(p / 100.0 * (len(s) - 1))))]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gantry", help="the gantry binary of a build tree (finds fwdtool)")
    ap.add_argument("--fwdtool", help="path of tests/ssh/fwdtool")
    ap.add_argument("--size", type=int, default=256, help="MiB per throughput run")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--requests", type=int, default=200)
    ap.add_argument("--results", default=os.path.join(tempfile.gettempdir(),
                                                      "gantry-bench-forward.json"))
    a = ap.parse_args()
    fwdtool = find_fwdtool(a)
    for tool in ("ssh", "ssh-keygen"):
        if shutil.which(tool) is None:
            sys.exit("forward.py: %s missing (apt-get install openssh-client)" % tool)

    tmp = tempfile.mkdtemp(prefix="gantry-bench-fwd.")
    os.chmod(tmp, 0o711)
    sdir = os.path.join(tmp, "sshd")
    sport = free_port()
    procs = []
    server = None
    try:
        out = subprocess.run(["bash", os.path.join(SRCDIR, "tests", "sshd", "start-sshd.sh"),
                              sdir, str(sport)], check=True, capture_output=True, text=True)
        env = {}
        for line in out.stdout.splitlines():
            if line.startswith("export "):
                k, v = line[7:].split("=", 1)
                env[k] = v
        server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE,
                                  text=True)
        tport = int(server.stdout.readline())

        paths = [Path("direct", [], tport)]
        proc, argv, port = start_ssh(env, sport, tport, [])
        procs.append(proc)
        paths.append(Path("OpenSSH ssh -L, default ciphers", argv, port, proc))
        proc, argv, port = start_ssh(env, sport, tport,
                                     ["-c", "aes128-ctr", "-m", "hmac-sha2-256"])
        procs.append(proc)
        paths.append(Path("OpenSSH ssh -L, aes128-ctr + hmac-sha2-256", argv, port, proc))
        proc, argv, port = start_fwdtool(fwdtool, env, sport, tport)
        procs.append(proc)
        paths.append(Path("Gantry forward (fwdtool)", argv, port, proc))

        nbytes = a.size << 20
        buf = bytearray(1 << 20)
        for p in paths:  # warm-up: first connection, page cache, ssh channel set-up
            fetch(p.port, 1 << 20, buf)
        for _ in range(a.runs):
            for p in paths:
                c0 = cpu_seconds(p.proc.pid) if p.proc else 0
                secs, got = fetch(p.port, nbytes, buf)
                if got != nbytes:
                    raise RuntimeError("%s: got %d bytes of %d" % (p.name, got, nbytes))
                p.mbps.append(nbytes / secs / 1e6)
                if p.proc:
                    p.cpu.append((cpu_seconds(p.proc.pid) - c0) / (nbytes / 1e9))
        for _ in range(a.requests):
            for p in paths:
                secs, got = fetch(p.port, 100, buf)
                if got != 100:
                    raise RuntimeError("%s: short reply (%d bytes)" % (p.name, got))
                p.lat.append(secs * 1000)
    finally:
        for proc in procs:
            if proc.stdin:
                proc.stdin.close()
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if server is not None:
            server.kill()
            server.wait()
        subprocess.run(["bash", os.path.join(SRCDIR, "tests", "sshd", "stop-sshd.sh"), "--rm",
                        sdir], stderr=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)

    direct = paths[0]
    dmed, dp95 = statistics.median(direct.lat), pct(direct.lat, 95)
    print("machine: %s, %d CPUs; libssh2 forward vs OpenSSH client, one sshd (OpenSSH %s)"
          % (os.uname().release, os.cpu_count(),
             subprocess.run(["ssh", "-V"], capture_output=True, text=True).stderr.strip()))
    print()
    print("Throughput: one connection, %d MiB of zeros, %d runs (interleaved), median"
          % (a.size, a.runs))
    print()
    print("| path | MB/s (median) | runs MB/s | forwarder CPU s/GB | command |")
    print("|---|---:|---|---:|---|")
    for p in paths:
        print("| %s | %.0f | %s | %s | `%s` |" % (
            p.name, statistics.median(p.mbps), ", ".join("%.0f" % v for v in p.mbps),
            "%.2f" % statistics.median(p.cpu) if p.cpu else "-", p.command()))
    print()
    print("Connection set-up: %d sequential 100-byte requests (connect to EOF), ms"
          % a.requests)
    print()
    print("| path | median | p95 | added median | added p95 |")
    print("|---|---:|---:|---:|---:|")
    for p in paths:
        med, p95 = statistics.median(p.lat), pct(p.lat, 95)
        print("| %s | %.2f | %.2f | %+.2f | %+.2f |" % (p.name, med, p95, med - dmed,
                                                      p95 - dp95))
    g = statistics.median(paths[3].mbps)
    o_def, o_aes = statistics.median(paths[1].mbps), statistics.median(paths[2].mbps)
    print()
    print("ratio Gantry/OpenSSH throughput: %.2f (default ciphers), %.2f (aes128-ctr + "
          "hmac-sha2-256, what libssh2 1.10 negotiates)" % (g / o_def, g / o_aes))
    res = {"size_mib": a.size, "runs": a.runs, "requests": a.requests,
           "ratio_vs_openssh_default": g / o_def, "ratio_vs_openssh_aes128ctr": g / o_aes,
           "paths": [{"name": p.name, "command": p.command(), "mbps": p.mbps,
                      "cpu_s_per_gb": p.cpu, "latency_ms_median": statistics.median(p.lat),
                      "latency_ms_p95": pct(p.lat, 95),
                      "added_ms_median": statistics.median(p.lat) - dmed,
                      "added_ms_p95": pct(p.lat, 95) - dp95} for p in paths]}
    with open(a.results, "w") as f:
        json.dump(res, f, indent=1)
    print("results: %s" % a.results)


if __name__ == "__main__":
    main()
