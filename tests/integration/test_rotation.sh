#!/usr/bin/env bash
# Rotation, revocation and expiry monitoring without mesh outages (issue 6), end to end: the
# meshtrust binary against the fake Kubernetes API server (tests/fake_kube) with three clusters,
# kubectl reading back what was pushed, lib/istiod_check.sh and `openssl verify` as the oracles.
#
#  1. A full root rotation (trust-both -> new-intermediates -> new root only): at every phase each
#     cluster's pushed Secret passes istiod_check, root-cert.pem is byte-identical across clusters
#     (and each phase's roots are a byte-substring of the next/previous, as Istio <= 1.29 needs),
#     and every workload certificate that can exist in two adjacent phases (issued by meshtrust
#     and by an "istiod" signing with the pushed key, under old and new intermediates) verifies
#     against every cluster's bundle of both phases; after completion only the new root is trusted.
#     The workload-TTL wait is refused before it elapses, accepted after.
#  2. Preconditions: advance refused (naming exactly the clusters) while bundles are not in sync;
#     abort from trust-both pushes the one-root bundles back; a second rotation then starts.
#  3. SIGKILL of `root rotate advance` at random points (makefile profile: slow RSA 4096 keys,
#     8 clusters without kubeconfigs): audit verify passes, status answers, no cluster is ever
#     without exactly one active intermediate; re-running advance reaches new-intermediates.
#  4. Intermediate rotation: the old intermediate is superseded (not revoked) and its workload
#     certificates keep verifying against the newly pushed bundle; rotate --due with nothing due.
#  5. Revocation and CRLs: CLI and REST revoke, `meshtrust crl` and GET /v1/crl verified by
#     openssl, status flags the revoked cluster until rotate --due; bundle-crl on puts ca-crl.pem
#     in pushed/exported bundles (istiod rule L5), the intermediate's CRL lists a revoked workload;
#     bad input exits 1 with one error line and no audit event.
#  6. status --expiring-within.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export MESHTRUST_SOURCE_DIR="${MESHTRUST_SOURCE_DIR:-$(cd "$HERE/../.." && pwd)}"
source "$HERE/lib/fake_kube.sh"
source "$HERE/lib/istiod_check.sh"
source "$HERE/lib/rest_common.sh"
M="${MESHTRUST_BIN:?set MESHTRUST_BIN}"
[[ "$M" == /* ]] || M="$PWD/$M"
export MESHTRUST_BIN="$M"
T="$(mktemp -d "${TMPDIR:-/tmp}/meshtrust-rotation.XXXXXX")"
BG_PID=""
cleanup() {
  set +e
  if [[ -n "$BG_PID" ]]; then kill -KILL "$BG_PID" 2>/dev/null; wait "$BG_PID" 2>/dev/null; fi
  rest_kill
  fk_stop
  rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/tmp"
export TMPDIR="$T/tmp"   # kubectl cache dirs and the checkers' scratch dirs go away with $T
export MESHTRUST_PASSPHRASE="rotation test"
export MESHTRUST_DATA_DIR="$T/data"
ok() { echo "ok: $*"; }
CLUSTERS=(c1 c2 c3)
HAVE_KUBECTL=0
command -v kubectl >/dev/null && HAVE_KUBECTL=1
START_S=$(date +%s)

# ---- helpers --------------------------------------------------------------------------------
norm() { tr 'A-F' 'a-f' | sed 's/^0*//'; }   # serials: lowercase hex without leading zeros
tree_size() { "$M" --output json audit head | python3 -c 'import json,sys; print(json.load(sys.stdin)["tree_size"])'; }
status_json() { "$M" --output json status >"$T/status.json" || fail "status failed"; }
sget() { jget "$T/status.json" "$1"; }   # sget PY_EXPR over the last status_json
cluster_serial() { "$M" --output json cluster show "$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["intermediate_serial"])'; }
cert_field() {  # cert_field SERIAL FIELD [DATA_DIR]: a field of `certs list` for SERIAL
  MESHTRUST_DATA_DIR="${3:-$MESHTRUST_DATA_DIR}" "$M" --output json certs list | python3 -c '
import json, sys
c = [c for c in json.load(sys.stdin) if c["serial"] == sys.argv[1]]
print(c[0][sys.argv[2]] if c else "MISSING")' "$1" "$2"
}
# pem_nth FILE N OUT: the Nth PEM block of FILE; pem_count FILE
pem_nth() { local w; w=$(mktemp -d "$T/split.XXXXXX"); _ic_split "$1" "$w" b >/dev/null; cp "$w/b.$2.pem" "$3"; rm -rf "$w"; }
pem_count() { grep -c -- '-----BEGIN CERTIFICATE-----' "$1" || true; }
cert_serial() { openssl x509 -in "$1" -noout -serial | cut -d= -f2 | norm; }
# is_substring A B: the bytes of file A occur in file B (Istio <= 1.29 multi-root rule)
is_substring() { python3 -c 'import sys; sys.exit(0 if open(sys.argv[1],"rb").read() in open(sys.argv[2],"rb").read() else 1)' "$1" "$2"; }
# wl_verify ROOT_FILE WORKLOAD_DIR: what a peer does with the workload's chain
wl_verify() {
  local out
  out=$(openssl verify -x509_strict -CAfile "$1" -untrusted "$2/workload-cert-chain.pem" "$2/workload-cert.pem" 2>&1) || true
  [[ "$out" == *": OK" ]]
}
rc=0
# run_rc VAR CMD...: runs CMD with stdout in $T/out and stderr in $T/err; its exit status in VAR
run_rc() { local __v="$1"; shift; set +e; "$@" >"$T/out" 2>"$T/err"; printf -v "$__v" '%s' "$?"; set -e; }
one_error_line() {  # one_error_line WHAT: stderr ($T/err) is exactly one "error: " line
  [[ $(grep -c . "$T/err") -eq 1 ]] && grep -q '^error: ' "$T/err" || fail "$1: stderr is not one 'error:' line: $(cat "$T/err")"
}

# landed TAG: reads each cluster's pushed cacerts Secret (kubectl, else the fake's object dump)
# into $T/landed/TAG/C/, checks it is meshtrust's and passes istiod_check, and that root-cert.pem
# is byte-identical across clusters.
landed() {
  local tag="$1" c d out
  for c in "${CLUSTERS[@]}"; do
    d="$T/landed/$tag/$c"
    mkdir -p "$d"
    if (( HAVE_KUBECTL )); then
      fk_kubectl "$T/kc/$c.yaml" get secret cacerts -n istio-system -o json >"$d.json" 2>"$T/kubectl.err" \
        || fail "$tag: kubectl get secret cacerts on $c: $(cat "$T/kubectl.err")"
    else
      fk GET "/_control/objects?cluster=$c" >"$d.json"
    fi
    python3 - "$d.json" "$d" <<'EOF' || fail "$tag: the Secret read from $c is not meshtrust's"
import base64, json, sys
s = json.load(open(sys.argv[1]))
if "items" in s:
    s = [o for o in s["items"] if o["kind"] == "Secret" and o["metadata"]["name"] == "cacerts"][0]
assert s["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "meshtrust", s["metadata"]
for k, v in s["data"].items():
    open(sys.argv[2] + "/" + k, "wb").write(base64.b64decode(v))
open(sys.argv[2] + ".serial", "w").write(s["metadata"]["annotations"]["meshtrust.io/intermediate-serial"])
EOF
    [[ "$(cat "$d.serial")" == "$(cluster_serial "$c")" ]] || fail "$tag: $c runs $(cat "$d.serial"), meshtrust has $(cluster_serial "$c")"
    out=$(istiod_check "$d") || fail "$tag: the bundle pushed to $c fails istiod's checks: $out"
  done
  for c in "${CLUSTERS[@]}"; do
    cmp -s "$T/landed/$tag/c1/root-cert.pem" "$T/landed/$tag/$c/root-cert.pem" || fail "$tag: root-cert.pem of $c differs from c1's"
  done
}
# sign_in TAG: "istiod" in every cluster signs a workload with the key it was pushed at TAG
sign_in() {
  local c out
  for c in "${CLUSTERS[@]}"; do
    out=$(istiod_sign_workload "$T/landed/$1/$c" "$T/isw/$1/$c") || fail "$1: istiod in $c cannot sign with its pushed bundle: $out"
  done
}
# cross TAG WANT WORKLOAD_DIR...: every workload verifies (WANT=ok) or fails (WANT=fail) against
# every cluster's root-cert.pem at TAG.
cross() {
  local tag="$1" want="$2" c w n=0
  shift 2
  for w in "$@"; do
    for c in "${CLUSTERS[@]}"; do
      if wl_verify "$T/landed/$tag/$c/root-cert.pem" "$w"; then
        [[ $want == ok ]] || fail "$tag: workload ${w#"$T"/} still verifies against $c's bundle"
      else
        [[ $want == fail ]] || fail "$tag: workload ${w#"$T"/} does not verify against $c's bundle: $(openssl verify -x509_strict -CAfile "$T/landed/$tag/$c/root-cert.pem" -untrusted "$w/workload-cert-chain.pem" "$w/workload-cert.pem" 2>&1 | grep -m1 error)"
      fi
      n=$((n + 1))
    done
  done
  CROSS_N=$((${CROSS_N:-0} + n))
}
# workloads KIND: meshtrust issues a workload cert in each cluster into $T/wl/KIND-C
workloads() {
  local c
  for c in "${CLUSTERS[@]}"; do
    "$M" workload "ns-$1" --cluster "$c" --out "$T/wl/$1-$c" >/dev/null 2>"$T/err" || fail "workload in $c: $(cat "$T/err")"
    out=$(workload_check "$T/wl/$1-$c") || fail "workload output of $c: $out"
  done
}

# ---- fake API server, three clusters, each with a kubeconfig ---------------------------------
cat >"$T/clusters.json" <<'EOF'
{"clusters": [
  {"name": "c1", "prefix": "/clusters/c1", "tokens": {"tok-c1": "admin"}, "namespaces": ["istio-system"]},
  {"name": "c2", "prefix": "/clusters/c2", "tokens": {"tok-c2": "admin"}, "namespaces": ["istio-system"]},
  {"name": "c3", "prefix": "/clusters/c3", "tokens": {"tok-c3": "admin"}, "namespaces": ["istio-system"]}
]}
EOF
fk_start "$T/fake" "$T/clusters.json"
mkdir -p "$T/kc" "$T/wl"
"$M" init >/dev/null 2>&1 || fail "init failed"
for c in "${CLUSTERS[@]}"; do
  fk_kubeconfig "$T/kc/$c.yaml" "/clusters/$c" "token:tok-$c"
  "$M" cluster add "$c" --kubeconfig "$T/kc/$c.yaml" >/dev/null 2>"$T/err" || fail "cluster add $c: $(cat "$T/err")"
done
"$M" issue "${CLUSTERS[@]}" >/dev/null 2>&1 || fail "issue failed"
"$M" push --all >"$T/out" 2>"$T/err" || fail "push --all: $(cat "$T/out" "$T/err")"
status_json
OLD_ROOT=$(sget 'j["root"]["serial"]')
[[ $(sget 'j["trust"]') == "[\"$OLD_ROOT\"]" && $(sget 'j["root_rotation"]') == null ]] || fail "fresh status: trust $(sget 'j["trust"]')"
landed before
[[ $(pem_count "$T/landed/before/c1/root-cert.pem") -eq 1 ]] || fail "before: root-cert.pem does not hold one root"
[[ $(cert_serial "$T/landed/before/c1/root-cert.pem") == "$(norm <<<"$OLD_ROOT")" ]] || fail "before: the pushed root is not the root"
workloads old
sign_in before
cross before ok "$T"/wl/old-* "$T"/isw/before/*
ok "before: 3 pushed bundles pass istiod_check with one identical root; old workloads verify everywhere"

# ---- 2a. a rotation aborted from trust-both --------------------------------------------------
run_rc rc "$M" root rotate start --cn "Root CA aborted" --workload-ttl 0.002
[[ $rc -eq 0 ]] || fail "root rotate start (to be aborted): exit $rc: $(cat "$T/err")"
grep -q "pushed 3 cluster(s)" "$T/out" || fail "start did not push the 3 clusters: $(cat "$T/out")"
status_json
ABORTED_ROOT=$(sget 'j["trust"][1]')
[[ $(sget 'j["root_rotation"]') == trust-both && $(sget 'len(j["trust"])') == 2 ]] || fail "after start: $(cat "$T/status.json")"
run_rc rc "$M" root rotate start --cn "Root CA twice"
[[ $rc -eq 1 ]] && grep -q "already in progress" "$T/err" || fail "a second start during a rotation: exit $rc: $(cat "$T/err")"
landed aborted-trust-both
[[ $(pem_count "$T/landed/aborted-trust-both/c1/root-cert.pem") -eq 2 ]] || fail "trust-both: root-cert.pem does not hold two roots"
cross aborted-trust-both ok "$T"/wl/old-*
run_rc rc "$M" root rotate abort
[[ $rc -eq 0 ]] || fail "root rotate abort from trust-both: exit $rc: $(cat "$T/err")"
grep -q "pushed 3 cluster(s)" "$T/out" || fail "abort did not push the 3 clusters: $(cat "$T/out")"
status_json
[[ $(sget 'j["trust"]') == "[\"$OLD_ROOT\"]" && $(sget 'j["root_rotation"]') == null && $(sget 'j["root"]["serial"]') == "$OLD_ROOT" ]] \
  || fail "after abort: trust $(sget 'j["trust"]'), rotation $(sget 'j["root_rotation"]')"
[[ $(cert_field "$ABORTED_ROOT" status) == superseded ]] || fail "the aborted root is $(cert_field "$ABORTED_ROOT" status), want superseded (archived)"
landed after-abort
for c in "${CLUSTERS[@]}"; do
  cmp -s "$T/landed/before/$c/root-cert.pem" "$T/landed/after-abort/$c/root-cert.pem" || fail "after abort: $c's root-cert.pem is not the one-root file again"
  cmp -s "$T/landed/before/$c/ca-cert.pem" "$T/landed/after-abort/$c/ca-cert.pem" || fail "after abort: $c's intermediate changed"
done
cross after-abort ok "$T"/wl/old-*
run_rc rc "$M" root rotate abort
[[ $rc -eq 1 ]] && grep -q "no root rotation" "$T/err" || fail "abort without a rotation: exit $rc: $(cat "$T/err")"
ok "abort from trust-both: one root again, bundles pushed back byte-identical, aborted root archived"

# ---- 2b/1. the full rotation; start without pushing: advance refused until in sync -----------
run_rc rc "$M" root rotate start --workload-ttl 0.002 --no-push
[[ $rc -eq 0 ]] || fail "second root rotate start (after the abort): exit $rc: $(cat "$T/err")"
status_json
NEW_ROOT=$(sget 'j["trust"][1]')
[[ $(sget 'j["trust"][0]') == "$OLD_ROOT" && $NEW_ROOT != "$ABORTED_ROOT" && $(sget 'j["root_rotation"]') == trust-both ]] \
  || fail "second start: trust $(sget 'j["trust"]')"
[[ $(sget '",".join(c["delivery"] for c in j["clusters"])') == drifted,drifted,drifted ]] \
  || fail "after start --no-push the clusters are not drifted: $(sget '[c["delivery"] for c in j["clusters"]]')"
ts=$(tree_size)
run_rc rc "$M" root rotate advance
[[ $rc -eq 1 ]] || fail "advance while no cluster has the two-root bundle: exit $rc, want 1"
one_error_line "advance while not in sync"
grep -q "in sync" "$T/err" && grep -qw c1 "$T/err" && grep -qw c2 "$T/err" && grep -qw c3 "$T/err" \
  || fail "the refused advance does not name the clusters out of sync: $(cat "$T/err")"
[[ $(tree_size) == "$ts" ]] || fail "a refused advance wrote to the audit log"
"$M" push c1 c3 >/dev/null 2>&1 || fail "push c1 c3"
ts=$(tree_size)
run_rc rc "$M" root rotate advance
[[ $rc -eq 1 ]] || fail "advance while c2 lacks the two-root bundle: exit $rc, want 1"
one_error_line "advance while c2 is not in sync"
grep -qw c2 "$T/err" && ! grep -qw c1 "$T/err" && ! grep -qw c3 "$T/err" || fail "the refusal should name c2 only: $(cat "$T/err")"
[[ $(tree_size) == "$ts" ]] || fail "a refused advance wrote to the audit log"
"$M" --output json root rotate status >"$T/rs.json" || fail "root rotate status"
[[ $(jget "$T/rs.json" 'j["phase"]') == trust-both ]] && jget "$T/rs.json" 'j["blockers"]' | grep -qw c2 \
  || fail "root rotate status does not show the c2 blocker: $(cat "$T/rs.json")"
ok "advance refused, naming exactly the clusters not in sync, nothing recorded"

"$M" push --all >"$T/out" 2>&1 || fail "push --all at trust-both: $(cat "$T/out")"
landed trust-both
TB="$T/landed/trust-both"
[[ $(pem_count "$TB/c1/root-cert.pem") -eq 2 ]] || fail "trust-both: root-cert.pem holds $(pem_count "$TB/c1/root-cert.pem") certs"
pem_nth "$TB/c1/root-cert.pem" 2 "$T/new-root.pem"
pem_nth "$TB/c1/root-cert.pem" 1 "$T/old-root.pem"
[[ $(cert_serial "$T/old-root.pem") == "$(norm <<<"$OLD_ROOT")" && $(cert_serial "$T/new-root.pem") == "$(norm <<<"$NEW_ROOT")" ]] \
  || fail "trust-both: root-cert.pem is not old root then new root"
is_substring "$T/landed/before/c1/root-cert.pem" "$TB/c1/root-cert.pem" || fail "trust-both: the old root-cert.pem is not a byte-substring of the new"
for c in "${CLUSTERS[@]}"; do
  cmp -s "$T/landed/before/$c/ca-cert.pem" "$TB/$c/ca-cert.pem" || fail "trust-both: $c's intermediate changed before advance"
done
sign_in trust-both
cross trust-both ok "$T"/wl/old-* "$T"/isw/before/* "$T"/isw/trust-both/*
ok "trust-both: pushed bundles trust old+new (identical bytes, old first), intermediates unchanged, old workloads verify"

run_rc rc "$M" root rotate advance
[[ $rc -eq 0 ]] || fail "advance at trust-both, everything in sync: exit $rc: $(cat "$T/err")"
grep -q "pushed 3 cluster(s)" "$T/out" || fail "advance did not push the 3 clusters: $(cat "$T/out")"
# At once (the workload TTL is 7 s): dropping the old root is refused.
run_rc rc "$M" root rotate advance
[[ $rc -eq 1 ]] || fail "advance before the workload TTL elapsed: exit $rc, want 1 ($(cat "$T/out"))"
one_error_line "advance before the workload TTL"
grep -q "workload" "$T/err" || fail "the early advance does not say it waits for workload certificates: $(cat "$T/err")"
status_json
[[ $(sget 'j["root_rotation"]') == new-intermediates && $(sget 'j["root"]["serial"]') == "$NEW_ROOT" && $(sget 'len(j["trust"])') == 2 ]] \
  || fail "after the reissue: rotation $(sget 'j["root_rotation"]'), signing root $(sget 'j["root"]["serial"]')"
[[ $(sget '",".join(c["delivery"] for c in j["clusters"])') == in-sync,in-sync,in-sync ]] || fail "after the reissue not all in sync"
for c in "${CLUSTERS[@]}"; do
  old=$(cat "$T/landed/before/$c.serial")
  [[ $(cert_field "$old" status) == superseded ]] || fail "$c's old-root intermediate is $(cert_field "$old" status), want superseded"
  [[ $(cert_field "$(cluster_serial "$c")" issuer_serial) == "$NEW_ROOT" ]] || fail "$c's intermediate is not under the new root"
done
landed new-intermediates
NI="$T/landed/new-intermediates"
for c in "${CLUSTERS[@]}"; do
  cmp -s "$TB/$c/root-cert.pem" "$NI/$c/root-cert.pem" || fail "new-intermediates: $c's root-cert.pem changed (must still be old+new)"
  ! cmp -s "$TB/$c/ca-cert.pem" "$NI/$c/ca-cert.pem" || fail "new-intermediates: $c still runs its old intermediate"
  pem_nth "$NI/$c/cert-chain.pem" 2 "$T/chain-root.pem"
  cmp -s "$T/chain-root.pem" "$T/new-root.pem" || fail "new-intermediates: $c's cert-chain.pem does not end in the new root"
  openssl verify -x509_strict -partial_chain -CAfile "$T/new-root.pem" "$NI/$c/ca-cert.pem" >/dev/null 2>&1 \
    || fail "new-intermediates: $c's ca-cert.pem is not issued by the new root"
done
workloads new
sign_in new-intermediates
# Both roots are trusted everywhere: old and new workloads verify against every bundle of both
# phases (clusters take the new intermediates one after another: no window where two cannot talk).
cross new-intermediates ok "$T"/wl/old-* "$T"/isw/before/* "$T"/isw/trust-both/* "$T"/wl/new-* "$T"/isw/new-intermediates/*
cross trust-both ok "$T"/wl/new-* "$T"/isw/new-intermediates/*
ok "new-intermediates: pushed bundles run intermediates under the new root, still trust both; every workload verifies everywhere"

# c3's last push fails (403 on reading its Secret): dropping the old root must wait for c3 too.
fk POST /_control/faults '{"cluster": "c3", "method": "GET", "path": "/api/v1/namespaces/istio-system/secrets/cacerts", "status": 403, "count": 1}' >/dev/null
run_rc rc "$M" push c3
[[ $rc -eq 1 ]] || fail "push c3 with a 403 fault: exit $rc, want 1 ($(cat "$T/out"))"
for i in $(seq 1 60); do
  "$M" --output json root rotate status >"$T/rs.json"
  jget "$T/rs.json" 'j["blockers"]' | grep -q workload || break
  sleep 0.5
done
jget "$T/rs.json" 'j["blockers"]' | grep -q workload && fail "the workload TTL (7 s) never elapsed: $(cat "$T/rs.json")"
ts=$(tree_size)
run_rc rc "$M" root rotate advance
[[ $rc -eq 1 ]] || fail "dropping the old root while c3's last push failed: exit $rc, want 1 ($(cat "$T/out"))"
one_error_line "advance while c3 is failing"
grep -qw c3 "$T/err" && ! grep -qw c1 "$T/err" && ! grep -qw c2 "$T/err" && ! grep -q workload "$T/err" \
  || fail "the refusal to drop the old root should name c3 only: $(cat "$T/err")"
[[ $(tree_size) == "$ts" ]] || fail "a refused advance wrote to the audit log"
fk DELETE /_control/faults >/dev/null
"$M" push c3 >/dev/null 2>&1 || fail "push c3 after clearing the fault"
run_rc rc "$M" root rotate advance
[[ $rc -eq 0 ]] || fail "advance after the workload TTL: exit $rc: $(cat "$T/err")"
grep -q "root rotation complete" "$T/out" && grep -q "pushed 3 cluster(s)" "$T/out" || fail "completion output: $(cat "$T/out")"
status_json
[[ $(sget 'j["trust"]') == "[\"$NEW_ROOT\"]" && $(sget 'j["root_rotation"]') == null && $(sget 'j["root"]["serial"]') == "$NEW_ROOT" ]] \
  || fail "after completion: trust $(sget 'j["trust"]'), rotation $(sget 'j["root_rotation"]')"
[[ $(cert_field "$OLD_ROOT" status) == superseded ]] || fail "the old root is $(cert_field "$OLD_ROOT" status), want superseded (archived)"
landed final
FI="$T/landed/final"
[[ $(pem_count "$FI/c1/root-cert.pem") -eq 1 ]] && cmp -s "$FI/c1/root-cert.pem" "$T/new-root.pem" || fail "final: root-cert.pem is not the new root alone"
is_substring "$FI/c1/root-cert.pem" "$NI/c1/root-cert.pem" || fail "final: the new root-cert.pem is not a byte-substring of the two-root one"
for c in "${CLUSTERS[@]}"; do cmp -s "$NI/$c/ca-cert.pem" "$FI/$c/ca-cert.pem" || fail "final: $c's intermediate changed when the old root was dropped"; done
sign_in final
cross final ok "$T"/wl/new-* "$T"/isw/new-intermediates/* "$T"/isw/final/*
cross new-intermediates ok "$T"/isw/final/*
cross final fail "$T"/wl/old-* "$T"/isw/before/*   # the oracle can fail: the old root is gone
"$M" audit verify >/dev/null 2>"$T/err" || fail "audit verify after the root rotation: $(cat "$T/err")"
ok "root rotation complete: only the new root is pushed, new workloads verify, old ones no longer ($CROSS_N cross-cluster verifications)"

# ---- 4. intermediate rotation without outage -----------------------------------------------
S1=$(cluster_serial c1)
run_rc rc "$M" --output json rotate c1
[[ $rc -eq 0 ]] || fail "rotate c1: exit $rc: $(cat "$T/err")"
S1N=$(jget "$T/out" 'j["rotated"][0]["serial"]')
[[ $S1N != "$S1" && $(cluster_serial c1) == "$S1N" ]] || fail "rotate c1 did not install a new intermediate"
[[ $(cert_field "$S1" status) == superseded ]] || fail "c1's previous intermediate is $(cert_field "$S1" status), want superseded (not revoked)"
[[ $(cert_field "$S1N" issuer_serial) == "$NEW_ROOT" && $(cert_field "$S1N" status) == active ]] || fail "c1's new intermediate is not active under the root"
"$M" push --all >"$T/out" 2>&1 || fail "push after rotate c1: $(cat "$T/out")"
grep -q "^c1: replaced" "$T/out" && grep -q "^c2: unchanged" "$T/out" || fail "push after rotate c1: $(cat "$T/out")"
landed rot-c1
RC1="$T/landed/rot-c1"
cmp -s "$FI/c1/root-cert.pem" "$RC1/c1/root-cert.pem" || fail "rotate c1 changed root-cert.pem"
[[ $(cert_serial "$RC1/c1/ca-cert.pem") == "$(norm <<<"$S1N")" ]] || fail "c1's pushed intermediate is not the new one"
# The workload cert signed by c1's previous intermediate (its chain carries that intermediate)
# still verifies against c1's new bundle, and every other cluster's.
cross rot-c1 ok "$T"/wl/new-c1 "$T"/isw/final/c1
sign_in rot-c1
cross rot-c1 ok "$T"/isw/rot-c1/*
ts=$(tree_size)
run_rc rc "$M" rotate --due
[[ $rc -eq 0 ]] && grep -q "nothing to rotate" "$T/out" || fail "rotate --due with nothing due: exit $rc: $(cat "$T/out" "$T/err")"
[[ $(tree_size) == "$ts" && $(cluster_serial c1) == "$S1N" ]] || fail "rotate --due with nothing due changed something"
ok "rotate c1: old intermediate superseded, its workloads verify against the new bundle; rotate --due rotates nothing"

# ---- 5. revocation and CRLs --------------------------------------------------------------------
S2=$(cluster_serial c2)
run_rc rc "$M" revoke "$S2" --reason keyCompromise
[[ $rc -eq 0 ]] || fail "revoke c2's intermediate: exit $rc: $(cat "$T/err")"
cp "$FI/c1/root-cert.pem" "$T/root.pem"
"$M" crl >"$T/crl.pem" 2>"$T/err" || fail "meshtrust crl: $(cat "$T/err")"
openssl crl -in "$T/crl.pem" -CAfile "$T/root.pem" -verify -noout 2>&1 | grep -q "verify OK" || fail "the CRL does not verify against the root"
openssl crl -in "$T/crl.pem" -noout -text >"$T/crl.txt"
S2U=$(tr 'a-f' 'A-F' <<<"$S2" | sed 's/^0*//')
grep -A5 -E "Serial Number: 0*$S2U\$" "$T/crl.txt" | grep -q "Key Compromise" || fail "the CRL does not list $S2U as Key Compromise: $(cat "$T/crl.txt")"
"$M" crl --format der --out "$T/crl-cli.der" 2>"$T/err" || fail "meshtrust crl --format der --out: $(cat "$T/err")"
openssl crl -inform DER -in "$T/crl-cli.der" -CAfile "$T/root.pem" -verify -noout 2>&1 | grep -q "verify OK" || fail "crl --format der does not verify"
status_json
[[ $(sget '[c for c in j["clusters"] if c["name"] == "c2"][0]["rotation_due"]') == true \
   && $(sget '[c for c in j["clusters"] if c["name"] == "c2"][0]["status"]') == revoked ]] || fail "status does not flag c2 as revoked and due"
sget '[c for c in j["clusters"] if c["name"] == "c2"][0]["due_reason"]' | grep -q revoked || fail "c2's due_reason does not say revoked"
[[ $(sget '[c["rotation_due"] for c in j["clusters"] if c["name"] != "c2"]') == "[false, false]" ]] || fail "a cluster other than c2 is due"
"$M" status >"$T/out" 2>&1 || fail "status (text)"
grep -E "^c2 .*REVOKED.*DUE" "$T/out" >/dev/null || fail "the status table does not flag c2: $(cat "$T/out")"
ok "revoke keyCompromise: meshtrust crl verifies and lists it; status flags c2 (REVOKED, due)"

# REST: the anonymous CRL, revoke by admin only, status.
ADMIN=$("$M" token create --role admin --name alice 2>/dev/null)
AUDITOR=$("$M" token create --role auditor --name carol 2>/dev/null)
# shellcheck disable=SC2034  # read by lib/rest_common.sh
REST_CA="$T/root.pem" REST_BODY="$T/body" REST_HDRS="$T/hdrs"
rest_start "$MESHTRUST_DATA_DIR" "$T/serve.log" --reconcile-interval 0
REST_TOKEN="" req GET /v1/crl
[[ $CODE == 200 && $CTYPE == application/pkix-crl* ]] || fail "GET /v1/crl: $CODE $CTYPE"
cp "$REST_BODY" "$T/crl.der"
openssl crl -inform DER -in "$T/crl.der" -CAfile "$T/root.pem" -verify -noout 2>&1 | grep -q "verify OK" || fail "GET /v1/crl (DER) does not verify"
openssl crl -inform DER -in "$T/crl.der" -noout -text | grep -qE "Serial Number: 0*$S2U\$" || fail "GET /v1/crl does not list c2's intermediate"
cmp -s "$T/crl.der" "$T/crl-cli.der" || fail "GET /v1/crl and meshtrust crl --format der differ (no revocation in between)"
REST_TOKEN="" req GET "/v1/crl?format=pem"
[[ $CODE == 200 ]] && openssl crl -in "$REST_BODY" -CAfile "$T/root.pem" -verify -noout 2>&1 | grep -q "verify OK" || fail "GET /v1/crl?format=pem: $CODE"
REST_TOKEN="" req GET "/v1/crl?format=bogus"
[[ $CODE == 400 || $CODE == 422 ]] && problem_ok "$REST_BODY" "$CODE" "$CTYPE" >/dev/null || fail "GET /v1/crl?format=bogus: $CODE"
REST_TOKEN="$AUDITOR" req GET /v1/status
[[ $CODE == 200 && $(jget "$REST_BODY" '[c for c in j["clusters"] if c["name"] == "c2"][0]["rotation_due"]') == true ]] \
  || fail "GET /v1/status does not flag c2: $CODE $(head -c 300 "$REST_BODY")"
"$M" --output json workload ns-rev --cluster c3 --out "$T/wl/rev" >"$T/out" 2>/dev/null || fail "workload ns-rev"
WS=$(jget "$T/out" 'j["serial"]')
ts=$(tree_size)
REST_TOKEN="$AUDITOR" req POST "/v1/certificates/$WS/revoke" -H 'Content-Type: application/json' -d '{"reason": "superseded"}'
[[ $CODE == 403 ]] || fail "an auditor may revoke: $CODE"
REST_TOKEN="" req POST "/v1/certificates/$WS/revoke" -H 'Content-Type: application/json' -d '{"reason": "superseded"}'
[[ $CODE == 401 ]] || fail "an anonymous revoke: $CODE"
REST_TOKEN="$ADMIN" req POST "/v1/certificates/$WS/revoke" -H 'Content-Type: application/json' -d '{"reason": "bogus"}'
[[ $CODE == 400 || $CODE == 422 ]] && problem_ok "$REST_BODY" "$CODE" "$CTYPE" >/dev/null || fail "REST revoke with a bad reason: $CODE $(cat "$REST_BODY")"
[[ $(cert_field "$WS" status) == active ]] || fail "a refused REST revoke changed the certificate"
REST_TOKEN="$ADMIN" req POST "/v1/certificates/$WS/revoke" -H 'Content-Type: application/json' -d '{"reason": "superseded"}'
[[ $CODE == 200 && $(jget "$REST_BODY" 'j["reason"]') == superseded ]] || fail "REST revoke by admin: $CODE $(cat "$REST_BODY")"
[[ $(cert_field "$WS" status) == revoked ]] || fail "the REST-revoked workload cert is $(cert_field "$WS" status)"
rest_stop
ok "REST: anonymous GET /v1/crl (DER and PEM) verifies, lists the revocation; revoke is admin-only; /v1/status flags c2"

# bundle-crl on: every bundle carries ca-crl.pem (root CRL + the intermediate's own).
"$M" config set bundle-crl on >/dev/null 2>"$T/err" || fail "config set bundle-crl on: $(cat "$T/err")"
"$M" config list | grep -q "^bundle-crl = on" || fail "config list does not show bundle-crl = on"
"$M" --output json workload ns-kebab --cluster c1 --out "$T/wl/kebab" >"$T/out" 2>/dev/null || fail "workload ns-kebab"
WK=$(jget "$T/out" 'j["serial"]')
"$M" --output json revoke "$WK" --reason key-compromise >"$T/out" 2>"$T/err" || fail "revoke with --reason key-compromise: $(cat "$T/err")"
[[ $(jget "$T/out" 'j["reason"]') == keyCompromise ]] || fail "kebab reason stored as $(jget "$T/out" 'j["reason"]')"
"$M" push --all >"$T/out" 2>&1 || fail "push with bundle-crl on: $(cat "$T/out")"
landed crl
for c in "${CLUSTERS[@]}"; do [[ -s "$T/landed/crl/$c/ca-crl.pem" ]] || fail "bundle-crl on: $c's pushed Secret has no ca-crl.pem"; done
crl_listing() {  # crl_listing BUNDLE_DIR ISSUER_CERT OUT: the -text of the CRL in ca-crl.pem that ISSUER signed
  local w k; w=$(mktemp -d "$T/crls.XXXXXX")
  _ic_split "$1/ca-crl.pem" "$w" crl >/dev/null
  : >"$3"
  for k in "$w"/crl.*.pem; do
    if openssl crl -in "$k" -CAfile "$2" -noout 2>&1 | grep -q "verify OK"; then openssl crl -in "$k" -noout -text >"$3"; fi
  done
  rm -rf "$w"
  [[ -s "$3" ]]
}
WSU=$(tr 'a-f' 'A-F' <<<"$WS" | sed 's/^0*//'); WKU=$(tr 'a-f' 'A-F' <<<"$WK" | sed 's/^0*//')
crl_listing "$T/landed/crl/c3" "$T/landed/crl/c3/ca-cert.pem" "$T/c3crl.txt" || fail "c3's ca-crl.pem holds no CRL signed by its intermediate"
grep -A5 -E "Serial Number: 0*$WSU\$" "$T/c3crl.txt" | grep -q Superseded || fail "c3's intermediate CRL does not list workload $WSU as superseded: $(cat "$T/c3crl.txt")"
crl_listing "$T/landed/crl/c1" "$T/landed/crl/c1/ca-cert.pem" "$T/c1crl.txt" || fail "c1's ca-crl.pem holds no CRL signed by its intermediate"
grep -A5 -E "Serial Number: 0*$WKU\$" "$T/c1crl.txt" | grep -q "Key Compromise" || fail "c1's intermediate CRL does not list $WKU as Key Compromise"
crl_listing "$T/landed/crl/c2" "$T/root.pem" "$T/rootcrl.txt" || fail "c2's ca-crl.pem holds no CRL signed by the root"
grep -qE "Serial Number: 0*$S2U\$" "$T/rootcrl.txt" || fail "the root CRL in the bundle does not list c2's revoked intermediate"
"$M" export c3 --out "$T/export-crl" >/dev/null 2>&1 || fail "export c3 with bundle-crl on"
[[ -s "$T/export-crl/c3/ca-crl.pem" ]] || fail "the exported c3 bundle has no ca-crl.pem"
out=$(istiod_check "$T/export-crl/c3") || fail "the exported c3 bundle with ca-crl.pem fails istiod_check: $out"
ok "bundle-crl on: pushed and exported bundles carry ca-crl.pem and pass istiod_check (L5); CRLs list the revoked workloads (superseded, key-compromise)"

# Bad input: one error line, exit 1, no audit event, nothing changed.
"$M" --output json workload ns-bad --cluster c3 --out "$T/wl/bad" >"$T/out" 2>/dev/null || fail "workload ns-bad"
WB=$(jget "$T/out" 'j["serial"]')
"$M" --output json certs list >"$T/certs.before"
ts=$(tree_size)
bad_revoke() {  # bad_revoke WHY EXPECTED_TEXT ARGS...
  local why="$1" expect="$2"
  shift 2
  run_rc rc "$M" revoke "$@"
  [[ $rc -eq 1 ]] || fail "revoke with $why: exit $rc, want 1 ($(cat "$T/err"))"
  one_error_line "revoke with $why"
  grep -qi -- "$expect" "$T/err" || fail "revoke with $why: '$(cat "$T/err")' does not say '$expect'"
  [[ $(tree_size) == "$ts" ]] || fail "revoke with $why wrote to the audit log"
  "$M" --output json certs list | cmp -s - "$T/certs.before" || fail "revoke with $why changed the certificates"
}
bad_revoke "an unknown reason" "keyCompromise.*superseded" "$WB" --reason bogus
bad_revoke "an unknown reason (accepted list)" "cessationOfOperation" "$WB" --reason keycompromised
bad_revoke "removeFromCRL" "removeFromCRL" "$WB" --reason removeFromCRL
bad_revoke "an unknown serial" "0123456789abcdef0123456789abcdef" 0123456789abcdef0123456789abcdef --reason keyCompromise
bad_revoke "the root's serial" "root" "$NEW_ROOT" --reason keyCompromise
bad_revoke "the archived old root's serial" "root" "$OLD_ROOT" --reason keyCompromise
bad_revoke "a serial revoked before" "already revoked" "$WS" --reason superseded
bad_revoke "a serial revoked before (other reason)" "already revoked" "$S2" --reason keyCompromise
bad_revoke "a malformed serial" "serial" "zz-not-hex" --reason keyCompromise
bad_revoke "an over-long serial" "serial" "$(printf 'a%.0s' $(seq 1 200))" --reason keyCompromise
ok "bad revocations (reason, unknown/root/revoked/malformed serial) exit 1 with one error line; audit tree_size unchanged"

# rotate --due rotates the revoked c2, and only it.
run_rc rc "$M" --output json rotate --due
[[ $rc -eq 0 ]] || fail "rotate --due: exit $rc: $(cat "$T/err")"
[[ $(jget "$T/out" '[r["cluster"] for r in j["rotated"]]') == '["c2"]' ]] || fail "rotate --due rotated $(jget "$T/out" '[r["cluster"] for r in j["rotated"]]'), want c2"
status_json
[[ $(sget '[c["rotation_due"] for c in j["clusters"]]') == "[false, false, false]" && $(sget '[c for c in j["clusters"] if c["name"] == "c2"][0]["status"]') == active ]] \
  || fail "after rotate --due: $(sget '[(c["name"], c["status"], c["due_reason"]) for c in j["clusters"]]')"
[[ $(cert_field "$S2" status) == revoked ]] || fail "the revoked intermediate became $(cert_field "$S2" status)"
"$M" push --all >"$T/out" 2>&1 || fail "push after rotate --due: $(cat "$T/out")"
landed after-due
[[ $(cert_serial "$T/landed/after-due/c2/ca-cert.pem") == "$(norm <<<"$(cluster_serial c2)")" ]] || fail "c2's pushed intermediate is not the new one"
[[ -s "$T/landed/after-due/c2/ca-crl.pem" ]] || fail "c2's new bundle lacks ca-crl.pem (bundle-crl on)"
ok "rotate --due replaced the revoked c2 intermediate only; status clear; pushed bundle passes istiod_check"

# ---- 6. expiry monitoring --------------------------------------------------------------------
run_rc rc "$M" status --expiring-within 400
[[ $rc -eq 1 ]] || fail "status --expiring-within 400: exit $rc, want 1"
one_error_line "status --expiring-within 400"
grep -qw c1 "$T/err" && grep -qw c2 "$T/err" && grep -qw c3 "$T/err" && ! grep -q root "$T/err" \
  || fail "status --expiring-within 400 should name c1, c2, c3 (not the root): $(cat "$T/err")"
run_rc rc "$M" --output json status --expiring-within 400
[[ $rc -eq 1 && $(jget "$T/out" 'sorted(j["expiring"])') == '["c1", "c2", "c3"]' ]] || fail "status --output json --expiring-within 400: $rc $(cat "$T/out")"
run_rc rc "$M" status --expiring-within 30
[[ $rc -eq 0 ]] || fail "status --expiring-within 30: exit $rc ($(cat "$T/err"))"
run_rc rc "$M" status --expiring-within 4000
[[ $rc -eq 1 ]] && grep -q "root $NEW_ROOT" "$T/err" || fail "status --expiring-within 4000 does not name the root: $(cat "$T/err")"
"$M" rotate c3 --days 20 >/dev/null 2>"$T/err" || fail "rotate c3 --days 20: $(cat "$T/err")"
run_rc rc "$M" status --expiring-within 30
[[ $rc -eq 1 ]] && grep -qw c3 "$T/err" && ! grep -qw c1 "$T/err" && ! grep -qw c2 "$T/err" \
  || fail "with c3's intermediate ending in 20 days, --expiring-within 30 should name c3 only: $rc $(cat "$T/err")"
run_rc rc "$M" status --expiring-within 10
[[ $rc -eq 0 ]] || fail "status --expiring-within 10 with a 20-day intermediate: exit $rc ($(cat "$T/err"))"
"$M" audit verify >/dev/null 2>"$T/err" || fail "audit verify at the end: $(cat "$T/err")"
ok "status --expiring-within: 400 -> exit 1 naming c1, c2, c3; 30 -> 0 (then 1 naming only a 20-day c3); 4000 names the root"
fk_stop

# ---- 3. SIGKILL at random points of the re-issue, then resume -----------------------------------
KD="$T/kill"
K() { MESHTRUST_DATA_DIR="$KD" "$M" "$@"; }
K init --profile makefile >/dev/null 2>&1 || fail "init --profile makefile"
KN=(); for i in $(seq 1 8); do KN+=("k$i"); K cluster add "k$i" >/dev/null || fail "cluster add k$i"; done
t0=$(date +%s%N)
K issue "${KN[@]}" >/dev/null 2>&1 || fail "issue of the 8 makefile clusters"
ISSUE_MS=$(( ($(date +%s%N) - t0) / 1000000 ))
K root rotate start --no-push >/dev/null 2>"$T/err" || fail "root rotate start (makefile): $(cat "$T/err")"
K --output json root rotate status --ignore-unmanaged >"$T/rs.json"
K_OLD=$(jget "$T/rs.json" 'j["old_root"]'); K_NEW=$(jget "$T/rs.json" 'j["new_root"]')
kill_state() {  # kill_state ROUND: checks the data dir after a kill, prints "PHASE UNDER_NEW"
  K audit verify >/dev/null 2>"$T/err" || fail "kill round $1: audit verify: $(cat "$T/err")"
  K --output json root rotate status --ignore-unmanaged >"$T/rs.json" 2>"$T/err" || fail "kill round $1: root rotate status: $(cat "$T/err")"
  K root rotate status --ignore-unmanaged >/dev/null 2>&1 || fail "kill round $1: root rotate status (text) fails"
  K --output json cluster list >"$T/kcl.json"; K --output json certs list >"$T/kcerts.json"
  K --output json audit list --limit 1000 >"$T/kev.jsonl"
  K --output json status >"$T/kst.json" || fail "kill round $1: status fails"
  python3 - "$T/rs.json" "$T/kcl.json" "$T/kcerts.json" "$T/kev.jsonl" "$K_OLD" "$K_NEW" "$1" "$T/kst.json" <<'EOF' || fail "kill round $1: state inconsistent"
import json, sys
rs, clusters, certs = (json.load(open(f)) for f in sys.argv[1:4])
due = {c["name"]: c["rotation_due"] for c in json.load(open(sys.argv[8]))["clusters"]}
events = [json.loads(l) for l in open(sys.argv[4]) if l.strip()]
old, new, r = sys.argv[5], sys.argv[6], sys.argv[7]
phase = rs["phase"]
assert phase in ("trust-both", "reissuing", "new-intermediates"), f"round {r}: phase {phase}"
by = {c["serial"]: c for c in certs}
issued = {e["serial"] for e in events if e["action"] in ("intermediate.issue", "intermediate.rotate")}
inter = {s for s, c in by.items() if c["kind"] == "intermediate"}
assert inter == issued, f"round {r}: certificates and issue/rotate events disagree: {inter ^ issued}"
under_new = 0
for c in clusters:
    s = c["intermediate_serial"]
    assert s and s in by, f"round {r}: cluster {c['name']} has no intermediate ({s})"
    active = [x for x in certs if x["kind"] == "intermediate" and x["cluster"] == c["name"] and x["status"] == "active"]
    assert [x["serial"] for x in active] == [s], f"round {r}: {c['name']} active intermediates {[x['serial'] for x in active]}, current {s}"
    assert by[s]["issuer_serial"] in (old, new), f"round {r}: {c['name']} under {by[s]['issuer_serial']}"
    under_new += by[s]["issuer_serial"] == new
    if phase == "reissuing":  # what is still under the old root shows as due (and is what advance resumes)
        assert due[c["name"]] == (by[s]["issuer_serial"] != new), f"round {r}: {c['name']} due={due[c['name']]}"
if phase == "trust-both":
    assert under_new == 0, f"round {r}: trust-both with {under_new} intermediates under the new root"
    assert rs["signing_root"] == old
else:
    assert rs["signing_root"] == new, f"round {r}: signing root {rs['signing_root']} in {phase}"
if phase == "new-intermediates":
    assert under_new == len(clusters), f"round {r}: new-intermediates with only {under_new} under the new root"
print(phase, under_new)
EOF
}
killed=0; partial=0; round=0
kill_state 0 >"$T/ks"; read -r phase under <"$T/ks"
while [[ $phase != new-intermediates ]] && (( round < 6 )); do
  round=$((round + 1))
  left=$((8 - under))
  # somewhere inside the remaining re-issue work: unlock (scrypt) + up to ~70% of the keys left
  delay_ms=$(( 250 + RANDOM % (ISSUE_MS * left / 8 * 7 / 10 + 1) ))
  # the binary itself in the background (not the K function, whose subshell would be killed
  # instead, leaving meshtrust running)
  MESHTRUST_DATA_DIR="$KD" "$M" root rotate advance --ignore-unmanaged --no-push >/dev/null 2>&1 &
  BG_PID=$!
  sleep "$(awk -v m="$delay_ms" 'BEGIN { printf "%.3f", m / 1000 }')"
  if kill -KILL "$BG_PID" 2>/dev/null; then killed=$((killed + 1)); fi
  wait "$BG_PID" 2>/dev/null || true
  BG_PID=""
  kill_state "$round" >"$T/ks"; read -r phase under <"$T/ks"
  [[ $phase == reissuing ]] && (( under > 0 && under < 8 )) && partial=$((partial + 1))
  echo "  kill round $round after ${delay_ms} ms: phase $phase, $under/8 under the new root"
done
(( killed > 0 && partial > 0 )) || fail "no SIGKILL landed in the middle of the re-issue ($killed kills, $partial partial); the test proved nothing"
if [[ $phase != new-intermediates ]]; then
  K root rotate advance --ignore-unmanaged --no-push >/dev/null 2>"$T/err" || fail "advance after the kills: $(cat "$T/err")"
  kill_state final >"$T/ks"; read -r phase under <"$T/ks"
fi
[[ $phase == new-intermediates && $under -eq 8 ]] || fail "after resuming: phase $phase, $under/8 under the new root"
run_rc rc K root rotate advance --ignore-unmanaged --no-push
[[ $rc -eq 1 ]] && grep -q workload "$T/err" || fail "dropping the old root with the default 24 h workload TTL was not refused: $rc $(cat "$T/err")"
K export "${KN[@]}" --out "$T/kexp" >/dev/null 2>&1 || fail "export of the resumed clusters"
K_NEW_N=$(norm <<<"$K_NEW")
for c in "${KN[@]}"; do
  pem_nth "$T/kexp/$c/cert-chain.pem" 2 "$T/kroot.pem"
  [[ $(cert_serial "$T/kroot.pem") == "$K_NEW_N" ]] || fail "$c's intermediate is not issued by the new root"
  [[ "$(openssl x509 -in "$T/kexp/$c/ca-cert.pem" -noout -issuer)" == "issuer=$(openssl x509 -in "$T/kroot.pem" -noout -subject | sed 's/^subject=//')" ]] \
    || fail "$c's ca-cert.pem issuer is not the new root's subject"
  out=$(istiod_check "$T/kexp/$c") || fail "$c's bundle after the kills fails istiod_check: $out"
done
ok "SIGKILL of advance $killed times ($partial mid-reissue): audit verifies, status answers, every cluster keeps one intermediate; resumed to new-intermediates with all 8 under the new root"

echo "runtime: $(( $(date +%s) - START_S )) s"
echo "PASS test_rotation"
