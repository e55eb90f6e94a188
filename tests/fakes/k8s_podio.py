"""k8s_podio.py: the pod log, exec and port-forward endpoints of the Kubernetes fake
(tests/fakes/k8s_fake.py), a base class of its request handler. The log is the
container's output file (follow streams it as it grows, chunked, until the container
ends); exec and portforward check the pod, the container and the query, then upgrade to a
WebSocket (k8s_ws.py) and run the command / connect to the pod's port for real.
"""

import os
import sys

import k8s_ws
from k8s_meta import ApiError, bad_request, not_found
from k8s_store import BY_KIND

POD = BY_KIND["Pod"]


def parse_bool(v, name):
    if v in ("1", "t", "T", "true", "TRUE", "True"):
        return True
    if v in ("0", "f", "F", "false", "FALSE", "False", ""):
        return False
    raise bad_request('invalid boolean value %r for query parameter "%s"' % (v, name))


def parse_int(v, name, minimum=None):
    try:
        n = int(v)
    except (TypeError, ValueError):
        raise bad_request('invalid integer %r for query parameter "%s"' % (v, name))
    if minimum is not None and n < minimum:
        raise bad_request('query parameter "%s" must be >= %d' % (name, minimum))
    return n


class PodIO:
    def pod_container(self, ns, name, q, what):
        st = self.fake.store
        pod = st.get(POD, ns, name)
        if pod is None:
            raise not_found(POD, name)
        names = [c["name"] for c in pod["spec"].get("containers") or []]
        cname = q.get("container", [""])[0]
        if not cname:
            if len(names) != 1:
                raise bad_request("a container name must be specified for pod %s, choose one "
                                  "of: [%s]" % (name, " ".join(names)))
            cname = names[0]
        if cname not in names:
            raise bad_request("container %s is not valid for pod %s" % (cname, name))
        rt = self.fake.cluster.pods.get(pod["metadata"]["uid"])
        if rt is None:
            raise not_found(POD, name)
        return pod, rt, rt.cts[cname]

    def pod_log(self, ns, name, q):
        fake = self.fake
        follow = parse_bool(q.get("follow", [""])[0], "follow")
        previous = parse_bool(q.get("previous", [""])[0], "previous")
        if parse_bool(q.get("timestamps", [""])[0], "timestamps"):
            raise bad_request("timestamps=true is not supported by this fake")
        tail = parse_int(q["tailLines"][0], "tailLines", 0) if q.get("tailLines") else None
        limit = parse_int(q["limitBytes"][0], "limitBytes", 1) if q.get("limitBytes") else None
        with fake.lock:
            pod, rt, ct = self.pod_container(ns, name, q, "log")
            if previous:
                buf = ct.prev_log
                if buf is None:
                    raise bad_request('previous terminated container "%s" in pod "%s" not found'
                                      % (ct.name, name))
                follow = False
            else:
                buf = ct.log
                if buf is None:
                    why = (ct.state.get("waiting") or {}).get("reason", "ContainerCreating")
                    if why in ("ErrImagePull", "ImagePullBackOff"):
                        why = "trying and failing to pull image"
                    raise bad_request('container "%s" in pod "%s" is waiting to start: %s'
                                      % (ct.name, name, why))
        with buf.cond:
            size = buf.size
        with open(buf.path, "rb") as f:
            data = f.read(size)
        if tail is not None:
            lines = data.splitlines(keepends=True)
            data = b"".join(lines[-tail:]) if tail else b""
        if limit is not None:
            data = data[:limit]
        if not follow:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return 200
        self.start_chunked("text/plain")
        self.chunk(data)
        sent = len(data)
        off = size
        with open(buf.path, "rb") as f:
            while limit is None or sent < limit:
                with buf.cond:
                    while buf.size <= off and not buf.closed:
                        buf.cond.wait(30)
                    size, closed = buf.size, buf.closed
                if size > off:
                    f.seek(off)
                    chunk = f.read(size - off)
                    off = size
                    if limit is not None:
                        chunk = chunk[:limit - sent]
                    self.chunk(chunk)
                    sent += len(chunk)
                elif closed:
                    break
        self.end_chunked()
        return 200

    def stream(self, method, sub, ns, name, q, entry):
        fake = self.fake
        if method not in ("GET", "POST"):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        with fake.lock:
            if sub == "exec":
                pod, rt, ct = self.pod_container(ns, name, q, "exec")
            else:
                pod = fake.store.get(POD, ns, name)
                if pod is None:
                    raise not_found(POD, name)
                rt = fake.cluster.pods.get(pod["metadata"]["uid"])
                ct = None
            phase = pod["status"].get("phase")
            if phase in ("Succeeded", "Failed"):
                raise bad_request("cannot %s into a container in a completed pod; current phase "
                                  "is %s" % ("exec" if sub == "exec" else "port-forward", phase))
            if sub == "exec" and "running" not in ct.state:
                raise bad_request('unable to upgrade connection: container not found ("%s")'
                                  % ct.name)
            if sub == "portforward" and phase != "Running":
                raise bad_request("unable to upgrade connection: pod is not running (phase %s)"
                                  % phase)
            if sub == "exec":
                argv = q.get("command") or []
                if not argv:
                    raise bad_request("you must specify at least 1 command")
                flags = {k: parse_bool(q.get(k, [""])[0], k)
                         for k in ("stdin", "stdout", "stderr", "tty")}
                if not (flags["stdin"] or flags["stdout"] or flags["stderr"]):
                    raise bad_request("you must specify at least 1 of stdin, stdout, stderr")
                env = fake.cluster.ct_env(pod, rt, ct)
                env["TERM"] = "xterm" if flags["tty"] else env.get("TERM", "dumb")
                cwd = rt.dir
                protos = ["v5.channel.k8s.io", "v4.channel.k8s.io"]
            else:
                ports = []
                for p in q.get("ports") or []:
                    for x in p.split(","):
                        n = parse_int(x.strip(), "ports")
                        if not 1 <= n <= 65535:
                            raise bad_request("port %d must be > 0 and < 65536" % n)
                        ports.append(n)
                if not ports:
                    raise bad_request("at least 1 port must be specified (query parameter "
                                      "\"ports\")")
                local = dict(rt.ports)
                protos = ["portforward.k8s.io"]
        try:
            proto, key = k8s_ws.check_handshake(method, self.headers, protos)
        except ValueError as e:
            raise bad_request(str(e))
        os.makedirs(cwd if sub == "exec" else rt.dir, exist_ok=True)
        self.send_response(101, "Switching Protocols")
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", k8s_ws.accept_key(key))
        self.send_header("Sec-WebSocket-Protocol", proto)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        self.connection.settimeout(None)
        entry["protocol"] = proto
        conn = k8s_ws.Conn(self.connection, self.rfile)
        log = lambda m: print("k8s_fake: %s/%s: %s" % (ns, name, m), file=sys.stderr,  # noqa
                              flush=True)
        if sub == "exec":
            code = k8s_ws.run_exec(conn, proto, argv, cwd, env, flags["stdin"],
                                   flags["stdout"], flags["stderr"], flags["tty"], log)
            entry["exit_code"] = code
        else:
            k8s_ws.run_portforward(conn, ports, local, log)
        entry["frames_in"] = conn.frames_in
        return 101
