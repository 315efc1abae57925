# shellcheck shell=bash disable=SC2034  # REST_* are set here for the sourcing test
# rest_common.sh — sourceable helpers for the REST tests (test_rest_*.sh).
#
#   rest_start DATA_DIR LOG [serve args...]
#       starts `meshtrust serve --listen 127.0.0.1:0`, reads the chosen port from the JSON "listening" log
#       line on stderr (bounded wait), sets REST_PID, REST_PORT, REST_URL. If REST_CA (a root PEM) is set,
#       waits until GET /healthz verifies against it; else waits with -k. Needs MESHTRUST_BIN and, for a
#       passphrase-protected data dir, MESHTRUST_PASSPHRASE.
#   rest_stop               SIGTERM, waits up to 15 s (then SIGKILL); sets REST_EXIT to the exit status.
#   rest_kill               for traps: stop the server we started, never anything else.
#   req METHOD PATH [curl args...]
#       one HTTPS request (--cacert "$REST_CA", --path-as-is, bounded by --max-time). Sets CODE and CTYPE;
#       the body is in "$REST_BODY", response headers in "$REST_HDRS". PATH is appended to REST_URL.
#       Set REST_TOKEN to send "Authorization: Bearer $REST_TOKEN"; REST_AUTH_HEADER (a full header
#       value) overrides it; REST_SRC sets the source address (curl --interface, any 127.0.0.0/8 address).
#   problem_ok FILE CODE CTYPE      0 if the answer is a valid application/problem+json for CODE (prints why not)
#   jget FILE PY_EXPR               evaluates PY_EXPR with j = the JSON in FILE, prints the result (+ newline)
#   jraw FILE PY_EXPR               the same for a string result, written byte for byte
#   healthy                         0 if the process is alive and GET /healthz answers 200
#   cli_token ROLE NAME|CLUSTER     creates a token through the local CLI and prints it
#   token_id TOKEN                  the id part of mtk_<id>_<secret>
#   fail MSG                        prints FAIL: MSG and exits 1
#   bad MSG                         prints FAIL: MSG and counts it in FAILS (the test exits non-zero at its end)
REST_PID=""
REST_EXIT=""
FAILS=0
fail() { echo "FAIL: $*" >&2; exit 1; }
bad() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }

rest_start() {
  local data="$1" log="$2" i
  shift 2
  MESHTRUST_DATA_DIR="$data" "$MESHTRUST_BIN" serve --listen 127.0.0.1:0 "$@" 2>"$log" &
  REST_PID=$!
  REST_PORT=""
  for i in $(seq 1 100); do
    REST_PORT=$(sed -n 's/.*"msg":"listening","url":"https:\/\/127\.0\.0\.1:\([0-9]*\)".*/\1/p' "$log" | head -n1)
    [[ -n "$REST_PORT" ]] && break
    kill -0 "$REST_PID" 2>/dev/null || { echo "FAIL: server exited at start: $(head -c 2000 "$log")" >&2; return 1; }
    sleep 0.1
  done
  [[ -n "$REST_PORT" ]] || { echo "FAIL: no 'listening' log line after 10 s: $(head -c 2000 "$log")" >&2; return 1; }
  REST_URL="https://127.0.0.1:$REST_PORT"
  local verify=(-k)
  [[ -n "${REST_CA:-}" ]] && verify=(--cacert "$REST_CA")
  for i in $(seq 1 100); do
    if curl -sf --max-time 2 "${verify[@]}" "$REST_URL/healthz" >/dev/null 2>&1; then return 0; fi
    kill -0 "$REST_PID" 2>/dev/null || { echo "FAIL: server exited: $(head -c 2000 "$log")" >&2; return 1; }
    sleep 0.1
  done
  echo "FAIL: server not healthy after 10 s" >&2
  return 1
}

rest_stop() {
  REST_EXIT=""
  [[ -n "$REST_PID" ]] || return 0
  if kill -0 "$REST_PID" 2>/dev/null; then
    kill -TERM "$REST_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 150); do kill -0 "$REST_PID" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$REST_PID" 2>/dev/null; then
      echo "FAIL: server did not exit within 15 s of SIGTERM" >&2
      kill -KILL "$REST_PID" 2>/dev/null || true
    fi
  fi
  set +e; wait "$REST_PID" 2>/dev/null; REST_EXIT=$?; set -e
  REST_PID=""
}

rest_kill() {
  if [[ -n "${REST_PID:-}" ]] && kill -0 "$REST_PID" 2>/dev/null; then
    kill -TERM "$REST_PID" 2>/dev/null || true
    local i
    for i in $(seq 1 50); do kill -0 "$REST_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$REST_PID" 2>/dev/null || true
  fi
}

req() {
  local method="$1" path="$2" out
  shift 2
  local args=(-s --path-as-is --max-time "${REST_MAX_TIME:-15}" -X "$method" -o "$REST_BODY" -D "$REST_HDRS"
              -w '%{http_code} %{content_type}')
  if [[ -n "${REST_CA:-}" ]]; then args+=(--cacert "$REST_CA"); else args+=(-k); fi
  if [[ -n "${REST_AUTH_HEADER:-}" ]]; then args+=(-H "Authorization: $REST_AUTH_HEADER")
  elif [[ -n "${REST_TOKEN:-}" ]]; then args+=(-H "Authorization: Bearer $REST_TOKEN"); fi
  # A client certificate (mutual TLS): REST_CERT with its key REST_KEY.
  [[ -n "${REST_CERT:-}" ]] && args+=(--cert "$REST_CERT" --key "$REST_KEY")
  [[ -n "${REST_SRC:-}" ]] && args+=(--interface "$REST_SRC")
  : >"$REST_BODY"; : >"$REST_HDRS"
  out=$(curl "${args[@]}" "$@" "$REST_URL$path" 2>/dev/null) || true
  CODE="${out%% *}"
  CTYPE="${out#* }"
  [[ "$CTYPE" == "$out" ]] && CTYPE=""
  [[ -n "$CODE" ]] || CODE=000
}

problem_ok() {
  python3 - "$1" "$2" "$3" <<'PY'
import json, sys
path, code, ctype = sys.argv[1], int(sys.argv[2]), sys.argv[3]
why = []
if ctype.split(";")[0].strip() != "application/problem+json":
    why.append("content type is %r, not application/problem+json" % ctype)
raw = open(path, "rb").read()
try:
    p = json.loads(raw)
except Exception:
    p = None
    why.append("body is not JSON: %r" % raw[:200])
if p is not None:
    if not isinstance(p, dict):
        why.append("body is not a JSON object")
    else:
        for k in ("type", "title", "detail"):
            if not isinstance(p.get(k), str) or not p.get(k):
                why.append("member %r missing or not a non-empty string" % k)
        if p.get("status") != code:
            why.append("member 'status' is %r, HTTP status is %d" % (p.get("status"), code))
        if isinstance(p.get("type"), str) and not p["type"].startswith("/problems/"):
            why.append("type %r is not a /problems/ reference" % p["type"])
if why:
    print("; ".join(why))
    sys.exit(1)
PY
}

jget() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); r=eval(sys.argv[2]); print(r if isinstance(r,str) else json.dumps(r))' "$1" "$2"
}

healthy() {
  kill -0 "$REST_PID" 2>/dev/null || return 1
  local code verify=(-k)
  [[ -n "${REST_CA:-}" ]] && verify=(--cacert "$REST_CA")
  code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "${verify[@]}" "$REST_URL/healthz" 2>/dev/null) || true
  [[ "$code" == 200 ]]
}

cli_token() {
  local role="$1" who="$2" out
  if [[ "$role" == cluster ]]; then
    out=$("$MESHTRUST_BIN" --output json token create --role cluster --cluster "$who") || return 1
  else
    out=$("$MESHTRUST_BIN" --output json token create --role "$role" --name "$who") || return 1
  fi
  python3 -c 'import json,sys; print(json.loads(sys.argv[1])["token"])' "$out"
}

token_id() { local t="${1#mtk_}"; echo "${t%%_*}"; }

# jraw FILE PY_EXPR: like jget for a string result, written exactly (no newline added)
jraw() {
  python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); sys.stdout.write(eval(sys.argv[2]))' "$1" "$2"
}
