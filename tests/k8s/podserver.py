#!/usr/bin/env python3
"""podserver.py: what a test pod runs behind a port-forward (tests/integration/k8s_forward.sh).

Listens on 127.0.0.1:$GANTRY_PORT (the Kubernetes fake gives each pod's containerPort a
free local port and puts it in that variable) and answers:
  GET  /hello          "hello from the pod\n"
  GET  /blob?n=N&s=S   N pseudo-random bytes from seed S; X-Sha256 header = their digest
  POST /upload         the SHA-256 of the body it received, and its length ("HEX LEN")
  GET  /drop           closes the connection without an answer (the pod side closing)
"""
import hashlib
import os
import random
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        sys.stderr.write("podserver: " + (fmt % args) + "\n")

    def answer(self, body, extra=None):
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlparse(self.path)
        if u.path == "/hello":
            self.answer(b"hello from the pod\n")
        elif u.path == "/blob":
            q = parse_qs(u.query)
            n = int(q.get("n", ["0"])[0])
            data = random.Random(int(q.get("s", ["1"])[0])).randbytes(n)
            self.answer(data, {"X-Sha256": hashlib.sha256(data).hexdigest()})
        elif u.path == "/drop":
            self.close_connection = True
            self.connection.close()
        else:
            self.send_error(404)

    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        left = n
        while left > 0:
            chunk = self.rfile.read(min(left, 65536))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        self.answer(("%s %d\n" % (h.hexdigest(), n - left)).encode())


def main():
    port = int(os.environ["GANTRY_PORT"])
    srv = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    sys.stderr.write("podserver: listening on %d\n" % port)
    sys.stderr.flush()
    srv.serve_forever()


if __name__ == "__main__":
    main()
