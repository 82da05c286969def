#!/usr/bin/env bash
# The main job: train two networks on Fashion-MNIST and print what was trained and how well.
# Usage: scripts/demo.sh path/to/qforge   (make demo passes the built binary)
set -euo pipefail
QF=${1:-build/qforge}
OUT=${DEMO_OUT:-runs/demo}
rm -rf "$OUT"
mkdir -p "$OUT"
results=()
field() { [[ $json =~ \"$1\":([^,}]*) ]] && echo "${BASH_REMATCH[1]}"; }  # a number from the JSON line
run() {  # name recipe overrides...
  local name=$1 recipe=$2; shift 2
  echo "== $name: $QF train $recipe $* --out $OUT/$name" >&2
  local out
  out=$("$QF" train "$recipe" "$@" --out "$OUT/$name" --json | tail -n 1)
  results+=("$name|$out")
}
run lenet5 recipes/lenet5-fashion-mnist.yaml
# compress it: LSQ quantization-aware fine-tuning at 4-bit weights and activations (first/last at 8)
run lenet5-lsq-w4a4 recipes/qat/lenet5-lsq-w4a4.yaml init="$OUT/lenet5/best.ckpt"
run resnet20 recipes/resnet20-fashion-mnist.yaml train.epochs=1 train.schedule.warmup_epochs=0
echo
printf '%-16s %-14s %11s %7s %8s %8s %9s\n' model dataset parameters epochs "top-1 %" "top-5 %" "train s"
for r in "${results[@]}"; do
  name=${r%%|*}; json=${r#*|}
  printf '%-16s %-14s %11s %7s %8.2f %8.2f %9.1f\n' "$name" fashion-mnist "$(field parameters)" "$(field epochs)" \
    "$(field test_top1)" "$(field test_top5)" "$(field train_seconds)"
done
echo
echo "checkpoints and metrics.jsonl are under $OUT/; try: $QF inspect $OUT/lenet5-lsq-w4a4/best.ckpt"
