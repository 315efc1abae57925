#!/usr/bin/env python3
"""A fake Kubernetes API server for meshtrust's tests (Python standard library only).

It serves the subset of the API that ../../shared/design/kube-api.md describes, over HTTPS, for
several clusters at once (each under its own path prefix, one possibly at "/"), with bearer-token
and client-certificate authentication, resourceVersion semantics, Status errors, discovery good
enough for real kubectl, and faults injected through /_control/. See README.md for the details.

usage: fake_kube.py --cert SERVER.pem --key SERVER.key [--client-ca CA.pem] [--config CLUSTERS.json]
                    [--host 127.0.0.1] [--port 0] [--verbose]
Prints the bound port on stdout as its first line, then serves until killed.
"""
import argparse
import base64
import binascii
import collections
import copy
import datetime
import http.server
import json
import re
import socket
import ssl
import sys
import threading
import time
import urllib.parse
import uuid

MAX_BODY = 3 * 1024 * 1024      # the API server's request body limit (413 beyond)
MAX_DATA = 1024 * 1024          # decoded Secret/ConfigMap data limit (422 beyond)
DEFAULT_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"]
KEY_RE = re.compile(r"^[-._a-zA-Z0-9]+$")
SUBDOMAIN_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REASONS = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
           405: "MethodNotAllowed", 406: "NotAcceptable", 409: "Conflict", 410: "Expired",
           413: "RequestEntityTooLarge", 415: "UnsupportedMediaType", 422: "Invalid",
           429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable", 504: "Timeout"}
KINDS = {"secrets": "Secret", "configmaps": "ConfigMap"}
OBJECT_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def now_rfc3339():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ApiFailure(Exception):
    """An error answered as a Status object."""

    def __init__(self, code, message, reason=None, details=None, headers=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or REASONS.get(code, "Unknown")
        self.details = details
        self.headers = headers or {}

    def status(self):
        s = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
             "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            s["details"] = self.details
        return s


def not_found(resource, name):
    return ApiFailure(404, f'{resource} "{name}" not found', details={"name": name, "kind": resource})


def invalid(kind, name, field, detail, value=None):
    msg = f'{kind} "{name}" is invalid: {field}: {detail}'
    cause = {"reason": "FieldValueInvalid", "message": detail, "field": field}
    return ApiFailure(422, msg, details={"name": name, "kind": kind, "causes": [cause]})


# ---------------------------------------------------------------------------------------------
# Discovery documents: legacy (APIVersions / APIGroupList / APIResourceList) and aggregated
# (apidiscovery.k8s.io v2 and v2beta1), which kubectl 1.32 asks for first.

CORE_RESOURCES = [
    # (resource, singular, kind, namespaced, verbs, shortNames)
    ("configmaps", "configmap", "ConfigMap", True, OBJECT_VERBS, ["cm"]),
    ("namespaces", "namespace", "Namespace", False, ["create", "delete", "get", "list", "patch", "update", "watch"], ["ns"]),
    ("secrets", "secret", "Secret", True, OBJECT_VERBS, []),
]
AUTHZ_GROUP = "authorization.k8s.io"
AUTHZ_RESOURCES = [("selfsubjectaccessreviews", "selfsubjectaccessreview", "SelfSubjectAccessReview", False, ["create"], [])]


def legacy_resource_list(group_version, resources):
    out = []
    for name, singular, kind, namespaced, verbs, short in resources:
        r = {"name": name, "singularName": singular, "namespaced": namespaced, "kind": kind, "verbs": verbs}
        if short:
            r["shortNames"] = short
        out.append(r)
    return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": group_version, "resources": out}


def aggregated(version, group, resources):
    res = []
    for name, singular, kind, namespaced, verbs, short in resources:
        r = {"resource": name, "responseKind": {"group": group, "version": "v1", "kind": kind},
             "scope": "Namespaced" if namespaced else "Cluster", "singularResource": singular, "verbs": verbs}
        if short:
            r["shortNames"] = short
        res.append(r)
    meta = {"creationTimestamp": None}
    if group:
        meta["name"] = group
    return {"kind": "APIGroupDiscoveryList", "apiVersion": f"apidiscovery.k8s.io/{version}", "metadata": {},
            "items": [{"metadata": meta, "versions": [{"version": "v1", "resources": res, "freshness": "Current"}]}]}


def discovery_choice(accept):
    """Which discovery form the Accept header asks for first: 'v2', 'v2beta1' or 'legacy'."""
    for item in (accept or "application/json").split(","):
        parts = [p.strip() for p in item.split(";")]
        mtype = parts[0].lower()
        params = dict(p.split("=", 1) for p in parts[1:] if "=" in p)
        if mtype == "application/json" and params.get("g") == "apidiscovery.k8s.io" \
                and params.get("as") == "APIGroupDiscoveryList":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
            continue
        if mtype in ("application/json", "*/*", "application/*") and "as" not in params:
            return "legacy"
    return "legacy"


# ---------------------------------------------------------------------------------------------
# One fake cluster: its identities, access rules and objects.

class Cluster:
    def __init__(self, spec):
        self.name = spec["name"]
        prefix = spec.get("prefix", "/clusters/" + self.name).rstrip("/")
        self.prefix = prefix  # "" is the cluster at "/"
        self.tokens = dict(spec.get("tokens", {}))          # bearer token -> user
        self.cert_users = dict(spec.get("cert_users", {}))  # client certificate CN -> user
        self.deny = list(spec.get("deny", []))              # [{user, verbs, resources, namespaces}]
        self.version = {"major": "1", "minor": "32", "gitVersion": "v1.32.4", "gitCommit": "fake",
                        "gitTreeState": "clean", "buildDate": "2025-04-22T00:00:00Z", "goVersion": "go1.23.8",
                        "compiler": "gc", "platform": "linux/amd64"}
        self.version.update(spec.get("version", {}))
        self.initial_namespaces = DEFAULT_NAMESPACES + list(spec.get("namespaces", []))
        self.reset()

    def reset(self):
        self.rv = 1
        self.namespaces = {}
        self.objects = {}  # (resource, namespace, name) -> stored object
        for ns in self.initial_namespaces:
            self.namespaces[ns] = self.new_namespace(ns)

    def next_rv(self):
        self.rv += 1
        return str(self.rv)

    def new_namespace(self, name):
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": name, "uid": str(uuid.uuid4()), "resourceVersion": self.next_rv(),
                             "creationTimestamp": now_rfc3339(), "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def denied(self, user, verb, resource, namespace):
        for rule in self.deny:
            if rule.get("user", "*") not in ("*", user):
                continue
            if not set(rule.get("verbs", ["*"])) & {"*", verb}:
                continue
            if not set(rule.get("resources", ["*"])) & {"*", resource}:
                continue
            if namespace is not None and not set(rule.get("namespaces", ["*"])) & {"*", namespace}:
                continue
            return True
        return False


class Fault:
    def __init__(self, spec, fid):
        self.id = fid
        self.cluster = spec.get("cluster")
        self.method = (spec.get("method") or "").upper() or None
        self.path = spec.get("path")
        self.path_regex = re.compile(spec["path_regex"]) if spec.get("path_regex") else None
        self.remaining = int(spec.get("count", 1))
        self.status = spec.get("status")
        self.reason = spec.get("reason")
        self.message = spec.get("message")
        self.retry_after = spec.get("retry_after")
        self.delay = float(spec.get("delay", 0))
        self.drop = bool(spec.get("drop", False))
        self.bump = bool(spec.get("bump", False))

    def matches(self, cluster, method, path):
        if self.remaining <= 0:
            return False
        if self.cluster is not None and self.cluster != cluster:
            return False
        if self.method is not None and self.method != method:
            return False
        if self.path is not None and self.path != path:
            return False
        if self.path_regex is not None and not self.path_regex.search(path):
            return False
        return True

    def describe(self):
        parts = []
        if self.delay:
            parts.append(f"delay {self.delay}s")
        if self.bump:
            parts.append("bump")
        if self.drop:
            parts.append("drop")
        if self.status:
            parts.append(str(self.status))
        return " ".join(parts) or "none"


class State:
    """Everything shared between handler threads, behind one lock."""

    def __init__(self):
        self.lock = threading.RLock()
        self.clusters = {}          # name -> Cluster
        self.by_prefix = {}         # prefix ("" for the cluster at "/") -> Cluster
        self.faults = []
        self.fault_seq = 0
        self.log = collections.deque(maxlen=200000)
        self.log_seq = 0

    def add_cluster(self, spec):
        c = Cluster(spec)
        with self.lock:
            for other in list(self.clusters.values()):
                if other.prefix == c.prefix and other.name != c.name:
                    raise ValueError(f"prefix {c.prefix or '/'} is already used by cluster {other.name}")
            old = self.clusters.get(c.name)
            if old is not None:
                self.by_prefix.pop(old.prefix, None)
            self.clusters[c.name] = c
            self.by_prefix[c.prefix] = c
        return c

    def route(self, path):
        """The cluster whose prefix is the longest match for path, and the path under it. Looks
        up each "/"-boundary prefix of the path, longest first: cheap with thousands of clusters."""
        cut = len(path)
        while True:
            c = self.by_prefix.get(path[:cut])
            if c is not None:
                return c, path[cut:] or "/"
            if cut == 0:
                return None, path
            cut = path.rfind("/", 0, cut)
            if cut < 0:
                cut = 0

    def take_fault(self, cluster, method, path):
        with self.lock:
            for f in self.faults:
                if f.matches(cluster, method, path):
                    f.remaining -= 1
                    return f
        return None


STATE = State()


# ---------------------------------------------------------------------------------------------
# Object semantics: validation, create, replace, patch.

def decode_b64(value, kind, name, field):
    if not isinstance(value, str):
        raise ApiFailure(400, f"{kind} in version \"v1\" cannot be handled as a {kind}: {field}: expected a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ApiFailure(400, f"{kind} in version \"v1\" cannot be handled as a {kind}: illegal base64 data in {field}")


def check_string_map(m, kind, name, field):
    if m is None:
        return {}
    if not isinstance(m, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in m.items()):
        raise ApiFailure(400, f"{kind} in version \"v1\" cannot be handled as a {kind}: {field} must map strings to strings")
    return m


def normalise(resource, body, url_ns, url_name=None):
    """Validates a Secret or ConfigMap from a request and returns (name, clean object without
    server fields). stringData is merged into data here and never stored."""
    kind = KINDS[resource]
    if not isinstance(body, dict):
        raise ApiFailure(400, f"the body of the request is not a {kind} object")
    if body.get("kind") not in (None, kind) or body.get("apiVersion") not in (None, "v1"):
        raise ApiFailure(400, f"the API version in the data ({body.get('apiVersion')}) or kind ({body.get('kind')}) "
                              f"does not match the expected v1 {kind}")
    meta = body.get("metadata") or {}
    if not isinstance(meta, dict):
        raise ApiFailure(400, "metadata must be an object")
    name = meta.get("name") or ""
    if url_name is not None and name and name != url_name:
        raise ApiFailure(400, f"the name of the object ({name}) does not match the name on the URL ({url_name})")
    name = name or (url_name or "")
    if not name:
        raise invalid(kind, "", "metadata.name", "Required value: name or generateName is required")
    if len(name) > 253 or not SUBDOMAIN_RE.match(name):
        raise invalid(kind, name, "metadata.name", f'Invalid value: "{name}": a lowercase RFC 1123 subdomain '
                                                   "must consist of lower case alphanumeric characters, '-' or '.'")
    if meta.get("namespace") not in (None, "", url_ns):
        raise ApiFailure(400, "the namespace of the provided object does not match the namespace sent on the request")
    labels = check_string_map(meta.get("labels"), kind, name, "metadata.labels")
    annotations = check_string_map(meta.get("annotations"), kind, name, "metadata.annotations")

    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": url_ns}}
    if labels:
        obj["metadata"]["labels"] = dict(labels)
    if annotations:
        obj["metadata"]["annotations"] = dict(annotations)
    if meta.get("resourceVersion"):
        obj["metadata"]["resourceVersion"] = str(meta["resourceVersion"])

    size = 0
    if resource == "secrets":
        data = {}
        raw = body.get("data") or {}
        if not isinstance(raw, dict):
            raise ApiFailure(400, "Secret in version \"v1\" cannot be handled as a Secret: data must be an object")
        for k, v in raw.items():
            data[k] = decode_b64(v, kind, name, f"data[{k}]")
        for k, v in check_string_map(body.get("stringData"), kind, name, "stringData").items():
            data[k] = v.encode()
        for k, v in data.items():
            if not KEY_RE.match(k):
                raise invalid(kind, name, f"data[{k}]", f'Invalid value: "{k}": a valid config key must consist of '
                                                        "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                                                        "'KEY_NAME',  or 'key-name', regex used for validation is "
                                                        "'[-._a-zA-Z0-9]+')")
            size += len(v)
        if data:
            obj["data"] = {k: base64.b64encode(v).decode() for k, v in data.items()}
        secret_type = body.get("type") or "Opaque"
        if not isinstance(secret_type, str):
            raise ApiFailure(400, "Secret in version \"v1\" cannot be handled as a Secret: type must be a string")
        obj["type"] = secret_type
    else:
        data = check_string_map(body.get("data"), kind, name, "data")
        binary = body.get("binaryData") or {}
        if not isinstance(binary, dict):
            raise ApiFailure(400, "ConfigMap in version \"v1\" cannot be handled as a ConfigMap: binaryData must be an object")
        for k in list(data) + list(binary):
            if not KEY_RE.match(k):
                raise invalid(kind, name, f"data[{k}]", f'Invalid value: "{k}": a valid config key must consist of '
                                                        "alphanumeric characters, '-', '_' or '.'")
        size += sum(len(v.encode()) for v in data.values())
        size += sum(len(decode_b64(v, kind, name, f"binaryData[{k}]")) for k, v in binary.items())
        if data:
            obj["data"] = dict(data)
        if binary:
            obj["binaryData"] = dict(binary)
    if size > MAX_DATA:
        raise invalid(kind, name, "data", f"Too long: must have at most {MAX_DATA} bytes")
    if "immutable" in body and body["immutable"] is not None:
        if not isinstance(body["immutable"], bool):
            raise ApiFailure(400, f"{kind} in version \"v1\" cannot be handled as a {kind}: immutable must be a boolean")
        obj["immutable"] = body["immutable"]
    return name, obj


def check_update(resource, old, new):
    kind = KINDS[resource]
    name = new["metadata"]["name"]
    if resource == "secrets" and new.get("type") != old.get("type"):
        raise invalid(kind, name, "type", f'Invalid value: "{new.get("type")}": field is immutable')
    if old.get("immutable"):
        same = all(new.get(f) == old.get(f) for f in ("data", "binaryData")) and new.get("immutable") is True
        if not same:
            raise ApiFailure(422, f'{kind} "{name}" is invalid: data: Forbidden: field is immutable when '
                                  "`immutable` is set", details={"name": name, "kind": kind})


def stamp(cluster, obj, old=None):
    meta = obj["metadata"]
    meta.pop("resourceVersion", None)
    meta["uid"] = old["metadata"]["uid"] if old else str(uuid.uuid4())
    meta["creationTimestamp"] = old["metadata"]["creationTimestamp"] if old else now_rfc3339()
    meta["resourceVersion"] = cluster.next_rv()
    return obj


def merge_patch(target, patch):
    """RFC 7386 JSON merge patch (also what a strategic merge patch means for a Secret)."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge_patch(out.get(k), v)
    return out


def for_output(obj):
    return copy.deepcopy(obj)


# ---------------------------------------------------------------------------------------------
# HTTP

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fake-kube/1.32"
    timeout = 60  # idle keep-alive connections are closed after this many seconds

    def log_message(self, fmt, *args):
        if self.server.verbose:
            sys.stderr.write("fake_kube: " + (fmt % args) + "\n")

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass

    # Every verb goes through one function.
    def do_GET(self):
        self.handle_any()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def send_json(self, code, obj, headers=None, content_type="application/json"):
        body = json.dumps(obj, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache, private")
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers_with(body if self.command != "HEAD" else b"")
        self.status_sent = code

    def end_headers_with(self, body):
        # Headers and body in one write: two small writes on one connection meet Nagle and
        # delayed ACKs and cost 40 ms per answer.
        self._headers_buffer.append(b"\r\n" + body)
        self.flush_headers()

    def send_text(self, code, text):
        body = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers_with(body)
        self.status_sent = code

    def drop(self):
        """Closes the connection without an answer, as a crashed or partitioned server would."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.status_sent = 0

    def read_body(self):
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks, total = [], 0
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                total += size
                chunk = self.rfile.read(size)
                self.rfile.readline()
                if total <= MAX_BODY:
                    chunks.append(chunk)
            return b"".join(chunks), total
        length = int(self.headers.get("Content-Length") or 0)
        # Read it all even when too large, so that the client reads our 413 instead of a reset.
        data, left = [], length
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            left -= len(chunk)
            if length <= MAX_BODY:
                data.append(chunk)
        return b"".join(data), length

    def identify(self, cluster):
        auth = self.headers.get("Authorization") or ""
        if auth.lower().startswith("bearer "):
            user = cluster.tokens.get(auth[7:].strip())
            if user:
                return user
            return None  # a presented but unknown token is a 401 even with a certificate
        cert = self.connection.getpeercert() if hasattr(self.connection, "getpeercert") else None
        if cert:
            cn = None
            for rdn in cert.get("subject", ()):
                for k, v in rdn:
                    if k == "commonName":
                        cn = v
            if cn is not None and cn in cluster.cert_users:
                return cluster.cert_users[cn]
        return None

    def handle_any(self):
        self.status_sent = None
        url = urllib.parse.urlsplit(self.path)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query)
        try:
            body, length = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        if path.startswith("/_control/") or path == "/_control":
            return self.control(path, query, body)

        with STATE.lock:
            cluster, rest = STATE.route(path)
        if cluster is None:
            return self.send_json(404, ApiFailure(404, "the server could not find the requested resource").status())
        entry = {"cluster": cluster.name, "method": self.command, "path": rest, "query": url.query,
                 "user": None, "status": None, "fault": None, "time": time.time()}
        with STATE.lock:
            STATE.log_seq += 1
            entry["seq"] = STATE.log_seq
            STATE.log.append(entry)
        try:
            fault = STATE.take_fault(cluster.name, self.command, rest)
            if fault is not None:
                entry["fault"] = fault.describe()
                if fault.delay:
                    time.sleep(fault.delay)
                if fault.drop:
                    return self.drop()
                if fault.bump:
                    self.bump(cluster, rest)
                if fault.status:
                    code = int(fault.status)
                    headers = {}
                    details = None
                    if fault.retry_after is not None:
                        headers["Retry-After"] = fault.retry_after
                        details = {"retryAfterSeconds": int(fault.retry_after)}
                    raise ApiFailure(code, fault.message or f"injected fault {code}", reason=fault.reason,
                                     details=details, headers=headers)
            if length > MAX_BODY:
                raise ApiFailure(413, f"Request entity too large: limit is {MAX_BODY}")
            if rest in ("/healthz", "/livez", "/readyz"):
                return self.send_text(200, "ok")
            if rest == "/version" and self.command == "GET":
                return self.send_json(200, cluster.version)
            user = self.identify(cluster)
            entry["user"] = user
            if user is None:
                raise ApiFailure(401, "Unauthorized")
            if body and "protobuf" in (self.headers.get("Content-Type") or ""):
                # kubectl sends protobuf for `create secret generic` and `auth can-i`; the fake
                # speaks JSON only (kube-api.md: use `apply -f`/`replace -f` to write with kubectl).
                raise ApiFailure(415, "the fake API server accepts JSON bodies only, not protobuf")
            self.api(cluster, user, rest, query, body)
        except ApiFailure as e:
            try:
                self.send_json(e.code, e.status(), headers=e.headers)
            except OSError:
                self.close_connection = True
        except OSError:
            # The client went away (it timed out on a delayed answer): nothing to answer.
            self.close_connection = True
        except Exception as e:  # a bug in the fake: answer 500 rather than hang the client
            sys.stderr.write(f"fake_kube: internal error: {e!r}\n")
            self.send_json(500, ApiFailure(500, f"fake internal error: {e}").status())
        finally:
            entry["status"] = self.status_sent

    def bump(self, cluster, rest):
        """A concurrent writer: the object named by the path gets a new resourceVersion."""
        m = re.match(r"^/api/v1/namespaces/([^/]+)/(secrets|configmaps)/([^/]+)$", rest)
        if not m:
            return
        with STATE.lock:
            obj = cluster.objects.get((m.group(2), m.group(1), m.group(3)))
            if obj is not None:
                obj["metadata"]["resourceVersion"] = cluster.next_rv()

    # -- the API proper ------------------------------------------------------------------------

    def api(self, cluster, user, path, query, body):
        method = self.command
        parts = [p for p in path.split("/") if p]
        accept = self.headers.get("Accept")

        if parts == ["api"] and method == "GET":
            choice = discovery_choice(accept)
            if choice == "legacy":
                host = self.headers.get("Host") or "127.0.0.1"
                return self.send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": host}]})
            return self.send_json(200, aggregated(choice, "", CORE_RESOURCES),
                                  content_type=f"application/json;g=apidiscovery.k8s.io;v={choice};as=APIGroupDiscoveryList")
        if parts == ["apis"] and method == "GET":
            choice = discovery_choice(accept)
            if choice == "legacy":
                gv = {"groupVersion": f"{AUTHZ_GROUP}/v1", "version": "v1"}
                return self.send_json(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                            "groups": [{"name": AUTHZ_GROUP, "versions": [gv], "preferredVersion": gv}]})
            return self.send_json(200, aggregated(choice, AUTHZ_GROUP, AUTHZ_RESOURCES),
                                  content_type=f"application/json;g=apidiscovery.k8s.io;v={choice};as=APIGroupDiscoveryList")
        if parts == ["api", "v1"] and method == "GET":
            return self.send_json(200, legacy_resource_list("v1", CORE_RESOURCES))
        if parts == ["apis", AUTHZ_GROUP] and method == "GET":
            gv = {"groupVersion": f"{AUTHZ_GROUP}/v1", "version": "v1"}
            return self.send_json(200, {"kind": "APIGroup", "apiVersion": "v1", "name": AUTHZ_GROUP,
                                        "versions": [gv], "preferredVersion": gv})
        if parts == ["apis", AUTHZ_GROUP, "v1"] and method == "GET":
            return self.send_json(200, legacy_resource_list(f"{AUTHZ_GROUP}/v1", AUTHZ_RESOURCES))
        if parts == ["apis", AUTHZ_GROUP, "v1", "selfsubjectaccessreviews"]:
            if method != "POST":
                raise ApiFailure(405, f"the server does not allow this method on the requested resource")
            return self.access_review(cluster, user, body)

        if len(parts) == 3 and parts[:2] == ["api", "v1"] and parts[2] in KINDS and method == "GET":
            return self.list_all(cluster, user, parts[2])
        if parts[:3] == ["api", "v1", "namespaces"]:
            if len(parts) == 3:
                return self.namespaces(cluster, user, method, None, body, query)
            if len(parts) == 4:
                return self.namespaces(cluster, user, method, parts[3], body, query)
            if len(parts) in (5, 6) and parts[4] in KINDS:
                name = parts[5] if len(parts) == 6 else None
                return self.objects(cluster, user, method, parts[4], parts[3], name, body, query)
        raise ApiFailure(404, "the server could not find the requested resource")

    def authorize(self, cluster, user, verb, resource, namespace, name):
        if cluster.denied(user, verb, resource, namespace):
            where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
            target = f'{resource} "{name}"' if name else resource
            raise ApiFailure(403, f'{target} is forbidden: User "{user}" cannot {verb} resource "{resource}" '
                                  f'in API group ""{where}', details={"name": name or "", "kind": resource})

    def parse_json(self, body):
        try:
            return json.loads(body or b"null")
        except ValueError as e:
            raise ApiFailure(400, f"couldn't get version/kind; json parse error: {e.msg}")

    def access_review(self, cluster, user, body):
        review = self.parse_json(body)
        spec = (review or {}).get("spec") or {}
        attrs = spec.get("resourceAttributes")
        if not isinstance(attrs, dict) and not isinstance(spec.get("nonResourceAttributes"), dict):
            raise ApiFailure(422, 'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec: Invalid value: '
                                  "exactly one of nonResourceAttributes or resourceAttributes must be specified")
        allowed = True
        if isinstance(attrs, dict):
            allowed = not cluster.denied(user, attrs.get("verb", ""), attrs.get("resource", ""), attrs.get("namespace") or None)
        out = {"kind": "SelfSubjectAccessReview", "apiVersion": f"{AUTHZ_GROUP}/v1",
               "metadata": {"creationTimestamp": None}, "spec": spec,
               "status": {"allowed": allowed}}
        if not allowed:
            out["status"]["reason"] = "denied by the fake's deny rules"
        return self.send_json(201, out)

    def namespaces(self, cluster, user, method, name, body, query):
        dry = "All" in query.get("dryRun", [])
        if name is None:
            if method == "GET":
                self.authorize(cluster, user, "list", "namespaces", None, None)
                with STATE.lock:
                    items = [for_output(n) for n in cluster.namespaces.values()]
                return self.send_json(200, {"kind": "NamespaceList", "apiVersion": "v1",
                                            "metadata": {"resourceVersion": str(cluster.rv)}, "items": items})
            if method == "POST":
                obj = self.parse_json(body)
                ns_name = ((obj or {}).get("metadata") or {}).get("name") or ""
                self.authorize(cluster, user, "create", "namespaces", None, ns_name)
                if not ns_name or len(ns_name) > 63 or not LABEL_RE.match(ns_name):
                    raise invalid("Namespace", ns_name, "metadata.name", f'Invalid value: "{ns_name}": a lowercase RFC 1123 label '
                                                                          "must consist of lower case alphanumeric characters or '-'")
                with STATE.lock:
                    if ns_name in cluster.namespaces:
                        raise ApiFailure(409, f'namespaces "{ns_name}" already exists', reason="AlreadyExists",
                                         details={"name": ns_name, "kind": "namespaces"})
                    created = cluster.new_namespace(ns_name)
                    labels = ((obj.get("metadata") or {}).get("labels")) or {}
                    created["metadata"]["labels"].update(labels)
                    if not dry:
                        cluster.namespaces[ns_name] = created
                    out = for_output(created)
                return self.send_json(201, out)
            raise ApiFailure(405, "the server does not allow this method on the requested resource")
        verb = {"GET": "get", "DELETE": "delete", "PUT": "update", "PATCH": "patch"}.get(method)
        if verb is None:
            raise ApiFailure(405, "the server does not allow this method on the requested resource")
        self.authorize(cluster, user, verb, "namespaces", None, name)
        with STATE.lock:
            ns = cluster.namespaces.get(name)
            if ns is None:
                raise not_found("namespaces", name)
            if method == "GET":
                out = for_output(ns)
            elif method == "DELETE":
                if not dry:
                    del cluster.namespaces[name]
                    for key in [k for k in cluster.objects if k[1] == name]:
                        del cluster.objects[key]
                out = for_output(ns)
                out["status"] = {"phase": "Terminating"}
            else:
                raise ApiFailure(405, "the fake does not update namespaces")
        return self.send_json(200, out)

    def list_all(self, cluster, user, resource):
        self.authorize(cluster, user, "list", resource, None, None)
        with STATE.lock:
            items = [for_output(o) for (r, _, _), o in sorted(cluster.objects.items()) if r == resource]
            rv = str(cluster.rv)
        for i in items:
            i.pop("apiVersion", None)
            i.pop("kind", None)
        return self.send_json(200, {"kind": f"{KINDS[resource]}List", "apiVersion": "v1",
                                    "metadata": {"resourceVersion": rv}, "items": items})

    def objects(self, cluster, user, method, resource, ns, name, body, query):
        kind = KINDS[resource]
        dry = "All" in query.get("dryRun", [])
        if name is None:
            verb = {"GET": "list", "POST": "create"}.get(method)
        else:
            verb = {"GET": "get", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}.get(method)
        if verb is None:
            raise ApiFailure(405, "the server does not allow this method on the requested resource")
        self.authorize(cluster, user, verb, resource, ns, name)

        if method == "GET" and name is None:
            with STATE.lock:
                items = [for_output(o) for (r, n, _), o in sorted(cluster.objects.items()) if r == resource and n == ns]
                rv = str(cluster.rv)
            for i in items:
                i.pop("apiVersion", None)
                i.pop("kind", None)
            return self.send_json(200, {"kind": f"{kind}List", "apiVersion": "v1",
                                        "metadata": {"resourceVersion": rv}, "items": items})

        with STATE.lock:
            if ns not in cluster.namespaces:
                if method == "GET" or method == "DELETE":
                    raise not_found(resource, name)
                raise not_found("namespaces", ns)
            if method == "GET":
                obj = cluster.objects.get((resource, ns, name))
                if obj is None:
                    raise not_found(resource, name)
                return self.send_json(200, for_output(obj))
            if method == "DELETE":
                obj = cluster.objects.get((resource, ns, name))
                if obj is None:
                    raise not_found(resource, name)
                # DeleteOptions.preconditions: a changed object is not deleted (409 Conflict).
                options = self.parse_json(body) if body else None
                pre = (options.get("preconditions") or {}) if isinstance(options, dict) else {}
                for field, have in (("resourceVersion", obj["metadata"]["resourceVersion"]),
                                    ("uid", obj["metadata"]["uid"])):
                    want = pre.get(field) if isinstance(pre, dict) else None
                    if want and want != have:
                        label = "ResourceVersion" if field == "resourceVersion" else "UID"
                        raise ApiFailure(409, f'Operation cannot be fulfilled on {resource} "{name}": Precondition '
                                              f"failed: {label} in precondition: {want}, {label} in object meta: {have}",
                                         details={"name": name, "kind": resource})
                if not dry:
                    del cluster.objects[(resource, ns, name)]
                return self.send_json(200, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success",
                                            "details": {"name": name, "kind": resource, "uid": obj["metadata"]["uid"]}})
            if method == "POST":
                new_name, obj = normalise(resource, self.parse_json(body), ns)
                if (resource, ns, new_name) in cluster.objects:
                    raise ApiFailure(409, f'{resource} "{new_name}" already exists', reason="AlreadyExists",
                                     details={"name": new_name, "kind": resource})
                obj = stamp(cluster, obj)
                if not dry:
                    cluster.objects[(resource, ns, new_name)] = obj
                return self.send_json(201, for_output(obj))
            if method == "PUT":
                _, obj = normalise(resource, self.parse_json(body), ns, name)
                return self.replace(cluster, resource, ns, name, obj, dry, create_missing=False)
            # PATCH
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            patch = self.parse_json(body)
            old = cluster.objects.get((resource, ns, name))
            if ctype == "application/apply-patch+yaml":
                if not query.get("fieldManager"):
                    raise ApiFailure(400, 'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                                          "is required for apply patch")
                if old is None:
                    _, obj = normalise(resource, patch, ns, name)
                    obj = stamp(cluster, obj)
                    if not dry:
                        cluster.objects[(resource, ns, name)] = obj
                    return self.send_json(201, for_output(obj))
            elif ctype not in ("application/merge-patch+json", "application/strategic-merge-patch+json"):
                raise ApiFailure(415, f"the body of the request was in an unknown format - accepted media types "
                                      "include: application/merge-patch+json, application/strategic-merge-patch+json, "
                                      "application/apply-patch+yaml")
            if old is None:
                raise not_found(resource, name)
            merged = merge_patch(for_output(old), patch)
            wanted_rv = ((patch or {}).get("metadata") or {}).get("resourceVersion")
            if not wanted_rv:
                merged["metadata"].pop("resourceVersion", None)
            _, obj = normalise(resource, merged, ns, name)
            return self.replace(cluster, resource, ns, name, obj, dry, create_missing=False)

    def replace(self, cluster, resource, ns, name, obj, dry, create_missing):
        old = cluster.objects.get((resource, ns, name))
        if old is None:
            raise not_found(resource, name)
        wanted = obj["metadata"].get("resourceVersion")
        if wanted and wanted != old["metadata"]["resourceVersion"]:
            raise ApiFailure(409, f'Operation cannot be fulfilled on {resource} "{name}": the object has been '
                                  "modified; please apply your changes to the latest version and try again",
                             details={"name": name, "kind": resource})
        check_update(resource, old, obj)
        obj = stamp(cluster, obj, old)
        if not dry:
            cluster.objects[(resource, ns, name)] = obj
        return self.send_json(200, for_output(obj))

    # -- control endpoints (tests only; no authentication) -------------------------------------

    def control(self, path, query, body):
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self.send_json(400, {"error": "control bodies are JSON"})
        method = self.command
        with STATE.lock:
            if path == "/_control/faults" and method == "POST":
                specs = data if isinstance(data, list) else [data]
                ids = []
                for spec in specs:
                    STATE.fault_seq += 1
                    STATE.faults.append(Fault(spec, STATE.fault_seq))
                    ids.append(STATE.fault_seq)
                return self.send_json(200, {"ids": ids})
            if path == "/_control/faults" and method == "GET":
                return self.send_json(200, {"items": [{"id": f.id, "cluster": f.cluster, "remaining": f.remaining,
                                                       "what": f.describe()} for f in STATE.faults]})
            if path == "/_control/faults" and method == "DELETE":
                STATE.faults.clear()
                return self.send_json(200, {})
            if path == "/_control/requests" and method == "GET":
                cluster = (query.get("cluster") or [None])[0]
                items = [dict(e) for e in STATE.log if cluster is None or e["cluster"] == cluster]
                return self.send_json(200, {"items": items})
            if path == "/_control/requests" and method == "DELETE":
                STATE.log.clear()
                return self.send_json(200, {})
            if path == "/_control/reset" and method == "POST":
                for c in STATE.clusters.values():
                    c.reset()
                STATE.faults.clear()
                STATE.log.clear()
                return self.send_json(200, {})
            if path == "/_control/clusters" and method == "POST":
                try:
                    for spec in data.get("clusters", []):
                        STATE.add_cluster(spec)
                except (KeyError, ValueError) as e:
                    return self.send_json(400, {"error": str(e)})
                return self.send_json(200, {"clusters": sorted(STATE.clusters)})
            if path == "/_control/clusters" and method == "GET":
                return self.send_json(200, {"clusters": [{"name": c.name, "prefix": c.prefix or "/"}
                                                         for c in STATE.clusters.values()]})
            if path == "/_control/objects":
                name = (query.get("cluster") or [data.get("cluster") if isinstance(data, dict) else None])[0]
                cluster = STATE.clusters.get(name)
                if cluster is None:
                    return self.send_json(404, {"error": "no such cluster"})
                if method == "GET":
                    return self.send_json(200, {"namespaces": sorted(cluster.namespaces),
                                                "items": [for_output(o) for o in cluster.objects.values()]})
                if method == "POST":
                    # Seeds an object as it is (no validation): a ConfigMap istiod wrote, a Secret
                    # someone else manages. Its namespace is created if needed.
                    obj = copy.deepcopy(data.get("object") or {})
                    resource = {"Secret": "secrets", "ConfigMap": "configmaps"}.get(obj.get("kind"))
                    meta = obj.get("metadata") or {}
                    if resource is None or not meta.get("name") or not meta.get("namespace"):
                        return self.send_json(400, {"error": "object needs kind Secret/ConfigMap, name, namespace"})
                    ns = meta["namespace"]
                    if ns not in cluster.namespaces:
                        cluster.namespaces[ns] = cluster.new_namespace(ns)
                    obj.setdefault("apiVersion", "v1")
                    obj = stamp(cluster, obj, cluster.objects.get((resource, ns, meta["name"])))
                    cluster.objects[(resource, ns, meta["name"])] = obj
                    return self.send_json(200, for_output(obj))
        return self.send_json(404, {"error": f"no control endpoint {method} {path}"})


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, addr, ssl_ctx, verbose):
        self.ssl_ctx = ssl_ctx
        self.verbose = verbose
        super().__init__(addr, Handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so that a slow or failing
        # client (a wrong-CA test) never holds up the accept loop.
        request.settimeout(30)
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.ssl_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            if self.verbose:
                sys.stderr.write(f"fake_kube: TLS handshake failed: {e}\n")
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        if self.verbose:
            super().handle_error(request, client_address)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cert", required=True, help="server certificate chain (PEM)")
    ap.add_argument("--key", required=True, help="server private key (PEM)")
    ap.add_argument("--client-ca", help="CA that client certificates must chain to (PEM)")
    ap.add_argument("--config", help="JSON file: {\"clusters\": [...]} (see README.md)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.load_verify_locations(args.client_ca)
        ctx.verify_mode = ssl.CERT_OPTIONAL

    config = {"clusters": [{"name": "default", "prefix": "/"}]}
    if args.config:
        with open(args.config) as f:
            config = json.load(f)
    for spec in config.get("clusters", []):
        STATE.add_cluster(spec)

    server = Server((args.host, args.port), ctx, args.verbose)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
