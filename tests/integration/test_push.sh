#!/usr/bin/env bash
# Pushing cacerts Secrets through the Kubernetes API (issue 5), end to end: the meshtrust binary
# against the fake API server (tests/fake_kube), with kubectl and the istiod checks as oracles for
# what landed, and the fake's request log for what was (not) sent.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MESHTRUST_SOURCE_DIR="${MESHTRUST_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}"
source "$HERE/lib/fake_kube.sh"
source "$HERE/lib/istiod_check.sh"
source "$HERE/lib/rest_common.sh"
M="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
T="$(mktemp -d)"
trap 'set +e; rest_kill; fk_stop; rm -rf "$T"' EXIT
export MESHTRUST_PASSPHRASE="push test"
export MESHTRUST_DATA_DIR="$T/data"
fail() { echo "FAIL: $*" >&2; [[ -f "$T/serve.log" ]] && tail -c 3000 "$T/serve.log" >&2; exit 1; }
ok() { echo "ok: $*"; }

cat >"$T/clusters.json" <<'EOF'
{"clusters": [
  {"name": "east", "prefix": "/clusters/east", "tokens": {"tok-east-secret-0123456789": "admin"}, "namespaces": ["istio-system"]},
  {"name": "west", "prefix": "/clusters/west", "cert_users": {"pusher-cert": "pusher"}, "namespaces": ["istio-system"]},
  {"name": "fresh", "prefix": "/k8s/clusters/c-fresh", "tokens": {"tok-fresh": "admin"}},
  {"name": "locked", "prefix": "/clusters/locked", "tokens": {"tok-bob": "bob"}, "namespaces": ["istio-system"],
   "deny": [{"user": "bob", "verbs": ["create", "update"], "resources": ["secrets"], "namespaces": ["istio-system"]}]},
  {"name": "gitops", "prefix": "/clusters/gitops", "tokens": {"tok-gitops": "admin"}, "namespaces": ["istio-system"]},
  {"name": "flaky", "prefix": "/clusters/flaky", "tokens": {"tok-flaky": "admin"}, "namespaces": ["istio-system"]}
]}
EOF
fk_start "$T/fake" "$T/clusters.json"
mkdir -p "$T/kc"
fk_kubeconfig "$T/kc/east.yaml" /clusters/east token:tok-east-secret-0123456789
fk_kubeconfig "$T/kc/west.yaml" /clusters/west cert
fk_kubeconfig "$T/kc/fresh.yaml" /k8s/clusters/c-fresh token:tok-fresh
fk_kubeconfig "$T/kc/locked.yaml" /clusters/locked token:tok-bob
fk_kubeconfig "$T/kc/gitops.yaml" /clusters/gitops token:tok-gitops
fk_kubeconfig "$T/kc/flaky.yaml" /clusters/flaky insecure-token:tok-flaky

"$M" init >/dev/null

# ---- cluster add --kubeconfig: bad kubeconfigs are refused whole, with one sentence ----------
before=$("$M" --output json cluster list)
bad_add() {  # bad_add WHY EXPECTED_TEXT ARGS...
  local why="$1" expect="$2"
  shift 2
  set +e
  "$M" cluster add badone "$@" >"$T/out" 2>"$T/err"
  local rc=$?
  set -e
  [[ $rc -eq 1 ]] || fail "cluster add with $why: exit $rc, want 1 ($(cat "$T/err"))"
  [[ $(grep -c . "$T/err") -eq 1 ]] || fail "cluster add with $why: not one line: $(cat "$T/err")"
  grep -q "^error: .*$expect" "$T/err" || fail "cluster add with $why: '$(cat "$T/err")' does not say '$expect'"
}
bad_add "a missing file" "does-not-exist" --kubeconfig "$T/kc/does-not-exist.yaml"
printf 'clusters: [\n  - name: x\n   bad indent' >"$T/kc/malformed.yaml"
bad_add "malformed YAML" "not valid YAML" --kubeconfig "$T/kc/malformed.yaml"
bad_add "an unknown context" "no context named 'nope'" --kubeconfig "$T/kc/east.yaml" --context nope
sed 's/^    token: .*/    auth-provider:\n      name: gcp/' "$T/kc/east.yaml" >"$T/kc/authprovider.yaml"
bad_add "an auth-provider user" "auth-provider" --kubeconfig "$T/kc/authprovider.yaml"
sed "s#certificate-authority: .*#certificate-authority: $T/kc/missing-ca.pem#" "$T/kc/east.yaml" >"$T/kc/missingca.yaml"
bad_add "a missing CA file" "missing-ca.pem" --kubeconfig "$T/kc/missingca.yaml"
head -c 2000000 /dev/zero | tr '\0' 'a' >"$T/kc/huge.yaml"
bad_add "an oversized kubeconfig" "1 MiB" --kubeconfig "$T/kc/huge.yaml"
bad_add "--context without --kubeconfig" "give --kubeconfig" --context main
[[ "$("$M" --output json cluster list)" == "$before" ]] || fail "a refused cluster add changed the cluster list"
ok "bad kubeconfigs refused, nothing registered"

for c in east west fresh locked gitops flaky; do
  ns=istio-system
  [[ $c == fresh ]] && ns=mesh-system
  "$M" cluster add "$c" --kubeconfig "$T/kc/$c.yaml" --namespace "$ns" >/dev/null 2>"$T/add.err" || fail "cluster add $c: $(cat "$T/add.err")"
done
grep -q "insecure-skip-tls-verify" "$T/add.err" || fail "cluster add of an insecure kubeconfig did not warn"
"$M" --output json cluster show west | python3 -c '
import json, sys
c = json.load(sys.stdin)
k = c["kubernetes"]
assert k["auth"] == "client-certificate" and k["server"].endswith("/clusters/west"), k
assert "kubeconfig" not in json.dumps(c), "the kubeconfig itself must not be shown"' || fail "cluster show lacks the access description"
# Sealed at rest: neither the token nor the client key is readable in the database.
python3 - "$MESHTRUST_DATA_DIR/meshtrust.db" "$FK_CLIENT_KEY" <<'EOF' || fail "a credential is readable in the database"
import sqlite3, sys
raw = open(sys.argv[1], "rb").read() + b"".join(open(f, "rb").read() for f in [sys.argv[1] + "-wal"] if __import__("os").path.exists(f))
key_b64 = b"".join(l.strip() for l in open(sys.argv[2], "rb") if not l.startswith(b"-----"))
assert b"tok-east-secret-0123456789" not in raw, "token in clear"
assert key_b64[:40] not in raw, "client key in clear"
EOF
ok "cluster add stores kubeconfigs sealed, describes them in clear"

# ---- cluster check ------------------------------------------------------------------------
"$M" cluster check east >"$T/out" 2>&1 || fail "cluster check east failed: $(cat "$T/out")"
grep -q "^ok .*reach" "$T/out" || fail "cluster check east: no reach row: $(cat "$T/out")"
set +e; "$M" cluster check locked >"$T/out" 2>"$T/err"; rc=$?; set -e
[[ $rc -eq 1 ]] || fail "cluster check locked: exit $rc, want 1"
grep -q "create secrets" "$T/err" || fail "cluster check locked does not name the missing permission: $(cat "$T/err")"
ok "cluster check reports reach, auth and permissions"

# ---- push: refusals before anything is sent ------------------------------------------------
set +e; "$M" push east >/dev/null 2>"$T/err"; rc=$?; set -e
[[ $rc -eq 1 ]] && grep -q "no intermediate" "$T/err" || fail "push before issue: exit $rc: $(cat "$T/err")"
set +e; "$M" push >/dev/null 2>"$T/err"; rc=$?; set -e
[[ $rc -eq 1 ]] && grep -q -- "--all" "$T/err" || fail "push with no names: exit $rc: $(cat "$T/err")"
set +e; "$M" push east --concurrency 0 >/dev/null 2>"$T/err"; rc=$?; set -e
[[ $rc -eq 1 ]] || fail "push --concurrency 0 accepted"
"$M" issue east west fresh locked gitops flaky >/dev/null

# ---- dry run: writes nothing ----------------------------------------------------------------
fk DELETE /_control/requests >/dev/null
"$M" --output json push --all --dry-run >"$T/dry.json" 2>/dev/null || fail "dry run failed"
python3 - "$T/dry.json" <<'EOF' || fail "dry run report wrong: $(cat "$T/dry.json")"
import json, sys
r = {c["cluster"]: c for c in json.load(open(sys.argv[1]))["clusters"]}
assert all(c["result"] == "would-create" for c in r.values()), r
assert any("namespace" in ch for ch in r["fresh"]["changes"]), r["fresh"]
EOF
for c in east west fresh locked gitops flaky; do
  for m in POST PUT PATCH DELETE; do
    fk GET "/_control/requests?cluster=$c" | grep -q "\"method\": *\"$m\"" && fail "dry run sent a $m to $c"
  done
done
"$M" --output json audit list --action secret.push | grep -q . && fail "a dry run was recorded as a push"
ok "dry run lists changes and writes nothing"

# ---- an unmanaged Secret is not clobbered; a 503 twice is retried ---------------------------
fk POST /_control/objects '{"cluster": "gitops", "object": {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
  "metadata": {"name": "cacerts", "namespace": "istio-system", "labels": {"owner": "argo"}},
  "data": {"tls.crt": "c3RhbGU=", "ca-cert.pem": "b2xk"}}}' >/dev/null
fk POST /_control/faults '{"cluster": "flaky", "method": "POST", "status": 503, "count": 2}' >/dev/null

set +e; "$M" push --all >"$T/push.out" 2>"$T/push.err"; rc=$?; set -e
[[ $rc -eq 1 ]] || fail "push --all with failing clusters: exit $rc, want 1"
grep -q "^error: the push failed for 2 clusters: .*gitops" "$T/push.err" && grep -q "locked" "$T/push.err" \
  || fail "push --all does not name the failed clusters: $(cat "$T/push.err")"
grep -q "^east: created" "$T/push.out" || fail "east not created: $(cat "$T/push.out")"
grep -q "^fresh: created" "$T/push.out" || fail "fresh (namespace missing) not created: $(cat "$T/push.out")"
grep -q "^flaky: created" "$T/push.out" || fail "flaky (503 twice) not created: $(cat "$T/push.out")"
grep -q "^gitops: failed.*not managed by meshtrust" "$T/push.out" || fail "gitops refusal unclear: $(cat "$T/push.out")"
grep -q "^locked: failed.*403" "$T/push.out" || fail "locked refusal unclear: $(cat "$T/push.out")"
grep -q "warning: cluster flaky: .*insecure-skip-tls-verify" "$T/push.err" || fail "no insecure warning on push"
[[ $(fk_count flaky POST /api/v1/namespaces/istio-system/secrets) -eq 3 ]] || fail "flaky: the 503s were not retried exactly twice"
fk GET "/_control/objects?cluster=gitops" | python3 -c '
import json, sys, base64
objs = json.dumps(json.load(sys.stdin))
assert "c3RhbGU=" in objs, "the unmanaged Secret was changed"' || fail "the unmanaged Secret was touched"
grep -q "$(cat "$FK_CLIENT_KEY" | sed -n 2p | cut -c1-30)" "$T/push.out" "$T/push.err" && fail "client key in push output"
grep -q "tok-east-secret" "$T/push.out" "$T/push.err" && fail "token in push output"
ok "push --all: created (incl. a new namespace and retried 503s), refusals named, exit 1"

# ---- what landed passes istiod's checks, read by kubectl ------------------------------------
if command -v kubectl >/dev/null; then
  for c in east west fresh; do
    ns=istio-system; [[ $c == fresh ]] && ns=mesh-system
    fk_kubectl "$T/kc/$c.yaml" get secret cacerts -n "$ns" -o json >"$T/$c.secret.json" 2>"$T/kubectl.err" \
      || fail "kubectl get secret on $c: $(cat "$T/kubectl.err")"
    mkdir -p "$T/landed/$c"
    python3 - "$T/$c.secret.json" "$T/landed/$c" <<'EOF' || fail "the Secret kubectl read from $c is not meshtrust's"
import base64, json, sys
s = json.load(open(sys.argv[1]))
assert s["type"] == "Opaque"
assert s["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshtrust"
a = s["metadata"]["annotations"]
assert len(a["meshtrust.io/intermediate-serial"]) > 0 and len(a["meshtrust.io/intermediate-sha256"]) == 64
assert sorted(s["data"]) == ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"], sorted(s["data"])
for k, v in s["data"].items():
    open(sys.argv[2] + "/" + k, "wb").write(base64.b64decode(v))
EOF
    istiod_check "$T/landed/$c" || fail "the pushed bundle of $c fails istiod's checks"
  done
  cmp -s "$T/landed/east/root-cert.pem" "$T/landed/west/root-cert.pem" || fail "root-cert.pem differs between clusters"
  ok "kubectl reads the pushed Secrets; they pass istiod's checks; roots byte-identical"
else
  echo "note: kubectl not installed; the kubectl oracle part is skipped"
fi

# ---- idempotence: a second push writes nothing ---------------------------------------------
fk DELETE /_control/requests >/dev/null
"$M" push east west fresh flaky >"$T/again.out" 2>/dev/null || fail "second push failed: $(cat "$T/again.out")"
[[ $(grep -c ": unchanged" "$T/again.out") -eq 4 ]] || fail "second push not unchanged: $(cat "$T/again.out")"
for c in east west fresh flaky; do
  for m in POST PUT PATCH DELETE; do
    fk GET "/_control/requests?cluster=$c" | grep -q "\"method\": *\"$m\"" && fail "unchanged push sent a $m to $c"
  done
done
ok "a second push changes nothing and sends no write"

# ---- --force takes over the unmanaged Secret, dropping tls.crt; a 409 race is re-decided ----
fk POST /_control/faults '{"cluster": "gitops", "method": "PUT", "bump": true}' >/dev/null
"$M" push gitops --force >"$T/force.out" 2>&1 || fail "push --force failed: $(cat "$T/force.out")"
grep -q "^gitops: replaced" "$T/force.out" || fail "gitops not replaced: $(cat "$T/force.out")"
[[ $(fk_count gitops PUT /api/v1/namespaces/istio-system/secrets/cacerts) -ge 2 ]] || fail "the 409 was not re-read and retried"
fk GET "/_control/objects?cluster=gitops" | python3 -c '
import json, sys
d = json.load(sys.stdin)
text = json.dumps(d)
assert "tls.crt" not in text, "stale tls.crt kept"
assert "\"owner\": \"argo\"" in text, "the other owner label was dropped"' || fail "forced replace left the wrong Secret"
ok "--force replaces whole (tls.crt gone), a concurrent writer's 409 is re-read"

# ---- drift is repaired; a stale change is re-pushed ------------------------------------------
fk POST /_control/objects "$(python3 - "$T/east.secret.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
s["data"]["ca-cert.pem"] = "dGFtcGVyZWQ="
for k in ("resourceVersion", "uid", "creationTimestamp", "managedFields"):
    s["metadata"].pop(k, None)
print(json.dumps({"cluster": "east", "object": s}))
EOF
)" >/dev/null
"$M" push east >"$T/drift.out" 2>&1 || fail "repair push failed"
grep -q "^east: replaced" "$T/drift.out" || fail "drifted east not replaced: $(cat "$T/drift.out")"

# ---- records, audit, JSON ------------------------------------------------------------------
"$M" --output json audit list --action secret.push >"$T/events.jsonl"
python3 - "$T/events.jsonl" <<'EOF' || fail "push audit events wrong"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {}
for e in ev:
    leaf = json.loads(e["leaf"])
    by.setdefault(e["cluster"], []).append((leaf["outcome"], leaf["details"]["result"]))
assert ("failure", "failed") in by["locked"], by["locked"]
assert ("success", "created") in by["east"] and ("success", "unchanged") in by["east"], by["east"]
assert ("success", "replaced") in by["gitops"], by["gitops"]
text = open(sys.argv[1]).read()
assert "tok-" not in text and "BEGIN" not in text, "secret material in audit events"
EOF
"$M" audit verify >/dev/null || fail "audit verify after pushes"
"$M" --output json cluster show east | python3 -c '
import json, sys
c = json.load(sys.stdin)
results = [p["result"] for p in c["pushes"]]
assert results[:3] == ["replaced", "unchanged", "created"], results' || fail "cluster show lacks the push history"
ok "every attempt is recorded and audited; audit verify passes"

# ---- manifest: the Secret as YAML, applied with kubectl --------------------------------------
"$M" manifest east >"$T/east.yaml" 2>/dev/null || fail "manifest failed"
grep -q '"kind": "Secret"' "$T/east.yaml" || fail "manifest is not a Secret"
if command -v kubectl >/dev/null; then
  sed -e 's/"name": "cacerts"/"name": "cacerts-gitops"/' "$T/east.yaml" >"$T/east-copy.yaml"
  fk_kubectl "$T/kc/gitops.yaml" apply --validate=false -f "$T/east-copy.yaml" >/dev/null 2>"$T/kubectl.err" \
    || fail "kubectl apply of the manifest: $(cat "$T/kubectl.err")"
  fk_kubectl "$T/kc/gitops.yaml" get secret cacerts-gitops -n istio-system -o json >"$T/copy.json"
  python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert len(s["data"])==4' "$T/copy.json" \
    || fail "the applied manifest lost data"
fi
"$M" --output json audit list --action bundle.export --cluster east | grep -q . || fail "manifest (a key release) not audited"
ok "manifest applies with kubectl and is audited"

# ---- REST: push routes and the reconcile loop ---------------------------------------------
"$M" export east --out "$T/bundles" >/dev/null
REST_CA="$T/bundles/root-cert.pem"
REST_BODY="$T/body"; REST_HDRS="$T/hdrs"
ADMIN=$("$M" token create --role admin --name alice 2>/dev/null)
AUDITOR=$("$M" token create --role auditor --name carol 2>/dev/null)
# istiod in west has published the roots (its istio-ca-root-cert ConfigMap); east's has not.
fk POST /_control/objects "$(python3 -c '
import json, sys
print(json.dumps({"cluster": "west", "object": {"apiVersion": "v1", "kind": "ConfigMap",
  "metadata": {"name": "istio-ca-root-cert", "namespace": "istio-system"},
  "data": {"root-cert.pem": open(sys.argv[1]).read()}}}))' "$T/bundles/root-cert.pem")" >/dev/null
rest_start "$MESHTRUST_DATA_DIR" "$T/serve.log" --reconcile-interval 1
REST_TOKEN="$ADMIN" req POST /v1/clusters/east/push -H 'Content-Type: application/json' -d '{}'
[[ $CODE == 200 ]] || fail "POST /v1/clusters/east/push: $CODE $(cat "$REST_BODY")"
[[ $(jget "$REST_BODY" 'j["clusters"][0]["result"]') == unchanged ]] || fail "REST push of east not unchanged"
REST_TOKEN="$AUDITOR" req POST /v1/push -H 'Content-Type: application/json' -d '{"all": true}'
[[ $CODE == 403 ]] || fail "an auditor may push: $CODE"
REST_TOKEN="$ADMIN" req POST /v1/push -H 'Content-Type: application/json' -d '{"all": true, "clusters": ["east"]}'
[[ $CODE == 400 ]] && problem_ok "$REST_BODY" 400 "$CTYPE" || fail "all + clusters accepted: $CODE"
REST_TOKEN="$ADMIN" req POST /v1/push -H 'Content-Type: application/json' -d '{"clusters": ["east"], "dry_run": "yes"}'
[[ $CODE == 400 ]] || fail "a non-boolean dry_run accepted: $CODE"
REST_TOKEN="$ADMIN" req POST /v1/clusters -H 'Content-Type: application/json' \
  -d "$(python3 -c 'import json,sys; print(json.dumps({"name":"viarest","kubeconfig":open(sys.argv[1]).read()}))' "$T/kc/east.yaml")"
[[ $CODE == 422 ]] && grep -q "refers to a file" "$REST_BODY" || fail "a kubeconfig with file references accepted over REST: $CODE $(cat "$REST_BODY")"

# Someone deletes east's Secret: the reconcile loop puts it back within a few passes.
fk DELETE /_control/requests >/dev/null
fk_kubectl "$T/kc/east.yaml" delete secret cacerts -n istio-system >/dev/null 2>&1 \
  || curl -sS --cacert "$FK_CA" -H "Authorization: Bearer tok-east-secret-0123456789" -X DELETE \
       "$FK_URL/clusters/east/api/v1/namespaces/istio-system/secrets/cacerts" >/dev/null
for i in $(seq 1 50); do
  [[ $(fk_count east POST /api/v1/namespaces/istio-system/secrets) -ge 1 ]] && break
  sleep 0.2
done
[[ $(fk_count east POST /api/v1/namespaces/istio-system/secrets) -ge 1 ]] || fail "the reconcile loop did not re-create east's Secret"
# The pass records its push once every cluster of the pass is done: wait for that (bounded).
for i in $(seq 1 100); do
  "$M" --output json audit list --action secret.push --actor system:reconciler | grep -q '"cluster":"east"' && break
  sleep 0.2
done
REST_TOKEN="$AUDITOR" req GET /metrics
grep -q '^meshtrust_pushes_total{result="created"} [1-9]' "$REST_BODY" || fail "metrics lack the reconcile's push"
grep -q '^meshtrust_clusters_by_delivery_state{state="failing"} 1' "$REST_BODY" || fail "metrics: failing clusters not 2: $(grep delivery_state "$REST_BODY")"
grep -q '^meshtrust_cluster_last_successful_push_timestamp_seconds{cluster="east"} [0-9]' "$REST_BODY" || fail "no last-push gauge"
grep -q '^meshtrust_cluster_roots_taken_up{cluster="east"} 0' "$REST_BODY" || fail "no roots gauge for east"
grep -q '^meshtrust_cluster_roots_taken_up{cluster="west"} 1' "$REST_BODY" || fail "west's istio-ca-root-cert not seen as taken up"
"$M" --output json audit list --action secret.push --actor system:reconciler | grep -q '"cluster":"east"' \
  || fail "the reconcile loop's push is not audited"
rest_stop
ok "REST push routes, authz, bad input; the reconcile loop repairs a deleted Secret; metrics"
echo "PASS test_push"
