#!/usr/bin/env bash
# Drives meshtrust end to end and checks every exported bundle with lib/istiod_check.sh.
# Matrix: profile default|makefile x root generated|imported (Makefile-style openssl root-cert.pem/root-key.pem),
# plus a CSR-issued intermediate. Passphrase modes are spread over the runs (kek file, env, --passphrase-file).
# Per run: init, cluster add c1 c2, issue c1 c2, export --out; istiod_check on each cluster dir; root-cert.pem
# byte-identical across clusters and the top-level one; key files 0600 and unencrypted PKCS#8; workload certs
# verify through workload-cert-chain.pem to the root (also across clusters); a throwaway workload signed with
# the exported ca-key.pem verifies. Default profile specifics are read from `openssl x509 -text`.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/istiod_check.sh
source "$HERE/lib/istiod_check.sh"

fail() { echo "FAIL: $*"; exit 1; }
[[ -n "${MESHTRUST_BIN:-}" ]] || fail "MESHTRUST_BIN is not set (path to the meshtrust binary)"
[[ "$MESHTRUST_BIN" == /* ]] || MESHTRUST_BIN="$PWD/$MESHTRUST_BIN"
[[ -x "$MESHTRUST_BIN" ]] || fail "MESHTRUST_BIN=$MESHTRUST_BIN is not executable"
unset MESHTRUST_PASSPHRASE MESHTRUST_DATA_DIR

tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-bundles.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# mt DATA_DIR ARGS... : runs meshtrust with the current passphrase mode (MT_ENV / MT_GLOBAL); fails loudly
MT_ENV=(); MT_GLOBAL=()
mt() {
  local dd="$1" rc=0; shift
  env "${MT_ENV[@]}" "$MESHTRUST_BIN" --data-dir "$dd" "${MT_GLOBAL[@]}" "$@" >"$tmp/mt.out" 2>"$tmp/mt.err" || rc=$?
  if [[ $rc -ne 0 ]]; then
    fail "meshtrust --data-dir $dd ${MT_GLOBAL[*]} $* exited $rc (expected 0); stderr: $(head -c 600 "$tmp/mt.err")"
  fi
}
# istiod / workload checks with the library, failing the script on the first broken bundle
check_bundle() { local out; out=$(istiod_check "$@") || { echo "$out"; fail "istiod_check $* rejected a meshtrust bundle"; }; }
check_workload() { local out; out=$(workload_check "$@") || { echo "$out"; fail "workload_check $* rejected meshtrust's workload output"; }; }
mode_600() { local m; m=$(stat -c %a "$1"); [[ "$m" == 600 ]] || fail "$1 has mode $m, want 0600"; }
epoch() { date -u -d "$(openssl x509 -in "$1" -noout "$2" | cut -d= -f2-)" +%s; }
txt() { openssl x509 -in "$1" -noout -text; }
ext_block() { # ext_block CERT "X509v3 Key Usage" -> header + value lines
  txt "$1" | awk -v name="$2" 'index($0, name ":") { inx = 1; print; next } inx && /^                / { print; next } { inx = 0 }'
}
pubder() { openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER; }

# one full run of the matrix. run_flow NAME PROFILE ROOT(generated|imported)
run_flow() {
  local name="$1" profile="$2" root="$3" dd="$tmp/$1/data" out="$tmp/$1/out" c t0 t1 t2 t3
  mkdir -p "$tmp/$name"
  t0=$(date -u +%s)
  if [[ "$root" == imported ]]; then
    makefile_root_ca "$tmp/$name/mkroot" || { cat "$tmp/$name/mkroot/makefile.log"; fail "could not make the Makefile-style root"; }
    mt "$dd" init --profile "$profile" --import-cert "$tmp/$name/mkroot/root-cert.pem" --import-key "$tmp/$name/mkroot/root-key.pem"
  else
    mt "$dd" init --profile "$profile"
  fi
  t1=$(date -u +%s)
  mt "$dd" cluster add c1
  mt "$dd" cluster add c2
  t2=$(date -u +%s)
  mt "$dd" issue c1 c2
  t3=$(date -u +%s)
  mt "$dd" export c1 c2 --out "$out"

  # layout: exactly the Makefile files
  [[ -s "$out/root-cert.pem" ]] || fail "$name: export wrote no top-level root-cert.pem"
  for c in c1 c2; do
    local files; files=$(cd "$out/$c" && ls -A | tr '\n' ' ')
    [[ "$files" == "ca-cert.pem ca-key.pem cert-chain.pem root-cert.pem " ]] || fail "$name: $out/$c holds '$files', want ca-cert.pem ca-key.pem cert-chain.pem root-cert.pem"
    check_bundle "$out/$c"
    mode_600 "$out/$c/ca-key.pem"
    [[ "$(head -n1 "$out/$c/ca-key.pem")" == "-----BEGIN PRIVATE KEY-----" ]] || fail "$name: $c/ca-key.pem is not unencrypted PKCS#8 (first line: $(head -n1 "$out/$c/ca-key.pem"))"
    cmp -s "$out/root-cert.pem" "$out/$c/root-cert.pem" || fail "$name: $c/root-cert.pem differs byte-wise from the top-level root-cert.pem"
    grep -q "L = $c\$" <(openssl x509 -in "$out/$c/ca-cert.pem" -noout -subject) || fail "$name: $c/ca-cert.pem subject lacks L=$c: $(openssl x509 -in "$out/$c/ca-cert.pem" -noout -subject)"
    # the intermediate is issued by the root of root-cert.pem, AKI = root SKI
    local ski aki
    ski=$(ext_block "$out/root-cert.pem" "X509v3 Subject Key Identifier" | tail -n1 | tr -d ' ')
    aki=$(ext_block "$out/$c/ca-cert.pem" "X509v3 Authority Key Identifier" | tail -n1 | tr -d ' ' | sed 's/^keyid://')
    [[ -n "$ski" && "$aki" == "$ski" ]] || fail "$name: $c intermediate AKI ($aki) != root SKI ($ski)"
  done
  cmp -s "$out/c1/root-cert.pem" "$out/c2/root-cert.pem" || fail "$name: c1 and c2 root-cert.pem differ"
  if [[ "$root" == imported ]]; then
    cmp -s "$out/root-cert.pem" "$tmp/$name/mkroot/root-cert.pem" || fail "$name: exported root-cert.pem is not byte-identical to the imported root-cert.pem"
  fi
  # serials distinct
  local s_root s1 s2
  s_root=$(openssl x509 -in "$out/root-cert.pem" -noout -serial); s1=$(openssl x509 -in "$out/c1/ca-cert.pem" -noout -serial); s2=$(openssl x509 -in "$out/c2/ca-cert.pem" -noout -serial)
  [[ "$s_root" != "$s1" && "$s1" != "$s2" && "$s_root" != "$s2" ]] || fail "$name: serials not distinct: $s_root $s1 $s2"
  # cluster list agrees with the exported intermediates
  env "${MT_ENV[@]}" "$MESHTRUST_BIN" --data-dir "$dd" "${MT_GLOBAL[@]}" --output json cluster list >"$tmp/cl.json" 2>"$tmp/cl.err" \
    || fail "$name: cluster list --output json failed: $(cat "$tmp/cl.err")"
  for c in c1 c2; do
    local want; want=$(openssl x509 -in "$out/$c/ca-cert.pem" -noout -serial | cut -d= -f2 | tr 'A-F' 'a-f')
    grep -qi "\"intermediate_serial\":\"0*$want\"" "$tmp/cl.json" || fail "$name: cluster list --output json lacks $c with intermediate_serial $want: $(cat "$tmp/cl.json")"
  done

  # throwaway workload signed by openssl with the exported CA key
  local sout; sout=$(istiod_sign_workload "$out/c1" "$tmp/$name/throwaway") || { echo "$sout"; fail "$name: a workload signed with c1/ca-key.pem does not verify"; }

  # meshtrust workload certs
  mt "$dd" workload ns1 --cluster c1 --out "$tmp/$name/w1"
  check_workload "$tmp/$name/w1" "spiffe://cluster.local/ns/ns1/sa/default"
  mode_600 "$tmp/$name/w1/key.pem"
  mt "$dd" workload ns2 --cluster c2 --service-account sa2 --trust-domain td.example --out "$tmp/$name/w2"
  check_workload "$tmp/$name/w2" "spiffe://td.example/ns/ns2/sa/sa2"
  cmp -s "$tmp/$name/w1/root-cert.pem" "$out/root-cert.pem" || fail "$name: workload root-cert.pem differs from the bundle's"
  # cross-cluster: c2's workload verifies against c1's bundle root; c1's workload chain ends in the same root
  openssl verify -x509_strict -CAfile "$out/c1/root-cert.pem" -untrusted "$tmp/$name/w2/workload-cert-chain.pem" "$tmp/$name/w2/workload-cert.pem" >/dev/null 2>&1 \
    || fail "$name: c2's workload cert does not verify with c1's root-cert.pem"
  openssl verify -x509_strict -CAfile "$out/c2/root-cert.pem" -untrusted "$out/c1/cert-chain.pem" "$tmp/$name/w1/workload-cert.pem" >/dev/null 2>&1 \
    || fail "$name: c1's workload cert does not verify with c2's root-cert.pem and c1's cert-chain.pem"
  local wna now; wna=$(epoch "$tmp/$name/w1/workload-cert.pem" -enddate); now=$(date -u +%s)
  (( wna <= now + 86400 + 600 && wna >= t3 + 86400 - 600 )) || fail "$name: workload cert (default --days 1) ends $(openssl x509 -in "$tmp/$name/w1/workload-cert.pem" -noout -enddate), not ~1 day from now"

  # profile specifics
  if [[ "$profile" == default ]]; then
    check_default_profile "$name" "$out" "$root" "$t0" "$t1" "$t2" "$t3"
  else
    check_makefile_profile "$name" "$out" "$root"
  fi
  echo "ok: $name (profile $profile, root $root)"
}

# NotBefore within [lo-300-5, hi-300+5]
check_backdated() {
  local f="$1" lo="$2" hi="$3" what="$4" nb; nb=$(epoch "$f" -startdate)
  (( nb >= lo - 305 && nb <= hi - 295 )) || fail "$what NotBefore $(openssl x509 -in "$f" -noout -startdate) is not now-5min (command ran $(date -u -d "@$lo" +%T)..$(date -u -d "@$hi" +%T))"
}
check_serial128() {
  local f="$1" what="$2" s; s=$(openssl x509 -in "$f" -noout -serial | cut -d= -f2 | sed 's/^0*//')
  [[ "$s" != -* ]] || fail "$what serial is negative"
  (( ${#s} >= 29 && ${#s} <= 40 )) || fail "$what serial $s is not a ~128-bit random serial (${#s} hex digits)"
}
check_default_profile() {
  local name="$1" out="$2" root="$3" t0="$4" t1="$5" t2="$6" t3="$7" c r rt it ku bc
  r="$out/root-cert.pem"
  rt=$(txt "$r")
  if [[ "$root" == generated ]]; then
    grep -q 'NIST CURVE: P-384' <<<"$rt" || fail "$name: default root is not ECDSA P-384: $(grep -m1 -E 'Public Key Algorithm|ASN1 OID' <<<"$rt")"
    grep -q 'Subject: O = Istio, CN = Root CA$' <<<"$rt" || fail "$name: root subject is not O=Istio, CN=Root CA"
    bc=$(ext_block "$r" "X509v3 Basic Constraints")
    grep -q 'critical' <<<"$bc" && grep -q 'CA:TRUE$' <<<"$bc" || fail "$name: root basicConstraints not 'critical CA:TRUE' without pathlen: $(tr '\n' ' ' <<<"$bc")"
    ku=$(ext_block "$r" "X509v3 Key Usage")
    grep -q critical <<<"$ku" && grep -q 'Certificate Sign' <<<"$ku" && grep -q 'CRL Sign' <<<"$ku" && grep -q 'Digital Signature' <<<"$ku" \
      || fail "$name: root keyUsage not critical keyCertSign,cRLSign,digitalSignature: $(tr '\n' ' ' <<<"$ku")"
    grep -q 'X509v3 Subject Key Identifier' <<<"$rt" || fail "$name: root has no SKI"
    check_backdated "$r" "$t0" "$t1" "$name: root"
    check_serial128 "$r" "$name: root"
    local rna; rna=$(epoch "$r" -enddate)
    (( rna >= t0 + 3650 * 86400 - 600 && rna <= t1 + 3650 * 86400 + 600 )) || fail "$name: root NotAfter $(openssl x509 -in "$r" -noout -enddate) is not 3650 days from init"
  fi
  for c in c1 c2; do
    local f="$out/$c/ca-cert.pem"; it=$(txt "$f")
    grep -q 'NIST CURVE: P-256' <<<"$it" || fail "$name: default intermediate $c is not ECDSA P-256"
    grep -q "Subject: O = Istio, CN = Intermediate CA, L = $c\$" <<<"$it" || fail "$name: $c subject is not O=Istio, CN=Intermediate CA, L=$c: $(grep Subject: <<<"$it")"
    bc=$(ext_block "$f" "X509v3 Basic Constraints")
    grep -q 'critical' <<<"$bc" && grep -q 'CA:TRUE, pathlen:0' <<<"$bc" || fail "$name: $c basicConstraints not 'critical CA:TRUE, pathlen:0': $(tr '\n' ' ' <<<"$bc")"
    ku=$(ext_block "$f" "X509v3 Key Usage")
    grep -q critical <<<"$ku" && grep -q 'Certificate Sign' <<<"$ku" && grep -q 'CRL Sign' <<<"$ku" && grep -q 'Digital Signature' <<<"$ku" \
      || fail "$name: $c keyUsage not critical keyCertSign,cRLSign,digitalSignature (cRLSign is what makes CRLs loadable): $(tr '\n' ' ' <<<"$ku")"
    [[ "$(ext_block "$f" "X509v3 Subject Alternative Name" | tail -n1 | tr -d ' ')" == "DNS:istiod.istio-system.svc" ]] || fail "$name: $c SAN is not DNS:istiod.istio-system.svc"
    grep -q 'X509v3 Extended Key Usage' <<<"$it" && fail "$name: $c intermediate carries an EKU"
    grep -q 'X509v3 Subject Key Identifier' <<<"$it" && grep -q 'X509v3 Authority Key Identifier' <<<"$it" || fail "$name: $c lacks SKI or AKI"
    check_backdated "$f" "$t2" "$t3" "$name: $c intermediate"
    check_serial128 "$f" "$name: $c intermediate"
    local na rna; na=$(epoch "$f" -enddate); rna=$(epoch "$out/root-cert.pem" -enddate)
    (( na <= rna )) || fail "$name: $c NotAfter is after the root's"
    if (( rna > t3 + 366 * 86400 )); then
      (( na >= t2 + 365 * 86400 - 600 && na <= t3 + 365 * 86400 + 600 )) || fail "$name: $c NotAfter $(openssl x509 -in "$f" -noout -enddate) is not 365 days from issue"
    fi
  done
}
check_makefile_profile() {
  local name="$1" out="$2" root="$3" c f
  for f in "$out/root-cert.pem" "$out/c1/ca-cert.pem" "$out/c2/ca-cert.pem"; do
    grep -q 'Public-Key: (4096 bit)' <(txt "$f") || fail "$name: $f is not RSA 4096 in the makefile profile"
    [[ "$(ext_block "$f" "X509v3 Key Usage" | tail -n1 | sed 's/^ *//')" == "Digital Signature, Non Repudiation, Key Encipherment, Certificate Sign" ]] \
      || fail "$name: $f keyUsage differs from the Makefile's: $(ext_block "$f" "X509v3 Key Usage" | tr '\n' ' ')"
  done
  for c in c1 c2; do
    local na rna; na=$(epoch "$out/$c/ca-cert.pem" -enddate); rna=$(epoch "$out/root-cert.pem" -enddate)
    (( na <= rna )) || fail "$name: makefile-profile intermediate $c outlives the root (must be capped at the root's NotAfter)"
  done
}

# ------------------------------------------------------------------------------------------ the matrix
MT_ENV=(-u MESHTRUST_PASSPHRASE); MT_GLOBAL=()                     # no passphrase: kek file
run_flow default-generated default generated
[[ -f "$tmp/default-generated/data/kek" ]] || fail "init without a passphrase did not create DATA_DIR/kek"
mode_600 "$tmp/default-generated/data/kek"
grep -q '^warning' <(env -u MESHTRUST_PASSPHRASE "$MESHTRUST_BIN" --data-dir "$tmp/kek-warn" init 2>&1 >/dev/null) \
  || fail "init without a passphrase printed no warning on stderr"

MT_ENV=(MESHTRUST_PASSPHRASE=bundle-test-passphrase); MT_GLOBAL=()  # env passphrase
run_flow default-imported default imported
run_flow makefile-generated makefile generated

printf 'file-passphrase\n' >"$tmp/passfile"; chmod 600 "$tmp/passfile"
MT_ENV=(-u MESHTRUST_PASSPHRASE); MT_GLOBAL=(--passphrase-file "$tmp/passfile")
run_flow makefile-imported makefile imported

# ------------------------------------------------------------------------------------------ CSR-issued intermediate
MT_ENV=(-u MESHTRUST_PASSPHRASE); MT_GLOBAL=()
dd="$tmp/default-generated/data"; cdir="$tmp/csr-cluster"; mkdir -p "$cdir"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$cdir/ca-key.pem" 2>/dev/null
openssl req -new -key "$cdir/ca-key.pem" -subj "/O=Evil Corp/CN=Not An Intermediate/L=nowhere" \
  -addext "subjectAltName=DNS:evil.example.com,URI:spiffe://evil.example/ns/x/sa/y" \
  -addext "basicConstraints=critical,CA:TRUE,pathlen:3" \
  -addext "keyUsage=critical,digitalSignature" \
  -addext "extendedKeyUsage=clientAuth" \
  -addext "nameConstraints=permitted;DNS:evil.example.com" \
  -addext "1.2.3.4.5.6.7=ASN1:UTF8String:smuggled" \
  -out "$cdir/c3.csr" 2>/dev/null
mt "$dd" cluster add c3
mt "$dd" issue c3 --csr "$cdir/c3.csr"
mt "$dd" export c3 --out "$tmp/csr-out"
[[ ! -e "$tmp/csr-out/c3/ca-key.pem" ]] || fail "CSR-issued export contains ca-key.pem (the key never left the cluster)"
for f in ca-cert.pem cert-chain.pem root-cert.pem; do [[ -s "$tmp/csr-out/c3/$f" ]] || fail "CSR-issued export lacks c3/$f"; done
cmp -s <(pubder "$tmp/csr-out/c3/ca-cert.pem") <(openssl req -in "$cdir/c3.csr" -noout -pubkey | openssl pkey -pubin -outform DER) \
  || fail "CSR-issued cert's public key differs from the CSR's"
ct=$(txt "$tmp/csr-out/c3/ca-cert.pem")
for bad in 'Evil' 'nowhere' 'Not An Intermediate' 'evil.example' 'Name Constraints' 'Extended Key Usage' 'pathlen:3' '1.2.3.4.5.6.7' 'smuggled'; do
  if grep -qF "$bad" <<<"$ct"; then fail "CSR-issued cert copied '$bad' from the CSR: $(grep -F "$bad" <<<"$ct" | head -n1)"; fi
done
grep -q 'Subject: O = Istio, CN = Intermediate CA, L = c3$' <<<"$ct" || fail "CSR-issued subject is not the profile's: $(grep Subject: <<<"$ct")"
[[ "$(ext_block "$tmp/csr-out/c3/ca-cert.pem" "X509v3 Subject Alternative Name" | tail -n1 | tr -d ' ')" == "DNS:istiod.istio-system.svc" ]] \
  || fail "CSR-issued SAN is not exactly DNS:istiod.istio-system.svc"
grep -q 'CA:TRUE, pathlen:0' <<<"$ct" || fail "CSR-issued cert is not CA:TRUE, pathlen:0"
grep -q 'CRL Sign' <<<"$ct" && grep -q 'Certificate Sign' <<<"$ct" || fail "CSR-issued keyUsage is not the profile's"
cmp -s "$tmp/csr-out/c3/root-cert.pem" "$tmp/default-generated/out/root-cert.pem" || fail "CSR-issued bundle's root-cert.pem differs from the other clusters'"
check_bundle "$tmp/csr-out/c3" "$cdir/ca-key.pem"
sout=$(istiod_sign_workload "$tmp/csr-out/c3" "$tmp/csr-throwaway" "$cdir/ca-key.pem") || { echo "$sout"; fail "workload signed with the cluster's own key does not verify"; }
rc=0; env -u MESHTRUST_PASSPHRASE "$MESHTRUST_BIN" --data-dir "$dd" workload ns1 --cluster c3 --out "$tmp/csr-w" 2>"$tmp/csr-w.err" >/dev/null || rc=$?
[[ $rc -eq 1 ]] || fail "workload for a CSR-issued cluster (no central key): exit $rc, want 1"
grep -q '^error: ' "$tmp/csr-w.err" || fail "workload for a CSR-issued cluster: stderr lacks 'error: ': $(cat "$tmp/csr-w.err")"
echo "ok: CSR-issued intermediate"

echo "PASS: test_bundles"
