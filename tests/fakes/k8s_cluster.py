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

import base64
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

from k8s_meta import rfc3339
from k8s_schema import quantity
from k8s_controllers import Controllers, qos_class
from k8s_store import BY_KIND

POD = BY_KIND["Pod"]
SECRET = BY_KIND["Secret"]
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


class Cluster(Controllers):
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
        self.pgids = set()
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
            if pod is None or pod["metadata"]["uid"] != uid:
                self.pending.discard(uid)
                continue
            self.schedule(pod, rt)
        for plural, sync in (("jobs", self.job_sync), ("deployments", self.deploy_sync),
                             ("horizontalpodautoscalers", self.hpa_sync)):
            for obj in list(st.objs[plural].values()):
                try:
                    sync(obj)
                except Exception as e:  # one odd object must not stop the others
                    print("k8s_fake: %s %s: controller error: %r"
                          % (plural, obj["metadata"]["name"], e), flush=True)
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
            if ct.log is not None and ct.proc is None:
                ct.log.close()
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
        missing = self.missing_secret(pod, ct)
        if missing is not None:
            # as the kubelet: the container waits, and is tried again, until it appears
            ct.state = {"waiting": {"reason": "CreateContainerConfigError",
                                    "message": 'secret "%s" not found' % missing}}
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
            # no process: an empty log that a follower waits on until the container ends
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
        self.track_pid(proc.pid)
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

    def missing_secret(self, pod, ct):
        """The name of a Secret an envFrom of the container needs and the namespace lacks."""
        for ef in ct.spec.get("envFrom") or []:
            ref = (ef or {}).get("secretRef") or {}
            if ref.get("name") and not ref.get("optional") and self.store.get(
                    SECRET, pod["metadata"]["namespace"], ref["name"]) is None:
                return ref["name"]
        return None

    def ct_env(self, pod, rt, ct):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": rt.dir,
               "HOSTNAME": pod["spec"].get("hostname") or pod["metadata"]["name"],
               "KUBERNETES_SERVICE_HOST": "127.0.0.1",
               "KUBERNETES_SERVICE_PORT": str(self.opts.api_port)}
        ports = {str(k): str(v) for k, v in rt.ports.items()}
        for ef in ct.spec.get("envFrom") or []:
            ref = (ef or {}).get("secretRef") or {}
            sec = self.store.get(SECRET, pod["metadata"]["namespace"], ref.get("name", ""))
            for k, v in ((sec or {}).get("data") or {}).items():
                env[(ef.get("prefix") or "") + k] = base64.b64decode(v).decode("utf-8",
                                                                              "replace")
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
        self.reaped(proc.pid)
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
        if ct.log is not None and ct.proc is None:
            ct.log.close()  # an idle container's (a process's closes when its pipe does)
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

    def track_pid(self, pid):
        """Every process group the fake starts (pods, exec) is listed in DIR/pids, so that
        k8srig_stop can end them even when the fake itself had to be SIGKILLed."""
        with self.lock:
            self.pgids.add(pid)
            with open(os.path.join(self.root, "pids"), "a") as f:
                f.write("%d\n" % pid)

    def reaped(self, pid):
        """The leader of a group ended: forget the group unless members are left (so that
        cleanup never signals a process group number the system has reused)."""
        with self.lock:
            try:
                os.killpg(pid, 0)
            except OSError:
                self.pgids.discard(pid)

    def cleanup(self):
        with self.lock:
            for rt in self.pods.values():
                for ct in rt.cts.values():
                    self.signal_ct(ct, signal.SIGKILL)
            for pgid in self.pgids:
                try:
                    os.killpg(pgid, signal.SIGKILL)
                except OSError:
                    pass
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
