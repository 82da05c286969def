#!/usr/bin/env bash
# A/B timing of the integer runtime: two qforge-rt builds, or one build under two environment settings, run in
# alternating rounds on the same model and input, so a drift of the machine's speed (this project's VMs move by
# up to 2x within minutes) hits both alike. Prints each round's medians and, per round, A / B (> 1: B faster).
#   bash bench/runtime_ab.sh ROUNDS MODEL INPUT.npy BENCH_RUNS THREADS [ENV_A] [ENV_B]
#   BIN_A / BIN_B: the two qforge-rt binaries (default build-rt/qforge-rt for both)
# e.g.  bash bench/runtime_ab.sh 9 m.onnx x32.npy 20 2 QFORGE_RT_BATCH_PARTS=0 QFORGE_RT_BATCH_PARTS=1
#       BIN_A=/tmp/qforge-rt-old bash bench/runtime_ab.sh 7 m.onnx x32.npy 4 1
# Also checks that both wrote the same output bytes.
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
R=$1 M=$2 X=$3 N=$4 T=$5 A=${6:-QF_AB=a} B=${7:-QF_AB=b}
BIN_A=${BIN_A:-$HERE/build-rt/qforge-rt} BIN_B=${BIN_B:-$HERE/build-rt/qforge-rt}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
median() { grep -o 'median [0-9.]*' | cut -d' ' -f2; }
for _ in $(seq "$R"); do
  a=$(env "$A" QFORGE_RT_THREADS="$T" "$BIN_A" run "$M" --input "$X" --output "$OUT/a.npy" --bench "$N" 2>&1 | median)
  b=$(env "$B" QFORGE_RT_THREADS="$T" "$BIN_B" run "$M" --input "$X" --output "$OUT/b.npy" --bench "$N" 2>&1 | median)
  echo "$a $b"
done > "$OUT/rounds"
/usr/bin/python3 - "$OUT/rounds" <<'PY'
import statistics as st, sys
r = [tuple(map(float, l.split())) for l in open(sys.argv[1])]
a, b, q = [x for x, _ in r], [y for _, y in r], sorted(x / y for x, y in r)
print("A ms:", " ".join(f"{x:.2f}" for x in a))
print("B ms:", " ".join(f"{y:.2f}" for y in b))
print(f"median A {st.median(a):.3f} ms, B {st.median(b):.3f} ms; A / B per round: median {st.median(q):.3f} (min {q[0]:.3f}, max {q[-1]:.3f})")
PY
cmp -s "$OUT/a.npy" "$OUT/b.npy" && echo "outputs identical" || echo "outputs DIFFER"
