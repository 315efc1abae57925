# Sourceable: start `meshtrust serve` on a free loopback port and wait until it is ready.
#   start_server DATA_DIR LOG  → sets SERVER_PID, SERVER_URL; needs MESHTRUST_BIN, CA (root PEM)
#   stop_server
start_server() {
  local data="$1" log="$2" port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  MESHTRUST_DATA_DIR="$data" "$MESHTRUST_BIN" serve --listen "127.0.0.1:$port" 2>"$log" &
  SERVER_PID=$!
  SERVER_URL="https://127.0.0.1:$port"
  for _ in $(seq 1 100); do
    if curl -sf --cacert "$CA" "$SERVER_URL/readyz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { echo "FAIL: server exited: $(cat "$log")" >&2; return 1; }
    sleep 0.1
  done
  echo "FAIL: server not ready after 10 s" >&2
  return 1
}
stop_server() {
  if [[ -n "${SERVER_PID:-}" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID"
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
