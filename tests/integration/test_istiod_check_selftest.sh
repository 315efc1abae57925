#!/usr/bin/env bash
# Self-test of lib/istiod_check.sh, independent of the meshtrust binary: a checker that cannot fail is a
# defect, so every rule is shown both holding (on good bundles) and failing (on deliberately broken ones).
#  - Istio's own Makefile (exact openssl commands/confs) with INTERMEDIATE_DAYS=3650: rejected for M5 only
#    (intermediate outlives the root); with 730 days: accepted; a throwaway workload signed under it verifies.
#  - An ECDSA bundle built like meshtrust's default profile (with a CRL set): accepted.
#  - Broken bundles, each rejected with the expected rule id: wrong key, chain in wrong order, encrypted key,
#    EC PARAMETERS first, NotBefore in the future, expired intermediate, SHA-1 signature, CA:FALSE
#    intermediate, serverAuth-only EKU, clientAuth-only EKU, root pathlen:0 above the intermediate, negative
#    serial, RSA 1024, keyUsage without keyCertSign, stale tls.crt, missing key, CRLF root-cert.pem, key as
#    first block of ca-cert.pem, foreign root, empty chain, short-lived intermediate, CRL missing for the root.
#  - workload_check accepts good workload dirs and rejects a wrong key, a chain without root, a bad EKU.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/istiod_check.sh
source "$HERE/lib/istiod_check.sh"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-selftest.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
passes=0

expect_accept() { # NAME DIR [KEY]
  local out
  if out=$(istiod_check "$2" "${3:-}"); then
    passes=$((passes + 1)); echo "ok: $1 accepted"
  else
    echo "$out"; fail "$1: istiod_check rejected a bundle it must accept"
  fi
}
expect_reject() { # NAME DIR RULE [KEY]
  local out rc=0
  out=$(istiod_check "$2" "${4:-}") || rc=$?
  if [[ $rc -eq 0 ]]; then fail "$1: istiod_check accepted a bundle it must reject (rule $3)"; fi
  if ! grep -qF "[$3]" <<<"$out"; then echo "$out"; fail "$1: rejected, but not for rule [$3]"; fi
  passes=$((passes + 1)); echo "ok: $1 rejected with [$3]"
}
expect_workload_reject() { # NAME DIR RULE
  local out rc=0
  out=$(workload_check "$2") || rc=$?
  if [[ $rc -eq 0 ]]; then fail "$1: workload_check accepted a workload dir it must reject (rule $3)"; fi
  if ! grep -qF "[$3]" <<<"$out"; then echo "$out"; fail "$1: rejected, but not for rule [$3]"; fi
  passes=$((passes + 1)); echo "ok: $1 rejected with [$3]"
}

# ---------------------------------------------------------------------------------------------- Makefile
mk="$tmp/makefile"
makefile_root_ca "$mk" || { cat "$mk/makefile.log"; fail "Makefile root-ca commands failed"; }
sleep 1.1   # the Makefile's intermediate is always made after the root: make that visible in whole seconds
INTERMEDIATE_DAYS=3650 makefile_cacerts "$mk" cluster1 || { cat "$mk/makefile.log"; fail "Makefile cluster1-cacerts failed"; }
INTERMEDIATE_DAYS=730 makefile_cacerts "$mk" cluster2 || { cat "$mk/makefile.log"; fail "Makefile cluster2-cacerts failed"; }

out=$(istiod_check "$mk/cluster1") && fail "Makefile 3650-day bundle accepted, but its intermediate outlives the root"
grep -qF '[M5]' <<<"$out" || { echo "$out"; fail "Makefile 3650-day bundle not rejected for M5"; }
others=$(grep '^FAIL:' <<<"$out" | grep -vF '[M5]' || true)
[[ -z "$others" ]] || { echo "$others"; fail "Makefile 3650-day bundle broke rules other than M5"; }
passes=$((passes + 1)); echo "ok: Makefile bundle (INTERMEDIATE_DAYS=3650) rejected for M5 only"
expect_accept "Makefile bundle (INTERMEDIATE_DAYS=730)" "$mk/cluster2"
istiod_sign_workload "$mk/cluster2" "$tmp/wl-mk" >"$tmp/wl-mk.out" || { cat "$tmp/wl-mk.out"; fail "throwaway workload under the Makefile bundle"; }
passes=$((passes + 1)); echo "ok: throwaway workload signed with the Makefile bundle's ca-key.pem verifies"

# ---------------------------------------------------------------------------------------------- helpers
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:"${2:-P-256}" -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 16 | sed 's/^./1/')"; }
# self_signed KEY CERT EXT_LINES [DAYS]
self_signed() {
  printf '[ ext ]\n%s\n' "$3" >"$2.ext"
  openssl req -new -key "$1" -subj "/O=Istio/CN=Root CA" -out "$2.csr" 2>/dev/null
  openssl x509 -req -in "$2.csr" -signkey "$1" -days "${4:-3650}" -sha256 -set_serial "$(serial)" \
    -extfile "$2.ext" -extensions ext -out "$2" 2>/dev/null
}
# sign CA_CERT CA_KEY KEY OUT EXT_LINES [DAYS] [extra openssl x509 args...]
sign() {
  local cac="$1" cak="$2" key="$3" out="$4" ext="$5" days="${6:-365}"; shift 6 || shift $#
  printf '[ ext ]\n%s\n' "$ext" >"$out.ext"
  openssl req -new -key "$key" -subj "/O=Istio/CN=Intermediate CA/L=c1" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$cac" -CAkey "$cak" -days "$days" -sha256 -set_serial "$(serial)" \
    -extfile "$out.ext" -extensions ext -out "$out" "$@" 2>/dev/null
}
ROOT_EXT='basicConstraints = critical, CA:true
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectKeyIdentifier = hash'
INT_EXT='basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign, digitalSignature
subjectAltName = DNS:istiod.istio-system.svc
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'
# bundle DIR ROOT_CERT INT_CERT INT_KEY: Makefile layout
bundle() {
  mkdir -p "$1"
  cp "$3" "$1/ca-cert.pem"; cp "$4" "$1/ca-key.pem"; chmod 600 "$1/ca-key.pem"
  cat "$3" "$2" >"$1/cert-chain.pem"; cp "$2" "$1/root-cert.pem"
}
# openssl ca, for what `openssl x509` 3.0 cannot do (explicit dates, CRLs). ca_conf DIR
ca_conf() {
  mkdir -p "$1"; : >"$1/index.txt"; openssl rand -hex 16 | sed 's/^./1/' >"$1/serial"; echo 1000 >"$1/crlnumber"
  cat >"$1/ca.conf" <<EOF
[ ca ]
default_ca = CA_default
[ CA_default ]
database = $1/index.txt
new_certs_dir = $1
serial = $1/serial
crlnumber = $1/crlnumber
default_md = sha256
default_crl_days = 30
policy = pol
unique_subject = no
copy_extensions = none
[ pol ]
organizationName = supplied
commonName = supplied
localityName = optional
EOF
}

# ---------------------------------------------------------------------------------------------- good EC bundle
ec="$tmp/ec"; mkdir -p "$ec"
ec_key "$ec/root-key.pem" P-384; self_signed "$ec/root-key.pem" "$ec/root.pem" "$ROOT_EXT"
ec_key "$ec/int-key.pem"; sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$ec/int.pem" "$INT_EXT"
good="$tmp/b-good"; bundle "$good" "$ec/root.pem" "$ec/int.pem" "$ec/int-key.pem"
expect_accept "ECDSA default-like bundle" "$good"
istiod_sign_workload "$good" "$tmp/wl-ec" >"$tmp/wl-ec.out" || { cat "$tmp/wl-ec.out"; fail "throwaway workload under the ECDSA bundle"; }
passes=$((passes + 1)); echo "ok: throwaway workload under the ECDSA bundle verifies"

# CRLs for every cert of cert-chain.pem (intermediate and root): accepted
ca_conf "$ec/ca-int"; ca_conf "$ec/ca-root"
openssl ca -batch -config "$ec/ca-int/ca.conf" -gencrl -cert "$ec/int.pem" -keyfile "$ec/int-key.pem" -out "$ec/int.crl" 2>/dev/null
openssl ca -batch -config "$ec/ca-root/ca.conf" -gencrl -cert "$ec/root.pem" -keyfile "$ec/root-key.pem" -out "$ec/root.crl" 2>/dev/null
d="$tmp/b-crl"; cp -a "$good" "$d"; cat "$ec/int.crl" "$ec/root.crl" >"$d/ca-crl.pem"
expect_accept "bundle with CRLs for intermediate and root" "$d"
d="$tmp/b-crl-missing"; cp -a "$good" "$d"; cat "$ec/int.crl" >"$d/ca-crl.pem"
expect_reject "ca-crl.pem without the root's CRL" "$d" L5

# ---------------------------------------------------------------------------------------------- broken bundles
d="$tmp/b-wrongkey"; cp -a "$good" "$d"; ec_key "$d/ca-key.pem"
expect_reject "wrong ca-key.pem" "$d" L4

d="$tmp/b-order"; cp -a "$good" "$d"; cat "$ec/root.pem" "$ec/int.pem" >"$d/cert-chain.pem"
expect_reject "cert-chain.pem root first" "$d" M1

d="$tmp/b-noroot"; cp -a "$good" "$d"; cp "$ec/int.pem" "$d/cert-chain.pem"
expect_reject "cert-chain.pem without the root" "$d" M1

d="$tmp/b-enc"; cp -a "$good" "$d"
openssl pkcs8 -topk8 -in "$ec/int-key.pem" -v2 aes-256-cbc -passout pass:secret -out "$d/ca-key.pem"
grep -q 'BEGIN ENCRYPTED PRIVATE KEY' "$d/ca-key.pem" || fail "could not make an encrypted key"
expect_reject "encrypted ca-key.pem" "$d" L3

d="$tmp/b-legacyenc"; cp -a "$good" "$d"
openssl ec -in "$ec/int-key.pem" -aes256 -passout pass:secret -out "$d/ca-key.pem" 2>/dev/null
grep -q 'Proc-Type: 4,ENCRYPTED' "$d/ca-key.pem" || fail "could not make a legacy encrypted key"
expect_reject "legacy-encrypted EC PRIVATE KEY" "$d" L3

d="$tmp/b-ecparams"; cp -a "$good" "$d"
{ openssl ecparam -name prime256v1; cat "$ec/int-key.pem"; } >"$d/ca-key.pem"
expect_reject "EC PARAMETERS block first in ca-key.pem" "$d" L3

d="$tmp/b-future"; ca_conf "$tmp/ca-future"; mkdir -p "$d"
printf '[ ext ]\n%s\n' "$INT_EXT" >"$tmp/int.ext"
openssl req -new -key "$ec/int-key.pem" -subj "/O=Istio/CN=Intermediate CA/L=c1" -out "$tmp/future.csr" 2>/dev/null
openssl ca -batch -notext -config "$tmp/ca-future/ca.conf" -cert "$ec/root.pem" -keyfile "$ec/root-key.pem" \
  -in "$tmp/future.csr" -out "$tmp/future.pem" -startdate "$(date -u -d '+1 day' +%Y%m%d%H%M%SZ)" \
  -enddate "$(date -u -d '+300 days' +%Y%m%d%H%M%SZ)" -extfile "$tmp/int.ext" -extensions ext 2>/dev/null
bundle "$d" "$ec/root.pem" "$tmp/future.pem" "$ec/int-key.pem"
expect_reject "intermediate with NotBefore tomorrow" "$d" L2-time

d="$tmp/b-expired"; ca_conf "$tmp/ca-expired"
openssl ca -batch -notext -config "$tmp/ca-expired/ca.conf" -cert "$ec/root.pem" -keyfile "$ec/root-key.pem" \
  -in "$tmp/future.csr" -out "$tmp/expired.pem" -startdate "$(date -u -d '-10 days' +%Y%m%d%H%M%SZ)" \
  -enddate "$(date -u -d '-1 day' +%Y%m%d%H%M%SZ)" -extfile "$tmp/int.ext" -extensions ext 2>/dev/null
bundle "$d" "$ec/root.pem" "$tmp/expired.pem" "$ec/int-key.pem"
expect_reject "expired intermediate (chain's first cert)" "$d" L7

d="$tmp/b-sha1"; mkdir -p "$d"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/sha1.pem" "$INT_EXT" 365 -sha1
grep -q 'ecdsa-with-SHA1' <(openssl x509 -in "$tmp/sha1.pem" -noout -text) || fail "could not make a SHA-1 signed cert"
bundle "$d" "$ec/root.pem" "$tmp/sha1.pem" "$ec/int-key.pem"
expect_reject "SHA-1 signed intermediate" "$d" L2-digest

d="$tmp/b-notca"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/notca.pem" 'basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'
bundle "$d" "$ec/root.pem" "$tmp/notca.pem" "$ec/int-key.pem"
expect_reject "intermediate CA:FALSE" "$d" L6

d="$tmp/b-ekuserver"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/ekus.pem" "$INT_EXT
extendedKeyUsage = serverAuth"
bundle "$d" "$ec/root.pem" "$tmp/ekus.pem" "$ec/int-key.pem"
expect_reject "intermediate EKU serverAuth only" "$d" M3
out=$(istiod_check "$d" || true); grep -qF '[L2-eku]' <<<"$out" && fail "serverAuth-only EKU flagged as a Go load failure (L2-eku); Go accepts it"

d="$tmp/b-ekuclient"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/ekuc.pem" "$INT_EXT
extendedKeyUsage = clientAuth"
bundle "$d" "$ec/root.pem" "$tmp/ekuc.pem" "$ec/int-key.pem"
expect_reject "intermediate EKU clientAuth only" "$d" L2-eku

d="$tmp/b-ekuboth"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/ekub.pem" "$INT_EXT
extendedKeyUsage = serverAuth, clientAuth"
bundle "$d" "$ec/root.pem" "$tmp/ekub.pem" "$ec/int-key.pem"
expect_accept "intermediate EKU serverAuth+clientAuth" "$d"

d="$tmp/b-pathlen"
ec_key "$tmp/pl-root-key.pem"
self_signed "$tmp/pl-root-key.pem" "$tmp/pl-root.pem" "basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash"
sign "$tmp/pl-root.pem" "$tmp/pl-root-key.pem" "$ec/int-key.pem" "$tmp/pl-int.pem" "$INT_EXT"
bundle "$d" "$tmp/pl-root.pem" "$tmp/pl-int.pem" "$ec/int-key.pem"
expect_reject "root pathlen:0 above the intermediate" "$d" M4
if istiod_sign_workload "$d" "$tmp/wl-pl" >/dev/null; then fail "workload under a pathlen:0 root verified; M4 would be moot"; fi
passes=$((passes + 1)); echo "ok: a workload under the pathlen:0 root indeed fails openssl verify"

d="$tmp/b-negserial"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/neg.pem" "$INT_EXT" 365
openssl x509 -req -in "$tmp/neg.pem.csr" -CA "$ec/root.pem" -CAkey "$ec/root-key.pem" -days 365 -sha256 -set_serial -12345 \
  -extfile "$tmp/neg.pem.ext" -extensions ext -out "$tmp/neg.pem" 2>/dev/null
bundle "$d" "$ec/root.pem" "$tmp/neg.pem" "$ec/int-key.pem"
expect_reject "negative serial" "$d" L8-serial

d="$tmp/b-rsa1024"
openssl genrsa -out "$tmp/rsa1024.pem" 1024 2>/dev/null
sign "$ec/root.pem" "$ec/root-key.pem" "$tmp/rsa1024.pem" "$tmp/rsa1024-cert.pem" "$INT_EXT"
bundle "$d" "$ec/root.pem" "$tmp/rsa1024-cert.pem" "$tmp/rsa1024.pem"
expect_reject "RSA 1024 intermediate" "$d" L8-rsa

d="$tmp/b-nokcs"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/nokcs.pem" 'basicConstraints = critical, CA:true, pathlen:0
keyUsage = critical, digitalSignature, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always'
bundle "$d" "$ec/root.pem" "$tmp/nokcs.pem" "$ec/int-key.pem"
expect_reject "intermediate keyUsage without keyCertSign" "$d" M2
if istiod_sign_workload "$d" "$tmp/wl-nokcs" >/dev/null; then fail "workload under a CA without keyCertSign verified; M2 would be moot"; fi
passes=$((passes + 1)); echo "ok: a workload under the CA without keyCertSign indeed fails openssl verify"

d="$tmp/b-tls"; cp -a "$good" "$d"; cp "$good/ca-cert.pem" "$d/tls.crt"
expect_reject "stale tls.crt next to the bundle" "$d" F2

d="$tmp/b-nokey"; cp -a "$good" "$d"; rm "$d/ca-key.pem"
expect_reject "bundle without ca-key.pem" "$d" F1
expect_accept "bundle without ca-key.pem, key given separately" "$d" "$good/ca-key.pem"

d="$tmp/b-crlf"; cp -a "$good" "$d"; sed 's/$/\r/' "$good/root-cert.pem" >"$d/root-cert.pem"
expect_reject "root-cert.pem with CRLF line ends" "$d" M6

d="$tmp/b-keyfirst"; cp -a "$good" "$d"; cat "$ec/int-key.pem" "$ec/int.pem" >"$d/ca-cert.pem"
expect_reject "ca-cert.pem with a key as first PEM block" "$d" L1

d="$tmp/b-foreignroot"; cp -a "$good" "$d"; cp "$tmp/pl-root.pem" "$d/root-cert.pem"
expect_reject "root-cert.pem holding another root" "$d" L2
expect_reject "root-cert.pem holding another root" "$d" M1

d="$tmp/b-emptychain"; cp -a "$good" "$d"; : >"$d/cert-chain.pem"
expect_reject "empty cert-chain.pem" "$d" F1

d="$tmp/b-short"
sign "$ec/root.pem" "$ec/root-key.pem" "$ec/int-key.pem" "$tmp/short.pem" "$INT_EXT" 30
bundle "$d" "$ec/root.pem" "$tmp/short.pem" "$ec/int-key.pem"
expect_reject "intermediate with 30 days left" "$d" M5

# ---------------------------------------------------------------------------------------------- workload_check
d="$tmp/w-wrongkey"; cp -a "$tmp/wl-ec" "$d"; ec_key "$d/key.pem"; chmod 600 "$d/key.pem"
expect_workload_reject "workload with a wrong key.pem" "$d" W4
d="$tmp/w-mode"; cp -a "$tmp/wl-ec" "$d"; chmod 644 "$d/key.pem"
expect_workload_reject "workload key.pem mode 0644" "$d" W4
d="$tmp/w-noroot"; cp -a "$tmp/wl-ec" "$d"; cat "$d/workload-cert.pem" "$good/ca-cert.pem" >"$d/workload-cert-chain.pem"
expect_workload_reject "workload chain without the root" "$d" W2
d="$tmp/w-eku"; mkdir -p "$d"
ec_key "$d/key.pem"; chmod 600 "$d/key.pem"
printf '[ ext ]\nbasicConstraints = critical, CA:false\nextendedKeyUsage = serverAuth\nsubjectAltName = URI:spiffe://cluster.local/ns/a/sa/b\nsubjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid:always\n' >"$d/ext"
openssl req -new -key "$d/key.pem" -subj "/O=Istio/CN=Workload/L=a" -out "$d/csr" 2>/dev/null
openssl x509 -req -in "$d/csr" -CA "$ec/int.pem" -CAkey "$ec/int-key.pem" -days 1 -set_serial "$(serial)" -extfile "$d/ext" -extensions ext -out "$d/workload-cert.pem" 2>/dev/null
cat "$d/workload-cert.pem" "$good/cert-chain.pem" >"$d/workload-cert-chain.pem"; cp "$good/root-cert.pem" "$d/"
expect_workload_reject "workload without clientAuth" "$d" W3
if workload_check "$tmp/wl-ec" "spiffe://cluster.local/ns/other/sa/default" >/dev/null; then fail "workload_check ignored the expected SPIFFE ID"; fi
passes=$((passes + 1)); echo "ok: workload_check rejects an unexpected SPIFFE ID"

echo "PASS: istiod_check self-test ($passes checks)"
