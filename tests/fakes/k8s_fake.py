#!/usr/bin/env python3
"""k8s_fake.py: a protocol fake of the Kubernetes API server (and a kubelet, a scheduler
and the Job / Deployment / HPA controllers), for Gantry's tests.

Written from the published API reference and API concepts pages (kubernetes.io), not
from any client or server code: see tests/fakes/README.md for the pages read and for what
is checked. HTTPS only (the rig's CA and server certificate), bearer tokens or client
certificates; core/v1 pods (log, exec, portforward, status), services, nodes, namespaces;
batch/v1 jobs; apps/v1 deployments (scale); autoscaling/v2 horizontalpodautoscalers.
List + watch with one resourceVersion counter, 410 Expired below the retained window,
bookmarks. Pods run as local processes (k8s_cluster.py); exec and port-forward are real
WebSocket sessions (k8s_ws.py). A control API under /_fake/ (its own token) injects
faults and shows what the fake received. Python 3 standard library only.

Modules: k8s_meta.py (Status, names, selectors, patches), k8s_schema.py (decoding,
defaults, validation), k8s_store.py (objects, resourceVersions, events, CRUD),
k8s_cluster.py (nodes, scheduler, kubelet, controllers, DCGM), k8s_ws.py (WebSocket).
"""

import argparse
import base64
import faulthandler
import hashlib
import json
import os
import re
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import k8s_ws  # noqa: E402
from k8s_cluster import DEFAULT_NODES, Cluster  # noqa: E402
from k8s_meta import (ApiError, bad_request, fields_match, labels_match, not_found,  # noqa: E402
                      parse_field_selector, parse_label_selector, status_obj, REASONS)
from k8s_store import BY_GVR, BY_KIND, GROUPS, RESOURCES, Store  # noqa: E402

POD = BY_KIND["Pod"]

LIST_PARAMS = {"labelSelector", "fieldSelector", "resourceVersion", "resourceVersionMatch",
               "limit", "continue", "timeoutSeconds", "watch", "allowWatchBookmarks",
               "sendInitialEvents", "pretty"}
PARAMS = {
    "get": {"resourceVersion", "pretty"},
    "create": {"fieldManager", "fieldValidation", "pretty"},
    "update": {"fieldManager", "fieldValidation", "pretty"},
    "patch": {"fieldManager", "fieldValidation", "force", "pretty"},
    "delete": {"gracePeriodSeconds", "propagationPolicy", "orphanDependents", "pretty"},
    "deletecollection": LIST_PARAMS | {"gracePeriodSeconds", "propagationPolicy"},
    "log": {"container", "follow", "previous", "tailLines", "limitBytes", "sinceSeconds",
            "timestamps", "pretty", "insecureSkipTLSVerifyBackend"},
    "exec": {"command", "container", "stdin", "stdout", "stderr", "tty"},
    "portforward": {"ports"},
}


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


class Watch:
    def __init__(self, path, who):
        self.path = path
        self.who = who
        self.drop_after = None  # events left before the fake drops it
        self.drop_mode = "close"
        self.dropped = False
        self.sent = 0
        self.started = time.time()


class Fake:
    def __init__(self, args):
        self.args = args
        self.store = Store(history=args.history)
        self.store.auto_namespaces = args.auto_namespaces
        self.cluster = Cluster(self.store, args.dir, args)
        self.lock = self.store.lock
        self.ctl_token = args.ctl_token
        self.token_files = args.token_file
        self._tokens = {}
        self.ca_cn = None
        self.log = []
        self.seq = 0
        self.faults = []
        self.latency_ms = args.latency_ms
        self.bookmark_interval = args.bookmark_interval
        self.watches = set()
        self.pending_drops = []  # {"after", "mode", "left"} for watches not open yet
        self.dcgm_hits = 0

    def tokens(self):
        """The accepted bearer tokens: the lines of the token files (re-read on change, so a
        test rotates a token by rewriting its file)."""
        out = set()
        for path in self.token_files:
            try:
                st = os.stat(path)
            except OSError:
                continue
            cached = self._tokens.get(path)
            if cached is None or cached[0] != (st.st_mtime_ns, st.st_size):
                with open(path) as f:
                    toks = {line.strip() for line in f if line.strip()}
                cached = ((st.st_mtime_ns, st.st_size), toks)
                self._tokens[path] = cached
            out |= cached[1]
        return out


def token_hash(tok):
    return hashlib.sha256(tok.encode()).hexdigest()[:12]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "k8s-fake/1"
    fake = None
    tls = None
    timeout = 900

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        self.request.settimeout(15)
        self.request = self.tls.wrap_socket(self.request, server_side=True)
        super().setup()

    # ---- plumbing -------------------------------------------------------------------------

    def read_body(self):
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n > 0 else b""

    def send_json(self, code, obj, headers=None):
        raw = (json.dumps(obj) + "\n").encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            if isinstance(v, list):
                for x in v:
                    self.send_header(k, x)
            else:
                self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()

    def chunk(self, data):
        if data:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")

    def abort(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = lambda self: self.dispatch("GET")  # noqa: E731
    do_POST = lambda self: self.dispatch("POST")  # noqa: E731
    do_PUT = lambda self: self.dispatch("PUT")  # noqa: E731
    do_PATCH = lambda self: self.dispatch("PATCH")  # noqa: E731
    do_DELETE = lambda self: self.dispatch("DELETE")  # noqa: E731
    do_HEAD = lambda self: self.dispatch("HEAD")  # noqa: E731
    do_OPTIONS = lambda self: self.dispatch("OPTIONS")  # noqa: E731

    # ---- entry ----------------------------------------------------------------------------

    def authenticate(self):
        """'cert:CN', 'token:HASH', or None; sets self.bad_token."""
        fake = self.fake
        cert = None
        try:
            cert = self.connection.getpeercert()
        except (ValueError, OSError):
            cert = None
        if cert:
            cn = next((v for rdn in cert.get("subject", ()) for k, v in rdn
                       if k == "commonName"), "?")
            return "cert:" + cn
        h = self.headers.get("Authorization")
        if h and h.startswith("Bearer "):
            tok = h[7:].strip()
            if tok and tok in fake.tokens():
                return "token:" + token_hash(tok)
            return None
        return None

    def dispatch(self, method):
        fake = self.fake
        try:
            raw = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/_fake/"):
            return self.control(method, path, url.query, raw)
        who = self.authenticate()
        h = self.headers.get("Authorization") or ""
        entry = {"time": time.time(), "method": method, "path": path,
                 "query": parse_qs(url.query, keep_blank_values=True),
                 "auth": who or ("invalid-token" if h.startswith("Bearer ") else
                                 "other" if h else "none"),
                 "token_sha256_12": token_hash(h[7:].strip()) if h.startswith("Bearer ")
                 else None,
                 "content_type": self.headers.get("Content-Type"),
                 "user_agent": self.headers.get("User-Agent"),
                 "upgrade": self.headers.get("Upgrade")}
        try:
            entry["body"] = json.loads(raw) if raw else None
        except ValueError:
            entry["body"] = raw[:200].decode("utf-8", "replace")
        with fake.lock:
            fake.seq += 1
            entry["seq"] = fake.seq
            fake.log.append(entry)
            if len(fake.log) > 50000:
                del fake.log[:10000]
        try:
            if not who:
                raise ApiError(401, "Unauthorized")
            self.apply_faults(method, path, entry)
            status = self.route(method, path, url.query, raw, entry)
            entry["status"] = status
        except ApiError as e:
            entry["status"] = e.code
            entry["reason"] = e.reason
            try:
                self.send_json(e.code, e.status(), e.headers)
            except OSError:
                pass
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
            self.close_connection = True

    def apply_faults(self, method, path, entry):
        fake = self.fake
        delay = fake.latency_ms / 1000.0
        hit = None
        with fake.lock:
            for f in fake.faults:
                if f["left"] == 0:
                    continue
                if f.get("method") and not re.fullmatch(f["method"], method):
                    continue
                if f.get("path") and not re.search(f["path"], path):
                    continue
                if f.get("query") and not re.search(f["query"], urlsplit(self.path).query):
                    continue
                if f.get("skip", 0) > 0:
                    f["skip"] -= 1
                    continue
                if f["left"] > 0:
                    f["left"] -= 1
                f["hits"] += 1
                if f["kind"] == "delay":
                    delay += f["ms"] / 1000.0
                elif hit is None:
                    hit = f
        if delay > 0:
            time.sleep(delay)
        if hit:
            entry["fault"] = hit["id"]
            code = hit["status"]
            headers = {}
            details = None
            if hit.get("retry_after") is not None:
                headers["Retry-After"] = str(hit["retry_after"])
                details = {"retryAfterSeconds": hit["retry_after"]}
            msg = hit.get("message") or {
                429: "Too many requests, please try again later.",
                500: "Internal error occurred: injected by the fake",
                503: "The server is currently unable to handle the request",
                504: "The server was unable to return a response in the time allotted, but "
                     "may still be processing the request",
                403: 'forbidden: User "gantry" cannot %s path "%s"' % (method.lower(), path),
            }.get(code, "injected fault")
            raise ApiError(code, msg, hit.get("reason"), details, headers)

    # ---- routing -----------------------------------------------------------------------------

    def route(self, method, path, query, raw, entry):
        parts = [p for p in path.split("/") if p]
        if method not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            raise ApiError(405, "the server does not allow this method on the requested "
                           "resource")
        if parts == ["version"] and method == "GET":
            self.send_json(200, {"major": "1", "minor": "31", "gitVersion": "v1.31.0-fake",
                                 "platform": "linux/amd64"})
            return 200
        if parts == ["api"] and method == "GET":
            self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                 "serverAddressByClientCIDRs": []})
            return 200
        if parts == ["apis"] and method == "GET":
            groups = [{"name": g, "versions": [{"groupVersion": "%s/%s" % (g, v), "version": v}
                                               for v in sorted(vs)],
                       "preferredVersion": {"groupVersion": "%s/%s" % (g, max(vs)),
                                            "version": max(vs)}}
                      for g, vs in sorted(GROUPS.items()) if g]
            self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
            return 200
        if len(parts) >= 2 and parts[0] == "api":
            group, version, rest = "", parts[1], parts[2:]
        elif len(parts) >= 3 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise ApiError(404, "the server could not find the requested resource",
                           details={"causes": [{"reason": "UnexpectedServerResponse",
                                                "message": "404 page not found"}]})
        if version not in GROUPS.get(group, ()):
            raise ApiError(404, "the server could not find the requested resource")
        if not rest:
            if method != "GET":
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            gv = version if not group else group + "/" + version
            self.send_json(200, {"kind": "APIResourceList", "apiVersion": "v1",
                                 "groupVersion": gv, "resources": [
                                     {"name": r.plural, "singularName": r.kind.lower(),
                                      "namespaced": r.namespaced, "kind": r.kind,
                                      "verbs": ["create", "delete", "get", "list", "patch",
                                                "update", "watch"]}
                                     for r in RESOURCES if r.group == group
                                     and r.version == version]})
            return 200
        ns = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            ns, rest = rest[1], rest[2:]
        plural = rest[0]
        res = BY_GVR.get((group, version, plural))
        if res is None or (ns is not None and not res.namespaced) or len(rest) > 3:
            raise ApiError(404, "the server could not find the requested resource")
        name = rest[1] if len(rest) >= 2 else None
        sub = rest[2] if len(rest) == 3 else None
        if name is not None and res.namespaced and ns is None:
            raise ApiError(404, "the server could not find the requested resource")
        if sub is not None and sub not in res.subs:
            raise ApiError(404, "the server could not find the requested resource")
        q = parse_qs(query, keep_blank_values=True)
        if name is None:
            return self.collection(method, res, ns, q, raw, entry)
        return self.item(method, res, ns or "", name, sub, q, raw, entry)

    def check_params(self, q, verb):
        allowed = PARAMS.get(verb, LIST_PARAMS)
        for k in q:
            if k not in allowed:
                if k == "dryRun":
                    raise bad_request("dryRun is not supported by this fake")
                raise bad_request('unknown query parameter "%s" for %s' % (k, verb))
        for k, v in q.items():
            if len(v) > 1 and k not in ("command", "ports"):
                raise bad_request('query parameter "%s" given %d times' % (k, len(v)))

    def body_json(self, raw, ctype_ok=("application/json",)):
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype not in ctype_ok:
            raise ApiError(415, 'the body of the request was in an unknown format - accepted '
                           'media types include: %s' % ", ".join(ctype_ok))
        try:
            return json.loads(raw), ctype
        except ValueError as e:
            raise bad_request("the body of the request could not be decoded as JSON: %s" % e)

    def strict(self, q):
        fv = (q.get("fieldValidation") or ["Warn"])[0]
        if fv not in ("Ignore", "Warn", "Strict"):
            raise bad_request('fieldValidation must be one of "Ignore", "Warn" or "Strict", '
                              'got "%s"' % fv)
        return fv

    def reply_obj(self, code, obj, warnings=(), fv="Warn"):
        headers = {}
        if warnings and fv == "Warn":
            headers["Warning"] = ['299 - "unknown field \\"%s\\""' % w for w in warnings]
        with self.fake.lock:
            raw = json.dumps(obj)
        self.send_json(code, json.loads(raw), headers)
        return code

    def collection(self, method, res, ns, q, raw, entry):
        fake = self.fake
        st = fake.store
        if method == "GET":
            self.check_params(q, "list")
            if parse_bool(q.get("watch", [""])[0], "watch"):
                return self.watch(res, ns, q, entry)
            return self.list(res, ns, q)
        if method == "POST":
            self.check_params(q, "create")
            if res.namespaced and ns is None:
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            if res.kind == "Node":
                raise ApiError(403, 'nodes is forbidden: User "gantry" cannot create resource '
                               '"nodes" in API group "" at the cluster scope')
            body, _ = self.body_json(raw)
            fv = self.strict(q)
            obj, warns = st.create(res, ns or "", body, strict=fv == "Strict",
                                   prepare=fake.cluster.prepare)
            entry["warnings"] = warns
            return self.reply_obj(201, obj, warns, fv)
        if method == "DELETE" and ns is not None:
            self.check_params(q, "deletecollection")
            reqs = parse_label_selector(q.get("labelSelector", [""])[0])
            freqs = parse_field_selector(q.get("fieldSelector", [""])[0], res.fields)
            opts = json.loads(raw) if raw else {}
            with fake.lock:
                items = [o for o in st.objs[res.plural].values()
                         if o["metadata"].get("namespace") == ns
                         and labels_match(reqs, o["metadata"].get("labels"))
                         and fields_match(freqs, self.fields(res, o))]
                for o in items:
                    st.delete(res, ns, o["metadata"]["name"], dict(opts))
                out = self.list_body(res, items, st.rv)
            self.send_json(200, out)
            return 200
        raise ApiError(405, "the server does not allow this method on the requested resource")

    def fields(self, res, obj):
        from k8s_store import field_values
        return field_values(res, obj)

    def list_body(self, res, items, rv, cont=None, remaining=None):
        meta = {"resourceVersion": str(rv)}
        if cont:
            meta["continue"] = cont
        if remaining:
            meta["remainingItemCount"] = remaining
        return {"kind": res.kind + "List", "apiVersion": res.api_version, "metadata": meta,
                "items": [{k: v for k, v in o.items() if k not in ("kind", "apiVersion")}
                          for o in items]}

    def list(self, res, ns, q):
        fake = self.fake
        st = fake.store
        reqs = parse_label_selector(q.get("labelSelector", [""])[0])
        freqs = parse_field_selector(q.get("fieldSelector", [""])[0], res.fields)
        limit = parse_int(q["limit"][0], "limit", 0) if q.get("limit") else 0
        rv_s = q.get("resourceVersion", [""])[0]
        match = q.get("resourceVersionMatch", [""])[0]
        if match not in ("", "Exact", "NotOlderThan"):
            raise bad_request('resourceVersionMatch: Unsupported value: "%s"' % match)
        if match and not rv_s:
            raise ApiError(422, "resourceVersionMatch is forbidden unless resourceVersion is "
                           "provided", "Invalid")
        start = None
        with fake.lock:
            if q.get("continue") and q["continue"][0]:
                try:
                    tok = json.loads(base64.urlsafe_b64decode(q["continue"][0]))
                    crv, start = int(tok["rv"]), tok["start"]
                except (ValueError, KeyError, TypeError):
                    raise bad_request("continue key is not valid: incorrect encoded start "
                                      "resourceVersion (version meta.k8s.io/v1)")
                if crv < st.oldest:
                    raise ApiError(410, "The provided continue parameter is too old to display "
                                   "a consistent list result. You can start a new list "
                                   "without the continue parameter.", "Expired")
            if rv_s not in ("", "0"):
                rv = parse_int(rv_s, "resourceVersion")
                if rv > st.rv:
                    raise ApiError(504, "Too large resource version: %d, current: %d"
                                   % (rv, st.rv), "Timeout",
                                   {"causes": [{"reason": "ResourceVersionTooLarge",
                                                "message": "Too large resource version"}],
                                    "retryAfterSeconds": 1}, {"Retry-After": "1"})
                if match == "Exact" and rv != st.rv:
                    raise ApiError(410, "The resourceVersion for the provided list is too "
                                   "old.", "Expired")
            items = []
            for o in st.objs[res.plural].values():
                m = o["metadata"]
                if ns is not None and m.get("namespace") != ns:
                    continue
                if not labels_match(reqs, m.get("labels")):
                    continue
                if freqs and not fields_match(freqs, self.fields(res, o)):
                    continue
                items.append(o)
            items.sort(key=lambda o: (o["metadata"].get("namespace", ""),
                                      o["metadata"]["name"]))
            if start is not None:
                items = [o for o in items if "%s/%s" % (o["metadata"].get("namespace", ""),
                                                        o["metadata"]["name"]) > start]
            cont = None
            remaining = None
            if limit and len(items) > limit:
                last = items[limit - 1]["metadata"]
                cont = base64.urlsafe_b64encode(json.dumps(
                    {"rv": st.rv, "start": "%s/%s" % (last.get("namespace", ""),
                                                      last["name"])}).encode()).decode()
                remaining = len(items) - limit
                items = items[:limit]
            raw = json.dumps(self.list_body(res, items, st.rv, cont, remaining)).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw) + 1))
        self.end_headers()
        self.wfile.write(raw + b"\n")
        return 200

    # ---- watch -------------------------------------------------------------------------------

    def watch(self, res, ns, q, entry):
        fake = self.fake
        st = fake.store
        reqs = parse_label_selector(q.get("labelSelector", [""])[0])
        freqs = parse_field_selector(q.get("fieldSelector", [""])[0], res.fields)
        bookmarks = parse_bool(q.get("allowWatchBookmarks", [""])[0], "allowWatchBookmarks")
        sie = q.get("sendInitialEvents", [""])[0]
        send_initial = parse_bool(sie, "sendInitialEvents") if sie else None
        if send_initial is not None and (not bookmarks or q.get("resourceVersionMatch", [""])[0]
                                         != "NotOlderThan"):
            raise ApiError(422, "sendInitialEvents is forbidden for watch unless "
                           "allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan",
                           "Invalid")
        if q.get("limit") or q.get("continue"):
            if q.get("continue", [""])[0]:
                raise bad_request("a watch does not take continue")
        timeout = fake.args.watch_timeout
        if q.get("timeoutSeconds"):
            timeout = parse_int(q["timeoutSeconds"][0], "timeoutSeconds", 0)
            if timeout == 0:
                timeout = fake.args.watch_timeout
        rv_s = q.get("resourceVersion", [""])[0]
        if rv_s not in ("", "0"):
            parse_int(rv_s, "resourceVersion")
        w = Watch(self.path, entry["auth"])
        deadline = time.monotonic() + timeout
        plural = res.plural

        def match(ev):
            return ev.res == plural and (ns is None or ev.ns == ns) and \
                labels_match(reqs, ev.labels) and (not freqs or fields_match(freqs, ev.fields))

        def bookmark_line(rv, initial_end=False):
            meta = {"resourceVersion": str(rv)}
            if initial_end:
                meta["annotations"] = {"k8s.io/initial-events-end": "true"}
            return (json.dumps({"type": "BOOKMARK", "object": {
                "kind": res.kind, "apiVersion": res.api_version, "metadata": meta}},
                separators=(",", ":")) + "\n").encode()

        def error_line(code, reason, msg):
            return (json.dumps({"type": "ERROR", "object": status_obj(code, msg, reason)},
                               separators=(",", ":")) + "\n").encode()

        self.start_chunked("application/json")
        first = []
        with fake.lock:
            if rv_s in ("", "0") or send_initial:
                if send_initial is not False:
                    objs = [o for o in st.objs[plural].values()
                            if (ns is None or o["metadata"].get("namespace") == ns)
                            and labels_match(reqs, o["metadata"].get("labels"))
                            and (not freqs or fields_match(freqs, self.fields(res, o)))]
                    objs.sort(key=lambda o: int(o["metadata"]["resourceVersion"]))
                    first = [b'{"type":"ADDED","object":%s}\n' % json.dumps(
                        o, separators=(",", ":")).encode() for o in objs]
                last = st.rv
                if send_initial:
                    first.append(bookmark_line(last, True))
            else:
                last = int(rv_s)
                if last < st.oldest:
                    self.chunk(error_line(410, "Expired", "too old resource version: %d (%d)"
                                          % (last, st.oldest)))
                    self.end_chunked()
                    entry["watch_end"] = "410"
                    return 200
                if last > st.rv:
                    # the server waits a little for the revision, then gives up
                    st.cond.wait(3)
                    if last > st.rv:
                        self.chunk(error_line(504, "Timeout", "Too large resource version: %d, "
                                              "current: %d" % (last, st.rv)))
                        self.end_chunked()
                        return 200
            fake.watches.add(w)
            for d in fake.pending_drops:
                if d["left"] != 0:
                    w.drop_after = d["after"]
                    w.drop_mode = d["mode"]
                    if d["left"] > 0:
                        d["left"] -= 1
                    break
        try:
            for i in range(0, len(first), 200):
                self.chunk(b"".join(first[i:i + 200]))
            w.sent += len(first)
            next_bm = time.monotonic() + fake.bookmark_interval
            while True:
                out = []
                with fake.lock:
                    while True:
                        if w.dropped or (w.drop_after is not None and w.drop_after <= 0):
                            break
                        if last < st.oldest:
                            out.append(error_line(410, "Expired",
                                                  "too old resource version: %d (%d)"
                                                  % (last, st.oldest)))
                            break
                        evs = st.events_after(last)
                        if evs:
                            last = evs[-1].rv
                            for ev in evs:
                                if match(ev):
                                    out.append(ev.line)
                                    if w.drop_after is not None:
                                        w.drop_after -= 1
                                        if w.drop_after <= 0:
                                            break
                            if out:
                                break
                        now = time.monotonic()
                        if now >= deadline:
                            break
                        if bookmarks and now >= next_bm:
                            out.append(bookmark_line(st.rv))
                            last = max(last, st.rv)
                            next_bm = now + fake.bookmark_interval
                            break
                        wait = deadline - now
                        if bookmarks:
                            wait = min(wait, next_bm - now)
                        st.cond.wait(wait)
                if out:
                    self.chunk(b"".join(out))
                    w.sent += len(out)
                if out and out[-1].startswith(b'{"type":"ERROR"'):
                    self.end_chunked()
                    entry["watch_end"] = "410"
                    return 200
                if w.dropped or (w.drop_after is not None and w.drop_after <= 0):
                    entry["watch_end"] = "dropped"
                    if w.drop_mode == "end":
                        self.end_chunked()
                    else:
                        self.abort()
                    return 200
                if time.monotonic() >= deadline:
                    self.end_chunked()
                    entry["watch_end"] = "timeout"
                    return 200
        finally:
            with fake.lock:
                fake.watches.discard(w)

    # ---- objects -------------------------------------------------------------------------------

    def item(self, method, res, ns, name, sub, q, raw, entry):
        fake = self.fake
        st = fake.store
        if sub == "log":
            self.check_params(q, "log")
            if method != "GET":
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            return self.pod_log(ns, name, q)
        if sub in ("exec", "portforward"):
            self.check_params(q, sub)
            return self.stream(method, sub, ns, name, q, entry)
        if method == "GET":
            self.check_params(q, "get")
            with fake.lock:
                obj = st.get(res, ns, name)
                if obj is None:
                    raise not_found(res, name)
                if sub == "scale":
                    obj = self.scale_obj(obj)
                raw_out = json.dumps(obj)
            self.send_json(200, json.loads(raw_out))
            return 200
        if method == "DELETE":
            self.check_params(q, "delete")
            if sub:
                raise ApiError(405, "the server does not allow this method on the requested "
                               "resource")
            if res.kind == "Node":
                raise ApiError(403, 'nodes "%s" is forbidden: User "gantry" cannot delete '
                               'resource "nodes" in API group "" at the cluster scope' % name)
            opts = {}
            if raw:
                opts, _ = self.body_json(raw)
                if not isinstance(opts, dict):
                    raise bad_request("DeleteOptions must be a JSON object")
                for k in opts:
                    if k not in ("kind", "apiVersion", "gracePeriodSeconds", "preconditions",
                                 "orphanDependents", "propagationPolicy", "dryRun"):
                        raise bad_request('strict decoding error: unknown field "%s"' % k)
                if opts.get("dryRun"):
                    raise bad_request("dryRun is not supported by this fake")
            if q.get("gracePeriodSeconds"):
                opts["gracePeriodSeconds"] = parse_int(q["gracePeriodSeconds"][0],
                                                       "gracePeriodSeconds")
            if q.get("propagationPolicy"):
                opts["propagationPolicy"] = q["propagationPolicy"][0]
            if q.get("orphanDependents"):
                opts["orphanDependents"] = parse_bool(q["orphanDependents"][0],
                                                      "orphanDependents")
            g = opts.get("gracePeriodSeconds")
            if g is not None and (isinstance(g, bool) or not isinstance(g, int)):
                raise bad_request("gracePeriodSeconds must be an integer")
            with fake.lock:
                code, out = st.delete(res, ns, name, opts)
                raw_out = json.dumps(out)
            self.send_json(code, json.loads(raw_out))
            return code
        if method in ("PUT", "PATCH"):
            self.check_params(q, "update" if method == "PUT" else "patch")
            fv = self.strict(q)
            if res.kind == "Node" and sub != "status":
                raise ApiError(403, 'nodes "%s" is forbidden: User "gantry" cannot update '
                               'resource "nodes"' % name)
            if method == "PUT":
                body, _ = self.body_json(raw)
            else:
                body, ctype = self.body_json(raw, ("application/merge-patch+json",
                                                   "application/strategic-merge-patch+json",
                                                   "application/json-patch+json"))
            if sub == "scale":
                return self.scale_write(method, res, ns, name, body, ctype if method == "PATCH"
                                        else None)
            if method == "PUT":
                obj, warns = st.update(res, ns, name, body, sub, fv == "Strict",
                                       fake.cluster.check_update)
            else:
                obj, warns = st.patch(res, ns, name, ctype, body, sub, fv == "Strict",
                                      fake.cluster.check_update)
            entry["warnings"] = warns
            return self.reply_obj(200, obj, warns, fv)
        raise ApiError(405, "the server does not allow this method on the requested resource")

    def scale_obj(self, dep):
        m = dep["metadata"]
        sel = dep["spec"].get("selector") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {"name": m["name"], "namespace": m["namespace"], "uid": m["uid"],
                             "resourceVersion": m["resourceVersion"],
                             "creationTimestamp": m["creationTimestamp"]},
                "spec": {"replicas": dep["spec"].get("replicas", 1)},
                "status": {"replicas": (dep.get("status") or {}).get("replicas", 0),
                           "selector": ",".join("%s=%s" % kv for kv in sorted(
                               (sel.get("matchLabels") or {}).items()))}}

    def scale_write(self, method, res, ns, name, body, ctype):
        st = self.fake.store
        with self.fake.lock:
            dep = st.get(res, ns, name)
            if dep is None:
                raise not_found(res, name)
            cur = self.scale_obj(dep)
            if method == "PATCH":
                from k8s_meta import json_patch, merge_patch
                new = json_patch(cur, body) if ctype == "application/json-patch+json" \
                    else merge_patch(cur, body)
            else:
                new = body
            r = (new.get("spec") or {}).get("replicas")
            if isinstance(r, bool) or not isinstance(r, int):
                raise ApiError(422, 'Scale.autoscaling "%s" is invalid: spec.replicas: '
                               'Invalid value: must be an integer' % name, "Invalid")
            if r < 0:
                raise ApiError(422, 'Scale.autoscaling "%s" is invalid: spec.replicas: '
                               'Invalid value: %d: must be greater than or equal to 0'
                               % (name, r), "Invalid")
            obj, _ = st.patch(res, ns, name, "application/merge-patch+json",
                              {"spec": {"replicas": r}})
            raw_out = json.dumps(self.scale_obj(obj))
        self.send_json(200, json.loads(raw_out))
        return 200

    # ---- pod log, exec, portforward ----------------------------------------------------------

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

    # ---- control API -----------------------------------------------------------------------------

    def control(self, method, path, query, raw):
        fake = self.fake
        h = self.headers.get("Authorization", "")
        if not h.startswith("Bearer ") or h[7:].strip() != fake.ctl_token:
            return self.send_json(401, {"error": "control token required"})
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.send_json(400, {"error": "body is not JSON"})
        try:
            out = self.control_route(method, path, parse_qs(query), body)
        except (KeyError, TypeError, ValueError, ApiError) as e:
            return self.send_json(400, {"error": str(e)})
        if out is None:
            return self.send_json(404, {"error": "no control route %s %s" % (method, path)})
        return self.send_json(200, out)

    def control_route(self, method, path, q, body):
        fake = self.fake
        cl = fake.cluster
        st = fake.store
        if path == "/_fake/log" and method == "GET":
            since = int(q.get("since", ["0"])[0])
            with fake.lock:
                return {"data": [e for e in fake.log if e["seq"] > since]}
        if path == "/_fake/log" and method == "DELETE":
            with fake.lock:
                fake.log.clear()
            return {"data": {}}
        if path == "/_fake/faults" and method == "POST":
            items = body if isinstance(body, list) else [body]
            added = [make_fault(x) for x in items]
            with fake.lock:
                fake.faults.extend(added)
            return {"data": added}
        if path == "/_fake/faults" and method == "GET":
            with fake.lock:
                return {"data": [dict(f) for f in fake.faults]}
        if path == "/_fake/faults" and method == "DELETE":
            with fake.lock:
                fake.faults.clear()
            return {"data": {}}
        if path == "/_fake/config" and method == "POST":
            for k, v in body.items():
                if k == "latency_ms":
                    fake.latency_ms = float(v)
                elif k == "bookmark_interval":
                    fake.bookmark_interval = float(v)
                elif k in ("restart_backoff", "restart_backoff_max", "start_delay",
                           "pull_backoff", "probe_scale", "watch_timeout"):
                    setattr(fake.args, k, float(v))
                elif k == "unschedulable":
                    with fake.lock:
                        fake.args.unschedulable = bool(v)
                        cl.pending.update(u for u, rt in cl.pods.items() if rt.node is None)
                    cl.kick()
                elif k == "history":
                    fake.store.history = int(v)
                else:
                    raise ValueError("unknown config key " + k)
            return {"data": body}
        if path == "/_fake/watches" and method == "GET":
            with fake.lock:
                return {"data": [{"path": w.path, "sent": w.sent, "auth": w.who,
                                  "started": w.started} for w in fake.watches]}
        if path == "/_fake/watches/drop" and method == "POST":
            body = body or {}
            after = int(body.get("after", 0))
            mode = body.get("mode", "close")
            if mode not in ("close", "end"):
                raise ValueError("mode is close or end")
            with fake.lock:
                n = 0
                for w in fake.watches:
                    if body.get("path") and not re.search(body["path"], w.path):
                        continue
                    w.drop_after = after
                    w.drop_mode = mode
                    n += 1
                if body.get("future"):
                    fake.pending_drops.append({"after": after, "mode": mode,
                                               "left": int(body["future"])})
                st.cond.notify_all()
            return {"data": {"watches": n}}
        if path == "/_fake/compact" and method == "POST":
            return {"data": {"resourceVersion": str(st.compact())}}
        if path == "/_fake/state" and method == "GET":
            with fake.lock:
                return {"data": {"resourceVersion": str(st.rv), "oldest": str(st.oldest),
                                 "events": len(st.events), "watches": len(fake.watches),
                                 "counts": {k: len(v) for k, v in st.objs.items()}}}
        if path == "/_fake/pods" and method == "GET":
            with fake.lock:
                out = []
                for rt in cl.pods.values():
                    out.append({"namespace": rt.key[0], "name": rt.key[1], "uid": rt.uid,
                                "node": rt.node, "dir": rt.dir,
                                "ports": {str(k): v for k, v in rt.ports.items()},
                                "gpus": [i for _, i in rt.gpus], "deleting": rt.deleting,
                                "containers": {n: {"pid": ct.proc.pid if ct.proc else None,
                                                   "runs": ct.runs, "restarts": ct.restarts,
                                                   "ready": ct.ready, "state": ct.state}
                                               for n, ct in rt.cts.items()}})
                return {"data": out}
        m = re.fullmatch(r"/_fake/pods/([^/]+)/([^/]+)/exit", path)
        if m and method == "POST":
            n = cl.exit_pod(m.group(1), m.group(2), int(body.get("code", 1)),
                            body.get("reason"), body.get("container"))
            return {"data": {"containers": n}}
        m = re.fullmatch(r"/_fake/nodes/([^/]+)", path)
        if m and method == "POST":
            node = cl.node_fault(m.group(1), body or {})
            return {"data": node["metadata"]["name"]}
        if path == "/_fake/nodes" and method == "POST":
            cl.add_node(body["name"], int(body.get("gpus", 0)), body.get("product"),
                        body.get("labels"), body.get("cpu", "64"), body.get("memory", "512Gi"),
                        body.get("pods", "10000"), body.get("taints"))
            return {"data": body["name"]}
        m = re.fullmatch(r"/_fake/hpa/([^/]+)/([^/]+)", path)
        if m and method == "POST":
            with fake.lock:
                key = (m.group(1), m.group(2))
                if "desired" in body:
                    d = body["desired"]
                    if isinstance(d, bool) or not isinstance(d, int) or d < 0:
                        raise ValueError("desired is an integer >= 0")
                    cl.hpa_desired[key] = d
                if "metric" in body:
                    cl.hpa_metric[key] = str(body["metric"])
            cl.kick()
            return {"data": body}
        m = re.fullmatch(r"/_fake/dcgm/([^/]+)/([^/]+)", path)
        if m and method == "POST":
            for k in body:
                if k not in ("util", "fb_used", "fb_free", "temp", "power") and \
                        not k.isdigit():
                    raise ValueError("dcgm values: util, fb_used, fb_free, temp, power "
                                     "(or per GPU index: {\"0\": {...}})")
            with fake.lock:
                cl.dcgm[(m.group(1), m.group(2))] = body
            return {"data": body}
        if path == "/_fake/bulk" and method == "POST":
            n = cl.bulk_pods(body.get("namespace", "default"), int(body["count"]),
                             body.get("labels") or {}, body.get("prefix", "bulk"),
                             body.get("image", "gantry.test/idle"))
            return {"data": {"created": n}}
        if path == "/_fake/namespaces" and method == "POST":
            st.add_namespace(body["name"])
            return {"data": body["name"]}
        return None


def make_fault(x):
    if not isinstance(x, dict):
        raise ValueError("a fault is a JSON object")
    allowed = {"status", "count", "method", "path", "query", "retry_after", "message", "reason",
               "skip", "ms"}
    for k in x:
        if k not in allowed:
            raise ValueError("a fault takes no key %s (keys: %s)" % (k, sorted(allowed)))
    f = dict(x)
    f["kind"] = "delay" if "ms" in x else "status"
    if f["kind"] == "status":
        if not isinstance(x.get("status"), int) or not 400 <= x["status"] <= 599:
            raise ValueError("status wants an HTTP status 400..599")
        f.setdefault("reason", REASONS.get(x["status"], "InternalError"))
    for k in ("method", "path", "query"):
        if k in x:
            re.compile(x[k])
    count = x.get("count", 1)
    if not isinstance(count, int) or count == 0 or count < -1:
        raise ValueError("count must be a positive integer, or -1 for always")
    f["left"] = count
    f["hits"] = 0
    f["id"] = "f%d" % id(f)
    return f


class DcgmHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None

    def log_message(self, fmt, *args):
        pass

    def do_GET(self):
        if urlsplit(self.path).path != "/metrics":
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        raw = self.fake.cluster.dcgm_text().encode()
        self.fake.dcgm_hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 512

    def handle_error(self, request, client_address):
        e = sys.exc_info()[1]
        if isinstance(e, (ssl.SSLError, ConnectionError, TimeoutError, OSError)):
            return  # a client that gave up, or a failed handshake (bad certificate)
        super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert", required=True, help="server certificate (PEM)")
    ap.add_argument("--tls-key", required=True, help="server key (PEM)")
    ap.add_argument("--client-ca", help="CA (PEM) of accepted client certificates")
    ap.add_argument("--token-file", action="append", default=[],
                    help="file of accepted bearer tokens, one a line (repeat; re-read when it "
                    "changes)")
    ap.add_argument("--ctl-token-file", required=True)
    ap.add_argument("--dir", required=True, help="work directory (pods' directories)")
    ap.add_argument("--namespace", action="append", default=[],
                    help="a namespace that exists (besides default, kube-system)")
    ap.add_argument("--auto-namespaces", action="store_true",
                    help="any namespace exists when first used")
    ap.add_argument("--nodes", help='JSON file: [{"name", "gpus", "product", "labels", '
                    '"taints", "cpu", "memory", "pods"}] instead of the default two nodes')
    ap.add_argument("--gpu-resource", default="nvidia.com/gpu")
    ap.add_argument("--history", type=int, default=20000,
                    help="events retained for watch resumption")
    ap.add_argument("--bookmark-interval", type=float, default=60.0)
    ap.add_argument("--watch-timeout", type=float, default=1800.0,
                    help="seconds a watch without timeoutSeconds lasts")
    ap.add_argument("--latency-ms", type=float, default=0.0)
    ap.add_argument("--start-delay", type=float, default=0.2,
                    help="seconds from scheduled to containers started")
    ap.add_argument("--restart-backoff", type=float, default=1.0,
                    help="first crash-loop back-off in seconds (the kubelet's is 10)")
    ap.add_argument("--restart-backoff-max", type=float, default=10.0,
                    help="back-off cap (the kubelet's is 300)")
    ap.add_argument("--pull-backoff", type=float, default=1.0)
    ap.add_argument("--probe-scale", type=float, default=1.0,
                    help="multiplies probe periods and initial delays")
    ap.add_argument("--idle-delete", type=float, default=0.1,
                    help="seconds before a pod with no process goes after a delete")
    ap.add_argument("--unschedulable", action="store_true", help="no pod fits anywhere")
    ap.add_argument("--dcgm-port", type=int, default=0)
    ap.add_argument("--pid-file")
    args = ap.parse_args()
    if not args.listen.startswith("127.") and args.listen != "::1":
        raise SystemExit("k8s_fake: listens on loopback only")
    with open(args.ctl_token_file) as f:
        args.ctl_token = f.read().strip()
    if not args.ctl_token:
        raise SystemExit("k8s_fake: empty control token")

    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(args.tls_cert, args.tls_key)
    tls.set_alpn_protocols(["http/1.1"])
    if args.client_ca:
        tls.load_verify_locations(args.client_ca)
        tls.verify_mode = ssl.CERT_OPTIONAL

    args.api_port = args.port
    fake = Fake(args)
    if fake.ctl_token in fake.tokens():
        raise SystemExit("k8s_fake: the control token must differ from the API tokens")
    Handler.fake = fake
    Handler.tls = tls
    DcgmHandler.fake = fake
    server = Server((args.listen, args.port), Handler)
    args.api_port = server.server_address[1]
    dcgm = Server((args.listen, args.dcgm_port), DcgmHandler)

    for ns in ["default", "kube-system"] + args.namespace:
        fake.store.add_namespace(ns)
    nodes = DEFAULT_NODES
    if args.nodes:
        with open(args.nodes) as f:
            nodes = json.load(f)
    for n in nodes:
        fake.cluster.add_node(n["name"], n.get("gpus", 0), n.get("product"), n.get("labels"),
                              n.get("cpu", "64"), n.get("memory", "512Gi"),
                              n.get("pods", "10000"), n.get("taints"))
    fake.cluster.start()

    def stop(signum, frame):
        fake.cluster.cleanup()
        threading.Thread(target=server.shutdown, daemon=True).start()
        threading.Thread(target=dcgm.shutdown, daemon=True).start()

    faulthandler.register(signal.SIGUSR2, all_threads=True)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    threading.Thread(target=dcgm.serve_forever, kwargs={"poll_interval": 1.0},
                     daemon=True).start()
    print("DCGM_PORT %d" % dcgm.server_address[1], flush=True)
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever(poll_interval=1.0)
    server.server_close()


if __name__ == "__main__":
    main()
