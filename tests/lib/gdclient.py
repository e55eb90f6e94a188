#!/usr/bin/env python3
"""gdclient.py SOCKET OP [ARGS_JSON]: one gantryd request (after hello); prints the answer line
and any event lines that came before it; exits 0 when ok, 1 otherwise. For the tests."""
import json
import socket
import sys


def main():
    path, op = sys.argv[1], sys.argv[2]
    args = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    f = s.makefile("rwb")
    reqs = [{"id": 1, "op": "hello", "args": {"version": 1}}]
    if op != "hello":
        reqs.append({"id": 2, "op": op, "args": args})
    try:
        for r in reqs:
            f.write((json.dumps(r) + "\n").encode())
        f.flush()
    except OSError:  # refused at once: its one answer still waits to be read
        pass
    want = reqs[-1]["id"]
    while True:
        line = f.readline()
        if not line:
            print("connection closed", file=sys.stderr)
            return 1
        msg = json.loads(line)
        if "event" in msg:
            continue
        if msg.get("id") in (None, want) or not msg.get("ok"):
            print(line.decode().rstrip("\n"))
            if msg.get("id") == want or msg.get("id") is None or not msg.get("ok"):
                return 0 if msg.get("ok") else 1


sys.exit(main())
