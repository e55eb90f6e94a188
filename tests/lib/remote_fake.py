#!/usr/bin/env python3
"""remote_fake.py SOCKET: a fake gantryd for tests/integration/remote_wire.sh. It answers the
client's requests the way a misbehaving or dying daemon might, to check what the client
(core/engine_remote.c) does with it:
  hello        who the "kernel" says we are (fakeuser, role tester), one provider
  jobs         an event, a line that is not JSON and an answer to another id first, then
               the answer: one job (fake-1, RUNNING)
  jobs_count   1
  job          ref close-me: closes the connection without an answer; ref huge: a line
               longer than the client's limit (1 MiB), never ended; else fake-1
  plan, admit  a plan of hello on local; admitted
  launch       {job_id} at once, then a failed "result" event for the request
Runs until killed; writes 'ready' to stdout once it listens."""
import json
import os
import socket
import sys
import threading

JOB = {"id": "j0123456789abcdef", "name": "fake-1", "kind": "training", "state": "RUNNING",
       "template_name": "hello", "provider": "local", "owner": "fakeuser", "owner_uid": 4242,
       "created_ms": 1764979200000, "updated_ms": 1764979200000, "started_ms": 1764979200000,
       "ended_ms": 0, "reason": None, "params_json": "{}"}


def send(c, o):
    c.sendall((json.dumps(o) + "\n").encode())


def serve(c):
    f = c.makefile("rb")
    for line in f:
        m = json.loads(line)
        rid, op, args = m["id"], m["op"], m.get("args") or {}
        if op == "hello":
            send(c, {"id": rid, "ok": True, "result": {
                "uid": 4242, "name": "fakeuser", "groups": ["gantry"], "team": "fakes",
                "role": "tester", "admin": False, "approver": False, "daemon_version": "fake",
                "providers": [{"name": "local", "type": "local", "healthy": True,
                               "message": None}], "refresh_ms": 1000}})
        elif op == "jobs":
            send(c, {"event": "jobs_changed"})
            c.sendall(b"this is not json\n")
            send(c, {"id": rid + 1000, "ok": True, "result": {}})
            send(c, {"event": "job_state", "job_id": JOB["id"], "from": "STARTING",
                     "to": "RUNNING", "reason": "up", "id": rid})
            send(c, {"id": rid, "ok": True, "result": {"jobs": [JOB]}})
        elif op == "jobs_count":
            send(c, {"id": rid, "ok": True, "result": {"count": 1}})
        elif op == "job":
            if args.get("ref") == "close-me":
                c.shutdown(socket.SHUT_RDWR)
                c.close()
                return
            if args.get("ref") == "huge":
                c.sendall(b'{"id": %d, "ok": true, "result": "' % rid + b"x" * (32 * 1024 * 1024 + 16))  # over GANTRY_WIRE_ANSWER_MAX
                continue
            send(c, {"id": rid, "ok": True, "result": JOB})
        elif op == "job_events":
            send(c, {"id": rid, "ok": True, "result": {"events": []}})
        elif op == "plan":
            send(c, {"id": rid, "ok": True, "result": {
                "template_name": args.get("template"), "provider": "local",
                "params": {"who": "world"}, "script": "echo hello world", "env": {},
                "gpus": 0, "accels": "-", "max_runtime_s": 300,
                "offer": {"provider": "local", "description": "fake host", "fits": True}}})
        elif op == "admit":
            send(c, {"id": rid, "ok": True, "result": {"refusal": "ok", "budget": "ok"}})
        elif op == "launch":
            send(c, {"id": rid, "ok": True, "result": {"job_id": "j00000000000000ff"}})
            send(c, {"event": "result", "req": rid, "rc": -1, "job_id": "j00000000000000ff",
                     "cause": "provider exploded"})
        else:
            send(c, {"id": rid, "ok": False, "error": "unknown op '%s'" % op})
    c.close()


def main():
    path = sys.argv[1]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    os.chmod(path, 0o600)
    s.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = s.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


main()
