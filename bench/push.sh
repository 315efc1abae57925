#!/usr/bin/env bash
# Pushing cacerts Secrets to a fleet (issue 5), side by side with the way it is done by hand today:
#   a. meshtrust push --all --concurrency 32 to N clusters served by the fake API server on loopback
#      (first push: every Secret is created), timed, with its peak RSS (GNU time);
#      then the same push again (every Secret unchanged: one GET each);
#   b. a shell loop running `kubectl apply --validate=false -f secret.yaml` once per cluster with
#      each cluster's own kubeconfig, for the same bundles (the YAML `meshtrust manifest` prints),
#      into the same fake after a reset (so it creates, as (a) did).
# Targets: N=1000 in < 10 s on 2 cores, >= 30x faster than the kubectl loop, peak RSS < 100 MB.
#
# Usage: bench/push.sh [MESHTRUST_BINARY]   (default build-release/meshtrust; built if missing)
# Environment: N (clusters, default 1000), CONCURRENCY (default 32), KUBECTL_N (clusters the kubectl
#   loop does, default N; a smaller sample is scaled up to N and says so), ROUNDS (meshtrust create
#   rounds, the median is reported; default 3), GNU_TIME (/usr/bin/time), DISTINCT_ENDPOINTS (1: every
#   cluster at its own address, 127.0.x.y, as a fleet of separate API servers is; default 0: every
#   cluster behind the fake's one endpoint under its own path prefix, as a Rancher-style fleet is,
#   which lets meshtrust share warm connections between clusters).
# Everything lives in a mktemp -d directory removed on exit; the fake API server is stopped on exit.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_BIN="$ROOT/build-release/meshtrust"
BIN="${1:-$DEFAULT_BIN}"
N="${N:-1000}"
CONCURRENCY="${CONCURRENCY:-32}"
KUBECTL_N="${KUBECTL_N:-$N}"
ROUNDS="${ROUNDS:-3}"
DISTINCT_ENDPOINTS="${DISTINCT_ENDPOINTS:-0}"
GNU_TIME="${GNU_TIME:-/usr/bin/time}"
export LC_ALL=C
export MESHTRUST_SOURCE_DIR="$ROOT"
unset MESHTRUST_PASSPHRASE  # a key file: setting up 1000 clusters should not run scrypt 1000 times

for tool in openssl python3 curl kubectl "$GNU_TIME"; do
  command -v "$tool" >/dev/null || { echo "error: $tool is needed (deploy/install-deps.sh --with-bench)" >&2; exit 1; }
done
[[ "$BIN" == /* ]] || BIN="$PWD/$BIN"
if [[ ! -x "$BIN" ]]; then
  [[ "$BIN" == "$DEFAULT_BIN" ]] || { echo "error: no meshtrust binary at $BIN" >&2; exit 1; }
  echo "building $BIN ..."
  cmake -S "$ROOT" -B "$ROOT/build-release" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$ROOT/build-release" -j2 --target meshtrust >/dev/null
fi

T="$(mktemp -d)"
source "$ROOT/tests/integration/lib/fake_kube.sh"
trap 'set +e; fk_stop; rm -rf "$T"' EXIT
cp "$BIN" "$T/meshtrust"
M="$T/meshtrust"
export MESHTRUST_DATA_DIR="$T/data"
echo "meshtrust: $BIN (sha256 $(sha256sum "$BIN" | cut -c1-16))"
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ "$DISTINCT_ENDPOINTS" == 1 ]]; then echo "fleet: $N clusters, each at its own address (no connection sharing)"
else echo "fleet: $N clusters behind one endpoint, one path prefix each (Rancher-style; connections shared)"; fi

# ---- the fleet: N clusters in one fake API server -----------------------------------------------
echo '{"clusters": []}' >"$T/empty.json"
[[ "$DISTINCT_ENDPOINTS" == 1 ]] && export FK_HOST=0.0.0.0
fk_start "$T/fake" "$T/empty.json"
python3 - "$N" >"$T/fleet.json" <<'EOF'
import json, sys
n = int(sys.argv[1])
print(json.dumps({"clusters": [{"name": "c%04d" % i, "prefix": "/clusters/c%04d" % i,
                                "tokens": {"tok-c%04d" % i: "admin"}, "namespaces": ["istio-system"]}
                               for i in range(n)]}))
EOF
fk POST /_control/clusters "$(cat "$T/fleet.json")" >/dev/null
mkdir -p "$T/kc" "$T/yaml"
names=()
for ((i = 0; i < N; i++)); do
  c=$(printf 'c%04d' "$i")
  names+=("$c")
  addr=""
  [[ "$DISTINCT_ENDPOINTS" == 1 ]] && addr="127.0.$((i / 250 + 1)).$((i % 250 + 2))"
  fk_kubeconfig "$T/kc/$c.yaml" "/clusters/$c" "token:tok-$c" $addr
done
echo "setting up $N clusters in meshtrust (untimed) ..."
"$M" init >/dev/null 2>&1
for c in "${names[@]}"; do "$M" cluster add "$c" --kubeconfig "$T/kc/$c.yaml" >/dev/null; done
"$M" issue "${names[@]}" >/dev/null
for c in "${names[@]:0:$KUBECTL_N}"; do "$M" manifest "$c" >"$T/yaml/$c.yaml" 2>/dev/null; done

# ---- a. meshtrust -------------------------------------------------------------------------------
# ROUNDS rounds of (reset the fake, push --all: every Secret created); the median round is reported.
seconds() { python3 -c 'import sys; print("%.2f" % (float(sys.argv[2]) - float(sys.argv[1])))' "$1" "$2"; }
fake_cpu() { awk '{ print $14 + $15 }' "/proc/$FK_PID/stat"; }  # the fake's CPU ticks: is it the bottleneck?
: >"$T/rounds"
for ((r = 0; r < ROUNDS; r++)); do
  fk POST /_control/reset >/dev/null
  f0=$(fake_cpu)
  t0=$(date +%s.%N)
  "$GNU_TIME" -f '%M %e %U %S' -o "$T/time.a" "$M" push --all --concurrency "$CONCURRENCY" >"$T/push.out" 2>"$T/push.err" \
    || { echo "meshtrust push failed:"; tail -5 "$T/push.out" "$T/push.err"; exit 1; }
  t1=$(date +%s.%N)
  f1=$(fake_cpu)
  created=$(grep -c ': created' "$T/push.out" || true)
  [[ "$created" == "$N" ]] || { echo "error: $created of $N Secrets created"; exit 1; }
  read -r rss_kb _ user_s sys_s <"$T/time.a"
  fake_s=$(python3 -c 'import os,sys; print("%.2f" % ((int(sys.argv[2]) - int(sys.argv[1])) / os.sysconf("SC_CLK_TCK")))' "$f0" "$f1")
  echo "$(seconds "$t0" "$t1") $rss_kb $user_s $sys_s $fake_s" >>"$T/rounds"
  echo "  round $((r + 1)): $(seconds "$t0" "$t1") s"
done
read -r wall_a rss_kb user_s sys_s fake_s < <(sort -n "$T/rounds" | sed -n "$(( (ROUNDS + 1) / 2 ))p")
t0=$(date +%s.%N)
"$GNU_TIME" -f '%M %e %U %S' -o "$T/time.a2" "$M" push --all --concurrency "$CONCURRENCY" >"$T/push2.out" 2>&1
t1=$(date +%s.%N)
unchanged=$(grep -c ': unchanged' "$T/push2.out" || true)
[[ "$unchanged" == "$N" ]] || { echo "error: second push: $unchanged of $N unchanged"; exit 1; }
wall_a2=$(seconds "$t0" "$t1")
read -r rss2_kb _ _ _ <"$T/time.a2"

# ---- b. the kubectl loop ------------------------------------------------------------------------
fk POST /_control/reset >/dev/null
mkdir -p "$T/kubectl-cache"
echo "kubectl loop over $KUBECTL_N clusters ..."
t0=$(date +%s.%N)
for c in "${names[@]:0:$KUBECTL_N}"; do
  kubectl --kubeconfig "$T/kc/$c.yaml" --cache-dir "$T/kubectl-cache" apply --validate=false -f "$T/yaml/$c.yaml" >/dev/null \
    || { echo "error: kubectl apply failed for $c"; exit 1; }
done
t1=$(date +%s.%N)
wall_b=$(seconds "$t0" "$t1")
wall_b_n=$(python3 -c 'import sys; print("%.2f" % (float(sys.argv[1]) * int(sys.argv[3]) / int(sys.argv[2])))' "$wall_b" "$KUBECTL_N" "$N")
landed=$(fk GET "/_control/objects?cluster=${names[$((KUBECTL_N - 1))]}" | grep -c '"cacerts"' || true)
[[ "$landed" -ge 1 ]] || { echo "error: the kubectl loop's last Secret did not land"; exit 1; }

# ---- report -------------------------------------------------------------------------------------
python3 - "$N" "$wall_a" "$wall_a2" "$rss_kb" "$rss2_kb" "$user_s" "$sys_s" "$wall_b" "$wall_b_n" "$KUBECTL_N" "$fake_s" <<'EOF'
import sys
n, a, a2, rss, rss2, user, sys_, b, b_n, kn, fake = sys.argv[1:]
n, a, a2, b, b_n, kn = int(n), float(a), float(a2), float(b), float(b_n), int(kn)
rss_mb, rss2_mb = int(rss) / 1024, int(rss2) / 1024
print()
print("%-46s %10s %12s" % ("", "seconds", "clusters/s"))
print("%-46s %10.2f %12.0f" % ("meshtrust push --all (create %d, median)" % n, a, n / a))
print("%-46s %10.2f %12.0f" % ("meshtrust push --all again (unchanged)", a2, n / a2))
label = "kubectl apply loop (%d)" % kn if kn == n else "kubectl apply loop (%d, scaled to %d)" % (kn, n)
print("%-46s %10.2f %12.1f" % (label, b_n, n / b_n))
print()
print("meshtrust CPU: user %s s, sys %s s; peak RSS %.1f MB (create), %.1f MB (unchanged)" % (user, sys_, rss_mb, rss2_mb))
print("the fake API server's CPU during the create push: %s s (it shares the 2 cores)" % fake)
ratio = b_n / a
def verdict(ok): return "PASS" if ok else "MISS"
print("target: %d clusters in < 10 s          %6.2f s   %s" % (n, a, verdict(a < 10)))
print("target: >= 30x the kubectl loop         %6.1fx    %s" % (ratio, verdict(ratio >= 30)))
print("target: peak RSS < 100 MB               %6.1f MB  %s" % (max(rss_mb, rss2_mb), verdict(max(rss_mb, rss2_mb) < 100)))
EOF
