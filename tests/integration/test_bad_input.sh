#!/usr/bin/env bash
# Malformed input: every case must exit 1 (2 for usage errors), print exactly one line on stderr starting with
# "error: ", never print "PRIVATE KEY", key material or the passphrase, and change nothing: `certs list` and
# `cluster list` (--output json) and the export directory (names, modes, sizes, sha256) are compared
# before/after. Import failures run on a fresh data dir, which must stay uninitialised (a later plain init works).
set -euo pipefail
fail() { echo "FAIL: $*"; exit 1; }
[[ -n "${MESHTRUST_BIN:-}" ]] || fail "MESHTRUST_BIN is not set (path to the meshtrust binary)"
[[ "$MESHTRUST_BIN" == /* ]] || MESHTRUST_BIN="$PWD/$MESHTRUST_BIN"
[[ -x "$MESHTRUST_BIN" ]] || fail "MESHTRUST_BIN=$MESHTRUST_BIN is not executable"
unset MESHTRUST_DATA_DIR MESHTRUST_PASSPHRASE

tmp="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-badinput.XXXXXX")"
trap 'chmod -R u+w "$tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT

# distinctive passphrases, so that "the passphrase never appears on stderr" means something
PASS_A="pass-A-7f3c9e51d2"
PASS_B="pass-B-4d21aa0c88"
D="$tmp/data"          # the main data dir
E="$tmp/export"        # its export dir
failures=0
checked=0

mt() { # mt ARGS... : must succeed (passphrase A)
  local rc=0
  MESHTRUST_PASSPHRASE="$PASS_A" "$MESHTRUST_BIN" --data-dir "$D" "$@" >"$tmp/mt.out" 2>"$tmp/mt.err" || rc=$?
  [[ $rc -eq 0 ]] || fail "setup: meshtrust --data-dir $D $* exited $rc; stderr: $(head -c 600 "$tmp/mt.err")"
}
snapshot() { # snapshot OUT: the state that no failing command may change
  {
    echo "## certs list"
    MESHTRUST_PASSPHRASE="$PASS_A" "$MESHTRUST_BIN" --data-dir "$D" --output json certs list 2>&1 || echo "certs list failed: $?"
    echo; echo "## cluster list"
    MESHTRUST_PASSPHRASE="$PASS_A" "$MESHTRUST_BIN" --data-dir "$D" --output json cluster list 2>&1 || echo "cluster list failed: $?"
    echo; echo "## export dir"
    (cd "$E" && find . -printf '%p %M %s\n' | LC_ALL=C sort && find . -type f -exec sha256sum {} + | LC_ALL=C sort)
  } >"$1"
}

# expect WANT_RC DESCRIPTION -- [VAR=value...] meshtrust-args...
# runs meshtrust (env assignments before the args, default MESHTRUST_PASSPHRASE=PASS_A), checks exit code,
# stderr shape and secrecy, and that the snapshot did not change.
expect() {
  local want="$1" desc="$2"; shift 3
  local envs=("MESHTRUST_PASSPHRASE=$PASS_A") rc=0 errs=()
  while [[ $# -gt 0 && "$1" == *=* && "$1" != -* ]]; do envs+=("$1"); shift; done
  snapshot "$tmp/before"
  env "${envs[@]}" "$MESHTRUST_BIN" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
  snapshot "$tmp/after"
  [[ $rc -eq $want ]] || errs+=("exit $rc, want $want")
  local lines; lines=$(wc -l <"$tmp/err")
  [[ $lines -eq 1 ]] || errs+=("stderr has $lines lines, want exactly 1")
  grep -q '^error: ' "$tmp/err" || errs+=("stderr does not start with 'error: '")
  grep -q 'PRIVATE KEY' "$tmp/err" "$tmp/out" && errs+=("output contains 'PRIVATE KEY'")
  grep -qF -e "$PASS_A" -e "$PASS_B" "$tmp/err" "$tmp/out" && errs+=("output contains the passphrase")
  if [[ -n "${SECRET_LINE:-}" ]] && grep -qF "$SECRET_LINE" "$tmp/err" "$tmp/out"; then errs+=("output contains key material"); fi
  if ! diff -u "$tmp/before" "$tmp/after" >"$tmp/snapdiff"; then errs+=("state changed: $(tail -n +3 "$tmp/snapdiff" | grep '^[-+]' | head -n 6 | tr '\n' ' ')"); fi
  checked=$((checked + 1))
  if [[ ${#errs[@]} -gt 0 ]]; then
    failures=$((failures + 1))
    echo "FAIL: $desc: meshtrust $*"
    local e; for e in "${errs[@]}"; do echo "      - $e"; done
    echo "      stderr: $(head -c 400 "$tmp/err" | tr '\n' '|')"
  else
    echo "ok: $desc -> exit $rc: $(head -n1 "$tmp/err" | head -c 160)"
  fi
}
# fresh_import_case DESCRIPTION CERT KEY: a failing import on a fresh data dir leaves it uninitialised
fresh_n=0
fresh_import_case() {
  fresh_n=$((fresh_n + 1)); local f="$tmp/fresh$fresh_n"
  expect 1 "$1" -- --data-dir "$f" init --import-cert "$2" --import-key "$3"
  local rc=0
  MESHTRUST_PASSPHRASE="$PASS_A" "$MESHTRUST_BIN" --data-dir "$f" init >/dev/null 2>"$tmp/fresh.err" || rc=$?
  if [[ $rc -ne 0 ]]; then
    failures=$((failures + 1)); echo "FAIL: $1: the failed import left $f unusable (a plain init then exits $rc: $(head -c 300 "$tmp/fresh.err"))"
  fi
}

# ------------------------------------------------------------------------------------------ setup
mt init
mt cluster add c1
mt cluster add c2
mt issue c1
mt export c1 --out "$E"
[[ -s "$E/c1/ca-cert.pem" ]] || fail "setup: export wrote no $E/c1/ca-cert.pem"
SECRET_LINE=$(sed -n 2p "$E/c1/ca-key.pem")   # a base64 line of a real private key: must never be echoed

# inputs
ec_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
printf -- '-----BEGIN CERTIFICATE-----\nthis is !!! not base64 at all\n-----END CERTIFICATE-----\n' >"$tmp/garbage.pem"
ec_key "$tmp/ca.key"
openssl req -x509 -new -key "$tmp/ca.key" -subj "/O=Istio/CN=Root CA" -days 3650 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" -out "$tmp/ca.pem" 2>/dev/null
ec_key "$tmp/leaf.key"
openssl req -x509 -new -key "$tmp/leaf.key" -subj "/O=Istio/CN=not a CA" -days 30 \
  -addext "basicConstraints=critical,CA:FALSE" -addext "keyUsage=critical,digitalSignature" -out "$tmp/leaf.pem" 2>/dev/null
ec_key "$tmp/other.key"
head -c $((10 * 1024 * 1024)) /dev/urandom >"$tmp/huge.bin"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; head -c $((8 * 1024 * 1024)) /dev/urandom | openssl base64; echo "-----END CERTIFICATE REQUEST-----"; } >"$tmp/huge.csr"
ec_key "$tmp/cluster.key"
openssl req -new -key "$tmp/cluster.key" -subj "/O=Istio/CN=Intermediate CA/L=c2" -outform DER -out "$tmp/good.der" 2>/dev/null
# corrupt the signature: the DER ends with the signature BIT STRING, so flip its last byte
size=$(stat -c %s "$tmp/good.der")
last=$(od -An -tu1 -j $((size - 1)) -N1 "$tmp/good.der" | tr -d ' ')
{ head -c $((size - 1)) "$tmp/good.der"; printf "\\$(printf '%03o' $(((last ^ 0x5a) & 0xff)))"; } >"$tmp/bad.der"
{ echo "-----BEGIN CERTIFICATE REQUEST-----"; openssl base64 -in "$tmp/bad.der"; echo "-----END CERTIFICATE REQUEST-----"; } >"$tmp/badsig.csr"
openssl req -in "$tmp/badsig.csr" -noout 2>/dev/null || fail "setup: the corrupted CSR does not even parse (want: parses, bad signature)"
# (openssl 3.0 `req -verify` exits 0 either way: read what it says)
openssl req -in "$tmp/badsig.csr" -noout -verify >"$tmp/reqverify" 2>&1 || true
grep -q 'verify failure' "$tmp/reqverify" || fail "setup: the corrupted CSR still verifies: $(cat "$tmp/reqverify")"
printf 'this is not a certificate signing request\n' >"$tmp/notpem.csr"
openssl req -in "$tmp/badsig.csr" -outform DER -out "$tmp/csr.der" 2>/dev/null   # DER, not PEM
: >"$tmp/afile"

# ------------------------------------------------------------------------------------------ import (fresh dirs)
fresh_import_case "garbage PEM as --import-cert" "$tmp/garbage.pem" "$tmp/ca.key"
fresh_import_case "non-CA cert imported" "$tmp/leaf.pem" "$tmp/leaf.key"
fresh_import_case "import key that does not match the cert" "$tmp/ca.pem" "$tmp/other.key"
fresh_import_case "a certificate given as --import-key" "$tmp/ca.pem" "$tmp/ca.pem"
fresh_import_case "10 MiB of junk as --import-cert" "$tmp/huge.bin" "$tmp/ca.key"
fresh_import_case "missing --import-cert file" "$tmp/does-not-exist.pem" "$tmp/ca.key"

# ------------------------------------------------------------------------------------------ CSRs
expect 1 "CSR with a corrupted signature" -- --data-dir "$D" issue c2 --csr "$tmp/badsig.csr"
expect 1 "CSR file that is not PEM (text)" -- --data-dir "$D" issue c2 --csr "$tmp/notpem.csr"
expect 1 "CSR file that is not PEM (DER)" -- --data-dir "$D" issue c2 --csr "$tmp/csr.der"
expect 1 "10 MiB of junk as --csr" -- --data-dir "$D" issue c2 --csr "$tmp/huge.bin"
expect 1 "8 MiB PEM-wrapped junk as --csr" -- --data-dir "$D" issue c2 --csr "$tmp/huge.csr"

# ------------------------------------------------------------------------------------------ names
long=$(printf 'a%.0s' {1..64})
for n in '../x' 'UPPER' 'a_b' '' "$long" 'x/y' 'ab-'; do
  expect 1 "bad cluster name '$n'" -- --data-dir "$D" cluster add "$n"
done
expect 1 "bad cluster name '-ab' (after --)" -- --data-dir "$D" cluster add -- -ab
expect 2 "cluster add -ab (parsed as an unknown flag)" -- --data-dir "$D" cluster add -ab
expect 1 "issue for a bad cluster name" -- --data-dir "$D" issue '../x'
expect 1 "issue for an unregistered cluster" -- --data-dir "$D" issue nope
expect 1 "export of an unregistered cluster" -- --data-dir "$D" export nope --out "$tmp/export-nope"
[[ ! -e "$tmp/export-nope" ]] || { failures=$((failures + 1)); echo "FAIL: export of an unregistered cluster created $tmp/export-nope"; }
expect 1 "workload with namespace '../x'" -- --data-dir "$D" workload '../x' --cluster c1 --out "$tmp/w-bad"
[[ ! -e "$tmp/w-bad" ]] || { failures=$((failures + 1)); echo "FAIL: failing workload created $tmp/w-bad"; }
expect 1 "workload for a cluster without an intermediate" -- --data-dir "$D" workload ns1 --cluster c2 --out "$tmp/w-c2"

# ------------------------------------------------------------------------------------------ export
expect 1 "export under a regular file" -- --data-dir "$D" export c1 --out "$tmp/afile/sub"
[[ -f "$tmp/afile" && ! -s "$tmp/afile" ]] || { failures=$((failures + 1)); echo "FAIL: $tmp/afile was changed"; }
expect 1 "export over existing files without --force" -- --data-dir "$D" export c1 --out "$E"
# a partial existing bundle: refused, and nothing written next to it
P="$tmp/partial"; mkdir -p "$P/c1"; echo "precious" >"$P/c1/ca-cert.pem"
expect 1 "export over one existing file without --force" -- --data-dir "$D" export c1 --out "$P"
got=$(cd "$P" && find . -type f | LC_ALL=C sort | tr '\n' ' ')
[[ "$got" == "./c1/ca-cert.pem " && "$(cat "$P/c1/ca-cert.pem")" == precious ]] \
  || { failures=$((failures + 1)); echo "FAIL: refused export still wrote/changed files: $got"; }
if [[ $(id -u) -ne 0 ]]; then   # chmod does not stop root
  mkdir -p "$tmp/ro"; chmod 0500 "$tmp/ro"
  expect 1 "export into a read-only directory" -- --data-dir "$D" export c1 --out "$tmp/ro/x"
fi

# ------------------------------------------------------------------------------------------ init twice, passphrase
expect 1 "init on an initialised data dir" -- --data-dir "$D" init
expect 1 "init --profile makefile on an initialised data dir" -- --data-dir "$D" init --profile makefile
expect 1 "issue with the wrong passphrase" -- "MESHTRUST_PASSPHRASE=$PASS_B" --data-dir "$D" issue c2
if ! grep -qiE 'passphrase|decrypt|unlock|key-encryption' "$tmp/err"; then
  failures=$((failures + 1)); echo "FAIL: wrong-passphrase error does not say so: $(cat "$tmp/err")"
fi
expect 1 "export with the wrong passphrase" -- "MESHTRUST_PASSPHRASE=$PASS_B" --data-dir "$D" export c1 --out "$tmp/export-wrongpass"
[[ ! -e "$tmp/export-wrongpass/c1/ca-key.pem" ]] || { failures=$((failures + 1)); echo "FAIL: export with the wrong passphrase wrote a key"; }
expect 1 "workload with the wrong passphrase" -- "MESHTRUST_PASSPHRASE=$PASS_B" --data-dir "$D" workload ns1 --cluster c1 --out "$tmp/w-wrongpass"
printf '%s\n' "$PASS_B" >"$tmp/wrongpass"
expect 1 "issue with the wrong --passphrase-file" -- --data-dir "$D" --passphrase-file "$tmp/wrongpass" issue c2
expect 1 "issue for a cluster that already has a current intermediate" -- --data-dir "$D" issue c1

# ------------------------------------------------------------------------------------------ usage errors
expect 2 "unknown flag" -- --data-dir "$D" issue c2 --bogus-flag
expect 2 "unknown global flag" -- --data-dir "$D" --bogus-flag cluster list
expect 2 "unknown subcommand" -- --data-dir "$D" frobnicate
expect 2 "export without --out" -- --data-dir "$D" export c1
expect 2 "non-numeric --days" -- --data-dir "$D" issue c2 --days abc
expect 2 "bad --output value" -- --data-dir "$D" --output yaml cluster list

if (( failures > 0 )); then echo "FAIL: test_bad_input: $failures of $checked checks failed"; exit 1; fi
echo "PASS: test_bad_input ($checked cases)"
