#!/usr/bin/env bash
# Training-step speed: qforge's ResNet-20 step against the same step in PyTorch, in one run, for the
# float network and for LSQ W4A4 quantization-aware training (recipes/qat/resnet20-lsq-w4a4.yaml against
# PyTorch's fused learnable fake-quant op, bench/peers/pytorch_step.py --lsq 4).
# Both: batch 128, 1x28x28 inputs, SGD nesterov, same thread count, median of 20 steps after 5 warm-up.
# Usage: bench/step_vs_pytorch.sh [path/to/qforge] [threads]
set -euo pipefail
source "$(dirname "$0")/peers/same_allocator.sh"
QF=${1:-build/qforge}
THREADS=${2:-$(nproc)}
num() { [[ $2 =~ \"$1\":\ ?([0-9.eE+-]+) ]] && echo "${BASH_REMATCH[1]}"; }
qf_step() { "$QF" bench step "$1" train.threads="$THREADS" --steps 20 --warmup 5 --json | tail -n 1; }
pt_step() { /usr/bin/python3 bench/peers/pytorch_step.py --threads "$THREADS" --batch 128 --steps 20 --warmup 5 "$@" | tail -n 1; }

qf_float=$(qf_step recipes/resnet20-fashion-mnist.yaml)
pt_float=$(pt_step)
qf_lsq=$(qf_step recipes/qat/resnet20-lsq-w4a4.yaml)
pt_lsq=$(pt_step --lsq 4)
for v in qf_float pt_float qf_lsq pt_lsq; do echo "$v: ${!v}"; done
qff=$(num median_ms "$qf_float"); ptf=$(num median_ms "$pt_float"); qfl=$(num median_ms "$qf_lsq"); ptl=$(num median_ms "$pt_lsq")
echo "| step (batch 128, 1x28x28, $THREADS threads) | qforge | PyTorch | qforge / PyTorch |"
echo "|---|---|---|---|"
awk -v q="$qff" -v p="$ptf" 'BEGIN { printf "| ResNet-20 float | %.1f ms | %.1f ms | %.2fx |\n", q, p, q / p }'
awk -v q="$qfl" -v p="$ptl" 'BEGIN { printf "| ResNet-20 LSQ W4A4 | %.1f ms | %.1f ms | %.2fx |\n", q, p, q / p }'
awk -v q="$qfl" -v f="$qff" -v p="$ptl" -v pf="$ptf" 'BEGIN { printf "| LSQ step / float step | %.2fx | %.2fx | |\n", q / f, p / pf }'
