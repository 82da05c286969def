#!/usr/bin/env bash
# LSQ W4A4 quantization-aware fine-tuning, qforge against PyTorch in the same run, from the same float
# weights: qforge trains recipes/qat/resnet20-lsq-w4a4.yaml from FLOAT_CKPT; the peer
# (bench/peers/pytorch_lsq_qat.py, torch._fake_quantize_learnable_per_tensor_affine) fine-tunes the ONNX
# export of the same checkpoint with the same placement, bit widths, initialization, gradient scale,
# optimizer, schedule and augmentation. Prints one markdown table row: float top-1, each side's test top-1
# after the last epoch, their difference (target: qforge >= PyTorch - 0.3) and each side's training seconds
# (evaluation excluded).
# Usage: bench/lsq_vs_pytorch.sh [path/to/qforge] [float checkpoint] [epochs] [out dir]
#   e.g. nice -n 5 bash bench/lsq_vs_pytorch.sh build/qforge runs/bench-resnet20/best.ckpt 2 runs/bench-lsq-peer
# Environment: LIMIT=N  first N training and N test images on both sides (a quick check of the script)
#              PEER_THREADS=T  the peer's torch threads (default 2, as qforge on a 2-core machine)
#              PYTHON  interpreter with torch, numpy and onnx (default /usr/bin/python3)
# Outputs in OUT: float.onnx, qforge/ (the qforge run; a killed run resumes), qforge.json, float.json,
# pytorch.json and pytorch.log (the peer's result is kept: delete pytorch.json to run the peer again).
set -euo pipefail
QF=${1:-build/qforge}
INIT=${2:-runs/bench-resnet20/best.ckpt}
EPOCHS=${3:-2}
OUT=${4:-runs/bench-lsq-peer}
PY=${PYTHON:-/usr/bin/python3}
mkdir -p "$OUT"
qargs=() pargs=() eargs=()
if [ -n "${LIMIT:-}" ]; then
  qargs=(data.subset="$LIMIT" data.test_subset="$LIMIT")
  pargs=(--limit "$LIMIT" --test-limit "$LIMIT")
  eargs=(--subset "$LIMIT")
fi
[ -s "$OUT/float.onnx" ] || "$QF" export "$INIT" --format onnx -o "$OUT/float.onnx" >&2
[ -s "$OUT/float.json" ] || "$QF" eval "$INIT" "${eargs[@]}" --json -q | tail -n 1 > "$OUT/float.json"
"$QF" train recipes/qat/resnet20-lsq-w4a4.yaml init="$INIT" train.epochs="$EPOCHS" "${qargs[@]}" \
  --out "$OUT/qforge" --resume --json | tail -n 1 > "$OUT/qforge.json"
if [ ! -s "$OUT/pytorch.json" ]; then
  "$PY" bench/peers/pytorch_lsq_qat.py "$OUT/float.onnx" --epochs "$EPOCHS" --threads "${PEER_THREADS:-2}" \
    "${pargs[@]}" 2> >(tee "$OUT/pytorch.log" >&2) | tail -n 1 > "$OUT/pytorch.json.tmp"
  mv "$OUT/pytorch.json.tmp" "$OUT/pytorch.json"
fi
"$PY" - "$OUT" "$EPOCHS" <<'EOF'
import json, sys
out, epochs = sys.argv[1], int(sys.argv[2])
last = lambda p: json.loads(open(p).read().strip().splitlines()[-1])
fl, qf, pt = last(f"{out}/float.json"), last(f"{out}/qforge.json"), last(f"{out}/pytorch.json")
# qforge's train_seconds counts only epochs trained by this invocation; a resumed run's are in metrics.jsonl
qs = sum(json.loads(l).get("train_seconds", 0) for l in open(f"{out}/qforge/metrics.jsonl") if l.strip()
         and json.loads(l).get("epoch", 0) <= epochs)
d = qf["test_top1"] - pt["lsq_top1"]
print("| epochs | float top-1 (qforge / PyTorch) | qforge LSQ W4A4 | PyTorch LSQ W4A4 | qforge - PyTorch | qforge train s | PyTorch train s |")
print("|---|---|---|---|---|---|---|")
print(f"| {epochs} | {fl['top1']:.2f}% / {pt['float_top1']:.2f}% | {qf['test_top1']:.2f}% | {pt['lsq_top1']:.2f}% | "
      f"{d:+.2f} ({'meets' if d >= -0.3 else 'misses'} >= -0.3) | {qs:.0f} | {pt['train_seconds']:.0f} |")
print(f"\nbest epoch: qforge {qf['best_top1']:.2f}%, PyTorch {pt['lsq_best_top1']:.2f}%; "
      f"test images {fl['count']} / {pt['test_images']}; PyTorch threads {pt['threads']}")
EOF
