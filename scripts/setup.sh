#!/usr/bin/env bash
# Installs qforge's build and run dependencies from Debian's packages. Idempotent: does nothing
# when everything is already installed.
set -euo pipefail
PACKAGES=(build-essential cmake ccache libtorch-dev libopenblas-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
          nlohmann-json3-dev zlib1g-dev libstb-dev libgtest-dev libbenchmark-dev dataset-fashion-mnist
          libonnx-dev libonnx-testdata protobuf-compiler libprotobuf-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "setup: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
