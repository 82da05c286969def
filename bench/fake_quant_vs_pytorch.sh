#!/usr/bin/env bash
# The fused fake-quant kernels alone: forward + backward on one activation tensor ([128,16,28,28], ResNet-20's
# first activations at batch 128, 4 bits unsigned), qforge (`qforge bench fakequant`) against PyTorch's ops
# (bench/peers/pytorch_fake_quant.py) in the same run, same thread count; medians of 50 after 5 warm-up.
# Usage: bench/fake_quant_vs_pytorch.sh [path/to/qforge] [threads]
set -euo pipefail
source "$(dirname "$0")/peers/same_allocator.sh"
QF=${1:-build/qforge}
THREADS=${2:-$(nproc)}
qf=$("$QF" bench fakequant --threads "$THREADS" --json | tail -n 1)
pt=$(/usr/bin/python3 "$(dirname "$0")/peers/pytorch_fake_quant.py" --threads "$THREADS" | tail -n 1)
echo "qforge: $qf"
echo "pytorch: $pt"
/usr/bin/python3 - "$qf" "$pt" "$THREADS" <<'PY'
import json, sys
q, p, t = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"| op (forward + backward, [128,16,28,28], 4 bits, {t} threads) | qforge ms | PyTorch ms | qforge / PyTorch |")
print("|---|---|---|---|")
names = {"affine": "fake_quant affine (torch.fake_quantize_per_tensor_affine)",
         "lsq": "LSQ (torch._fake_quantize_learnable_per_tensor_affine)",
         "pact": "PACT (PyTorch: composed in Python, no fused op)"}
for k, n in names.items():
    print(f"| {n} | {q[k + '_ms']:.3f} | {p[k + '_ms']:.3f} | {q[k + '_ms'] / p[k + '_ms']:.2f}x |")
PY
