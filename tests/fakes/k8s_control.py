"""k8s_control.py: the control API of the Kubernetes fake (tests/fakes/k8s_fake.py) under
/_fake/, with its own bearer token (never an API token); a base class of the request
handler. Faults (an HTTP status for the next N requests matching method/path/query
regexes, with Retry-After; a delay), latency per request, dropping open watches (at once
or after N more events), compacting the event history, pod and node faults, HPA desired
replicas, DCGM values, bulk pods, and the log of the requests received. See
tests/fakes/README.md.
"""

import json
import re
from urllib.parse import parse_qs

from k8s_meta import ApiError, REASONS


class Control:
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
