#!/usr/bin/env python3
"""A stand-in for the part of Jupyter's server API that Gantry's autostop reads.

usage: jupyter_standin.py STATE AGE_S   (listens on 127.0.0.1:$GANTRY_PORT)

GET /api answers a version (for readiness probes); GET /api/kernels answers one kernel in
STATE (idle, busy, ...) whose last_activity was AGE_S seconds ago. STATE "hang" takes each
/api/kernels request and never answers (a server that hangs; requests are served on
threads, so every one is taken and logged). Every request is logged to stdout
("GET /api/kernels"), so the job's log shows that it was asked, and how often."""
import datetime
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer

STATE, AGE = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path.startswith("/api/kernels") and STATE == "hang":
            print("GET /api/kernels (hanging)", flush=True)
            time.sleep(3600)
        if path.startswith("/api/kernels"):
            at = datetime.datetime.utcnow() - datetime.timedelta(seconds=AGE)
            body = json.dumps([{"id": "k1", "execution_state": STATE,
                                "last_activity": at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}])
        elif path.startswith("/api"):
            body = json.dumps({"version": "stand-in"})
        else:
            self.send_response(404)
            self.end_headers()
            return
        print("GET", path, flush=True)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        pass


SERVER = ThreadingHTTPServer if STATE == "hang" else HTTPServer
SERVER(("127.0.0.1", int(os.environ["GANTRY_PORT"])), Handler).serve_forever()
