#!/usr/bin/python3
"""Golden files for tests/quant/test_fake_quant.cpp, written by PyTorch itself (Debian python3-torch 1.13).

For each case: torch.fake_quantize_per_{tensor,channel}_affine ("affine") or
torch._fake_quantize_learnable_per_{tensor,channel}_affine ("lsq") on a fixed-seed input that includes
values exactly on rounding boundaries and far outside the range, forward output and gradients for a
random upstream gradient dy. Writes tests/quant/goldens/fake_quant/cases.json (the parameters) and one
<name>.npy per case: float32, the concatenation x, dy, scale, zero_point, y, dx, dscale, dzero_point
(dscale, dzero_point only for lsq).
Usage: /usr/bin/python3 scripts/goldens/make_fake_quant_goldens.py
"""
import json
import os

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "quant", "goldens", "fake_quant")


def grid(bits, signed):
    return (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)


def make_input(gen, shape, scale, zp, qmin, qmax, axis, specials):
    x = torch.randn(shape, generator=gen) * float((qmax - qmin) * scale.max() / 4)
    flat = x.view(-1)
    n = flat.numel()
    # rounding boundaries (k + 0.5) * scale around the zero point, and far-out values
    ch = torch.zeros(shape, dtype=torch.long)
    if axis >= 0:
        view = [1] * len(shape)
        view[axis] = shape[axis]
        ch = torch.arange(shape[axis]).view(view).expand(shape).contiguous()
    chf = ch.view(-1)
    for i in range(0, n, 3):
        c = int(chf[i])
        k = int(torch.randint(qmin - 1, qmax + 2, (1,), generator=gen))
        flat[i] = (k - float(zp.view(-1)[c].round()) + 0.5) * float(scale.view(-1)[c])
    if n > 4:
        flat[1] = 1e3 * float(scale.max())
        flat[4] = -1e3 * float(scale.max())
    if specials and n > 8:
        flat[7] = float("inf")
        flat[8] = float("-inf")
    return x


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(0)
    cases = []
    shapes = [([3, 5, 7, 2], 0), ([3, 5, 7, 2], 1), ([17], 0), ([2, 3, 1, 1], 0), ([1], 0), ([4, 6, 5], 2)]
    i = 0
    for kind in ("affine", "lsq"):
        for bits in range(2, 9):
            for signed in (True, False):
                shape, ch_axis = shapes[i % len(shapes)]
                per_channel = (i % 2) == 1
                axis = ch_axis if per_channel else -1
                i += 1
                qmin, qmax = grid(bits, signed)
                nch = shape[axis] if axis >= 0 else 1
                scale = (torch.rand(nch, generator=gen) * 0.5 + 0.01).float()
                if kind == "affine":
                    zp = torch.randint(qmin, qmax + 1, (nch,), generator=gen).float()
                else:  # learned float zero points, including .5 ties and values outside the grid
                    zp = (torch.rand(nch, generator=gen) * (qmax - qmin + 2) + qmin - 1).float()
                    zp.view(-1)[0] = float(qmin) + 1.5 if qmax - qmin >= 2 else -0.5 * (qmin < 0)
                specials = kind == "affine" and not per_channel
                x = make_input(gen, shape, scale, zp, qmin, qmax, axis, specials).float()
                dy = torch.randn(shape, generator=gen).float()
                gf = 1.0 if kind == "affine" else float(torch.rand(1, generator=gen)) + 0.1
                xr = x.clone().requires_grad_(True)
                if kind == "affine":
                    if axis < 0:
                        y = torch.fake_quantize_per_tensor_affine(xr, float(scale[0]), int(zp[0]), qmin, qmax)
                    else:
                        y = torch.fake_quantize_per_channel_affine(xr, scale, zp.int(), axis, qmin, qmax)
                    y.backward(dy)
                    parts = [x, dy, scale, zp, y.detach(), xr.grad]
                else:
                    s = scale.clone().requires_grad_(True)
                    z = zp.clone().requires_grad_(True)
                    if axis < 0:
                        y = torch._fake_quantize_learnable_per_tensor_affine(xr, s, z, qmin, qmax, gf)
                    else:
                        y = torch._fake_quantize_learnable_per_channel_affine(xr, s, z, axis, qmin, qmax, gf)
                    y.backward(dy)
                    parts = [x, dy, scale, zp, y.detach(), xr.grad, s.grad, z.grad]
                name = f"{kind}_b{bits}_{'s' if signed else 'u'}_{'ch' + str(axis) if axis >= 0 else 'tensor'}"
                flat = np.concatenate([p.detach().reshape(-1).numpy().astype(np.float32) for p in parts])
                np.save(os.path.join(OUT, name + ".npy"), flat)
                cases.append({"name": name, "kind": kind, "shape": shape, "axis": axis, "qmin": qmin, "qmax": qmax,
                              "grad_factor": gf})
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f, indent=1)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
