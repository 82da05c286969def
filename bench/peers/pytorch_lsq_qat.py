#!/usr/bin/python3
"""Peer for the LSQ W4A4 accuracy benchmark: the quantization-aware fine-tuning of
recipes/qat/resnet20-lsq-w4a4.yaml done in PyTorch (Debian python3-torch), from the very same float
weights (the ONNX file `qforge export CKPT --format onnx` writes, rebuilt by onnx_to_torch.py).

Matches qforge (src/quant/insert.cpp, src/quant/method_lsq.cpp, src/train/optimizer.cpp, src/data/):
  - LSQ (Esser et al. 2020) on the weight and on the input activation of every Conv / Gemm, one step per
    tensor, zero point fixed at 0, through torch._fake_quantize_learnable_per_tensor_affine;
    step initialized on the first training batch to 2 <|x|> / sqrt(Qp), gradient scaled by
    1 / sqrt(N * Qp) (N: weights of the layer, or activation features per example);
  - weights signed [-2^(b-1), 2^(b-1) - 1]; activations unsigned [0, 2^b - 1] when the input comes from a
    Relu / Clip(0, ...) (through pools, Flatten, Reshape, Identity), else signed (the image);
  - first and last layer (in graph order) at 8 bits, the others at --bits (4);
  - SGD lr 0.01, momentum 0.9, Nesterov, weight decay 1e-4 on tensors of rank > 1 only (no decay on
    BatchNorm, biases or the learned steps), per-step cosine to 0, no warmup, batch 128, last partial
    batch kept, plain cross-entropy; BatchNorm in training mode (momentum 0.1) throughout;
  - augmentation on the uint8 image: pad 2 px with 0, random crop back to 28x28, horizontal flip with
    p = 0.5; then (x / 255 - 0.2860) / 0.3530; evaluation unaugmented, batch 512, full 10k test set.
Prints one JSON line: {"float_top1", "lsq_top1", "lsq_best_top1", "epochs", "train_seconds", ...}, where
lsq_top1 is the test top-1 after the last epoch (qforge's test_top1) and train_seconds excludes
evaluation (as qforge's). Progress goes to stderr.
Usage: /usr/bin/python3 bench/peers/pytorch_lsq_qat.py FLOAT.onnx [--epochs 2] [--bits 4]
         [--first-last-bits 8] [--threads 2] [--limit N] [--test-limit N] [--seed 0]
"""
import argparse
import json
import math
import os
import sys
import time

import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import numpy_helper

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fashion_mnist  # noqa: E402
from onnx_to_torch import OnnxNet  # noqa: E402


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class LsqQuantizer(nn.Module):
    """LSQ fake quantizer on a [qmin, qmax] grid: learned step, zero point fixed at 0."""

    def __init__(self, bits, signed, weight):
        super().__init__()
        self.bits, self.signed, self.weight = bits, signed, weight
        self.qmin, self.qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("zero_point", torch.zeros(1))
        self.register_buffer("initialized", torch.zeros(()))

    def forward(self, x):
        if not self.initialized.item():  # the paper's initialization, on the first tensor seen: 2 <|x|> / sqrt(Qp)
            with torch.no_grad():
                self.scale.fill_(max(2.0 * x.detach().abs().mean().item() / math.sqrt(self.qmax), 1e-8))
                self.initialized.fill_(1)
        n = x.numel() if self.weight else x.numel() // x.shape[0]  # weights, or features per example
        g = 1.0 / math.sqrt(n * self.qmax)
        return torch._fake_quantize_learnable_per_tensor_affine(x, self.scale, self.zero_point, self.qmin, self.qmax, g)

    def extra_repr(self):
        return f"bits={self.bits}, {'signed' if self.signed else 'unsigned'}, {'weight' if self.weight else 'activation'}"


class QuantLayer(nn.Module):
    """A Conv2d or Linear whose weight and input go through LSQ."""

    def __init__(self, layer, wbits, abits, input_signed):
        super().__init__()
        self.layer = layer
        self.wq = LsqQuantizer(wbits, True, True)
        self.aq = LsqQuantizer(abits, input_signed, False)

    def forward(self, x):
        x = self.aq(x)
        w = self.wq(self.layer.weight)
        if isinstance(self.layer, nn.Conv2d):
            return self.layer._conv_forward(x, w, self.layer.bias)
        return F.linear(x, w, self.layer.bias)


def non_negative(producers, inits, value):
    """As qforge's insert.cpp: a value from Relu or Clip(min >= 0), through pools / Flatten / Reshape / Identity."""
    n = producers.get(value)
    if n is None:
        return False
    if n.op_type == "Relu":
        return True
    if n.op_type == "Clip":
        if len(n.input) > 1 and n.input[1] in inits:
            return float(numpy_helper.to_array(inits[n.input[1]]).reshape(-1)[0]) >= 0.0
        return False
    if n.op_type in ("MaxPool", "AveragePool", "GlobalAveragePool", "Flatten", "Reshape", "Identity"):
        return non_negative(producers, inits, n.input[0])
    return False


def quantize_lsq(net, onnx_path, bits, first_last_bits):
    """Wraps each Conv / Gemm of the OnnxNet (graph order) in LSQ; returns [(name, wbits, abits, signed)]."""
    g = onnx.load(onnx_path).graph
    inits = {t.name: t for t in g.initializer}
    producers = {o: n for n in g.node for o in n.output}
    layer_nodes = [(f"n{k}", n) for k, n in enumerate(g.node) if n.op_type in ("Conv", "Gemm")]
    report = []
    for i, (key, n) in enumerate(layer_nodes):
        b = first_last_bits if i in (0, len(layer_nodes) - 1) and first_last_bits > 0 else bits
        signed = not non_negative(producers, inits, n.input[0])
        net.layers[key] = QuantLayer(net.layers[key], b, b, signed)
        report.append((n.name, b, b, signed))
    return report


def augment(u8, gen, pad=2):
    """qforge's random_crop (pad with 0, window offset uniform in [-pad, pad]) and random_hflip, on uint8."""
    b, c, h, w = u8.shape
    padded = F.pad(u8, (pad, pad, pad, pad))
    off = torch.randint(0, 2 * pad + 1, (b, 2), generator=gen)
    cols = (off[:, 1:2] + torch.arange(w)).view(b, 1, 1, w).expand(b, c, h, w)
    idx_r = (off[:, 0:1] + torch.arange(h)).view(b, 1, h, 1).expand(b, c, h, w + 2 * pad)
    out = padded.gather(2, idx_r)
    out = out.gather(3, cols)
    flip = torch.rand(b, generator=gen) < 0.5
    out[flip] = out[flip].flip(3)
    return out


def normalize(u8):
    return ((u8.float() / 255.0) - fashion_mnist.MEAN) / fashion_mnist.STD


def evaluate(net, x_u8, y, batch=512):
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(y), batch):
            correct += (net(normalize(x_u8[i:i + batch])).argmax(1) == y[i:i + batch]).sum().item()
    net.train()
    return 100.0 * correct / len(y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("onnx")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--bits", type=int, default=4)
    ap.add_argument("--first-last-bits", type=int, default=8)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--weight-decay", type=float, default=1e-4)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="first N training images only (0: all 60k)")
    ap.add_argument("--test-limit", type=int, default=0, help="first N test images only (0: all 10k)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--log-every", type=int, default=50)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)

    xtr = torch.from_numpy(fashion_mnist.idx("train-images-idx3-ubyte.gz").copy())[:, None]
    ytr = torch.from_numpy(fashion_mnist.labels("train"))
    xte = torch.from_numpy(fashion_mnist.idx("t10k-images-idx3-ubyte.gz").copy())[:, None]
    yte = torch.from_numpy(fashion_mnist.labels("t10k"))
    if a.limit:
        xtr, ytr = xtr[:a.limit], ytr[:a.limit]
    if a.test_limit:
        xte, yte = xte[:a.test_limit], yte[:a.test_limit]

    net = OnnxNet(a.onnx).train()
    float_top1 = evaluate(net, xte, yte)
    log(f"float: test top-1 {float_top1:.2f}% on {len(yte)} images")
    for name, wb, ab, signed in quantize_lsq(net, a.onnx, a.bits, a.first_last_bits):
        log(f"quantize {name:<28} W{wb} A{ab} {'signed' if signed else 'unsigned'}")

    decay, no_decay, steps = [], [], []
    for name, p in net.named_parameters():
        if name.endswith(".scale"):
            steps.append(p)
        elif p.dim() > 1:
            decay.append(p)
        else:
            no_decay.append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": a.weight_decay},
                           {"params": no_decay, "weight_decay": 0.0},
                           {"params": steps, "weight_decay": 0.0}],
                          lr=a.lr, momentum=0.9, nesterov=True)
    steps_per_epoch = (len(ytr) + a.batch - 1) // a.batch  # qforge keeps the last partial batch
    total = max(1, a.epochs * steps_per_epoch)
    gen = torch.Generator().manual_seed(a.seed)
    step, train_seconds, top1, best = 0, 0.0, None, 0.0
    for epoch in range(a.epochs):
        net.train()
        t0 = time.perf_counter()
        order = torch.randperm(len(ytr), generator=gen)
        loss_sum, correct, seen = 0.0, 0, 0
        for k in range(steps_per_epoch):
            idx = order[k * a.batch:(k + 1) * a.batch]
            x = normalize(augment(xtr[idx], gen))
            y = ytr[idx]
            lr = 0.5 * a.lr * (1.0 + math.cos(math.pi * min(1.0, step / total)))  # qforge: cosine to min_lr 0, per step
            for grp in opt.param_groups:
                grp["lr"] = lr
            opt.zero_grad()
            logits = net(x)
            loss = F.cross_entropy(logits, y)
            loss.backward()
            opt.step()
            step += 1
            loss_sum += loss.item() * len(y)
            correct += (logits.detach().argmax(1) == y).sum().item()
            seen += len(y)
            if a.log_every and (k + 1) % a.log_every == 0:
                log(f"epoch {epoch + 1}/{a.epochs} step {k + 1}/{steps_per_epoch} loss {loss_sum / seen:.4f} "
                    f"top-1 {100.0 * correct / seen:.2f}% lr {lr:.5f} {time.perf_counter() - t0:.0f}s")
        dt = time.perf_counter() - t0
        train_seconds += dt
        top1 = evaluate(net, xte, yte)
        best = max(best, top1)
        log(f"epoch {epoch + 1}: train loss {loss_sum / seen:.4f} top-1 {100.0 * correct / seen:.2f}% ({dt:.0f}s), "
            f"test top-1 {top1:.2f}%")
    if top1 is None:
        top1 = best = evaluate(net, xte, yte)
    print(json.dumps({"peer": "pytorch " + torch.__version__ + f" lsq w{a.bits}a{a.bits}",
                      "float_top1": float_top1, "lsq_top1": top1, "lsq_best_top1": best, "epochs": a.epochs,
                      "train_seconds": train_seconds, "threads": a.threads, "train_images": len(ytr),
                      "test_images": len(yte)}), flush=True)


if __name__ == "__main__":
    main()
