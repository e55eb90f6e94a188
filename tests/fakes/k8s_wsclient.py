#!/usr/bin/env python3
"""k8s_wsclient.py: a tiny WebSocket client of the Kubernetes exec / port-forward
subprotocols, for the fake's selftest (tests/integration/k8s_fake_selftest.sh). Python 3
standard library only; it is not Gantry's client (that is providers/k8s_ws.c on libwslay).

  k8s_wsclient.py exec URL PATH_AND_QUERY [--stdin TEXT] [--resize WxH] [--protocol P]...
  k8s_wsclient.py portforward URL PATH_AND_QUERY --send TEXT [--expect N]
  k8s_wsclient.py raw URL PATH_AND_QUERY [--unmasked] [--ping]

Auth: $K8S_TOKEN_FILE (bearer) and $K8S_CA. Prints one JSON object with what came back.
"""

import argparse
import base64
import json
import os
import socket
import ssl
import struct
import sys
from urllib.parse import urlsplit


class Client:
    def __init__(self, url, path, protocols, token=None, ca=None, cert=None):
        u = urlsplit(url)
        ctx = ssl.create_default_context(cafile=ca)
        if cert:
            ctx.load_cert_chain(*cert)
        raw = socket.create_connection((u.hostname, u.port), timeout=20)
        self.sock = ctx.wrap_socket(raw, server_hostname=u.hostname)
        key = base64.b64encode(os.urandom(16)).decode()
        lines = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (u.hostname, u.port),
                 "Upgrade: websocket", "Connection: Upgrade", "Sec-WebSocket-Version: 13",
                 "Sec-WebSocket-Key: " + key]
        if protocols:
            lines.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        if token:
            lines.append("Authorization: Bearer " + token)
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        self.buf = b""
        while b"\r\n\r\n" not in self.buf:
            d = self.sock.recv(4096)
            if not d:
                break
            self.buf += d
        head, _, self.buf = self.buf.partition(b"\r\n\r\n")
        hl = head.decode("latin-1").split("\r\n")
        self.status = int(hl[0].split()[1]) if hl and len(hl[0].split()) > 1 else 0
        self.headers = {}
        for h in hl[1:]:
            k, _, v = h.partition(":")
            self.headers[k.strip().lower()] = v.strip()
        self.body = b""
        if self.status != 101:
            n = int(self.headers.get("content-length", "0"))
            while len(self.buf) < n:
                d = self.sock.recv(4096)
                if not d:
                    break
                self.buf += d
            self.body = self.buf[:n]
        else:
            import hashlib
            want = base64.b64encode(hashlib.sha1(
                key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest()).decode()
            if self.headers.get("sec-websocket-accept") != want:
                raise SystemExit("bad Sec-WebSocket-Accept")

    def send(self, op, payload, masked=True):
        hdr = bytes([0x80 | op])
        n = len(payload)
        mbit = 0x80 if masked else 0
        if n < 126:
            hdr += bytes([mbit | n])
        elif n < 65536:
            hdr += bytes([mbit | 126]) + struct.pack(">H", n)
        else:
            hdr += bytes([mbit | 127]) + struct.pack(">Q", n)
        if masked:
            mask = os.urandom(4)
            payload = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
            hdr += mask
        self.sock.sendall(hdr + payload)

    def read(self, n):
        while len(self.buf) < n:
            d = self.sock.recv(65536)
            if not d:
                raise EOFError
            self.buf += d
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def recv(self):
        b0, b1 = self.read(2)
        if b1 & 0x80:
            raise SystemExit("server frame masked (RFC 6455 forbids it)")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self.read(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.read(8))[0]
        return b0 & 0x0F, self.read(n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["exec", "portforward", "raw"])
    ap.add_argument("url")
    ap.add_argument("path")
    ap.add_argument("--protocol", action="append")
    ap.add_argument("--stdin")
    ap.add_argument("--resize")
    ap.add_argument("--send")
    ap.add_argument("--expect", type=int, default=0)
    ap.add_argument("--unmasked", action="store_true")
    ap.add_argument("--ping", action="store_true")
    ap.add_argument("--close-first", action="store_true",
                    help="portforward: close after the echo, check the close handshake")
    a = ap.parse_args()
    token = None
    if os.environ.get("K8S_TOKEN_FILE"):
        with open(os.environ["K8S_TOKEN_FILE"]) as f:
            token = f.read().strip()
    protos = a.protocol or (["v4.channel.k8s.io"] if a.mode == "exec"
                            else ["portforward.k8s.io"] if a.mode == "portforward"
                            else ["v4.channel.k8s.io"])
    c = Client(a.url, a.path, protos, token, os.environ.get("K8S_CA"))
    out = {"status": c.status, "protocol": c.headers.get("sec-websocket-protocol"),
           "channels": {}, "close_code": None, "pong": None}
    if c.status != 101:
        out["body"] = c.body.decode("utf-8", "replace")
        print(json.dumps(out))
        return
    chans = out["channels"]
    if a.mode == "raw":
        if a.ping:
            c.send(9, b"hello-ping")
        if a.unmasked:
            c.send(2, b"\x00x", masked=False)
    if a.mode == "exec":
        if a.resize:
            w, h = a.resize.split("x")
            c.send(2, b"\x04" + json.dumps({"Width": int(w), "Height": int(h)}).encode())
        if a.stdin is not None:
            c.send(2, b"\x00" + a.stdin.encode())
    if a.mode == "portforward":
        first = {}
        while len(first) < 2:
            op, data = c.recv()
            first[data[0]] = data[1:]
        out["first"] = {str(k): list(v) for k, v in first.items()}
        if a.send is not None:
            c.send(2, b"\x00" + a.send.encode())
    got = 0
    try:
        while True:
            op, data = c.recv()
            if op == 8:
                out["close_code"] = struct.unpack(">H", data[:2])[0] if len(data) >= 2 else None
                out["close_reason"] = data[2:].decode("utf-8", "replace")
                try:
                    c.send(8, data[:2])
                except OSError:
                    pass
                break
            if op == 10:
                out["pong"] = data.decode()
                if a.mode == "raw" and not a.unmasked:
                    c.send(8, struct.pack(">H", 1000))
                continue
            if op in (1, 2) and data:
                ch = str(data[0])
                chans[ch] = chans.get(ch, "") + data[1:].decode("utf-8", "replace")
                got += len(data) - 1
                if a.mode == "portforward" and a.expect and got >= a.expect and a.close_first:
                    c.send(8, struct.pack(">H", 1000))
    except (EOFError, OSError, socket.timeout):
        out["eof"] = True
    print(json.dumps(out))


if __name__ == "__main__":
    sys.exit(main())
