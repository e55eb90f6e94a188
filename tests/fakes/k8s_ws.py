"""k8s_ws.py: the server side of the WebSocket protocol (RFC 6455) and the two Kubernetes
streaming subprotocols on top of it, for the Kubernetes fake (tests/fakes/k8s_fake.py).

- exec: v4.channel.k8s.io (and v5.channel.k8s.io): every binary message starts with a
  channel byte: 0 stdin, 1 stdout, 2 stderr, 3 error (a meta/v1 Status when the command
  ends), 4 resize ({"Width", "Height"} JSON); v5 adds 255 close ([255, channel]).
- portforward: portforward.k8s.io: for the i-th port of ?ports=, channel 2i carries data
  and 2i+1 errors; the first message the server sends on each is the port number as two
  bytes little-endian.
Checked: the handshake (GET, Upgrade/Connection, Sec-WebSocket-Version 13, a base64
16-byte Sec-WebSocket-Key, a known Sec-WebSocket-Protocol), client frames masked, RSV bits
zero, control frames short and unfragmented, UTF-8 in close reasons; ping answered with pong;
close handshake with the peer's code echoed.
"""

import base64
import fcntl
import hashlib
import json
import os
import pty
import select
import signal
import socket
import struct
import subprocess
import termios
import threading

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10


class WSError(Exception):
    def __init__(self, code, msg):
        super().__init__(msg)
        self.code = code


def accept_key(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def check_handshake(method, headers, supported):
    """Returns the chosen subprotocol, or raises ValueError(message) (answered 400)."""
    if method != "GET":
        raise ValueError("websocket upgrade needs GET")
    if "websocket" not in (headers.get("Upgrade") or "").lower():
        raise ValueError("Upgrade request required")
    if "upgrade" not in [t.strip().lower() for t in (headers.get("Connection") or "").split(",")]:
        raise ValueError("Upgrade request required: Connection: Upgrade missing")
    if (headers.get("Sec-WebSocket-Version") or "").strip() != "13":
        raise ValueError("unsupported Sec-WebSocket-Version %r (13 wanted)"
                         % headers.get("Sec-WebSocket-Version"))
    key = (headers.get("Sec-WebSocket-Key") or "").strip()
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            raise ValueError
    except ValueError:
        raise ValueError("bad Sec-WebSocket-Key %r" % key)
    offered = []
    for h in headers.get_all("Sec-WebSocket-Protocol") or []:
        offered += [p.strip() for p in h.split(",") if p.strip()]
    for p in offered:
        if p in supported:
            return p, key
    raise ValueError("no supported subprotocol in Sec-WebSocket-Protocol %r (supported: %s)"
                     % (offered, ", ".join(supported)))


class Conn:
    """One upgraded connection (the server side)."""

    def __init__(self, sock, rfile):
        self.sock = sock
        self.rfile = rfile
        self.wlock = threading.Lock()
        self.closed = False
        self.close_sent = False
        self.frames_in = 0

    def send(self, op, payload=b""):
        hdr = bytes([0x80 | op])
        n = len(payload)
        if n < 126:
            hdr += bytes([n])
        elif n < 65536:
            hdr += bytes([126]) + struct.pack(">H", n)
        else:
            hdr += bytes([127]) + struct.pack(">Q", n)
        with self.wlock:
            if self.close_sent:
                return
            if op == OP_CLOSE:
                self.close_sent = True
            try:
                self.sock.sendall(hdr + payload)
            except OSError:
                self.closed = True

    def send_bin(self, data):
        self.send(OP_BIN, data)

    def close(self, code=1000, reason=b""):
        self.send(OP_CLOSE, struct.pack(">H", code) + reason)

    def read_exact(self, n):
        buf = b""
        while len(buf) < n:
            chunk = self.rfile.read(n - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        return buf

    def read_frame(self):
        b0, b1 = self.read_exact(2)
        fin, rsv, op = b0 & 0x80, b0 & 0x70, b0 & 0x0F
        masked, n = b1 & 0x80, b1 & 0x7F
        if rsv:
            raise WSError(1002, "RSV bits set without a negotiated extension")
        if not masked:
            raise WSError(1002, "client frame not masked (RFC 6455 5.1)")
        if op >= 8 and (not fin or n > 125):
            raise WSError(1002, "control frame fragmented or longer than 125 bytes")
        if op not in (OP_CONT, OP_TEXT, OP_BIN, OP_CLOSE, OP_PING, OP_PONG):
            raise WSError(1002, "unknown opcode %d" % op)
        if n == 126:
            n = struct.unpack(">H", self.read_exact(2))[0]
        elif n == 127:
            n = struct.unpack(">Q", self.read_exact(8))[0]
        if n > 16 << 20:
            raise WSError(1009, "frame too big")
        mask = self.read_exact(4)
        data = bytearray(self.read_exact(n))
        for i in range(n):
            data[i] ^= mask[i & 3]
        self.frames_in += 1
        return bool(fin), op, bytes(data)

    def messages(self):
        """Yields (opcode, payload) of data messages; handles ping/pong/close."""
        frag_op, frags = None, []
        try:
            while True:
                fin, op, data = self.read_frame()
                if op == OP_PING:
                    self.send(OP_PONG, data)
                    continue
                if op == OP_PONG:
                    continue
                if op == OP_CLOSE:
                    code = 1000
                    if len(data) == 1:
                        raise WSError(1002, "close payload of 1 byte")
                    if len(data) >= 2:
                        code = struct.unpack(">H", data[:2])[0]
                        try:
                            data[2:].decode("utf-8")
                        except UnicodeDecodeError:
                            raise WSError(1007, "close reason not UTF-8")
                    self.send(OP_CLOSE, struct.pack(">H", code) if code not in (1005, 1006)
                              else b"")
                    self.closed = True
                    return
                if op == OP_CONT:
                    if frag_op is None:
                        raise WSError(1002, "continuation without a start")
                    frags.append(data)
                    if fin:
                        yield frag_op, b"".join(frags)
                        frag_op, frags = None, []
                    continue
                if frag_op is not None:
                    raise WSError(1002, "new message inside a fragmented one")
                if fin:
                    yield op, data
                else:
                    frag_op, frags = op, [data]
        except WSError as e:
            self.close(e.code, str(e).encode()[:100])
            self.closed = True
            raise
        except (EOFError, OSError):
            self.closed = True
            return


def exit_status(code):
    if code == 0:
        return {"metadata": {}, "status": "Success"}
    return {"metadata": {}, "status": "Failure",
            "message": "command terminated with non-zero exit code: error executing command, "
                       "exit code %d" % code,
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": str(code)}]}}


def run_exec(conn, proto, argv, cwd, env, stdin, stdout, stderr, tty, log):
    """Runs argv as a local process wired to the channels; returns its exit code."""
    v5 = proto.startswith("v5")
    master = None
    try:
        if tty:
            master, slave = pty.openpty()

            def ctty():
                os.setsid()
                fcntl.ioctl(0, termios.TIOCSCTTY, 0)
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=slave, stdout=slave,
                                    stderr=slave, preexec_fn=ctty, close_fds=True)
            os.close(slave)
        else:
            proc = subprocess.Popen(argv, cwd=cwd, env=env,
                                    stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                                    stdout=subprocess.PIPE if stdout else subprocess.DEVNULL,
                                    stderr=subprocess.PIPE if stderr else subprocess.DEVNULL,
                                    start_new_session=True)
    except OSError as e:
        st = {"metadata": {}, "status": "Failure",
              "message": 'OCI runtime exec failed: exec failed: unable to start container '
                         'process: exec: "%s": %s: unknown' % (argv[0], e.strerror or e),
              "reason": "InternalError", "code": 500,
              "details": {"causes": [{"message": str(e)}]}}
        conn.send_bin(b"\x03" + json.dumps(st).encode())
        conn.close()
        return None
    log("exec pid %d: %s" % (proc.pid, argv))

    def pump(fd_or_file, ch):
        try:
            while True:
                if isinstance(fd_or_file, int):
                    try:
                        data = os.read(fd_or_file, 32768)
                    except OSError:  # EIO: the pty's slave side is closed
                        data = b""
                else:
                    data = fd_or_file.read1(32768)
                if not data:
                    return
                conn.send_bin(bytes([ch]) + data)
        except (OSError, ValueError):
            return

    pumps = []
    if tty:
        pumps.append(threading.Thread(target=pump, args=(master, 1), daemon=True))
    else:
        if stdout:
            pumps.append(threading.Thread(target=pump, args=(proc.stdout, 1), daemon=True))
        if stderr:
            pumps.append(threading.Thread(target=pump, args=(proc.stderr, 2), daemon=True))
    for t in pumps:
        t.start()

    def reader():
        try:
            for op, data in conn.messages():
                if not data:
                    continue
                ch, body = data[0], data[1:]
                if ch == 0 and stdin:
                    try:
                        if tty:
                            os.write(master, body)
                        else:
                            proc.stdin.write(body)
                            proc.stdin.flush()
                    except (OSError, ValueError):
                        pass
                elif ch == 4 and tty:
                    try:
                        size = json.loads(body)
                        fcntl.ioctl(master, termios.TIOCSWINSZ,
                                    struct.pack("HHHH", int(size["Height"]), int(size["Width"]),
                                                0, 0))
                        os.killpg(proc.pid, signal.SIGWINCH)
                    except (ValueError, KeyError, TypeError, OSError):
                        pass
                elif ch == 255 and v5 and body[:1] == b"\x00" and not tty and proc.stdin:
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass
        except WSError:
            pass
        # the client went away: end the command as the kubelet would
        if proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass

    threading.Thread(target=reader, daemon=True).start()
    code = proc.wait()
    for t in pumps:
        t.join(5)
    if master is not None:
        try:
            os.close(master)
        except OSError:
            pass
    if code < 0:
        code = 128 - code
    conn.send_bin(b"\x03" + json.dumps(exit_status(code)).encode())
    conn.close()
    return code


def run_portforward(conn, ports, local_ports, log):
    """One TCP connection per requested port, bridged to its channel pair."""
    socks = {}
    for i, p in enumerate(ports):
        pb = struct.pack("<H", p)
        conn.send_bin(bytes([2 * i]) + pb)
        conn.send_bin(bytes([2 * i + 1]) + pb)
        target = local_ports.get(p, p)
        try:
            s = socket.create_connection(("127.0.0.1", target), timeout=5)
            s.settimeout(None)
            socks[i] = s
            log("portforward %d -> 127.0.0.1:%d" % (p, target))
        except OSError as e:
            msg = ("error forwarding port %d to pod: failed to connect to localhost:%d inside "
                   "namespace: %s" % (p, p, e.strerror or e))
            conn.send_bin(bytes([2 * i + 1]) + msg.encode())

    def pump(i, s):
        try:
            while True:
                data = s.recv(32768)
                if not data:
                    break
                conn.send_bin(bytes([2 * i]) + data)
        except OSError:
            pass
        conn.close()

    for i, s in socks.items():
        threading.Thread(target=pump, args=(i, s), daemon=True).start()
    if not socks:
        conn.close()
    try:
        for op, data in conn.messages():
            if not data:
                continue
            ch = data[0]
            i = ch // 2
            if ch % 2 == 0 and i in socks:
                try:
                    socks[i].sendall(data[1:])
                except OSError:
                    pass
    except WSError:
        pass
    for s in socks.values():
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
