#!/usr/bin/python3
"""Peer for `qforge bench step`: the same ResNet-20 training step in PyTorch (Debian python3-torch).

Same network as qforge's zoo resnet20 (He et al. 2016 CIFAR ResNet, projection shortcuts: 1x1 conv + BN
where the shape changes), same batch, input size, optimizer (SGD momentum 0.9 nesterov, weight decay 5e-4
on conv/linear weights only), same thread count. Prints one JSON line: median step time in ms.
With --lsq BITS: LSQ quantization-aware training (Esser et al. 2020) as PyTorch users write it, with
torch._fake_quantize_learnable_per_tensor_affine on the weights and the input activation of every conv /
linear layer, first and last layers at 8 bits, gradient scale 1/sqrt(N * Qp) -- the configuration of
recipes/qat/resnet20-lsq-w4a4.yaml.
Usage: /usr/bin/python3 bench/peers/pytorch_step.py --threads 2 --batch 128 --steps 20 --warmup 5 [--lsq 4]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class LsqQuantizer(nn.Module):
    """LSQ fake quantizer: learned step (and zero point fixed at 0) on a [qmin, qmax] grid."""

    def __init__(self, bits, signed, weight):
        super().__init__()
        self.weight = weight
        self.qmin, self.qmax = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        self.scale = nn.Parameter(torch.ones(1))
        self.register_buffer("zero_point", torch.zeros(1))
        self.initialized = False

    def forward(self, x):
        if not self.initialized:  # the paper's initialization: 2 <|x|> / sqrt(Qp)
            with torch.no_grad():
                self.scale.fill_(2 * x.abs().mean().item() / self.qmax ** 0.5)
            self.initialized = True
        n = x.numel() if self.weight else x.numel() / x.shape[0]  # weights, or features per example
        g = 1.0 / (n * self.qmax) ** 0.5
        return torch._fake_quantize_learnable_per_tensor_affine(x, self.scale, self.zero_point, self.qmin, self.qmax, g)


def quantize_lsq(model, bits):
    """Wraps every conv / linear so its weight and input go through LSQ; first and last at 8 bits."""
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    for i, m in enumerate(layers):
        b = 8 if i in (0, len(layers) - 1) else bits
        m.wq = LsqQuantizer(b, True, True)
        m.aq = LsqQuantizer(b, i == 0, False)  # the image is signed; every other layer input follows a ReLU
        if isinstance(m, nn.Conv2d):
            m.forward = (lambda mod: lambda x: mod._conv_forward(mod.aq(x), mod.wq(mod.weight), mod.bias))(m)
        else:
            m.forward = (lambda mod: lambda x: F.linear(mod.aq(x), mod.wq(mod.weight), mod.bias))(m)


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = None
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return F.relu(y + (x if self.shortcut is None else self.shortcut(x)))


class ResNetCifar(nn.Module):
    def __init__(self, depth=20, in_channels=1, num_classes=10):
        super().__init__()
        n = (depth - 2) // 6
        self.conv1 = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        layers, cin = [], 16
        for cout, stride in ((16, 1), (32, 2), (64, 2)):
            for i in range(n):
                layers.append(BasicBlock(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = self.layers(x)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--size", type=int, default=28)
    ap.add_argument("--in-channels", type=int, default=1)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--lsq", type=int, default=0, help="LSQ QAT at this many bits (0: float)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = ResNetCifar(20, a.in_channels, 10).train()
    if a.lsq:
        quantize_lsq(model, a.lsq)
    decay = [p for p in model.parameters() if p.dim() > 1]
    no_decay = [p for p in model.parameters() if p.dim() <= 1]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4}, {"params": no_decay, "weight_decay": 0.0}],
                          lr=0.1, momentum=0.9, nesterov=True)
    x = torch.randn(a.batch, a.in_channels, a.size, a.size)
    y = torch.randint(0, 10, (a.batch,))
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
        if i >= a.warmup:
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(json.dumps({"peer": "pytorch " + torch.__version__ + (f" lsq w{a.lsq}a{a.lsq}" if a.lsq else ""), "threads": a.threads, "batch_size": a.batch,
                      "params": sum(p.numel() for p in model.parameters()),
                      "median_ms": times[len(times) // 2], "min_ms": times[0], "max_ms": times[-1]}))


if __name__ == "__main__":
    main()
