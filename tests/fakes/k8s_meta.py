"""k8s_meta.py: the API machinery part of the Kubernetes fake (tests/fakes/k8s_fake.py).

Status errors, names and labels (the apimachinery validation rules), label and field
selectors, JSON merge patch (RFC 7386), a strategic merge patch for the lists the fake
knows, JSON patch (RFC 6902), times. Python 3 standard library only; see
tests/fakes/README.md for the references read.
"""

import calendar
import copy
import re
import time

# ---- Status errors (meta/v1 Status, reasons and codes of the API reference) -------------

REASONS = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
    415: "UnsupportedMediaType", 422: "Invalid", 429: "TooManyRequests",
    500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout",
}


class ApiError(Exception):
    """An error the fake answers with a meta/v1 Status."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason if reason is not None else REASONS.get(code, "")
        self.details = details
        self.headers = headers or {}

    def status(self):
        return status_obj(self.code, self.message, self.reason, self.details)


def status_obj(code, message, reason, details=None):
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
          "message": message, "reason": reason, "code": code}
    if details:
        st["details"] = details
    return st


def qualified(res):
    """pods, jobs.batch, deployments.apps: how the server names a resource in messages."""
    return res.plural if not res.group else res.plural + "." + res.group


def res_details(res, name):
    d = {"name": name, "kind": res.plural}
    if res.group:
        d["group"] = res.group
    return d


def not_found(res, name):
    return ApiError(404, '%s "%s" not found' % (qualified(res), name),
                    details=res_details(res, name))


def already_exists(res, name):
    return ApiError(409, '%s "%s" already exists' % (qualified(res), name), "AlreadyExists",
                    details=res_details(res, name))


def conflict(res, name, why):
    return ApiError(409, 'Operation cannot be fulfilled on %s "%s": %s'
                    % (qualified(res), name, why), "Conflict", details=res_details(res, name))


def bad_request(message):
    return ApiError(400, message)


class Errs:
    """A field.ErrorList: collects causes, raises one 422 Invalid Status."""

    def __init__(self):
        self.items = []  # (reason, field, message)

    def required(self, field, detail=""):
        self.items.append(("FieldValueRequired", field,
                           "Required value" + (": " + detail if detail else "")))

    def invalid(self, field, value, detail):
        self.items.append(("FieldValueInvalid", field,
                           "Invalid value: %s: %s" % (go_repr(value), detail)))

    def unsupported(self, field, value, supported):
        self.items.append(("FieldValueNotSupported", field,
                           "Unsupported value: %s: supported values: %s"
                           % (go_repr(value), ", ".join('"%s"' % s for s in supported))))

    def forbidden(self, field, detail):
        self.items.append(("FieldValueForbidden", field, "Forbidden: " + detail))

    def type_error(self, field, value, want):
        self.items.append(("FieldValueTypeInvalid", field,
                           "Invalid value: %s: must be %s" % (go_repr(value), want)))

    def raise_if(self, kind, name, group=""):
        if not self.items:
            return
        msgs = ["%s: %s" % (f, m) if f else m for _, f, m in self.items]
        text = msgs[0] if len(msgs) == 1 else "[" + ", ".join(msgs) + "]"
        details = {"name": name or "", "kind": kind,
                   "causes": [{"reason": r, "message": m, "field": f} for r, f, m in self.items]}
        if group:
            details["group"] = group
        raise ApiError(422, '%s "%s" is invalid: %s' % (kind + ("." + group if group else ""),
                                                         name or "", text), "Invalid",
                       details=details)


def go_repr(v):
    if isinstance(v, str):
        return '"%s"' % v.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    return str(v)


# ---- names and labels (apimachinery/pkg/util/validation) --------------------------------

DNS1123_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?\Z")
DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\Z")
DNS1035_LABEL = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
QNAME = re.compile(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]\Z")
LABEL_VALUE = re.compile(r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?\Z")

MSG_SUBDOMAIN = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
                 "characters, '-' or '.', and must start and end with an alphanumeric "
                 "character (e.g. 'example.com', regex used for validation is "
                 "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")
MSG_LABEL = ("a lowercase RFC 1123 label must consist of lower case alphanumeric characters "
             "or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  "
             "or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')")
MSG_1035 = ("a DNS-1035 label must consist of lower case alphanumeric characters or '-', "
            "start with an alphabetic character, and end with an alphanumeric character "
            "(e.g. 'my-name',  or 'abc-123', regex used for validation is "
            "'[a-z]([-a-z0-9]*[a-z0-9])?')")
MSG_QNAME = ("name part must consist of alphanumeric characters, '-', '_' or '.', and must "
             "start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  "
             "or '123-abc', regex used for validation is "
             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')")
MSG_VALUE = ("a valid label must be an empty string or consist of alphanumeric characters, "
             "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
             "'MyValue',  or 'my_value',  or '12345', regex used for validation is "
             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')")


def subdomain_errors(s):
    out = []
    if len(s) > 253:
        out.append("must be no more than 253 characters")
    if not DNS1123_SUBDOMAIN.match(s):
        out.append(MSG_SUBDOMAIN)
    return out


def label_name_errors(s):
    out = []
    if len(s) > 63:
        out.append("must be no more than 63 characters")
    if not DNS1123_LABEL.match(s):
        out.append(MSG_LABEL)
    return out


def dns1035_errors(s):
    out = []
    if len(s) > 63:
        out.append("must be no more than 63 characters")
    if not DNS1035_LABEL.match(s):
        out.append(MSG_1035)
    return out


def qualified_name_errors(s):
    """IsQualifiedName: [prefix/]name (label keys, annotation keys, resource names)."""
    parts = s.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            return ["prefix part must be non-empty"]
        errs = subdomain_errors(prefix)
        if errs:
            return ["prefix part " + e for e in errs]
    else:
        return ["a qualified name " + MSG_QNAME + " with an optional DNS subdomain prefix and "
                "'/' (e.g. 'example.com/MyName')"]
    if not name:
        return ["name part must be non-empty"]
    out = []
    if len(name) > 63:
        out.append("name part must be no more than 63 characters")
    if not QNAME.match(name):
        out.append(MSG_QNAME)
    return out


def label_value_errors(v):
    out = []
    if len(v) > 63:
        out.append("must be no more than 63 characters")
    if not LABEL_VALUE.match(v):
        out.append(MSG_VALUE)
    return out


# ---- label selectors (apimachinery/pkg/labels: the selector grammar) --------------------

SEL_TOKEN = re.compile(r"\s*(\(|\)|,|==|=|!=|!|>|<|[^\s(),=!<>]+)")


def parse_label_selector(text):
    """Returns a list of requirements (key, op, values); raises ApiError 400 if malformed.
    ops: exists, !, =, !=, in, notin, gt, lt."""
    if text is None or text.strip() == "":
        return []
    toks = []
    pos = 0
    text_s = text.rstrip()
    while pos < len(text_s):
        m = SEL_TOKEN.match(text_s, pos)
        if not m:
            raise bad_request("unable to parse requirement: found '%s', expected: identifier"
                              % text_s[pos:])
        toks.append(m.group(1))
        pos = m.end()
    reqs = []
    i = 0

    def need(cond, msg):
        if not cond:
            raise bad_request("unable to parse requirement: " + msg)

    def ident(j, what):
        need(j < len(toks) and toks[j] not in ("(", ")", ",", "=", "==", "!=", "!", ">", "<"),
             "found '%s', expected: %s" % (toks[j] if j < len(toks) else "", what))
        return toks[j]

    while i < len(toks):
        if toks[i] == "!":
            key = ident(i + 1, "identifier after '!'")
            check_key(key)
            reqs.append((key, "!", []))
            i += 2
        else:
            key = ident(i, "identifier")
            check_key(key)
            i += 1
            if i >= len(toks) or toks[i] == ",":
                reqs.append((key, "exists", []))
            else:
                op = toks[i]
                i += 1
                if op in ("=", "==", "!=", ">", "<"):
                    if i < len(toks) and toks[i] not in ("(", ")", ",", "=", "==", "!=", "!"):
                        val = toks[i]
                        i += 1
                    else:
                        val = ""
                        need(i >= len(toks) or toks[i] == ",",
                             "found '%s', expected: identifier" % toks[i])
                    if op in (">", "<"):
                        need(re.fullmatch(r"-?[0-9]+", val) is not None,
                             "for 'Gt', 'Lt' operators, the value must be an integer")
                        reqs.append((key, "gt" if op == ">" else "lt", [val]))
                    else:
                        check_value(key, val)
                        reqs.append((key, "!=" if op == "!=" else "=", [val]))
                elif op in ("in", "notin"):
                    need(i < len(toks) and toks[i] == "(",
                         "found '%s', expected: '('" % (toks[i] if i < len(toks) else ""))
                    i += 1
                    vals = []
                    while True:
                        need(i < len(toks), "found '', expected: ',', ')' or identifier")
                        if toks[i] == ")" and not vals:
                            i += 1
                            break
                        if toks[i] in (",", ")"):
                            vals.append("")
                        else:
                            vals.append(toks[i])
                            i += 1
                        need(i < len(toks) and toks[i] in (",", ")"),
                             "found '%s', expected: ',' or ')'"
                             % (toks[i] if i < len(toks) else ""))
                        i += 1
                        if toks[i - 1] == ")":
                            break
                    need(vals, "for 'in', 'notin' operators, values set can't be empty")
                    for v in vals:
                        check_value(key, v)
                    reqs.append((key, op, vals))
                else:
                    need(False, "found '%s', expected: '=', '!=', '==', 'in', notin'" % op)
        if i < len(toks):
            need(toks[i] == ",", "found '%s', expected: ','" % toks[i])
            i += 1
            need(i < len(toks), "found '', expected: identifier after ','")
    return reqs


def check_key(key):
    errs = qualified_name_errors(key)
    if errs:
        raise bad_request("unable to parse requirement: key: Invalid value: %s: %s"
                          % (go_repr(key), "; ".join(errs)))


def check_value(key, val):
    errs = label_value_errors(val)
    if errs:
        raise bad_request("unable to parse requirement: values[0][%s]: Invalid value: %s: %s"
                          % (key, go_repr(val), "; ".join(errs)))


def labels_match(reqs, labels):
    labels = labels or {}
    for key, op, vals in reqs:
        has = key in labels
        v = labels.get(key)
        if op == "exists" and not has:
            return False
        if op == "!" and has:
            return False
        if op == "=" and v != vals[0]:
            return False
        if op == "!=" and has and v == vals[0]:
            return False
        if op == "in" and (not has or v not in vals):
            return False
        if op == "notin" and has and v in vals:
            return False
        if op in ("gt", "lt"):
            try:
                n = int(v)
            except (TypeError, ValueError):
                return False
            if op == "gt" and not n > int(vals[0]):
                return False
            if op == "lt" and not n < int(vals[0]):
                return False
    return True


def selector_from_label_selector(sel):
    """A metav1.LabelSelector (matchLabels, matchExpressions) as requirements."""
    reqs = []
    for k, v in (sel.get("matchLabels") or {}).items():
        reqs.append((k, "=", [v]))
    for e in sel.get("matchExpressions") or []:
        op = {"In": "in", "NotIn": "notin", "Exists": "exists", "DoesNotExist": "!"}[e["operator"]]
        reqs.append((e["key"], op, list(e.get("values") or [])))
    return reqs


# ---- field selectors ---------------------------------------------------------------------

def parse_field_selector(text, supported):
    if text is None or text.strip() == "":
        return []
    out = []
    for part in text.split(","):
        m = re.fullmatch(r"\s*([A-Za-z0-9_.\[\]'/-]+)\s*(==|=|!=)\s*([^,]*?)\s*", part)
        if not m:
            raise bad_request("invalid selector: '%s'; can't understand '%s'" % (text, part))
        if m.group(1) not in supported:
            raise bad_request('field label not supported: %s' % m.group(1))
        out.append((m.group(1), m.group(2) == "!=", m.group(3)))
    return out


def fields_match(reqs, fields):
    for key, neg, val in reqs:
        if (fields.get(key, "") == val) == neg:
            return False
    return True


# ---- patches ----------------------------------------------------------------------------

def merge_patch(target, patch):
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


# lists merged by key in a strategic merge patch (the patchMergeKey of the API types)
SMP_KEYS = {"containers": "name", "initContainers": "name", "env": "name", "ports": "containerPort",
            "volumes": "name", "volumeMounts": "mountPath", "conditions": "type",
            "imagePullSecrets": "name", "ownerReferences": "uid"}


def strategic_merge_patch(target, patch, field=None):
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    if patch.get("$patch") == "replace":
        p = dict(patch)
        p.pop("$patch")
        return copy.deepcopy(p)
    if patch.get("$patch") == "delete":
        return None
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if k.startswith("$"):
            continue
        if v is None:
            out.pop(k, None)
        elif isinstance(v, list) and k in SMP_KEYS and isinstance(out.get(k), list):
            key = SMP_KEYS[k]
            cur = [copy.deepcopy(x) for x in out[k]]
            for item in v:
                if not isinstance(item, dict) or key not in item:
                    raise bad_request("map: %r does not contain declared merge key: %s"
                                      % (item, key))
                idx = next((j for j, x in enumerate(cur) if isinstance(x, dict)
                            and x.get(key) == item[key]), None)
                if item.get("$patch") == "delete":
                    if idx is not None:
                        cur.pop(idx)
                elif idx is None:
                    cur.append(strategic_merge_patch({}, item))
                else:
                    cur[idx] = strategic_merge_patch(cur[idx], item)
            out[k] = cur
        else:
            out[k] = strategic_merge_patch(out.get(k), v, k)
    return out


def _pointer(path):
    if path == "":
        return []
    if not path.startswith("/"):
        raise bad_request("invalid JSON pointer %r" % path)
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(doc, ops):
    """RFC 6902 JSON patch."""
    if not isinstance(ops, list):
        raise bad_request("json patch must be a list of operations")
    doc = copy.deepcopy(doc)

    def walk(parts):
        cur = doc
        for p in parts[:-1]:
            if isinstance(cur, list):
                cur = cur[int(p)]
            else:
                cur = cur[p]
        return cur

    def get(parts):
        cur = doc
        for p in parts:
            cur = cur[int(p)] if isinstance(cur, list) else cur[p]
        return cur

    def add(parts, val):
        nonlocal doc
        if not parts:
            doc = val
            return
        parent = walk(parts)
        last = parts[-1]
        if isinstance(parent, list):
            if last == "-":
                parent.append(val)
            else:
                parent.insert(int(last), val)
        else:
            parent[last] = val

    def remove(parts):
        parent = walk(parts)
        last = parts[-1]
        if isinstance(parent, list):
            return parent.pop(int(last))
        return parent.pop(last)

    for op in ops:
        try:
            kind = op["op"]
            parts = _pointer(op["path"])
            if kind == "add":
                add(parts, copy.deepcopy(op["value"]))
            elif kind == "remove":
                remove(parts)
            elif kind == "replace":
                remove(parts)
                add(parts, copy.deepcopy(op["value"]))
            elif kind == "move":
                add(parts, remove(_pointer(op["from"])))
            elif kind == "copy":
                add(parts, copy.deepcopy(get(_pointer(op["from"]))))
            elif kind == "test":
                if get(parts) != op["value"]:
                    raise ApiError(422, "the server rejected our request due to an error in "
                                   "our request: testing value %s failed" % op["path"])
            else:
                raise bad_request("Unexpected kind: %s" % kind)
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ApiError(422, "the server rejected our request due to an error in our "
                           "request: %s" % e)
    return doc


# ---- times -------------------------------------------------------------------------------

def rfc3339(t=None):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() if t is None else t))


def rfc3339_parse(s):
    try:
        return calendar.timegm(time.strptime(s, "%Y-%m-%dT%H:%M:%SZ"))
    except (TypeError, ValueError):
        return None
