#!/usr/bin/env bash
# Training-step speed: qforge's ResNet-20 step against the same step in PyTorch, in one run.
# Both: batch 128, 1x28x28 inputs, SGD nesterov, same thread count, median of 20 steps after 5 warm-up.
# Usage: bench/step_vs_pytorch.sh [path/to/qforge] [threads]
set -euo pipefail
QF=${1:-build/qforge}
THREADS=${2:-$(nproc)}
qf=$("$QF" bench step recipes/resnet20-fashion-mnist.yaml train.threads="$THREADS" --steps 20 --warmup 5 --json | tail -n 1)
pt=$(/usr/bin/python3 bench/peers/pytorch_step.py --threads "$THREADS" --batch 128 --steps 20 --warmup 5 | tail -n 1)
num() { [[ $2 =~ \"$1\":\ ?([0-9.eE+-]+) ]] && echo "${BASH_REMATCH[1]}"; }
q=$(num median_ms "$qf"); p=$(num median_ms "$pt")
echo "qforge:  $qf"
echo "pytorch: $pt"
awk -v q="$q" -v p="$p" -v t="$THREADS" 'BEGIN { printf "| ResNet-20 train step, batch 128, 1x28x28, %d threads | %.1f ms | %.1f ms | %.2fx |\n", t, q, p, q / p }'
