#!/usr/bin/env bash
# Low-bit models in qforge's integer runtime: the same network at int8, W4A4, W2A2 (and binary /
# ternary weights made from the W2A2 file by qforge-rt-synth-weights), as packed .qfp files:
#   1. file size against float32 and bits/32, with the overhead (scales, header);
#   2. median latency, batch 1 and 32, with the kernels the widths pick (auto), the ratio to the int8
#      model, and the same file on int8 kernels only (QFORGE_RT_LOWBIT=0) and low-bit everywhere (=all);
#   3. one large conv layer per kernel on one thread: MACs per cycle (qforge-rt-bench-lowbit).
#   bash bench/runtime_lowbit.sh FLOAT.onnx W8A8.onnx W4A4.onnx W2A2.onnx [RUNS] [THREADS]
# The QDQ files come from `qforge export CKPT --format qdq` of QAT runs, e.g.
#   qforge train recipes/resnet20-fashion-mnist.yaml train.epochs=1 data.subset=512 \
#     quantize.weights.method=lsq quantize.weights.bits=2 quantize.activations.method=lsq \
#     quantize.activations.bits=2 'quantize.keep_float=[first,last]' --out /tmp/w2
# Needs build-rt (cmake -S runtime -B build-rt && cmake --build build-rt).
set -euo pipefail
[ $# -ge 4 ] || { sed -n 2,13p "$0" >&2; exit 2; }
FLOAT=$1 W8=$2 W4=$3 W2=$4 RUNS=${5:-30} THREADS=${6:-2}
HERE="$(cd "$(dirname "$0")/.." && pwd)"
B="$HERE/build-rt"
for t in qforge-rt qforge-rt-synth-weights qforge-rt-bench-lowbit; do
  [ -x "$B/$t" ] || { echo "runtime_lowbit: $B/$t not found (cmake -S runtime -B build-rt && cmake --build build-rt)" >&2; exit 1; }
done
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT

"$B/qforge-rt-synth-weights" "$W2" "$TMP/bin.onnx" binary >/dev/null
"$B/qforge-rt-synth-weights" "$W2" "$TMP/ter.onnx" ternary >/dev/null
names=(int8 W4A4 W2A2 "binary W, A2" "ternary W, A2")
files=("$W8" "$W4" "$W2" "$TMP/bin.onnx" "$TMP/ter.onnx")
for i in "${!files[@]}"; do "$B/qforge-rt" pack "${files[$i]}" -o "$TMP/m$i.qfp"; done

size() { stat -c %s "$1"; }
echo "## Size ($(basename "$FLOAT") and its quantized versions; layers kept float count at 32 bits)"
echo
echo "| file | bytes | / float | integer-layer weights: bits per weight | overhead bytes (scales, zero points, biases + header) |"
echo "|---|---|---|---|---|"
fb=$(size "$FLOAT")
echo "| float .onnx | $fb | 1.000 | 32 | - |"
for i in "${!files[@]}"; do
  q="$TMP/m$i.qfp"
  "$B/qforge-rt" inspect "$q" >"$TMP/inspect$i.txt"
  python3 - "${names[$i]}" "$(size "$q")" "$fb" "$TMP/inspect$i.txt" <<'PY'
import re, sys
name, qb, fb, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
lines = open(path).read().splitlines()
qbits = [l.split()[2] for l in lines[1:] if l.split()[1].startswith(('QLinearConv', 'qf.'))]
m = re.search(r'overhead: (\d+) bytes \(([\d.]+)% of the file\): scales, zero points, (?:codebook levels, )?biases (\d+), header (\d+)', open(path).read())
print(f"| {name} .qfp | {qb} | {qb / fb:.3f} | {', '.join(sorted(set(qbits)))} | {m.group(3)} + {m.group(4)} ({m.group(2)}% of the file) |")
PY
done
echo

make_input() {  # batch, path: Fashion-MNIST test images, normalized as qforge does
  python3 - "$1" "$2" <<'PY'
import gzip, struct, sys
b = int(sys.argv[1])
raw = gzip.open('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz').read()[16:16 + b * 784]
vals = [((p / 255.0) - 0.2860) / 0.3530 for p in raw]
header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, 1, 28, 28), }" % b
header += ' ' * ((64 - (10 + len(header) + 1) % 64) % 64) + '\n'
with open(sys.argv[2], 'wb') as f:
    f.write(b'\x93NUMPY\x01\x00' + struct.pack('<H', len(header)) + header.encode('latin1'))
    f.write(struct.pack('<%df' % len(vals), *vals))
PY
}
median() {  # file, batch, [env]
  env ${3:-} QFORGE_RT_THREADS=$THREADS "$B/qforge-rt" run "$1" --input "$TMP/x$2.npy" --bench "$RUNS" --json 2>/dev/null |
    python3 -c "import json,sys; d=json.loads(sys.stdin.read().strip().splitlines()[-1]); print(d['median_ms'], ','.join(f'{k} x{v}' for k, v in d['kernels'].items()) or 'int8')"
}
echo "## Speed ($RUNS runs, $THREADS threads, median ms; the machine is shared, so ratios move between runs)"
echo
echo "| model | batch | kernels picked (auto) | ms | vs the int8 model | same file, int8 kernels only (ms) | same file, every layer low-bit (ms) |"
echo "|---|---|---|---|---|---|---|"
for b in 1 32; do
  make_input $b "$TMP/x$b.npy"
  base=""
  for i in "${!files[@]}"; do
    read -r ms kern < <(median "$TMP/m$i.qfp" $b)
    read -r ms8 _ < <(median "$TMP/m$i.qfp" $b QFORGE_RT_LOWBIT=0)
    read -r msall kall < <(median "$TMP/m$i.qfp" $b QFORGE_RT_LOWBIT=all)
    [ -n "$base" ] || base=$ms
    python3 -c "print(f'| ${names[$i]} | $b | $kern | {$ms:.3f} | {$base / $ms:.2f}x | {$ms8:.3f} | {$msall:.3f} ($kall) |')"
  done
done
echo
echo "## One large conv layer, one thread"
echo
"$B/qforge-rt-bench-lowbit" 128 128 28 28 20
