"""k8s_store.py: the object store of the Kubernetes fake (tests/fakes/k8s_fake.py).

Resources and their paths, one global resourceVersion counter (as etcd's revision), the
retained event window that watches resume from (410 Expired below it), and the generic
create / update / patch / delete rules (conflicts, preconditions, generation, finalizers,
garbage collection of dependents by ownerReferences with the propagation policies).
"""

import bisect
import copy
import json
import random
import threading
import time
import uuid

import k8s_schema
from k8s_meta import (ApiError, already_exists, bad_request, conflict, json_patch, merge_patch,
                      not_found, rfc3339, strategic_merge_patch)


class Resource:
    def __init__(self, group, version, plural, kind, namespaced, subs, fields=()):
        self.group = group
        self.version = version
        self.plural = plural
        self.kind = kind
        self.namespaced = namespaced
        self.subs = subs
        self.fields = ("metadata.name", "metadata.namespace") + tuple(fields)

    @property
    def api_version(self):
        return self.version if not self.group else self.group + "/" + self.version

    @property
    def prefix(self):
        return "/api/" + self.version if not self.group else "/apis/%s/%s" % (self.group,
                                                                               self.version)


POD_FIELDS = ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName",
              "spec.serviceAccountName", "spec.hostNetwork", "status.phase", "status.podIP",
              "status.nominatedNodeName")
RESOURCES = [
    Resource("", "v1", "pods", "Pod", True, ("status", "log", "exec", "portforward"),
             POD_FIELDS),
    Resource("", "v1", "services", "Service", True, ("status",)),
    Resource("", "v1", "secrets", "Secret", True, ()),
    Resource("", "v1", "nodes", "Node", False, ("status",), ("spec.unschedulable",)),
    Resource("", "v1", "namespaces", "Namespace", False, ("status",), ("status.phase",)),
    Resource("batch", "v1", "jobs", "Job", True, ("status",), ("status.successful",)),
    Resource("apps", "v1", "deployments", "Deployment", True, ("status", "scale")),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler", True,
             ("status",)),
]
BY_GVR = {(r.group, r.version, r.plural): r for r in RESOURCES}
BY_KIND = {r.kind: r for r in RESOURCES}
GROUPS = {}
for _r in RESOURCES:
    GROUPS.setdefault(_r.group, set()).add(_r.version)


def field_values(res, obj):
    meta = obj.get("metadata") or {}
    out = {"metadata.name": meta.get("name", ""), "metadata.namespace": meta.get("namespace", "")}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if res.plural == "pods":
        out["spec.nodeName"] = spec.get("nodeName", "")
        out["spec.restartPolicy"] = spec.get("restartPolicy", "")
        out["spec.schedulerName"] = spec.get("schedulerName", "")
        out["spec.serviceAccountName"] = spec.get("serviceAccountName", "")
        out["spec.hostNetwork"] = "true" if spec.get("hostNetwork") else "false"
        out["status.phase"] = status.get("phase", "")
        out["status.podIP"] = status.get("podIP", "")
        out["status.nominatedNodeName"] = status.get("nominatedNodeName", "")
    elif res.plural == "nodes":
        out["spec.unschedulable"] = "true" if spec.get("unschedulable") else "false"
    elif res.plural == "namespaces":
        out["status.phase"] = status.get("phase", "")
    elif res.plural == "jobs":
        out["status.successful"] = str(status.get("succeeded", 0))
    return out


class Event:
    __slots__ = ("rv", "res", "ns", "labels", "fields", "line", "type", "prev")

    def __init__(self, rv, res, ns, labels, fields, line, type_, prev=None):
        self.prev = prev  # (labels, fields) of the object's previous event, for selectors
        self.rv = rv
        self.res = res
        self.ns = ns
        self.labels = labels
        self.fields = fields
        self.line = line
        self.type = type_


def gen_suffix(n=5):
    # the alphabet of the apiserver's name generator (no vowels, no 0/1/3)
    return "".join(random.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(n))


class Store:
    def __init__(self, history=20000):
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.rv = 1
        self.objs = {r.plural: {} for r in RESOURCES}
        self.events = []
        self.oldest = 1  # watches from a resourceVersion >= oldest can resume
        self.history = history
        self.on_change = None  # callback(res, type, obj) under the lock (the cluster)
        self.on_pod_delete = None  # callback(pod, grace) -> True when removed at once
        self.auto_namespaces = False
        self.last_sel = {}  # (plural, ns, name) -> (labels, fields) of its last event

    # ---- low level (caller holds the lock) ---------------------------------------------

    def next_rv(self):
        self.rv += 1
        return self.rv

    def emit(self, res, type_, obj):
        line = b'{"type":"%s","object":%s}\n' % (type_.encode(),
                                                 json.dumps(obj, separators=(",", ":")).encode())
        meta = obj["metadata"]
        sel = (dict(meta.get("labels") or {}), field_values(res, obj))
        k = (res.plural, meta.get("namespace", ""), meta["name"])
        prev = self.last_sel.get(k)
        if type_ == "DELETED":
            self.last_sel.pop(k, None)
        else:
            self.last_sel[k] = sel
        self.events.append(Event(int(meta["resourceVersion"]), res.plural,
                                 meta.get("namespace", ""), sel[0], sel[1], line, type_,
                                 prev if type_ == "MODIFIED" else None))
        if len(self.events) > self.history:
            cut = len(self.events) - self.history * 3 // 4
            self.oldest = self.events[cut - 1].rv
            del self.events[:cut]
        self.cond.notify_all()
        if self.on_change:
            self.on_change(res, type_, obj)

    def key(self, res, ns, name):
        return (ns if res.namespaced else "", name)

    def get(self, res, ns, name):
        return self.objs[res.plural].get(self.key(res, ns, name))

    def put(self, res, obj, type_="MODIFIED"):
        """Stores obj (already complete) with a new resourceVersion and emits the event."""
        obj["metadata"]["resourceVersion"] = str(self.next_rv())
        meta = obj["metadata"]
        self.objs[res.plural][self.key(res, meta.get("namespace", ""), meta["name"])] = obj
        self.emit(res, type_, obj)

    def remove(self, res, obj):
        meta = obj["metadata"]
        k = self.key(res, meta.get("namespace", ""), meta["name"])
        cur = self.objs[res.plural].get(k)
        if cur is None or cur["metadata"]["uid"] != meta["uid"]:
            return False
        del self.objs[res.plural][k]
        cur["metadata"]["resourceVersion"] = str(self.next_rv())
        self.emit(res, "DELETED", cur)
        return True

    def events_after(self, rv):
        i = bisect.bisect_right(self.events, rv, key=lambda e: e.rv)
        return self.events[i:]

    def compact(self):
        with self.lock:
            self.events.clear()
            self.oldest = self.rv
            self.cond.notify_all()
            return self.rv

    def namespace_exists(self, ns):
        return ("", ns) in self.objs["namespaces"]

    def add_namespace(self, ns):
        res = BY_KIND["Namespace"]
        with self.lock:
            if self.namespace_exists(ns):
                return
            self.put(res, {"metadata": {"name": ns, "uid": str(uuid.uuid4()),
                                        "creationTimestamp": rfc3339(),
                                        "labels": {"kubernetes.io/metadata.name": ns}},
                           "spec": {"finalizers": ["kubernetes"]},
                           "status": {"phase": "Active"}}, "ADDED")

    def check_namespace(self, res, ns):
        if not res.namespaced:
            return
        if not self.namespace_exists(ns):
            if self.auto_namespaces:
                self.add_namespace(ns)
                return
            raise not_found(BY_KIND["Namespace"], ns)

    # ---- create ------------------------------------------------------------------------

    def create(self, res, ns, body, strict=False, prepare=None):
        """POST: returns (object, warnings). prepare(obj) fills kind-specific fields."""
        if not isinstance(body, dict):
            raise bad_request("Object 'Kind' is missing in '%s'" % json.dumps(body)[:200])
        if body.get("apiVersion") not in (None, res.api_version) or \
                body.get("kind") not in (None, res.kind):
            raise bad_request("the API version in the data (%s) does not match the expected "
                              "API version (%s)" % (body.get("apiVersion"), res.api_version)
                              if body.get("apiVersion") not in (None, res.api_version)
                              else "the kind in the data (%s) does not match the expected "
                              "kind (%s)" % (body.get("kind"), res.kind))
        warnings = k8s_schema.decode(res.kind, res.api_version, body, strict)
        obj = {"apiVersion": res.api_version, "kind": res.kind}
        obj.update((k, copy.deepcopy(v)) for k, v in body.items()
                   if k not in ("apiVersion", "kind"))
        meta = obj.setdefault("metadata", {})
        if res.namespaced:
            if meta.get("namespace") not in (None, "", ns):
                raise bad_request("the namespace of the provided object does not match the "
                                  "namespace sent on the request")
            meta["namespace"] = ns
        else:
            meta.pop("namespace", None)
        k8s_schema.apply_defaults(res.kind, obj)
        k8s_schema.validate(res.kind, obj, res.namespaced)
        with self.lock:
            self.check_namespace(res, ns)
            if not meta.get("name"):
                for _ in range(8):
                    meta["name"] = meta["generateName"] + gen_suffix()
                    if self.get(res, ns, meta["name"]) is None:
                        break
            if self.get(res, ns, meta["name"]) is not None:
                raise already_exists(res, meta["name"])
            for k in ("resourceVersion", "deletionTimestamp", "deletionGracePeriodSeconds",
                      "selfLink", "managedFields"):
                meta.pop(k, None)
            meta["uid"] = str(uuid.uuid4())
            meta["creationTimestamp"] = rfc3339()
            if res.kind not in ("Pod", "Node", "Namespace", "Service"):
                meta["generation"] = 1
            obj["status"] = {}
            if prepare:
                prepare(res, obj)
            self.put(res, obj, "ADDED")
            return obj, warnings

    # ---- update / patch -----------------------------------------------------------------

    def update(self, res, ns, name, new, sub=None, strict=False, check=None, rv_check=True):
        """PUT (or the result of a PATCH): returns (object, warnings)."""
        if not isinstance(new, dict):
            raise bad_request("Object 'Kind' is missing")
        if new.get("apiVersion") not in (None, res.api_version) or \
                new.get("kind") not in (None, res.kind):
            raise bad_request("the API version in the data (%s) does not match the expected "
                              "API version (%s)" % (new.get("apiVersion"), res.api_version))
        warnings = k8s_schema.decode(res.kind, res.api_version, new, strict)
        nmeta = new.get("metadata") or {}
        if nmeta.get("name") not in (None, name):
            raise bad_request("the name of the object (%s) does not match the name on the URL "
                              "(%s)" % (nmeta.get("name"), name))
        with self.lock:
            cur = self.get(res, ns, name)
            if cur is None:
                raise not_found(res, name)
            if rv_check and nmeta.get("resourceVersion") not in (None, "") and \
                    nmeta["resourceVersion"] != cur["metadata"]["resourceVersion"]:
                raise conflict(res, name, "the object has been modified; please apply your "
                               "changes to the latest version and try again")
            if nmeta.get("uid") not in (None, "", cur["metadata"]["uid"]):
                raise conflict(res, name, "Precondition failed: UID in precondition: %s, UID "
                               "in object meta: %s" % (nmeta["uid"], cur["metadata"]["uid"]))
            obj = copy.deepcopy(cur)
            if sub == "status":
                obj["status"] = copy.deepcopy(new.get("status") or {})
            else:
                for k in ("labels", "annotations", "finalizers", "ownerReferences"):
                    if nmeta.get(k) is None:
                        obj["metadata"].pop(k, None)
                    else:
                        obj["metadata"][k] = copy.deepcopy(nmeta[k])
                if "spec" in new:
                    obj["spec"] = copy.deepcopy(new["spec"])
                k8s_schema.apply_defaults(res.kind, obj)
                k8s_schema.validate(res.kind, obj, res.namespaced)
                if check:
                    check(res, cur, obj)
                if obj.get("spec") != cur.get("spec") and "generation" in obj["metadata"]:
                    obj["metadata"]["generation"] += 1
            if obj == cur:
                return cur, warnings
            if obj["metadata"].get("deletionTimestamp") and not obj["metadata"].get(
                    "finalizers"):
                self.objs[res.plural][self.key(res, ns, name)] = obj
                self.remove(res, obj)
                return obj, warnings
            self.put(res, obj)
            return obj, warnings

    def patch(self, res, ns, name, ctype, patch, sub=None, strict=False, check=None):
        with self.lock:
            cur = self.get(res, ns, name)
            if cur is None:
                raise not_found(res, name)
            base = copy.deepcopy(cur)
            if ctype == "application/merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("json: cannot unmarshal into map: a merge patch is a "
                                      "JSON object")
                new = merge_patch(base, patch)
            elif ctype == "application/strategic-merge-patch+json":
                if not isinstance(patch, dict):
                    raise bad_request("a strategic merge patch is a JSON object")
                new = strategic_merge_patch(base, patch)
            elif ctype == "application/json-patch+json":
                new = json_patch(base, patch)
            else:
                raise ApiError(415, 'the body of the request was in an unknown format - '
                               'accepted media types include: application/json-patch+json, '
                               'application/merge-patch+json, '
                               'application/strategic-merge-patch+json, '
                               'application/apply-patch+yaml')
            rv_check = isinstance(patch, dict) and \
                (patch.get("metadata") or {}).get("resourceVersion") is not None
            return self.update(res, ns, name, new, sub, strict, check, rv_check=rv_check)

    # ---- delete --------------------------------------------------------------------------

    def dependents(self, uid):
        out = []
        for plural, objs in self.objs.items():
            for obj in objs.values():
                ann = obj["metadata"].get("annotations") or {}
                if ann.get("fake.gantry.test/owner-uid") == uid or any(
                        ref.get("uid") == uid for ref in
                        obj["metadata"].get("ownerReferences") or []):
                    out.append((BY_GVR_PLURAL[plural], obj))
        return out

    def delete(self, res, ns, name, opts):
        """DELETE: returns (http status, body)."""
        with self.lock:
            obj = self.get(res, ns, name)
            if obj is None:
                raise not_found(res, name)
            pre = opts.get("preconditions") or {}
            if pre.get("uid") not in (None, obj["metadata"]["uid"]):
                raise conflict(res, name, "Precondition failed: UID in precondition: %s, UID "
                               "in object meta: %s" % (pre["uid"], obj["metadata"]["uid"]))
            if pre.get("resourceVersion") not in (None, obj["metadata"]["resourceVersion"]):
                raise conflict(res, name, "Precondition failed: ResourceVersion in "
                               "precondition: %s, ResourceVersion in object meta: %s"
                               % (pre["resourceVersion"], obj["metadata"]["resourceVersion"]))
            policy = opts.get("propagationPolicy")
            if policy is None and opts.get("orphanDependents") is not None:
                policy = "Orphan" if opts["orphanDependents"] else "Background"
            if policy is None:
                # the REST default: batch/v1 Jobs orphan their pods, the rest is Background
                policy = "Orphan" if res.kind == "Job" else "Background"
            if policy not in ("Orphan", "Background", "Foreground"):
                raise ApiError(422, 'DeleteOptions.meta.k8s.io "" is invalid: '
                               'propagationPolicy: Unsupported value: "%s": supported values: '
                               '"Foreground", "Background", "Orphan", "nil"' % policy,
                               "Invalid")
            return self.delete_obj(res, obj, policy, opts.get("gracePeriodSeconds"))

    def delete_obj(self, res, obj, policy="Background", grace=None):
        meta = obj["metadata"]
        deps = self.dependents(meta["uid"])
        if policy == "Orphan":
            for dres, d in deps:
                d["metadata"]["ownerReferences"] = [
                    r for r in d["metadata"].get("ownerReferences") or []
                    if r.get("uid") != meta["uid"]]
                if not d["metadata"]["ownerReferences"]:
                    d["metadata"].pop("ownerReferences")
                ann = d["metadata"].get("annotations") or {}
                if ann.get("fake.gantry.test/owner-uid") == meta["uid"]:
                    del ann["fake.gantry.test/owner-uid"]
                self.put(dres, d)
            deps = []
        if policy == "Foreground" and deps:
            fins = meta.setdefault("finalizers", [])
            if "foregroundDeletion" not in fins:
                fins.append("foregroundDeletion")
        if res.kind == "Pod" and not meta.get("finalizers"):
            if meta.get("deletionTimestamp") is None:
                g = grace if grace is not None else obj["spec"].get(
                    "terminationGracePeriodSeconds", 30)
                if self.on_pod_delete and self.on_pod_delete(obj, g):
                    return 200, obj
                meta["deletionTimestamp"] = rfc3339(time.time() + g)
                meta["deletionGracePeriodSeconds"] = g
                self.put(res, obj)
            elif grace is not None and self.on_pod_delete:
                self.on_pod_delete(obj, grace)
            return 200, obj
        if meta.get("finalizers"):
            if meta.get("deletionTimestamp") is None:
                meta["deletionTimestamp"] = rfc3339()
                meta["deletionGracePeriodSeconds"] = 0
                self.put(res, obj)
            for dres, d in deps:
                if d["metadata"].get("deletionTimestamp") is None:
                    self.delete_obj(dres, d, "Background")
            return 200, obj
        self.remove(res, obj)
        for dres, d in deps:
            if self.get(dres, d["metadata"].get("namespace", ""), d["metadata"]["name"]) is d:
                self.delete_obj(dres, d, "Background")
        if res.kind == "Pod":
            return 200, obj
        details = {"name": meta["name"], "kind": res.plural, "uid": meta["uid"]}
        if res.group:
            details["group"] = res.group
        return 200, {"kind": "Status", "apiVersion": "v1", "metadata": {},
                     "status": "Success", "details": details}

    def finish_foreground(self):
        """Removes owners whose foreground deletion has no dependents left."""
        for plural, objs in self.objs.items():
            for obj in list(objs.values()):
                fins = obj["metadata"].get("finalizers") or []
                if "foregroundDeletion" in fins and obj["metadata"].get("deletionTimestamp") \
                        and not self.dependents(obj["metadata"]["uid"]):
                    fins.remove("foregroundDeletion")
                    if not fins:
                        self.remove(BY_GVR_PLURAL[plural], obj)
                    else:
                        self.put(BY_GVR_PLURAL[plural], obj)


BY_GVR_PLURAL = {r.plural: r for r in RESOURCES}
