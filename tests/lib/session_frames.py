#!/usr/bin/env python3
"""session_frames.py SOCKET JOB BAD_HEX: opens a brokered shell (op session, `sleep 888` on
JOB) through gantryd, waits until that shell runs, then sends the raw bytes BAD_HEX (a
malformed frame) and reports what the daemon does: "closed" when the relay hung up (the
connection ends without an EXIT frame), "exit N" when an EXIT frame came. For the tests
(docs/governance.md, "Brokered shells and forwards": frames)."""
import json
import socket
import sys
import time


def shell_runs():
    import os
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as c:
                    if c.read() == b"sleep\x00888\x00":
                        return True
            except OSError:
                pass
    return False


def main():
    path, job, bad = sys.argv[1], sys.argv[2], bytes.fromhex(sys.argv[3])
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rb")
    for r in ({"id": 1, "op": "hello", "args": {"version": 1}},
              {"id": 2, "op": "session", "args": {"job": job, "command": "sleep 888",
                                                  "rows": 24, "cols": 80, "term": "xterm"}}):
        s.sendall((json.dumps(r) + "\n").encode())
    while True:
        line = f.readline()
        if not line:
            print("closed before the answer")
            return 1
        msg = json.loads(line)
        if msg.get("id") == 2:
            if not msg.get("ok"):
                print("refused: " + str(msg.get("error")))
                return 1
            break
    # wait (with a deadline) until the shell runs, so that its hang-up means something
    deadline = time.monotonic() + 20
    while not shell_runs():
        if time.monotonic() > deadline:
            print("the shell never ran")
            return 1
        time.sleep(0.1)
    s.sendall(bad)
    s.settimeout(30)
    while True:
        h = f.read(3)
        if len(h) < 3:
            print("closed")
            return 0
        n = h[1] << 8 | h[2]
        p = f.read(n)
        if h[0:1] == b"x":
            print("exit %d" % int.from_bytes(p, "big", signed=True))
            return 0


sys.exit(main())
