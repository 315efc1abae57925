#!/usr/bin/env bash
# Audit log at 1,000,000 events, against the targets of issue 3:
#   append >= 20,000 events/s in batches (durable), filtered query p99 < 20 ms,
#   inclusion proof p99 < 2 ms, full verify within 3x of `openssl dgst -sha256` over the same
#   leaf bytes (the hashing limit). Usage: bench/audit.sh [BUILD_DIR] [EVENTS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build-release}"
EVENTS="${2:-1000000}"
if [[ ! -x "$BUILD/bench/audit_bench" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j "$(nproc)" --target audit_bench >/dev/null
fi
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$BUILD/bench/audit_bench" "$T" "$EVENTS" 1000 | tee "$T/out"
start=$(date +%s.%N); openssl dgst -sha256 "$T/leaves.bin" >/dev/null; end=$(date +%s.%N)
python3 - "$T/out" "$start" "$end" <<'PY'
import re, sys
r = dict(kv.split("=") for kv in re.search(r"RESULT (.*)", open(sys.argv[1]).read()).group(1).split())
limit = float(sys.argv[3]) - float(sys.argv[2])
v = float(r["verify_s"])
print(f"hashing limit (openssl dgst -sha256 over the leaf bytes): {limit:.3f} s; verify/limit = {v/limit:.2f}x")
checks = [("append >= 20000 events/s", float(r["append_eps"]) >= 20000),
          ("query p99 < 20 ms", float(r["query_p99_ms"]) < 20),
          ("proof p99 < 2 ms", float(r["proof_p99_ms"]) < 2),
          ("verify <= 3x hashing limit", v <= 3 * limit)]
for name, ok in checks:
    print(f"{'PASS' if ok else 'MISS'}  {name}")
PY
