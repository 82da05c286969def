#!/usr/bin/env bash
# qforge's integer runtime (build-rt/qforge-rt) against ONNX Runtime (tools/ort/run_ort.js) on the very
# same QDQ file, same input batch, same thread count: median latency per batch size and the ratio.
#   bash bench/runtime_vs_ort.sh MODEL.onnx [C,H,W] [RUNS] [THREADS]
# Defaults: 1,28,28 (Fashion-MNIST), 50 runs, 2 threads. Inputs are Fashion-MNIST test images
# normalized as qforge does (repeated when C > 1). Prints a markdown table; needs build-rt/qforge-rt
# (cmake -S runtime -B build-rt) and tools/ort/node_modules (make test installs it).
set -euo pipefail
MODEL=$1 SHAPE=${2:-1,28,28} RUNS=${3:-50} THREADS=${4:-2}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
RT="$HERE/build-rt/qforge-rt"
[ -x "$RT" ] || { echo "runtime_vs_ort: $RT not found (cmake -S runtime -B build-rt && cmake --build build-rt)" >&2; exit 1; }
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

make_input() {  # batch, path
  python3 - "$1" "$SHAPE" "$2" <<'PY'
import gzip, struct, sys
b = int(sys.argv[1]); c, h, w = (int(v) for v in sys.argv[2].split(','))
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:]
vals = []
for i in range(b):
    img = raw[(i % 10000) * 784:(i % 10000 + 1) * 784]
    plane = [((img[(y * 28 // h) * 28 + (x * 28 // w)] / 255.0) - 0.2860) / 0.3530 for y in range(h) for x in range(w)]
    for _ in range(c):
        vals.extend(plane)
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d, %d), }" % (b, c, h, w)
header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
with open(sys.argv[3], 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1'))
    f.write(struct.pack('<%df' % len(vals), *vals))
PY
}

json_field() { python3 -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

echo "model: $MODEL, input [B,$SHAPE], $RUNS runs, $THREADS threads, kernels: ${QFORGE_RT_ISA:-the best this CPU has}"
echo
echo "| batch | qforge-rt median (ms) | ONNX Runtime median (ms) | qforge-rt / ORT |"
echo "|---|---|---|---|"
for B in 1 32; do
  make_input "$B" "$TMP/x$B.npy"
  rt=$(QFORGE_RT_THREADS=$THREADS "$RT" run "$MODEL" --input "$TMP/x$B.npy" --output "$TMP/y.npy" --bench "$RUNS" --json 2>/dev/null | json_field median_ms)
  ort=$(node "$HERE/tools/ort/run_ort.js" "$MODEL" "$TMP/x$B.npy" "$TMP/y_ort.npy" --threads "$THREADS" --bench "$RUNS" | json_field median_ms)
  python3 -c "print(f'| $B | {$rt:.3f} | {$ort:.3f} | {$rt / $ort:.2f} |')"
done
