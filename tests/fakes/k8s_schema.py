"""k8s_schema.py: what the Kubernetes fake accepts in a body (tests/fakes/k8s_fake.py).

Three layers, as on a real API server:
- decoding: a field of the wrong JSON type is a 400 BadRequest ("cannot be handled as a
  Pod: json: cannot unmarshal ..."); a field the schema does not know is a warning
  (`Warning: 299 - "unknown field ..."`, the default fieldValidation=Warn), or a 400 with
  fieldValidation=Strict;
- defaulting (restartPolicy, terminationGracePeriodSeconds, replicas, ...);
- validation: 422 Invalid with one cause per field error.
The schema covers the fields of Pod, Service, Job, Deployment and HorizontalPodAutoscaler
(autoscaling/v2) that the API reference documents; rarely used sub-objects are "any".
"""

import base64
import re

from k8s_meta import (ApiError, Errs, dns1035_errors, label_name_errors, label_value_errors,
                      qualified_name_errors, subdomain_errors, selector_from_label_selector,
                      labels_match)

S, I, B, Q, IOS, ANY, F = "string", "int", "bool", "quantity", "intorstring", "any", "float"
MS = ("map", S)
ZERO = {S: "", "int": 0, "bool": False, "quantity": "0", "float": 0.0}
MQ = ("map", Q)

OBJECT_META = {
    "name": S, "generateName": S, "namespace": S, "labels": MS, "annotations": MS,
    "uid": S, "resourceVersion": S, "generation": I, "creationTimestamp": ANY,
    "deletionTimestamp": ANY, "deletionGracePeriodSeconds": I, "finalizers": [S],
    "ownerReferences": [{"apiVersion": S, "kind": S, "name": S, "uid": S, "controller": B,
                         "blockOwnerDeletion": B}],
    "managedFields": ANY, "selfLink": S,
}
LABEL_SELECTOR = {"matchLabels": MS,
                  "matchExpressions": [{"key": S, "operator": S, "values": [S]}]}
PROBE = {
    "httpGet": {"path": S, "port": IOS, "host": S, "scheme": S,
                "httpHeaders": [{"name": S, "value": S}]},
    "tcpSocket": {"port": IOS, "host": S}, "exec": {"command": [S]}, "grpc": ANY,
    "initialDelaySeconds": I, "timeoutSeconds": I, "periodSeconds": I, "successThreshold": I,
    "failureThreshold": I, "terminationGracePeriodSeconds": I,
}
CONTAINER = {
    "name": S, "image": S, "command": [S], "args": [S], "workingDir": S,
    "ports": [{"name": S, "containerPort": I, "protocol": S, "hostPort": I, "hostIP": S}],
    "env": [{"name": S, "value": S, "valueFrom": ANY}], "envFrom": ANY,
    "resources": {"limits": MQ, "requests": MQ, "claims": ANY},
    "resizePolicy": ANY, "restartPolicy": S, "volumeMounts": ANY, "volumeDevices": ANY,
    "livenessProbe": PROBE, "readinessProbe": PROBE, "startupProbe": PROBE, "lifecycle": ANY,
    "terminationMessagePath": S, "terminationMessagePolicy": S, "imagePullPolicy": S,
    "securityContext": ANY, "stdin": B, "stdinOnce": B, "tty": B,
}
POD_SPEC = {
    "containers": [CONTAINER], "initContainers": [CONTAINER], "ephemeralContainers": ANY,
    "restartPolicy": S, "terminationGracePeriodSeconds": I, "activeDeadlineSeconds": I,
    "dnsPolicy": S, "nodeSelector": MS, "serviceAccountName": S, "serviceAccount": S,
    "automountServiceAccountToken": B, "nodeName": S, "hostNetwork": B, "hostPID": B,
    "hostIPC": B, "shareProcessNamespace": B, "securityContext": ANY,
    "imagePullSecrets": [{"name": S}], "hostname": S, "subdomain": S, "affinity": ANY,
    "schedulerName": S,
    "tolerations": [{"key": S, "operator": S, "value": S, "effect": S,
                     "tolerationSeconds": I}],
    "hostAliases": ANY, "priorityClassName": S, "priority": I, "dnsConfig": ANY,
    "readinessGates": ANY, "runtimeClassName": S, "enableServiceLinks": B,
    "preemptionPolicy": S, "overhead": MQ, "topologySpreadConstraints": ANY,
    "setHostnameAsFQDN": B, "os": ANY, "hostUsers": B, "schedulingGates": ANY,
    "resourceClaims": ANY, "resources": ANY, "volumes": ANY,
}
POD_TEMPLATE = {"metadata": OBJECT_META, "spec": POD_SPEC}
TOP = {"apiVersion": S, "kind": S, "metadata": OBJECT_META, "status": ANY}

SPECS = {
    "Pod": dict(TOP, spec=POD_SPEC),
    "Secret": dict(TOP, type=S, data=MS, stringData=MS, immutable=B),
    "Service": dict(TOP, spec={
        "ports": [{"name": S, "protocol": S, "appProtocol": S, "port": I, "targetPort": IOS,
                   "nodePort": I}],
        "selector": MS, "clusterIP": S, "clusterIPs": [S], "type": S, "externalIPs": [S],
        "sessionAffinity": S, "loadBalancerIP": S, "loadBalancerSourceRanges": [S],
        "externalName": S, "externalTrafficPolicy": S, "healthCheckNodePort": I,
        "publishNotReadyAddresses": B, "sessionAffinityConfig": ANY, "ipFamilies": [S],
        "ipFamilyPolicy": S, "allocateLoadBalancerNodePorts": B, "loadBalancerClass": S,
        "internalTrafficPolicy": S, "trafficDistribution": S}),
    "Job": dict(TOP, spec={
        "parallelism": I, "completions": I, "activeDeadlineSeconds": I, "podFailurePolicy": ANY,
        "successPolicy": ANY, "backoffLimit": I, "backoffLimitPerIndex": I,
        "maxFailedIndexes": I, "selector": LABEL_SELECTOR, "manualSelector": B,
        "template": POD_TEMPLATE, "ttlSecondsAfterFinished": I, "completionMode": S,
        "suspend": B, "podReplacementPolicy": S, "managedBy": S}),
    "Deployment": dict(TOP, spec={
        "replicas": I, "selector": LABEL_SELECTOR, "template": POD_TEMPLATE,
        "strategy": {"type": S, "rollingUpdate": {"maxUnavailable": IOS, "maxSurge": IOS}},
        "minReadySeconds": I, "revisionHistoryLimit": I, "paused": B,
        "progressDeadlineSeconds": I}),
    "HorizontalPodAutoscaler": dict(TOP, spec={
        "scaleTargetRef": {"apiVersion": S, "kind": S, "name": S},
        "minReplicas": I, "maxReplicas": I,
        "metrics": [{"type": S, "resource": ANY, "containerResource": ANY, "pods": ANY,
                     "object": ANY, "external": ANY}],
        "behavior": ANY}),
    "Namespace": dict(TOP, spec=ANY),
    "Node": dict(TOP, spec=ANY),
}

QUANTITY = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)"
                      r"(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?[0-9]+)?\Z")
SUFFIX = {"": 1, "n": 1e-9, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12,
          "P": 1e15, "E": 1e18, "Ki": 2 ** 10, "Mi": 2 ** 20, "Gi": 2 ** 30, "Ti": 2 ** 40,
          "Pi": 2 ** 50, "Ei": 2 ** 60}


def quantity(v):
    """A resource.Quantity as a float (a JSON string, or a number); None if malformed."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if not isinstance(v, str):
        return None
    m = QUANTITY.match(v.strip())
    if not m:
        return None
    s = v.strip()
    num = s[:m.end(1) + (1 if s[:1] in "+-" else 0)]
    suf = s[len(num):]
    if suf[:1] in ("e", "E"):
        return float(s)
    return float(num) * SUFFIX[suf]


def go_type(spec):
    if spec == S:
        return "string"
    if spec in (I,):
        return "int32"
    if spec == B:
        return "bool"
    if spec == F:
        return "float64"
    if isinstance(spec, list):
        return "[]" + go_type(spec[0])
    if isinstance(spec, tuple):
        return "map[string]" + go_type(spec[1])
    if isinstance(spec, dict):
        return "struct"
    return "interface {}"


def json_type(v):
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


class Decoded:
    def __init__(self):
        self.unknown = []


def decode(kind, version, obj, strict):
    """Type-checks obj against the schema; returns the list of unknown field paths. Raises
    400 on a type error (or an unknown field when strict)."""
    if not isinstance(obj, dict):
        raise ApiError(400, "Object 'Kind' is missing in '%s'" % str(obj)[:200])
    d = Decoded()
    _walk(kind, version, SPECS[kind], obj, "", d)
    if strict and d.unknown:
        raise ApiError(400, "strict decoding error: " + ", ".join(
            'unknown field "%s"' % u for u in d.unknown))
    return d.unknown


def _fail(kind, version, path, v, spec):
    raise ApiError(400, '%s in version "%s" cannot be handled as a %s: json: cannot unmarshal '
                   "%s into Go struct field %s of type %s"
                   % (kind, version, kind, json_type(v), path.lstrip(".") or kind,
                      go_type(spec)))


def _walk(kind, version, spec, v, path, d):
    if v is None or spec == ANY:
        return
    if spec == S:
        if not isinstance(v, str):
            _fail(kind, version, path, v, spec)
    elif spec == I:
        if isinstance(v, bool) or not isinstance(v, int):
            if isinstance(v, float) and v.is_integer():
                return
            _fail(kind, version, path, v, spec)
    elif spec == F:
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            _fail(kind, version, path, v, spec)
    elif spec == B:
        if not isinstance(v, bool):
            _fail(kind, version, path, v, spec)
    elif spec == Q:
        if quantity(v) is None:
            if isinstance(v, str):
                raise ApiError(400, "%s in version \"%s\" cannot be handled as a %s: quantities "
                               "must match the regular expression "
                               "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
                               % (kind, version, kind))
            _fail(kind, version, path, v, "string")
    elif spec == IOS:
        if isinstance(v, bool) or not isinstance(v, (int, str)):
            _fail(kind, version, path, v, "intstr.IntOrString")
    elif isinstance(spec, list):
        if not isinstance(v, list):
            _fail(kind, version, path, v, spec)
        for i, x in enumerate(v):
            if x is None:  # Go decodes a null in a list as the zero value
                v[i] = x = {} if isinstance(spec[0], dict) else ZERO.get(spec[0])
            _walk(kind, version, spec[0], x, "%s[%d]" % (path, i), d)
    elif isinstance(spec, tuple):
        if not isinstance(v, dict):
            _fail(kind, version, path, v, spec)
        for k, x in v.items():
            if x is None:
                v[k] = x = ZERO.get(spec[1], "")
            _walk(kind, version, spec[1], x, "%s.%s" % (path, k), d)
    elif isinstance(spec, dict):
        if not isinstance(v, dict):
            _fail(kind, version, path, v, spec)
        for k in [k for k, x in v.items() if x is None]:
            del v[k]  # a null field decodes as the zero value: as if absent
        for k, x in v.items():
            if k not in spec:
                d.unknown.append(("%s.%s" % (path, k)).lstrip("."))
                continue
            _walk(kind, version, spec[k], x, "%s.%s" % (path, k), d)


# ---- defaults ----------------------------------------------------------------------------

def default_pod_spec(spec, restart="Always"):
    spec.setdefault("restartPolicy", restart)
    spec.setdefault("terminationGracePeriodSeconds", 30)
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    if spec.get("serviceAccountName") is None:
        spec["serviceAccountName"] = spec.get("serviceAccount") or "default"
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict):
            continue
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
        img = c.get("image") or ""
        tag = img.rsplit("/", 1)[-1]
        c.setdefault("imagePullPolicy",
                     "Always" if ":" not in tag or tag.endswith(":latest") else "IfNotPresent")
        c.setdefault("resources", {})
        for p in c.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
        for pr in ("readinessProbe", "livenessProbe", "startupProbe"):
            probe = c.get(pr)
            if isinstance(probe, dict):
                probe.setdefault("timeoutSeconds", 1)
                probe.setdefault("periodSeconds", 10)
                probe.setdefault("successThreshold", 1)
                probe.setdefault("failureThreshold", 3)
                if isinstance(probe.get("httpGet"), dict):
                    probe["httpGet"].setdefault("path", "/")
                    probe["httpGet"].setdefault("scheme", "HTTP")


def apply_defaults(kind, obj):
    spec = obj.setdefault("spec", {})
    if not isinstance(spec, dict):
        return
    if kind == "Pod":
        default_pod_spec(spec)
    elif kind == "Job":
        spec.setdefault("parallelism", 1)
        if spec.get("completionMode") != "Indexed":
            spec.setdefault("completions", 1)
        spec.setdefault("backoffLimit", 6)
        spec.setdefault("completionMode", "NonIndexed")
        spec.setdefault("suspend", False)
        tpl = spec.get("template")
        if isinstance(tpl, dict) and isinstance(tpl.get("spec"), dict):
            default_pod_spec(tpl["spec"], restart=None)
            if tpl["spec"].get("restartPolicy") is None:
                tpl["spec"].pop("restartPolicy")
    elif kind == "Deployment":
        spec.setdefault("replicas", 1)
        spec.setdefault("revisionHistoryLimit", 10)
        spec.setdefault("progressDeadlineSeconds", 600)
        spec.setdefault("strategy", {"type": "RollingUpdate",
                                     "rollingUpdate": {"maxUnavailable": "25%",
                                                       "maxSurge": "25%"}})
        tpl = spec.get("template")
        if isinstance(tpl, dict) and isinstance(tpl.get("spec"), dict):
            default_pod_spec(tpl["spec"])
    elif kind == "Service":
        spec.setdefault("type", "ClusterIP")
        spec.setdefault("sessionAffinity", "None")
        for p in spec.get("ports") or []:
            if isinstance(p, dict):
                p.setdefault("protocol", "TCP")
                if "port" in p:
                    p.setdefault("targetPort", p["port"])
    elif kind == "HorizontalPodAutoscaler":
        spec.setdefault("minReplicas", 1)


# ---- validation (422) --------------------------------------------------------------------

def validate_meta(e, meta, namespaced, name_rule="subdomain"):
    name = meta.get("name")
    if not name:
        if meta.get("generateName"):
            pass
        else:
            e.required("metadata.name", "name or generateName is required")
    else:
        errs = {"subdomain": subdomain_errors, "label": label_name_errors,
                "1035": dns1035_errors}[name_rule](name)
        for msg in errs:
            e.invalid("metadata.name", name, msg)
    for k, v in (meta.get("labels") or {}).items():
        for msg in qualified_name_errors(k):
            e.invalid("metadata.labels", k, msg)
        for msg in label_value_errors(v):
            e.invalid("metadata.labels", v, msg)
    for k in (meta.get("annotations") or {}):
        for msg in qualified_name_errors(k.lower()):
            e.invalid("metadata.annotations", k, msg)


def validate_resources(e, res, path):
    for part in ("limits", "requests"):
        for k, v in (res.get(part) or {}).items():
            for msg in qualified_name_errors(k):
                e.invalid("%s.%s[%s]" % (path, part, k), k, msg)
            q = quantity(v)
            if q is not None and q < 0:
                e.invalid("%s.%s[%s]" % (path, part, k), v,
                          "must be greater than or equal to 0")
            if "/" in k and not k.startswith("kubernetes.io/") and q is not None \
                    and q != int(q):
                e.invalid("%s.%s[%s]" % (path, part, k), v, "must be an integer")
    lim = res.get("limits") or {}
    req = res.get("requests") or {}
    for k, v in req.items():
        if k in lim and quantity(v) is not None and quantity(lim[k]) is not None \
                and quantity(v) > quantity(lim[k]):
            e.invalid("%s.requests" % path, v, "must be less than or equal to %s limit of %s"
                      % (k, lim[k]))
        if "/" in k and not k.startswith("kubernetes.io/") and k in lim and lim[k] != v \
                and quantity(lim[k]) != quantity(v):
            e.invalid("%s.requests[%s]" % (path, k), v,
                      "must be equal to %s limit of %s" % (k, lim[k]))


def validate_probe(e, probe, path, ports):
    handlers = [h for h in ("httpGet", "tcpSocket", "exec", "grpc") if probe.get(h) is not None]
    if not handlers:
        e.required(path, "must specify a handler type")
    elif len(handlers) > 1:
        e.forbidden(path + "." + handlers[1], "may not specify more than 1 handler type")
    hg = probe.get("httpGet")
    if isinstance(hg, dict):
        port = hg.get("port")
        if port is None:
            e.required(path + ".httpGet.port")
        elif isinstance(port, int) and not 1 <= port <= 65535:
            e.invalid(path + ".httpGet.port", port, "must be between 1 and 65535, inclusive")
        elif isinstance(port, str) and port not in ports:
            e.invalid(path + ".httpGet.port", port, "must contain at least one letter or "
                      "number (a-z, 0-9)" if not re.search("[a-z0-9]", port)
                      else "must be a named containerPort of the container")
        if hg.get("scheme") not in (None, "HTTP", "HTTPS"):
            e.unsupported(path + ".httpGet.scheme", hg["scheme"], ["HTTP", "HTTPS"])
    for k in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold",
              "failureThreshold"):
        v = probe.get(k)
        if isinstance(v, int) and v < (0 if k == "initialDelaySeconds" else 1) \
                and not (k == "timeoutSeconds" and v == 0):
            e.invalid("%s.%s" % (path, k), v, "must be greater than or equal to %d"
                      % (0 if k == "initialDelaySeconds" else 1))


def validate_pod_spec(e, spec, path, restart_allowed):
    if not isinstance(spec, dict):
        e.required(path)
        return
    containers = spec.get("containers")
    if not containers:
        e.required(path + ".containers")
    names = set()
    for i, c in enumerate((containers or []) + (spec.get("initContainers") or [])):
        cp = "%s.%s[%d]" % (path, "containers" if i < len(containers or []) else
                             "initContainers", i if i < len(containers or []) else
                             i - len(containers or []))
        if not c.get("name"):
            e.required(cp + ".name")
        else:
            for msg in label_name_errors(c["name"]):
                e.invalid(cp + ".name", c["name"], msg)
            if c["name"] in names:
                e.items.append(("FieldValueDuplicate", cp + ".name",
                                'Duplicate value: "%s"' % c["name"]))
            names.add(c["name"])
        if not c.get("image"):
            e.required(cp + ".image")
        elif c["image"] != c["image"].strip():
            e.invalid(cp + ".image", c["image"], "must not have leading or trailing whitespace")
        port_names = set()
        for j, p in enumerate(c.get("ports") or []):
            pp = "%s.ports[%d]" % (cp, j)
            cport = p.get("containerPort")
            if cport is None:
                e.required(pp + ".containerPort")
            elif not 1 <= cport <= 65535:
                e.invalid(pp + ".containerPort", cport,
                          "must be between 1 and 65535, inclusive")
            if p.get("protocol") not in (None, "TCP", "UDP", "SCTP"):
                e.unsupported(pp + ".protocol", p["protocol"], ["SCTP", "TCP", "UDP"])
            if p.get("name"):
                if len(p["name"]) > 15 or not re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?",
                                                          p["name"]) \
                        or not re.search("[a-z]", p["name"]):
                    e.invalid(pp + ".name", p["name"], "must be no more than 15 characters "
                              "and an IANA_SVC_NAME")
                port_names.add(p["name"])
        for j, env in enumerate(c.get("env") or []):
            if not env.get("name"):
                e.required("%s.env[%d].name" % (cp, j))
            elif not re.fullmatch(r"[-._a-zA-Z][-._a-zA-Z0-9]*", env["name"]):
                e.invalid("%s.env[%d].name" % (cp, j), env["name"],
                          "a valid environment variable name must consist of alphabetic "
                          "characters, digits, '_', '-', or '.', and must not start with a "
                          "digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', "
                          "regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')")
            if env.get("value") is not None and env.get("valueFrom") is not None:
                e.invalid("%s.env[%d].valueFrom" % (cp, j), "", "may not be specified when "
                          "`value` is not empty")
        validate_resources(e, c.get("resources") or {}, cp + ".resources")
        for pr in ("readinessProbe", "livenessProbe", "startupProbe"):
            if c.get(pr) is not None:
                validate_probe(e, c[pr], "%s.%s" % (cp, pr), port_names)
        if c.get("imagePullPolicy") not in (None, "Always", "IfNotPresent", "Never"):
            e.unsupported(cp + ".imagePullPolicy", c["imagePullPolicy"],
                          ["Always", "IfNotPresent", "Never"])
    rp = spec.get("restartPolicy")
    if rp is None:
        e.required(path + ".restartPolicy")
    elif rp not in restart_allowed:
        e.unsupported(path + ".restartPolicy", rp, restart_allowed)
    for k, v in (spec.get("nodeSelector") or {}).items():
        for msg in qualified_name_errors(k):
            e.invalid(path + ".nodeSelector", k, msg)
        for msg in label_value_errors(v):
            e.invalid(path + ".nodeSelector", v, msg)
    for j, t in enumerate(spec.get("tolerations") or []):
        op = t.get("operator")
        if op not in (None, "", "Exists", "Equal"):
            e.unsupported("%s.tolerations[%d].operator" % (path, j), op, ["Equal", "Exists"])
        if op == "Exists" and t.get("value"):
            e.invalid("%s.tolerations[%d].operator" % (path, j), t.get("value"),
                      "value must be empty when `operator` is 'Exists'")
        if t.get("effect") not in (None, "", "NoSchedule", "PreferNoSchedule", "NoExecute"):
            e.unsupported("%s.tolerations[%d].effect" % (path, j), t["effect"],
                          ["NoExecute", "NoSchedule", "PreferNoSchedule"])
    g = spec.get("terminationGracePeriodSeconds")
    if isinstance(g, int) and g < 0:
        e.invalid(path + ".terminationGracePeriodSeconds", g,
                  "must be greater than or equal to 0")
    ads = spec.get("activeDeadlineSeconds")
    if isinstance(ads, int) and ads < 1:
        e.invalid(path + ".activeDeadlineSeconds", ads, "must be between 1 and 2147483647, "
                  "inclusive")
    for k in ("hostname", "subdomain"):
        if spec.get(k):
            for msg in label_name_errors(spec[k]):
                e.invalid(path + "." + k, spec[k], msg)


def validate_template(e, tpl, path, restart_allowed):
    if not isinstance(tpl, dict):
        e.required(path)
        return
    meta = tpl.get("metadata") or {}
    for k, v in (meta.get("labels") or {}).items():
        for msg in qualified_name_errors(k):
            e.invalid(path + ".metadata.labels", k, msg)
        for msg in label_value_errors(v):
            e.invalid(path + ".metadata.labels", v, msg)
    validate_pod_spec(e, tpl.get("spec"), path + ".spec", restart_allowed)


def validate_selector(e, sel, tpl, path, required=True):
    if not sel:
        if required:
            e.required(path)
        return None
    if not sel.get("matchLabels") and not sel.get("matchExpressions"):
        e.invalid(path, sel, "empty selector is invalid for deployment")
        return None
    for i, ex in enumerate(sel.get("matchExpressions") or []):
        if ex.get("operator") not in ("In", "NotIn", "Exists", "DoesNotExist"):
            e.unsupported("%s.matchExpressions[%d].operator" % (path, i), ex.get("operator"),
                          ["In", "NotIn", "Exists", "DoesNotExist"])
            return None
        if ex.get("operator") in ("In", "NotIn") and not ex.get("values"):
            e.required("%s.matchExpressions[%d].values" % (path, i),
                       "must be specified when `operator` is 'In' or 'NotIn'")
            return None
    reqs = selector_from_label_selector(sel)
    labels = ((tpl or {}).get("metadata") or {}).get("labels") or {}
    if not labels_match(reqs, labels):
        e.invalid(path.rsplit(".", 1)[0] + ".template.metadata.labels", labels,
                  "`selector` does not match template `labels`")
    return reqs


def validate_hpa(e, spec):
    ref = spec.get("scaleTargetRef")
    if not isinstance(ref, dict):
        e.required("spec.scaleTargetRef")
    else:
        if not ref.get("kind"):
            e.required("spec.scaleTargetRef.kind")
        if not ref.get("name"):
            e.required("spec.scaleTargetRef.name")
        elif subdomain_errors(ref["name"]):
            e.invalid("spec.scaleTargetRef.name", ref["name"], MSG_PATH_SEGMENT)
    mn = spec.get("minReplicas")
    mx = spec.get("maxReplicas")
    if isinstance(mn, int) and mn < 1:
        e.invalid("spec.minReplicas", mn, "must be greater than or equal to 1")
    if mx is None:
        e.required("spec.maxReplicas")
    elif mx < 1:
        e.invalid("spec.maxReplicas", mx, "must be greater than 0")
    elif isinstance(mn, int) and mx < mn:
        e.invalid("spec.maxReplicas", mx, "must be greater than or equal to `minReplicas`")
    for i, m in enumerate(spec.get("metrics") or []):
        p = "spec.metrics[%d]" % i
        t = m.get("type")
        types = {"Resource": "resource", "Pods": "pods", "Object": "object",
                 "External": "external", "ContainerResource": "containerResource"}
        if not t:
            e.required(p + ".type")
            continue
        if t not in types:
            e.unsupported(p + ".type", t, list(types))
            continue
        src = m.get(types[t])
        if not isinstance(src, dict):
            e.required("%s.%s" % (p, types[t]), "must populate information for the given "
                       "metric source")
            continue
        for other in types.values():
            if other != types[t] and m.get(other) is not None:
                e.forbidden("%s.%s" % (p, other), "must populate the given metric source "
                            "only")
        sp = "%s.%s" % (p, types[t])
        if t in ("Resource", "ContainerResource"):
            if not src.get("name"):
                e.required(sp + ".name")
        else:
            metric = src.get("metric")
            if not isinstance(metric, dict) or not metric.get("name"):
                e.required(sp + ".metric.name")
        target = src.get("target")
        if not isinstance(target, dict):
            e.required(sp + ".target")
            continue
        tt = target.get("type")
        if tt not in ("Utilization", "Value", "AverageValue"):
            if tt is None:
                e.required(sp + ".target.type")
            else:
                e.unsupported(sp + ".target.type", tt, ["AverageValue", "Utilization", "Value"])
            continue
        key = {"Utilization": "averageUtilization", "Value": "value",
               "AverageValue": "averageValue"}[tt]
        val = target.get(key)
        if val is None:
            e.required("%s.target.%s" % (sp, key), "must set either a target raw value or "
                       "a target utilization" if tt != "AverageValue"
                       else "must specify a positive target averageValue")
            continue
        if key == "averageUtilization":
            if isinstance(val, bool) or not isinstance(val, int) or val < 1:
                e.invalid("%s.target.%s" % (sp, key), val, "must be greater than 0")
        else:
            q = quantity(val)
            if q is None:
                e.invalid("%s.target.%s" % (sp, key), val, "must be a quantity")
            elif q <= 0:
                e.invalid("%s.target.%s" % (sp, key), val, "must be positive")
        if t == "Pods" and tt != "AverageValue":
            e.unsupported(sp + ".target.type", tt, ["AverageValue"])


MSG_PATH_SEGMENT = "may not contain '/' or '%'"


SECRET_KEY = re.compile(r"[-._a-zA-Z0-9]+")


def validate_secret(e, obj):
    """Secret: keys of data/stringData are [-._a-zA-Z0-9]+, data values are base64; the
    server folds stringData into data (write-only)."""
    for field in ("data", "stringData"):
        for k, v in (obj.get(field) or {}).items():
            if not SECRET_KEY.fullmatch(k) or len(k) > 253:
                e.invalid(field + "[" + k + "]", k, "a valid config key must consist of "
                          "alphanumeric characters, '-', '_' or '.'")
            if field == "data":
                try:
                    base64.b64decode(v, validate=True)
                except (ValueError, TypeError):
                    e.invalid("data[" + k + "]", "<secret>", "illegal base64 data")
    sd = obj.pop("stringData", None) or {}
    if sd:
        data = obj.setdefault("data", {})
        for k, v in sd.items():
            data[k] = base64.b64encode(v.encode()).decode()
    obj.setdefault("type", "Opaque")


def validate(kind, obj, namespaced=True):
    """Raises 422 Invalid for a body that fails the server's validation rules."""
    e = Errs()
    meta = obj.get("metadata") or {}
    spec = obj.get("spec")
    group = {"Job": "batch", "Deployment": "apps", "HorizontalPodAutoscaler": "autoscaling"}
    name_rule = {"Service": "1035", "Pod": "subdomain", "Namespace": "label"}.get(kind,
                                                                                 "subdomain")
    validate_meta(e, meta, namespaced, name_rule)
    if kind == "Pod":
        validate_pod_spec(e, spec, "spec", ["Always", "OnFailure", "Never"])
    elif kind == "Job":
        if not isinstance(spec, dict):
            e.required("spec")
        else:
            validate_template(e, spec.get("template"), "spec.template", ["OnFailure", "Never"])
            for k in ("parallelism", "completions", "backoffLimit"):
                v = spec.get(k)
                if isinstance(v, int) and v < 0:
                    e.invalid("spec." + k, v, "must be greater than or equal to 0")
            if spec.get("completionMode") not in (None, "NonIndexed", "Indexed"):
                e.unsupported("spec.completionMode", spec["completionMode"],
                              ["NonIndexed", "Indexed"])
            if spec.get("completionMode") == "Indexed" and spec.get("completions") is None:
                e.required("spec.completions", 'when completion mode is Indexed')
            if spec.get("manualSelector"):
                validate_selector(e, spec.get("selector"), spec.get("template"),
                                  "spec.selector")
            elif spec.get("selector"):
                e.invalid("spec.selector", spec["selector"], "`selector` will be "
                          "auto-generated")
            ads = spec.get("activeDeadlineSeconds")
            if isinstance(ads, int) and ads <= 0:
                e.invalid("spec.activeDeadlineSeconds", ads,
                          "must be greater than or equal to 0")
    elif kind == "Deployment":
        if not isinstance(spec, dict):
            e.required("spec")
        else:
            validate_selector(e, spec.get("selector"), spec.get("template"), "spec.selector")
            validate_template(e, spec.get("template"), "spec.template", ["Always"])
            r = spec.get("replicas")
            if isinstance(r, int) and r < 0:
                e.invalid("spec.replicas", r, "must be greater than or equal to 0")
            st = (spec.get("strategy") or {}).get("type")
            if st not in (None, "RollingUpdate", "Recreate"):
                e.unsupported("spec.strategy.type", st, ["Recreate", "RollingUpdate"])
    elif kind == "Service":
        if not isinstance(spec, dict):
            e.required("spec")
        else:
            headless = spec.get("clusterIP") == "None"
            ports = spec.get("ports") or []
            if not ports and not headless and spec.get("type") != "ExternalName":
                e.required("spec.ports")
            seen = set()
            for i, p in enumerate(ports):
                pp = "spec.ports[%d]" % i
                if len(ports) > 1 and not p.get("name"):
                    e.required(pp + ".name")
                if p.get("port") is None:
                    e.required(pp + ".port")
                elif not 1 <= p["port"] <= 65535:
                    e.invalid(pp + ".port", p["port"], "must be between 1 and 65535, "
                              "inclusive")
                tp = p.get("targetPort")
                if isinstance(tp, int) and not 1 <= tp <= 65535:
                    e.invalid(pp + ".targetPort", tp, "must be between 1 and 65535, inclusive")
                if p.get("protocol") not in (None, "TCP", "UDP", "SCTP"):
                    e.unsupported(pp + ".protocol", p["protocol"], ["SCTP", "TCP", "UDP"])
                key = (p.get("port"), p.get("protocol"))
                if key in seen:
                    e.items.append(("FieldValueDuplicate", pp, "Duplicate value: %s" % (key,)))
                seen.add(key)
            if spec.get("type") not in (None, "ClusterIP", "NodePort", "LoadBalancer",
                                        "ExternalName"):
                e.unsupported("spec.type", spec["type"],
                              ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"])
            for k, v in (spec.get("selector") or {}).items():
                for msg in qualified_name_errors(k):
                    e.invalid("spec.selector", k, msg)
                for msg in label_value_errors(v):
                    e.invalid("spec.selector", v, msg)
    elif kind == "HorizontalPodAutoscaler":
        if not isinstance(spec, dict):
            e.required("spec")
        else:
            validate_hpa(e, spec)
    elif kind == "Secret":
        validate_secret(e, obj)
    e.raise_if(kind, meta.get("name") or meta.get("generateName"), group.get(kind, ""))
