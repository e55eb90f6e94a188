#!/usr/bin/env python3
"""gdfault.py SOCKET CASE: a misbehaving gantryd client, for tests/integration/gantryd_*.sh.
  malformed   not JSON, no id, unknown op, args not an object: one error answer each, then
              jobs_count on the same connection answers ok
  oversized   a line over GANTRY_WIRE_MAX (1 MiB): an error answer, then the daemon closes
  disconnect  sends a launch request (and half of another line) and closes at once
  noread      sends 200 jobs requests and never reads, holding the connection for 3 s
  listen OUT STOP  events into OUT until the file STOP exists (then all sent are read)
Prints what it saw, one line per step; exits 0 when the daemon behaved."""
import json
import socket
import sys
import time


def conn(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def readline(f):
    while True:
        line = f.readline()
        if not line:
            return None
        msg = json.loads(line)
        if "event" not in msg:
            return msg


def malformed(path):
    s = conn(path)
    f = s.makefile("rwb")
    ok = True
    for raw, want in ((b"this is not json\n", "malformed"),
                      (b'{"op": "jobs"}\n', "id"),
                      (b'{"id": 2, "op": "no_such_op"}\n', "unknown op"),
                      (b'{"id": 3, "op": "jobs", "args": [1]}\n', "args"),
                      (b'[1, 2]\n', "malformed")):
        f.write(raw)
        f.flush()
        msg = readline(f)
        good = msg is not None and msg.get("ok") is False and want in msg.get("error", "")
        print(("ok" if good else "BAD"), raw.decode().strip(), "->", msg)
        ok = ok and good
    f.write(b'{"id": 9, "op": "jobs_count", "args": {}}\n')
    f.flush()
    msg = readline(f)
    good = msg is not None and msg.get("id") == 9 and msg.get("ok") is True
    print(("ok" if good else "BAD"), "jobs_count after the errors ->", msg)
    return ok and good


def oversized(path):
    s = conn(path)
    f = s.makefile("rwb")
    try:
        s.sendall(b'{"id": 1, "op": "jobs", "args": {"x": "' + b"a" * (1024 * 1024 + 4096))
    except OSError as e:  # the daemon may close before it has read everything
        print("send stopped:", e)
    try:
        msg = readline(f)
    except OSError as e:
        print("BAD read failed:", e)
        return False
    good = msg is not None and msg.get("ok") is False and "too long" in msg.get("error", "")
    print(("ok" if good else "BAD"), "oversized ->", msg)
    try:
        rest = f.readline()
    except OSError:
        rest = b""
    print(("ok" if rest == b"" else "BAD"), "then closed:", rest[:80])
    return good and rest == b""


def disconnect(path):
    s = conn(path)
    s.sendall(b'{"id": 1, "op": "hello", "args": {"version": 1}}\n'
              b'{"id": 2, "op": "launch", "args": {"template": "hello", "sets": ["who=gone"]}}\n'
              b'{"id": 3, "op": "jobs", "ar')
    s.close()
    print("ok closed mid-request")
    return True


def noread(path):
    s = conn(path)
    for i in range(200):
        s.sendall(json.dumps({"id": i + 1, "op": "jobs", "args": {}}).encode() + b"\n")
    time.sleep(3)
    s.close()
    print("ok sent 200 requests without reading")
    return True


def listen(path, out, stop):
    """Writes every event line to OUT ("ready" first); once the file STOP exists, asks
    jobs_count and exits at its answer: every event sent before it has been read."""
    import os
    import select
    s = conn(path)
    s.sendall(b'{"id": 1, "op": "hello", "args": {"version": 1}}\n')
    buf = b""
    asked = False
    with open(out, "w") as f:
        while True:
            if not asked and os.path.exists(stop):
                s.sendall(b'{"id": 99, "op": "jobs_count", "args": {}}\n')
                asked = True
            r, _, _ = select.select([s], [], [], 0.1)
            if not r:
                continue
            data = s.recv(65536)
            if not data:
                return False
            buf += data
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                msg = json.loads(line)
                if msg.get("id") == 1:
                    f.write("ready\n")
                elif msg.get("id") == 99:
                    return True
                elif "event" in msg:
                    f.write(line.decode() + "\n")
                f.flush()


cases = {"malformed": malformed, "oversized": oversized, "disconnect": disconnect,
         "noread": noread}
if sys.argv[2] == "listen":
    sys.exit(0 if listen(sys.argv[1], sys.argv[3], sys.argv[4]) else 1)
sys.exit(0 if cases[sys.argv[2]](sys.argv[1]) else 1)
