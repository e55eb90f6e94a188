"""k8s_controllers.py: the controllers of the Kubernetes fake (tests/fakes/k8s_fake.py), a
base class of k8s_cluster.Cluster: Job (parallelism, completions, backoffLimit,
activeDeadlineSeconds, Indexed completion with JOB_COMPLETION_INDEX), Deployment (replicas,
pod-template-hash, template changes), HorizontalPodAutoscaler (desired replicas from the
control API held within min/max, scaling the Deployment, status and conditions), the
kind-specific steps of a create (Service clusterIP, Job selector and labels), the immutable
fields of an update, and the control API's cluster operations (exit a container, node
faults, bulk pods).
"""

import hashlib
import json
import signal
import time
import uuid

from k8s_meta import (ApiError, Errs, labels_match, rfc3339, rfc3339_parse,
                      selector_from_label_selector)
from k8s_schema import quantity
from k8s_store import BY_KIND, gen_suffix

POD = BY_KIND["Pod"]
JOB = BY_KIND["Job"]
DEP = BY_KIND["Deployment"]
HPA = BY_KIND["HorizontalPodAutoscaler"]
SVC = BY_KIND["Service"]
NODE = BY_KIND["Node"]


class Controllers:
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
