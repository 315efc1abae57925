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

# The REST service on 127.0.0.1 (left running; a second run finds it and leaves it alone).
PORT="${MESHTRUST_PORT:-8443}"
URL="https://127.0.0.1:$PORT"
ROOT_PEM="$BUNDLES/root-cert.pem"
TOKENS="$MESHTRUST_DATA_DIR/quickstart-tokens"   # demo convenience: tokens are shown only once
if [[ ! -f "$TOKENS" ]]; then
  ( umask 077
    echo "ADMIN_TOKEN=$("$MT" token create --role admin --name quickstart 2>/dev/null)"
    echo "CLUSTER_TOKEN=$("$MT" token create --role cluster --cluster "${CLUSTERS[0]}" 2>/dev/null)" ) > "$TOKENS.tmp"
  mv "$TOKENS.tmp" "$TOKENS"
fi
# shellcheck disable=SC1090
source "$TOKENS"
if curl -sf --cacert "$ROOT_PEM" "$URL/readyz" >/dev/null 2>&1; then
  echo "== REST service already running at $URL"
else
  echo "== starting the REST service at $URL (log: $MESHTRUST_DATA_DIR/serve.log)"
  nohup "$MT" serve --listen "127.0.0.1:$PORT" >>"$MESHTRUST_DATA_DIR/serve.log" 2>&1 &
  echo $! > "$MESHTRUST_DATA_DIR/serve.pid"
  for _ in $(seq 1 100); do
    curl -sf --cacert "$ROOT_PEM" "$URL/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --cacert "$ROOT_PEM" "$URL/readyz" >/dev/null || { echo "the REST service did not start; see $MESHTRUST_DATA_DIR/serve.log" >&2; exit 1; }
fi

cat <<NEXT

Done. Each cluster's bundle is in $BUNDLES/<cluster>/ (ca-cert.pem, ca-key.pem, cert-chain.pem,
root-cert.pem), the layout istiod loads from the cacerts Secret. The REST service runs at $URL
(pid $(cat "$MESHTRUST_DATA_DIR/serve.pid" 2>/dev/null || echo "?"); tokens in $TOKENS).

Try next:
  export MESHTRUST_DATA_DIR=$MESHTRUST_DATA_DIR
  $MT certs list
  $MT audit verify
  openssl verify -x509_strict -CAfile $ROOT_PEM -untrusted $BUNDLES/${CLUSTERS[0]}/cert-chain.pem $BUNDLES/${CLUSTERS[0]}/ca-cert.pem
  curl --cacert $ROOT_PEM $URL/v1/trust-bundle
  curl --cacert $ROOT_PEM -H "Authorization: Bearer \$CLUSTER_TOKEN" $URL/v1/clusters/${CLUSTERS[0]}/cacerts
  curl --cacert $ROOT_PEM -H "Authorization: Bearer \$CLUSTER_TOKEN" "$URL/v1/clusters/${CLUSTERS[0]}/cacerts?format=secret" | kubectl apply -f -
  $MT --server $URL --token \$ADMIN_TOKEN --ca-file $ROOT_PEM status
  (the tokens: source $TOKENS)
Stop the service with: kill \$(cat $MESHTRUST_DATA_DIR/serve.pid)
NEXT
