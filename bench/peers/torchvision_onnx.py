#!/usr/bin/python3
"""A torchvision ImageNet network as a float ONNX file for the runtime benchmark (bench/runtime_peers.sh):
Debian's torchvision, weights from its seeded random initialization (no downloads; speed does not depend on
the weights), BatchNorm statistics randomized and in eval mode (scripts/goldens/make_torchvision_models.py does
both), exported at opset 13 with a dynamic batch. The Constant nodes the exporter writes for Clip's bounds
(ReLU6) become initializers, so bench/peers/onnx_to_torch.py can rebuild the graph for the PyTorch peers.
Usage: /usr/bin/python3 bench/peers/torchvision_onnx.py resnet18|mobilenet_v2 OUT.onnx [--size 224]
"""
import argparse
import os
import sys

import onnx
import torch
from torchvision import models

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "goldens"))
from make_torchvision_models import randomize_batchnorm  # noqa: E402


def constants_to_initializers(m):
    g = m.graph
    keep = []
    for n in g.node:
        if n.op_type == "Constant" and len(n.attribute) == 1 and n.attribute[0].name == "value":
            t = onnx.TensorProto()
            t.CopyFrom(n.attribute[0].t)
            t.name = n.output[0]
            g.initializer.append(t)
        else:
            keep.append(n)
    del g.node[:]
    g.node.extend(keep)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("out")
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1)
    net = getattr(models, a.model)(weights=None).eval()
    x = torch.randn(1, 3, a.size, a.size, generator=gen)
    with torch.no_grad():
        randomize_batchnorm(net, gen)
    torch.onnx.export(net, x, a.out, opset_version=13, input_names=["input"], output_names=["output"],
                      do_constant_folding=True, dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})
    m = onnx.load(a.out)
    constants_to_initializers(m)
    onnx.checker.check_model(m)
    onnx.save(m, a.out)
    print(f"{a.model}: {os.path.getsize(a.out) / 1024:.1f} KiB", file=sys.stderr)


if __name__ == "__main__":
    main()
