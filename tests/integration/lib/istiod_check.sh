# shellcheck shell=bash
# istiod_check.sh — sourceable checks of what istiod accepts as a plugged-in CA bundle
# (docs: /work/shared/design/istio-bundle.md, "istiod's load checks" and "Accepted by istiod, but the
# mesh breaks"), using only the openssl CLI plus grep/awk/date/cmp.
#
#   istiod_check BUNDLE_DIR [KEY_FILE]
#       Makefile-layout bundle: ca-cert.pem, ca-key.pem, cert-chain.pem, root-cert.pem (optional ca-crl.pem).
#       KEY_FILE overrides BUNDLE_DIR/ca-key.pem (a CSR-issued bundle ships no key: pass the cluster's own).
#   workload_check DIR [EXPECTED_SPIFFE_URI]
#       workload output: workload-cert.pem, key.pem, workload-cert-chain.pem (leaf, intermediate, root),
#       root-cert.pem.
#   istiod_sign_workload BUNDLE_DIR OUT_DIR [KEY_FILE]
#       signs a throwaway workload cert with the bundle's CA key via `openssl req`/`openssl x509`, verifies it
#       with `openssl verify -x509_strict -CAfile root-cert.pem -untrusted cert-chain.pem`, writes the
#       workload layout to OUT_DIR and runs workload_check on it.
#
# Every function returns 0 when all rules hold, else 1. Each broken rule prints one line
#   FAIL: [RULE-ID] <dir>: <what>
# on stdout (rule ids are stable so tests can assert *which* rule failed). ISTIOD_CHECK_VERBOSE=1 also
# prints "ok: [RULE-ID] ..." lines. Call them as `istiod_check dir || ...` (they never exit the shell).
#
# Rule ids (istiod load checks L*, mesh-breaking M*, files F*, workload W*):
#   F1 all four files present and non-empty        F2 no tls.crt/tls.key/ca.crt (tls.crt would win)
#   L1 ca-cert.pem's first PEM block is a CERTIFICATE that parses; cert-chain/root-cert parse as certs
#   L2 openssl verify -x509_strict root-cert.pem <- cert-chain.pem <- ca-cert.pem
#   L2-time every cert on the path: NotBefore <= now < NotAfter
#   L2-digest no SHA-1/MD5 (or MD2/MD4) signatures
#   L2-eku every cert on the path: no EKU, or serverAuth / anyExtendedKeyUsage (Go's default ServerAuth)
#   L2-ca  every issuer (chain certs above ca-cert, roots) is CA:TRUE
#   L3 key file's first PEM block is PRIVATE KEY / RSA PRIVATE KEY / EC PRIVATE KEY, not encrypted, parses
#   L4 key matches ca-cert (public keys compared as DER)
#   L5 ca-crl.pem (if present): each cert of cert-chain.pem has a CRL that verifies, and has cRLSign
#   L6 ca-cert.pem is CA:TRUE
#   L7 cert-chain.pem's first cert parses and has not expired
#   L8-serial every serial positive (non-zero, non-negative)   L8-rsa every RSA key >= 2048 bits
#   M1 cert-chain.pem = ca-cert first, each cert signed by the next, last = self-signed root byte-equal
#      to a cert of root-cert.pem
#   M2 CA certs with keyUsage include Certificate Sign
#   M3 CA certs: no EKU, or both serverAuth and clientAuth
#   M4 pathlen of every CA above ca-cert allows the CAs below it (so workload certs verify)
#   M5 every cert's NotAfter <= its issuer's NotAfter; ca-cert has >= ISTIOD_CHECK_MIN_DAYS_LEFT (90) days left
#   M6 root-cert.pem is canonical PEM (openssl's re-encoding: 64-col base64, \n line ends), certs only

_ic_now() { date -u +%s; }

# _ic_split FILE DIR PREFIX: writes DIR/PREFIX.N.pem and DIR/PREFIX.N.type (block label) for each PEM
# block of FILE (N from 1); prints the block count.
_ic_split() {
  awk -v dir="$2" -v pre="$3" '
    /^-----BEGIN / { n++; inb = 1; f = dir "/" pre "." n ".pem"; t = $0
                     sub(/^-----BEGIN /, "", t); sub(/-----\r?$/, "", t)
                     tf = dir "/" pre "." n ".type"; print t > tf; close(tf) }
    inb            { print > f }
    /^-----END /   { if (inb) close(f); inb = 0 }
    END            { print n + 0 }' "$1"
}

# _ic_text CERT OUT: full text dump; returns non-zero if the cert does not parse
_ic_text() { openssl x509 -in "$1" -noout -text >"$2" 2>/dev/null; }

# _ic_ext TEXT NAME: header + value lines of extension NAME (e.g. "X509v3 Key Usage") from a -text dump
_ic_ext() {
  awk -v name="$2" '
    index($0, name ":") && $0 ~ /^            [^ ]/ { inx = 1; print; next }
    inx && /^                / { print; next }
    { inx = 0 }' "$1"
}

# (no `producer | grep -q` pipelines here: with pipefail an early-exiting grep can SIGPIPE the producer)
_ic_is_ca() { local bc; bc=$(_ic_ext "$1" "X509v3 Basic Constraints"); grep -q 'CA:TRUE' <<<"$bc"; }
_ic_pathlen() { local bc; bc=$(_ic_ext "$1" "X509v3 Basic Constraints"); sed -n 's/.*pathlen:\([0-9]*\).*/\1/p' <<<"$bc"; }
_ic_fp() { openssl x509 -in "$1" -noout -fingerprint -sha256 2>/dev/null | cut -d= -f2; }
_ic_date() { # _ic_date CERT -startdate|-enddate -> epoch seconds
  local d
  d=$(openssl x509 -in "$1" -noout "$2" 2>/dev/null | cut -d= -f2-) || return 1
  [[ -n "$d" ]] || return 1
  date -u -d "$d" +%s
}
_ic_der() { openssl x509 -in "$1" -outform DER -out "$2" 2>/dev/null; }
_ic_subject() { openssl x509 -in "$1" -noout -subject -nameopt RFC2253 2>/dev/null | sed 's/^subject=//'; }
_ic_issuer() { openssl x509 -in "$1" -noout -issuer -nameopt RFC2253 2>/dev/null | sed 's/^issuer=//'; }

# key block checks shared by istiod_check and workload_check: prints FAIL lines, returns non-zero on failure
# _ic_key_checks KEYFILE CERT WORK RULE_TYPE RULE_MATCH LABEL
_ic_key_checks() {
  local key="$1" cert="$2" work="$3" rtype="$4" rmatch="$5" label="$6" n t bad=0
  n=$(_ic_split "$key" "$work" key)
  if [[ "$n" -lt 1 ]]; then
    echo "FAIL: [$rtype] $label: $(basename "$key") holds no PEM block"; return 1
  fi
  t=$(cat "$work/key.1.type")
  case "$t" in
    "PRIVATE KEY"|"RSA PRIVATE KEY"|"EC PRIVATE KEY") ;;
    *) echo "FAIL: [$rtype] $label: first PEM block of $(basename "$key") is '$t', not PRIVATE KEY/RSA PRIVATE KEY/EC PRIVATE KEY"; return 1 ;;
  esac
  if grep -q '^Proc-Type: 4,ENCRYPTED' "$work/key.1.pem"; then
    echo "FAIL: [$rtype] $label: $(basename "$key") is an encrypted legacy PEM key"; return 1
  fi
  if ! openssl pkey -in "$work/key.1.pem" -passin pass: -pubout -outform DER -out "$work/key.pub.der" 2>/dev/null; then
    echo "FAIL: [$rtype] $label: first PEM block of $(basename "$key") does not parse as an unencrypted key"; return 1
  fi
  [[ "${ISTIOD_CHECK_VERBOSE:-0}" == 1 ]] && echo "ok: [$rtype] $label: key block '$t' parses"
  if ! openssl x509 -in "$cert" -noout -pubkey 2>/dev/null | openssl pkey -pubin -outform DER -out "$work/cert.pub.der" 2>/dev/null \
     || ! cmp -s "$work/key.pub.der" "$work/cert.pub.der"; then
    echo "FAIL: [$rmatch] $label: $(basename "$key") does not match the certificate's public key"; bad=1
  elif [[ "${ISTIOD_CHECK_VERBOSE:-0}" == 1 ]]; then echo "ok: [$rmatch] $label: key matches cert"; fi
  return $bad
}

# per-cert checks common to every cert of a path: digest, serial, RSA size, validity now
# _ic_cert_checks CERT TEXT LABEL -> prints FAILs, returns count via exit status 0/1
_ic_cert_checks() {
  local c="$1" txt="$2" label="$3" bad=0 now nb na serial bits
  now=$(_ic_now)
  local sigalgs; sigalgs=$(grep -E '^ *Signature Algorithm:' "$txt")
  if grep -qiE 'sha1|md5|md2|md4' <<<"$sigalgs"; then
    echo "FAIL: [L2-digest] $label: weak signature algorithm: $(head -n1 <<<"$sigalgs" | sed 's/^ *//')"; bad=1
  fi
  serial=$(openssl x509 -in "$c" -noout -serial 2>/dev/null | cut -d= -f2)
  if [[ -z "$serial" || "$serial" == -* ]] || grep -q '(Negative)' "$txt" || [[ "$serial" =~ ^0+$ ]]; then
    echo "FAIL: [L8-serial] $label: serial is not positive (serial=$serial)"; bad=1
  fi
  if grep -q 'Public Key Algorithm: rsaEncryption' "$txt"; then
    bits=$(grep -m1 -oE 'Public-Key: \([0-9]+ bit\)' "$txt" | grep -oE '[0-9]+')
    if [[ -z "$bits" || "$bits" -lt 2048 ]]; then
      echo "FAIL: [L8-rsa] $label: RSA key of ${bits:-?} bits (< 2048)"; bad=1
    fi
  fi
  nb=$(_ic_date "$c" -startdate) || nb=""
  na=$(_ic_date "$c" -enddate) || na=""
  if [[ -z "$nb" || -z "$na" ]]; then
    echo "FAIL: [L2-time] $label: cannot read validity dates"; bad=1
  else
    if (( nb > now )); then echo "FAIL: [L2-time] $label: NotBefore is in the future ($(openssl x509 -in "$c" -noout -startdate))"; bad=1; fi
    if (( na <= now )); then echo "FAIL: [L2-time] $label: expired ($(openssl x509 -in "$c" -noout -enddate))"; bad=1; fi
  fi
  return $bad
}

# EKU rules. _ic_eku_checks TEXT LABEL IS_CA
_ic_eku_checks() {
  local txt="$1" label="$2" isca="$3" eku bad=0
  eku=$(_ic_ext "$txt" "X509v3 Extended Key Usage")
  [[ -z "$eku" ]] && return 0
  if ! grep -qE 'TLS Web Server Authentication|Any Extended Key Usage' <<<"$eku"; then
    echo "FAIL: [L2-eku] $label: EKU without serverAuth/anyExtendedKeyUsage: $(tail -n1 <<<"$eku" | sed 's/^ *//')"; bad=1
  fi
  if [[ "$isca" == 1 ]] && ! { grep -q 'TLS Web Server Authentication' <<<"$eku" && grep -q 'TLS Web Client Authentication' <<<"$eku"; }; then
    echo "FAIL: [M3] $label: CA cert has an EKU without both serverAuth and clientAuth: $(tail -n1 <<<"$eku" | sed 's/^ *//')"; bad=1
  fi
  return $bad
}

istiod_check() {
  local dir="${1:?usage: istiod_check BUNDLE_DIR [KEY_FILE]}" key="${2:-}" w f bad=0 n nc nr i j t
  local label="istiod_check $dir"
  [[ -n "$key" ]] || key="$dir/ca-key.pem"
  w=$(mktemp -d "${TMPDIR:-/tmp}/istiod_check.XXXXXX") || { echo "FAIL: [F1] $label: mktemp failed"; return 1; }

  # ---- F1/F2 files
  for f in "$dir/ca-cert.pem" "$key" "$dir/cert-chain.pem" "$dir/root-cert.pem"; do
    if [[ ! -s "$f" ]]; then echo "FAIL: [F1] $label: $f missing or empty (partial bundles are fatal since Istio 1.26.1)"; bad=1; fi
  done
  if (( bad )); then rm -rf "$w"; return 1; fi
  for f in tls.crt tls.key ca.crt; do
    if [[ -e "$dir/$f" ]]; then echo "FAIL: [F2] $label: $f present (TLS-format files win over ca-*.pem)"; bad=1; fi
  done

  # ---- L1 first block of ca-cert.pem
  n=$(_ic_split "$dir/ca-cert.pem" "$w" ca)
  if [[ "$n" -lt 1 ]] || [[ "$(cat "$w/ca.1.type")" != "CERTIFICATE" ]] || ! _ic_text "$w/ca.1.pem" "$w/ca.txt"; then
    echo "FAIL: [L1] $label: first PEM block of ca-cert.pem is not a parseable CERTIFICATE"
    rm -rf "$w"; return 1
  fi
  local ca="$w/ca.1.pem"

  # ---- parse chain and roots
  nc=$(_ic_split "$dir/cert-chain.pem" "$w" chain)
  nr=$(_ic_split "$dir/root-cert.pem" "$w" root)
  local parsed=1
  for ((i = 1; i <= nc; i++)); do
    if [[ "$(cat "$w/chain.$i.type")" != CERTIFICATE ]] || ! _ic_text "$w/chain.$i.pem" "$w/chain.$i.txt"; then
      echo "FAIL: [L1] $label: cert-chain.pem block $i is not a parseable CERTIFICATE"; bad=1; parsed=0
    fi
  done
  for ((i = 1; i <= nr; i++)); do
    if [[ "$(cat "$w/root.$i.type")" != CERTIFICATE ]] || ! _ic_text "$w/root.$i.pem" "$w/root.$i.txt"; then
      echo "FAIL: [L1] $label: root-cert.pem block $i is not a parseable CERTIFICATE"; bad=1; parsed=0
    fi
  done
  if (( nc < 1 )); then echo "FAIL: [M1] $label: cert-chain.pem holds no certificate (peers cannot build a path)"; bad=1; fi
  if (( nr < 1 )); then echo "FAIL: [L2] $label: root-cert.pem holds no certificate"; bad=1; fi
  if (( parsed == 0 || nc < 1 || nr < 1 )); then rm -rf "$w"; return 1; fi

  # ---- L2 verify (x509_strict; Go's path building equivalent)
  if openssl verify -x509_strict -CAfile "$dir/root-cert.pem" -untrusted "$dir/cert-chain.pem" "$ca" >"$w/verify.out" 2>&1 \
     && grep -q ': OK$' "$w/verify.out"; then
    [[ "${ISTIOD_CHECK_VERBOSE:-0}" == 1 ]] && echo "ok: [L2] $label: ca-cert verifies to root-cert.pem"
  else
    echo "FAIL: [L2] $label: openssl verify -x509_strict failed: $(grep -m1 -E 'error|Error' "$w/verify.out" | tr -s ' ' | head -c 300)"; bad=1
  fi

  # ---- per-cert checks on every cert of the path (ca-cert, chain, roots)
  local certs=("$ca") texts=("$w/ca.txt") labels=("$label: ca-cert.pem") isca=(0)
  for ((i = 1; i <= nc; i++)); do certs+=("$w/chain.$i.pem"); texts+=("$w/chain.$i.txt"); labels+=("$label: cert-chain.pem#$i"); isca+=(1); done
  for ((i = 1; i <= nr; i++)); do certs+=("$w/root.$i.pem"); texts+=("$w/root.$i.txt"); labels+=("$label: root-cert.pem#$i"); isca+=(1); done
  local seen=" " fp
  for ((i = 0; i < ${#certs[@]}; i++)); do
    fp=$(_ic_fp "${certs[$i]}")
    if [[ "$seen" == *" $fp "* ]]; then continue; fi   # ca-cert == chain#1, chain#last == root: check once
    seen+="$fp "
    _ic_cert_checks "${certs[$i]}" "${texts[$i]}" "${labels[$i]}" || bad=1
    _ic_eku_checks "${texts[$i]}" "${labels[$i]}" 1 || bad=1
    local ku; ku=$(_ic_ext "${texts[$i]}" "X509v3 Key Usage")
    if [[ -n "$ku" ]] && ! grep -q 'Certificate Sign' <<<"$ku"; then
      echo "FAIL: [M2] ${labels[$i]}: keyUsage without Certificate Sign: $(tail -n1 <<<"$ku" | sed 's/^ *//')"; bad=1
    fi
    if (( isca[i] == 1 )) && ! _ic_is_ca "${texts[$i]}"; then
      echo "FAIL: [L2-ca] ${labels[$i]}: issuer cert is not CA:TRUE"; bad=1
    fi
  done

  # ---- L3/L4 key
  _ic_key_checks "$key" "$ca" "$w" L3 L4 "$label" || bad=1

  # ---- L6 ca-cert is CA
  if ! _ic_is_ca "$w/ca.txt"; then echo "FAIL: [L6] $label: ca-cert.pem is not CA:TRUE"; bad=1; fi

  # ---- L7 chain first cert not expired
  if ! openssl x509 -in "$w/chain.1.pem" -noout -checkend 0 >/dev/null 2>&1; then
    echo "FAIL: [L7] $label: first cert of cert-chain.pem has expired"; bad=1
  fi

  # ---- M1 chain order: ca-cert, ..., root; each signed by the next; last == a root of root-cert.pem
  _ic_der "$ca" "$w/ca.der"
  _ic_der "$w/chain.1.pem" "$w/chain.1.der"
  if ! cmp -s "$w/ca.der" "$w/chain.1.der"; then
    echo "FAIL: [M1] $label: first cert of cert-chain.pem is not ca-cert.pem's cert (order must be intermediate first, root last)"; bad=1
  fi
  for ((i = 1; i < nc; i++)); do
    j=$((i + 1))
    if [[ "$(_ic_issuer "$w/chain.$i.pem")" != "$(_ic_subject "$w/chain.$j.pem")" ]] \
       || ! openssl verify -partial_chain -no_check_time -CAfile "$w/chain.$j.pem" "$w/chain.$i.pem" >/dev/null 2>&1; then
      echo "FAIL: [M1] $label: cert-chain.pem#$i ($(_ic_subject "$w/chain.$i.pem")) is not issued by cert-chain.pem#$j ($(_ic_subject "$w/chain.$j.pem"))"; bad=1
    fi
  done
  if [[ "$(_ic_issuer "$w/chain.$nc.pem")" != "$(_ic_subject "$w/chain.$nc.pem")" ]]; then
    echo "FAIL: [M1] $label: last cert of cert-chain.pem is not a self-signed root ($(_ic_subject "$w/chain.$nc.pem"))"; bad=1
  fi
  local found=0
  for ((i = 1; i <= nr; i++)); do
    if cmp -s "$w/chain.$nc.pem" "$w/root.$i.pem"; then found=1; fi
  done
  if (( found == 0 )); then
    echo "FAIL: [M1] $label: last cert of cert-chain.pem is not byte-equal to a cert of root-cert.pem"; bad=1
  fi

  # ---- M4 pathlen: chain#j (j>=2, above ca-cert) has j-1 CA certs below it in a workload's path
  for ((i = 2; i <= nc; i++)); do
    local pl; pl=$(_ic_pathlen "$w/chain.$i.txt")
    if [[ -n "$pl" ]] && (( pl < i - 1 )); then
      echo "FAIL: [M4] $label: cert-chain.pem#$i has pathlen:$pl but $((i - 1)) CA cert(s) below it (workload certs will not verify)"; bad=1
    fi
  done

  # ---- M5 NotAfter ordering and ca-cert lifetime left
  local na_i na_j
  for ((i = 1; i < nc; i++)); do
    j=$((i + 1))
    na_i=$(_ic_date "$w/chain.$i.pem" -enddate) || na_i=0
    na_j=$(_ic_date "$w/chain.$j.pem" -enddate) || na_j=0
    if (( na_i > na_j )); then
      echo "FAIL: [M5] $label: cert-chain.pem#$i ends after its issuer cert-chain.pem#$j ($(openssl x509 -in "$w/chain.$i.pem" -noout -enddate) > $(openssl x509 -in "$w/chain.$j.pem" -noout -enddate))"; bad=1
    fi
  done
  na_i=$(_ic_date "$ca" -enddate) || na_i=0
  local min_days="${ISTIOD_CHECK_MIN_DAYS_LEFT:-90}"
  if (( na_i - $(_ic_now) < min_days * 86400 )); then
    echo "FAIL: [M5] $label: ca-cert.pem has less than $min_days days left (workload certs live up to 90 days)"; bad=1
  fi

  # ---- M6 root-cert.pem canonical PEM, certs only
  : >"$w/root.canon"
  for ((i = 1; i <= nr; i++)); do openssl x509 -in "$w/root.$i.pem" >>"$w/root.canon" 2>/dev/null; done
  if ! cmp -s "$w/root.canon" "$dir/root-cert.pem"; then
    echo "FAIL: [M6] $label: root-cert.pem is not canonical PEM (openssl's re-encoding differs: line length, line ends, or extra text)"; bad=1
  fi

  # ---- L5 CRL (optional)
  if [[ -e "$dir/ca-crl.pem" ]]; then
    local ncrl k ok
    ncrl=$(_ic_split "$dir/ca-crl.pem" "$w" crl)
    for ((i = 1; i <= nc; i++)); do
      ok=0
      for ((k = 1; k <= ncrl; k++)); do
        if openssl crl -in "$w/crl.$k.pem" -noout -CAfile "$w/chain.$i.pem" >"$w/crl.out" 2>&1 && grep -q 'verify OK' "$w/crl.out"; then ok=1; fi
      done
      local cku; cku=$(_ic_ext "$w/chain.$i.txt" "X509v3 Key Usage")
      if (( ok == 0 )); then echo "FAIL: [L5] $label: no CRL in ca-crl.pem verifies against cert-chain.pem#$i"; bad=1; fi
      if [[ -n "$cku" ]] && ! grep -q 'CRL Sign' <<<"$cku"; then
        echo "FAIL: [L5] $label: cert-chain.pem#$i lacks cRLSign, so Go rejects its CRL"; bad=1
      fi
    done
  fi

  rm -rf "$w"
  if (( bad )); then return 1; fi
  [[ "${ISTIOD_CHECK_VERBOSE:-0}" == 1 ]] && echo "ok: $label: all rules hold"
  return 0
}

workload_check() {
  local dir="${1:?usage: workload_check DIR [EXPECTED_SPIFFE_URI]}" want="${2:-}" w f bad=0 n nr i j t
  local label="workload_check $dir"
  w=$(mktemp -d "${TMPDIR:-/tmp}/workload_check.XXXXXX") || { echo "FAIL: [W0] $label: mktemp failed"; return 1; }
  for f in workload-cert.pem key.pem workload-cert-chain.pem root-cert.pem; do
    if [[ ! -s "$dir/$f" ]]; then echo "FAIL: [W0] $label: $f missing or empty"; bad=1; fi
  done
  if (( bad )); then rm -rf "$w"; return 1; fi

  n=$(_ic_split "$dir/workload-cert.pem" "$w" leaf)
  if [[ "$n" -lt 1 || "$(cat "$w/leaf.1.type")" != CERTIFICATE ]] || ! _ic_text "$w/leaf.1.pem" "$w/leaf.txt"; then
    echo "FAIL: [W1] $label: workload-cert.pem's first block is not a parseable CERTIFICATE"; rm -rf "$w"; return 1
  fi
  local leaf="$w/leaf.1.pem"
  n=$(_ic_split "$dir/workload-cert-chain.pem" "$w" chain)
  nr=$(_ic_split "$dir/root-cert.pem" "$w" root)
  for ((i = 1; i <= n; i++)); do
    if [[ "$(cat "$w/chain.$i.type")" != CERTIFICATE ]] || ! _ic_text "$w/chain.$i.pem" "$w/chain.$i.txt"; then
      echo "FAIL: [W1] $label: workload-cert-chain.pem block $i is not a parseable CERTIFICATE"; rm -rf "$w"; return 1
    fi
  done
  if (( n < 3 )); then echo "FAIL: [W2] $label: workload-cert-chain.pem holds $n cert(s), want leaf, intermediate(s), root"; bad=1; fi

  # leaf profile: CA:FALSE critical, EKU serverAuth+clientAuth, SPIFFE SAN
  local bc eku san
  bc=$(_ic_ext "$w/leaf.txt" "X509v3 Basic Constraints")
  if ! grep -q 'critical' <<<"$bc" || ! grep -q 'CA:FALSE' <<<"$bc"; then
    echo "FAIL: [W3] $label: workload cert basicConstraints is not 'critical CA:FALSE': $(tr '\n' ' ' <<<"$bc" | tr -s ' ')"; bad=1
  fi
  eku=$(_ic_ext "$w/leaf.txt" "X509v3 Extended Key Usage")
  if ! grep -q 'TLS Web Server Authentication' <<<"$eku" || ! grep -q 'TLS Web Client Authentication' <<<"$eku"; then
    echo "FAIL: [W3] $label: workload cert EKU lacks serverAuth and/or clientAuth"; bad=1
  fi
  san=$(_ic_ext "$w/leaf.txt" "X509v3 Subject Alternative Name")
  if ! grep -q 'URI:spiffe://' <<<"$san"; then
    echo "FAIL: [W3] $label: workload cert has no spiffe:// URI SAN"; bad=1
  elif [[ -n "$want" ]] && ! grep -qF "URI:$want" <<<"$san"; then
    echo "FAIL: [W3] $label: workload SAN is '$(tail -n1 <<<"$san" | sed 's/^ *//')', want URI:$want"; bad=1
  fi
  _ic_cert_checks "$leaf" "$w/leaf.txt" "$label: workload-cert.pem" || bad=1
  for ((i = 2; i <= n; i++)); do
    _ic_cert_checks "$w/chain.$i.pem" "$w/chain.$i.txt" "$label: workload-cert-chain.pem#$i" || bad=1
    local ku; ku=$(_ic_ext "$w/chain.$i.txt" "X509v3 Key Usage")
    if [[ -n "$ku" ]] && ! grep -q 'Certificate Sign' <<<"$ku"; then
      echo "FAIL: [M2] $label: workload-cert-chain.pem#$i keyUsage lacks Certificate Sign"; bad=1
    fi
  done

  # key
  _ic_key_checks "$dir/key.pem" "$leaf" "$w" W4 W4 "$label" || bad=1
  local mode; mode=$(stat -c %a "$dir/key.pem")
  if [[ "$mode" != 600 ]]; then echo "FAIL: [W4] $label: key.pem mode is $mode, want 600"; bad=1; fi

  # chain order: [1] == leaf, each signed by next, last == a root of root-cert.pem
  _ic_der "$leaf" "$w/leaf.der"; _ic_der "$w/chain.1.pem" "$w/chain.1.der"
  if ! cmp -s "$w/leaf.der" "$w/chain.1.der"; then
    echo "FAIL: [W2] $label: first cert of workload-cert-chain.pem is not workload-cert.pem"; bad=1
  fi
  for ((i = 1; i < n; i++)); do
    j=$((i + 1))
    if [[ "$(_ic_issuer "$w/chain.$i.pem")" != "$(_ic_subject "$w/chain.$j.pem")" ]] \
       || ! openssl verify -partial_chain -no_check_time -CAfile "$w/chain.$j.pem" "$w/chain.$i.pem" >/dev/null 2>&1; then
      echo "FAIL: [W2] $label: workload-cert-chain.pem#$i is not issued by #$j"; bad=1
    fi
    local a b
    a=$(_ic_date "$w/chain.$i.pem" -enddate) || a=0; b=$(_ic_date "$w/chain.$j.pem" -enddate) || b=0
    if (( a > b )); then echo "FAIL: [M5] $label: workload-cert-chain.pem#$i ends after its issuer #$j"; bad=1; fi
  done
  local found=0
  for ((i = 1; i <= nr; i++)); do cmp -s "$w/chain.$n.pem" "$w/root.$i.pem" && found=1; done
  if (( found == 0 )); then echo "FAIL: [W2] $label: last cert of workload-cert-chain.pem is not byte-equal to a cert of root-cert.pem"; bad=1; fi

  # verify through the chain to the root, as a TLS server and as a TLS client
  local purpose
  for purpose in sslserver sslclient; do
    if openssl verify -x509_strict -purpose "$purpose" -CAfile "$dir/root-cert.pem" -untrusted "$dir/workload-cert-chain.pem" "$leaf" >"$w/v.out" 2>&1 \
       && grep -q ': OK$' "$w/v.out"; then :; else
      echo "FAIL: [W5] $label: openssl verify -x509_strict -purpose $purpose failed: $(grep -m1 -E 'error' "$w/v.out" | tr -s ' ' | head -c 300)"; bad=1
    fi
  done
  rm -rf "$w"
  if (( bad )); then return 1; fi
  [[ "${ISTIOD_CHECK_VERBOSE:-0}" == 1 ]] && echo "ok: $label: all rules hold"
  return 0
}

# istiod_sign_workload BUNDLE_DIR OUT_DIR [KEY_FILE]: what istiod does with the bundle, done with openssl
istiod_sign_workload() {
  local dir="${1:?usage: istiod_sign_workload BUNDLE_DIR OUT_DIR [KEY_FILE]}" out="${2:?OUT_DIR}" key="${3:-}" serial
  [[ -n "$key" ]] || key="$1/ca-key.pem"
  mkdir -p "$out" || return 1
  local label="istiod_sign_workload $dir"
  if ! openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$out/key.pem" 2>/dev/null; then
    echo "FAIL: [S1] $label: openssl genpkey failed"; return 1
  fi
  chmod 600 "$out/key.pem"
  openssl req -new -key "$out/key.pem" -subj "/O=Istio/CN=Workload/L=ns-check" -out "$out/workload.csr" 2>/dev/null \
    || { echo "FAIL: [S1] $label: openssl req failed"; return 1; }
  cat >"$out/workload.ext" <<'EOF'
[ ext ]
basicConstraints = critical, CA:false
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = URI:spiffe://cluster.local/ns/ns-check/sa/default
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
EOF
  serial="0x$(openssl rand -hex 16 | sed 's/^./1/')"
  if ! openssl x509 -req -in "$out/workload.csr" -CA "$dir/ca-cert.pem" -CAkey "$key" -set_serial "$serial" -days 1 -sha256 \
       -extfile "$out/workload.ext" -extensions ext -out "$out/workload-cert.pem" >"$out/sign.log" 2>&1; then
    echo "FAIL: [S1] $label: openssl x509 -req could not sign with the bundle's CA key: $(head -c 300 "$out/sign.log" | tr '\n' ' ')"; return 1
  fi
  if ! openssl verify -x509_strict -CAfile "$dir/root-cert.pem" -untrusted "$dir/cert-chain.pem" "$out/workload-cert.pem" >"$out/verify.log" 2>&1 \
     || ! grep -q ': OK$' "$out/verify.log"; then
    echo "FAIL: [S2] $label: throwaway workload cert does not verify (-CAfile root-cert.pem -untrusted cert-chain.pem): $(grep -m1 error "$out/verify.log" | tr -s ' ')"; return 1
  fi
  cat "$out/workload-cert.pem" "$dir/cert-chain.pem" >"$out/workload-cert-chain.pem"
  cp "$dir/root-cert.pem" "$out/root-cert.pem"
  workload_check "$out" "spiffe://cluster.local/ns/ns-check/sa/default"
}

# ---------------------------------------------------------------------------------------------------------
# Reference generators: the exact openssl commands and conf files of Istio's tools/certs/Makefile.selfsigned.mk
# and tools/certs/common.mk (conf files written line by line as the Makefile's `echo` recipes write them).
# Variables as in common.mk. INTERMEDIATE_DAYS defaults to 3650 (Istio >= 1.18; 730 before), per
# /work/shared/design/istio-bundle.md.
#   makefile_root_ca DIR                   -> DIR/root-ca.conf root-key.pem root-cert.csr root-cert.pem
#   makefile_cacerts DIR NAME              -> DIR/NAME/{intermediate.conf,ca-key.pem,cluster-ca.csr,ca-cert.pem,
#                                             cert-chain.pem,root-cert.pem}   (make NAME-cacerts)
#   makefile_workload_certs DIR NAMESPACE  -> DIR/NAMESPACE/{...,workload.conf,key.pem,workload.csr,
#                                             workload-cert.pem,workload-cert-chain.pem,root-cert.pem}
#                                             (make NAMESPACE-certs; note its chain is root, intermediate, leaf)
# Output of openssl goes to DIR/makefile.log. Each returns non-zero on failure.
# ---------------------------------------------------------------------------------------------------------
makefile_root_ca() {
  local dir="${1:?usage: makefile_root_ca DIR}"
  local ROOTCA_DAYS="${ROOTCA_DAYS:-3650}" ROOTCA_KEYSZ="${ROOTCA_KEYSZ:-4096}" ROOTCA_ORG="${ROOTCA_ORG:-Istio}" ROOTCA_CN="${ROOTCA_CN:-Root CA}"
  mkdir -p "$dir" && (
    cd "$dir" || exit 1
    exec 3>>makefile.log
    # root-ca.conf:
    echo "[ req ]" > root-ca.conf
    echo "encrypt_key = no" >> root-ca.conf
    echo "prompt = no" >> root-ca.conf
    echo "utf8 = yes" >> root-ca.conf
    echo "default_md = sha256" >> root-ca.conf
    echo "default_bits = $ROOTCA_KEYSZ" >> root-ca.conf
    echo "req_extensions = req_ext" >> root-ca.conf
    echo "x509_extensions = req_ext" >> root-ca.conf
    echo "distinguished_name = req_dn" >> root-ca.conf
    echo "[ req_ext ]" >> root-ca.conf
    echo "subjectKeyIdentifier = hash" >> root-ca.conf
    echo "basicConstraints = critical, CA:true" >> root-ca.conf
    echo "keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign" >> root-ca.conf
    echo "[ req_dn ]" >> root-ca.conf
    echo "O = $ROOTCA_ORG" >> root-ca.conf
    echo "CN = $ROOTCA_CN" >> root-ca.conf
    # root-key.pem:
    openssl genrsa -out root-key.pem 4096 2>&3 || exit 1
    # root-cert.csr: root-key.pem root-ca.conf
    openssl req -new -key root-key.pem -config root-ca.conf -out root-cert.csr 2>&3 || exit 1
    # root-cert.pem: root-cert.csr root-key.pem
    openssl x509 -req -days "$ROOTCA_DAYS" -signkey root-key.pem \
      -extensions req_ext -extfile root-ca.conf \
      -in root-cert.csr -out root-cert.pem >&3 2>&3 || exit 1
  )
}

# %/intermediate.conf (L = NAME/), used by both NAME-cacerts and NAMESPACE-certs
_makefile_intermediate_conf() {
  local f="$1" L="$2/"
  local INTERMEDIATE_KEYSZ="${INTERMEDIATE_KEYSZ:-4096}" INTERMEDIATE_ORG="${INTERMEDIATE_ORG:-Istio}"
  local INTERMEDIATE_CN="${INTERMEDIATE_CN:-Intermediate CA}" INTERMEDIATE_SAN_DNS="${INTERMEDIATE_SAN_DNS:-istiod.istio-system.svc}"
  echo "[ req ]" > "$f"
  echo "encrypt_key = no" >> "$f"
  echo "prompt = no" >> "$f"
  echo "utf8 = yes" >> "$f"
  echo "default_md = sha256" >> "$f"
  echo "default_bits = $INTERMEDIATE_KEYSZ" >> "$f"
  echo "req_extensions = req_ext" >> "$f"
  echo "x509_extensions = req_ext" >> "$f"
  echo "distinguished_name = req_dn" >> "$f"
  echo "[ req_ext ]" >> "$f"
  echo "subjectKeyIdentifier = hash" >> "$f"
  echo "basicConstraints = critical, CA:true, pathlen:0" >> "$f"
  echo "keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign" >> "$f"
  echo "subjectAltName=@san" >> "$f"
  echo "[ san ]" >> "$f"
  echo "DNS.1 = $INTERMEDIATE_SAN_DNS" >> "$f"
  echo "[ req_dn ]" >> "$f"
  echo "O = $INTERMEDIATE_ORG" >> "$f"
  echo "CN = $INTERMEDIATE_CN" >> "$f"
  echo "L = ${L%/}" >> "$f"
}

# %/ca-key.pem, %/cluster-ca.csr, %/ca-cert.pem for NAME (run inside DIR)
_makefile_intermediate() {
  local name="$1" INTERMEDIATE_DAYS="${INTERMEDIATE_DAYS:-3650}"
  mkdir -p "$name"
  _makefile_intermediate_conf "$name/intermediate.conf" "$name"
  openssl genrsa -out "$name/ca-key.pem" 4096 2>&3 || return 1
  openssl req -new -config "$name/intermediate.conf" -key "$name/ca-key.pem" -out "$name/cluster-ca.csr" 2>&3 || return 1
  openssl x509 -req -days "$INTERMEDIATE_DAYS" \
    -CA root-cert.pem -CAkey root-key.pem -CAcreateserial \
    -extensions req_ext -extfile "$name//intermediate.conf" \
    -in "$name/cluster-ca.csr" -out "$name/ca-cert.pem" >&3 2>&3 || return 1
}

makefile_cacerts() {
  local dir="${1:?usage: makefile_cacerts DIR NAME}" name="${2:?NAME}"
  (
    cd "$dir" || exit 1
    exec 3>>makefile.log
    _makefile_intermediate "$name" || exit 1
    # %/cert-chain.pem: %/ca-cert.pem root-cert.pem
    cat "$name/ca-cert.pem" root-cert.pem > "$name/cert-chain.pem"
    cp root-cert.pem "$name/"
  )
}

makefile_workload_certs() {
  local dir="${1:?usage: makefile_workload_certs DIR NAMESPACE}" ns="${2:?NAMESPACE}"
  local WORKLOAD_DAYS="${WORKLOAD_DAYS:-1}" SERVICE_ACCOUNT="${SERVICE_ACCOUNT:-default}" WORKLOAD_CN="${WORKLOAD_CN:-Workload}"
  local INTERMEDIATE_KEYSZ="${INTERMEDIATE_KEYSZ:-4096}" INTERMEDIATE_ORG="${INTERMEDIATE_ORG:-Istio}"
  (
    cd "$dir" || exit 1
    exec 3>>makefile.log
    [[ -s "$ns/ca-cert.pem" ]] || _makefile_intermediate "$ns" || exit 1
    local f="$ns/workload.conf" L="$ns/"
    echo "[ req ]" > "$f"
    echo "encrypt_key = no" >> "$f"
    echo "prompt = no" >> "$f"
    echo "utf8 = yes" >> "$f"
    echo "default_md = sha256" >> "$f"
    echo "default_bits = $INTERMEDIATE_KEYSZ" >> "$f"
    echo "req_extensions = req_ext" >> "$f"
    echo "x509_extensions = req_ext" >> "$f"
    echo "distinguished_name = req_dn" >> "$f"
    echo "[ req_ext ]" >> "$f"
    echo "subjectKeyIdentifier = hash" >> "$f"
    echo "basicConstraints = critical, CA:false" >> "$f"
    echo "keyUsage = digitalSignature, keyEncipherment" >> "$f"
    echo "extendedKeyUsage = serverAuth, clientAuth" >> "$f"
    echo "subjectAltName=@san" >> "$f"
    echo "[ san ]" >> "$f"
    echo "URI.1 = spiffe://cluster.local/ns/${L}sa/$SERVICE_ACCOUNT" >> "$f"
    echo "[ req_dn ]" >> "$f"
    echo "O = $INTERMEDIATE_ORG" >> "$f"
    echo "CN = $WORKLOAD_CN" >> "$f"
    echo "L = ${L%/}" >> "$f"
    # %/key.pem, %/workload.csr, %/workload-cert.pem
    openssl genrsa -out "$ns/key.pem" 4096 2>&3 || exit 1
    openssl req -new -config "$ns/workload.conf" -key "$ns/key.pem" -out "$ns/workload.csr" 2>&3 || exit 1
    openssl x509 -req -days "$WORKLOAD_DAYS" \
      -CA "$ns//ca-cert.pem"  -CAkey "$ns//ca-key.pem" -CAcreateserial \
      -extensions req_ext -extfile "$ns//workload.conf" \
      -in "$ns/workload.csr" -out "$ns/workload-cert.pem" >&3 2>&3 || exit 1
    # %/workload-cert-chain.pem: root-cert.pem %/ca-cert.pem %/workload-cert.pem
    cat root-cert.pem "$ns/ca-cert.pem" "$ns/workload-cert.pem" > "$ns/workload-cert-chain.pem"
    cp root-cert.pem "$ns/root-cert.pem"
  )
}
