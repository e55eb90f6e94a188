#!/usr/bin/env python3
"""k8s_pods.py: the Kubernetes benchmarks' side of the fake (tests/fakes/k8s_fake.py, started
by tests/lib/k8srig.sh, whose variables it reads: K8S_CTL, K8S_CTL_TOKEN, K8S_CA and
K8S_DIR, whose kubeconfig gives the API server and the token).

  k8s_pods.py create IDS_FILE INSTALLATION_ID [NAMESPACE]
      one idle pod (image gantry.test/idle: no process) per job id of IDS_FILE, named and
      labelled as the kubernetes provider names and labels a notebook's pod
      (gantry-<job>-1, gantry.dev/job, attempt, owner, installation, kind, managed-by),
      created through the API itself (POST .../pods, keep-alive), as Gantry would
  k8s_pods.py requests
      the fake's request log so far, counted by "VERB KIND" ("list pods", "watch pods",
      "create jobs", ...), as JSON
  k8s_pods.py latency MS
      MS added to every API request from now on (the control API's latency fault)
  k8s_pods.py check-launches PHASE N KIND
      after N launches of KIND: exactly N workload objects created (201), no request
      refused (a 404 of the adoption check is not a refusal); prints the requests by verb
      and kind
"""
import http.client
import json
import os
import ssl
import sys
import urllib.parse

import yaml

WORKLOAD = {"training": "jobs", "notebook": "pods", "endpoint": "deployments"}


def kubeconfig():
    path = os.path.join(os.environ["K8S_DIR"], "kubeconfig")
    kc = yaml.safe_load(open(path))
    cur = kc.get("current-context")
    ctx = next(c["context"] for c in kc["contexts"] if c["name"] == cur)
    cl = next(c["cluster"] for c in kc["clusters"] if c["name"] == ctx["cluster"])
    us = next(u["user"] for u in kc["users"] if u["name"] == ctx["user"])
    base = os.path.dirname(path)
    ca = cl.get("certificate-authority")
    sslctx = ssl.create_default_context()
    if ca:
        sslctx.load_verify_locations(cafile=os.path.join(base, ca))
    else:
        import base64
        sslctx.load_verify_locations(cadata=base64.b64decode(cl["certificate-authority-data"]).decode())
    token = us.get("token")
    if token is None and us.get("tokenFile"):
        token = open(os.path.join(base, us["tokenFile"])).read().strip()
    return cl["server"], sslctx, token


def conn(url, sslctx):
    u = urllib.parse.urlsplit(url)
    return http.client.HTTPSConnection(u.hostname, u.port, context=sslctx, timeout=60)


def ctl(method, path, body=None):
    """The fake's control API under /_fake/ (its own token; JSON answers {"data": ...})."""
    u = urllib.parse.urlsplit(os.environ["K8S_CTL"])
    sslctx = ssl.create_default_context(cafile=os.environ["K8S_CA"])
    c = http.client.HTTPSConnection(u.hostname, u.port, context=sslctx, timeout=120)
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, "/_fake" + path, body=data,
              headers={"Authorization": "Bearer " + os.environ["K8S_CTL_TOKEN"],
                       "Content-Type": "application/json"})
    r = c.getresponse()
    out = r.read()
    if r.status >= 300:
        sys.exit("k8s_pods: %s /_fake%s: %d %s" % (method, path, r.status, out[:300]))
    return json.loads(out)["data"]


def create(ids_file, install, ns="default", conns=16):
    """POSTs the pods over `conns` keep-alive connections at once (the fake answers each
    request in ~45 ms on a reused connection: delayed ACKs, see docs/performance.md)."""
    import threading
    server, sslctx, token = kubeconfig()
    path = urllib.parse.urlsplit(server).path.rstrip("/") + "/api/v1/namespaces/%s/pods" % ns
    hdr = {"Authorization": "Bearer " + token, "Content-Type": "application/json"}
    jobs = [l.strip() for l in open(ids_file) if l.strip()]
    errors = []

    def worker(part):
        c = conn(server, sslctx)
        for job in part:
            pod = {"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": "gantry-%s-1" % job, "namespace": ns,
                                "labels": {"gantry.dev/job": job, "gantry.dev/attempt": "1",
                                           "gantry.dev/owner": "bench",
                                           "gantry.dev/installation": install,
                                           "gantry.dev/kind": "notebook",
                                           "app.kubernetes.io/managed-by": "gantry"}},
                   "spec": {"restartPolicy": "Never",
                            "containers": [{"name": "main", "image": "gantry.test/idle",
                                            "command": ["/bin/sh", "-c", "sleep 3600"]}]}}
            c.request("POST", path, body=json.dumps(pod).encode(), headers=hdr)
            r = c.getresponse()
            out = r.read()
            if r.status != 201:
                errors.append("POST pod %s: %d %s" % (job, r.status, out[:300]))
                return

    threads = [threading.Thread(target=worker, args=(jobs[i::conns],)) for i in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        sys.exit("k8s_pods: %s" % errors[0])


def request_log():
    """[(method, path, query, status)] of every API request the fake received (its log)."""
    out = []
    for e in ctl("GET", "/log"):
        q = e.get("query") or {}
        out.append((e.get("method", ""), e.get("path", ""), q, int(e.get("status") or 0)))
    return out


def verb_kind(method, path, q):
    parts = [p for p in path.split("/") if p]
    # /api/v1/namespaces/NS/KIND[/NAME[/SUB]] or /apis/GROUP/VERSION/namespaces/NS/KIND[...]
    if "namespaces" in parts:
        rest = parts[parts.index("namespaces") + 2:]
    else:
        rest = parts[2:] if parts and parts[0] == "api" else parts[3:]
    kind = rest[0] if rest else "?"
    named = len(rest) > 1
    if method == "GET" and not named:
        verb = "watch" if q.get("watch", [""])[0] in ("1", "true") else "list"
    else:
        verb = {"GET": "get", "POST": "create", "PUT": "update", "PATCH": "patch",
                "DELETE": "delete"}.get(method, method)
    if len(rest) > 2:
        kind += "/" + rest[2]
    return "%s %s" % (verb, kind)


def requests():
    counts = {}
    for m, p, q, _ in request_log():
        if not p.startswith("/api"):
            continue
        k = verb_kind(m, p, q)
        counts[k] = counts.get(k, 0) + 1
    json.dump(counts, sys.stdout, sort_keys=True)
    print()


def check_launches(phase, n, kind):
    log = request_log()
    want = WORKLOAD[kind]
    counts = {}
    created = 0
    bad = []
    for m, p, q, st in log:
        if not p.startswith("/api"):
            continue
        k = verb_kind(m, p, q)
        counts[k] = counts.get(k, 0) + 1
        if k == "create " + want and st == 201:
            created += 1
        if st >= 300 and st != 404:
            bad.append((m, p, st))
    print("fake %s: %d requests (%s)" % (phase, sum(counts.values()),
                                        ", ".join("%s %d" % kv for kv in sorted(counts.items()))))
    if created != n:
        sys.exit("k8s_launch_bench: FAIL: %s: %d %s created, wanted %d" % (phase, created, want, n))
    if bad:
        sys.exit("k8s_launch_bench: FAIL: %s: %d requests refused, e.g. %s %s %d" %
                 ((phase, len(bad)) + bad[0]))


def main():
    cmd = sys.argv[1]
    if cmd == "create":
        create(*sys.argv[2:])
    elif cmd == "requests":
        requests()
    elif cmd == "latency":
        ctl("POST", "/config", {"latency_ms": int(sys.argv[2])})
    elif cmd == "check-launches":
        check_launches(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        sys.exit("usage: k8s_pods.py create|requests|latency|check-launches ...")


if __name__ == "__main__":
    main()
