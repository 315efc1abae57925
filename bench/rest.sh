#!/usr/bin/env bash
# The REST service against the bench targets of issue 4, side by side with nginx in one run:
#   meshtrust serve and nginx serve the same bytes at the same paths over TLS with the same server key
#   type (ECDSA P-256) and the same chain length; wrk on loopback drives both:
#     keep-alive, CONNECTIONS connections: GET /v1/trust-bundle and GET /v1/clusters/c1/cacerts
#       (Bearer token on both servers; nginx does no auth and just serves the file)
#     handshake-bound: GET /v1/trust-bundle with `Connection: close`, so every request is a new
#       TCP connection and a full TLS handshake (no resumption on either side, checked before the runs:
#       wrk keeps its session across reconnects and would resume wherever a server offers it)
#   targets: meshtrust/nginx >= 0.5 keep-alive req/s, >= 0.7 handshake rate, p99 < 10 ms (keep-alive,
#   64 connections), no errors; then a SOAK-second keep-alive soak of cacerts on meshtrust alone with
#   its RSS sampled every 10 s: flat = mean of the last third within 10% of the mean of the first third.
#
# Usage: bench/rest.sh [MESHTRUST_BINARY]   (default build-release/meshtrust under the repo root;
#                                            built with cmake if it does not exist)
# Environment: DURATION (seconds per wrk run, default 20), SOAK (seconds, default 300; 0 skips),
#              CONNECTIONS (default 64), THREADS (wrk threads, default 2), WARMUP (seconds, default 2),
#              NGINX_ONLY=1 runs the nginx half alone with stand-in bytes (no binary needed).
# All traffic goes to 127.0.0.1. Everything lives in a mktemp -d directory removed on exit, and every
# process started here (meshtrust, nginx, wrk) is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_BIN="$ROOT/build-release/meshtrust"
BIN="${1:-$DEFAULT_BIN}"
DURATION="${DURATION:-20}"
SOAK="${SOAK:-300}"
CONNECTIONS="${CONNECTIONS:-64}"
THREADS="${THREADS:-2}"
WARMUP="${WARMUP:-2}"
NGINX_ONLY="${NGINX_ONLY:-0}"
NGINX="${NGINX:-nginx}"
CLUSTER=c1
export MESHTRUST_PASSPHRASE="bench-rest-passphrase"
export LC_ALL=C

for tool in wrk openssl curl python3 "$NGINX"; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed" >&2; exit 1; }
done
if [[ "$NGINX_ONLY" != 1 ]]; then
  [[ "$BIN" == /* ]] || BIN="$PWD/$BIN"
  if [[ ! -x "$BIN" ]]; then
    if [[ "$BIN" == "$DEFAULT_BIN" ]]; then
      echo "building $BIN ..."
      cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
      cmake --build "$ROOT/build-release" -j2 --target meshtrust >/dev/null
    else
      echo "error: no meshtrust binary at $BIN" >&2; exit 1
    fi
  fi
  if ! "$BIN" --help 2>/dev/null | grep -qw serve; then
    echo "error: $BIN has no 'serve' subcommand (a stale build?); rebuild it, e.g." >&2
    echo "  cmake --build $ROOT/build-release -j2 --target meshtrust" >&2
    exit 1
  fi
fi

T="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-rest.XXXXXX")"
PIDS=()     # every background process started here
MT_PID=""
cleanup() {
  local pid i
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mt() { "$BIN" --data-dir "$T/data" "$@"; }
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
idle_share() {  # share of CPU time idle over one second, in percent
  local a b
  read -r -a a < <(head -n 1 /proc/stat); sleep 1; read -r -a b < <(head -n 1 /proc/stat)
  awk -v i=$(( (b[4] + b[5]) - (a[4] + a[5]) )) \
      -v t=$(( (b[1]+b[2]+b[3]+b[4]+b[5]+b[6]+b[7]+b[8]) - (a[1]+a[2]+a[3]+a[4]+a[5]+a[6]+a[7]+a[8]) )) \
      'BEGIN { printf "%.0f", t ? 100 * i / t : 100 }'
}
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
mt_alive() {  # stop with the log's tail when meshtrust has died
  [[ -z "$MT_PID" ]] && return 0
  if ! kill -0 "$MT_PID" 2>/dev/null; then
    local rc=0; wait "$MT_PID" || rc=$?
    echo "error: meshtrust serve died (exit status $rc) $1; last log lines:" >&2
    tail -n 20 "$T/meshtrust.log" >&2
    exit 1
  fi
}
# wait_ready URL CAFILE PID NAME: poll until 200, at most 30 s, while PID lives
wait_ready() {
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$3" 2>/dev/null || { echo "error: $4 exited during start-up" >&2; return 1; }
    [[ "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$2" "$1" || true)" == 200 ]] && return 0
    sleep 0.1
  done
  echo "error: $4 not ready after 30 s ($1)" >&2
  return 1
}
# tls_info HOST:PORT NAME: what the handshake looks like, and the chain's certificates into $T/NAME-chain/
tls_info() {
  local out="$T/$2-chain" n
  mkdir -p "$out"
  openssl s_client -connect "$1" -servername localhost -showcerts </dev/null >"$out/s_client.txt" 2>&1 || true
  awk -v d="$out" '/-----BEGIN CERTIFICATE-----/ { n++; f = d "/cert" n ".pem" } f { print > f } /-----END CERTIFICATE-----/ { f = "" }' "$out/s_client.txt"
  n=$(find "$out" -name 'cert*.pem' | wc -l)
  printf '  %-9s %s, %s, key exchange %s; chain of %s: %s\n' "$2" \
    "$(sed -n 's/^New, \([^,]*\), Cipher is /\1 /p' "$out/s_client.txt" | head -n 1 | cut -d' ' -f1)" \
    "$(sed -n 's/^New, \([^,]*\), Cipher is /\1 /p' "$out/s_client.txt" | head -n 1 | cut -d' ' -f2)" \
    "$(sed -n 's/^Server Temp Key: //p' "$out/s_client.txt" | head -n 1)" "$n" \
    "$(for f in "$out"/cert*.pem; do
         openssl x509 -in "$f" -noout -text | awk '/Public-Key:/ { b = $2 } /NIST CURVE:/ { c = $3 } /Signature Algorithm:/ && !s { s = $3 }
           END { gsub(/[()]/, "", b); printf "%s (%s bit, signed %s)", c ? "ECDSA " c : "RSA", b, s }'
         printf '; '
       done | sed 's/; $//')"
}

RESULTS="$T/results.tsv"   # server test requests duration_us bytes p50_us p99_us max_us connect read write status timeout
: >"$RESULTS"
cat >"$T/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRKRESULT %.0f %.0f %.0f %.0f %.0f %.0f %d %d %d %d %d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.status, e.timeout))
end
LUA
# run_wrk SERVER TEST SECONDS URL [wrk options...]: one wrk run, its figures appended to RESULTS
run_wrk() {
  local server=$1 test=$2 secs=$3 url=$4 log
  shift 4
  log="$T/wrk-$server-$test.txt"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${secs}s" --latency -s "$T/report.lua" "$@" "$url" >"$log" 2>&1 || {
    echo "error: wrk failed against $server ($test):" >&2; cat "$log" >&2; exit 1; }
  [[ "$test" == warmup ]] && return 0
  grep '^WRKRESULT ' "$log" | sed "s/^WRKRESULT /$server $test /" | tr ' ' '\t' >>"$RESULTS"
  awk -v s="$server" -v t="$test" '/^WRKRESULT/ { printf "  %-9s %-22s %10.0f req/s  p99 %7.2f ms  errors %d\n",
      s, t, $2 / ($3 / 1e6), $6 / 1000, $8 + $9 + $10 + $11 + $12 }' "$log"
}

IDLE="$(idle_share)"
echo "machine: $(nproc) cores, idle ${IDLE}% before start (load average $(cut -d' ' -f1-3 /proc/loadavg))"
((IDLE >= 90)) || echo "WARNING: the machine is busy (${IDLE}% idle); figures will be noisy and ratios unreliable" >&2
echo "wrk: $THREADS threads, $CONNECTIONS connections, ${DURATION} s per run; wrk and both servers share the same cores"
echo

# ---------------------------------------------------------------------------------------------------
# 1. meshtrust: a mesh with cluster c1 and its intermediate, a cluster token, `serve` on a free port.
WWW="$T/nginx/www"
mkdir -p "$WWW/v1/clusters/$CLUSTER" "$T/nginx/tmp"
if [[ "$NGINX_ONLY" != 1 ]]; then
  echo "setup: meshtrust init, cluster add $CLUSTER, issue $CLUSTER, token create --role cluster, serve"
  mt init >/dev/null
  mt cluster add "$CLUSTER" >/dev/null
  mt issue "$CLUSTER" >/dev/null
  TOKEN="$(mt --output json token create --role cluster --cluster "$CLUSTER" |
           python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
  mt export "$CLUSTER" --out "$T/export" >/dev/null
  ROOT_PEM="$T/export/root-cert.pem"
  MT_PORT="$(free_port)"
  "$BIN" --data-dir "$T/data" serve --listen "127.0.0.1:$MT_PORT" >"$T/meshtrust.out" 2>"$T/meshtrust.log" &
  MT_PID=$!; PIDS+=("$MT_PID")
  wait_ready "https://127.0.0.1:$MT_PORT/readyz" "$ROOT_PEM" "$MT_PID" "meshtrust serve" || {
    tail -n 20 "$T/meshtrust.log" >&2; exit 1; }
  MT_URL="https://127.0.0.1:$MT_PORT"
  # 2. the exact bytes meshtrust serves, as nginx's files
  code="$(curl -sS --cacert "$ROOT_PEM" -o "$WWW/v1/trust-bundle" -w '%{http_code}' "$MT_URL/v1/trust-bundle")"
  [[ "$code" == 200 ]] || { echo "error: GET /v1/trust-bundle answered $code" >&2; exit 1; }
  code="$(curl -sS --cacert "$ROOT_PEM" -H "Authorization: Bearer $TOKEN" -o "$WWW/v1/clusters/$CLUSTER/cacerts" \
          -w '%{http_code}' "$MT_URL/v1/clusters/$CLUSTER/cacerts")"
  [[ "$code" == 200 ]] || { echo "error: GET /v1/clusters/$CLUSTER/cacerts answered $code" >&2; exit 1; }
  cmp -s "$WWW/v1/trust-bundle" "$ROOT_PEM" || echo "WARNING: /v1/trust-bundle differs from the exported root-cert.pem" >&2
  python3 - "$WWW/v1/clusters/$CLUSTER/cacerts" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
want = {"ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"}
if not want <= set(d):
    sys.exit(f"error: cacerts has keys {sorted(d)}, expected at least {sorted(want)}")
if set(d) - want:
    print(f"  note: cacerts also carries {sorted(set(d) - want)}")
PY
  MT_CHAIN_LEN=0  # filled in below from the handshake
else
  echo "setup (NGINX_ONLY=1): stand-in bytes made with openssl, shaped like meshtrust's (P-384 root, P-256 intermediate)"
  TOKEN="mtk_0000000000000000_$(openssl rand -hex 32)"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$T/standin-root.key" \
    -out "$T/standin-root.pem" -days 3650 -subj "/O=Istio/CN=Root CA" -sha256 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/standin-int.key" \
    -out "$T/standin-int.csr" -subj "/O=Istio/CN=Intermediate CA/L=$CLUSTER" 2>/dev/null
  printf 'basicConstraints=critical,CA:true,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign,digitalSignature\n' >"$T/standin-int.ext"
  openssl x509 -req -in "$T/standin-int.csr" -CA "$T/standin-root.pem" -CAkey "$T/standin-root.key" -set_serial 2 \
    -days 365 -sha256 -extfile "$T/standin-int.ext" -out "$T/standin-int.pem" 2>/dev/null
  cp "$T/standin-root.pem" "$WWW/v1/trust-bundle"
  python3 - "$T" "$WWW/v1/clusters/$CLUSTER/cacerts" <<'PY'
import json, sys
t = sys.argv[1]
r = lambda n: open(f"{t}/{n}").read()
json.dump({"ca-cert.pem": r("standin-int.pem"), "ca-key.pem": r("standin-int.key"),
           "cert-chain.pem": r("standin-int.pem") + r("standin-root.pem"), "root-cert.pem": r("standin-root.pem")},
          open(sys.argv[2], "w"), separators=(",", ":"))
PY
  ROOT_PEM="$T/standin-root.pem"
fi
echo "  bytes served: /v1/trust-bundle $(wc -c <"$WWW/v1/trust-bundle"), /v1/clusters/$CLUSTER/cacerts $(wc -c <"$WWW/v1/clusters/$CLUSTER/cacerts")"

# nginx's server certificate: ECDSA P-256 like meshtrust's default, with SANs localhost and 127.0.0.1,
# signed by a throwaway CA with the same key type as the mesh root (whose key never leaves meshtrust);
# nginx sends the same number of certificates as meshtrust does.
ROOT_TEXT="$(openssl x509 -in "$ROOT_PEM" -noout -text)"
ROOT_CURVE="$(sed -n 's/^ *NIST CURVE: *//p' <<<"$ROOT_TEXT" | head -n 1)"
ROOT_BITS="$(sed -n 's/^ *Public-Key: *(\([0-9]*\) bit)/\1/p' <<<"$ROOT_TEXT" | head -n 1)"
if [[ -n "$ROOT_CURVE" ]]; then
  CA_NEWKEY=(-newkey ec -pkeyopt "ec_paramgen_curve:$ROOT_CURVE")
elif grep -q rsaEncryption <<<"$ROOT_TEXT" && [[ -n "$ROOT_BITS" ]]; then
  CA_NEWKEY=(-newkey "rsa:$ROOT_BITS")
else
  echo "WARNING: cannot tell the root's key type; using ECDSA P-384 for nginx's CA" >&2
  CA_NEWKEY=(-newkey ec -pkeyopt ec_paramgen_curve:P-384)
fi
NX="$T/nginx"
openssl req -x509 "${CA_NEWKEY[@]}" -nodes -keyout "$NX/ca.key" -out "$NX/ca.pem" -days 30 -sha256 \
  -subj "/O=bench/CN=throwaway nginx CA" 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$NX/server.key" -out "$NX/server.csr" \
  -subj "/O=bench/CN=localhost" 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=critical,CA:false\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n' >"$NX/server.ext"
openssl x509 -req -in "$NX/server.csr" -CA "$NX/ca.pem" -CAkey "$NX/ca.key" -set_serial 1 -days 30 -sha256 \
  -extfile "$NX/server.ext" -out "$NX/server.pem" 2>/dev/null
if [[ "$NGINX_ONLY" != 1 ]]; then
  tls_info "127.0.0.1:$MT_PORT" meshtrust >/dev/null
  MT_CHAIN_LEN=$(find "$T/meshtrust-chain" -name 'cert*.pem' | wc -l)
else
  MT_CHAIN_LEN=2   # meshtrust sends its leaf and the root
fi
cp "$NX/server.pem" "$NX/chain.pem"
((MT_CHAIN_LEN >= 2)) && cat "$NX/ca.pem" >>"$NX/chain.pem"

NGINX_PORT="$(free_port)"
cat >"$NX/nginx.conf" <<CONF
worker_processes 2;
pid $NX/nginx.pid;
error_log $NX/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    server_tokens off;
    sendfile on;
    keepalive_requests 100000000;
    keepalive_timeout 75s;
    client_body_temp_path $NX/tmp/body;
    proxy_temp_path $NX/tmp/proxy;
    fastcgi_temp_path $NX/tmp/fastcgi;
    uwsgi_temp_path $NX/tmp/uwsgi;
    scgi_temp_path $NX/tmp/scgi;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $NX/chain.pem;
        ssl_certificate_key $NX/server.key;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_cache off;
        ssl_session_tickets off;
        root $WWW;
        add_header Cache-Control no-store always;
        location = /v1/trust-bundle { default_type application/x-pem-file; }
        location = /v1/clusters/$CLUSTER/cacerts { default_type application/json; }
        location / { return 404; }
    }
}
CONF
# nginx's workers drop to an unprivileged user when started as root: let them reach the files.
chmod 0711 "$T" "$NX"; chmod -R a+rX "$WWW"
"$NGINX" -p "$NX" -c "$NX/nginx.conf" -e "$NX/error.log" -g 'daemon off;' >"$NX/stdout.log" 2>&1 &
NGINX_PID=$!; PIDS+=("$NGINX_PID")
NX_URL="https://127.0.0.1:$NGINX_PORT"
wait_ready "$NX_URL/v1/trust-bundle" "$NX/ca.pem" "$NGINX_PID" nginx || { cat "$NX/error.log" "$NX/stdout.log" >&2; exit 1; }
for path in /v1/trust-bundle "/v1/clusters/$CLUSTER/cacerts"; do
  curl -sS --cacert "$NX/ca.pem" -H "Authorization: Bearer $TOKEN" -o "$T/check" "$NX_URL$path"
  cmp -s "$T/check" "$WWW$path" || { echo "error: nginx does not serve the same bytes at $path" >&2; exit 1; }
done

echo
# Neither server may resume sessions, or the handshake runs would compare different handshakes.
for s in meshtrust nginx; do
  [[ "$s" == meshtrust && "$NGINX_ONLY" == 1 ]] && continue
  if [[ "$s" == meshtrust ]]; then port=$MT_PORT; else port=$NGINX_PORT; fi
  for proto in -tls1_2 -tls1_3; do
    reused=$(echo | openssl s_client -connect "127.0.0.1:$port" "$proto" -reconnect 2>/dev/null | grep -c '^Reused, ' || true)
    ((reused == 0)) || { echo "error: $s resumes TLS sessions ($proto: $reused of 5 reconnects); the handshake runs would not be full handshakes" >&2; exit 1; }
  done
done
echo "TLS as wrk sees it (default client offer; TLS 1.3 preferred, 1.2 allowed on both; no session resumption on either, checked"
echo "with openssl s_client -reconnect: meshtrust issues no tickets, nginx has tickets and its cache off). nginx's chain comes from a throwaway CA of the"
echo "root's key type, since the mesh root's key never leaves meshtrust: same server key type and chain length, other signer."
[[ "$NGINX_ONLY" != 1 ]] && tls_info "127.0.0.1:$MT_PORT" meshtrust
tls_info "127.0.0.1:$NGINX_PORT" nginx
echo "nginx: $("$NGINX" -v 2>&1 | sed 's/^nginx version: //'), worker_processes 2, access_log off, static files, no auth (the Bearer header is sent and ignored)"
echo

# ---------------------------------------------------------------------------------------------------
# 3. wrk, meshtrust then nginx for each test.
SERVERS=()
[[ "$NGINX_ONLY" != 1 ]] && SERVERS+=(meshtrust)
SERVERS+=(nginx)
url_of() { if [[ $1 == meshtrust ]]; then echo "$MT_URL"; else echo "$NX_URL"; fi; }
AUTH=(-H "Authorization: Bearer $TOKEN")

echo "warm-up (${WARMUP} s each, not reported) ..."
for s in "${SERVERS[@]}"; do run_wrk "$s" warmup "$WARMUP" "$(url_of "$s")/v1/trust-bundle"; done
[[ "$NGINX_ONLY" != 1 ]] && MT_RSS_START="$(rss_kb "$MT_PID")"
echo "runs:"
for s in "${SERVERS[@]}"; do
  run_wrk "$s" keepalive-trust-bundle "$DURATION" "$(url_of "$s")/v1/trust-bundle"; mt_alive "after keepalive-trust-bundle"
done
for s in "${SERVERS[@]}"; do
  run_wrk "$s" keepalive-cacerts "$DURATION" "$(url_of "$s")/v1/clusters/$CLUSTER/cacerts" "${AUTH[@]}"
  mt_alive "after keepalive-cacerts"
done
for s in "${SERVERS[@]}"; do
  run_wrk "$s" handshake-trust-bundle "$DURATION" "$(url_of "$s")/v1/trust-bundle" -H 'Connection: close'
  mt_alive "after handshake-trust-bundle"
done
[[ "$NGINX_ONLY" != 1 ]] && MT_RSS_AFTER="$(rss_kb "$MT_PID")"

# ---------------------------------------------------------------------------------------------------
# 4. the table and the targets
echo
python3 - "$RESULTS" "$NGINX_ONLY" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split("\t")
    server, test = f[0], f[1]
    n, dur, nbytes, p50, p99, mx, conn, rd, wr, status, tmo = map(float, f[2:13])
    rows[(server, test)] = dict(rps=n / (dur / 1e6), p50=p50 / 1000, p99=p99 / 1000, max=mx / 1000, n=n,
                                bpr=nbytes / n if n else 0, conn=int(conn), read=int(rd), write=int(wr),
                                status=int(status), timeout=int(tmo))
tests = ["keepalive-trust-bundle", "keepalive-cacerts", "handshake-trust-bundle"]
print(f"{'server':<10} {'test':<24} {'req/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'B/resp':>7} "
      f"{'errors (connect/read/write/timeout/non-2xx)':>44}")
for t in tests:
    for s in ("meshtrust", "nginx"):
        r = rows.get((s, t))
        if not r:
            continue
        errs = r["conn"] + r["read"] + r["write"] + r["timeout"] + r["status"]
        detail = f"{errs} ({r['conn']}/{r['read']}/{r['write']}/{r['timeout']}/{r['status']})"
        print(f"{s:<10} {t:<24} {r['rps']:>10.0f} {r['p50']:>8.2f} {r['p99']:>8.2f} {r['max']:>8.1f} {r['bpr']:>7.0f} {detail:>44}")
print()
if sys.argv[2] == "1":
    print("NGINX_ONLY=1: no meshtrust figures, no targets checked")
    sys.exit(0)
checks = []
for t, floor in (("keepalive-trust-bundle", 0.5), ("keepalive-cacerts", 0.5), ("handshake-trust-bundle", 0.7)):
    m, x = rows[("meshtrust", t)], rows[("nginx", t)]
    ratio = m["rps"] / x["rps"] if x["rps"] else 0
    checks.append((f"{t}: meshtrust/nginx req/s = {ratio:.2f} (target >= {floor})", ratio >= floor))
for t in ("keepalive-trust-bundle", "keepalive-cacerts"):
    p = rows[("meshtrust", t)]["p99"]
    checks.append((f"{t}: meshtrust p99 = {p:.2f} ms (target < 10 ms)", p < 10))
h = rows[("meshtrust", "handshake-trust-bundle")]["p99"]
hx = rows[("nginx", "handshake-trust-bundle")]["p99"]
errs = sum(r["conn"] + r["read"] + r["write"] + r["timeout"] + r["status"] for (s, _), r in rows.items() if s == "meshtrust")
checks.append((f"meshtrust errors over all runs = {errs} (target 0)", errs == 0))
for name, ok in checks:
    print(f"{'PASS' if ok else 'MISS'}  {name}")
print(f"info  handshake-trust-bundle p99: meshtrust {h:.2f} ms, nginx {hx:.2f} ms (a new connection per request; not a target)")
PY

if [[ "$NGINX_ONLY" == 1 ]]; then exit 0; fi
echo "info  meshtrust RSS: $((MT_RSS_START / 1024)) MiB after warm-up, $((MT_RSS_AFTER / 1024)) MiB after the runs; threads $(awk '/^Threads:/ { print $2 }' "/proc/$MT_PID/status")"

# ---------------------------------------------------------------------------------------------------
# 5. soak: keep-alive cacerts on meshtrust for SOAK seconds, RSS sampled every 10 s
if ((SOAK > 0)); then
  echo
  echo "soak: ${SOAK} s of keep-alive GET /v1/clusters/$CLUSTER/cacerts on meshtrust, $CONNECTIONS connections, RSS every 10 s"
  SOAK_LOG="$T/wrk-meshtrust-soak.txt"
  wrk -t "$THREADS" -c "$CONNECTIONS" -d "${SOAK}s" --latency -s "$T/report.lua" "${AUTH[@]}" \
    "$MT_URL/v1/clusters/$CLUSTER/cacerts" >"$SOAK_LOG" 2>&1 &
  WRK_PID=$!; PIDS+=("$WRK_PID")
  : >"$T/rss.txt"
  start=$SECONDS
  for ((at = 5; at <= SOAK - 5; at += 10)); do   # samples at 5, 15, 25, ... s: all under load
    while ((SECONDS - start < at)) && kill -0 "$WRK_PID" 2>/dev/null; do sleep 0.2; done
    kill -0 "$WRK_PID" 2>/dev/null || break
    mt_alive "during the soak"
    # seconds, VmRSS, RssAnon, RssFile (KiB), threads, open fds, data dir bytes (the database grows
    # by one audit event per delivery; SQLite maps it, so file-backed RSS can follow it)
    printf '%s %s%s %s\n' "$((SECONDS - start))" \
      "$(awk '/^(VmRSS|RssAnon|RssFile|Threads):/ { printf "%s ", $2 }' "/proc/$MT_PID/status")" \
      "$(find "/proc/$MT_PID/fd" -mindepth 1 | wc -l)" "$(du -sb "$T/data" | cut -f1)" >>"$T/rss.txt"
    tail -n 1 "$T/rss.txt" | awk '{ printf "  t=%4d s  RSS %7.1f MiB (anon %6.1f, file %6.1f)  threads %d  fds %d  data dir %6.1f MiB\n",
      $1, $2 / 1024, $3 / 1024, $4 / 1024, $5, $6, $7 / 1048576 }'
  done
  while ((SECONDS - start < SOAK + 30)) && kill -0 "$WRK_PID" 2>/dev/null; do sleep 0.2; done
  kill -0 "$WRK_PID" 2>/dev/null && { echo "error: the soak's wrk did not finish in time" >&2; exit 1; }
  wait "$WRK_PID" || { echo "error: wrk failed in the soak:" >&2; cat "$SOAK_LOG" >&2; exit 1; }
  mt_alive "after the soak"
  echo "info  data dir after the soak: $(find "$T/data" -type f -printf '%f %s\n' | sort | awk '{ printf "%s%s %.1f MiB", n++ ? ", " : "", $1, $2 / 1048576 }')"
  python3 - "$T/rss.txt" "$SOAK_LOG" <<'PY'
import sys
s = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if l.strip()]
w = next(l.split()[1:] for l in open(sys.argv[2]) if l.startswith("WRKRESULT "))
n, dur, nbytes, p50, p99, mx, conn, rd, wr, status, tmo = map(float, w)
errs = int(conn + rd + wr + status + tmo)
print(f"soak: {n / (dur / 1e6):.0f} req/s, p99 {p99 / 1000:.2f} ms, {int(n)} requests, errors {errs} "
      f"(connect {int(conn)}, read {int(rd)}, write {int(wr)}, timeout {int(tmo)}, non-2xx {int(status)})")
rss = [r[1] for r in s]
if len(rss) < 3:
    print("MISS  memory flat: fewer than 3 RSS samples (SOAK < 30 s)")
else:
    k = len(rss) // 3
    first, last = sum(rss[:k]) / k, sum(rss[-k:]) / k
    growth = (last - first) / first
    print(f"RSS: first {rss[0] / 1024:.1f} MiB, last {rss[-1] / 1024:.1f} MiB, max {max(rss) / 1024:.1f} MiB; "
          f"mean of the last third vs the first third {growth * 100:+.1f}%")
    print(f"{'PASS' if abs(growth) <= 0.10 else 'MISS'}  memory flat over the soak (within 10%)")
    tail = rss[-k:]
    if k >= 2:
        print(f"info  last third of the samples: {min(tail) / 1024:.1f}..{max(tail) / 1024:.1f} MiB "
              f"(spread {(max(tail) - min(tail)) / min(tail) * 100:.1f}%): a plateau after growth is bounded memory "
              f"(SQLite's page cache filling up, say), steady growth to the end is a leak")
    anon = [r[2] for r in s]
    print(f"info  anonymous RSS {anon[0] / 1024:.1f} -> {anon[-1] / 1024:.1f} MiB, data dir "
          f"{s[0][6] / 1048576:.1f} -> {s[-1][6] / 1048576:.1f} MiB over the samples")
print(f"{'PASS' if errs == 0 else 'MISS'}  no errors in the soak")
PY
fi

# ---------------------------------------------------------------------------------------------------
# graceful stop, and what meshtrust logged
echo
t0=$(date +%s.%N)
kill -TERM "$MT_PID"
rc=0; for ((i = 0; i < 300; i++)); do kill -0 "$MT_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$MT_PID" 2>/dev/null; then
  echo "MISS  meshtrust did not stop within 30 s of SIGTERM"
else
  wait "$MT_PID" || rc=$?
  printf 'info  meshtrust stopped %.2f s after SIGTERM, exit status %d\n' "$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" "$rc"
fi
MT_PID=""
python3 - "$T/meshtrust.log" <<'PY'
import json, sys, collections
levels, statuses, bad, other = collections.Counter(), collections.Counter(), [], 0
nbytes = 0
for line in open(sys.argv[1], errors="replace"):
    nbytes += len(line)
    try:
        e = json.loads(line)
    except ValueError:
        other += 1; bad.append(line.strip()); continue
    levels[e.get("level")] += 1
    st = (e.get("event") or {}).get("status")
    if st is not None:
        statuses[st] += 1
    if e.get("level") not in ("info", "debug", "trace"):
        bad.append(line.strip())
print(f"info  meshtrust log: {sum(levels.values()) + other} lines, {nbytes / 1e6:.1f} MB; levels {dict(levels)}; "
      f"statuses {dict(sorted(statuses.items()))}" + (f"; {other} lines not JSON" if other else ""))
for l in bad[:10]:
    print("      " + l[:300])
PY
