#!/usr/bin/env bash
# W8A8 PTQ of the float MobileNetV2 (Fashion-MNIST, recipes/mobilenetv2-fashion-mnist.yaml) on 512
# calibration images, with and without cross-layer equalization (--cle, and --cle with --bias-correction as the
# paper's data-free recipe), per-tensor and per-channel weights.
# CLE keeps each ReLU6 exact as ReLU + a per-channel clip (--cle-relu6 clip, the default); the rows with
# --cle-relu6 relu are the paper's replacement by ReLU, for comparison. Then the per-tensor CLE model's QDQ
# export in ONNX Runtime and in qforge's integer runtime against qforge's own evaluation.
#   bash bench/ptq_mobilenetv2.sh build/qforge runs/bench-mobilenetv2/best.ckpt runs/bench-ptq-mobilenetv2
# Prints markdown tables; raw JSON lines go to OUT/*.json, the quantized checkpoints to OUT/*.ckpt.
set -euo pipefail
BIN=$1 CKPT=$2 OUT=$3
HERE="$(cd "$(dirname "$0")" && pwd)"
mkdir -p "$OUT"

echo "| method | calibrator | top-1 float | top-1 quantized | delta | PTQ time (s) |"
echo "|---|---|---|---|---|---|"
run() {  # name, label, extra args
  "$BIN" ptq "$CKPT" --calib 512 --json -q -o "$OUT/$1.ckpt" "${@:3}" > "$OUT/$1.json"
  /usr/bin/python3 -c "
import json; j = json.load(open('$OUT/$1.json'))
print(f\"| qforge $2 | {j['calibrator']} | {j['float']['top1']:.2f} | {j['quantized']['top1']:.2f} | {j['quantized']['top1'] - j['float']['top1']:+.2f} | {j['ptq_seconds']:.2f} |\")"
}
run w8a8-tensor "W8A8 per-tensor"
run w8a8-tensor-cle "W8A8 per-tensor, CLE" --cle
run w8a8-tensor-cle-relu "W8A8 per-tensor, CLE with ReLU6 -> ReLU (paper)" --cle --cle-relu6 relu
run w8a8-tensor-cle-bc "W8A8 per-tensor, CLE + bias correction" --cle --bias-correction
run w8a8-channel "W8A8 per-channel" --per-channel
run w8a8-channel-cle "W8A8 per-channel, CLE" --per-channel --cle
# 4-bit weights: nearest rounding against AdaRound, whose loss holds the ReLU6 (Clip) after each layer.
run w4a8-channel "W4A8 per-channel, min/max weights" --per-channel --weights 4
run w4a8-channel-adaround "W4A8 per-channel, AdaRound" --per-channel --weights 4 --adaround
# CLE's float cost alone: 16-bit activations leave only the weights' 8-bit error, so a gap between these rows is
# the rewrite of ReLU6 changing the network (docs/RESULTS.md).
run w8a16-channel "W8A16 per-channel" --per-channel --activations 16
run w8a16-channel-cle "W8A16 per-channel, CLE" --per-channel --activations 16 --cle
run w8a16-channel-cle-relu "W8A16 per-channel, CLE with ReLU6 -> ReLU (paper)" --per-channel --activations 16 --cle --cle-relu6 relu

echo
echo "| model | qforge top-1 | ONNX Runtime top-1 | identical | qforge runtime top-1 | identical |"
echo "|---|---|---|---|---|---|"
/usr/bin/python3 "$HERE/peers/fashion_mnist.py" "$OUT"
check() {  # name: OUT/name.ckpt exported as QDQ, run by ONNX Runtime and by `qforge run`
  "$BIN" export "$OUT/$1.ckpt" --format qdq -o "$OUT/$1-qdq.onnx" > /dev/null
  "$BIN" infer "$OUT/$1.ckpt" --input "$OUT/test_x.npy" --output "$OUT/$1-qforge.npy" > /dev/null
  node "$HERE/../tools/ort/run_ort.js" "$OUT/$1-qdq.onnx" "$OUT/test_x.npy" "$OUT/$1-ort.npy" --batch 500
  "$BIN" run "$OUT/$1-qdq.onnx" --input "$OUT/test_x.npy" --output "$OUT/$1-rt.npy" > /dev/null
  /usr/bin/python3 "$HERE/peers/compare_predictions.py" "$OUT/$1-qforge.npy" "$OUT/$1-ort.npy" "$OUT/test_y.npy" > "$OUT/$1-ort.json"
  /usr/bin/python3 "$HERE/peers/compare_predictions.py" "$OUT/$1-qforge.npy" "$OUT/$1-rt.npy" "$OUT/test_y.npy" > "$OUT/$1-rt.json"
  /usr/bin/python3 -c "
import json; o = json.load(open('$OUT/$1-ort.json')); r = json.load(open('$OUT/$1-rt.json'))
print(f\"| $1 | {o['qforge_top1']:.2f} | {o['peer_top1']:.2f} | {o['identical_predictions']:.2f}% | {r['peer_top1']:.2f} | {r['identical_predictions']:.2f}% |\")"
}
check w8a8-tensor-cle  # the per-channel clips: Min nodes in ONNX, qf.QChannelMin in the runtime
