# shellcheck shell=bash
# fake_kube.sh — sourceable helpers that run tests/fake_kube/fake_kube.py for the push tests and
# benches, with a throwaway PKI made by the openssl CLI.
#
#   fk_start DIR CLUSTERS_JSON     makes DIR/pki (CA, server cert for 127.0.0.1, client cert CN
#                                  "pusher-cert"), starts the fake with CLUSTERS_JSON (a file), sets
#                                  FK_PID, FK_PORT, FK_URL, FK_CA (the CA to trust), FK_CLIENT_CERT/KEY.
#   fk_stop                        stops it (safe in traps).
#   fk_kubeconfig OUT PREFIX AUTH [ADDR]
#                                  writes a kubeconfig for the cluster at PREFIX; AUTH is "token:T",
#                                  "cert" (the pusher client certificate, as files next to OUT) or
#                                  "insecure-token:T" (insecure-skip-tls-verify, no CA). ADDR (another
#                                  127.0.0.0/8 address; needs FK_HOST=0.0.0.0 at fk_start) makes the
#                                  cluster a distinct endpoint, verified as tls-server-name localhost.
#   fk CONTROL_METHOD PATH [JSON]  calls a control endpoint, prints the answer.
#   fk_count CLUSTER METHOD PATH   how many logged requests of CLUSTER match METHOD and PATH.
#   fk_kubectl KUBECONFIG ARGS...  kubectl against the fake (fresh cache dir); needs kubectl.
FK_PID=""

fk_start() {
  local dir="$1" config="$2" i
  mkdir -p "$dir/pki"
  local p="$dir/pki"
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$p/server.ext"
  printf 'extendedKeyUsage=clientAuth\n' >"$p/client.ext"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/ca.key" -out "$p/ca.pem" \
    -days 2 -subj /CN=fake-kube-ca 2>/dev/null
  local leaf
  for leaf in server:fake-kube:server.ext pusher:pusher-cert:client.ext; do
    IFS=: read -r name cn ext <<<"$leaf"
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$p/$name.key" -out "$p/$name.csr" \
      -subj "/CN=$cn" 2>/dev/null
    openssl x509 -req -in "$p/$name.csr" -CA "$p/ca.pem" -CAkey "$p/ca.key" -CAcreateserial -days 2 \
      -out "$p/$name.pem" -extfile "$p/$ext" 2>/dev/null
  done
  FK_CA="$p/ca.pem"
  FK_CLIENT_CERT="$p/pusher.pem"
  FK_CLIENT_KEY="$p/pusher.key"
  python3 "${MESHTRUST_SOURCE_DIR:?}/tests/fake_kube/fake_kube.py" --cert "$p/server.pem" --key "$p/server.key" \
    --client-ca "$p/ca.pem" --config "$config" --host "${FK_HOST:-127.0.0.1}" >"$dir/fake.port" 2>"$dir/fake.log" &
  FK_PID=$!
  FK_PORT=""
  for i in $(seq 1 100); do
    FK_PORT=$(head -n1 "$dir/fake.port" 2>/dev/null | tr -dc 0-9)
    [[ -n "$FK_PORT" ]] && break
    kill -0 "$FK_PID" 2>/dev/null || { echo "FAIL: fake API server exited: $(head -c 2000 "$dir/fake.log")" >&2; return 1; }
    sleep 0.1
  done
  [[ -n "$FK_PORT" ]] || { echo "FAIL: fake API server printed no port" >&2; return 1; }
  FK_URL="https://127.0.0.1:$FK_PORT"
}

fk_stop() {
  if [[ -n "${FK_PID:-}" ]] && kill -0 "$FK_PID" 2>/dev/null; then
    kill -TERM "$FK_PID" 2>/dev/null || true
    wait "$FK_PID" 2>/dev/null || true
  fi
  FK_PID=""
}

fk_kubeconfig() {
  local out="$1" prefix="$2" auth="$3" addr="${4:-}" user cluster server="$FK_URL"
  cluster="    certificate-authority: $FK_CA"
  if [[ -n "$addr" ]]; then
    server="https://$addr:$FK_PORT"
    cluster+=$'\n'"    tls-server-name: localhost"
  fi
  case "$auth" in
    token:*) user="    token: ${auth#token:}" ;;
    insecure-token:*) user="    token: ${auth#insecure-token:}"; cluster="    insecure-skip-tls-verify: true" ;;
    cert) user="    client-certificate: $FK_CLIENT_CERT
    client-key: $FK_CLIENT_KEY" ;;
    *) echo "fk_kubeconfig: unknown auth '$auth'" >&2; return 1 ;;
  esac
  cat >"$out" <<EOF
apiVersion: v1
kind: Config
current-context: main
clusters:
- name: fake
  cluster:
    server: $server$prefix
$cluster
contexts:
- name: main
  context:
    cluster: fake
    user: pusher
users:
- name: pusher
  user:
$user
EOF
}

fk() {
  local method="$1" path="$2" body="${3:-}"
  if [[ -n "$body" ]]; then
    curl -sS --max-time 30 --cacert "$FK_CA" -X "$method" -H 'Content-Type: application/json' --data-binary "$body" "$FK_URL$path"
  else
    curl -sS --max-time 30 --cacert "$FK_CA" -X "$method" "$FK_URL$path"
  fi
}

fk_count() {
  fk GET "/_control/requests?cluster=$1" | python3 -c '
import json, sys
items = json.load(sys.stdin)["items"]
print(sum(1 for r in items if r["method"] == sys.argv[1] and r["path"] == sys.argv[2]))' "$2" "$3"
}

fk_kubectl() {
  local kc="$1"
  shift
  kubectl --kubeconfig "$kc" --cache-dir "$(mktemp -d)" --request-timeout=20s "$@"
}
