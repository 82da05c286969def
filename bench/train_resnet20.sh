#!/usr/bin/env bash
# Accuracy: trains the float ResNet-20 on Fashion-MNIST with recipes/resnet20-fashion-mnist.yaml
# (30 epochs) and prints the test top-1. Takes about 30-40 minutes on 2 cores.
# Usage: bench/train_resnet20.sh [path/to/qforge] [out dir] [overrides...]
set -euo pipefail
QF=${1:-build/qforge}
OUT=${2:-runs/bench-resnet20}
shift 2 || true
res=$("$QF" train recipes/resnet20-fashion-mnist.yaml "$@" --out "$OUT" --resume --json | tail -n 1)
echo "$res"
[[ $res =~ \"test_top1\":([0-9.]+) ]] && top1=${BASH_REMATCH[1]}
[[ $res =~ \"best_top1\":([0-9.]+) ]] && best=${BASH_REMATCH[1]}
[[ $res =~ \"epochs\":([0-9]+) ]] && ep=${BASH_REMATCH[1]}
echo "| ResNet-20, Fashion-MNIST, $ep epochs | final top-1 $top1% | best top-1 $best% |"
