#!/usr/bin/env bash
# Conformance: torchvision's ImageNet networks (random seeded weights, randomized BatchNorm statistics),
# exported to ONNX by Debian's PyTorch with a dynamic batch, imported and run by qforge; then qforge's
# own ONNX export of each imported graph run by ONNX Runtime. Errors are max |output - PyTorch| relative
# to the output's max |value| (target <= 1e-4). Needs python3-torchvision and tools/ort (scripts/setup.sh).
#   bash bench/torchvision_import.sh build/qforge OUT_DIR
set -uo pipefail
BIN=$1 OUT=$2
HERE="$(cd "$(dirname "$0")" && pwd)"
/usr/bin/python3 "$HERE/../scripts/goldens/make_torchvision_models.py" "$OUT" --set full --batch 1 2>&1 | grep KiB
rel_err() {  # got.npy want.npy -> "pass|FAIL err"
  /usr/bin/python3 -c "
import numpy as np; a = np.load('$1'); b = np.load('$2')
r = abs(a - b).max() / abs(b).max() if a.shape == b.shape else float('inf'); print(f'{\"pass\" if r <= 1e-4 else \"FAIL\"} {r:.1e}')"
}
echo "| model | qforge import vs PyTorch | qforge export in ONNX Runtime vs PyTorch |"
echo "|---|---|---|"
for f in "$OUT"/*.onnx; do
  m=$(basename "$f" .onnx)
  [[ $m == *.qforge ]] && continue
  if ! err=$("$BIN" infer "$f" --input "$OUT/$m.input.npy" --output "$OUT/$m.qforge.npy" 2>&1 > /dev/null); then
    echo "| $m | import/run error: ${err//|/\\|} | - |"
    continue
  fi
  imp=$(rel_err "$OUT/$m.qforge.npy" "$OUT/$m.output.npy")
  if err=$("$BIN" export "$f" --format onnx -o "$OUT/$m.qforge.onnx" 2>&1 > /dev/null) &&
     err=$(node "$HERE/../tools/ort/run_ort.js" "$OUT/$m.qforge.onnx" "$OUT/$m.input.npy" "$OUT/$m.ort.npy" 2>&1 > /dev/null); then
    ort=$(rel_err "$OUT/$m.ort.npy" "$OUT/$m.output.npy")
  else
    ort="export/ORT error: ${err//|/\\|}"
  fi
  echo "| $m | $imp | $ort |"
done
