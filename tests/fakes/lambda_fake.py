#!/usr/bin/env python3
"""lambda_fake.py: a protocol fake of the Lambda Cloud public API v1, for Gantry's tests.

Written from the published API reference (https://docs-api.lambda.ai/api/cloud, the
OpenAPI document https://cloud.lambda.ai/api/v1/openapi.json, version 1.8.3 read), not
from any client or server code. It checks what it receives (auth header, method, path,
Content-Type, required fields and their types, exactly one SSH key name) and answers with
the documented shapes, HTTP statuses and error codes. Instances are real: each one is a
loopback sshd worker of the tests (tests/lib/sshrig.sh); the launch installs the public
key of the named SSH key in that worker's authorized_keys file, terminate removes it.

A control API under /_fake/ (its own token, never the API key) injects faults and shows
what the fake received. See tests/fakes/README.md. Python 3 standard library only.
"""

import argparse
import base64
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

API = "/api/v1"

# PublicRegionCode of the reference, with the location the reference gives for each.
REGIONS = {
    "europe-central-1": "Germany",
    "asia-south-1": "India",
    "australia-east-1": "Australia",
    "me-west-1": "Israel",
    "asia-northeast-1": "Tokyo, Japan",
    "asia-northeast-2": "Osaka, Japan",
    "us-east-1": "Virginia, USA",
    "us-west-2": "Arizona, USA",
    "us-west-1": "California, USA",
    "us-south-1": "Texas, USA",
    "us-west-3": "Utah, USA",
    "us-midwest-1": "Illinois, USA",
    "us-east-2": "Washington DC, USA",
    "us-south-2": "North Texas, USA",
    "us-south-3": "Central Texas, USA",
    "us-east-3": "Georgia, USA",
    "us-midwest-2": "Ohio, USA",
}

# The default catalogue (replace with --instance-types FILE). Prices are examples in the
# shape of the reference, not Lambda's current prices.
DEFAULT_TYPES = [
    {"name": "gpu_1x_a10", "description": "1x A10 (24 GB PCIe)",
     "gpu_description": "A10 (24 GB PCIe)", "price_cents_per_hour": 75,
     "specs": {"vcpus": 30, "memory_gib": 200, "storage_gib": 1400, "gpus": 1},
     "regions": ["us-east-1", "us-west-1"]},
    {"name": "gpu_1x_h100_pcie", "description": "1x H100 (80 GB PCIe)",
     "gpu_description": "H100 (80 GB PCIe)", "price_cents_per_hour": 249,
     "specs": {"vcpus": 26, "memory_gib": 200, "storage_gib": 1000, "gpus": 1},
     "regions": ["us-east-1", "us-west-3"]},
    {"name": "gpu_2x_h100_sxm5", "description": "2x H100 (80 GB SXM5)",
     "gpu_description": "H100 (80 GB SXM5)", "price_cents_per_hour": 598,
     "specs": {"vcpus": 52, "memory_gib": 450, "storage_gib": 5120, "gpus": 2},
     "regions": ["us-west-3", "us-south-1"]},
    {"name": "gpu_8x_h100_sxm5", "description": "8x H100 (80 GB SXM5)",
     "gpu_description": "H100 (80 GB SXM5)", "price_cents_per_hour": 2392,
     "specs": {"vcpus": 208, "memory_gib": 1800, "storage_gib": 24780, "gpus": 8},
     "regions": ["us-east-3"]},
    {"name": "gpu_1x_a100_sxm4", "description": "1x A100 (40 GB SXM4)",
     "gpu_description": "A100 (40 GB SXM4)", "price_cents_per_hour": 129,
     "specs": {"vcpus": 30, "memory_gib": 200, "storage_gib": 512, "gpus": 1},
     "regions": []},
]

# Error bodies: codes, default messages and suggestions as the reference documents them.
ERRORS = {
    "unauthorized": (401, "global/invalid-api-key", "API key was invalid, expired, or deleted.",
                     "Check your API key or create a new one, then try again."),
    "invalid": (400, "global/invalid-parameters", "Invalid request data.", None),
    "instance-not-found": (404, "global/object-does-not-exist",
                           "Specified instance does not exist.", None),
    "capacity": (400, "instance-operations/launch/insufficient-capacity",
                 "Not enough capacity to fulfill launch request.",
                 "Choose an instance type with more availability, or try again later."),
    "quota": (400, "global/quota-exceeded", "Quota exceeded.",
              "Contact Support to increase your quota."),
    "inactive": (403, "global/account-inactive", "Your account is inactive.",
                 "Make sure you have verified your email address and have a valid payment "
                 "method. Contact Support if problems continue."),
    "internal": (500, "global/internal-error", "An internal server error occurred.",
                 "Try again later. Contact Support if the problem persists."),
    "unavailable": (503, "provider/internal-unavailable", "Provider unavailable",
                    "Try again shortly"),
    # The reference documents the limits (1 request/s, one launch per 12 s) but no body
    # for a 429: this code is the fake's own choice (see README).
    "rate": (429, "global/rate-limited", "Too many requests.",
             "Wait for the time given in Retry-After, then try again."),
}

ACTIVE_STATES = ("booting", "active", "unhealthy", "terminating")


def now():
    return time.monotonic()


class ApiError(Exception):
    def __init__(self, kind, message=None, suggestion=None, status=None, code=None):
        st, cd, msg, sug = ERRORS[kind]
        self.status = status or st
        self.code = code or cd
        self.message = message or msg
        self.suggestion = suggestion if suggestion is not None else sug
        super().__init__(self.message)

    def body(self):
        err = {"code": self.code, "message": self.message}
        if self.suggestion is not None:
            err["suggestion"] = self.suggestion
        return {"error": err}


def invalid(message, suggestion=None):
    return ApiError("invalid", message=message, suggestion=suggestion)


def not_found(what):
    # ApiErrorLaunchResourceNotFound: message and suggestion are both required.
    return ApiError("instance-not-found", message=what + " was not found.",
                    suggestion="Check the name and try again.")


class Worker:
    def __init__(self, ip, port, keys_path):
        # keys_path None: a virtual worker, an address with no sshd behind it (benchmarks)
        self.ip = ip
        self.port = port
        self.keys_path = keys_path
        self.holder = None  # instance id


def parse_worker(text):
    # IP:PORT:AUTHORIZED_KEYS (the path may contain ':' only after the second one)
    parts = text.split(":", 2)
    if len(parts) != 3 or not parts[0] or not parts[1].isdigit() or not parts[2]:
        raise ValueError("--worker wants IP:PORT:AUTHORIZED_KEYS_PATH, got " + repr(text))
    return Worker(parts[0], int(parts[1]), parts[2])


class Fake:
    def __init__(self, args):
        self.lock = threading.RLock()
        self.api_keys = set(args.api_keys)
        self.ctl_token = args.ctl_token
        self.workers = args.workers
        self.boot_delay = args.boot_delay
        self.terminate_delay = args.terminate_delay
        self.terminated_linger = args.terminated_linger
        self.rate_limit = args.rate_limit
        self.rps = args.rps
        self.burst = args.burst
        self.launch_interval = args.launch_interval
        self.types = {}
        for t in args.types:
            t = dict(t)
            regions = t.pop("regions")
            self.types[t["name"]] = {"type": t, "regions": list(regions)}
        self.instances = {}  # id -> dict (internal record)
        self.order = []  # instance ids, launch order
        self.ssh_keys = {}  # id -> {id, name, public_key}
        self.faults = []
        self.log = []
        self.seq = 0
        self.buckets = {}  # api key -> [tokens, last refill]
        self.last_launch = {}  # api key -> monotonic time of the last accepted launch
        self.launches = 0

    # ---- state machine -------------------------------------------------------------

    def advance(self):
        """Moves every instance along booting -> active -> terminating -> terminated."""
        with self.lock:
            t = now()
            for iid in list(self.order):
                inst = self.instances[iid]
                st = inst["status"]
                if st == "booting" and not inst["boot_hang"] and t >= inst["active_at"]:
                    inst["status"] = "unhealthy" if inst["unhealthy_on_boot"] else "active"
                elif st == "terminating" and t >= inst["terminated_at"]:
                    inst["status"] = "terminated"
                    inst["gone_at"] = t + self.terminated_linger
                    self.release_worker(inst)
                elif st == "terminated" and t >= inst["gone_at"]:
                    inst["gone"] = True

    def visible(self, inst, listing):
        if inst.get("gone"):
            return False
        if inst["hidden_until"] and now() < inst["hidden_until"]:
            return not (listing or inst["hidden_by_id"])
        return True

    def release_worker(self, inst):
        w = inst["worker"]
        if w is not None and w.holder == inst["id"]:
            if w.keys_path:
                remove_key_line(w.keys_path, inst["key_line"])
            w.holder = None

    def instance_json(self, inst):
        st = inst["status"]
        tinfo = self.types[inst["type"]]["type"]
        out = {
            "id": inst["id"],
            "status": st,
            "ssh_key_names": list(inst["ssh_key_names"]),
            "file_system_names": list(inst["file_system_names"]),
            "region": {"name": inst["region"], "description": REGIONS[inst["region"]]},
            "instance_type": json.loads(json.dumps(tinfo)),
            "actions": {
                "migrate": {"available": False, "reason_code": "vm-has-not-launched"
                            if st == "booting" else "vm-is-too-old"},
                "rebuild": {"available": st == "active"},
                "restart": {"available": st in ("active", "unhealthy")},
                "cold_reboot": {"available": st in ("active", "unhealthy")},
                "terminate": {"available": st in ("booting", "active", "unhealthy")},
            },
            "tags": [dict(x) for x in inst["tags"]],
        }
        if inst["name"] is not None:
            out["name"] = inst["name"]
        # The address exists once the machine is up (a booting instance has none yet).
        if st in ("active", "unhealthy", "terminating") and inst["worker"] is not None:
            out["ip"] = inst["worker"].ip
            out["private_ip"] = inst["worker"].ip
            out["hostname"] = inst["hostname"] or inst["worker"].ip.replace(".", "-")
        for a in ("migrate", "rebuild", "restart", "cold_reboot", "terminate"):
            if out["actions"][a]["available"]:
                out["actions"][a].pop("reason_code", None)
            elif "reason_code" not in out["actions"][a]:
                out["actions"][a]["reason_code"] = (
                    "vm-is-terminating" if st in ("terminating", "terminated")
                    else "vm-has-not-launched")
        return out

    # ---- faults --------------------------------------------------------------------

    def take_fault(self, kinds, method, path, name=None, region=None, itype=None):
        """The first armed fault of one of KINDS matching this request, consumed once."""
        with self.lock:
            for f in self.faults:
                if f["kind"] not in kinds or f["left"] == 0:
                    continue
                if f.get("method") and f["method"] != method:
                    continue
                p = f.get("path")
                if p and not (path == p or (p.endswith("*") and path.startswith(p[:-1]))):
                    continue
                if f.get("region") and f["region"] != region:
                    continue
                if f.get("instance_type") and f["instance_type"] != itype:
                    continue
                if f.get("name_contains") and (name is None or f["name_contains"] not in name):
                    continue
                if f["left"] > 0:
                    f["left"] -= 1
                f["hits"] += 1
                return f
        return None

    def capacity_blocked(self, region, itype):
        with self.lock:
            for f in self.faults:
                if f["kind"] == "capacity" and f["left"] != 0 and f["region"] == region and (
                        not f.get("instance_type") or f["instance_type"] == itype):
                    if f["left"] > 0:
                        f["left"] -= 1
                    f["hits"] += 1
                    return True
        return False

    def unlisted(self, region, itype):
        for f in self.faults:
            if f["kind"] == "capacity" and f.get("unlist") and f["left"] != 0 and \
                    f["region"] == region and (not f.get("instance_type")
                                               or f["instance_type"] == itype):
                return True
        return False

    # ---- rate limits ---------------------------------------------------------------

    def rate_check(self, key, is_launch):
        """None, or the seconds to wait (a 429 answer)."""
        if not self.rate_limit:
            return None
        with self.lock:
            t = now()
            if is_launch:
                last = self.last_launch.get(key)
                if last is not None and t - last < self.launch_interval:
                    return self.launch_interval - (t - last)
            tokens, last = self.buckets.get(key, (float(self.burst), t))
            tokens = min(float(self.burst), tokens + (t - last) * self.rps)
            if tokens < 1.0:
                self.buckets[key] = (tokens, t)
                return (1.0 - tokens) / self.rps
            self.buckets[key] = (tokens - 1.0, t)
            return None

    # ---- API operations ------------------------------------------------------------

    def list_types(self):
        data = {}
        for name, t in self.types.items():
            regions = [{"name": r, "description": REGIONS[r]} for r in t["regions"]
                       if not self.unlisted(r, name)]
            data[name] = {"instance_type": json.loads(json.dumps(t["type"])),
                          "regions_with_capacity_available": regions}
        return data

    def launch(self, body, key, method, path):
        check_fields(body, {
            "region_name": str, "instance_type_name": str, "ssh_key_names": list,
            "file_system_names": list, "file_system_mounts": list, "hostname": str,
            "name": str, "image": dict, "user_data": str, "tags": list,
            "firewall_rulesets": list, "quantity": int,
        }, required=("region_name", "instance_type_name", "ssh_key_names"))
        region = body["region_name"]
        if region not in REGIONS:
            raise invalid("region_name: '%s' is not a valid region code." % short(region))
        names = body["ssh_key_names"]
        if len(names) != 1 or not isinstance(names[0], str):
            raise invalid("ssh_key_names: exactly one SSH key name must be specified.",
                          "Pass a list holding one SSH key name.")
        name = body.get("name")
        if name is not None and len(name) > 64:
            raise invalid("name: must be 64 characters or fewer.")
        if "quantity" in body and body["quantity"] != 1:
            # Older versions of the reference had quantity (default 1); 1.8.3 has none.
            raise invalid("quantity: only 1 is supported.")
        fs = body.get("file_system_names", [])
        if any(not isinstance(x, str) for x in fs):
            raise invalid("file_system_names: must be a list of strings.")
        if len(fs) > 1:
            raise invalid("file_system_names: at most one filesystem can be attached.")
        if body.get("file_system_mounts"):
            raise not_found("Filesystem")
        hostname = body.get("hostname")
        if hostname is not None and not re.fullmatch(r"[a-z0-9][0-9a-z-]{0,62}", hostname):
            raise invalid("hostname: must match ^[a-z0-9][0-9a-z-]{0,62}$.")
        if "user_data" in body and len(body["user_data"].encode()) > 1024 * 1024:
            raise invalid("user_data: cannot exceed 1MB.")
        image = body.get("image")
        if image is not None and not (
                (set(image) == {"id"} and isinstance(image["id"], str)) or
                (set(image) == {"family"} and isinstance(image["family"], str))):
            raise invalid("image: give either {\"id\": ...} or {\"family\": ...}.")
        tags = body.get("tags", [])
        for tg in tags:
            if not isinstance(tg, dict) or set(tg) != {"key", "value"} or \
                    not isinstance(tg["key"], str) or not isinstance(tg["value"], str) or \
                    not re.fullmatch(r"[a-z][a-z0-9-:]+", tg["key"]) or len(tg["key"]) > 55 \
                    or len(tg["value"]) > 128:
                raise invalid("tags: each tag is {\"key\": ..., \"value\": ...} "
                              "(key ^[a-z][a-z0-9-:]+$, at most 55; value at most 128).")
        if body.get("firewall_rulesets"):
            raise not_found("Firewall ruleset")
        with self.lock:
            itype = body["instance_type_name"]
            if itype not in self.types:
                raise not_found("Instance type '%s'" % short(itype))
            key_rec = next((k for k in self.ssh_keys.values() if k["name"] == names[0]), None)
            if key_rec is None:
                raise not_found("SSH key '%s'" % short(names[0]))
            if fs:
                raise not_found("Filesystem '%s'" % short(fs[0]))
            if region not in self.types[itype]["regions"] or self.unlisted(region, itype) \
                    or self.capacity_blocked(region, itype):
                raise ApiError("capacity")
            worker = next((w for w in self.workers if w.holder is None), None)
            if worker is None:
                raise ApiError("capacity", message="Not enough capacity to fulfill launch "
                               "request (every test worker is in use).")
            iid = uuid.uuid4().hex
            line = key_rec["public_key"].strip()
            if worker.keys_path:
                append_key_line(worker.keys_path, line)
            worker.holder = iid
            hang = self.take_fault(("boot_hang",), method, path, name, region, itype)
            sick = self.take_fault(("unhealthy",), method, path, name, region, itype)
            lag = self.take_fault(("list_lag",), method, path, name, region, itype)
            t = now()
            self.instances[iid] = {
                "id": iid, "name": name, "status": "booting", "type": itype,
                "region": region, "ssh_key_names": [names[0]], "file_system_names": [],
                "tags": tags, "hostname": hostname, "worker": worker, "key_line": line,
                "launched_at": t, "active_at": t + self.boot_delay, "terminated_at": None,
                "boot_hang": hang is not None, "unhealthy_on_boot": sick is not None,
                "hidden_until": t + lag["seconds"] if lag else None,
                "hidden_by_id": bool(lag and lag.get("by_id")), "gone": False,
                "launched_wall": time.time(),
            }
            self.order.append(iid)
            self.launches += 1
            self.last_launch[key] = t
            return {"instance_ids": [iid]}

    def find(self, iid):
        inst = self.instances.get(iid)
        if inst is None or not self.visible(inst, listing=False):
            raise ApiError("instance-not-found")
        return inst

    def terminate(self, body):
        check_fields(body, {"instance_ids": list}, required=("instance_ids",))
        ids = body["instance_ids"]
        if not ids or any(not isinstance(x, str) for x in ids):
            raise invalid("instance_ids: must be a non-empty list of instance IDs.")
        with self.lock:
            insts = [self.find(x) for x in ids]  # all or nothing
            t = now()
            for inst in insts:
                if inst["status"] in ("booting", "active", "unhealthy"):
                    inst["status"] = "terminating"
                    inst["terminated_at"] = t + self.terminate_delay
                    # the machine stops answering at once: its key leaves the worker now
                    w = inst["worker"]
                    if w is not None and w.holder == inst["id"] and w.keys_path:
                        remove_key_line(w.keys_path, inst["key_line"])
                        inst["key_line"] = None
            return {"terminated_instances": [self.instance_json(i) for i in insts]}

    def restart(self, body):
        check_fields(body, {"instance_ids": list}, required=("instance_ids",))
        ids = body["instance_ids"]
        if not ids or any(not isinstance(x, str) for x in ids):
            raise invalid("instance_ids: must be a non-empty list of instance IDs.")
        with self.lock:
            insts = [self.find(x) for x in ids]
            return {"restarted_instances": [self.instance_json(i) for i in insts]}

    def add_key(self, body):
        check_fields(body, {"name": str, "public_key": str}, required=("name",))
        name = body["name"]
        if not 1 <= len(name) <= 64:
            raise invalid("name: must be 1 to 64 characters.")
        with self.lock:
            if any(k["name"] == name for k in self.ssh_keys.values()):
                raise invalid("An SSH key named '%s' already exists." % short(name),
                              "Choose a different name.")
        generated = None
        if "public_key" in body:
            pub = body["public_key"]
            if not 1 <= len(pub) <= 4096 or not valid_public_key(pub):
                raise invalid("public_key: not a valid OpenSSH public key.")
        else:
            pub, generated = generate_key()
        with self.lock:
            if any(k["name"] == name for k in self.ssh_keys.values()):
                raise invalid("An SSH key named '%s' already exists." % short(name))
            kid = uuid.uuid4().hex
            rec = {"id": kid, "name": name, "public_key": pub.strip()}
            self.ssh_keys[kid] = rec
            out = dict(rec)
            if generated is not None:
                out["private_key"] = generated
            return out

    def delete_key(self, kid):
        with self.lock:
            if kid not in self.ssh_keys:
                # the reference documents only 400 invalid-parameters for this operation
                raise invalid("SSH key '%s' does not exist." % short(kid))
            del self.ssh_keys[kid]
            return {}


# ---- helpers --------------------------------------------------------------------------

def short(s, n=80):
    s = str(s)
    return s if len(s) <= n else s[:n] + "..."


def check_fields(body, types, required):
    if not isinstance(body, dict):
        raise invalid("The request body must be a JSON object.")
    for k in body:
        if k not in types:
            raise invalid("Unknown field '%s'." % short(k))
    for k in required:
        if k not in body:
            raise invalid("%s: field required." % k)
    for k, v in body.items():
        want = types[k]
        ok = isinstance(v, want) and not (want is int and isinstance(v, bool))
        if not ok:
            raise invalid("%s: must be %s." % (k, {str: "a string", list: "a list",
                                                   int: "an integer", dict: "an object"}[want]))


def valid_public_key(text):
    parts = text.strip().split()
    if len(parts) < 2 or "\n" in text.strip():
        return False
    if parts[0] not in ("ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
                        "ecdsa-sha2-nistp521", "sk-ssh-ed25519@openssh.com",
                        "sk-ecdsa-sha2-nistp256@openssh.com"):
        return False
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except ValueError:
        return False
    # the blob starts with the key type as an SSH string
    if len(blob) < 4:
        return False
    n = int.from_bytes(blob[:4], "big")
    return blob[4:4 + n] == parts[0].encode()


def generate_key():
    with tempfile.TemporaryDirectory(prefix="lambda-fake-key.") as d:
        path = os.path.join(d, "key")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "lambda-fake",
                        "-f", path], check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL)
        with open(path + ".pub") as f:
            pub = f.read().strip()
        with open(path) as f:
            priv = f.read()
    return pub, priv


def rewrite_keys(path, lines):
    """Replaces PATH's content, keeping its owner and mode (sshd reads it per login)."""
    st = os.stat(path)
    d = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".lambda-fake.", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write("".join(x + "\n" for x in lines))
        os.chmod(tmp, st.st_mode & 0o7777)
        try:
            os.chown(tmp, st.st_uid, st.st_gid)
        except PermissionError:
            pass
        os.rename(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_lines(path):
    with open(path) as f:
        return [x.rstrip("\n") for x in f if x.strip()]


def append_key_line(path, line):
    lines = read_lines(path)
    lines.append(line)
    rewrite_keys(path, lines)


def remove_key_line(path, line):
    if not line:
        return
    lines = read_lines(path)
    if line in lines:
        lines.remove(line)  # the one this instance added
        rewrite_keys(path, lines)


# ---- HTTP -----------------------------------------------------------------------------

def mask_headers(headers):
    out = {}
    for k, v in headers.items():
        lk = k.lower()
        if lk == "authorization":
            scheme = v.split(" ", 1)[0] if " " in v else ""
            out[k] = (scheme + " ***").strip()
        elif lk == "x-fake-control":
            out[k] = "***"
        else:
            out[k] = v
    return out


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "lambda-fake/1"
    fake = None  # set in main

    def log_message(self, fmt, *args):  # quiet: the request log is at /_fake/log
        pass

    def read_body(self):
        te = self.headers.get("Transfer-Encoding", "")
        if te.lower() == "chunked":
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

    def send_json(self, status, obj, extra=None, truncate=False):
        raw = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if truncate:
            self.wfile.write(raw[: max(1, len(raw) // 2)])
            self.wfile.flush()
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        self.wfile.write(raw)

    def do_GET(self):
        self.dispatch("GET")

    def do_POST(self):
        self.dispatch("POST")

    def do_DELETE(self):
        self.dispatch("DELETE")

    def do_PUT(self):
        self.dispatch("PUT")

    def do_PATCH(self):
        self.dispatch("PATCH")

    def do_HEAD(self):
        self.dispatch("HEAD")

    def dispatch(self, method):
        raw = self.read_body()
        url = urlsplit(self.path)
        path = url.path
        if path.startswith("/_fake/"):
            return self.control(method, path, url.query, raw)
        fake = self.fake
        fake.advance()
        with fake.lock:
            fake.seq += 1
            entry = {"seq": fake.seq, "time": time.time(), "method": method, "path": path,
                     "query": url.query, "headers": mask_headers(self.headers),
                     "body": raw.decode("utf-8", "replace"), "auth": "none"}
            try:
                entry["json"] = json.loads(raw) if raw else None
            except ValueError:
                entry["json"] = None
            fake.log.append(entry)
        status, obj, extra, trunc = 500, None, {}, False
        try:
            status, obj, extra, trunc = self.api(method, path, url.query, raw, entry)
        except ApiError as e:
            status, obj = e.status, e.body()
            if e.status == 429:
                extra = {"Retry-After": str(max(1, math.ceil(getattr(e, "retry", 1))))}
        entry["status"] = status
        entry["response"] = obj
        if method == "HEAD":
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_json(status, obj, extra, trunc)

    def authenticate(self, entry):
        fake = self.fake
        h = self.headers.get("Authorization")
        if h is None:
            raise ApiError("unauthorized")
        scheme, _, cred = h.partition(" ")
        cred = cred.strip()
        key = None
        if scheme == "Bearer":
            entry["auth"] = "bearer"
            key = cred
        elif scheme == "Basic":
            entry["auth"] = "basic"
            # securitySchemes: base64 of "KEY:" (curl -u KEY:), or the bare key
            try:
                dec = base64.b64decode(cred, validate=True).decode()
                key = dec[:-1] if dec.endswith(":") else None
            except ValueError:
                key = None
            if key not in fake.api_keys:
                key = cred
        else:
            entry["auth"] = "invalid"
        if key not in fake.api_keys:
            entry["auth"] += "-refused"
            raise ApiError("unauthorized")
        return key

    def api(self, method, path, query, raw, entry):
        fake = self.fake
        # injected faults that stand in for the whole service, before anything else
        f = fake.take_fault(("delay",), method, path)
        if f:
            entry["fault"] = "delay %d ms" % f["ms"]
            time.sleep(f["ms"] / 1000.0)
        f = fake.take_fault(("status",), method, path)
        if f and not f.get("after"):
            return self.fault_reply(f, entry)
        key = self.authenticate(entry)
        is_launch = method == "POST" and path == API + "/instance-operations/launch"
        wait = fake.rate_check(key, is_launch)
        if wait is not None:
            e = ApiError("rate")
            e.retry = wait
            entry["fault"] = "rate limit"
            raise e
        result = self.route(method, path, query, raw, key)
        if f:  # "after": the operation happened, but the answer is an error
            return self.fault_reply(f, entry)
        t = fake.take_fault(("truncate",), method, path)
        if t:
            entry["fault"] = "truncated"
            return 200, {"data": result}, {}, True
        return 200, {"data": result}, {}, False

    def fault_reply(self, f, entry):
        status = f["status"]
        # the documented body of that code (or of that status), the status as asked
        kind = next((k for k, v in ERRORS.items() if v[1] == f.get("code")), None) or {
            400: "invalid", 401: "unauthorized", 403: "inactive", 404: "instance-not-found",
            429: "rate", 503: "unavailable"}.get(status, "internal")
        e = ApiError(kind, status=status, code=f.get("code"), message=f.get("message"))
        extra = {}
        if status == 429 or f.get("retry_after") is not None:
            extra["Retry-After"] = str(f.get("retry_after", 1))
        entry["fault"] = "status %d%s" % (status, " after" if f.get("after") else "")
        return status, e.body(), extra, False

    def json_body(self, raw):
        ctype = self.headers.get("Content-Type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            raise invalid("Content-Type must be application/json.")
        try:
            return json.loads(raw.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise invalid("The request body is not valid JSON.")

    def route(self, method, path, query, raw, key):
        fake = self.fake
        q = parse_qs(query, keep_blank_values=True)

        def no_query(allowed=()):
            for k in q:
                if k not in allowed:
                    raise invalid("Unknown query parameter '%s'." % short(k))

        def allow(*methods):
            if method not in methods:
                raise ApiError("invalid", status=405,
                               message="Method %s is not allowed on %s." % (method, path))

        def no_body():
            if raw:
                raise invalid("This operation takes no request body.")

        if path == API + "/instance-types":
            allow("GET"), no_query(), no_body()
            with fake.lock:
                return fake.list_types()
        if path == API + "/instances":
            allow("GET"), no_query(("cluster_id",)), no_body()
            with fake.lock:
                return [fake.instance_json(fake.instances[i]) for i in fake.order
                        if fake.visible(fake.instances[i], listing=True)
                        and not ("cluster_id" in q)]
        m = re.fullmatch(re.escape(API) + r"/instances/([^/]+)", path)
        if m:
            allow("GET", "POST"), no_query()
            with fake.lock:
                inst = fake.find(m.group(1))
                if method == "POST":
                    body = self.json_body(raw)
                    check_fields(body, {"name": str}, required=())
                    if "name" in body:
                        if len(body["name"]) > 64:
                            raise invalid("name: must be 64 characters or fewer.")
                        inst["name"] = body["name"]
                else:
                    no_body()
                return fake.instance_json(inst)
        if path == API + "/instance-operations/launch":
            allow("POST"), no_query()
            return fake.launch(self.json_body(raw), key, method, path)
        if path == API + "/instance-operations/terminate":
            allow("POST"), no_query()
            return fake.terminate(self.json_body(raw))
        if path == API + "/instance-operations/restart":
            allow("POST"), no_query()
            return fake.restart(self.json_body(raw))
        if path == API + "/ssh-keys":
            allow("GET", "POST"), no_query()
            if method == "GET":
                no_body()
                with fake.lock:
                    return [dict(k) for k in fake.ssh_keys.values()]
            return fake.add_key(self.json_body(raw))
        m = re.fullmatch(re.escape(API) + r"/ssh-keys/([^/]+)", path)
        if m:
            allow("DELETE"), no_query(), no_body()
            return fake.delete_key(m.group(1))
        if path == API + "/file-systems":
            allow("GET"), no_query(), no_body()
            return []
        raise ApiError("instance-not-found", code="global/not-found",
                       message="No such endpoint: %s %s" % (method, short(path)),
                       suggestion="This fake implements instances, instance-types, "
                       "instance-operations, ssh-keys and file-systems (tests/fakes/README.md).")

    # ---- control API -------------------------------------------------------------

    def control(self, method, path, query, raw):
        fake = self.fake
        tok = self.headers.get("X-Fake-Control")
        h = self.headers.get("Authorization", "")
        if tok is None and h.startswith("Bearer "):
            tok = h[7:].strip()
        if tok != fake.ctl_token:
            return self.send_json(401, {"error": {"code": "fake/control-token",
                                                  "message": "control token required"}})
        fake.advance()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            return self.send_json(400, {"error": {"code": "fake/bad-json",
                                                  "message": "body is not JSON"}})
        try:
            out = self.control_route(method, path, query, body)
        except (KeyError, TypeError, ValueError) as e:
            return self.send_json(400, {"error": {"code": "fake/bad-request",
                                                  "message": str(e)}})
        if out is None:
            return self.send_json(404, {"error": {"code": "fake/not-found",
                                                  "message": method + " " + path}})
        return self.send_json(200, out)

    def control_route(self, method, path, query, body):
        fake = self.fake
        q = parse_qs(query)
        if path == "/_fake/log" and method == "GET":
            since = int(q.get("since", ["0"])[0])
            with fake.lock:
                return {"data": [e for e in fake.log if e["seq"] > since]}
        if path == "/_fake/log" and method == "DELETE":
            with fake.lock:
                fake.log.clear()
            return {"data": {}}
        if path == "/_fake/faults" and method == "GET":
            with fake.lock:
                return {"data": [dict(f) for f in fake.faults]}
        if path == "/_fake/faults" and method == "DELETE":
            with fake.lock:
                fake.faults.clear()
            return {"data": {}}
        if path == "/_fake/faults" and method == "POST":
            items = body if isinstance(body, list) else [body]
            added = [make_fault(x) for x in items]
            with fake.lock:
                fake.faults.extend(added)
                for f in added:
                    if f["kind"] == "unhealthy" and f.get("instance_id"):
                        inst = fake.instances[f["instance_id"]]
                        if inst["status"] in ("booting", "active"):
                            if inst["status"] == "booting":
                                inst["unhealthy_on_boot"] = True
                            else:
                                inst["status"] = "unhealthy"
                        f["left"] = 0
                        f["hits"] = 1
            return {"data": added}
        if path == "/_fake/state" and method == "GET":
            with fake.lock:
                return {"data": self.state()}
        if path == "/_fake/config" and method == "POST":
            if not isinstance(body, dict):
                raise ValueError("config wants a JSON object")
            with fake.lock:
                for k, v in body.items():
                    if k not in ("boot_delay", "terminate_delay", "terminated_linger",
                                 "rate_limit", "rps", "burst", "launch_interval"):
                        raise ValueError("unknown config key " + k)
                    setattr(fake, k, bool(v) if k == "rate_limit" else float(v))
                if "rate_limit" in body:  # a fresh start: earlier requests do not count
                    fake.buckets.clear()
                    fake.last_launch.clear()
            return {"data": body}
        m = re.fullmatch(r"/_fake/instances/([^/]+)/status", path)
        if m and method == "POST":
            st = body["status"]
            if st not in ("active", "unhealthy", "preempted"):
                raise ValueError("status must be active, unhealthy or preempted")
            with fake.lock:
                inst = fake.instances[m.group(1)]
                inst["status"] = st
                inst["boot_hang"] = False
                if st == "preempted":
                    fake.release_worker(inst)
            return {"data": {"id": inst["id"], "status": st}}
        return None

    def state(self):
        fake = self.fake
        insts = []
        for iid in fake.order:
            inst = fake.instances[iid]
            j = fake.instance_json(inst)
            j["_fake"] = {"gone": inst["gone"], "listed": fake.visible(inst, listing=True),
                          "worker_ip": inst["worker"].ip if inst["worker"] else None,
                          "worker_port": inst["worker"].port if inst["worker"] else None,
                          "launched_at": inst["launched_wall"]}
            insts.append(j)
        return {
            "instances": insts,
            "workers": [{"ip": w.ip, "port": w.port, "authorized_keys": w.keys_path,
                         "holder": w.holder} for w in fake.workers],
            "ssh_keys": [dict(k) for k in fake.ssh_keys.values()],
            "launches": fake.launches,
            "requests": fake.seq,
        }


FAULT_KINDS = {
    # kind: allowed keys (besides kind and count)
    "status": {"status", "code", "message", "retry_after", "path", "method", "after"},
    "delay": {"ms", "path", "method"},
    "truncate": {"path", "method"},
    "capacity": {"region", "instance_type", "unlist"},
    "unhealthy": {"instance_id", "name_contains", "region", "instance_type"},
    "boot_hang": {"name_contains", "region", "instance_type"},
    "list_lag": {"seconds", "by_id", "name_contains", "region", "instance_type"},
}


def make_fault(x):
    if not isinstance(x, dict) or x.get("kind") not in FAULT_KINDS:
        raise ValueError("a fault is {\"kind\": one of %s, ...}" % sorted(FAULT_KINDS))
    kind = x["kind"]
    for k in x:
        if k not in FAULT_KINDS[kind] | {"kind", "count"}:
            raise ValueError("fault %s takes no key %s" % (kind, k))
    count = x.get("count", -1 if kind == "capacity" else 1)
    if not isinstance(count, int) or isinstance(count, bool) or count == 0 or count < -1:
        raise ValueError("count must be a positive integer, or -1 for always")
    f = dict(x)
    f["left"] = count
    f["hits"] = 0
    if kind == "status":
        if not isinstance(x.get("status"), int) or not 400 <= x["status"] <= 599:
            raise ValueError("status wants an HTTP status 400..599")
    if kind == "delay" and not isinstance(x.get("ms"), (int, float)):
        raise ValueError("delay wants ms")
    if kind == "capacity" and x.get("region") not in REGIONS:
        raise ValueError("capacity wants a region code")
    if kind == "list_lag" and not isinstance(x.get("seconds"), (int, float)):
        raise ValueError("list_lag wants seconds")
    return f


def read_secret(value, path, what):
    if path:
        with open(path) as f:
            return f.read().strip()
    if value:
        return value
    raise SystemExit("lambda_fake: %s is required" % what)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1", help="loopback address (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=0, help="0: any free port (printed)")
    ap.add_argument("--api-key", help="the accepted API key (prefer --api-key-file)")
    ap.add_argument("--api-key-file", help="file holding the accepted API key")
    ap.add_argument("--ctl-token", help="token of the /_fake/ control API")
    ap.add_argument("--ctl-token-file", help="file holding the control token")
    ap.add_argument("--worker", action="append", default=[],
                    help="IP:PORT:AUTHORIZED_KEYS_PATH of one sshd worker (repeat)")
    ap.add_argument("--workers-json", help='file: [{"ip":..,"port":..,"authorized_keys":..}]')
    ap.add_argument("--virtual-workers", type=int, default=0,
                    help="N more addresses (127.0.1.1..) with no sshd behind them: "
                    "API-only tests and benchmarks")
    ap.add_argument("--instance-types", help="JSON file replacing the default catalogue")
    ap.add_argument("--boot-delay", type=float, default=1.0, help="seconds booting (1)")
    ap.add_argument("--terminate-delay", type=float, default=0.5,
                    help="seconds terminating (0.5)")
    ap.add_argument("--terminated-linger", type=float, default=2.0,
                    help="seconds a terminated instance stays listed (2)")
    ap.add_argument("--rate-limit", action="store_true",
                    help="answer 429 beyond --rps per key and one launch per --launch-interval")
    ap.add_argument("--rps", type=float, default=1.0)
    ap.add_argument("--burst", type=float, default=1.0)
    ap.add_argument("--launch-interval", type=float, default=12.0)
    ap.add_argument("--pid-file")
    args = ap.parse_args()

    if args.listen not in ("127.0.0.1", "::1") and not args.listen.startswith("127."):
        raise SystemExit("lambda_fake: listens on loopback only")
    args.api_keys = [read_secret(args.api_key, args.api_key_file, "--api-key(-file)")]
    args.ctl_token = read_secret(args.ctl_token, args.ctl_token_file, "--ctl-token(-file)")
    if args.ctl_token in args.api_keys:
        raise SystemExit("lambda_fake: the control token must differ from the API key")
    workers = [parse_worker(w) for w in args.worker]
    if args.workers_json:
        with open(args.workers_json) as f:
            for w in json.load(f):
                workers.append(Worker(w["ip"], int(w["port"]), w["authorized_keys"]))
    for i in range(args.virtual_workers):
        workers.append(Worker("127.0.%d.%d" % (1 + i // 254, 1 + i % 254), 22, None))
    for w in workers:
        if w.keys_path and not os.path.isfile(w.keys_path):
            raise SystemExit("lambda_fake: no authorized_keys file " + w.keys_path)
    ports = {w.port for w in workers if w.keys_path}
    if len(ports) > 1:
        print("lambda_fake: warning: workers listen on several ports %s; Gantry's provider "
              "has one ssh_port" % sorted(ports), file=sys.stderr)
    args.workers = workers
    types = DEFAULT_TYPES
    if args.instance_types:
        with open(args.instance_types) as f:
            types = json.load(f)
    for t in types:
        for r in t["regions"]:
            if r not in REGIONS:
                raise SystemExit("lambda_fake: unknown region " + r)
    args.types = types

    fake = Fake(args)
    Handler.fake = fake
    ThreadingHTTPServer.request_queue_size = 256  # concurrent launches: no SYN drops
    server = ThreadingHTTPServer((args.listen, args.port), Handler)
    server.daemon_threads = True

    def ticker():
        while True:
            time.sleep(0.05)
            try:
                fake.advance()
            except Exception as e:  # keep ticking; a test sees the error in the log
                print("lambda_fake: advance: %r" % e, file=sys.stderr)

    threading.Thread(target=ticker, daemon=True).start()

    def stop(signum, frame):
        # leave the workers as they were: remove the keys this fake installed
        with fake.lock:
            for inst in fake.instances.values():
                fake.release_worker(inst)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write("%d\n" % os.getpid())
    print("PORT %d" % server.server_address[1], flush=True)
    server.serve_forever(poll_interval=0.1)
    server.server_close()


if __name__ == "__main__":
    main()
