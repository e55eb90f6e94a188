"""k8s_cluster.py: nodes, the scheduler, the kubelet and the controllers of the Kubernetes
fake (tests/fakes/k8s_fake.py).

Pods are real local processes: the container's command + args (exec form, $(VAR)
expanded), env from the spec (fieldRef resolved), cwd a per-pod directory, stdout and
stderr into the container's log. Each containerPort gets a free loopback port, put in
place of any env value equal to it; readiness probes and port-forward go there. Images
gantry.test/idle (and containers with no command) run no process; gantry.test/pull-error*
never pull. Controllers: Job (backoffLimit, activeDeadlineSeconds, Indexed completion),
Deployment (replicas, template changes), HorizontalPodAutoscaler (desired replicas from the
control API, within min/max), Service (clusterIP). One controller thread driven by a
condition variable and a timer heap: nothing polls while idle.
"""

import hashlib
import heapq
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request
import uuid

from k8s_meta import ApiError, labels_match, rfc3339, rfc3339_parse, selector_from_label_selector
from k8s_schema import quantity
from k8s_store import BY_KIND, gen_suffix

POD = BY_KIND["Pod"]
JOB = BY_KIND["Job"]
DEP = BY_KIND["Deployment"]
HPA = BY_KIND["HorizontalPodAutoscaler"]
SVC = BY_KIND["Service"]
NODE = BY_KIND["Node"]

GPU_MODELS = {"NVIDIA-H100-80GB-HBM3": "NVIDIA H100 80GB HBM3",
              "NVIDIA-A100-SXM4-80GB": "NVIDIA A100-SXM4-80GB"}
DEFAULT_NODES = [
    {"name": "node-h100", "gpus": 8, "product": "NVIDIA-H100-80GB-HBM3", "labels": {}},
    {"name": "node-a100-spot", "gpus": 4, "product": "NVIDIA-A100-SXM4-80GB",
     "labels": {"gantry.dev/spot": "true"}},
]


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


class LogBuf:
    """One run of a container: its output file, grown by a reader thread."""

    def __init__(self, path, cond):
        self.path = path
        self.cond = cond
        self.size = 0
        self.closed = False
        open(path, "wb").close()

    def append(self, data):
        with open(self.path, "ab") as f:
            f.write(data)
        with self.cond:
            self.size += len(data)
            self.cond.notify_all()

    def close(self):
        with self.cond:
            self.closed = True
            self.cond.notify_all()


class CRT:
    """A container at run time."""

    def __init__(self, spec):
        self.spec = spec
        self.name = spec["name"]
        self.proc = None
        self.pid = None
        self.log = None
        self.prev_log = None
        self.runs = 0
        self.restarts = 0
        self.state = {"waiting": {"reason": "ContainerCreating"}}
        self.last_state = {}
        self.ready = False
        self.started_at = None
        self.forced = None  # (exit code, reason) from the control API
        self.probe_stop = None
        self.container_id = None


class PodRT:
    def __init__(self, pod, root):
        meta = pod["metadata"]
        self.uid = meta["uid"]
        self.key = (meta["namespace"], meta["name"])
        self.dir = os.path.join(root, "pods", "%s_%s_%s" % (meta["namespace"], meta["name"],
                                                            self.uid[:8]))
        self.ports = {}  # containerPort -> local port
        self.cts = {}
        self.node = None
        self.gpus = []  # (node name, index)
        self.deleting = False
        self.kill_at = None
        self.owner = None  # (kind, uid) of the controller
        self.index = None
        self.counted = False  # a terminal phase already counted by the job controller
        self.pod_ip = None


class Cluster:
    def __init__(self, store, root, opts):
        self.store = store
        self.lock = store.lock
        self.root = root
        self.opts = opts
        self.cv = threading.Condition(store.lock)
        self.dirty = False
        self.timers = []
        self.tseq = 0
        self.pods = {}  # uid -> PodRT
        self.owned = {}  # owner uid -> set of pod uids
        self.pending = set()  # uids of pods not scheduled
        self.nodes = {}  # name -> {"gpus": [uuid..], "used": {idx: pod uid}, "lost": bool}
        self.hpa_desired = {}  # (ns, name) -> int
        self.hpa_metric = {}  # (ns, name) -> value text
        self.dcgm = {}  # (ns, pod) -> dict of values
        self.job_rt = {}  # job uid -> {"failed": set(uids), "succeeded": set, "indexes": set}
        self.ip_seq = 0
        self.svc_seq = 0
        store.on_change = self.on_change
        store.on_pod_delete = self.on_pod_delete
        os.makedirs(os.path.join(root, "pods"), exist_ok=True)
        self.thread = threading.Thread(target=self.loop, daemon=True, name="controllers")

    def start(self):
        self.thread.start()

    # ---- the loop --------------------------------------------------------------------------

    def kick(self):
        with self.cv:
            self.dirty = True
            self.cv.notify_all()

    def after(self, delay, fn, *args):
        with self.cv:
            self.tseq += 1
            heapq.heappush(self.timers, (time.monotonic() + delay, self.tseq, fn, args))
            self.cv.notify_all()

    def loop(self):
        while True:
            with self.cv:
                while not self.dirty and not (self.timers and
                                              self.timers[0][0] <= time.monotonic()):
                    wait = self.timers[0][0] - time.monotonic() if self.timers else None
                    self.cv.wait(wait)
                self.dirty = False
                due = []
                while self.timers and self.timers[0][0] <= time.monotonic():
                    due.append(heapq.heappop(self.timers))
                try:
                    for _, _, fn, args in due:
                        fn(*args)
                    self.reconcile()
                except Exception as e:  # keep the controllers alive; the log shows it
                    import traceback
                    traceback.print_exc()
                    print("k8s_fake: controller error: %r" % e, flush=True)

    def on_change(self, res, type_, obj):
        # under the store lock: index pods, wake the controllers
        if res is POD:
            uid = obj["metadata"]["uid"]
            if type_ == "ADDED" and uid not in self.pods:
                self.track_pod(obj)
            elif type_ == "DELETED":
                self.forget_pod(uid)
        if res is not NODE:
            self.dirty = True
            self.cv.notify_all()

    def reconcile(self):
        st = self.store
        for uid in list(self.pending):
            rt = self.pods.get(uid)
            if rt is None:
                self.pending.discard(uid)
                continue
            pod = st.get(POD, *rt.key)
            if pod is None or pod["metadata"]["deletionTimestamp" if False else "uid"] != uid:
                self.pending.discard(uid)
                continue
            self.schedule(pod, rt)
        for job in list(st.objs["jobs"].values()):
            self.job_sync(job)
        for dep in list(st.objs["deployments"].values()):
            self.deploy_sync(dep)
        for hpa in list(st.objs["horizontalpodautoscalers"].values()):
            self.hpa_sync(hpa)
        st.finish_foreground()

    # ---- pods: tracking ------------------------------------------------------------------

    def track_pod(self, pod):
        rt = PodRT(pod, self.root)
        self.pods[rt.uid] = rt
        for ref in pod["metadata"].get("ownerReferences") or []:
            if ref.get("controller"):
                owner = ref.get("uid")
                ann = pod["metadata"].get("annotations") or {}
                owner = ann.get("fake.gantry.test/owner-uid", owner)
                rt.owner = owner
                self.owned.setdefault(owner, set()).add(rt.uid)
        idx = (pod["metadata"].get("annotations") or {}).get(
            "batch.kubernetes.io/job-completion-index")
        rt.index = int(idx) if idx is not None and idx.isdigit() else None
        for c in pod["spec"].get("containers") or []:
            rt.cts[c["name"]] = CRT(c)
            for p in c.get("ports") or []:
                if p.get("protocol", "TCP") == "TCP" and p["containerPort"] not in rt.ports:
                    rt.ports[p["containerPort"]] = free_port()
        if pod["spec"].get("nodeName"):
            rt.node = pod["spec"]["nodeName"]
        self.pending.add(rt.uid)

    def forget_pod(self, uid):
        rt = self.pods.pop(uid, None)
        if rt is None:
            return
        self.pending.discard(uid)
        if rt.owner and rt.owner in self.owned:
            self.owned[rt.owner].discard(uid)
        self.release_gpus(rt)
        for ct in rt.cts.values():
            if ct.probe_stop:
                ct.probe_stop.set()
            self.signal_ct(ct, signal.SIGKILL)
        self.dcgm.pop(rt.key, None)

    def release_gpus(self, rt):
        for node, idx in rt.gpus:
            n = self.nodes.get(node)
            if n and n["used"].get(idx) == rt.uid:
                del n["used"][idx]
        rt.gpus = []

    # ---- nodes and the scheduler ------------------------------------------------------------

    def add_node(self, name, gpus=0, product=None, labels=None, cpu="64", memory="512Gi",
                 pods="10000", taints=None):
        lab = {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
               "kubernetes.io/arch": "amd64", "node.kubernetes.io/instance-type": "fake"}
        cap = {"cpu": str(cpu), "memory": str(memory), "pods": str(pods),
               "ephemeral-storage": "1Ti"}
        if gpus:
            cap[self.opts.gpu_resource] = str(gpus)
            if product:
                lab["nvidia.com/gpu.product"] = product
                lab["nvidia.com/gpu.count"] = str(gpus)
        lab.update(labels or {})
        with self.lock:
            ip = "10.0.0.%d" % (len(self.nodes) + 2)
            node = {"apiVersion": "v1", "kind": "Node",
                    "metadata": {"name": name, "uid": str(uuid.uuid4()),
                                 "creationTimestamp": rfc3339(), "labels": lab},
                    "spec": {"podCIDR": "10.244.%d.0/24" % (len(self.nodes) + 1)},
                    "status": {"capacity": cap, "allocatable": dict(cap),
                               "conditions": [self.node_ready_cond(True)],
                               "addresses": [{"type": "InternalIP", "address": ip},
                                             {"type": "Hostname", "address": name}],
                               "nodeInfo": {"kubeletVersion": "v1.31.0-fake",
                                            "operatingSystem": "linux",
                                            "architecture": "amd64",
                                            "containerRuntimeVersion": "fake://1"}}}
            if taints:
                node["spec"]["taints"] = taints
            self.nodes[name] = {"gpus": ["GPU-" + str(uuid.uuid5(uuid.NAMESPACE_DNS,
                                                                  "%s-%d" % (name, i)))
                                         for i in range(int(gpus))],
                                "used": {}, "lost": False, "ip": ip,
                                "model": GPU_MODELS.get(product or "", product or "")}
            self.store.put(NODE, node, "ADDED")
            self.dirty = True
            self.cv.notify_all()

    @staticmethod
    def node_ready_cond(ready, reason=None, message=None):
        now = rfc3339()
        return {"type": "Ready", "status": {True: "True", False: "False"}.get(ready, "Unknown"),
                "lastHeartbeatTime": now, "lastTransitionTime": now,
                "reason": reason or ("KubeletReady" if ready else "KubeletNotReady"),
                "message": message or ("kubelet is posting ready status" if ready
                                       else "container runtime is down")}

    def pod_requests(self, pod):
        req = {}
        for c in pod["spec"].get("containers") or []:
            res = c.get("resources") or {}
            merged = dict(res.get("limits") or {})
            merged.update(res.get("requests") or {})
            for k, v in merged.items():
                req[k] = req.get(k, 0.0) + (quantity(v) or 0.0)
        return req

    def node_used(self, name):
        used = {}
        n = 0
        for rt in self.pods.values():
            if rt.node != name:
                continue
            pod = self.store.get(POD, *rt.key)
            if pod is None or (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            n += 1
            for k, v in self.pod_requests(pod).items():
                used[k] = used.get(k, 0.0) + v
        used["pods"] = n
        return used

    def fit_reasons(self, pod, node):
        name = node["metadata"]["name"]
        nrt = self.nodes[name]
        reasons = []
        ready = next((c for c in node["status"].get("conditions") or []
                      if c["type"] == "Ready"), {})
        if nrt["lost"]:
            return ["node(s) had untolerated taint {node.kubernetes.io/unreachable: }"]
        if ready.get("status") != "True":
            return ["node(s) had untolerated taint {node.kubernetes.io/not-ready: }"]
        if node["spec"].get("unschedulable"):
            return ["node(s) were unschedulable"]
        sel = pod["spec"].get("nodeSelector") or {}
        labels = node["metadata"].get("labels") or {}
        if any(labels.get(k) != v for k, v in sel.items()):
            return ["node(s) didn't match Pod's node affinity/selector"]
        tols = pod["spec"].get("tolerations") or []
        for t in node["spec"].get("taints") or []:
            if t.get("effect") not in ("NoSchedule", "NoExecute"):
                continue
            if not any(tolerates(tol, t) for tol in tols):
                return ["node(s) had untolerated taint {%s: %s}" % (t["key"], t.get("value",
                                                                                      ""))]
        alloc = node["status"].get("allocatable") or {}
        used = self.node_used(name)
        if used["pods"] + 1 > (quantity(alloc.get("pods", "110")) or 0):
            reasons.append("Too many pods")
        for k, v in sorted(self.pod_requests(pod).items()):
            if v <= 0:
                continue
            have = quantity(alloc.get(k, "0")) or 0.0
            if k == self.opts.gpu_resource:
                have = min(have, len(nrt["gpus"]))
            if used.get(k, 0.0) + v > have + 1e-9:
                reasons.append("Insufficient " + k)
        return reasons

    def schedule(self, pod, rt):
        if pod["metadata"].get("deletionTimestamp"):
            self.pending.discard(rt.uid)
            return
        if rt.node is None:
            nodes = sorted(self.store.objs["nodes"].values(), key=lambda n: n["metadata"]["name"])
            counts = {}
            chosen = None
            if self.opts.unschedulable:
                counts["node(s) were unschedulable"] = len(nodes)
            else:
                for node in nodes:
                    rs = self.fit_reasons(pod, node)
                    if not rs:
                        chosen = node
                        break
                    for r in rs:
                        counts[r] = counts.get(r, 0) + 1
            if chosen is None:
                msg = "0/%d nodes are available: %s." % (len(nodes), ", ".join(
                    "%d %s" % (n, r) for r, n in sorted(counts.items(), key=lambda x: x[0])))
                if not nodes:
                    msg = "no nodes available to schedule pods"
                st = pod.setdefault("status", {})
                cond = {"type": "PodScheduled", "status": "False", "lastProbeTime": None,
                        "lastTransitionTime": rfc3339(), "reason": "Unschedulable",
                        "message": msg}
                old = next((c for c in st.get("conditions") or []
                            if c["type"] == "PodScheduled"), None)
                if old is None or old.get("message") != msg or old.get("status") != "False":
                    st["phase"] = "Pending"
                    st["conditions"] = [cond]
                    st.setdefault("qosClass", qos_class(pod))
                    self.store.put(POD, pod)
                return
            rt.node = chosen["metadata"]["name"]
            pod["spec"]["nodeName"] = rt.node
        self.pending.discard(rt.uid)
        nrt = self.nodes.get(rt.node)
        ngpu = int(self.pod_requests(pod).get(self.opts.gpu_resource, 0))
        if nrt and ngpu:
            free = [i for i in range(len(nrt["gpus"])) if i not in nrt["used"]][:ngpu]
            for i in free:
                nrt["used"][i] = rt.uid
                rt.gpus.append((rt.node, i))
        self.ip_seq += 1
        rt.pod_ip = "10.244.%d.%d" % (1 + self.ip_seq // 250, 2 + self.ip_seq % 250)
        st = pod.setdefault("status", {})
        now = rfc3339()
        st["phase"] = "Pending"
        st["conditions"] = [
            {"type": "PodReadyToStartContainers", "status": "False", "lastProbeTime": None,
             "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": now},
            {"type": "Ready", "status": "False", "lastProbeTime": None, "lastTransitionTime": now,
             "reason": "ContainersNotReady",
             "message": "containers with unready status: [%s]" % " ".join(rt.cts)},
            {"type": "ContainersReady", "status": "False", "lastProbeTime": None,
             "lastTransitionTime": now, "reason": "ContainersNotReady",
             "message": "containers with unready status: [%s]" % " ".join(rt.cts)},
            {"type": "PodScheduled", "status": "True", "lastProbeTime": None,
             "lastTransitionTime": now}]
        st["hostIP"] = nrt["ip"] if nrt else "10.0.0.1"
        st["hostIPs"] = [{"ip": st["hostIP"]}]
        st["startTime"] = now
        st["qosClass"] = qos_class(pod)
        st["containerStatuses"] = [self.ct_status(ct) for ct in rt.cts.values()]
        self.store.put(POD, pod)
        self.after(self.opts.start_delay, self.start_pod, rt.uid)

    # ---- pods: the kubelet ---------------------------------------------------------------------

    def ct_status(self, ct):
        img = ct.spec.get("image", "")
        s = {"name": ct.name, "state": ct.state, "lastState": ct.last_state, "ready": ct.ready,
             "restartCount": ct.restarts, "image": img,
             "imageID": "" if "waiting" in ct.state and not ct.container_id
             else "gantry.test/fake@sha256:" + hashlib.sha256(img.encode()).hexdigest(),
             "started": "running" in ct.state}
        if ct.container_id:
            s["containerID"] = ct.container_id
        return s

    def refresh(self, pod, rt):
        """Recomputes phase, conditions and containerStatuses from the run time state."""
        st = pod.setdefault("status", {})
        old = json.dumps(st, sort_keys=True)
        cts = list(rt.cts.values())
        st["containerStatuses"] = [self.ct_status(ct) for ct in cts]
        if st.get("phase") not in ("Failed", "Succeeded") or not rt.node:
            rp = pod["spec"].get("restartPolicy", "Always")
            terms = [ct.state.get("terminated") for ct in cts]
            if all(terms) and rp != "Always" and not any(
                    rp == "OnFailure" and t["exitCode"] != 0 for t in terms):
                st["phase"] = "Succeeded" if all(t["exitCode"] == 0 for t in terms) else "Failed"
            elif all(terms) and rp == "Never":
                st["phase"] = "Failed"
            elif any("running" in ct.state for ct in cts) or any(ct.runs for ct in cts):
                st["phase"] = "Running"
            if rt.pod_ip and any(ct.runs for ct in cts) or any("running" in ct.state
                                                              for ct in cts):
                st["podIP"] = rt.pod_ip
                st["podIPs"] = [{"ip": rt.pod_ip}]
        ready = all(ct.ready for ct in cts) and st.get("phase") == "Running"
        unready = [ct.name for ct in cts if not ct.ready]
        for c in st.get("conditions") or []:
            want = None
            if c["type"] in ("Ready", "ContainersReady"):
                want = "True" if ready else "False"
            elif c["type"] == "PodReadyToStartContainers":
                want = "True"
            if want and c["status"] != want:
                c["status"] = want
                c["lastTransitionTime"] = rfc3339()
            if c["type"] in ("Ready", "ContainersReady"):
                if want == "True":
                    c.pop("reason", None)
                    c.pop("message", None)
                elif st.get("phase") in ("Succeeded", "Failed"):
                    c["reason"] = "PodCompleted"
                    c.pop("message", None)
                else:
                    c["reason"] = "ContainersNotReady"
                    c["message"] = "containers with unready status: [%s]" % " ".join(unready)
        if json.dumps(st, sort_keys=True) != old:
            self.store.put(POD, pod)
        if st.get("phase") in ("Succeeded", "Failed"):
            self.release_gpus(rt)

    def live(self, uid):
        rt = self.pods.get(uid)
        if rt is None:
            return None, None
        pod = self.store.get(POD, *rt.key)
        if pod is None or pod["metadata"]["uid"] != uid:
            return None, None
        return pod, rt

    def start_pod(self, uid):
        pod, rt = self.live(uid)
        if pod is None or rt.deleting:
            return
        os.makedirs(rt.dir, exist_ok=True)
        for ct in rt.cts.values():
            self.start_ct(pod, rt, ct)
        self.refresh(pod, rt)

    def start_ct(self, pod, rt, ct):
        img = ct.spec.get("image", "")
        if img.startswith("gantry.test/pull-error"):
            first = "waiting" not in ct.state or ct.state["waiting"].get("reason") not in (
                "ErrImagePull", "ImagePullBackOff")
            if first or ct.state["waiting"]["reason"] == "ImagePullBackOff":
                ct.state = {"waiting": {"reason": "ErrImagePull", "message":
                                        'failed to pull and unpack image "%s": failed to '
                                        'resolve reference "%s": %s: not found'
                                        % (img, img, img)}}
            else:
                ct.state = {"waiting": {"reason": "ImagePullBackOff",
                                        "message": 'Back-off pulling image "%s"' % img}}
            self.after(self.opts.pull_backoff, self.retry_pull, rt.uid, ct.name)
            return
        ct.runs += 1
        ct.container_id = "fake://%s" % uuid.uuid4().hex
        ct.started_at = rfc3339()
        ct.prev_log = ct.log
        ct.log = LogBuf(os.path.join(rt.dir, "%s.%d.log" % (ct.name, ct.runs)),
                        threading.Condition())
        argv = list(ct.spec.get("command") or []) + list(ct.spec.get("args") or [])
        if img.startswith("gantry.test/idle") or not argv:
            ct.log.close()
            ct.state = {"running": {"startedAt": ct.started_at}}
            self.start_probe(pod, rt, ct)
            return
        env = self.ct_env(pod, rt, ct)
        argv = [expand(a, env) for a in argv]
        try:
            proc = subprocess.Popen(argv, cwd=rt.dir, env=env, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    start_new_session=True)
        except OSError as e:
            ct.log.append(b"")
            ct.log.close()
            msg = ("failed to create containerd task: failed to create shim task: OCI runtime "
                   'create failed: runc create failed: unable to start container process: '
                   'exec: "%s": %s: unknown' % (argv[0], e.strerror or str(e)))
            self.ct_exited(rt, ct, 128, "StartError", msg)
            return
        ct.proc = proc
        ct.pid = proc.pid
        ct.state = {"running": {"startedAt": ct.started_at}}
        threading.Thread(target=self.pump, args=(rt.uid, ct, proc, ct.log), daemon=True,
                         name="pod-%s" % rt.key[1]).start()
        self.start_probe(pod, rt, ct)

    def retry_pull(self, uid, cname):
        pod, rt = self.live(uid)
        if pod is None or rt.deleting:
            return
        ct = rt.cts[cname]
        self.start_ct(pod, rt, ct)
        self.refresh(pod, rt)

    def ct_env(self, pod, rt, ct):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": rt.dir,
               "HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"],
               "KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(self.opts.api_port)}
        ports = {str(k): str(v) for k, v in rt.ports.items()}
        for e in ct.spec.get("env") or []:
            if "value" in e:
                v = expand(e.get("value") or "", env)
            elif e.get("valueFrom"):
                v = self.field_ref(pod, rt, e["valueFrom"])
            else:
                v = ""
            env[e["name"]] = ports.get(v, v)
        return env

    def field_ref(self, pod, rt, vf):
        fr = vf.get("fieldRef")
        if not fr:
            return ""
        path = fr.get("fieldPath", "")
        meta = pod["metadata"]
        m = re.fullmatch(r"metadata\.(labels|annotations)\['([^']*)'\]", path)
        if m:
            return (meta.get(m.group(1)) or {}).get(m.group(2), "")
        return {"metadata.name": meta["name"], "metadata.namespace": meta["namespace"],
                "metadata.uid": meta["uid"], "spec.nodeName": rt.node or "",
                "spec.serviceAccountName": pod["spec"].get("serviceAccountName", ""),
                "status.podIP": rt.pod_ip or "", "status.hostIP":
                (self.nodes.get(rt.node) or {}).get("ip", "")}.get(path, "")

    def pump(self, uid, ct, proc, log):
        try:
            while True:
                data = proc.stdout.read1(65536)
                if not data:
                    break
                log.append(data)
        except (OSError, ValueError):
            pass
        log.close()
        code = proc.wait()
        with self.lock:
            pod, rt = self.live(uid)
            if rt is None or ct.proc is not proc:
                return
            ct.proc = None
            forced = ct.forced
            ct.forced = None
            if forced:
                code, reason = forced
            else:
                if code < 0:
                    code = 128 - code
                reason = "Completed" if code == 0 else "Error"
            self.ct_exited(rt, ct, code, reason)
            if pod is not None:
                self.refresh(pod, rt)
            self.finish_delete(rt)

    def ct_exited(self, rt, ct, code, reason, message=None):
        if ct.probe_stop:
            ct.probe_stop.set()
            ct.probe_stop = None
        term = {"exitCode": code, "reason": reason, "startedAt": ct.started_at or rfc3339(),
                "finishedAt": rfc3339()}
        if message:
            term["message"] = message
        if ct.container_id:
            term["containerID"] = ct.container_id
        ct.ready = False
        pod = self.store.get(POD, *rt.key)
        rp = (pod or {}).get("spec", {}).get("restartPolicy", "Always")
        if pod is None or rt.deleting or rp == "Never" or (rp == "OnFailure" and code == 0) \
                or pod.get("status", {}).get("phase") == "Failed":
            ct.state = {"terminated": term}
            self.dirty = True
            return
        ct.last_state = {"terminated": term}
        ct.restarts += 1
        delay = min(self.opts.restart_backoff * (2 ** (ct.restarts - 1)),
                    self.opts.restart_backoff_max)
        ct.state = {"waiting": {"reason": "CrashLoopBackOff",
                                "message": "back-off %ds restarting failed container=%s "
                                "pod=%s_%s(%s)" % (max(1, round(delay)), ct.name, rt.key[1],
                                                   rt.key[0], rt.uid)}}
        self.after(delay, self.restart_ct, rt.uid, ct.name)
        self.dirty = True

    def restart_ct(self, uid, cname):
        pod, rt = self.live(uid)
        if pod is None or rt.deleting or pod["status"].get("phase") in ("Failed", "Succeeded"):
            return
        ct = rt.cts[cname]
        if "waiting" not in ct.state:
            return
        self.start_ct(pod, rt, ct)
        self.refresh(pod, rt)

    # ---- readiness probes ---------------------------------------------------------------------

    def start_probe(self, pod, rt, ct):
        probe = ct.spec.get("readinessProbe")
        if not probe:
            ct.ready = True
            return
        ct.ready = False
        stop = threading.Event()
        ct.probe_stop = stop
        threading.Thread(target=self.probe_loop, args=(rt.uid, ct, probe, stop), daemon=True,
                         name="probe-%s" % rt.key[1]).start()

    def probe_target(self, rt, ct, port):
        if isinstance(port, str):
            for p in ct.spec.get("ports") or []:
                if p.get("name") == port:
                    port = p["containerPort"]
                    break
            else:
                return None
        return rt.ports.get(port, port)

    def probe_once(self, rt, ct, probe):
        timeout = max(1, probe.get("timeoutSeconds", 1))
        hg = probe.get("httpGet")
        if hg:
            port = self.probe_target(rt, ct, hg.get("port"))
            if port is None:
                return False
            url = "%s://127.0.0.1:%d%s" % (hg.get("scheme", "HTTP").lower(), port,
                                           hg.get("path", "/"))
            req = urllib.request.Request(url, headers={h["name"]: h["value"] for h in
                                                       hg.get("httpHeaders") or []})
            req.add_header("User-Agent", "kube-probe/1.31")
            try:
                with urllib.request.urlopen(req, timeout=timeout) as r:
                    return 200 <= r.status < 400
            except urllib.error.HTTPError as e:
                return 200 <= e.code < 400
            except (OSError, ValueError):
                return False
        ts = probe.get("tcpSocket")
        if ts:
            port = self.probe_target(rt, ct, ts.get("port"))
            try:
                socket.create_connection(("127.0.0.1", port), timeout=timeout).close()
                return True
            except (OSError, TypeError):
                return False
        ex = probe.get("exec")
        if ex:
            try:
                return subprocess.run(ex.get("command") or ["false"], cwd=rt.dir,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL, timeout=timeout).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                return False
        return False

    def probe_loop(self, uid, ct, probe, stop):
        period = probe.get("periodSeconds", 10) * self.opts.probe_scale
        if stop.wait(probe.get("initialDelaySeconds", 0) * self.opts.probe_scale):
            return
        ok = fail = 0
        while not stop.is_set():
            rt = self.pods.get(uid)
            if rt is None:
                return
            good = self.probe_once(rt, ct, probe)
            ok, fail = (ok + 1, 0) if good else (0, fail + 1)
            with self.lock:
                if stop.is_set():
                    return
                want = ct.ready
                if good and ok >= probe.get("successThreshold", 1):
                    want = True
                if not good and fail >= probe.get("failureThreshold", 3):
                    want = False
                if want != ct.ready:
                    ct.ready = want
                    pod, rt = self.live(uid)
                    if pod is not None:
                        self.refresh(pod, rt)
            if stop.wait(period):
                return

    # ---- deletion ---------------------------------------------------------------------------

    def signal_ct(self, ct, sig):
        if ct.proc is not None and ct.proc.poll() is None:
            try:
                os.killpg(ct.proc.pid, sig)
            except OSError:
                pass

    def on_pod_delete(self, pod, grace):
        """Store hook: True when the pod goes at once (nothing runs, or grace 0)."""
        rt = self.pods.get(pod["metadata"]["uid"])
        if rt is None:
            return True
        running = [ct for ct in rt.cts.values() if ct.proc is not None]
        phase = (pod.get("status") or {}).get("phase")
        rt.deleting = True
        for ct in rt.cts.values():
            if ct.probe_stop:
                ct.probe_stop.set()
                ct.probe_stop = None
        if not rt.node or phase in ("Succeeded", "Failed") or not running:
            # not running anything: the kubelet confirms at once (after a short beat, so
            # that a watcher sees deletionTimestamp first, as on a real cluster)
            if grace == 0 or not rt.node or phase in ("Succeeded", "Failed"):
                return self.store.remove(POD, pod) or True
            self.after(min(grace, self.opts.idle_delete), self.finish_delete, rt, True)
            return False
        sig = signal.SIGKILL if grace == 0 else signal.SIGTERM
        for ct in running:
            self.signal_ct(ct, sig)
        if grace > 0:
            self.after(grace, self.kill_grace, rt.uid)
        return False

    def kill_grace(self, uid):
        rt = self.pods.get(uid)
        if rt is None:
            return
        for ct in rt.cts.values():
            self.signal_ct(ct, signal.SIGKILL)

    def finish_delete(self, rt, force=False):
        if not rt.deleting:
            return
        if not force and any(ct.proc is not None for ct in rt.cts.values()):
            return
        pod = self.store.get(POD, *rt.key)
        if pod is not None and pod["metadata"]["uid"] == rt.uid and \
                not pod["metadata"].get("finalizers"):
            self.store.remove(POD, pod)

    # ---- control API operations ---------------------------------------------------------------

    def exit_pod(self, ns, name, code, reason=None, container=None):
        with self.lock:
            pod = self.store.get(POD, ns, name)
            if pod is None:
                raise KeyError("no pod %s/%s" % (ns, name))
            rt = self.pods[pod["metadata"]["uid"]]
            cts = [rt.cts[container]] if container else list(rt.cts.values())
            done = 0
            for ct in cts:
                r = reason or ("Completed" if code == 0 else
                               "OOMKilled" if code == 137 and reason == "OOMKilled" else "Error")
                if ct.proc is not None:
                    ct.forced = (code, r)
                    self.signal_ct(ct, signal.SIGKILL)
                    done += 1
                elif "running" in ct.state:
                    # an idle container: it "exits" now
                    self.ct_exited(rt, ct, code, r)
                    done += 1
            self.refresh(pod, rt)
            return done

    def node_fault(self, name, body):
        with self.lock:
            node = self.store.get(NODE, "", name)
            if node is None:
                raise KeyError("no node " + name)
            nrt = self.nodes[name]
            if "gpus" in body:
                n = int(body["gpus"])
                for k in ("capacity", "allocatable"):
                    node["status"][k][self.opts.gpu_resource] = str(n)
            if "unschedulable" in body:
                if body["unschedulable"]:
                    node["spec"]["unschedulable"] = True
                    node["spec"]["taints"] = [t for t in node["spec"].get("taints") or []
                                              if t["key"] != "node.kubernetes.io/unschedulable"]
                    node["spec"]["taints"].append({"key": "node.kubernetes.io/unschedulable",
                                                   "effect": "NoSchedule",
                                                   "timeAdded": rfc3339()})
                else:
                    node["spec"].pop("unschedulable", None)
                    node["spec"]["taints"] = [t for t in node["spec"].get("taints") or []
                                              if t["key"] != "node.kubernetes.io/unschedulable"]
            if "labels" in body:
                node["metadata"].setdefault("labels", {}).update(body["labels"])
            if body.get("lost"):
                nrt["lost"] = True
                node["status"]["conditions"] = [self.node_ready_cond(
                    None, "NodeStatusUnknown", "Kubelet stopped posting node status.")]
                node["spec"]["taints"] = [t for t in node["spec"].get("taints") or []
                                          if not t["key"].startswith("node.kubernetes.io/unr")]
                node["spec"]["taints"] += [
                    {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule",
                     "timeAdded": rfc3339()},
                    {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute",
                     "timeAdded": rfc3339()}]
                for rt in list(self.pods.values()):
                    if rt.node != name:
                        continue
                    pod = self.store.get(POD, *rt.key)
                    if pod is None or pod["status"].get("phase") in ("Succeeded", "Failed"):
                        continue
                    for ct in rt.cts.values():
                        if ct.probe_stop:
                            ct.probe_stop.set()
                        ct.ready = False
                        self.signal_ct(ct, signal.SIGKILL)
                        ct.proc = None
                    pod["status"]["phase"] = "Failed"
                    pod["status"]["reason"] = "NodeLost"
                    pod["status"]["message"] = ("Node %s which was running pod %s is "
                                                "unresponsive" % (name, rt.key[1]))
                    self.refresh(pod, rt)
                    self.store.put(POD, pod)
            elif "ready" in body:
                nrt["lost"] = False
                node["status"]["conditions"] = [self.node_ready_cond(bool(body["ready"]))]
                node["spec"]["taints"] = [t for t in node["spec"].get("taints") or []
                                          if not t["key"].startswith("node.kubernetes.io/no")
                                          and not t["key"].startswith("node.kubernetes.io/unr")]
                if not body["ready"]:
                    node["spec"]["taints"].append({"key": "node.kubernetes.io/not-ready",
                                                   "effect": "NoSchedule",
                                                   "timeAdded": rfc3339()})
            if not node["spec"].get("taints"):
                node["spec"].pop("taints", None)
            self.store.put(NODE, node)
            self.pending.update(uid for uid, rt in self.pods.items() if rt.node is None)
            self.dirty = True
            self.cv.notify_all()
            return node

    def bulk_pods(self, ns, count, labels, prefix, image):
        """Creates count Running pods at once (the 5,000-pod benchmark)."""
        with self.lock:
            self.store.check_namespace(POD, ns)
            nodes = sorted(self.store.objs["nodes"])
            node = nodes[0][1] if nodes else "node-bulk"
            made = 0
            for i in range(count):
                name = "%s-%d" % (prefix, i)
                if self.store.get(POD, ns, name) is not None:
                    continue
                now = rfc3339()
                uid = str(uuid.uuid4())
                self.ip_seq += 1
                pod = {"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": name, "namespace": ns, "uid": uid,
                                    "creationTimestamp": now, "labels": dict(labels)},
                       "spec": {"containers": [{"name": "main", "image": image,
                                                "resources": {}}],
                                "restartPolicy": "Always", "nodeName": node,
                                "terminationGracePeriodSeconds": 30,
                                "schedulerName": "default-scheduler"},
                       "status": {"phase": "Running", "startTime": now,
                                  "podIP": "10.245.%d.%d" % (i // 250, 2 + i % 250),
                                  "conditions": [{"type": t, "status": "True",
                                                  "lastProbeTime": None,
                                                  "lastTransitionTime": now}
                                                 for t in ("Initialized", "Ready",
                                                           "ContainersReady", "PodScheduled")],
                                  "containerStatuses": [{
                                      "name": "main", "ready": True, "restartCount": 0,
                                      "image": image, "imageID": "", "started": True,
                                      "state": {"running": {"startedAt": now}},
                                      "lastState": {}}],
                                  "qosClass": "BestEffort"}}
                self.store.put(POD, pod, "ADDED")
                rt = self.pods.get(uid)
                if rt:
                    rt.node = node
                    self.pending.discard(uid)
                    ct = rt.cts["main"]
                    ct.state = {"running": {"startedAt": now}}
                    ct.ready = True
                    ct.runs = 1
                made += 1
            return made

    # ---- controllers ---------------------------------------------------------------------------

    def owned_pods(self, uid):
        out = []
        for puid in list(self.owned.get(uid, ())):
            pod, rt = self.live(puid)
            if pod is not None:
                out.append((pod, rt))
        return out

    def new_pod(self, owner_res, owner, tpl, name, extra_labels, ann=None, owner_ref=None,
                mutate=None):
        meta = owner["metadata"]
        labels = dict((tpl.get("metadata") or {}).get("labels") or {})
        labels.update(extra_labels)
        annotations = dict((tpl.get("metadata") or {}).get("annotations") or {})
        annotations.update(ann or {})
        annotations["fake.gantry.test/owner-uid"] = meta["uid"]
        ref = owner_ref or {"apiVersion": owner_res.api_version, "kind": owner_res.kind,
                            "name": meta["name"], "uid": meta["uid"], "controller": True,
                            "blockOwnerDeletion": True}
        spec = json.loads(json.dumps(tpl.get("spec") or {}))
        if mutate:
            mutate(spec)
        pod = {"metadata": {"name": name, "labels": labels, "annotations": annotations,
                            "ownerReferences": [ref]},
               "spec": spec}
        try:
            self.store.create(POD, meta["namespace"], pod)
        except ApiError as e:
            print("k8s_fake: %s %s: cannot create pod %s: %s" % (owner_res.kind, meta["name"],
                                                                name, e.message), flush=True)

    def job_sync(self, job):
        meta = job["metadata"]
        spec = job["spec"]
        st = job.setdefault("status", {})
        uid = meta["uid"]
        jrt = self.job_rt.setdefault(uid, {"failed": set(), "succeeded": set(),
                                           "indexes": set(), "deadline_set": False})
        if meta.get("deletionTimestamp"):
            return
        old = json.dumps(st, sort_keys=True)
        conds = st.setdefault("conditions", [])
        done = any(c["type"] in ("Complete", "Failed") and c["status"] == "True" for c in conds)
        pods = self.owned_pods(uid)
        for pod, rt in pods:
            phase = pod["status"].get("phase")
            if phase == "Succeeded":
                jrt["succeeded"].add(rt.uid)
                if rt.index is not None:
                    jrt["indexes"].add(rt.index)
            elif phase == "Failed":
                jrt["failed"].add(rt.uid)
        restarts = 0
        if spec["template"]["spec"].get("restartPolicy") == "OnFailure":
            restarts = sum(ct.restarts for _, rt in pods for ct in rt.cts.values())
        active = [(p, rt) for p, rt in pods if p["status"].get("phase") not in ("Succeeded",
                                                                               "Failed")
                  and not rt.deleting]
        terminating = [(p, rt) for p, rt in pods if rt.deleting]
        failed = len(jrt["failed"]) + restarts
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        succeeded = len(jrt["indexes"]) if indexed else len(jrt["succeeded"])
        now = time.time()
        if not done and not spec.get("suspend"):
            if "startTime" not in st:
                st["startTime"] = rfc3339()
            ads = spec.get("activeDeadlineSeconds")
            started = rfc3339_parse(st["startTime"]) or now
            fail_reason = None
            if ads is not None and now - started >= ads:
                fail_reason = ("DeadlineExceeded", "Job was active longer than specified "
                               "deadline")
            elif failed > spec.get("backoffLimit", 6):
                fail_reason = ("BackoffLimitExceeded", "Job has reached the specified backoff "
                               "limit")
            elif ads is not None and not jrt["deadline_set"]:
                jrt["deadline_set"] = True
                self.after(max(0.0, started + ads - now) + 0.01, self.kick)
            if fail_reason:
                t = rfc3339()
                conds.append({"type": "FailureTarget", "status": "True", "reason": fail_reason[0],
                              "message": fail_reason[1], "lastProbeTime": t,
                              "lastTransitionTime": t})
                conds.append({"type": "Failed", "status": "True", "reason": fail_reason[0],
                              "message": fail_reason[1], "lastProbeTime": t,
                              "lastTransitionTime": t})
                for pod, rt in active:
                    self.store.delete_obj(POD, pod, "Background")
                active = []
                done = True
            elif (indexed and succeeded >= completions) or \
                    (not indexed and completions is not None and succeeded >= completions) or \
                    (not indexed and completions is None and succeeded > 0 and not active):
                t = rfc3339()
                conds.append({"type": "SuccessCriteriaMet", "status": "True",
                              "reason": "CompletionsReached",
                              "message": "Reached expected number of succeeded pods",
                              "lastProbeTime": t, "lastTransitionTime": t})
                conds.append({"type": "Complete", "status": "True",
                              "reason": "CompletionsReached",
                              "message": "Reached expected number of succeeded pods",
                              "lastProbeTime": t, "lastTransitionTime": t})
                st["completionTime"] = t
                done = True
            else:
                par = spec.get("parallelism", 1)
                name = meta["name"]
                sel = {"batch.kubernetes.io/controller-uid": uid,
                       "batch.kubernetes.io/job-name": name, "controller-uid": uid,
                       "job-name": name}
                if indexed:
                    busy = {rt.index for _, rt in active}
                    for i in range(completions):
                        if len(active) >= par:
                            break
                        if i in jrt["indexes"] or i in busy:
                            continue
                        lab = dict(sel)
                        lab["batch.kubernetes.io/job-completion-index"] = str(i)

                        def mutate(spec_, i=i):
                            spec_["hostname"] = "%s-%d" % (name, i)
                            for c in spec_.get("containers") or []:
                                env = c.setdefault("env", [])
                                if not any(e.get("name") == "JOB_COMPLETION_INDEX" for e in env):
                                    env.append({"name": "JOB_COMPLETION_INDEX", "valueFrom": {
                                        "fieldRef": {"apiVersion": "v1", "fieldPath":
                                                     "metadata.annotations['batch.kubernetes"
                                                     ".io/job-completion-index']"}}})
                        self.new_pod(JOB, job, spec["template"], "%s-%d-%s" % (
                            name, i, gen_suffix()), lab,
                            {"batch.kubernetes.io/job-completion-index": str(i)},
                            mutate=mutate)
                        active.append((None, None))
                else:
                    want = par if completions is None else min(par, completions - succeeded)
                    for _ in range(want - len(active)):
                        self.new_pod(JOB, job, spec["template"], "%s-%s" % (name, gen_suffix()),
                                     sel)
                        active.append((None, None))
        elif spec.get("suspend") and not done:
            for pod, rt in active:
                self.store.delete_obj(POD, pod, "Background")
            active = []
        st["active"] = len(active)
        st["succeeded"] = succeeded
        st["failed"] = failed
        st["ready"] = sum(1 for p, rt in active if rt and all(ct.ready for ct in
                                                              rt.cts.values()))
        st["terminating"] = len(terminating)
        if indexed:
            st["completedIndexes"] = ranges(sorted(jrt["indexes"]))
        for k in ("active", "succeeded", "failed"):
            if not st[k]:
                del st[k]
        if not conds:
            del st["conditions"]
        if json.dumps(st, sort_keys=True) != old:
            self.store.put(JOB, job)

    def deploy_sync(self, dep):
        meta = dep["metadata"]
        spec = dep["spec"]
        if meta.get("deletionTimestamp"):
            return
        st = dep.setdefault("status", {})
        old = json.dumps(st, sort_keys=True)
        tpl = spec["template"]
        h = hashlib.sha256(json.dumps(tpl, sort_keys=True).encode()).hexdigest()
        phash = "".join("bcdfghjklmnpqrstvwxz2456789"[int(h[i:i + 2], 16) % 27]
                        for i in range(0, 20, 2))
        rs_name = "%s-%s" % (meta["name"], phash)
        rs_uid = str(uuid.uuid5(uuid.NAMESPACE_URL, meta["uid"] + phash))
        pods = self.owned_pods(meta["uid"])
        live = []
        for pod, rt in pods:
            if rt.deleting:
                continue
            if (pod["metadata"].get("labels") or {}).get("pod-template-hash") != phash or \
                    pod["status"].get("phase") in ("Failed", "Succeeded"):
                self.store.delete_obj(POD, pod, "Background")
                continue
            live.append((pod, rt))
        want = spec.get("replicas", 1)
        if len(live) > want:
            live.sort(key=lambda x: (all(ct.ready for ct in x[1].cts.values()),
                                     x[0]["metadata"]["creationTimestamp"]), reverse=False)
            extra = len(live) - want
            for pod, rt in live[:extra]:
                self.store.delete_obj(POD, pod, "Background")
            live = live[extra:]
        for _ in range(want - len(live)):
            lab = {"pod-template-hash": phash}
            self.new_pod(DEP, dep, tpl, "%s-%s" % (rs_name, gen_suffix()), lab,
                         owner_ref={"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                    "name": rs_name, "uid": rs_uid, "controller": True,
                                    "blockOwnerDeletion": True})
        pods = [x for x in self.owned_pods(meta["uid"]) if not x[1].deleting]
        ready = sum(1 for p, rt in pods if p["status"].get("phase") == "Running"
                    and all(ct.ready for ct in rt.cts.values()))
        st["observedGeneration"] = meta.get("generation", 1)
        st["replicas"] = len(pods)
        st["updatedReplicas"] = len(pods)
        st["readyReplicas"] = ready
        st["availableReplicas"] = ready
        st["unavailableReplicas"] = max(0, want - ready)
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas",
                  "unavailableReplicas"):
            if not st[k]:
                del st[k]
        conds = st.setdefault("conditions", [])
        avail = ready >= want
        set_cond(conds, "Available", avail,
                 "MinimumReplicasAvailable" if avail else "MinimumReplicasUnavailable",
                 "Deployment has minimum availability." if avail
                 else "Deployment does not have minimum availability.")
        set_cond(conds, "Progressing", True,
                 "NewReplicaSetAvailable" if avail else "ReplicaSetUpdated",
                 'ReplicaSet "%s" has successfully progressed.' % rs_name if avail
                 else 'ReplicaSet "%s" is progressing.' % rs_name)
        if json.dumps(st, sort_keys=True) != old:
            self.store.put(DEP, dep)

    def hpa_sync(self, hpa):
        meta = hpa["metadata"]
        spec = hpa["spec"]
        st = hpa.setdefault("status", {})
        old = json.dumps(st, sort_keys=True)
        key = (meta["namespace"], meta["name"])
        ref = spec["scaleTargetRef"]
        conds = st.setdefault("conditions", [])
        dep = None
        if ref.get("kind") == "Deployment" and ref.get("apiVersion", "apps/v1") == "apps/v1":
            dep = self.store.get(DEP, meta["namespace"], ref["name"])
        if dep is None:
            set_cond(conds, "AbleToScale", False, "FailedGetScale",
                     "the HPA controller was unable to get the target's current scale: "
                     '%s "%s" not found' % ("deployments.apps" if ref.get("kind") ==
                                            "Deployment" else ref.get("kind", "").lower(),
                                            ref.get("name")))
            st["currentReplicas"] = 0
            st.setdefault("desiredReplicas", 0)
        else:
            cur = dep["spec"].get("replicas", 1)
            mn, mx = spec.get("minReplicas", 1), spec["maxReplicas"]
            raw = self.hpa_desired.get(key, cur)
            desired = max(mn, min(mx, raw))
            if desired != cur:
                dep["spec"]["replicas"] = desired
                dep["metadata"]["generation"] = dep["metadata"].get("generation", 1) + 1
                self.store.put(DEP, dep)
                st["lastScaleTime"] = rfc3339()
                self.dirty = True
            st["currentReplicas"] = (dep.get("status") or {}).get("replicas", 0)
            st["desiredReplicas"] = desired
            set_cond(conds, "AbleToScale", True,
                     "SucceededRescale" if desired != cur else "ReadyForNewScale",
                     "the HPA controller was able to update the target scale to %d" % desired
                     if desired != cur else "recommended size matches current size")
            if key in self.hpa_desired:
                set_cond(conds, "ScalingActive", True, "ValidMetricFound",
                         "the HPA was able to successfully calculate a replica count from "
                         "pods metric")
            else:
                set_cond(conds, "ScalingActive", False, "FailedGetPodsMetric",
                         "the HPA was unable to compute the replica count: no metrics "
                         "returned from custom metrics API")
            if raw > mx:
                set_cond(conds, "ScalingLimited", True, "TooManyReplicas",
                         "the desired replica count is more than the maximum replica count")
            elif raw < mn:
                set_cond(conds, "ScalingLimited", True, "TooFewReplicas",
                         "the desired replica count is less than the minimum replica count")
            else:
                set_cond(conds, "ScalingLimited", False, "DesiredWithinRange",
                         "the desired count is within the acceptable range")
            if key in self.hpa_metric:
                cms = []
                for m in spec.get("metrics") or []:
                    if m.get("type") == "Pods":
                        cms.append({"type": "Pods", "pods": {
                            "metric": {"name": m["pods"]["metric"]["name"]},
                            "current": {"averageValue": self.hpa_metric[key]}}})
                st["currentMetrics"] = cms
        st["observedGeneration"] = meta.get("generation", 1)
        if json.dumps(st, sort_keys=True) != old:
            self.store.put(HPA, hpa)

    # ---- kind-specific create steps (the store's prepare hook) -----------------------------

    def prepare(self, res, obj):
        meta = obj["metadata"]
        if res is POD:
            obj["status"] = {"phase": "Pending", "qosClass": qos_class(obj)}
        elif res is JOB:
            uid = meta["uid"]
            spec = obj["spec"]
            lab = {"batch.kubernetes.io/controller-uid": uid,
                   "batch.kubernetes.io/job-name": meta["name"], "controller-uid": uid,
                   "job-name": meta["name"]}
            if not spec.get("manualSelector"):
                spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
            tm = spec["template"].setdefault("metadata", {})
            tm.setdefault("labels", {}).update(lab)
        elif res is SVC:
            spec = obj["spec"]
            if spec.get("clusterIP") != "None":
                if spec.get("clusterIP"):
                    ip = spec["clusterIP"]
                else:
                    self.svc_seq += 1
                    ip = "10.96.%d.%d" % (self.svc_seq // 250, 10 + self.svc_seq % 240)
                spec["clusterIP"] = ip
                spec["clusterIPs"] = [ip]
            else:
                spec["clusterIPs"] = ["None"]
            spec.setdefault("ipFamilies", ["IPv4"])
            spec.setdefault("ipFamilyPolicy", "SingleStack")
            spec.setdefault("internalTrafficPolicy", "Cluster")
            obj["status"] = {"loadBalancer": {}}
        elif res is DEP:
            obj["status"] = {}

    def check_update(self, res, cur, new):
        """Immutable fields (422 on an update that changes them)."""
        from k8s_meta import Errs
        e = Errs()
        if res is POD:
            a, b = json.loads(json.dumps(cur["spec"])), json.loads(json.dumps(new["spec"]))
            for c in a.get("containers") or []:
                c.pop("image", None)
            for c in b.get("containers") or []:
                c.pop("image", None)
            a.pop("activeDeadlineSeconds", None)
            b.pop("activeDeadlineSeconds", None)
            a.pop("tolerations", None)
            b.pop("tolerations", None)
            if a != b:
                e.forbidden("spec", "pod updates may not change fields other than "
                            "`spec.containers[*].image`,`spec.initContainers[*].image`,"
                            "`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions "
                            "to existing tolerations),`spec.terminationGracePeriodSeconds` "
                            "(allow it to be set to 1 if it was previously negative)")
        elif res is JOB:
            for k in ("template", "completions", "completionMode", "selector"):
                if cur["spec"].get(k) != new["spec"].get(k) and not (
                        k == "template" and cur["spec"].get("suspend")):
                    e.invalid("spec." + k, new["spec"].get(k) if k != "template" else
                              "core.PodTemplateSpec{...}", "field is immutable")
        elif res is DEP:
            if cur["spec"].get("selector") != new["spec"].get("selector"):
                e.invalid("spec.selector", new["spec"].get("selector"), "field is immutable")
        elif res is SVC:
            if cur["spec"].get("clusterIP") != new["spec"].get("clusterIP") and \
                    new["spec"].get("clusterIP") not in (None, ""):
                e.invalid("spec.clusterIPs[0]", new["spec"].get("clusterIP"),
                          "may not change once set")
            new["spec"]["clusterIP"] = cur["spec"].get("clusterIP")
            new["spec"]["clusterIPs"] = cur["spec"].get("clusterIPs")
        e.raise_if(res.kind, cur["metadata"]["name"], res.group)

    # ---- DCGM ----------------------------------------------------------------------------------

    def dcgm_text(self):
        metrics = [("DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", "util", 0),
                   ("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", "fb_used", 0),
                   ("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", "fb_free",
                    81559),
                   ("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", "temp", 30),
                   ("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", "power", 60.0)]
        rows = []
        with self.lock:
            for rt in self.pods.values():
                if not rt.gpus:
                    continue
                pod = self.store.get(POD, *rt.key)
                if pod is None or pod["status"].get("phase") != "Running":
                    continue
                cname = next(iter(rt.cts), "")
                vals = self.dcgm.get(rt.key, {})
                for node, idx in rt.gpus:
                    nrt = self.nodes[node]
                    labels = [("gpu", str(idx)), ("UUID", nrt["gpus"][idx]),
                              ("device", "nvidia%d" % idx), ("modelName", nrt["model"]),
                              ("Hostname", node), ("container", cname),
                              ("namespace", rt.key[0]), ("pod", rt.key[1])]
                    rows.append((labels, vals.get(str(idx), vals)))
        out = []
        for name, help_, key, dflt in metrics:
            out.append("# HELP %s %s" % (name, help_))
            out.append("# TYPE %s gauge" % name)
            for labels, vals in rows:
                v = vals.get(key, dflt)
                out.append("%s{%s} %s" % (name, ",".join(
                    '%s="%s"' % (k, prom_escape(x)) for k, x in labels),
                    fmt_num(v)))
        return "\n".join(out) + "\n"

    def cleanup(self):
        with self.lock:
            for rt in self.pods.values():
                for ct in rt.cts.values():
                    self.signal_ct(ct, signal.SIGKILL)
        shutil.rmtree(os.path.join(self.root, "pods"), ignore_errors=True)


def fmt_num(v):
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    return str(int(v)) if isinstance(v, (int, float)) else str(v)


def prom_escape(s):
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def expand(s, env):
    """$(VAR) references of command, args and env values; $$ escapes."""
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
                  lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)), s)


def tolerates(tol, taint):
    if tol.get("effect") and tol["effect"] != taint.get("effect"):
        return False
    if tol.get("operator") == "Exists":
        return not tol.get("key") or tol["key"] == taint["key"]
    return tol.get("key") == taint["key"] and tol.get("value", "") == taint.get("value", "")


def qos_class(pod):
    cs = pod["spec"].get("containers") or []
    reqs = [(c.get("resources") or {}) for c in cs]
    if not any(r.get("limits") or r.get("requests") for r in reqs):
        return "BestEffort"
    for r in reqs:
        lim = r.get("limits") or {}
        req = r.get("requests") or {}
        if "cpu" not in lim or "memory" not in lim:
            return "Burstable"
        for k, v in req.items():
            if k in lim and quantity(lim[k]) != quantity(v):
                return "Burstable"
    return "Guaranteed"


def ranges(xs):
    out = []
    for x in xs:
        if out and out[-1][1] == x - 1:
            out[-1][1] = x
        else:
            out.append([x, x])
    return ",".join(str(a) if a == b else "%d-%d" % (a, b) for a, b in out)


def set_cond(conds, type_, ok, reason, message):
    status = "True" if ok else "False"
    now = rfc3339()
    for c in conds:
        if c["type"] == type_:
            if c["status"] != status:
                c["lastTransitionTime"] = now
            c["status"] = status
            c["reason"] = reason
            c["message"] = message
            return
    conds.append({"type": type_, "status": status, "lastTransitionTime": now,
                  "reason": reason, "message": message})


def pod_selector_matches(sel, labels):
    return labels_match(selector_from_label_selector(sel), labels)
