#!/usr/bin/env bash
# Builds meshtrust and runs every test: once normally, then once under AddressSanitizer and
# UndefinedBehaviorSanitizer. Installs missing Debian packages first. The output ends with
# CTest's summary of the last pass; the exit status is non-zero if any pass failed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS="${JOBS:-$(nproc)}"

"$ROOT/deploy/install-deps.sh" --with-tests

run_pass() {
  local dir="$1"; shift
  echo "=== meshtrust tests: $dir ($*)"
  cmake -S "$ROOT" -B "$ROOT/$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >"$ROOT/$dir.configure.log" 2>&1 \
    || { cat "$ROOT/$dir.configure.log"; return 1; }
  cmake --build "$ROOT/$dir" -j "$JOBS" 2>&1 | grep -E "error|warning:|Error" || true
  [[ ${PIPESTATUS[0]} -eq 0 ]] || { echo "build failed in $dir"; return 1; }
  (cd "$ROOT/$dir" && ctest --output-on-failure -j "$JOBS" --timeout 900)
}

mkdir -p "$ROOT/build" "$ROOT/build-sanitize"
status=0
run_pass build || status=1
if [[ $status -eq 0 && "${MESHTRUST_SKIP_SANITIZE:-0}" != "1" ]]; then
  export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
  export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
  run_pass build-sanitize -DMESHTRUST_SANITIZE=ON || status=1
fi
exit $status
