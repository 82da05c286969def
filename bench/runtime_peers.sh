#!/usr/bin/env bash
# The integer runtime on ImageNet-size networks against its peers, one run: torchvision's ResNet-18 and
# MobileNetV2 (Debian's python3-torchvision, seeded random weights, randomized BatchNorm statistics, eval mode;
# speed does not depend on the weights) at 3x224x224, batch 1 and 32, all at the same thread count on the
# same input batch:
#   qforge-rt     build-rt/qforge-rt on the W8A8 QDQ file qforge made (qforge ptq, per-channel weights,
#                 minmax ranges on CALIB random structured images, then qforge export --format qdq); with
#                 ADDS=1 (the default) the residual Adds are quantized too (--quantize-adds), as the FX peer
#                 quantizes add_relu, so both int8 models keep an integer residual stream; ADDS=0: float residuals
#   ORT           ONNX Runtime (tools/ort/run_ort.js) on that same QDQ file
#   onednn        PyTorch FX post-training int8, onednn engine, on the same float model (bench/peers/pytorch_runtime.py)
#   float         PyTorch float on the same float model (libtorch's float kernels: the baseline)
# The engines take turns in ROUNDS (default 3) rounds, so drift in the machine's speed (large on the shared
# VM this was written on) favours none of them. Medians; ratios are qforge-rt / the faster int8 peer (< 1:
# qforge-rt is faster) and float / qforge-rt (the speed-up over float). Also checks that qforge-rt's and ORT's outputs on the QDQ file agree (max |diff|,
# top-1), so the timings compare working models.
#   bash bench/runtime_peers.sh [QFORGE] [WORK_DIR] [THREADS] [RUNS_B1,RUNS_B32] [CALIB]
# Defaults: build/qforge, /tmp/rt-peers, 2 threads, 30,5 runs, 32 calibration images; MODELS="resnet18 mobilenet_v2".
# A MODELS entry ckpt:PATH is a qforge float checkpoint of a Fashion-MNIST model (e.g. the ResNet-20 of
# bench/train_resnet20.sh) instead: exported to ONNX, quantized by qforge ptq on the first CALIB training images,
# timed on Fashion-MNIST test images (1x28x28), the same for every engine.
# Also prints per round the ratio against the faster peer of the same round with the machine's bare-loop rates
# then (qforge-rt-peak: on a shared VM the AMX and VNNI rates swing 2x as another tenant comes and goes on the
# core's sibling thread, and every engine here uses them), the table from each engine's fastest run (min), the
# outputs' agreement and the load average: on a
# loaded machine the OpenMP peers' medians (PyTorch) suffer most, since every layer waits for the slowest
# thread. About 3 minutes on 2 cores.
# Needs build-rt/qforge-rt and qforge-rt-peak, tools/ort/node_modules, python3-torch, python3-torchvision, python3-onnx.
source "$(dirname "$0")/peers/same_allocator.sh"
set -euo pipefail
HERE="$(cd "$(dirname "$0")/.." && pwd)"
BIN=${1:-$HERE/build/qforge} WORK=${2:-/tmp/rt-peers} THREADS=${3:-2} RUNS=${4:-30,5} CALIB=${5:-32}
MODELS=${MODELS:-resnet18 mobilenet_v2}
ADDS=${ADDS:-1}
ADDS_FLAG=() ADDS_KEY=false
[ "$ADDS" = 1 ] && ADDS_FLAG=(--quantize-adds) ADDS_KEY=true
# Where onednn cannot run a model (PyTorch 1.13's onednn fails on MobileNetV2 at batch > 1), the cell says "fails";
# FALLBACK=qnnpack times PyTorch's qnnpack engine there instead (slow on x86 and, on these random-weight
# networks, far from the float outputs: not a working peer, so not the default).
FALLBACK=${FALLBACK:-none}
RT="$HERE/build-rt/qforge-rt" PEAK="$HERE/build-rt/qforge-rt-peak"
PY=/usr/bin/python3
for t in "$RT" "$PEAK"; do
  [ -x "$t" ] || { echo "runtime_peers: $t not found (cmake -S runtime -B build-rt && cmake --build build-rt)" >&2; exit 1; }
done
[ -x "$BIN" ] || { echo "runtime_peers: $BIN not found" >&2; exit 1; }
RUNS1=${RUNS%,*} RUNS32=${RUNS#*,} ROUNDS=${ROUNDS:-3}
DATA="$WORK/data" FMNIST_DATA="$WORK/data-fashion-mnist"
mkdir -p "$DATA" "$FMNIST_DATA"

# Calibration and test images: low-frequency random colour fields plus noise (uint8, for qforge's npy dataset:
# DATA/{train,test}_{images,labels}.npy), the same calibration images normalized with ImageNet's statistics
# (as qforge normalizes an npy dataset) for PyTorch, and the timed input batches x1.npy, x32.npy.
"$PY" - "$DATA" "$CALIB" <<'PY'
import sys
import numpy as np
out, n = sys.argv[1], int(sys.argv[2])
rng = np.random.default_rng(0)
def images(k):
    fields = np.kron(rng.random((k, 3, 7, 7)), np.ones((32, 32)))
    return np.clip(255 * (0.7 * fields + 0.3 * rng.random((k, 3, 224, 224))), 0, 255).round().astype(np.uint8)
mean = np.array([0.485, 0.456, 0.406], np.float32)[:, None, None]
std = np.array([0.229, 0.224, 0.225], np.float32)[:, None, None]
norm = lambda u: ((u.astype(np.float32) / 255 - mean) / std).astype(np.float32)
train, test = images(n), images(8)
np.save(f"{out}/train_images.npy", train)
np.save(f"{out}/train_labels.npy", (np.arange(n) * 37 % 1000).astype(np.int64))
np.save(f"{out}/test_images.npy", test)
np.save(f"{out}/test_labels.npy", np.array([0, 1, 2, 3, 4, 5, 6, 999], np.int64))  # 1000 classes
np.save(f"{out}/calib.npy", norm(train))
for b in (1, 32):
    np.save(f"{out}/x{b}.npy", norm(images(b)))
PY

# Fashion-MNIST for ckpt: entries: calibration = the first CALIB training images, timed batches = test images,
# normalized as qforge normalizes the dataset.
"$PY" - "$FMNIST_DATA" "$CALIB" <<'PY'
import gzip, sys
import numpy as np
out, n = sys.argv[1], int(sys.argv[2])
def images(split, k):
    raw = gzip.open(f"/usr/share/datasets/fashion-mnist/{split}-images-idx3-ubyte.gz").read()[16:16 + 784 * k]
    u = np.frombuffer(raw, np.uint8).reshape(k, 1, 28, 28)
    return ((u.astype(np.float32) / 255 - 0.2860) / 0.3530).astype(np.float32)
np.save(f"{out}/calib.npy", images("train", n))
for b in (1, 32):
    np.save(f"{out}/x{b}.npy", images("t10k", b))
PY

json_field() { "$PY" -c "import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1])['$1'])"; }

echo "qforge-rt vs int8 and float peers: $THREADS threads, input [B,3,224,224] (ckpt: entries [B,1,28,28]), median of $RUNS1 (batch 1) / $RUNS32 (batch 32) runs, quantized residual Adds: $ADDS,"
echo "$CALIB calibration images, kernels: ${QFORGE_RT_ISA:-the best this CPU has}, torch $("$PY" -c 'import torch; print(torch.__version__)'),"
echo "load average at the start: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores)"
for ENTRY in $MODELS; do
  case $ENTRY in
    ckpt:*)
      CK=${ENTRY#ckpt:} M=$(basename "$(dirname "$CK")") D=$FMNIST_DATA
      F="$WORK/$M.onnx" Q="$WORK/$M.int8.onnx"
      "$BIN" export "$CK" --format onnx -o "$F" > /dev/null
      ptq_s=$("$BIN" ptq "$CK" --calib "$CALIB" --per-channel ${ADDS_FLAG[@]+"${ADDS_FLAG[@]}"} --no-eval --json -q --threads "$THREADS" -o "$WORK/$M.w8a8.ckpt" | json_field ptq_seconds)
      ;;
    *)
      M=$ENTRY D=$DATA
      F="$WORK/$M.onnx" Q="$WORK/$M.int8.onnx"
      "$PY" "$HERE/bench/peers/torchvision_onnx.py" "$M" "$F" 2>/dev/null
      cat > "$WORK/$M.ptq.yaml" <<YAML
model: {onnx: "$F", in_channels: 3, num_classes: 1000, input_size: [224, 224]}
data: {name: npy, root: "$DATA"}
ptq: {weights: 8, activations: 8, per_channel: true, calibrator: minmax, calib: $CALIB, quantize_adds: $ADDS_KEY}
YAML
      ptq_s=$("$BIN" ptq "$WORK/$M.ptq.yaml" --no-eval --json -q --threads "$THREADS" --batch-size 8 -o "$WORK/$M.w8a8.ckpt" | json_field ptq_seconds)
      ;;
  esac
  "$BIN" export "$WORK/$M.w8a8.ckpt" --format qdq -o "$Q" > /dev/null
  # The engines take turns in ROUNDS rounds (PyTorch, then qforge-rt and ORT at each batch size), each round
  # 1 / ROUNDS of the runs, so a drift of the machine's speed hits them alike. Per engine the median is the
  # median of its round medians, the min the min of its rounds.
  rm -f "$WORK/$M.mins" "$WORK/$M.notes" "$WORK/$M.pytorch.rounds" "$WORK/$M.peak.rounds" "$WORK"/"$M".rounds.*
  n1=$(( (RUNS1 + ROUNDS - 1) / ROUNDS )) n32=$(( (RUNS32 + ROUNDS - 1) / ROUNDS ))
  for _ in $(seq "$ROUNDS"); do
    "$PEAK" >> "$WORK/$M.peak.rounds"  # the machine's speed as the round starts
    "$PY" "$HERE/bench/peers/pytorch_runtime.py" "$F" --calib "$D/calib.npy" --input "$D/x1.npy" --input "$D/x32.npy" \
      --runs "$n1,$n32" --threads "$THREADS" --fallback-engine "$FALLBACK" >> "$WORK/$M.pytorch.rounds"
    for B in 1 32; do
      n=$n1; [ "$B" = 32 ] && n=$n32
      # stdbuf: the JSON line reaches the pipe even if the process dies at exit; a nonzero status is reported below the table
      rc=0
      rt=$(QFORGE_RT_THREADS=$THREADS stdbuf -oL "$RT" run "$Q" --input "$D/x$B.npy" --output "$WORK/$M.rt$B.npy" --bench "$n" --json \
           2> "$WORK/$M.rt$B.err" | tail -1) || rc=$?
      [ "$rc" = 0 ] || echo "qforge-rt exited with status $rc at batch $B after: $(grep -v '^qforge-rt: /' "$WORK/$M.rt$B.err" | head -2 | tr '\n' ' ')" >> "$WORK/$M.notes"
      case $rt in "{"*) ;; *) echo "runtime_peers: qforge-rt failed on $Q (status $rc): $(cat "$WORK/$M.rt$B.err")" >&2; exit 1 ;; esac
      echo "$rt" >> "$WORK/$M.rounds.rt$B"
      node "$HERE/tools/ort/run_ort.js" "$Q" "$D/x$B.npy" "$WORK/$M.ort$B.npy" --threads "$THREADS" --bench "$n" | tail -1 >> "$WORK/$M.rounds.ort$B"
    done
  done
  # Round results -> one line per engine (and per batch for PyTorch, other fields from its first round).
  "$PY" - "$WORK" "$M" <<'PY'
import json, statistics, sys
w, m = sys.argv[1], sys.argv[2]
def merge(rows):
    out = dict(rows[0])
    for k, v in rows[0].items():
        if k.endswith("_ms") and all(k in r for r in rows):
            vals = [r[k] for r in rows]
            out[k] = min(vals) if k.endswith("min_ms") else statistics.median(vals)
    return out
for b in (1, 32):
    for e in ("rt", "ort"):
        rows = [json.loads(l) for l in open(f"{w}/{m}.rounds.{e}{b}") if l.strip()]
        open(f"{w}/{m}.{e}{b}.json", "w").write(json.dumps(merge(rows)) + "\n")
peer = [json.loads(l) for l in open(f"{w}/{m}.pytorch.rounds") if l.strip()]
with open(f"{w}/{m}.pytorch.json", "w") as f:
    for b in (1, 32):
        f.write(json.dumps(merge([j for j in peer if j["batch"] == b])) + "\n")
PY
  echo
  echo "### $M (qforge ptq: $(printf %.1f "$ptq_s") s; $(wc -c < "$Q") bytes QDQ)"
  echo
  echo "| batch | qforge-rt (ms) | ORT (ms) | onednn (ms) | float (ms) | qforge-rt / best int8 peer | float / qforge-rt |"
  echo "|---|---|---|---|---|---|---|"
  for B in 1 32; do
    rt=$(cat "$WORK/$M.rt$B.json") ort=$(cat "$WORK/$M.ort$B.json")
    node "$HERE/tools/ort/run_ort.js" "$Q" "$D/x$B.npy" "$WORK/$M.ort$B.npy" --threads "$THREADS" > /dev/null  # the outputs
    "$PY" - "$WORK/$M.pytorch.json" "$B" "$rt" "$ort" "$WORK/$M.mins" <<'PY'
import json, sys
b, rt, ort = int(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
p = [j for j in map(json.loads, open(sys.argv[1])) if j["batch"] == b][0]
eng = p.get("int8_engine")
def row(stat):  # stat: "" (median) or "_min"
    r, o, f = rt[f"{stat[1:] or 'median'}_ms"], ort[f"{stat[1:] or 'median'}_ms"], p[f"float{stat}_ms"]
    q = p[f"int8{stat}_ms"] if eng else float("inf")
    cell = "fails" if eng is None else f"{q:.2f}" + ("" if eng == "onednn" else f" ({eng})")
    return f"| {b} | {r:.2f} | {o:.2f} | {cell} | {f:.2f} | {r / min(o, q):.2f} | {f / r:.2f} |"
print(row(""))
with open(sys.argv[5], "a") as f:
    f.write(row("_min") + "\n")
PY
  done
  "$PY" - "$WORK" "$M" <<'PY'
import json, statistics, sys
import numpy as np
w, m = sys.argv[1], sys.argv[2]
rt = np.concatenate([np.load(f"{w}/{m}.rt{b}.npy") for b in (1, 32)])
ort = np.concatenate([np.load(f"{w}/{m}.ort{b}.npy") for b in (1, 32)])
d = np.abs(rt - ort).max()
agree = int((rt.argmax(1) == ort.argmax(1)).sum())
peer = [json.loads(l) for l in open(f"{w}/{m}.pytorch.json")]
print("\nThe same with each engine's fastest run (min) instead of its median:\n")
print("| batch | qforge-rt (ms) | ORT (ms) | onednn (ms) | float (ms) | qforge-rt / best int8 peer | float / qforge-rt |")
print("|---|---|---|---|---|---|---|")
print(open(f"{w}/{m}.mins").read(), end="")
errors = {j["batch"]: j["int8_error"] for j in map(json.loads, open(f"{w}/{m}.pytorch.json")) if "int8_error" in j}
for b, e in errors.items():
    print(f"\nPyTorch int8 at batch {b}: {e}")
try:
    print("\nWARNING: " + "\nWARNING: ".join(open(f"{w}/{m}.notes").read().splitlines()))
except FileNotFoundError:
    pass
# Per round: qforge-rt against the faster int8 peer of the same round (minutes apart at most, so the
# machine's speed, which swings 2x on a shared VM, is closer to equal than across the whole run).
def lines(path):
    return [json.loads(l) for l in open(path) if l.strip()]
peak = lines(f"{w}/{m}.peak.rounds")
rounds = {(e, b): lines(f"{w}/{m}.rounds.{e}{b}") for e in ("rt", "ort") for b in (1, 32)}
prs = {b: [j for j in lines(f"{w}/{m}.pytorch.rounds") if j["batch"] == b] for b in (1, 32)}
print("\nPer round, qforge-rt / the faster int8 peer of that round (medians), and the bare loops as the round started "
      "(qforge-rt-peak, GMAC/s: tdpbsud / vpdpbusd):\n")
print("| round | batch 1 | batch 32 | tdpbsud | vpdpbusd |")
print("|---|---|---|---|---|")
paired = {1: [], 32: []}
for r in range(len(peak)):
    cells = []
    for b in (1, 32):
        p = prs[b][r]
        best = min(rounds["ort", b][r]["median_ms"], p["int8_ms"] if p.get("int8_engine") else float("inf"))
        paired[b].append(rounds["rt", b][r]["median_ms"] / best)
        cells.append(f"{paired[b][-1]:.2f}")
    print(f"| {r + 1} | {cells[0]} | {cells[1]} | {peak[r]['amx_gmacs']:.0f} | {peak[r]['vnni_gmacs']:.0f} |")
print(f"| median | {statistics.median(paired[1]):.2f} | {statistics.median(paired[32]):.2f} | | |")
print(f"\nqforge-rt vs ORT on the QDQ file ({len(rt)} images): max |diff| {d:.3g} (max |logit| {np.abs(ort).max():.3g}), "
      f"top-1 agrees on {agree}/{len(rt)}; PyTorch int8 vs PyTorch float, top-1 agreement: "
      + ", ".join(f"batch {j['batch']} {j['int8_top1_agrees_with_float']:.0%}, max |diff| {j['int8_max_abs_diff_vs_float']:.3g} ({j['int8_engine']})" if "int8_engine" in j
                  else f"batch {j['batch']} -" for j in peer))
PY
  echo
  echo "load average after $M: $(cut -d' ' -f1-3 /proc/loadavg)"
done
