#!/usr/bin/env bash
# Parity of meshtrust's `makefile` profile with Istio's tools/certs Makefile.selfsigned.mk.
# Theirs: the Makefile's own openssl commands and conf files (lib/istiod_check.sh makefile_* functions write
# them line by line as the Makefile's echo recipes do): root-ca, c1-cacerts, c1-certs, ns1-certs.
# Ours: init --profile makefile, cluster add c1, issue c1, export c1, workload c1|ns1 --cluster c1.
# Compared on `openssl x509 -text -noout` after normalising away serials, key bytes, signature bytes, key
# identifiers and dates: version, subject, issuer, signature algorithm, public key algorithm and size,
# exponent, and the extension set (names, criticality, values). Validity lengths are compared in seconds:
# root 3650 days, intermediate 3649..3650 days (ours is capped at the root's NotAfter), workload 1 day
# (ours may be backdated a few minutes). Key file PEM labels and cert-chain.pem structure are compared too.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/istiod_check.sh
source "$HERE/lib/istiod_check.sh"

fail() { echo "FAIL: $*"; exit 1; }
[[ -n "${MESHTRUST_BIN:-}" ]] || fail "MESHTRUST_BIN is not set (path to the meshtrust binary)"
[[ "$MESHTRUST_BIN" == /* ]] || MESHTRUST_BIN="$PWD/$MESHTRUST_BIN"
[[ -x "$MESHTRUST_BIN" ]] || fail "MESHTRUST_BIN=$MESHTRUST_BIN is not executable"
unset MESHTRUST_DATA_DIR
export MESHTRUST_PASSPHRASE="parity-test-passphrase"

tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-parity.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mt() {
  local rc=0
  "$MESHTRUST_BIN" --data-dir "$tmp/data" "$@" >"$tmp/mt.out" 2>"$tmp/mt.err" || rc=$?
  [[ $rc -eq 0 ]] || fail "meshtrust --data-dir $tmp/data $* exited $rc (expected 0); stderr: $(head -c 600 "$tmp/mt.err")"
}

# normalised view of a certificate: one "field: value" line per property, extensions sorted
normalise() {
  openssl x509 -in "$1" -noout -text | awk '
    function trim(s) { sub(/^ +/, "", s); sub(/ +$/, "", s); return s }
    function flush() { if (hdr != "") print "ext: " hdr " => " val; hdr = ""; val = "" }
    /^        X509v3 extensions:/         { inext = 1; next }
    /^    Signature Algorithm:/           { flush(); inext = 0; print "outer-signature-algorithm: " trim(substr($0, index($0, ":") + 1)); next }
    inext && /^            [^ ]/          { flush(); hdr = trim($0); next }
    inext && /^                /          { v = trim($0)
                                            if (hdr ~ /Key Identifier/) {   # key id bytes and AKI serial vary; DirName etc. stay
                                              if (v ~ /^(keyid:)?[0-9A-Fa-f:]+$/) v = "<keyid>"
                                              else if (v ~ /^serial:/) v = "serial:<serial>" }
                                            val = (val == "" ? v : val " | " v); next }
    /^        Version:/                   { print "version: " trim(substr($0, index($0, ":") + 1)) }
    /^        Signature Algorithm:/       { print "signature-algorithm: " trim(substr($0, index($0, ":") + 1)) }
    /^        Issuer:/                    { print "issuer: " trim(substr($0, index($0, ":") + 1)) }
    /^        Subject:/                   { print "subject: " trim(substr($0, index($0, ":") + 1)) }
    /Public Key Algorithm:/               { print "public-key-algorithm: " trim(substr($0, index($0, ":") + 1)) }
    /Public-Key: \(/                      { print "public-key: " trim(substr($0, index($0, ":") + 1)) }
    /Exponent:/                           { print "exponent: " trim(substr($0, index($0, ":") + 1)) }
    /ASN1 OID:|NIST CURVE:/               { print "curve: " trim($0) }
    END { flush() }' | LC_ALL=C sort
}
validity_seconds() {
  local nb na
  nb=$(date -u -d "$(openssl x509 -in "$1" -noout -startdate | cut -d= -f2-)" +%s)
  na=$(date -u -d "$(openssl x509 -in "$1" -noout -enddate | cut -d= -f2-)" +%s)
  echo $((na - nb))
}
failures=0
compare() { # compare WHAT THEIRS OURS [SED_FILTER]
  local what="$1" theirs="$2" ours="$3" filter="${4:-}"
  normalise "$theirs" >"$tmp/theirs.txt"; normalise "$ours" >"$tmp/ours.txt"
  if [[ -n "$filter" ]]; then sed -i -e "$filter" "$tmp/theirs.txt" "$tmp/ours.txt"; fi
  if ! diff -u --label "Makefile $what" --label "meshtrust $what" "$tmp/theirs.txt" "$tmp/ours.txt" >"$tmp/diff.txt"; then
    cat "$tmp/diff.txt"
    echo "FAIL: makefile-profile $what differs from the Makefile's (diff above: - Makefile, + meshtrust)"
    failures=$((failures + 1))
  else
    echo "ok: $what matches the Makefile ($(grep -c '^ext: ' "$tmp/ours.txt") extensions)"
  fi
}
check_len() { # check_len WHAT CERT MIN_SECONDS MAX_SECONDS
  local s; s=$(validity_seconds "$2")
  if (( s < $3 || s > $4 )); then
    echo "FAIL: $1 validity is $s s ($((s / 86400)) days + $((s % 86400)) s), want $3..$4 s"; failures=$((failures + 1))
  else
    echo "ok: $1 validity $((s / 86400)) days + $((s % 86400)) s"
  fi
}
D=86400

# ------------------------------------------------------------------------------------------ theirs
mk="$tmp/makefile"
makefile_root_ca "$mk" || { cat "$mk/makefile.log"; fail "Makefile root-ca commands failed"; }
makefile_cacerts "$mk" c1 || { cat "$mk/makefile.log"; fail "Makefile c1-cacerts commands failed"; }
makefile_workload_certs "$mk" c1 || { cat "$mk/makefile.log"; fail "Makefile c1-certs commands failed"; }
makefile_workload_certs "$mk" ns1 || { cat "$mk/makefile.log"; fail "Makefile ns1-certs commands failed"; }
# sanity of the reference itself: the Makefile's lengths are exact
(( $(validity_seconds "$mk/root-cert.pem") == 3650 * D )) || fail "reference Makefile root is not exactly 3650 days"
(( $(validity_seconds "$mk/c1/workload-cert.pem") == D )) || fail "reference Makefile workload is not exactly 1 day"

# ------------------------------------------------------------------------------------------ ours
mt init --profile makefile
mt cluster add c1
mt issue c1
mt export c1 --out "$tmp/out"
mt workload c1 --cluster c1 --out "$tmp/w-c1"
mt workload ns1 --cluster c1 --out "$tmp/w-ns1"

# ------------------------------------------------------------------------------------------ compare
compare "root certificate" "$mk/root-cert.pem" "$tmp/out/root-cert.pem"
compare "intermediate certificate (c1)" "$mk/c1/ca-cert.pem" "$tmp/out/c1/ca-cert.pem"
compare "workload certificate (namespace c1)" "$mk/c1/workload-cert.pem" "$tmp/w-c1/workload-cert.pem"
# the Makefile signs ns1's workload with an intermediate of its own (L=ns1); meshtrust with the cluster's (L=c1)
compare "workload certificate (namespace ns1, issuer L ignored)" "$mk/ns1/workload-cert.pem" "$tmp/w-ns1/workload-cert.pem" \
  's/^issuer: \(.*\), L = [a-z0-9-]*$/issuer: \1, L = <cluster>/'

check_len "root" "$tmp/out/root-cert.pem" $((3650 * D)) $((3650 * D + 600))
check_len "intermediate" "$tmp/out/c1/ca-cert.pem" $((3649 * D)) $((3650 * D + 600))
check_len "workload" "$tmp/w-c1/workload-cert.pem" $((D)) $((D + 600))

# key files: same PEM label as the Makefile's (openssl genrsa: PKCS#8 PRIVATE KEY), RSA 4096
for pair in "c1/ca-key.pem:$tmp/out/c1/ca-key.pem" "c1/key.pem:$tmp/w-c1/key.pem"; do
  theirs="$mk/${pair%%:*}"; ours="${pair#*:}"
  if [[ "$(head -n1 "$theirs")" != "$(head -n1 "$ours")" ]]; then
    echo "FAIL: $ours starts '$(head -n1 "$ours")', the Makefile's ${pair%%:*} '$(head -n1 "$theirs")'"; failures=$((failures + 1))
  fi
  bits=$(openssl pkey -in "$ours" -noout -text 2>/dev/null | grep -m1 -oE '[0-9]+ bit' || true)
  [[ "$bits" == "4096 bit" ]] || { echo "FAIL: $ours is not an RSA 4096 key ($bits)"; failures=$((failures + 1)); }
done
# cert-chain.pem: intermediate then root, as the Makefile's `cat ca-cert.pem root-cert.pem`
subjects() { awk '/BEGIN CERT/{b=""} {b=b $0 "\n"} /END CERT/{print b > (d "/blk" ++n)} END{for(i=1;i<=n;i++) print d "/blk" i}' d="$2" "$1" \
  | while read -r f; do openssl x509 -in "$f" -noout -subject; done; }
mkdir -p "$tmp/s1" "$tmp/s2"
if [[ "$(subjects "$mk/c1/cert-chain.pem" "$tmp/s1")" != "$(subjects "$tmp/out/c1/cert-chain.pem" "$tmp/s2")" ]]; then
  echo "FAIL: cert-chain.pem structure differs: Makefile [$(subjects "$mk/c1/cert-chain.pem" "$tmp/s1" | tr '\n' ';')] meshtrust [$(subjects "$tmp/out/c1/cert-chain.pem" "$tmp/s2" | tr '\n' ';')]"
  failures=$((failures + 1))
fi

if (( failures > 0 )); then echo "FAIL: test_makefile_parity: $failures difference(s) from the Makefile"; exit 1; fi
echo "PASS: test_makefile_parity"
