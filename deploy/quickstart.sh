#!/usr/bin/env bash
# The main job on the embedded default (SQLite in a local data dir): create a root, register
# demo clusters, issue their intermediates and write the Makefile-layout bundles.
# Safe to run twice: every step checks what is already there.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export MESHTRUST_DATA_DIR="${MESHTRUST_DATA_DIR:-$ROOT/meshtrust-data}"
BUNDLES="${MESHTRUST_BUNDLES:-$ROOT/meshtrust-bundles}"
CLUSTERS=(${MESHTRUST_DEMO_CLUSTERS:-east west})

"$ROOT/deploy/install-deps.sh"
echo "== building meshtrust (build-release/)"
cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release -DMESHTRUST_TESTS=OFF >/dev/null
cmake --build "$ROOT/build-release" -j "$(nproc)" 2>&1 | grep -E "error|warning:" || true
MT="$ROOT/build-release/meshtrust"

if "$MT" status >/dev/null 2>&1; then
  echo "== root already in $MESHTRUST_DATA_DIR"
else
  echo "== creating the mesh root in $MESHTRUST_DATA_DIR"
  "$MT" init
fi

to_issue=()
for c in "${CLUSTERS[@]}"; do
  if ! "$MT" cluster show "$c" >/dev/null 2>&1; then "$MT" cluster add "$c"; fi
  if "$MT" --output json cluster show "$c" | grep -q '"intermediate_serial":null'; then to_issue+=("$c"); fi
done
if ((${#to_issue[@]})); then
  echo "== issuing intermediates for ${to_issue[*]}"
  "$MT" issue "${to_issue[@]}"
fi

echo "== writing bundles to $BUNDLES"
"$MT" export "${CLUSTERS[@]}" --out "$BUNDLES" --force
"$MT" status

cat <<NEXT

Done. Each cluster's bundle is in $BUNDLES/<cluster>/ (ca-cert.pem, ca-key.pem, cert-chain.pem,
root-cert.pem), the layout istiod loads from the cacerts Secret.

Try next:
  export MESHTRUST_DATA_DIR=$MESHTRUST_DATA_DIR
  $MT certs list
  openssl verify -x509_strict -CAfile $BUNDLES/root-cert.pem -untrusted $BUNDLES/${CLUSTERS[0]}/cert-chain.pem $BUNDLES/${CLUSTERS[0]}/ca-cert.pem
  kubectl create secret generic cacerts -n istio-system --from-file=$BUNDLES/${CLUSTERS[0]}/
  $MT workload demo --cluster ${CLUSTERS[0]} --out /tmp/demo-certs

The REST service (meshtrust serve) is not built yet, so quickstart stops here.
NEXT
