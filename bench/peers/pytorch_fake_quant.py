#!/usr/bin/python3
"""Peer for `qforge bench fakequant`: forward + backward of PyTorch's fake-quantization ops on one
activation tensor (Debian python3-torch), same shape, bits, data distribution and thread count:
- affine: torch.fake_quantize_per_tensor_affine (PyTorch's fused C++ op)
- lsq:    torch._fake_quantize_learnable_per_tensor_affine (PyTorch's fused C++ op, learned scale + zero point)
- pact:   PACT as Python users write it (no fused op exists): clamp to [0, alpha] with alpha's gradient,
          straight-through round.
Prints one JSON line with the median milliseconds of each.
Usage: /usr/bin/python3 bench/peers/pytorch_fake_quant.py --threads 2 --bits 4 --reps 50 --warmup 5
"""
import argparse
import json
import math
import time

import torch


def median_ms(x0, dy, warmup, reps, op):
    ms = []
    for i in range(warmup + reps):
        x = x0.detach().requires_grad_(True)
        t0 = time.perf_counter()
        op(x).backward(dy)
        t = (time.perf_counter() - t0) * 1e3
        if i >= warmup:
            ms.append(t)
    ms.sort()
    return ms[len(ms) // 2]


def pact(x, alpha, levels):
    y = torch.where(x < alpha, x, alpha).clamp(min=0)  # dy/dalpha = 1 where x >= alpha
    s = levels / alpha.detach()
    return y + ((y * s).round() / s - y).detach()  # straight-through round


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--shape", default="128,16,28,28")
    p.add_argument("--bits", type=int, default=4)
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    shape = [int(v) for v in a.shape.split(",")]
    x = torch.randn(shape).abs_()
    dy = torch.randn(shape)
    qmax = (1 << a.bits) - 1
    scale = 3.0 / qmax
    gf = 1.0 / math.sqrt(x.numel() * qmax)
    s = torch.full([1], scale, requires_grad=True)
    z = torch.zeros([1], requires_grad=True)
    alpha = torch.full([], 3.0, requires_grad=True)
    res = {"peer": "pytorch " + torch.__version__, "shape": shape, "bits": a.bits, "threads": a.threads,
           "reps": a.reps}
    res["affine_ms"] = median_ms(x, dy, a.warmup, a.reps,
                                 lambda t: torch.fake_quantize_per_tensor_affine(t, scale, 0, 0, qmax))
    res["lsq_ms"] = median_ms(x, dy, a.warmup, a.reps,
                              lambda t: torch._fake_quantize_learnable_per_tensor_affine(t, s, z, 0, qmax, gf))
    res["pact_ms"] = median_ms(x, dy, a.warmup, a.reps, lambda t: pact(t, alpha, qmax))
    print(json.dumps(res))


if __name__ == "__main__":
    main()
