#!/usr/bin/env bash
# Conformance: torchvision's ImageNet networks (random seeded weights, randomized BatchNorm statistics),
# exported to ONNX by Debian's PyTorch, imported and run by qforge; max |qforge - PyTorch| relative to
# the output's scale (target <= 1e-4). Needs python3-torchvision.
#   bash bench/torchvision_import.sh build/qforge OUT_DIR
set -uo pipefail
BIN=$1 OUT=$2
HERE="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/python3 "$HERE/../scripts/goldens/make_torchvision_models.py" "$OUT" --set full --batch 1 2>&1 | grep KiB
echo "| model | result | max abs error / max abs output |"
echo "|---|---|---|"
for f in "$OUT"/*.onnx; do
  m=$(basename "$f" .onnx)
  if err=$("$BIN" infer "$f" --input "$OUT/$m.input.npy" --output "$OUT/$m.qforge.npy" 2>&1 > /dev/null); then
    /usr/bin/python3 -c "
import numpy as np; a = np.load('$OUT/$m.qforge.npy'); b = np.load('$OUT/$m.output.npy')
r = abs(a - b).max() / abs(b).max(); print(f'| $m | {\"pass\" if r <= 1e-4 else \"FAIL\"} | {r:.1e} |')"
  else
    echo "| $m | import/run error | ${err//|/\\|} |"
  fi
done
