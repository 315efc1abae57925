#!/usr/bin/env bash
# Installs the Debian packages meshtrust builds and tests with. Idempotent: packages
# already present are left alone, and nothing runs apt-get when all are there.
set -euo pipefail

BUILD_PACKAGES=(
  build-essential cmake pkg-config
  libssl-dev openssl
  libboost-dev
  libcpp-httplib-dev
  nlohmann-json3-dev
  libsqlite3-dev sqlite3
  libspdlog-dev
  doctest-dev
  libcli11-dev
  libyaml-cpp-dev
)
# Tools the test suite uses as independent oracles or drivers.
TEST_PACKAGES=(curl python3)

want=("${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--with-tests" ]]; then want+=("${TEST_PACKAGES[@]}"); fi
if [[ "${1:-}" == "--with-bench" ]]; then want+=("${TEST_PACKAGES[@]}" wrk nginx hyperfine); fi

missing=()
for pkg in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists; update before installing.
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
