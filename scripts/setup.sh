#!/usr/bin/env bash
# Installs qforge's build and run dependencies from Debian's packages (and ONNX Runtime from npm, for
# the QDQ checks). Idempotent: does nothing when everything is already installed.
set -euo pipefail
PACKAGES=(build-essential cmake ccache libtorch-dev libopenblas-dev libyaml-cpp-dev libspdlog-dev libcli11-dev
          nlohmann-json3-dev zlib1g-dev libstb-dev libgtest-dev libbenchmark-dev dataset-fashion-mnist
          libonnx-dev libonnx-testdata protobuf-compiler libprotobuf-dev)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
if [ ${#missing[@]} -ne 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# ONNX Runtime for the QDQ checks (tests and benchmarks): npm's onnxruntime-node, whose package
# carries its own CPU binaries, so --ignore-scripts skips nothing the CPU build needs.
ORT_DIR="$(cd "$(dirname "$0")/.." && pwd)/tools/ort"
if [ ! -f "$ORT_DIR/node_modules/onnxruntime-node/package.json" ]; then
  if ! command -v npm > /dev/null; then
    echo "setup: installing nodejs npm" >&2
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >&2
  fi
  echo "setup: npm ci --ignore-scripts in tools/ort (onnxruntime-node)" >&2
  (cd "$ORT_DIR" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
fi
