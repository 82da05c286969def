#!/usr/bin/env bash
# Accuracy of quantization-aware fine-tuning: each recipes/qat/resnet20-*.yaml run from the float
# ResNet-20 checkpoint, test top-1 beside the float baseline, one table row per run.
# Usage: bench/qat_resnet20.sh [path/to/qforge] [float checkpoint] [epochs] [recipe-stem[:overrides] ...]
#   e.g. bench/qat_resnet20.sh build/qforge runs/bench-resnet20/best.ckpt 3 lsq-w4a4 \
#          "lsq-w4a4:quantize.weights.bits=2 quantize.activations.bits=2" xnor-w1a1
# Outputs go to runs/bench-qat/<stem>-<hash of epochs and overrides>; a killed run resumes.
set -euo pipefail
QF=${1:-build/qforge}
INIT=${2:-runs/bench-resnet20/best.ckpt}
EPOCHS=${3:-10}
shift 3 || true
[ $# -gt 0 ] || set -- lsq-w4a4 lsq_plus-w4a4 dorefa-w4a4 pact-sawb-w4a4 qil-w4a4 lqnet-w3a3 bwn-hwgq-w1a2 xnor-w1a1 \
  bwn-w1 twn-w2 pow2-w4 proxquant-w2 uniform-w8a8
num() { [[ $2 =~ \"$1\":\ ?([0-9.eE+-]+) ]] && echo "${BASH_REMATCH[1]}"; }
float=$("$QF" eval "$INIT" --json | tail -n 1)
echo "| run | epochs | test top-1 | vs float |"
echo "|---|---|---|---|"
ft=$(num top1 "$float")
echo "| float ResNet-20 ($INIT) | - | $ft% | |"
for spec in "$@"; do
  stem=${spec%%:*}
  ov=""
  [[ $spec == *:* ]] && ov=${spec#*:}
  # One directory per (recipe, epochs, overrides): --resume must never continue a different run.
  out=runs/bench-qat/$stem-$(printf '%s|%s' "$EPOCHS" "$ov" | md5sum | cut -c1-8)
  # shellcheck disable=SC2086
  res=$("$QF" train "recipes/qat/resnet20-$stem.yaml" init="$INIT" train.epochs="$EPOCHS" $ov --out "$out" --resume --json | tail -n 1)
  t=$(num test_top1 "$res")
  awk -v n="$stem${ov:+ ($ov)}" -v e="$EPOCHS" -v t="$t" -v f="$ft" 'BEGIN { printf "| %s | %d | %.2f%% | %+.2f |\n", n, e, t, t - f }'
done
