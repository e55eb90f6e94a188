#!/usr/bin/env python3
"""http_echo.py: a loopback HTTP server for the HTTP client's unit tests (tests/unit/test_http.c).

Listens on 127.0.0.1, port 0 (the kernel picks), and prints the port on the first line of
stdout. Every request is recorded; an answer that echoes carries a JSON body with what the
server received and when:
  {"method", "path", "headers": {lower-case name: value}, "body", "n": requests seen on
   this path so far (this one included), "t_ms": server's monotonic arrival time,
   "since_prev_ms": ms since the previous request on this path (-1 for the first)}

Behaviour by path (ID is any word, so that each test has its own counters):
  /echo/ID                 200 + echo
  /fail503/N/ID            the first N requests answer 503 (body "busy"), then echo
  /r429/S/ID               the first request answers 429 with Retry-After: S, then echo
  /r429date/S/ID           the same with Retry-After as an HTTP date S seconds ahead
  /slow/MS/ID              waits MS milliseconds, then echo
  /trunc/ID                Content-Length: 100 with 10 bytes of body, then closes
  /stream/ID               chunked: "first;" then waits (up to 20 s) for a request to
                           /release/ID, then "second;" and "last;" (or "TIMEOUT;")
  /release/ID              releases /stream/ID, answers echo

With --tls CERT KEY it speaks https with that certificate (tests of verification).
"""
import email.utils
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

lock = threading.Lock()
counts = {}
last = {}
releases = {}


def release_event(ident):
    with lock:
        return releases.setdefault(ident, threading.Event())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n > 0 else b""
        now = time.monotonic() * 1000.0
        with lock:
            counts[self.path] = counts.get(self.path, 0) + 1
            prev = last.get(self.path)
            last[self.path] = now
            self.rec = {
                "method": self.command,
                "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"),
                "n": counts[self.path],
                "t_ms": now,
                "since_prev_ms": -1 if prev is None else now - prev,
            }

    def send(self, code, body, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def echo(self):
        self.send(200, json.dumps(self.rec), [("Content-Type", "application/json")])

    def handle_any(self):
        self.record()
        parts = self.path.split("?")[0].strip("/").split("/")
        kind = parts[0]
        n = self.rec["n"]
        if kind == "fail503" and n <= int(parts[1]):
            return self.send(503, "busy")
        if kind == "r429" and n == 1:
            return self.send(429, "slow down", [("Retry-After", parts[1])])
        if kind == "r429date" and n == 1:
            when = email.utils.formatdate(time.time() + int(parts[1]) + 1, usegmt=True)
            return self.send(429, "slow down", [("Retry-After", when)])
        if kind == "slow":
            time.sleep(int(parts[1]) / 1000.0)
        if kind == "trunc":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        if kind == "release":
            release_event(parts[1]).set()
        if kind == "stream":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()

            def chunk(b):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(b), b))
                self.wfile.flush()

            chunk(b"first;")
            ok = release_event(parts[1]).wait(20)
            chunk(b"second;" if ok else b"TIMEOUT;")
            chunk(b"last;")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return
        return self.echo()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # a client that gave up (a timeout test) is expected; anything else is reported
        if isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            return
        super().handle_error(request, client_address)


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    if len(sys.argv) == 4 and sys.argv[1] == "--tls":
        import ssl

        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(sys.argv[2], sys.argv[3])
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    print(srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
