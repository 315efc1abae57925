#!/usr/bin/env bash
# shellcheck disable=SC2034  # REST_* settings are read by the functions of lib/rest_common.sh
# REST authorization matrix (issue 4, acceptance 1): every route registered in api/routes_*.cpp × every
# principal — admin, issuer, auditor, cluster:c1 on its own cluster, cluster:c1 on another cluster (c2), a
# revoked token, an expired token, malformed Authorization headers ("Bearer", "Basic x", "Bearer mtk_bad"),
# no token, and client certificates (mutual TLS): an auditor's, cluster:c1's, a revoked one, a look-alike
# meshtrust never issued, and a valid one sent together with a token — gets the expected status. Denied answers are problem+json and leak nothing (no PEM, no
# key, no token, no other cluster's data); 401s carry a Bearer challenge; a cluster asking about another
# cluster gets exactly the 404 of an unregistered cluster; cacerts carries ca-key.pem for cluster:c1,
# admin and issuer but never for the auditor; every 401/403 (and hidden 404) is one
# auth.failure/authz.failure audit event; mutating cells use throwaway clusters and tokens and the denied
# ones change nothing; repeated authentication failures from one peer are slowed down.
#
# The expired token: the CLI's minimum lifetime is 1 h and the API's 60 s, so the test creates a 1 h
# token and moves its expiry into the past directly in the tokens table (a test-only edit, made before
# the server starts).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/rest_common.sh
source "$HERE/lib/rest_common.sh"
export MESHTRUST_BIN="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
M="$MESHTRUST_BIN"
T="$(mktemp -d)"; trap 'set +e; rest_kill; rm -rf "$T"' EXIT
export MESHTRUST_DATA_DIR="$T/data" MESHTRUST_PASSPHRASE="authz matrix test"
REST_BODY="$T/body"; REST_HDRS="$T/hdrs"

# ---- Setup: root, clusters, tokens ------------------------------------------------------------------
# (Each mutating CLI call unlocks the keys, ~0.3 s: the CLI makes the root, c1/c2 and two tokens; the
# rest is created through the API as admin once the server runs.)
"$M" init >/dev/null
for c in c1 c2; do "$M" cluster add "$c" >/dev/null; done
"$M" issue c1 c2 >/dev/null
"$M" export c1 --out "$T/export" >/dev/null
REST_CA="$T/export/root-cert.pem"
declare -A TOK
TOK[admin]=$(cli_token admin alice)
TOK[expired]=$("$M" --output json token create --role admin --name old --ttl-hours 1 |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')   # an expired admin token:
python3 - "$MESHTRUST_DATA_DIR/meshtrust.db" "$(token_id "${TOK[expired]}")" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("UPDATE tokens SET expires_at_ms = created_at_ms - 1000 WHERE id = ?", (sys.argv[2],)).rowcount
db.commit()
sys.exit(0 if n == 1 else 1)
PY

rest_start "$MESHTRUST_DATA_DIR" "$T/server.log"
REST_TOKEN="${TOK[admin]}"
for c in c3 iss-admin iss-issuer iss-victim csr-admin csr-issuer csr-victim del-admin del-issuer del-victim; do
  req POST /v1/clusters -H "Content-Type: application/json" -d "{\"name\":\"$c\"}"
  [[ $CODE == 201 ]] || fail "admin POST /v1/clusters $c: HTTP $CODE $(head -c 300 "$REST_BODY")"
done
api_token() {  # ROLE NAME -> a token made through POST /v1/tokens as admin
  local body
  if [[ $1 == cluster ]]; then body="{\"role\":\"cluster\",\"cluster\":\"$2\"}"; else body="{\"role\":\"$1\",\"name\":\"$2\"}"; fi
  REST_TOKEN="${TOK[admin]}" req POST /v1/tokens -H "Content-Type: application/json" -d "$body"
  [[ $CODE == 201 ]] || fail "admin POST /v1/tokens $body: HTTP $CODE $(head -c 300 "$REST_BODY")"
  jget "$REST_BODY" 'j["token"]'
}
TOK[issuer]=$(api_token issuer ivan)
TOK[auditor]=$(api_token auditor aude)
TOK[c1]=$(api_token cluster c1)
TOK[c1x]="${TOK[c1]}"
TOK[c3]=$(api_token cluster c3)
TOK[revoked]=$(api_token cluster c1)                   # a revoked cluster:c1 token
req DELETE "/v1/tokens/$(token_id "${TOK[revoked]}")"; [[ $CODE == 204 ]] || fail "revoking a token: HTTP $CODE"
api_cert() {  # DIR ROLE NAME: a client certificate (and key) made through POST /v1/client-certificates as admin
  local body
  if [[ $2 == cluster ]]; then body="{\"role\":\"cluster\",\"cluster\":\"$3\"}"; else body="{\"role\":\"$2\",\"name\":\"$3\"}"; fi
  REST_TOKEN="${TOK[admin]}" req POST /v1/client-certificates -H "Content-Type: application/json" -d "$body"
  [[ $CODE == 201 ]] || fail "admin POST /v1/client-certificates $body: HTTP $CODE $(head -c 300 "$REST_BODY")"
  mkdir -p "$1"
  jget "$REST_BODY" 'j["certificate_pem"]' >"$1/cert.pem"; jget "$REST_BODY" 'j["key_pem"]' >"$1/key.pem"
  jget "$REST_BODY" 'j["serial"]'
}
declare -A CERT
api_cert "$T/cert-auditor" auditor aude-cert >/dev/null; CERT[cert-auditor]="$T/cert-auditor"
api_cert "$T/cert-c1" cluster c1 >/dev/null; CERT[cert-c1]="$T/cert-c1"
REVOKED_CERT=$(api_cert "$T/cert-revoked" admin gone)   # a revoked admin certificate
REST_TOKEN="${TOK[admin]}" req POST "/v1/certificates/$REVOKED_CERT/revoke" -H "Content-Type: application/json" \
  -d '{"reason":"keyCompromise"}'
[[ $CODE == 200 ]] || fail "revoking a client certificate: HTTP $CODE"
CERT[cert-revoked]="$T/cert-revoked"
# A look-alike: same subject and extensions as the auditor's, signed by a throwaway CA of the same key type.
mkdir -p "$T/cert-foreign"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/cert-foreign/ca.key" \
  -out "$T/cert-foreign/ca.pem" -days 2 -subj "/O=Istio/CN=Root CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/cert-foreign/key.pem" \
  -out "$T/cert-foreign/req.csr" -subj "/O=meshtrust/OU=auditor/CN=aude-cert" 2>/dev/null
printf 'basicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\nsubjectAltName=URI:urn:meshtrust:principal:auditor:aude-cert\n' \
  >"$T/cert-foreign/ext"
openssl x509 -req -in "$T/cert-foreign/req.csr" -CA "$T/cert-foreign/ca.pem" -CAkey "$T/cert-foreign/ca.key" -set_serial 7 \
  -days 1 -extfile "$T/cert-foreign/ext" -out "$T/cert-foreign/cert.pem" 2>/dev/null
CERT[cert-foreign]="$T/cert-foreign"
CERT[cert+token]="$T/cert-auditor"; TOK[cert+token]="${TOK[auditor]}"   # two credentials in one request
VICTIM_TOK=$(api_token auditor victim)   # denied principals try to revoke this one
DOOMED_TOK=$(api_token auditor doomed)   # the admin revokes this one
# Intermediates to revoke: one each for the admin's and the issuer's cell; denied principals try the victim's.
declare -A REV_SERIAL
for p in admin issuer victim; do
  req POST /v1/clusters -H "Content-Type: application/json" -d "{\"name\":\"rev-$p\"}"
  req POST "/v1/clusters/rev-$p/intermediates" -H "Content-Type: application/json" -d '{}'
  [[ $CODE == 201 ]] || fail "admin issuing for rev-$p: HTTP $CODE"
  REV_SERIAL[$p]=$(jget "$REST_BODY" 'j["serial"]')
done
req GET /v1/clusters/c1; [[ $CODE == 200 ]] || fail "admin GET /v1/clusters/c1: $CODE"
C1_SERIAL=$(jget "$REST_BODY" 'j["intermediate_serial"]')
req GET /v1/clusters/c2; C2_SERIAL=$(jget "$REST_BODY" 'j["intermediate_serial"]')
req GET /v1/audit/tree-head; [[ $CODE == 200 ]] || fail "admin GET tree-head: $CODE"
N0=$(jget "$REST_BODY" 'j["tree_size"]')
unset REST_TOKEN

declare -A ACTOR=([admin]=admin:alice [issuer]=issuer:ivan [auditor]=auditor:aude [c1]=cluster:c1 [c1x]=cluster:c1
                  [cert-auditor]=auditor:aude-cert [cert-c1]=cluster:c1)
declare -A HDR=([hdr-bearer]="Bearer" [hdr-basic]="Basic x" [hdr-badtok]="Bearer mtk_bad")
PRINCIPALS=(admin issuer auditor c1 c1x revoked expired hdr-bearer hdr-basic hdr-badtok none
            cert-auditor cert-c1 cert-revoked cert-foreign cert+token)
is_invalid() { [[ "$1" == revoked || "$1" == expired || "$1" == hdr-* || "$1" == cert-revoked || "$1" == cert-foreign || "$1" == cert+token ]]; }
role_of() { case "$1" in admin|issuer|auditor) echo "$1" ;; cert-auditor) echo auditor ;; c1|c1x|cert-c1) echo cluster ;; *) echo none ;; esac; }

mkcsr() {  # mkcsr OUT_JSON: a fresh P-256 CSR wrapped as {"csr": ...}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/csr.key" -subj "/O=x/CN=x" \
    -out "$T/csr.pem" 2>/dev/null
  python3 -c 'import json,sys; print(json.dumps({"csr": open(sys.argv[1]).read()}))' "$T/csr.pem" >"$1"
}

# ---- The matrix -------------------------------------------------------------------------------------
# METHOD PATH ROUTE ACCESS OK_CODE. ACCESS: anon | readers (admin, issuer, auditor) | operators (admin,
# issuer) | admins | auditors (admin, auditor); "+own": also cluster:<name> for its own {name}.
ROWS=(
  "GET /healthz healthz anon 200"
  "GET /readyz readyz anon 200"
  "GET /v1/trust-bundle trust-bundle anon 200"
  "GET /v1/openapi.json openapi anon 200"
  "GET /metrics metrics readers 200"
  "GET /v1/clusters clusters.list readers 200"
  "GET /v1/clusters/{c} clusters.get readers+own 200"
  "GET /v1/clusters/{c}/cacerts clusters.cacerts readers+own 200"
  "GET /v1/clusters/{c}/cacerts?format=secret clusters.cacerts readers+own 200"
  "GET /v1/certificates certificates.list readers 200"
  "GET /v1/certificates/{serial} certificates.get readers 200"
  "GET /v1/audit/events audit.events auditors 200"
  "GET /v1/audit/tree-head audit.tree-head auditors 200"
  "GET /v1/audit/proof/inclusion?index=0 audit.inclusion auditors 200"
  "GET /v1/audit/proof/consistency?first=1&second=2 audit.consistency auditors 200"
  "GET /v1/audit/public-key audit.public-key auditors 200"
  "GET /v1/tokens tokens.list admins 200"
  "POST /v1/tokens tokens.create admins 201"
  "POST /v1/client-certificates client_certificates.create admins 201"
  "POST /v1/clusters clusters.create operators 201"
  "POST /v1/clusters/{c}/intermediates clusters.issue operators 201"
  "POST /v1/clusters/{c}/csr clusters.csr operators+own 201"
  "POST /v1/push push.fleet operators 200"
  "POST /v1/clusters/{c}/push clusters.push operators 422"
  "GET /v1/clusters/{c}/check clusters.check operators 422"
  "GET /v1/clusters/{c}/pushes clusters.pushes readers+own 200"
  "GET /v1/crl crl anon 200"
  "GET /v1/status status readers 200"
  "POST /v1/certificates/{rev}/revoke certificates.revoke operators 200"
  "DELETE /v1/tokens/{tok} tokens.revoke admins 204"
  "DELETE /v1/clusters/{c} clusters.delete operators 204"
)

allowed_roles() {
  case "${1%+own}" in
    anon) echo "anon" ;; readers) echo "admin issuer auditor" ;; operators) echo "admin issuer" ;;
    admins) echo "admin" ;; auditors) echo "admin auditor" ;;
  esac
}

target_cluster() {  # ROUTE PRINCIPAL -> the {c} of this cell
  local route="$1" p="$2"
  case "$p" in c1|cert-c1) echo c1; return ;; c1x) echo c2; return ;; esac
  case "$route" in
    clusters.issue)  case "$p" in admin) echo iss-admin ;; issuer) echo iss-issuer ;; *) echo iss-victim ;; esac ;;
    clusters.csr)    case "$p" in admin) echo csr-admin ;; issuer) echo csr-issuer ;; *) echo csr-victim ;; esac ;;
    clusters.delete) case "$p" in admin) echo del-admin ;; issuer) echo del-issuer ;; *) echo del-victim ;; esac ;;
    *) case "$p" in admin|issuer|auditor) echo c1 ;; *) echo c2 ;; esac ;;
  esac
}

expected_code() {  # ROUTE ACCESS OK PRINCIPAL
  local route="$1" access="$2" ok="$3" p="$4" role
  if is_invalid "$p"; then echo 401; return; fi      # bad credentials are refused even on anonymous routes
  [[ "$access" == anon ]] && { echo 200; return; }
  [[ "$p" == none ]] && { echo 401; return; }
  role=$(role_of "$p")
  if [[ " $(allowed_roles "$access") " == *" $role "* ]]; then echo "$ok"; return; fi
  if [[ "$role" == cluster && "$access" == *+own ]]; then
    if [[ "$p" == c1x ]]; then echo 404; return; fi
    # c1 already has an intermediate: authorized, then refused by policy (rotation is a separate step).
    if [[ "$route" == clusters.csr ]]; then echo 422; else echo "$ok"; fi
    return
  fi
  echo 403
}

MAN="$T/cells.tsv"; : >"$MAN"
mkdir -p "$T/cells"
n=0; src=0
for row in "${ROWS[@]}"; do
  read -r method path route access ok <<<"$row"
  for p in "${PRINCIPALS[@]}"; do
    n=$((n + 1))
    c=$(target_cluster "$route" "$p")
    u="${path//\{c\}/$c}"; u="${u//\{serial\}/$C1_SERIAL}"
    if [[ "$route" == tokens.revoke ]]; then
      if [[ $p == admin ]]; then u="${u//\{tok\}/$(token_id "$DOOMED_TOK")}"; else u="${u//\{tok\}/$(token_id "$VICTIM_TOK")}"; fi
    fi
    case "$p" in admin|issuer) rev="${REV_SERIAL[$p]}" ;; *) rev="${REV_SERIAL[victim]}" ;; esac
    u="${u//\{rev\}/$rev}"
    exp=$(expected_code "$route" "$access" "$ok" "$p")
    REST_TOKEN=""; REST_AUTH_HEADER=""; REST_SRC=""; REST_CERT=""; REST_KEY=""
    case "$p" in
      hdr-*) REST_AUTH_HEADER="${HDR[$p]}" ;;
      none) ;;
      cert-*) REST_CERT="${CERT[$p]}/cert.pem"; REST_KEY="${CERT[$p]}/key.pem" ;;
      cert+token) REST_CERT="${CERT[$p]}/cert.pem"; REST_KEY="${CERT[$p]}/key.pem"; REST_TOKEN="${TOK[$p]}" ;;
      *) REST_TOKEN="${TOK[$p]}" ;;
    esac
    peer=127.0.0.1
    if is_invalid "$p" || [[ $p == none ]]; then
      # A fresh source address per anonymous/invalid cell: the per-peer slow-down stays out of the way,
      # and each auth.failure event can be matched to its cell by peer.
      src=$((src + 1)); peer="127.0.$((src / 250 + 1)).$((src % 250 + 1))"; REST_SRC="$peer"
    fi
    extra=()
    case "$route" in
      tokens.create)   echo "{\"role\":\"auditor\",\"name\":\"made-by-$p\"}" >"$T/reqbody" ;;
      client_certificates.create) echo "{\"role\":\"auditor\",\"name\":\"cert-by-${p/+/-}\"}" >"$T/reqbody" ;;
      clusters.create) echo "{\"name\":\"new-$p\"}" >"$T/reqbody" ;;
      clusters.issue)  echo '{}' >"$T/reqbody" ;;
      push.fleet)      echo '{"all": true}' >"$T/reqbody" ;;
      clusters.push)   echo '{}' >"$T/reqbody" ;;
      certificates.revoke) echo '{"reason":"superseded"}' >"$T/reqbody" ;;
      clusters.csr)    mkcsr "$T/reqbody" ;;
    esac
    [[ $method == POST ]] && extra=(-H "Content-Type: application/json" --data-binary "@$T/reqbody")
    req "$method" "$u" "${extra[@]}"
    cp "$REST_BODY" "$T/cells/$n.body"; cp "$REST_HDRS" "$T/cells/$n.hdrs"
    actor="${ACTOR[$p]:-anonymous:$peer}"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$method" "$u" "$p" "$exp" "$CODE" "$CTYPE" "$peer" "$route" "$actor" >>"$MAN"
  done
done
REST_TOKEN=""; REST_AUTH_HEADER=""; REST_SRC=""; REST_CERT=""; REST_KEY=""
healthy || fail "the server is not healthy after the matrix"

# ---- Everything the server knows, for the leak checks and the audit comparison -----------------------
REST_TOKEN="${TOK[admin]}"
req GET /v1/certificates; cp "$REST_BODY" "$T/certs.json"
req GET "/v1/audit/events?limit=1000&cursor=$N0"; cp "$REST_BODY" "$T/events.json"
python3 - "$T/events.json" >"$T/events.more" <<'PY'
import json, sys
print(json.load(open(sys.argv[1]))["next_cursor"] or "")
PY
[[ -z "$(cat "$T/events.more")" ]] || fail "more than 1000 audit events after the matrix; the test expects fewer"
printf '%s\n' "${TOK[@]}" "$VICTIM_TOK" "$DOOMED_TOK" | sort -u >"$T/secrets"
unset REST_TOKEN

python3 - "$MAN" "$T/cells" "$T/certs.json" "$T/events.json" "$T/secrets" "$N0" >"$T/matrix.out" <<'PY' || true
import base64, collections, json, re, sys
import yaml

man, cells, certs_f, events_f, secrets_f, n0 = sys.argv[1:7]
n0 = int(n0)
certs = json.load(open(certs_f))["certificates"]
owner = {}  # serial or fingerprint -> cluster (None: root, server)
for c in certs:
    owner[c["serial"]] = owner[c["fingerprint_sha256"]] = c["cluster"]
no_challenge = []
secrets = [s for s in open(secrets_f).read().split() if s]
fails = []
expected_events = collections.Counter()
rows = [l.rstrip("\n").split("\t") for l in open(man)]
KEY_B64 = base64.b64encode(b"-----BEGIN PRIVATE KEY-----")[:24].decode()

def cell_name(r):
    return "%s %s as %s" % (r[1], r[2], r[3])

for r in rows:
    n, method, url, p, exp, code, ctype, peer, route, actor = r
    code_i = int(code)
    body = open("%s/%s.body" % (cells, n), "rb").read()
    hdrs = open("%s/%s.hdrs" % (cells, n), "rb").read().decode("latin-1").lower()
    name = cell_name(r)
    if code != exp:
        fails.append("%s: HTTP %s, want %s (%s)" % (name, code, exp, body[:160].decode("utf-8", "replace")))
    text = body.decode("utf-8", "replace")
    if code_i >= 400:
        media = ctype.split(";")[0].strip()
        if media != "application/problem+json":
            fails.append("%s: denied with content type %r, want application/problem+json" % (name, ctype))
        try:
            pj = json.loads(body)
            assert isinstance(pj, dict) and pj.get("status") == code_i and all(
                isinstance(pj.get(k), str) and pj[k] for k in ("type", "title", "detail"))
            assert pj["type"].startswith("/problems/")
        except Exception:
            fails.append("%s: denied body is not a valid problem: %r" % (name, body[:200]))
        leaks = [s for s in ("-----BEGIN", "PRIVATE KEY", "mtk_", KEY_B64) if s in text]
        leaks += ["a token" for s in secrets if s in text or s.split("_")[-1] in text]
        own = "c1" if p in ("c1", "c1x", "cert-c1") else None  # cluster:c1 may hear about its own intermediate
        leaks += ["certificate " + s for s, c in owner.items()
                  if s in text and s not in url and not (own and c == own)]
        path_cluster = re.match(r"/v1/clusters/([^/?]+)", url)
        for other in ("c1", "c2", "c3"):
            if re.search(r"\b%s\b" % other, text) and not (path_cluster and path_cluster.group(1) == other):
                leaks.append("cluster name " + other)
        if leaks:
            fails.append("%s: denied body leaks %s: %r" % (name, ", ".join(sorted(set(leaks))), text[:200]))
        if code_i == 401 and not re.search(r"^www-authenticate:\s*bearer", hdrs, re.M):
            no_challenge.append(name)
        if code_i == 401:
            expected_events[("auth.failure", actor, route, method)] += 1
        elif code_i == 403 or (code_i == 404 and p == "c1x"):
            expected_events[("authz.failure", actor, route, method)] += 1
    if route == "clusters.cacerts" and code_i == 200:
        want_key = p in ("admin", "issuer", "c1", "cert-c1")
        if "format=secret" in url:
            try:
                doc = yaml.safe_load(body)
                data = doc["data"]
                has = "ca-key.pem" in data
                if has:
                    k = base64.b64decode(data["ca-key.pem"]).decode()
                    if "PRIVATE KEY" not in k:
                        fails.append("%s: ca-key.pem in the Secret is not a private key" % name)
            except Exception as e:
                fails.append("%s: the Secret manifest does not parse: %s" % (name, e))
                has = None
        else:
            try:
                j = json.loads(body)
                has = "ca-key.pem" in j
                if has and "PRIVATE KEY" not in j["ca-key.pem"]:
                    fails.append("%s: ca-key.pem is not a private key" % name)
            except Exception as e:
                fails.append("%s: cacerts is not JSON: %s" % (name, e))
                has = None
        if has is not None and has != want_key:
            fails.append("%s: ca-key.pem %s, want %s" % (name, "present" if has else "absent", "present" if want_key else "absent"))
        if not want_key and ("PRIVATE KEY" in text or KEY_B64 in text):
            fails.append("%s: the answer carries a private key" % name)

if no_challenge:
    fails.append("%d of %d 401 answers carry no 'WWW-Authenticate: Bearer' challenge (RFC 9110 15.5.2), e.g. %s" % (
        len(no_challenge), sum(1 for r in rows if r[5] == "401"), no_challenge[0]))
events = [e for e in json.load(open(events_f))["events"] if e["index"] >= n0]
actual = collections.Counter()
for e in events:
    leaf = e["leaf"]
    for s in secrets:
        if s in leaf or s.split("_")[-1] in leaf:
            fails.append("audit event %d contains a token" % e["index"])
    if e["action"] in ("auth.failure", "authz.failure"):
        if e["outcome"] != "failure":
            fails.append("audit event %d: %s with outcome %s" % (e["index"], e["action"], e["outcome"]))
        actual[(e["action"], e["actor"], e["details"].get("route"), e["details"].get("method"))] += 1
missing = expected_events - actual
extra = actual - expected_events
for k, v in sorted(missing.items()):
    fails.append("no audit event for a refused request: %s by %s on %s %s (x%d)" % (k[0], k[1], k[3], k[2], v))
for k, v in sorted(extra.items()):
    fails.append("unexpected audit event: %s by %s on %s %s (x%d)" % (k[0], k[1], k[3], k[2], v))
print("cells=%d refused_events=%d" % (len(rows), sum(expected_events.values())), file=sys.stderr)
for f in fails:
    print(f)
PY
if [[ -s "$T/matrix.out" ]]; then
  while IFS= read -r line; do bad "$line"; done <"$T/matrix.out"
fi
[[ $(wc -l <"$MAN") -eq $(( ${#ROWS[@]} * ${#PRINCIPALS[@]} )) ]] || fail "the matrix did not run every cell"

# ---- A cluster asking about another cluster: byte-identical to an unregistered cluster --------------
mkcsr "$T/csrbody"
for spec in "GET /v1/clusters/%s" "GET /v1/clusters/%s/cacerts" "GET /v1/clusters/%s/cacerts?format=secret" "POST /v1/clusters/%s/csr"; do
  read -r method tmpl <<<"$spec"
  extra=(); [[ $method == POST ]] && extra=(-H "Content-Type: application/json" --data-binary "@$T/csrbody")
  # (c2 exists, c9 does not; same length, so even Content-Length must match)
  REST_TOKEN="${TOK[c1]}"; req "$method" "$(printf "$tmpl" c2)" "${extra[@]}"
  a="$CODE $CTYPE $(cat "$REST_BODY")"
  req "$method" "$(printf "$tmpl" c9)" "${extra[@]}"
  b="$CODE $CTYPE $(sed 's/c9/c2/g' "$REST_BODY")"
  REST_TOKEN="${TOK[admin]}"; req "$method" "$(printf "$tmpl" c9)" "${extra[@]}"
  c="$CODE $CTYPE $(sed 's/c9/c2/g' "$REST_BODY")"
  [[ "$a" == "$b" ]] || bad "$method $(printf "$tmpl" c2) as cluster:c1 differs from asking about an unregistered cluster: '$a' vs '$b'"
  [[ "$a" == "$c" ]] || bad "$method $(printf "$tmpl" c2) as cluster:c1 differs from an admin's answer for an unregistered cluster: '$a' vs '$c'"
done

# ---- A cluster submits its own CSR (c3 has no intermediate yet): 2xx, and its key stays its own -------
REST_TOKEN="${TOK[c3]}"
mkcsr "$T/csrbody"
req POST /v1/clusters/c3/csr -H "Content-Type: application/json" --data-binary "@$T/csrbody"
[[ $CODE == 201 ]] || bad "cluster:c3 POST /v1/clusters/c3/csr: HTTP $CODE, want 201 ($(head -c 200 "$REST_BODY"))"
grep -q "PRIVATE KEY" "$REST_BODY" && bad "the CSR answer carries a private key"
req GET /v1/clusters/c3/cacerts
[[ $CODE == 200 ]] || bad "cluster:c3 GET its cacerts: HTTP $CODE"
grep -q '"ca-key.pem"' "$REST_BODY" && bad "cacerts of a CSR-issued cluster carries ca-key.pem"
req GET /v1/clusters/c1/cacerts
[[ $CODE == 404 ]] || bad "cluster:c3 GET /v1/clusters/c1/cacerts: HTTP $CODE, want 404"

# ---- Effects: allowed mutations happened, denied ones changed nothing --------------------------------
REST_TOKEN="${TOK[admin]}"
req GET /v1/clusters; cp "$REST_BODY" "$T/clusters.json"
req GET /v1/tokens; cp "$REST_BODY" "$T/tokens.json"
req GET /v1/certificates; cp "$REST_BODY" "$T/certs-after.json"
python3 - "$T/clusters.json" "$T/tokens.json" "$C1_SERIAL" "$C2_SERIAL" "$(token_id "$VICTIM_TOK")" "$(token_id "$DOOMED_TOK")" \
  "$T/certs-after.json" <<'PY' >"$T/effects.out" || true
import json, sys
cl = {c["name"]: c for c in json.load(open(sys.argv[1]))["clusters"]}
toks = json.load(open(sys.argv[2]))["tokens"]
client_certs = [c for c in json.load(open(sys.argv[7]))["certificates"] if c["kind"] == "client"]
c1s, c2s, victim, doomed = sys.argv[3:7]
out = []
def want(cond, msg):
    if not cond:
        out.append(msg)
for p in ("admin", "issuer"):
    want("new-" + p in cl, "POST /v1/clusters as %s did not register new-%s" % (p, p))
    want(cl.get("iss-" + p, {}).get("intermediate_serial"), "POST intermediates as %s did not issue for iss-%s" % (p, p))
    want(cl.get("csr-" + p, {}).get("intermediate_serial"), "POST csr as %s did not issue for csr-%s" % (p, p))
    want("del-" + p not in cl, "DELETE as %s did not remove del-%s" % (p, p))
for p in ("auditor", "c1", "c1x", "revoked", "expired", "hdr-bearer", "hdr-basic", "hdr-badtok", "none",
          "cert-auditor", "cert-c1", "cert-revoked", "cert-foreign", "cert+token"):
    want("new-" + p not in cl, "a denied POST /v1/clusters (%s) registered new-%s" % (p, p))
want(not cl.get("iss-victim", {}).get("intermediate_serial"), "a denied POST intermediates issued for iss-victim")
want(not cl.get("csr-victim", {}).get("intermediate_serial"), "a denied POST csr issued for csr-victim")
for c in ("del-victim", "c1", "c2"):
    want(c in cl, "a denied DELETE removed %s" % c)
want(cl.get("c1", {}).get("intermediate_serial") == c1s, "c1's intermediate changed")
want(cl.get("c2", {}).get("intermediate_serial") == c2s, "c2's intermediate changed")
by_id = {t["id"]: t for t in toks}
want(by_id.get(doomed, {}).get("revoked") is True, "DELETE /v1/tokens as admin did not revoke the token")
want(by_id.get(victim, {}).get("revoked") is False, "a denied DELETE /v1/tokens revoked the victim token")
made = sorted(t["name"] for t in toks if t["name"].startswith("made-by-"))
want(made == ["made-by-admin"], "tokens created through POST /v1/tokens: %s, want only made-by-admin" % made)
want(all("token" not in t and "secret_hash" not in t for t in toks), "GET /v1/tokens shows secrets or hashes")
made = sorted(c["principal"] for c in client_certs if c["principal"].startswith("auditor:cert-by-"))
want(made == ["auditor:cert-by-admin"], "client certificates issued through POST /v1/client-certificates: %s, want only auditor:cert-by-admin" % made)
print("\n".join(out))
PY
while IFS= read -r line; do [[ -n "$line" ]] && bad "$line"; done <"$T/effects.out"
for p in admin issuer victim; do
  req GET "/v1/certificates/${REV_SERIAL[$p]}"
  st=$(jget "$REST_BODY" 'j["status"]')
  if [[ $p == victim ]]; then [[ $st == active ]] || bad "a denied revoke revoked the victim's intermediate ($st)"
  else [[ $st == revoked ]] || bad "POST revoke as $p did not revoke (status $st)"; fi
done
REST_TOKEN="$VICTIM_TOK"; req GET /v1/clusters
[[ $CODE == 200 ]] || bad "the victim token stopped working after denied revocations (HTTP $CODE)"
REST_TOKEN="$DOOMED_TOK"; REST_SRC=127.0.8.1; req GET /v1/clusters
[[ $CODE == 401 ]] || bad "a token revoked over REST still authenticates (HTTP $CODE)"
REST_SRC=""

# ---- Repeated authentication failures from one peer are slowed down -----------------------------------
REST_TOKEN=""; REST_AUTH_HEADER="Bearer mtk_bad"; REST_SRC=127.0.9.9
times=()
for i in 1 2 3 4 5 6; do
  t0=$(date +%s%N); req GET /v1/clusters; t1=$(date +%s%N)
  [[ $CODE == 401 ]] || bad "bad token attempt $i: HTTP $CODE"
  times+=($(( (t1 - t0) / 1000000 )))
done
REST_AUTH_HEADER=""; REST_SRC=""
(( times[0] < 300 )) || bad "the first failed attempt already took ${times[0]} ms"
(( times[5] >= 300 )) || bad "the 6th consecutive failure from one peer took ${times[5]} ms; want a slow-down (>= 300 ms)"

healthy || bad "the server is not healthy at the end"
rest_stop
[[ "$REST_EXIT" == 0 ]] || bad "server exit status after SIGTERM: $REST_EXIT"
"$M" audit verify >/dev/null 2>"$T/verr" || bad "audit verify failed: $(cat "$T/verr")"
if (( FAILS > 0 )); then echo "REST authz: $FAILS failure(s)" >&2; exit 1; fi
echo "REST authz: all checks passed ($(wc -l <"$MAN") cells)"
