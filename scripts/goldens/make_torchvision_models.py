#!/usr/bin/python3
"""Exports torchvision networks to ONNX (opset 13 unless a model says otherwise) with one input batch and PyTorch's own output, so
qforge's importer can be checked against PyTorch (issue 3's conformance check).

  /usr/bin/python3 scripts/goldens/make_torchvision_models.py OUT_DIR --set tiny   # committed fixtures
  /usr/bin/python3 scripts/goldens/make_torchvision_models.py OUT_DIR --set full   # the benchmark's models

For each model NAME it writes NAME.onnx, NAME.input.npy, NAME.output.npy. Weights are torchvision's
seeded random initialization (no downloads); BatchNorm statistics are randomized so folding and
inference-mode BatchNorm are exercised. 'tiny' builds the same architectures at small widths (a few
hundred KB in all); 'full' is the standard ImageNet configurations at 224 x 224.
Needs Debian's python3-torch and python3-torchvision.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision
from torchvision import models
from torchvision.models import densenet, mobilenetv3, regnet, shufflenetv2


class UpsampleNet(torch.nn.Module):
    """Not torchvision: the upsampling decoders of segmentation networks (Resize nearest / bilinear,
    by scale and by size, align_corners both ways). Opset 9's Upsample exports only `nearest` here."""

    def __init__(self, linear=True):
        super().__init__()
        self.mode = "bilinear" if linear else "nearest"
        self.corners = {"align_corners": False} if linear else {}
        self.c1 = torch.nn.Conv2d(3, 4, 3, stride=2, padding=1)
        self.c2 = torch.nn.Conv2d(4, 4, 3, padding=1)
        self.fc = torch.nn.Linear(4, 10)

    def forward(self, x):
        y = torch.relu(self.c1(x))
        y = torch.nn.functional.interpolate(y, scale_factor=2.0, mode="nearest")
        y = torch.relu(self.c2(y))
        y = torch.nn.functional.interpolate(y, scale_factor=0.5, mode=self.mode, **self.corners)
        if self.mode == "bilinear":
            y = torch.nn.functional.interpolate(y, size=(13, 11), mode="bilinear", align_corners=True)
        return self.fc(y.mean((2, 3)))


def shufflenet_tiny():
    # stage 2 repeats twice: its second block splits channels (chunk) and shuffles them
    return shufflenetv2.ShuffleNetV2([2, 1, 1], [8, 16, 32, 48, 64], num_classes=10)


def tiny_models():
    """name -> (constructor, input size, export options)."""
    dynamic = {"dynamic_batch": True}
    return {
        # runtime shape arithmetic (Shape, Gather, Unsqueeze, Concat, Div, Cast -> Reshape) with a dynamic
        # batch, and chunk (Split at opset 13 as an input, at opset 11 as an attribute)
        "shufflenet_v2_dynamic_tiny": (shufflenet_tiny, 32, dynamic),
        "shufflenet_v2_dynamic_opset11_tiny": (shufflenet_tiny, 32, {"dynamic_batch": True, "opset": 11}),
        "upsample_tiny": (UpsampleNet, 24, {}),
        "upsample_opset9_tiny": (lambda: UpsampleNet(linear=False), 24, {"opset": 9}),
        # channel shuffle: runtime reshapes / transposes / chunk that the importer must fold
        "shufflenet_v2_tiny": (lambda: shufflenetv2.ShuffleNetV2([1, 1, 1], [8, 16, 32, 48, 64], num_classes=10), 32, {}),
        # hardswish, squeeze-and-excitation (pool, hardsigmoid, mul)
        "mobilenet_v3_small_tiny": (lambda: mobilenetv3.MobileNetV3(
            mobilenetv3._mobilenet_v3_conf("mobilenet_v3_small", width_mult=0.1)[0], last_channel=32, num_classes=10), 32, {}),
        # dense concatenation
        "densenet_tiny": (lambda: densenet.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8,
                                                    bn_size=2, num_classes=10), 32, {}),
        # grouped convolutions, SE
        "regnet_tiny": (lambda: regnet.RegNet(regnet.BlockParams.from_init_params(depth=3, w_0=8, w_a=8.0, w_m=2.0,
                                                                                  group_width=8, se_ratio=0.25),
                                              stem_width=8, num_classes=10), 32, {}),
    }


def full_models():
    names = ["resnet18", "mobilenet_v2", "mobilenet_v3_small", "squeezenet1_1", "shufflenet_v2_x1_0", "mnasnet1_0",
             "efficientnet_b0", "googlenet", "densenet121", "regnet_y_400mf"]
    out = {}
    for n in names:
        kw = {"aux_logits": False, "init_weights": True} if n == "googlenet" else {}
        out[n] = ((lambda n=n, kw=kw: getattr(models, n)(weights=None, **kw)), 224, {"dynamic_batch": True})
    return out


def randomize_batchnorm(m, gen):
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            c = mod.num_features
            mod.running_mean.copy_(torch.randn(c, generator=gen) * 0.1)
            mod.running_var.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
            if mod.affine:
                mod.weight.data.copy_(torch.rand(c, generator=gen) * 0.5 + 0.75)
                mod.bias.data.copy_(torch.randn(c, generator=gen) * 0.1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--set", choices=["tiny", "full"], default="tiny")
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--only", default="", help="comma-separated model names")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(2)
    todo = tiny_models() if a.set == "tiny" else full_models()
    only = [s for s in a.only.split(",") if s]
    for name, (make, size, opts) in todo.items():
        if only and name not in only:
            continue
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(1)
        m = make().eval()
        with torch.no_grad():
            randomize_batchnorm(m, gen)
            x = torch.randn(a.batch, 3, size, size, generator=gen)
            y = m(x)
        path = os.path.join(a.out, name + ".onnx")
        dyn = {"input": {0: "N"}, "output": {0: "N"}} if opts.get("dynamic_batch") else None
        torch.onnx.export(m, x, path, opset_version=opts.get("opset", 13), input_names=["input"],
                          output_names=["output"], do_constant_folding=True, dynamic_axes=dyn)
        np.save(os.path.join(a.out, name + ".input.npy"), x.numpy())
        np.save(os.path.join(a.out, name + ".output.npy"), y.numpy())
        print(f"{name}: {os.path.getsize(path) / 1024:.1f} KiB, output {tuple(y.shape)}", file=sys.stderr)


if __name__ == "__main__":
    main()
