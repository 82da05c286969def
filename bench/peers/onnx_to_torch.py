"""A float ONNX CNN (as `qforge export --format onnx` writes it) rebuilt as a torch.nn.Module whose
forward is a straight-line sequence of modules and functions, so torch.fx can trace it. Covers the ops of
qforge's zoo CNNs: Conv, BatchNormalization, Relu, Clip (ReLU6), Add, MaxPool, AveragePool,
GlobalAveragePool, Flatten, Reshape, Gemm, Identity. Used by the PyTorch peers of the PTQ and runtime benchmarks so
both sides start from the very same weights.
"""
import onnx
import torch
import torch.nn as nn
from onnx import numpy_helper


def _attrs(node):
    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class OnnxNet(nn.Module):
    def __init__(self, path):
        super().__init__()
        m = onnx.load(path)
        g = m.graph
        init = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
        self.input_name = [i.name for i in g.input if i.name not in init][0]
        self.output_name = g.output[0].name
        self.steps = []  # (kind, module name or None, input names, output name, extra)
        self.layers = nn.ModuleDict()
        for k, n in enumerate(g.node):
            a = _attrs(n)
            key = f"n{k}"
            if n.op_type == "Conv":
                w = init[n.input[1]]
                pads = a.get("pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise ValueError(f"{n.name}: asymmetric pads")
                conv = nn.Conv2d(w.shape[1] * a.get("group", 1), w.shape[0], tuple(w.shape[2:]),
                                 stride=tuple(a.get("strides", [1, 1])), padding=(pads[0], pads[1]),
                                 dilation=tuple(a.get("dilations", [1, 1])), groups=a.get("group", 1),
                                 bias=len(n.input) > 2 and n.input[2] != "")
                conv.weight.data.copy_(w)
                if conv.bias is not None:
                    conv.bias.data.copy_(init[n.input[2]])
                self.layers[key] = conv
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "BatchNormalization":
                bn = nn.BatchNorm2d(init[n.input[1]].numel(), eps=a.get("epsilon", 1e-5))
                bn.weight.data.copy_(init[n.input[1]])
                bn.bias.data.copy_(init[n.input[2]])
                bn.running_mean.copy_(init[n.input[3]])
                bn.running_var.copy_(init[n.input[4]])
                self.layers[key] = bn
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "Relu":
                self.layers[key] = nn.ReLU()
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "Clip":
                lo = float(init[n.input[1]]) if len(n.input) > 1 and n.input[1] else a.get("min", 0.0)
                hi = float(init[n.input[2]]) if len(n.input) > 2 and n.input[2] else a.get("max", 6.0)
                if lo != 0.0 or hi != 6.0:
                    raise ValueError(f"{n.name}: only Clip(0, 6) is supported")
                self.layers[key] = nn.ReLU6()
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "Add":
                self.steps.append(("add", None, list(n.input), n.output[0]))
            elif n.op_type == "MaxPool":
                pads = a.get("pads", [0, 0, 0, 0])
                self.layers[key] = nn.MaxPool2d(tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1])), (pads[0], pads[1]))
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "AveragePool":
                pads = a.get("pads", [0, 0, 0, 0])
                self.layers[key] = nn.AvgPool2d(tuple(a["kernel_shape"]), tuple(a.get("strides", [1, 1])), (pads[0], pads[1]),
                                                count_include_pad=bool(a.get("count_include_pad", 0)))
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "GlobalAveragePool":
                self.layers[key] = nn.AdaptiveAvgPool2d(1)
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            elif n.op_type == "Identity":
                self.steps.append(("identity", None, [n.input[0]], n.output[0]))
            elif n.op_type in ("Flatten", "Reshape"):
                self.steps.append(("flatten", None, [n.input[0]], n.output[0]))
            elif n.op_type == "Gemm":
                w = init[n.input[1]]
                if not a.get("transB", 0):
                    w = w.t()
                fc = nn.Linear(w.shape[1], w.shape[0], bias=len(n.input) > 2)
                fc.weight.data.copy_(w)
                if len(n.input) > 2:
                    fc.bias.data.copy_(init[n.input[2]])
                self.layers[key] = fc
                self.steps.append(("module", key, [n.input[0]], n.output[0]))
            else:
                raise ValueError(f"{path}: op {n.op_type} (node {n.name}) is not supported by this peer")

    def forward(self, x):
        env = {self.input_name: x}
        for kind, key, ins, out in self.steps:
            if kind == "module":
                env[out] = self.layers[key](env[ins[0]])
            elif kind == "add":
                env[out] = env[ins[0]] + env[ins[1]]
            elif kind == "identity":
                env[out] = env[ins[0]]
            else:
                env[out] = torch.flatten(env[ins[0]], 1)
        return env[self.output_name]
