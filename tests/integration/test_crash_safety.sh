#!/usr/bin/env bash
# SIGKILL at random points of init and of batch issuance: afterwards the audit log verifies and
# the CA state and the log agree (every issued certificate has its event and vice versa, every
# cluster's current intermediate exists). A crash leaves the old state or the new, never half.
set -euo pipefail
M="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export MESHTRUST_DATA_DIR="$T/data" MESHTRUST_PASSPHRASE="crash test"
ROUNDS="${CRASH_ROUNDS:-12}"
fail() { echo "FAIL: $*" >&2; exit 1; }

check_consistent() {
  "$M" audit verify >/dev/null 2>"$T/verr" || fail "round $1: audit verify failed: $(cat "$T/verr")"
  "$M" --output json certs list > "$T/certs.json"
  "$M" --output json audit list --limit 1000 --action intermediate.issue > "$T/events.jsonl"
  "$M" --output json cluster list > "$T/clusters.json"
  python3 - "$T/certs.json" "$T/events.jsonl" "$T/clusters.json" "$1" <<'PY'
import json, sys
certs = {c["serial"]: c for c in json.load(open(sys.argv[1])) if c["kind"] == "intermediate"}
events = [json.loads(l) for l in open(sys.argv[2])]
event_serials = {e["serial"] for e in events}
clusters = json.load(open(sys.argv[3]))
r = sys.argv[4]
assert set(certs) == event_serials, f"round {r}: certificates {set(certs) ^ event_serials} lack an event or an event lacks its certificate"
for c in clusters:
    s = c["intermediate_serial"]
    assert s is None or s in certs, f"round {r}: cluster {c['name']} points at a missing intermediate {s}"
current = {c["intermediate_serial"] for c in clusters if c["intermediate_serial"]}
assert current == set(certs), f"round {r}: issued intermediates not current for their cluster"
PY
}

# Init killed at random points: either nothing is initialised, or all of it is.
for delay in 0.02 0.05 0.1 0.15; do
  rm -rf "$MESHTRUST_DATA_DIR"
  "$M" init --key-algorithm rsa-3072 >/dev/null 2>&1 & pid=$!
  sleep "$delay"; kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
  if "$M" status >/dev/null 2>&1; then
    "$M" audit verify >/dev/null || fail "init killed after ${delay}s left a log that does not verify"
  else
    "$M" init >/dev/null 2>&1 || fail "init killed after ${delay}s left a data dir that cannot be initialised"
  fi
done
"$M" status >/dev/null 2>&1 || "$M" init >/dev/null

# Batch issuance killed at random points.
killed=0
for r in $(seq 1 "$ROUNDS"); do
  names=(); for i in $(seq 1 12); do names+=("r$r-c$i"); "$M" cluster add "r$r-c$i" >/dev/null; done
  "$M" issue "${names[@]}" --key-algorithm rsa-2048 >/dev/null 2>&1 & pid=$!
  sleep "0.$(( RANDOM % 60 + 5 ))"
  kill -9 "$pid" 2>/dev/null && killed=$((killed + 1)) || true
  wait "$pid" 2>/dev/null || true
  check_consistent "$r"
done
(( killed > 0 )) || fail "no issuance was killed mid-way; the test proved nothing"
echo "crash safety: $ROUNDS rounds, $killed killed mid-batch, state and log consistent"
