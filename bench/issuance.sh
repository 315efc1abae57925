#!/usr/bin/env bash
# Intermediate issuance against the targets of issue 2, all in one run:
#   (1) 20 cluster intermediates with RSA 4096, three variants, interleaved for ROUNDS rounds:
#       a. meshtrust: one `meshtrust issue c01 ... c20 --key-algorithm rsa-4096` (it parallelises itself)
#       b. Istio's tools/certs/Makefile.selfsigned.mk pipeline for the same 20 clusters, `make -j JOBS`
#       c. the physical limit: 20 × `openssl genpkey ... rsa_keygen_bits:4096`, JOBS-way parallel
#     targets: meshtrust <= makefile, meshtrust <= 1.15 x limit (medians).
#   (2) 1000 ECDSA P-256 intermediates in one `meshtrust issue`: target >= 500 clusters/s, and all
#       1000 on record (`certs list --output json`) once the command has returned.
# Roots, `init` and `cluster add` are set up beforehand and never timed.
#
# Usage: bench/issuance.sh [MESHTRUST_BINARY]      (default: build/meshtrust under the repo root)
# Environment: ROUNDS (default 3), JOBS (default nproc), N_RSA (20), N_EC (1000),
#              SKIP_MESHTRUST=1 runs only the Makefile and genpkey variants (no binary needed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${1:-$ROOT/build/meshtrust}"
ROUNDS="${ROUNDS:-3}"
JOBS="${JOBS:-$(nproc)}"
N_RSA="${N_RSA:-20}"
N_EC="${N_EC:-1000}"
SKIP_MESHTRUST="${SKIP_MESHTRUST:-0}"
export MESHTRUST_PASSPHRASE="bench-issuance-passphrase"
export LC_ALL=C

if [[ "$SKIP_MESHTRUST" != 1 ]]; then
  [[ "$BIN" == /* ]] || BIN="$PWD/$BIN"
  [[ -x "$BIN" ]] || { echo "error: no meshtrust binary at $BIN (build it, or pass its path)" >&2; exit 1; }
fi
for tool in openssl make python3 xargs; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed" >&2; exit 1; }
done
GNU_TIME="${GNU_TIME:-/usr/bin/time}"
[[ -x "$GNU_TIME" ]] || { echo "error: GNU time is needed at $GNU_TIME (package 'time'), or set GNU_TIME" >&2; exit 1; }

T="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-issuance.XXXXXX")"
trap 'rm -rf "$T"' EXIT
RESULTS="$T/results.tsv"   # variant <TAB> round <TAB> wall seconds (or a count) <TAB> cpu seconds
: >"$RESULTS"

# Run a private copy of the binary, so that a rebuild during the run cannot mix two versions.
if [[ "$SKIP_MESHTRUST" != 1 ]]; then
  BIN_INFO="$BIN ($(stat -c '%y' "$BIN" | cut -c1-19), sha256 $(sha256sum "$BIN" | cut -c1-12))"
  cp "$BIN" "$T/meshtrust"
  BIN="$T/meshtrust"
fi
mt() { "$BIN" "$@"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
record() {  # variant round wall_s cpu_s
  printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$RESULTS"
  printf '  round %s  %-10s %8.3f s wall  %7.2f s cpu\n' "$2" "$1" "$3" "$4"
}
# Count certificates of a kind in `certs list --output json` of a data dir.
count_kind() {
  mt --data-dir "$1" --output json certs list |
    python3 -c 'import json,sys; print(sum(1 for c in json.load(sys.stdin) if c["kind"] == sys.argv[1]))' "$2"
}

RSA_NAMES=(); for ((i = 1; i <= N_RSA; i++)); do RSA_NAMES+=("$(printf 'c%02d' "$i")"); done
EC_NAMES=(); for ((i = 1; i <= N_EC; i++)); do EC_NAMES+=("$(printf 'e%04d' "$i")"); done

# ---------------------------------------------------------------------------------------------------
# The Makefile pipeline: Istio's tools/certs/Makefile.selfsigned.mk and common.mk (root and
# intermediate parts, variables and rules as upstream). Two changes, neither touching the crypto:
#   * recipes are prefixed with '>' (.RECIPEPREFIX) instead of a tab, so this file survives editors;
#   * `-CAcreateserial` alone makes all parallel jobs read-increment-write root-cert.srl, which races
#     under make -j; each cluster gets its own `-CAserial <cluster>/ca-cert.srl` (created, random);
#   * %/intermediate.conf also does `mkdir -p`: upstream relies on %/ca-key.pem (its sibling
#     prerequisite) having made the directory first, which only holds when make runs serially;
#   * %/ca-cert-chain.pem is added to .PRECIOUS (upstream lists %/cert-chain.pem, so make deletes
#     the chain it just wrote as an intermediate file; we keep it to check it).
# INTERMEDIATE_DAYS is upstream's 730; the lifetime does not change the cost.
write_makefile() {
  cat >"$1/Makefile" <<'MAKEFILE'
.RECIPEPREFIX = >
.SUFFIXES: .csr .pem .conf
.PRECIOUS: %/ca-key.pem %/ca-cert.pem %/cert-chain.pem %/ca-cert-chain.pem
.SECONDARY: root-cert.csr root-ca.conf %/cluster-ca.csr %/intermediate.conf

ROOTCA_DAYS ?= 3650
ROOTCA_KEYSZ ?= 4096
ROOTCA_ORG ?= Istio
ROOTCA_CN ?= Root CA
INTERMEDIATE_DAYS ?= 730
INTERMEDIATE_KEYSZ ?= 4096
INTERMEDIATE_ORG ?= Istio
INTERMEDIATE_CN ?= Intermediate CA
INTERMEDIATE_SAN_DNS ?= istiod.istio-system.svc

root-ca.conf:
> @echo "[ req ]" > $@
> @echo "encrypt_key = no" >> $@
> @echo "prompt = no" >> $@
> @echo "utf8 = yes" >> $@
> @echo "default_md = sha256" >> $@
> @echo "default_bits = $(ROOTCA_KEYSZ)" >> $@
> @echo "req_extensions = req_ext" >> $@
> @echo "x509_extensions = req_ext" >> $@
> @echo "distinguished_name = req_dn" >> $@
> @echo "[ req_ext ]" >> $@
> @echo "subjectKeyIdentifier = hash" >> $@
> @echo "basicConstraints = critical, CA:true" >> $@
> @echo "keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign" >> $@
> @echo "[ req_dn ]" >> $@
> @echo "O = $(ROOTCA_ORG)" >> $@
> @echo "CN = $(ROOTCA_CN)" >> $@

%/intermediate.conf: L=$(dir $@)
%/intermediate.conf:
> @mkdir -p $(dir $@)
> @echo "[ req ]" > $@
> @echo "encrypt_key = no" >> $@
> @echo "prompt = no" >> $@
> @echo "utf8 = yes" >> $@
> @echo "default_md = sha256" >> $@
> @echo "default_bits = $(INTERMEDIATE_KEYSZ)" >> $@
> @echo "req_extensions = req_ext" >> $@
> @echo "x509_extensions = req_ext" >> $@
> @echo "distinguished_name = req_dn" >> $@
> @echo "[ req_ext ]" >> $@
> @echo "subjectKeyIdentifier = hash" >> $@
> @echo "basicConstraints = critical, CA:true, pathlen:0" >> $@
> @echo "keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign" >> $@
> @echo "subjectAltName=@san" >> $@
> @echo "[ san ]" >> $@
> @echo "DNS.1 = $(INTERMEDIATE_SAN_DNS)" >> $@
> @echo "[ req_dn ]" >> $@
> @echo "O = $(INTERMEDIATE_ORG)" >> $@
> @echo "CN = $(INTERMEDIATE_CN)" >> $@
> @echo "L = $(L:/=)" >> $@

.PHONY: root-ca
root-ca: root-key.pem root-cert.pem

root-cert.pem: root-cert.csr root-key.pem
> @echo "generating $@"
> @openssl x509 -req -days $(ROOTCA_DAYS) -signkey root-key.pem \
>   -extensions req_ext -extfile root-ca.conf \
>   -in $< -out $@

root-cert.csr: root-key.pem root-ca.conf
> @echo "generating $@"
> @openssl req -new -key $< -config root-ca.conf -out $@

root-key.pem:
> @echo "generating $@"
> @openssl genrsa -out $@ 4096

.PHONY: %-cacerts
%-cacerts: %/ca-cert-chain.pem root-cert.pem
> @echo "done"

%/ca-cert-chain.pem: %/ca-cert.pem root-cert.pem
> @echo "generating $@"
> @cat $^ > $@
> @echo "Intermediate inputs stored in $(dir $<)"
> @cp root-cert.pem $(dir $<)

%/ca-cert.pem: %/cluster-ca.csr root-key.pem root-cert.pem
> @echo "generating $@"
> @openssl x509 -req -days $(INTERMEDIATE_DAYS) \
>   -CA root-cert.pem -CAkey root-key.pem -CAserial $(dir $<)ca-cert.srl -CAcreateserial \
>   -extensions req_ext -extfile $(dir $<)/intermediate.conf \
>   -in $< -out $@

%/cluster-ca.csr: L=$(dir $@)
%/cluster-ca.csr: %/ca-key.pem %/intermediate.conf
> @echo "generating $@"
> @openssl req -new -config $(L)/intermediate.conf -key $< -out $@

%/ca-key.pem:
> @echo "generating $@"
> @mkdir -p $(dir $@)
> @openssl genrsa -out $@ 4096
MAKEFILE
}

# ---------------------------------------------------------------------------------------------------
echo "meshtrust issuance benchmark: $(nproc) cores, JOBS=$JOBS, ROUNDS=$ROUNDS, $(openssl version)"
echo "binary: ${BIN_INFO:-$BIN (skipped)}"
echo "scratch: $T"
# Other work on the machine skews every variant; say so rather than print quiet-looking numbers.
idle_share() {  # share of CPU time idle over one second, in percent
  local a b
  read -r -a a < <(head -n 1 /proc/stat); sleep 1; read -r -a b < <(head -n 1 /proc/stat)
  awk -v i=$(( (b[4] + b[5]) - (a[4] + a[5]) )) \
      -v t=$(( (b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]+a[8]) )) \
      'BEGIN { printf "%.0f", t ? 100 * i / t : 100 }'
}
IDLE="$(idle_share)"
echo "machine idle before start: ${IDLE}% (load average $(cut -d' ' -f1-3 /proc/loadavg))"
((IDLE >= 90)) || echo "WARNING: the machine is busy (${IDLE}% idle); figures will be noisy and ratios unreliable" >&2
echo
echo "setup (not timed) ..."

# Makefile root, made once with the Makefile's own root-ca target; each round starts from a copy.
mkdir -p "$T/mk-template"
write_makefile "$T/mk-template"
make -s -C "$T/mk-template" root-ca >"$T/mk-template.log" 2>&1 || { cat "$T/mk-template.log" >&2; exit 1; }
# meshtrust data dirs with the root made and the clusters registered; each round issues into a copy
# (a cluster that already has an intermediate refuses a second `issue`).
if [[ "$SKIP_MESHTRUST" != 1 ]]; then
  mt --data-dir "$T/mt-rsa-template" init --profile makefile >/dev/null
  for n in "${RSA_NAMES[@]}"; do mt --data-dir "$T/mt-rsa-template" cluster add "$n" >/dev/null; done
fi

# timed VARIANT ROUND LOG CMD...: wall time (date +%s.%N) and CPU time of CMD and its children
# (GNU time, user+sys), output to LOG; a failure prints the command and its output and stops.
timed() {
  local variant=$1 round=$2 log=$3 t0 t1 rc=0 user sys
  shift 3
  sync
  t0=$(now)
  "$GNU_TIME" -f '%U %S' -o "$T/cpu" "$@" >"$log" 2>&1 || rc=$?
  t1=$(now)
  if ((rc != 0)); then
    echo "error: $variant (round $round) exited $rc: $*" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  read -r user sys < <(tail -n 1 "$T/cpu")
  record "$variant" "$round" "$(elapsed "$t0" "$t1")" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')"
}

run_meshtrust_rsa() {  # $1 = round
  local d="$T/mt-rsa-$1"
  cp -a "$T/mt-rsa-template" "$d"
  timed meshtrust "$1" "$d.log" "$BIN" --data-dir "$d" issue "${RSA_NAMES[@]}" --key-algorithm rsa-4096
  local got; got=$(count_kind "$d" intermediate)
  [[ "$got" == "$N_RSA" ]] || { echo "error: meshtrust has $got intermediates on record after issue, expected $N_RSA" >&2; exit 1; }
  rm -rf "$d" "$d.log"
}

run_makefile() {  # $1 = round
  local d="$T/mk-$1" targets=()
  mkdir -p "$d"
  cp -p "$T/mk-template"/{Makefile,root-ca.conf,root-key.pem,root-cert.csr,root-cert.pem} "$d/"
  make -s -q -C "$d" root-cert.pem || { echo "error: the Makefile would remake the root" >&2; exit 1; }
  for n in "${RSA_NAMES[@]}"; do targets+=("$n-cacerts"); done
  timed makefile "$1" "$d.log" make -s -j "$JOBS" -C "$d" "${targets[@]}"
  for n in "${RSA_NAMES[@]}"; do
    openssl verify -CAfile "$d/root-cert.pem" "$d/$n/ca-cert.pem" >/dev/null ||
      { echo "error: Makefile intermediate for $n does not verify" >&2; exit 1; }
    [[ $(grep -c 'BEGIN CERTIFICATE' "$d/$n/ca-cert-chain.pem") == 2 ]] ||
      { echo "error: Makefile chain for $n is not intermediate+root" >&2; exit 1; }
  done
  rm -rf "$d" "$d.log"
}

run_limit() {  # $1 = round
  local d="$T/limit-$1"
  mkdir -p "$d"
  printf '%s\n' "${RSA_NAMES[@]}" >"$d.names"
  timed limit "$1" "$d.log" xargs -a "$d.names" -P "$JOBS" -I{} \
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out "$d/{}.pem"
  [[ $(ls "$d" | wc -l) == "$N_RSA" ]] || { echo "error: genpkey did not write $N_RSA keys" >&2; exit 1; }
  rm -rf "$d" "$d.log" "$d.names"
}

run_meshtrust_ec() {  # $1 = round
  local d="$T/mt-ec-$1"
  cp -a "$T/mt-ec-template" "$d"
  timed ec-issue "$1" "$d.log" "$BIN" --data-dir "$d" issue "${EC_NAMES[@]}"
  local got; got=$(count_kind "$d" intermediate)
  printf '%s\t%s\t%s\t\n' ec-onrecord "$1" "$got" >>"$RESULTS"
  [[ "$got" == "$N_EC" ]] || echo "  round $1  WARNING: $got intermediates on record after issue, expected $N_EC" >&2
  rm -rf "$d" "$d.log"
}

# ---------------------------------------------------------------------------------------------------
echo
echo "(1) $N_RSA RSA-4096 intermediates, $ROUNDS round(s), variants interleaved"
for ((r = 1; r <= ROUNDS; r++)); do
  [[ "$SKIP_MESHTRUST" == 1 ]] || run_meshtrust_rsa "$r"
  run_makefile "$r"
  run_limit "$r"
done

if [[ "$SKIP_MESHTRUST" != 1 ]]; then
  echo
  echo "(2) $N_EC ECDSA P-256 intermediates in one issue, $ROUNDS round(s)"
  echo "  setup (not timed): default-profile init and $N_EC × cluster add ..."
  mt --data-dir "$T/mt-ec-template" init >/dev/null
  t0=$(now)
  for n in "${EC_NAMES[@]}"; do mt --data-dir "$T/mt-ec-template" cluster add "$n" >/dev/null; done
  t1=$(now)
  printf '%s\t%s\t%s\t\n' ec-cluster-add 0 "$(elapsed "$t0" "$t1")" >>"$RESULTS"
  echo "  ($N_EC × cluster add took $(elapsed "$t0" "$t1") s)"
  for ((r = 1; r <= ROUNDS; r++)); do run_meshtrust_ec "$r"; done
fi

# ---------------------------------------------------------------------------------------------------
python3 - "$RESULTS" "$N_RSA" "$N_EC" "$JOBS" <<'PY'
import statistics, sys
path, n_rsa, n_ec, jobs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
wall, cpu = {}, {}
for line in open(path):
    variant, rnd, w, c = line.rstrip("\n").split("\t")
    wall.setdefault(variant, []).append(float(w))
    if c:
        cpu.setdefault(variant, []).append(float(c))

def med(d, v):
    return statistics.median(d[v]) if d.get(v) else None

W = "=" * 96
print()
print(W)
print(f"(1) {n_rsa} cluster intermediates, RSA 4096 -- wall seconds over {len(wall.get('limit', []))} interleaved round(s)")
print("-" * 96)
labels = {"meshtrust": "meshtrust issue (one batch command)",
          "makefile":  f"Makefile.selfsigned.mk, make -j{jobs}",
          "limit":     f"{n_rsa} x openssl genpkey 4096, {jobs}-way"}
print(f"{'variant':<40}{'median':>9}{'min':>9}{'max':>9}{'cpu med':>9}{'cores used':>12}   rounds")
for v in ("meshtrust", "makefile", "limit"):
    if v in wall:
        xs, c = wall[v], med(cpu, v)
        print(f"{labels[v]:<40}{statistics.median(xs):>9.3f}{min(xs):>9.3f}{max(xs):>9.3f}"
              f"{c:>9.2f}{c / statistics.median(xs):>12.2f}   {' '.join(f'{x:.2f}' for x in xs)}")
print("-" * 96)
checks = []
def ratio(a, b, label):
    print(f"{label:<40}{med(wall, a) / med(wall, b):>8.2f}x (median){min(wall[a]) / min(wall[b]):>8.2f}x (min)"
          f"{med(cpu, a) / med(cpu, b):>8.2f}x (cpu)")
    return med(wall, a) / med(wall, b)
if "makefile" in wall and "limit" in wall:
    ratio("makefile", "limit", "makefile / limit")
if "meshtrust" in wall:
    r_mk = ratio("meshtrust", "makefile", "meshtrust / makefile")
    r_lim = ratio("meshtrust", "limit", "meshtrust / limit")
    checks += [(f"meshtrust <= makefile            (median ratio {r_mk:.2f})", r_mk <= 1.0),
               (f"meshtrust <= 1.15 x limit       (median ratio {r_lim:.2f})", r_lim <= 1.15)]
if "ec-issue" in wall:
    xs = wall["ec-issue"]
    onrec = [int(x) for x in wall.get("ec-onrecord", [])]
    rate = n_ec / statistics.median(xs)
    print()
    print(f"(2) {n_ec} cluster intermediates, ECDSA P-256, one `meshtrust issue` -- {len(xs)} round(s)")
    print("-" * 96)
    print(f"{'issue wall seconds (median / min / max)':<40}{statistics.median(xs):>9.3f}{min(xs):>9.3f}{max(xs):>9.3f}"
          f"   cpu median {med(cpu, 'ec-issue'):.2f} s")
    print(f"{'clusters/s (median round / best round)':<40}{rate:>9.0f}{n_ec / min(xs):>9.0f}")
    print(f"{'intermediates on record after issue':<40}{', '.join(map(str, onrec)):>9}")
    if "ec-cluster-add" in wall:
        print(f"{'(setup) cluster add, ms per call':<40}{1000 * wall['ec-cluster-add'][0] / n_ec:>9.1f}")
    checks += [(f">= 500 clusters/s                (median {rate:.0f}/s)", rate >= 500),
               (f"all {n_ec} intermediates on record when issue returns", all(x == n_ec for x in onrec))]
if checks:
    print("-" * 96)
    for name, ok in checks:
        print(f"{'PASS' if ok else 'MISS'}  {name}")
print(W)
PY
