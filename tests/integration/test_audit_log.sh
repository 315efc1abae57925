#!/usr/bin/env bash
# The audit log end to end: every command leaves one event; proofs verify with an independent
# RFC 9162 verifier (Python) and heads with the openssl CLI; tampering with the stored log in
# five ways is caught by `audit verify`, which names where.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
M="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
export MESHTRUST_DATA_DIR="$T/data" MESHTRUST_PASSPHRASE="audit test passphrase"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$M" init >/dev/null
for c in c1 c2 c3; do "$M" cluster add "$c" >/dev/null; done
"$M" issue c1 c2 >/dev/null
"$M" issue c3 >/dev/null
"$M" export c1 --out "$T/out" >/dev/null
"$M" workload vm --cluster c1 --out "$T/vm" >/dev/null
"$M" cluster remove c3 >/dev/null

# One event per change, in order, by the local OS user.
actions=$("$M" --output json audit list | python3 -c 'import json,sys; print(" ".join(json.loads(l)["action"] for l in sys.stdin))')
[[ "$actions" == "root.create cluster.add cluster.add cluster.add intermediate.issue intermediate.issue intermediate.issue bundle.export workload.issue cluster.remove" ]] \
  || fail "unexpected events: $actions"
"$M" --output json audit list --limit 1 2>/dev/null | grep -q "\"actor\":\"local:$(id -un)\"" || fail "actor is not local:$(id -un)"

# Filters and paging.
n=$("$M" --output json audit list --cluster c1 | wc -l); [[ $n -eq 4 ]] || fail "cluster filter gave $n events, want 4"
n=$("$M" --output json audit list --action intermediate.issue | wc -l); [[ $n -eq 3 ]] || fail "action filter gave $n"
"$M" audit list --limit 3 2>"$T/err" >/dev/null; grep -q -- "--cursor 3" "$T/err" || fail "no cursor after a full page"
n=$("$M" --output json audit list --limit 3 --cursor 9 | wc -l); [[ $n -eq 1 ]] || fail "cursor 9 gave $n events"
n=$("$M" --output json audit list --since 2000-01-01 --until 2000-01-02 | wc -l); [[ $n -eq 0 ]] || fail "empty window gave $n"
"$M" audit list --since yesterday >/dev/null 2>"$T/err" && fail "a bad --since was accepted"; grep -q "^error: " "$T/err"

# No secrets in any leaf.
"$M" --output json audit list --limit 1000 > "$T/events"
for s in "PRIVATE KEY" "$MESHTRUST_PASSPHRASE" "$(sed -n 2p "$T/out/c1/ca-key.pem")" "$(sed -n 2p "$T/vm/key.pem")"; do
  grep -qF -- "$s" "$T/events" && fail "a leaf contains secret material ($s)"
done

# Inclusion proof for every event and consistency proofs, checked independently.
"$M" audit head > "$T/head.json"
size=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["tree_size"])' "$T/head.json")
[[ $size -eq 10 ]] || fail "head covers $size events, want 10"
for i in $(seq 0 $((size - 1))); do
  python3 -c 'import json,sys; sys.stdout.write(json.loads(open(sys.argv[1]).readlines()[int(sys.argv[2])])["leaf"])' "$T/events" "$i" > "$T/leaf"
  "$M" audit proof --index "$i" > "$T/proof.json"
  python3 "$HERE/lib/ct_verify.py" inclusion "$T/leaf" "$T/proof.json" "$T/head.json" || fail "inclusion proof for $i does not verify"
done
echo '{"x":1}' > "$T/leaf"; "$M" audit proof --index 0 > "$T/proof.json"
python3 "$HERE/lib/ct_verify.py" inclusion "$T/leaf" "$T/proof.json" "$T/head.json" 2>/dev/null && fail "a foreign leaf verified"
# The head signature, with openssl as the oracle.
"$M" audit public-key > "$T/audit.pem"
python3 - "$T/head.json" "$T/msg" "$T/sig" <<'PY'
import base64, json, sys
h = json.load(open(sys.argv[1]))
open(sys.argv[2], "w").write("meshtrust-tree-head-v1\n%d\n%s\n%d\n" % (h["tree_size"], h["root_hash"], h["timestamp"]))
open(sys.argv[3], "wb").write(base64.b64decode(h["signature"]))
PY
openssl dgst -sha256 -verify "$T/audit.pem" -signature "$T/sig" "$T/msg" >/dev/null || fail "head signature does not verify with openssl"
# An older head stays consistent with the newer one.
cp "$T/head.json" "$T/old.json"
"$M" cluster add c4 >/dev/null
"$M" audit head > "$T/new.json"
"$M" audit consistency --first 10 --second 11 > "$T/cproof.json"
python3 "$HERE/lib/ct_verify.py" consistency "$T/old.json" "$T/new.json" "$T/cproof.json" || fail "consistency proof does not verify"
"$M" audit proof --index 11 >/dev/null 2>&1 && fail "a proof for an index past the log was given"
"$M" audit consistency --first 5 --second 99 >/dev/null 2>&1 && fail "a consistency proof past the log was given"

"$M" audit verify | grep -q "verified: 11 events" || fail "clean log did not verify"

# Tampering: each on a fresh copy of the data dir; verify must fail and name the index.
DB="$MESHTRUST_DATA_DIR/meshtrust.db"
tamper() {  # tamper NAME SQL EXPECTED_INDEX
  rm -rf "$T/copy"; cp -r "$MESHTRUST_DATA_DIR" "$T/copy"
  sqlite3 "$T/copy/meshtrust.db" "$2"
  if MESHTRUST_DATA_DIR="$T/copy" "$M" audit verify >"$T/vout" 2>"$T/verr"; then fail "$1 was not detected"; fi
  grep -q "failed at index $3:" "$T/verr" || fail "$1: expected index $3, got: $(cat "$T/verr")"
}
tamper "an edited leaf" "UPDATE audit_events SET leaf = replace(leaf, 'success', 'failure') WHERE idx = 5" 5
tamper "an edited leaf with its hash recomputed by the attacker" \
  "UPDATE audit_events SET leaf = replace(leaf, 'success', 'failure'), leaf_hash = randomblob(32) WHERE idx = 5" 5
tamper "a deleted event" "DELETE FROM audit_events WHERE idx = 4" 4
tamper "two swapped events" "UPDATE audit_events SET idx = -1 WHERE idx = 2; UPDATE audit_events SET idx = 2 WHERE idx = 3; UPDATE audit_events SET idx = 3 WHERE idx = -1" 2
# An attacker who also recomputes the leaf hash is caught by the first signed head over it.
rm -rf "$T/copy"; cp -r "$MESHTRUST_DATA_DIR" "$T/copy"
python3 - "$T/copy/meshtrust.db" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
leaf = bytes(db.execute("SELECT leaf FROM audit_events WHERE idx = 5").fetchone()[0]).replace(b"success", b"failure")
db.execute("UPDATE audit_events SET leaf = ?, leaf_hash = ? WHERE idx = 5", (leaf, hashlib.sha256(b"\0" + leaf).digest()))
db.commit()
PY
MESHTRUST_DATA_DIR="$T/copy" "$M" audit verify >/dev/null 2>"$T/verr" && fail "a re-hashed edited leaf was not detected"
grep -q "failed at index 5: the signed tree head for size 6 does not match" "$T/verr" || fail "re-hashed leaf: $(cat "$T/verr")"
tamper "a truncated tail" "DELETE FROM audit_events WHERE idx >= 8" 8
tamper "a rewritten head" "UPDATE audit_heads SET root_hash = randomblob(32) WHERE tree_size = (SELECT MAX(tree_size) FROM audit_heads)" 10
tamper "a forged head signature" "UPDATE audit_heads SET signature = X'3006020101020101' WHERE tree_size = 7" 6
# Cached subtrees exist from 16 events up: grow the log past 32, then alter and drop caches.
rm -rf "$T/big"; cp -r "$MESHTRUST_DATA_DIR" "$T/big"
for i in $(seq 1 24); do MESHTRUST_DATA_DIR="$T/big" "$M" cluster add "x$i" >/dev/null; done
big_tamper() {  # NAME SQL EXPECTED_MESSAGE
  rm -rf "$T/copy"; cp -r "$T/big" "$T/copy"
  sqlite3 "$T/copy/meshtrust.db" "$2"
  MESHTRUST_DATA_DIR="$T/copy" "$M" audit verify >/dev/null 2>"$T/verr" && fail "$1 was not detected"
  grep -q "$3" "$T/verr" || fail "$1: $(cat "$T/verr")"
}
MESHTRUST_DATA_DIR="$T/big" "$M" audit verify >/dev/null || fail "the grown log does not verify"
big_tamper "a wrong cached subtree" "UPDATE audit_subtrees SET hash = randomblob(32) WHERE level = 4 AND idx = 1" \
  "failed at index 16: the cached hash of events 16..31 differs"
big_tamper "a dropped cached subtree" "DELETE FROM audit_subtrees WHERE level = 4 AND idx = 0" \
  "failed at index 0: the cached hash of events 0..15 is missing"
echo "audit log: all checks passed"
