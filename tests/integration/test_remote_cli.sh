#!/usr/bin/env bash
# One command set, two backends: the same commands through --server give the same output and
# exit codes as against the data dir.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$HERE/lib/server.sh"
export MESHTRUST_BIN="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
M="$MESHTRUST_BIN"
T="$(mktemp -d)"; trap 'set +e; stop_server; rm -rf "$T"' EXIT
export MESHTRUST_PASSPHRASE="remote test"
fail() { echo "FAIL: $*" >&2; exit 1; }
D="$T/data"
"$M" --data-dir "$D" init >/dev/null
for c in c1 c2; do "$M" --data-dir "$D" cluster add "$c" >/dev/null; done
"$M" --data-dir "$D" issue c1 >/dev/null
"$M" --data-dir "$D" export c1 --out "$T/local" >/dev/null
CA="$T/local/root-cert.pem"
TOKEN=$("$M" --data-dir "$D" token create --role admin --name alice 2>/dev/null)
start_server "$D" "$T/server.log"
R=("$M" --server "$SERVER_URL" --token "$TOKEN" --ca-file "$CA")

# Read commands: identical output (JSON) in both modes.
for cmd in "cluster list" "cluster show c1" "certs list" "certs list --cluster c1" "audit head" "audit proof --index 2" \
           "audit consistency --first 2 --second 5"; do
  "$M" --data-dir "$D" --output json $cmd > "$T/a" 2>&1 || fail "local '$cmd' failed: $(cat "$T/a")"
  "${R[@]}" --output json $cmd > "$T/b" 2>&1 || fail "remote '$cmd' failed: $(cat "$T/b")"
  if [[ "$cmd" != "cluster list" && "$cmd" != "cluster show c1" && "$cmd" != certs* ]]; then :; fi
  cmp -s "$T/a" "$T/b" || fail "'$cmd' differs: local $(head -c 300 "$T/a") remote $(head -c 300 "$T/b")"
done
# status: same clusters and serials (days left may differ by the second).
"$M" --data-dir "$D" --output json status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["root"]["serial"], [(c["name"], c["serial"]) for c in d["clusters"]])' > "$T/a"
"${R[@]}" --output json status | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["root"]["serial"], [(c["name"], c["serial"]) for c in d["clusters"]])' > "$T/b"
cmp -s "$T/a" "$T/b" || fail "status differs"

# Write commands through the server, checked locally.
"${R[@]}" issue c2 >/dev/null || fail "remote issue failed"
"$M" --data-dir "$D" --output json cluster show c2 | grep -q '"intermediate_serial":"' || fail "remote issue did not land"
"${R[@]}" export c2 --out "$T/remote" >/dev/null || fail "remote export failed"
"$M" --data-dir "$D" export c2 --out "$T/local2" >/dev/null
for f in ca-cert.pem ca-key.pem cert-chain.pem root-cert.pem; do
  cmp -s "$T/remote/c2/$f" "$T/local2/c2/$f" || fail "remote export of $f differs from local"
done
[[ $(stat -c %a "$T/remote/c2/ca-key.pem") == 600 ]] || fail "remote export key is not 0600"
"${R[@]}" cluster add c3 >/dev/null
"${R[@]}" cluster remove c3 >/dev/null
"$M" --data-dir "$D" audit list --cluster c3 | grep -q "cluster.remove" || fail "remote remove not audited"
"$M" --data-dir "$D" audit list --actor admin:alice | grep -q "intermediate.issue" || fail "remote actor is not admin:alice"

# Errors: same exit code and the same sentence.
for cmd in "cluster show nope" "issue nope" "cluster add BAD_NAME" "issue c1"; do
  set +e
  "$M" --data-dir "$D" $cmd >/dev/null 2>"$T/ea"; la=$?
  "${R[@]}" $cmd >/dev/null 2>"$T/eb"; lb=$?
  set -e
  [[ $la -eq 1 && $lb -eq 1 ]] || fail "'$cmd': local exit $la, remote exit $lb (want 1, 1)"
  [[ $(wc -l < "$T/eb") -eq 1 ]] && grep -q "^error: " "$T/eb" || fail "'$cmd' remote stderr: $(cat "$T/eb")"
done
set +e; "$M" --server "$SERVER_URL" --token mtk_bad --ca-file "$CA" cluster list >/dev/null 2>"$T/e"; rc=$?; set -e
[[ $rc -eq 1 ]] && grep -q "not valid" "$T/e" || fail "a bad token: exit $rc, $(cat "$T/e")"
set +e; "$M" --server "$SERVER_URL" --token "$TOKEN" cluster list >/dev/null 2>"$T/e"; rc=$?; set -e
[[ $rc -eq 1 ]] || fail "an unverified server certificate was accepted"
"${R[@]}" audit verify | grep -q "audit log verified" || fail "remote audit verify failed"
stop_server
"$M" --data-dir "$D" audit verify >/dev/null || fail "local audit verify failed after remote use"
echo "remote CLI: all checks passed"
