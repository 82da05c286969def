#!/usr/bin/env bash
# W8A8 PTQ of the float MobileNetV2 (Fashion-MNIST, recipes/mobilenetv2-fashion-mnist.yaml) on 512
# calibration images, with and without cross-layer equalization (--cle, and --cle with --bias-correction as the
# paper's data-free recipe), per-tensor and per-channel weights.
#   bash bench/ptq_mobilenetv2.sh build/qforge runs/bench-mobilenetv2/best.ckpt runs/bench-ptq-mobilenetv2
# Prints a markdown table; raw JSON lines go to OUT/*.json, the quantized checkpoints to OUT/*.ckpt.
set -euo pipefail
BIN=$1 CKPT=$2 OUT=$3
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
run w8a8-tensor-cle-bc "W8A8 per-tensor, CLE + bias correction" --cle --bias-correction
run w8a8-channel "W8A8 per-channel" --per-channel
run w8a8-channel-cle "W8A8 per-channel, CLE" --per-channel --cle
# 4-bit weights: nearest rounding against AdaRound, whose loss holds the ReLU6 (Clip) after each layer.
run w4a8-channel "W4A8 per-channel, min/max weights" --per-channel --weights 4
run w4a8-channel-adaround "W4A8 per-channel, AdaRound" --per-channel --weights 4 --adaround
# CLE's float cost alone: 16-bit activations leave only the weights' 8-bit error, so a gap between these two rows is
# the ReLU6 -> ReLU replacement changing the network (docs/RESULTS.md).
run w8a16-channel "W8A16 per-channel" --per-channel --activations 16
run w8a16-channel-cle "W8A16 per-channel, CLE" --per-channel --activations 16 --cle
