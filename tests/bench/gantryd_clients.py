#!/usr/bin/env python3
"""gantryd_clients.py SOCKET CLIENTS SECONDS DAEMON_PID: CLIENTS connections to gantryd, each
asking for its job list (op jobs) once a second (staggered over the second) for SECONDS.
Prints one JSON line: requests, answers, latency p50/p99/max (ms), the daemon's CPU seconds
over the run (/proc/PID/stat utime+stime) and its CPU share, bytes per answer."""
import json
import os
import selectors
import socket
import sys
import time

path, nclients, seconds, pid = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
tick = os.sysconf("SC_CLK_TCK")


def cpu_s():
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / tick


class Client:
    def __init__(self, i):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.sendall(b'{"id":1,"op":"hello","args":{"version":1}}\n')
        self.buf = b""
        self.next_id = 2
        self.sent = {}
        self.due = i / nclients  # staggered over the first second
        self.s.setblocking(False)


sel = selectors.DefaultSelector()
clients = [Client(i) for i in range(nclients)]
for c in clients:
    sel.register(c.s, selectors.EVENT_READ, c)
lat = []
nbytes = 0
answers = 0
requests = 0
t0 = time.monotonic()
c0 = cpu_s()
end = t0 + seconds
while True:
    now = time.monotonic()
    if now >= end and all(not c.sent for c in clients):
        break
    if now >= end + 10:
        break
    for c in clients:
        if now < end and now - t0 >= c.due:
            c.sent[c.next_id] = time.monotonic()
            c.s.sendall(b'{"id":%d,"op":"jobs","args":{}}\n' % c.next_id)
            c.next_id += 1
            c.due += 1.0
            requests += 1
    wait = min(c.due for c in clients) - (time.monotonic() - t0)
    for key, _ in sel.select(timeout=max(0.0, min(wait, 0.05))):
        c = key.data
        data = c.s.recv(1 << 20)
        if not data:
            raise SystemExit("gantryd closed a connection")
        c.buf += data
        while True:
            nl = c.buf.find(b"\n")
            if nl < 0:
                break
            line, c.buf = c.buf[:nl], c.buf[nl + 1:]
            if not line.startswith(b'{"id":'):
                continue  # an event
            rid = int(line[6:line.index(b",")])
            t = c.sent.pop(rid, None)
            if t is not None:
                lat.append((time.monotonic() - t) * 1000)
                nbytes += len(line) + 1
                answers += 1
wall = time.monotonic() - t0
cpu = cpu_s() - c0
lat.sort()
q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] if lat else float("nan")
print(json.dumps({"clients": nclients, "seconds": round(wall, 1), "requests": requests,
                  "answers": answers, "p50_ms": round(q(0.50), 2), "p99_ms": round(q(0.99), 2),
                  "max_ms": round(lat[-1], 2) if lat else None,
                  "daemon_cpu_s": round(cpu, 2), "daemon_cpu_pct": round(100 * cpu / wall, 1),
                  "bytes_per_answer": nbytes // max(1, answers)}))
