#!/usr/bin/env bash
# shellcheck disable=SC2034  # REST_* settings are read by the functions of lib/rest_common.sh
# REST happy path and contract (issue 4; architecture.md, audit-log.md):
# - TLS: `curl --cacert root-cert.pem` verifies the default (root-issued, ECDSA P-256) server certificate for
#   127.0.0.1 and localhost and refuses another name; TLS 1.3 is negotiated, TLS 1.2 accepted, 1.1/1.0 refused.
# - /v1/trust-bundle is byte-identical to `meshtrust export`'s root-cert.pem.
# - Clusters register and issue over REST (central key as issuer; CSR from an openssl key via
#   POST /v1/clusters/{name}/csr as the cluster itself, the key never leaving); the cluster fetches its cacerts;
#   both bundles pass lib/istiod_check.sh and equal what `meshtrust export` writes; ?format=secret is a Secret
#   manifest (name/namespace/type/label/annotations per architecture.md) whose decoded data are the same files.
# - Certificates list (with filters) and get; audit events (paging, filters), tree head, inclusion proofs for
#   every event and a consistency proof verified by lib/ct_verify.py; the head signature verified with openssl
#   against GET /v1/audit/public-key.
# - Tokens created, listed (no secrets), used and revoked over REST (then 401).
# - /metrics: request counters and seconds-until-expiry for the root and c1.
# - /v1/openapi.json is valid OpenAPI 3 listing exactly the routes served: every listed operation answers
#   something other than the generic 404 with a documented status, every documented body field is known to the
#   server and an undocumented one refused; no unlisted method or contract path is served; roles match; every
#   status the server answered during the test (its request log) is documented for the operation.
# - Every bundle delivery is one bundle.deliver audit event (actor, cluster, with_key).
# - Logs are JSON lines without secrets. Graceful shutdown: SIGTERM while a request is in flight → the request
#   completes (201), the process exits 0, `meshtrust audit verify` passes and the issued certificate is on record.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/rest_common.sh
source "$HERE/lib/rest_common.sh"
# shellcheck source=lib/istiod_check.sh
source "$HERE/lib/istiod_check.sh"
export MESHTRUST_BIN="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
M="$MESHTRUST_BIN"
T="$(mktemp -d)"; CLIENT=""; trap 'set +e; rest_kill; [[ -z "$CLIENT" ]] || kill "$CLIENT" 2>/dev/null; rm -rf "$T"' EXIT
export MESHTRUST_DATA_DIR="$T/data" MESHTRUST_PASSPHRASE="api test passphrase"
REST_BODY="$T/body"; REST_HDRS="$T/hdrs"
want() {  # want CODE WHAT: the last request answered CODE
  [[ "$CODE" == "$1" ]] || fail "$2: HTTP $CODE, want $1: $(head -c 400 "$REST_BODY")"
}
as() { REST_TOKEN="$1"; }
JSON=(-H "Content-Type: application/json")
DELIVERIES="$T/deliveries"; : >"$DELIVERIES"   # actor cluster with_key, one line per 200 from cacerts
delivered() { echo "$1 $2 $3" >>"$DELIVERIES"; }

"$M" init >/dev/null
ADMIN=$(cli_token admin alice)
rest_start "$MESHTRUST_DATA_DIR" "$T/server.log"   # (REST_CA unset: readiness is polled with -k)

# ---- Trust bundle and TLS ---------------------------------------------------------------------------------
curl -sk --max-time 10 "$REST_URL/v1/trust-bundle" -o "$T/trust-bundle.pem" || fail "GET /v1/trust-bundle with -k"
REST_CA="$T/trust-bundle.pem"
openssl x509 -in "$REST_CA" -noout 2>/dev/null || fail "the trust bundle is not a certificate"
curl -sf --max-time 10 --cacert "$REST_CA" "$REST_URL/healthz" >/dev/null || fail "curl --cacert root fails for 127.0.0.1"
curl -sf --max-time 10 --cacert "$REST_CA" --resolve "localhost:$REST_PORT:127.0.0.1" "https://localhost:$REST_PORT/healthz" >/dev/null \
  || fail "curl --cacert root fails for localhost"
set +e
curl -s --max-time 10 --cacert "$REST_CA" --resolve "not-the-server.example:$REST_PORT:127.0.0.1" \
  "https://not-the-server.example:$REST_PORT/healthz" >/dev/null 2>&1; rc=$?
set -e
[[ $rc == 60 ]] || bad "a name outside the certificate's SANs was not refused (curl exit $rc, want 60)"
openssl s_client -connect "127.0.0.1:$REST_PORT" -CAfile "$REST_CA" -verify_return_error -verify_ip 127.0.0.1 \
  -showcerts </dev/null >"$T/s_client.out" 2>&1 || bad "openssl s_client with -verify_ip 127.0.0.1 failed: $(tail -3 "$T/s_client.out")"
grep -q "^New, TLSv1.3, Cipher is " "$T/s_client.out" || bad "TLS 1.3 not negotiated: $(grep -m1 "^New," "$T/s_client.out")"
grep -q "Verify return code: 0 (ok)" "$T/s_client.out" || bad "s_client did not verify the server certificate"
awk '/-----BEGIN CERTIFICATE-----/{n++} n==1{print} /-----END CERTIFICATE-----/{if(n==1)exit}' "$T/s_client.out" >"$T/server-cert.pem"
openssl x509 -in "$T/server-cert.pem" -noout -text >"$T/server-cert.txt" 2>/dev/null || fail "no server certificate in s_client output"
grep -q "ASN1 OID: prime256v1" "$T/server-cert.txt" || bad "the server key is not ECDSA P-256"
grep -q "DNS:localhost" "$T/server-cert.txt" && grep -q "IP Address:127.0.0.1" "$T/server-cert.txt" \
  || bad "the server certificate lacks DNS:localhost or IP:127.0.0.1: $(grep -A1 'Alternative Name' "$T/server-cert.txt" | tail -1)"
openssl verify -CAfile "$REST_CA" -purpose sslserver "$T/server-cert.pem" >/dev/null 2>&1 || bad "the server certificate does not verify to the root as a TLS server"
curl -sf --max-time 10 --cacert "$REST_CA" --tlsv1.2 --tls-max 1.2 "$REST_URL/healthz" >/dev/null || bad "TLS 1.2 is refused"
for v in tls1_1 tls1; do
  if openssl s_client -connect "127.0.0.1:$REST_PORT" "-$v" -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >"$T/old.out" 2>&1; then
    bad "a $v handshake succeeded: $(grep -m1 'Protocol' "$T/old.out")"
  fi
  grep -Eq "Cipher is \(NONE\)|alert protocol version|no protocols available|wrong version number" "$T/old.out" \
    || bad "$v: no sign of a refused handshake: $(head -c 300 "$T/old.out")"
done

# ---- Clusters: register, issue, CSR ------------------------------------------------------------------------
as "$ADMIN"
mk_token() {  # ROLE NAME|CLUSTER [ttl] -> token via POST /v1/tokens (body in $T/token.json)
  local b
  if [[ $1 == cluster ]]; then b="{\"role\":\"cluster\",\"cluster\":\"$2\"}"; else b="{\"role\":\"$1\",\"name\":\"$2\"}"; fi
  REST_TOKEN="$ADMIN" req POST /v1/tokens "${JSON[@]}" --data-binary "$b"
  [[ $CODE == 201 ]] || { echo "FAIL: POST /v1/tokens $b: HTTP $CODE $(head -c 300 "$REST_BODY")" >&2; return 1; }
  cp "$REST_BODY" "$T/token.json"
  jget "$REST_BODY" 'j["token"]'
}
ISSUER=$(mk_token issuer ivan)
AUDITOR=$(mk_token auditor aude)
as "$ISSUER"
req POST /v1/clusters "${JSON[@]}" --data-binary '{"name":"c1"}'; want 201 "issuer POST /v1/clusters c1"
[[ $(jget "$REST_BODY" '[j["name"], j["namespace"], j["secret_name"]]') == '["c1", "istio-system", "cacerts"]' ]] \
  || bad "c1 registered as $(cat "$REST_BODY")"
req POST /v1/clusters "${JSON[@]}" --data-binary '{"name":"c2","namespace":"mesh-system","secret_name":"mesh-cacerts"}'
want 201 "issuer POST /v1/clusters c2"
req POST /v1/clusters "${JSON[@]}" --data-binary '{"name":"c3"}'; want 201 "issuer POST /v1/clusters c3"
req GET /v1/clusters; want 200 "GET /v1/clusters"
[[ $(jget "$REST_BODY" 'sorted(c["name"] for c in j["clusters"])') == '["c1", "c2", "c3"]' ]] || bad "cluster list: $(cat "$REST_BODY")"
req POST /v1/clusters/c1/intermediates "${JSON[@]}" --data-binary '{}'; want 201 "issuer issues c1 (central key)"
cp "$REST_BODY" "$T/c1-issue.json"
C1_SERIAL=$(jget "$T/c1-issue.json" 'j["serial"]')
grep -q "PRIVATE KEY" "$T/c1-issue.json" && bad "the issue answer carries a private key"
C1_TOKEN=$(mk_token cluster c1)
C2_TOKEN=$(mk_token cluster c2)
# c2: the cluster makes its key and CSR itself; only the CSR travels.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/c2.key" -subj "/O=c2/CN=c2 ca" -out "$T/c2.csr" 2>/dev/null
python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$T/c2.csr" >"$T/c2-csr.json"
as "$C2_TOKEN"
req POST /v1/clusters/c2/csr "${JSON[@]}" --data-binary "@$T/c2-csr.json"; want 201 "cluster:c2 POST its CSR"
cp "$REST_BODY" "$T/c2-issue.json"
C2_SERIAL=$(jget "$T/c2-issue.json" 'j["serial"]')
grep -q "PRIVATE KEY" "$T/c2-issue.json" && bad "the CSR answer carries a private key"
jraw "$T/c2-issue.json" 'j["pem"]' >"$T/c2-cert.pem"
cmp -s <(openssl x509 -in "$T/c2-cert.pem" -noout -pubkey) <(openssl pkey -in "$T/c2.key" -pubout) \
  || bad "the CSR-issued certificate does not carry the CSR's public key"
cmp -s <(jraw "$T/c2-issue.json" 'j["root-cert.pem"]') "$REST_CA" || bad "the CSR answer's root-cert.pem differs from the trust bundle"

# ---- cacerts: JSON and Secret, istiod checks, equal to export -----------------------------------------------
write_bundle() {  # JSON DIR
  mkdir -p "$2"
  python3 - "$1" "$2" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for f in ("ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"):
    if f in j:
        open("%s/%s" % (sys.argv[2], f), "w").write(j[f])
PY
}
as "$C1_TOKEN"
req GET /v1/clusters/c1/cacerts; want 200 "cluster:c1 GET its cacerts"; delivered cluster:c1 c1 true
[[ "$CTYPE" == application/json* ]] || bad "cacerts content type $CTYPE"
cp "$REST_BODY" "$T/c1-cacerts.json"
[[ $(jget "$T/c1-cacerts.json" 'sorted(j)') == '["bundle_sha256", "ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem", "serial"]' ]] \
  || bad "cacerts members: $(jget "$T/c1-cacerts.json" 'sorted(j)')"
[[ $(jget "$T/c1-cacerts.json" 'j["serial"]') == "$C1_SERIAL" ]] || bad "cacerts serial is not the issued one"
write_bundle "$T/c1-cacerts.json" "$T/rest/c1"
out=$(istiod_check "$T/rest/c1") || { echo "$out" >&2; bad "the bundle fetched over REST fails istiod_check"; }
out=$(istiod_sign_workload "$T/rest/c1" "$T/rest/c1-wl") || { echo "$out" >&2; bad "a workload signed with the REST bundle does not verify"; }
as "$C2_TOKEN"
req GET /v1/clusters/c2/cacerts; want 200 "cluster:c2 GET its cacerts"; delivered cluster:c2 c2 false
cp "$REST_BODY" "$T/c2-cacerts.json"
grep -q '"ca-key.pem"' "$T/c2-cacerts.json" && bad "cacerts of a CSR-issued cluster carries ca-key.pem"
write_bundle "$T/c2-cacerts.json" "$T/rest/c2"
out=$(istiod_check "$T/rest/c2" "$T/c2.key") || { echo "$out" >&2; bad "the CSR-issued bundle fetched over REST fails istiod_check"; }

# The Secret manifests.
check_secret() {  # YAML DIR NAMESPACE NAME SERIAL FINGERPRINT KEYS
  python3 - "$@" <<'PY'
import base64, sys
import yaml
path, out, ns, name, serial, fp, keys = sys.argv[1:8]
doc = yaml.safe_load(open(path))
errs = []
def want(c, m):
    if not c:
        errs.append(m)
want(doc.get("apiVersion") == "v1" and doc.get("kind") == "Secret", "not a v1 Secret: %r" % {k: doc.get(k) for k in ("apiVersion", "kind")})
want(doc.get("type") == "Opaque", "type %r" % doc.get("type"))
md = doc.get("metadata", {})
want(md.get("name") == name and md.get("namespace") == ns, "metadata %s/%s, want %s/%s" % (md.get("namespace"), md.get("name"), ns, name))
want((md.get("labels") or {}).get("app.kubernetes.io/managed-by") == "meshtrust", "labels %r" % md.get("labels"))
ann = md.get("annotations") or {}
want(serial in ann.values(), "no annotation carries the serial %s: %r" % (serial, ann))
want(fp in [str(v).lower().replace(":", "") for v in ann.values()], "no annotation carries the SHA-256 fingerprint: %r" % ann)
data = doc.get("data") or {}
want(sorted(data) == sorted(keys.split(",")), "data keys %s, want %s" % (sorted(data), keys))
for k, v in data.items():
    open("%s/%s" % (out, k), "wb").write(base64.b64decode(v, validate=True))
if errs:
    print("; ".join(errs))
    sys.exit(1)
PY
}
req GET "/v1/certificates/$C1_SERIAL"; want 403 "cluster:c2 GET /v1/certificates/{serial}"   # (one authz.failure)
as "$ADMIN"; req GET "/v1/certificates/$C1_SERIAL"; want 200 "GET /v1/certificates/{c1 serial}"; C1_FP=$(jget "$REST_BODY" 'j["fingerprint_sha256"]')
req GET "/v1/certificates/$C2_SERIAL"; C2_FP=$(jget "$REST_BODY" 'j["fingerprint_sha256"]')
as "$C1_TOKEN"
req GET "/v1/clusters/c1/cacerts?format=secret"; want 200 "cluster:c1 GET cacerts?format=secret"; delivered cluster:c1 c1 true
[[ "$CTYPE" == application/yaml* || "$CTYPE" == application/x-yaml* ]] || bad "the Secret's content type is $CTYPE"
mkdir -p "$T/secret/c1"; cp "$REST_BODY" "$T/c1-secret.yaml"
out=$(check_secret "$T/c1-secret.yaml" "$T/secret/c1" istio-system cacerts "$C1_SERIAL" "$C1_FP" ca-cert.pem,ca-key.pem,cert-chain.pem,root-cert.pem) \
  || bad "c1's Secret: $out"
for f in ca-cert.pem ca-key.pem cert-chain.pem root-cert.pem; do
  cmp -s "$T/secret/c1/$f" "$T/rest/c1/$f" || bad "the Secret's $f differs from the JSON answer's"
done
out=$(istiod_check "$T/secret/c1") || { echo "$out" >&2; bad "the Secret's files fail istiod_check"; }
as "$C2_TOKEN"
req GET "/v1/clusters/c2/cacerts?format=secret"; want 200 "cluster:c2 GET cacerts?format=secret"; delivered cluster:c2 c2 false
mkdir -p "$T/secret/c2"; cp "$REST_BODY" "$T/c2-secret.yaml"
out=$(check_secret "$T/c2-secret.yaml" "$T/secret/c2" mesh-system mesh-cacerts "$C2_SERIAL" "$C2_FP" ca-cert.pem,cert-chain.pem,root-cert.pem) \
  || bad "c2's Secret: $out"
out=$(istiod_check "$T/secret/c2" "$T/c2.key") || { echo "$out" >&2; bad "c2's Secret files fail istiod_check"; }
# An admin and an issuer get the key too; an auditor never.
for who in admin issuer auditor; do
  case $who in admin) as "$ADMIN" ;; issuer) as "$ISSUER" ;; auditor) as "$AUDITOR" ;; esac
  req GET /v1/clusters/c1/cacerts; want 200 "$who GET c1's cacerts"
  if [[ $who == auditor ]]; then
    delivered auditor:aude c1 false
    grep -q "PRIVATE KEY" "$REST_BODY" && bad "the auditor received c1's key"
  else
    delivered "$( [[ $who == admin ]] && echo admin:alice || echo issuer:ivan)" c1 true
    cmp -s <(jraw "$REST_BODY" 'j["ca-key.pem"]') "$T/rest/c1/ca-key.pem" || bad "$who got another key for c1"
  fi
done
# Equal to what the CLI exports (run locally while the server runs).
"$M" export c1 c2 --out "$T/export" >/dev/null
cmp -s "$T/trust-bundle.pem" "$T/export/root-cert.pem" || bad "GET /v1/trust-bundle differs from export's root-cert.pem"
for f in ca-cert.pem ca-key.pem cert-chain.pem root-cert.pem; do
  cmp -s "$T/rest/c1/$f" "$T/export/c1/$f" || bad "REST c1/$f differs from export's"
done
for f in ca-cert.pem cert-chain.pem root-cert.pem; do
  cmp -s "$T/rest/c2/$f" "$T/export/c2/$f" || bad "REST c2/$f differs from export's"
done

# ---- Certificates ------------------------------------------------------------------------------------------
as "$AUDITOR"
req GET /v1/certificates; want 200 "GET /v1/certificates"
python3 - "$REST_BODY" "$C1_SERIAL" "$C2_SERIAL" <<'PY' || bad "certificate list: $(head -c 600 "$REST_BODY")"
import json, sys
cs = json.load(open(sys.argv[1]))["certificates"]
by = {c["serial"]: c for c in cs}
kinds = sorted(c["kind"] for c in cs)
assert kinds.count("root") == 1 and kinds.count("intermediate") == 2 and "server" in kinds, kinds
assert by[sys.argv[2]]["cluster"] == "c1" and by[sys.argv[2]]["key_held_by"] == "meshtrust", by[sys.argv[2]]
assert by[sys.argv[3]]["cluster"] == "c2" and by[sys.argv[3]]["key_held_by"] != "meshtrust", by[sys.argv[3]]
assert all("pem" not in c and "key" not in c for c in cs)
PY
req GET "/v1/certificates?cluster=c1"; want 200 "GET /v1/certificates?cluster=c1"
[[ $(jget "$REST_BODY" '[c["serial"] for c in j["certificates"]]') == "[\"$C1_SERIAL\"]" ]] || bad "?cluster=c1 gave $(cat "$REST_BODY")"
req GET "/v1/certificates?status=active&expiring_within=400"; want 200 "GET /v1/certificates?expiring_within=400"
[[ $(jget "$REST_BODY" 'sorted(c["kind"] for c in j["certificates"])') == '["intermediate", "intermediate", "server"]' ]] \
  || bad "?expiring_within=400 gave $(jget "$REST_BODY" '[(c["kind"], c["not_after"]) for c in j["certificates"]]')"
req GET "/v1/certificates?status=revoked"; [[ $(jget "$REST_BODY" 'len(j["certificates"])') == 0 ]] || bad "?status=revoked is not empty"
req GET "/v1/certificates/$C1_SERIAL"; want 200 "GET /v1/certificates/{serial}"
cmp -s <(jraw "$REST_BODY" 'j["pem"]') "$T/rest/c1/ca-cert.pem" || bad "the certificate's pem differs from c1's ca-cert.pem"

# ---- Tokens over REST --------------------------------------------------------------------------------------
as "$ADMIN"
req POST /v1/tokens "${JSON[@]}" --data-binary '{"role":"auditor","name":"temp","ttl_seconds":3600}'; want 201 "POST /v1/tokens"
TEMP=$(jget "$REST_BODY" 'j["token"]'); TEMP_ID=$(jget "$REST_BODY" 'j["id"]')
[[ "$TEMP" == "mtk_${TEMP_ID}_"* ]] || bad "token $TEMP does not carry its id $TEMP_ID"
[[ $(jget "$REST_BODY" 'j["expires_at"] is not None and j["role"] == "auditor" and j["name"] == "temp"') == true ]] \
  || bad "token record: $(cat "$REST_BODY")"
req GET /v1/tokens; want 200 "GET /v1/tokens"
grep -q "${TEMP##*_}" "$REST_BODY" && bad "GET /v1/tokens shows a token secret"
grep -q '"mtk_' "$REST_BODY" && bad "GET /v1/tokens shows a token"
[[ $(jget "$REST_BODY" "[t['revoked'] for t in j['tokens'] if t['id'] == '$TEMP_ID']") == '[false]' ]] || bad "the new token is not listed as active"
as "$TEMP"; req GET /v1/clusters; want 200 "the new token"
as "$ADMIN"; req DELETE "/v1/tokens/$TEMP_ID"; want 204 "DELETE /v1/tokens/{id}"
as "$TEMP"; REST_SRC=127.0.5.5; req GET /v1/clusters; REST_SRC=""
[[ $CODE == 401 ]] || bad "a revoked token still works: HTTP $CODE"
as "$ADMIN"; req GET /v1/tokens
[[ $(jget "$REST_BODY" "[t['revoked'] for t in j['tokens'] if t['id'] == '$TEMP_ID']") == '[true]' ]] || bad "the revoked token is not listed as revoked"

# ---- Audit: events, head, proofs, signature ------------------------------------------------------------------
as "$AUDITOR"
req GET /v1/audit/tree-head; want 200 "GET /v1/audit/tree-head"; cp "$REST_BODY" "$T/head1.json"
SIZE1=$(jget "$T/head1.json" 'j["tree_size"]')
req GET "/v1/audit/events?limit=1000"; want 200 "GET /v1/audit/events"; cp "$REST_BODY" "$T/events.json"
[[ $(jget "$T/events.json" 'len(j["events"])') == "$SIZE1" ]] || bad "events ($(jget "$T/events.json" 'len(j["events"])')) != tree_size $SIZE1"
python3 - "$T/events.json" <<'PY' || bad "events do not match their leaves"
import json, sys
for e in json.load(open(sys.argv[1]))["events"]:
    leaf = json.loads(e["leaf"])
    assert e["leaf"] == json.dumps(leaf, sort_keys=True, separators=(",", ":"), ensure_ascii=False), e["index"]
    assert {k: v for k, v in e.items() if k != "leaf"} == leaf, e["index"]
    for k in ("index", "time", "actor", "action", "cluster", "serial", "outcome", "details"):
        assert k in leaf, (e["index"], k)
PY
# Paging: pages of 4 concatenate to the whole log.
cursor=""; : >"$T/paged"
for i in $(seq 1 100); do
  req GET "/v1/audit/events?limit=4${cursor:+&cursor=$cursor}"; want 200 "GET /v1/audit/events page"
  jget "$REST_BODY" '"\n".join(e["leaf"] for e in j["events"])' >>"$T/paged"
  cursor=$(jget "$REST_BODY" 'j["next_cursor"] or ""')
  [[ -n "$cursor" ]] || break
done
cmp -s "$T/paged" <(jget "$T/events.json" '"\n".join(e["leaf"] for e in j["events"])') || bad "paged events differ from one page"
req GET "/v1/audit/events?cluster=c2&action=bundle.deliver"
[[ $(jget "$REST_BODY" 'sorted(set((e["cluster"], e["action"]) for e in j["events"]))') == '[["c2", "bundle.deliver"]]' ]] \
  || bad "filters cluster+action: $(head -c 300 "$REST_BODY")"
req GET "/v1/audit/events?actor=cluster:c2&outcome=success"
[[ $(jget "$REST_BODY" 'len(j["events"]) == 3 and {e["actor"] for e in j["events"]} == {"cluster:c2"} and [e["action"].split(".")[0] for e in j["events"]] == ["intermediate", "bundle", "bundle"]') == true ]] \
  || bad "events by cluster:c2 (its CSR, then two deliveries): $(jget "$REST_BODY" '[(e["actor"], e["action"]) for e in j["events"]]')"
req GET "/v1/audit/events?outcome=failure"
[[ $(jget "$REST_BODY" '[(e["action"], e["actor"]) for e in j["events"]]') == '[["authz.failure", "cluster:c2"], ["auth.failure", "anonymous:127.0.5.5"]]' ]] \
  || bad "failures: $(jget "$REST_BODY" '[(e["action"], e["actor"]) for e in j["events"]]')"
# Inclusion proof of every event against the head.
for i in $(seq 0 $((SIZE1 - 1))); do
  jraw "$T/events.json" "j['events'][$i]['leaf']" >"$T/leaf"
  req GET "/v1/audit/proof/inclusion?index=$i&tree_size=$SIZE1"; want 200 "inclusion proof $i"
  python3 "$HERE/lib/ct_verify.py" inclusion "$T/leaf" "$REST_BODY" "$T/head1.json" || bad "inclusion proof for event $i does not verify"
done
echo '{"forged":true}' >"$T/leaf"; req GET "/v1/audit/proof/inclusion?index=0&tree_size=$SIZE1"
python3 "$HERE/lib/ct_verify.py" inclusion "$T/leaf" "$REST_BODY" "$T/head1.json" 2>/dev/null && bad "a forged leaf verified"
# The head signature, with openssl and the served public key.
req GET /v1/audit/public-key; want 200 "GET /v1/audit/public-key"; cp "$REST_BODY" "$T/audit.pem"
openssl pkey -pubin -in "$T/audit.pem" -noout 2>/dev/null || bad "the audit public key is not a PEM public key"
head_sig_ok() {
  python3 - "$1" "$T/msg" "$T/sig" <<'PY'
import base64, json, sys
h = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write("meshtrust-tree-head-v1\n%d\n%s\n%d\n" % (h["tree_size"], h["root_hash"], h["timestamp"]))
open(sys.argv[3], "wb").write(base64.b64decode(h["signature"]))
PY
  openssl dgst -sha256 -verify "$T/audit.pem" -signature "$T/sig" "$T/msg" >/dev/null 2>&1
}
head_sig_ok "$T/head1.json" || bad "the tree head signature does not verify with openssl"
# Consistency with a later head.
as "$ISSUER"; req POST /v1/clusters "${JSON[@]}" --data-binary '{"name":"c4"}'; want 201 "POST /v1/clusters c4"
as "$AUDITOR"; req GET /v1/audit/tree-head; cp "$REST_BODY" "$T/head2.json"; SIZE2=$(jget "$T/head2.json" 'j["tree_size"]')
(( SIZE2 > SIZE1 )) || bad "the log did not grow ($SIZE1 -> $SIZE2)"
head_sig_ok "$T/head2.json" || bad "the second tree head signature does not verify"
req GET "/v1/audit/proof/consistency?first=$SIZE1&second=$SIZE2"; want 200 "consistency proof"
python3 "$HERE/lib/ct_verify.py" consistency "$T/head1.json" "$T/head2.json" "$REST_BODY" || bad "the consistency proof does not verify"
sed 's/"root_hash":"[0-9a-f]/"root_hash":"f/' "$T/head1.json" >"$T/head1-forged.json"
if ! cmp -s "$T/head1.json" "$T/head1-forged.json"; then
  python3 "$HERE/lib/ct_verify.py" consistency "$T/head1-forged.json" "$T/head2.json" "$REST_BODY" && bad "a forged old head was found consistent"
fi

# ---- Metrics ------------------------------------------------------------------------------------------------
req GET /metrics; want 200 "GET /metrics"
[[ "$CTYPE" == text/plain* ]] || bad "/metrics content type $CTYPE"
cp "$REST_BODY" "$T/metrics"
python3 - "$T/metrics" "$C1_SERIAL" <<'PY' || bad "metrics: $(grep -E 'requests_total|expiry' "$T/metrics" | head -c 800)"
import re, sys
text = open(sys.argv[1]).read()
c1 = sys.argv[2]
def value(pattern):
    for line in text.splitlines():
        if re.match(pattern, line):
            return float(line.rsplit(" ", 1)[1])
    return None
v = value(r'meshtrust_http_requests_total\{[^}]*route="clusters\.cacerts"[^}]*code="200"[^}]*\} ')
assert v is not None and v >= 7, ("cacerts 200 counter", v)
assert value(r'meshtrust_http_requests_total\{[^}]*code="401"[^}]*\} ') is not None, "no 401 counter"
e = value(r'meshtrust_certificate_expiry_seconds\{[^}]*cluster="c1"[^}]*\} ')
assert e is not None and 364 * 86400 < e <= 366 * 86400, ("c1 expiry seconds", e)
assert re.search(r'meshtrust_certificate_expiry_seconds\{[^}]*cluster="c1"[^}]*serial="%s"' % c1, text), "c1's serial label"
r = value(r'meshtrust_certificate_expiry_seconds\{[^}]*kind="root"[^}]*\} ')
assert r is not None and r > 3600 * 86400, ("root expiry seconds", r)
assert "# TYPE meshtrust_http_request_duration_seconds histogram" in text
for line in text.splitlines():
    assert line.startswith("#") or re.match(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.e+-]+$', line), line
PY

# ---- OpenAPI document vs. what the server serves ---------------------------------------------------------------
as ""
req GET /v1/openapi.json; want 200 "GET /v1/openapi.json (anonymous)"
cp "$REST_BODY" "$T/openapi.json"
# The routes registered in api/routes_*.cpp, with their roles.
cat >"$T/routes.txt" <<'EOF'
GET /healthz anonymous healthz
GET /readyz anonymous readyz
GET /metrics admin,issuer,auditor metrics
GET /v1/trust-bundle anonymous trust-bundle
GET /v1/openapi.json anonymous openapi
GET /v1/clusters admin,issuer,auditor clusters.list
POST /v1/clusters admin,issuer clusters.create
GET /v1/clusters/{name} admin,issuer,auditor,cluster:<name> clusters.get
DELETE /v1/clusters/{name} admin,issuer clusters.delete
POST /v1/clusters/{name}/intermediates admin,issuer clusters.issue
POST /v1/clusters/{name}/csr admin,issuer,cluster:<name> clusters.csr
GET /v1/clusters/{name}/cacerts admin,issuer,auditor,cluster:<name> clusters.cacerts
GET /v1/certificates admin,issuer,auditor certificates.list
GET /v1/certificates/{serial} admin,issuer,auditor certificates.get
GET /v1/audit/events admin,auditor audit.events
GET /v1/audit/tree-head admin,auditor audit.tree-head
GET /v1/audit/proof/inclusion admin,auditor audit.inclusion
GET /v1/audit/proof/consistency admin,auditor audit.consistency
GET /v1/audit/public-key admin,auditor audit.public-key
POST /v1/tokens admin tokens.create
GET /v1/tokens admin tokens.list
DELETE /v1/tokens/{id} admin tokens.revoke
POST /v1/client-certificates admin client_certificates.create
POST /v1/push admin,issuer push.fleet
POST /v1/clusters/{name}/push admin,issuer clusters.push
GET /v1/clusters/{name}/check admin,issuer clusters.check
GET /v1/clusters/{name}/pushes admin,issuer,auditor,cluster:<name> clusters.pushes
POST /v1/certificates/{serial}/revoke admin,issuer certificates.revoke
GET /v1/crl anonymous crl
GET /v1/status admin,issuer,auditor status
EOF
python3 - "$T/openapi.json" "$T/routes.txt" >"$T/ops.txt" 2>"$T/openapi.err" <<'PY' || bad "openapi: $(cat "$T/openapi.err")"
import json, sys
doc = json.load(open(sys.argv[1]))
errs = []
if not str(doc.get("openapi", "")).startswith("3."):
    errs.append("openapi version %r" % doc.get("openapi"))
listed = {}
for path, item in doc.get("paths", {}).items():
    for m, op in item.items():
        if m in ("get", "post", "put", "patch", "delete", "head", "options"):
            listed[(m.upper(), path)] = op
routes = {}
for line in open(sys.argv[2]):
    m, p, roles, _route = line.split()
    routes[(m, p)] = roles.split(",")
for k in sorted(set(routes) - set(listed)):
    errs.append("served but not in the document: %s %s" % k)
for k in sorted(set(listed) - set(routes)):
    errs.append("in the document but not registered in api/routes_*.cpp: %s %s" % k)
for k in sorted(set(routes) & set(listed)):
    xr = listed[k].get("x-roles")
    if sorted(xr or []) != sorted(routes[k]):
        errs.append("%s %s: x-roles %s, the server allows %s" % (k[0], k[1], xr, routes[k]))
    if routes[k] == ["anonymous"] and listed[k].get("security") != []:
        errs.append("%s %s: anonymous but security is %r" % (k[0], k[1], listed[k].get("security")))
for (m, p), op in sorted(listed.items()):
    codes = ",".join(sorted(op.get("responses", {})))
    props = ",".join(sorted(op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("properties", {})))
    print(m, p, codes, props or "-")
print("\n".join(errs), file=sys.stderr)
sys.exit(1 if errs else 0)
PY
[[ $(wc -l <"$T/ops.txt") == 30 ]] || bad "the OpenAPI document lists $(wc -l <"$T/ops.txt") operations, want 30"
probe_path() { local p="${1//\{name\}/probe-none}"; p="${p//\{serial\}/00}"; echo "${p//\{id\}/0000000000000000}"; }
is_generic_404() { [[ $CODE == 404 ]] && grep -q '"detail":"no such endpoint' "$REST_BODY"; }
as "$ADMIN"
# Every listed operation answers (without changing anything), with a documented status; each documented body
# field is known; an undocumented one is refused by name.
while read -r m p codes props; do
  u=$(probe_path "$p"); extra=()
  [[ $m == POST || $m == PUT || $m == PATCH ]] && extra=("${JSON[@]}" --data-binary '{}')
  req "$m" "$u" "${extra[@]}"
  if is_generic_404; then bad "documented $m $p is not served (generic 404)"; continue; fi
  [[ ",$codes," == *",$CODE,"* ]] || bad "$m $p answered $CODE, not among its documented responses ($codes)"
  if [[ "$props" != "-" ]]; then
    for f in ${props//,/ }; do
      case $f in days|ttl_seconds) v=1 ;; *) v='"x"' ;; esac
      req "$m" "$u" "${JSON[@]}" --data-binary "{\"$f\":$v}"
      grep -q "unknown field" "$REST_BODY" && bad "$m $p: documented field '$f' is unknown to the server"
    done
    req "$m" "$u" "${JSON[@]}" --data-binary '{"undocumented":1}'
    grep -q "unknown field 'undocumented'" "$REST_BODY" || bad "$m $p: an undocumented field was not refused ($CODE $(head -c 200 "$REST_BODY"))"
  fi
done <"$T/ops.txt"
# No method or contract path (architecture.md) is served without being documented.
{ cut -d' ' -f2 "$T/ops.txt"; printf '%s\n' /v1/crl '/v1/clusters/{name}/push' '/v1/certificates/{serial}/revoke'; } | sort -u >"$T/paths.txt"
while read -r p; do
  u=$(probe_path "$p")
  for m in GET POST PUT PATCH DELETE; do
    grep -q "^$m $p " "$T/ops.txt" && continue
    extra=(); [[ $m == POST || $m == PUT || $m == PATCH ]] && extra=("${JSON[@]}" --data-binary '{}')
    req "$m" "$u" "${extra[@]}"
    is_generic_404 || bad "$m $p is served ($CODE $(head -c 160 "$REST_BODY")) but not in the OpenAPI document"
  done
done <"$T/paths.txt"

# Answers this test has not provoked yet, for the check of every status against the document (at the end):
# a bad token on an anonymous route, revoking a revoked token, a chunked oversized body.
REST_AUTH_HEADER="Bearer mtk_bad"; REST_SRC=127.0.5.6; req GET /healthz; REST_AUTH_HEADER=""; REST_SRC=""
as "$ADMIN"; req DELETE "/v1/tokens/$TEMP_ID"
python3 -c 'import json; print(json.dumps({"csr": "x" * 70000}), end="")' >"$T/big.json"
as "$C2_TOKEN"; req POST /v1/clusters/c2/csr "${JSON[@]}" -H "Transfer-Encoding: chunked" --data-binary "@$T/big.json"

# ---- Every delivery is one bundle.deliver event ------------------------------------------------------------------
as "$AUDITOR"
req GET "/v1/audit/events?action=bundle.deliver&limit=1000"; want 200 "GET deliveries"
python3 - "$REST_BODY" "$DELIVERIES" <<'PY' || bad "bundle.deliver events do not match the deliveries"
import collections, json, sys
got = collections.Counter()
for e in json.load(open(sys.argv[1]))["events"]:
    got[(e["actor"], e["cluster"], str(e["details"].get("with_key")).lower())] += 1
    assert e["outcome"] == "success" and e["serial"], e
want = collections.Counter(tuple(l.split()) for l in open(sys.argv[2]) if l.strip())
if got != want:
    print("deliveries %s, events %s" % (sorted(want.items()), sorted(got.items())), file=sys.stderr)
    sys.exit(1)
PY

# ---- Logs: JSON lines, no secrets ------------------------------------------------------------------------------
python3 - "$T/server.log" "$ADMIN" "$ISSUER" "$AUDITOR" "$C1_TOKEN" "$C2_TOKEN" "$TEMP" "$MESHTRUST_PASSPHRASE" <<'PY' || bad "server log"
import json, sys
lines = open(sys.argv[1], encoding="utf-8", errors="replace").read().splitlines()
secrets = sys.argv[2:]
n = 0
for l in lines:
    e = json.loads(l)
    ev = e["event"]
    assert e["ts"].endswith("Z") and e["level"], l
    if ev.get("msg") == "request":
        n += 1
        for k in ("request_id", "principal", "route", "status", "latency_ms", "method"):
            assert k in ev, (k, l)
    for s in secrets:
        assert s not in l and s.split("_")[-1] not in l, "a secret in the log"
    assert "PRIVATE KEY" not in l
assert n > 50, n
PY

# ---- Graceful shutdown with a request in flight -------------------------------------------------------------------
python3 - "$REST_PORT" "$REST_CA" "$ADMIN" "$T/inflight" >"$T/inflight.out" 2>&1 <<'PY' &
import socket, ssl, sys, time, os
port, ca, token, marker = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=20), server_hostname="127.0.0.1")
body = b'{"days":30}'
s.sendall(b"POST /v1/clusters/c3/intermediates HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token.encode() +
          b"\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(body) + body[:5])
open(marker, "w").close()          # the request is on the wire; the test now sends SIGTERM
time.sleep(1.0)
s.sendall(body[5:])
out = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    out += c
print(out.split(b"\r\n", 1)[0].decode())
print(out.rsplit(b"\r\n\r\n", 1)[-1].decode())
PY
CLIENT=$!
for i in $(seq 1 100); do [[ -e "$T/inflight" ]] && break; sleep 0.05; done
[[ -e "$T/inflight" ]] || fail "the in-flight client never connected: $(cat "$T/inflight.out")"
sleep 0.2
kill -TERM "$REST_PID"
for i in $(seq 1 150); do kill -0 "$REST_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$REST_PID" 2>/dev/null; then kill -KILL "$REST_PID"; bad "the server did not exit within 15 s of SIGTERM"; fi
set +e; wait "$REST_PID"; rc=$?; wait "$CLIENT"; crc=$?; set -e
REST_PID=""
[[ $rc == 0 ]] || bad "the server exited with status $rc after SIGTERM, want 0"
[[ $crc == 0 ]] && grep -q "^HTTP/1.1 201" "$T/inflight.out" || bad "the in-flight request did not complete: $(head -c 300 "$T/inflight.out")"
python3 - "$T/server.log" <<'PY' || bad "the request was not in flight when the server began shutting down (log order)"
import json, sys
events = [json.loads(l)["event"] for l in open(sys.argv[1])]
stop = [i for i, e in enumerate(events) if e.get("msg") == "shutting down"]
issue = [i for i, e in enumerate(events) if e.get("route") == "clusters.issue" and e.get("status") == 201]
assert stop and issue and stop[0] < issue[-1], (stop, issue)
PY
"$M" audit verify >"$T/verify.out" 2>&1 || bad "audit verify after shutdown: $(cat "$T/verify.out")"
"$M" --output json cluster show c3 >"$T/c3.json" 2>&1 || bad "cluster show c3: $(cat "$T/c3.json")"
C3_SERIAL=$(jget "$T/c3.json" 'j.get("intermediate_serial") or ""' 2>/dev/null || true)
[[ -n "$C3_SERIAL" ]] || bad "the in-flight issuance is not on record: $(cat "$T/c3.json")"
if [[ -n "$C3_SERIAL" ]]; then
  "$M" --output json audit list --action intermediate.issue --cluster c3 | grep -q "\"serial\":\"$C3_SERIAL\"" \
    || bad "the in-flight issuance has no audit event"
fi

# Every status the server answered in this test (its request log, complete after shutdown) is documented for
# the operation.
python3 - "$T/server.log" "$T/routes.txt" "$T/ops.txt" <<'PY' || bad "statuses not in the OpenAPI document"
import collections, json, sys
route_op = {l.split()[3]: (l.split()[0], l.split()[1]) for l in open(sys.argv[2])}
documented = {(l.split()[0], l.split()[1]): set(l.split()[2].split(",")) for l in open(sys.argv[3])}
missing = collections.Counter()
for line in open(sys.argv[1]):
    e = json.loads(line)["event"]
    if e.get("msg") != "request" or e.get("route") not in route_op:
        continue
    op = route_op[e["route"]]
    if str(e["status"]) not in documented.get(op, set()):
        missing[(op[0], op[1], e["status"])] += 1
for (m, p, code), n in sorted(missing.items()):
    print("FAIL: %s %s answered %d (%d times); the OpenAPI document does not list %d" % (m, p, code, n, code), file=sys.stderr)
sys.exit(1 if missing else 0)
PY

if (( FAILS > 0 )); then echo "REST API: $FAILS failure(s)" >&2; exit 1; fi
echo "REST API: all checks passed"
