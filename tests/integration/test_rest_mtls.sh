#!/usr/bin/env bash
# shellcheck disable=SC2034  # REST_* settings are read by the functions of lib/rest_common.sh
# Mutual TLS (issue 4, "optional mTLS: client certificates issued by meshtrust map to principals"):
# - `client-cert create` writes client-cert.pem (certificate, then root) and client-key.pem (0600); the
#   openssl CLI is the oracle for what was issued: `verify -x509_strict -purpose sslclient` against the
#   mesh root, a clientAuth-only leaf with the principal's URI SAN; with --csr no key file is written
#   and the certificate carries the CSR's key.
# - curl presenting the certificate is its principal: an auditor reads and may not write, a cluster
#   fetches its own bundle with the key and gets the unregistered-cluster 404 for another; the request
#   log names the principal. A certificate plus a token, a revoked certificate (refused at once over
#   REST, within a second after a local revoke), and a look-alike from another CA are 401 problem+json
#   and auth.failure events with the specific reason in the audit log only. A reconnecting client that
#   offers its old session gets a full handshake, and no TLS 1.2 session tickets are issued.
# - The CLI's remote mode with --client-cert/--client-key gives the same output as with a token; bad
#   credential files and two credentials are refused with a sentence before anything is sent.
# - Refusals leave nothing behind: existing files (without --force), a bad CSR, a bad lifetime.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/rest_common.sh
source "$HERE/lib/rest_common.sh"
export MESHTRUST_BIN="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
M="$MESHTRUST_BIN"
T="$(mktemp -d)"; trap 'set +e; rest_kill; rm -rf "$T"' EXIT
export MESHTRUST_DATA_DIR="$T/data" MESHTRUST_PASSPHRASE="mtls test"
REST_BODY="$T/body"; REST_HDRS="$T/hdrs"
client_certs() { "$M" --output json certs list | python3 -c 'import json,sys; print(sum(c["kind"] == "client" for c in json.load(sys.stdin)))'; }

"$M" init >/dev/null
for c in c1 c2; do "$M" cluster add "$c" >/dev/null; done
"$M" issue c1 c2 >/dev/null
"$M" export c1 --out "$T/export" >/dev/null
ROOT="$T/export/root-cert.pem"
REST_CA="$ROOT"

# ---- What is issued, judged by the openssl CLI ---------------------------------------------------------
"$M" client-cert create --role auditor --name carol --out "$T/carol" >"$T/out" || fail "client-cert create: $(cat "$T/out")"
grep -q "issued client certificate [0-9a-f]* for auditor:carol" "$T/out" || bad "client-cert create said: $(cat "$T/out")"
[[ $(stat -c %a "$T/carol/client-key.pem") == 600 ]] || bad "client-key.pem is mode $(stat -c %a "$T/carol/client-key.pem"), want 600"
openssl verify -x509_strict -purpose sslclient -CAfile "$ROOT" "$T/carol/client-cert.pem" >"$T/verify" 2>&1 ||
  bad "openssl verify -x509_strict -purpose sslclient: $(cat "$T/verify")"
openssl verify -x509_strict -purpose sslserver -CAfile "$ROOT" "$T/carol/client-cert.pem" >/dev/null 2>&1 &&
  bad "the client certificate is also good for a TLS server"
openssl x509 -in "$T/carol/client-cert.pem" -noout -text >"$T/text"
grep -A1 "X509v3 Extended Key Usage" "$T/text" | grep -qx " *TLS Web Client Authentication" || bad "EKU is not clientAuth only: $(grep -A1 'Extended Key Usage' "$T/text")"
grep -q "URI:urn:meshtrust:principal:auditor:carol" "$T/text" || bad "no principal URI SAN"
grep -A1 "Basic Constraints: critical" "$T/text" | grep -q "CA:FALSE" || bad "not a critical CA:FALSE leaf"
cmp -s <(openssl x509 -in "$T/carol/client-cert.pem" -noout -pubkey) <(openssl pkey -in "$T/carol/client-key.pem" -pubout) ||
  bad "client-key.pem is not the certificate's key"
# The second certificate of client-cert.pem is the mesh root.
awk '/BEGIN/ { n++ } n == 2' "$T/carol/client-cert.pem" | cmp -s - "$ROOT" || bad "client-cert.pem does not end with the mesh root"

# From a CSR: no key file, the CSR's key in the certificate.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/c1.key" -subj /CN=anything -out "$T/c1.csr" 2>/dev/null
"$M" client-cert create --role cluster --cluster c1 --csr "$T/c1.csr" --days 7 --out "$T/c1" >/dev/null || fail "client-cert create --csr"
[[ -e "$T/c1/client-key.pem" ]] && bad "a CSR-issued client certificate came with a key file"
cmp -s <(openssl x509 -in "$T/c1/client-cert.pem" -noout -pubkey) <(openssl pkey -in "$T/c1.key" -pubout) ||
  bad "the CSR's key is not in the certificate"
end=$(openssl x509 -in "$T/c1/client-cert.pem" -noout -enddate | cut -d= -f2)
days=$(( ($(date -d "$end" +%s) - $(date +%s)) / 86400 ))
[[ $days == 6 || $days == 7 ]] || bad "--days 7 gave a certificate ending in $days days"

# Refusals change nothing.
before=$(client_certs)
"$M" client-cert create --role auditor --name carol --out "$T/carol" >"$T/out" 2>&1 && bad "client-cert create overwrote existing files"
grep -q "exist" "$T/out" || bad "refusal over existing files says: $(cat "$T/out")"
echo "not a csr" >"$T/bad.csr"
"$M" client-cert create --role admin --name x --csr "$T/bad.csr" --out "$T/x1" >"$T/out" 2>&1 && bad "a bad CSR was accepted"
grep -q "CSR" "$T/out" || bad "bad CSR refusal says: $(cat "$T/out")"
"$M" client-cert create --role admin --name x --days 400 --out "$T/x2" >"$T/out" 2>&1 && bad "--days 400 was accepted"
"$M" client-cert create --role cluster --cluster nope --out "$T/x3" >"$T/out" 2>&1 && bad "a cluster certificate for an unregistered cluster"
"$M" client-cert create --role root --name x --out "$T/x4" >"$T/out" 2>&1 && bad "role root was accepted"
[[ $(client_certs) == "$before" ]] || bad "refused client-cert create calls issued certificates"
for d in x1 x2 x3 x4; do [[ -e "$T/$d" ]] && bad "a refused client-cert create left $d behind"; done

# ---- Over REST --------------------------------------------------------------------------------------------
ADMIN=$(cli_token admin alice)
AUDITOR_TOKEN=$(cli_token auditor aude)
rest_start "$MESHTRUST_DATA_DIR" "$T/server.log"
as_cert() { REST_TOKEN=""; REST_CERT="$1/client-cert.pem"; REST_KEY="$2"; }
as_cert "$T/carol" "$T/carol/client-key.pem"
req GET /v1/clusters; [[ $CODE == 200 ]] || bad "auditor certificate GET /v1/clusters: HTTP $CODE $(head -c 200 "$REST_BODY")"
req POST /v1/clusters -H "Content-Type: application/json" -d '{"name":"c9"}'
[[ $CODE == 403 ]] || bad "auditor certificate POST /v1/clusters: HTTP $CODE, want 403"
req GET /v1/clusters/c1/cacerts
[[ $CODE == 200 ]] && grep -q '"ca-key.pem"' "$REST_BODY" && bad "the auditor's certificate got ca-key.pem"
as_cert "$T/c1" "$T/c1.key"
req GET /v1/clusters/c1/cacerts
[[ $CODE == 200 ]] || bad "cluster:c1 certificate GET its cacerts: HTTP $CODE"
grep -q '"ca-key.pem":"-----BEGIN PRIVATE KEY' "$REST_BODY" || bad "cluster:c1's certificate did not get its key"
req GET /v1/clusters/c2/cacerts; a="$CODE $(sed 's/c2/cX/g' "$REST_BODY")"
req GET /v1/clusters/c3/cacerts; b="$CODE $(sed 's/c3/cX/g' "$REST_BODY")"
[[ "$a" == "$b" && $CODE == 404 ]] || bad "cluster:c1's certificate on c2 is not the unregistered-cluster 404: '$a' vs '$b'"

# Two credentials in one request: refused.
as_cert "$T/carol" "$T/carol/client-key.pem"; REST_TOKEN="$AUDITOR_TOKEN"; REST_SRC=127.0.3.1
req GET /v1/clusters
[[ $CODE == 401 ]] || bad "certificate plus token: HTTP $CODE, want 401"
problem_ok "$REST_BODY" "$CODE" "$CTYPE" >/dev/null || bad "certificate plus token: not problem+json"
# A look-alike: the same subject and SAN from another CA.
mkdir -p "$T/fake"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/fake/ca.key" -out "$T/fake/ca.pem" \
  -days 2 -subj "/O=Istio/CN=Root CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/fake/key.pem" -out "$T/fake/req.csr" \
  -subj "/O=meshtrust/OU=admin/CN=alice" 2>/dev/null
printf 'extendedKeyUsage=clientAuth\nsubjectAltName=URI:urn:meshtrust:principal:admin:alice\n' >"$T/fake/ext"
openssl x509 -req -in "$T/fake/req.csr" -CA "$T/fake/ca.pem" -CAkey "$T/fake/ca.key" -set_serial 5 -days 1 \
  -extfile "$T/fake/ext" -out "$T/fake/client-cert.pem" 2>/dev/null
as_cert "$T/fake" "$T/fake/key.pem"; REST_SRC=127.0.3.2
req GET /v1/clusters
[[ $CODE == 401 ]] || bad "a look-alike admin certificate: HTTP $CODE, want 401"
# Revoked over REST: refused from the next request on.
"$M" client-cert create --role admin --name bob --out "$T/bob" >/dev/null
BOB=$(openssl x509 -in "$T/bob/client-cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
as_cert "$T/bob" "$T/bob/client-key.pem"; REST_SRC=""
req GET /v1/tokens; [[ $CODE == 200 ]] || bad "admin certificate GET /v1/tokens: HTTP $CODE"
REST_CERT=""; REST_TOKEN="$ADMIN"
req POST "/v1/certificates/$BOB/revoke" -H "Content-Type: application/json" -d '{"reason":"keyCompromise"}'
[[ $CODE == 200 ]] || bad "revoking bob's certificate over REST: HTTP $CODE"
as_cert "$T/bob" "$T/bob/client-key.pem"; REST_SRC=127.0.3.3
req GET /v1/tokens; [[ $CODE == 401 ]] || bad "a certificate revoked over REST: HTTP $CODE, want 401"
# Revoked by the local CLI next to the server: refused within about a second.
"$M" client-cert create --role admin --name dave --out "$T/dave" >/dev/null
DAVE=$(openssl x509 -in "$T/dave/client-cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
as_cert "$T/dave" "$T/dave/client-key.pem"; REST_SRC=""
req GET /v1/tokens; [[ $CODE == 200 ]] || bad "dave's certificate before revocation: HTTP $CODE"
"$M" revoke "$DAVE" --reason superseded >/dev/null
sleep 1.2
REST_SRC=127.0.3.4; req GET /v1/tokens; [[ $CODE == 401 ]] || bad "a certificate revoked by the local CLI still works after 1.2 s: HTTP $CODE"
REST_CERT=""; REST_SRC=""

# The audit log has the specific reasons; the answers did not.
REST_TOKEN="$ADMIN"
req GET "/v1/audit/events?action=auth.failure&limit=100"; cp "$REST_BODY" "$T/failures.json"
python3 - "$T/failures.json" "$BOB" "$DAVE" <<'PY' || bad "audit events for refused certificates"
import json, sys
ev = {e["details"]["peer"]: e["details"]["reason"] for e in json.load(open(sys.argv[1]))["events"]}
want = {"127.0.3.1": "both a client certificate and a bearer token",
        "127.0.3.2": "the client certificate is not one meshtrust issued for a principal",
        "127.0.3.3": "the client certificate %s is revoked" % sys.argv[2],
        "127.0.3.4": "the client certificate %s is revoked" % sys.argv[3]}
for peer, reason in want.items():
    if ev.get(peer) != reason:
        sys.exit("peer %s: audit reason %r, want %r" % (peer, ev.get(peer), reason))
PY
sleep 1.1   # the request log is written in blocks, at least every second
python3 - "$T/server.log" <<'PY' || bad "request log"
import json, sys
principals = set()
for line in open(sys.argv[1]):
    try:
        e = json.loads(line)["event"]
    except Exception:
        continue
    if isinstance(e, dict) and e.get("msg") == "request":
        principals.add(e["principal"])
    assert "PRIVATE KEY" not in line, "a key in the server log"
for p in ("auditor:carol", "cluster:c1", "admin:bob"):
    assert p in principals, "no request logged for %s (%s)" % (p, sorted(principals))
PY

# A client offering to resume a session (as wrk and many others do after a reconnect) gets a full
# handshake: OpenSSL fails such a handshake when peer verification is on and no session id context is
# set. And no stateless TLS 1.2 session tickets are issued (see api/tls_identity.cpp).
for who in anonymous carol; do
  for proto in -tls1_2 -tls1_3; do
    creds=(); [[ $who == carol ]] && creds=(-cert "$T/carol/client-cert.pem" -key "$T/carol/client-key.pem")
    echo | openssl s_client -connect "127.0.0.1:$REST_PORT" "$proto" -reconnect -CAfile "$ROOT" "${creds[@]}" >"$T/resume" 2>&1 || true
    [[ $(grep -cE '^(New|Reused), ' "$T/resume") == 6 ]] ||
      bad "reconnecting with a session offer ($who, $proto): not 6 handshakes: $(grep -E '^(New|Reused)|error' "$T/resume" | head -5)"
    # (TLS 1.3 tickets with SSL_OP_NO_TICKET are stateful, mere ids into the server's cache.)
    [[ $proto == -tls1_2 ]] && grep -q "TLS session ticket:" "$T/resume" && bad "the server issued a TLS 1.2 session ticket ($who)"
  done
done

# ---- The CLI's remote mode with a client certificate ------------------------------------------------------
"$M" client-cert create --role admin --name erin --out "$T/erin" >/dev/null
RC=("$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/erin/client-cert.pem" --client-key "$T/erin/client-key.pem")
RT=("$M" --server "$REST_URL" --ca-file "$ROOT" --token "$ADMIN")
for cmd in "cluster list" "cluster show c1" "certs list --cluster c1" "token list"; do
  "${RC[@]}" --output json $cmd >"$T/a" 2>&1 || bad "remote '$cmd' with a client certificate failed: $(head -c 300 "$T/a")"
  "${RT[@]}" --output json $cmd >"$T/b" 2>&1 || bad "remote '$cmd' with a token failed: $(head -c 300 "$T/b")"
  cmp -s "$T/a" "$T/b" || bad "'$cmd' differs between certificate and token"
done
"${RC[@]}" client-cert create --role issuer --name frank --out "$T/frank" >/dev/null || bad "remote client-cert create"
[[ $(stat -c %a "$T/frank/client-key.pem" 2>/dev/null) == 600 ]] || bad "remote client-cert create: no 0600 key file"
before=$(client_certs)
check_refused() {  # NAME EXPECTED-WORD CLI-ARGS...: exit non-zero with a sentence containing the word
  local name="$1" word="$2"; shift 2
  if "$@" cluster list >"$T/out" 2>&1; then bad "$name: accepted"; return; fi
  grep -qi -- "$word" "$T/out" || bad "$name: the error does not say '$word': $(head -c 300 "$T/out")"
}
check_refused "certificate and token" "not both" "${RC[@]}" --token "$ADMIN"
check_refused "certificate without key" "together" "$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/erin/client-cert.pem"
check_refused "the wrong key" "not the key" "$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/erin/client-cert.pem" \
  --client-key "$T/carol/client-key.pem"
check_refused "a missing certificate file" "does not exist" "$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/nope.pem" \
  --client-key "$T/erin/client-key.pem"
check_refused "a key file that is not PEM" "client" "$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/erin/client-cert.pem" \
  --client-key "$T/bad.csr"
check_refused "a revoked certificate" "server refused" "$M" --server "$REST_URL" --ca-file "$ROOT" --client-cert "$T/bob/client-cert.pem" \
  --client-key "$T/bob/client-key.pem"
[[ $(client_certs) == "$before" ]] || bad "refused remote calls changed the certificates"
healthy || bad "the server is not healthy at the end"
"$M" audit verify >/dev/null || bad "audit verify failed"

rest_stop
((FAILS == 0)) || fail "$FAILS check(s) failed"
echo "PASS: mutual TLS"
