#!/usr/bin/python3
"""Peer for `qforge ptq`: PyTorch FX graph-mode post-training quantization (torch.ao.quantization,
Debian python3-torch 1.13) of the same float model (the ONNX file qforge exported from its checkpoint),
on the same calibration images (the first N of Fashion-MNIST's training split) and the same test set.
The quantized engine is onednn (this PyTorch has no FBGEMM); its default qconfig: HistogramObserver on
activations, per-channel symmetric min/max on weights, int8. Prints one JSON line: float and int8 top-1,
PTQ wall time (prepare + calibrate + convert), and the int8 model's batch-1 / batch-32 latency.
Usage: /usr/bin/python3 bench/peers/pytorch_ptq.py MODEL.onnx [--calib 512] [--threads 2]
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fashion_mnist import images, labels  # noqa: E402
from onnx_to_torch import OnnxNet  # noqa: E402
from pytorch_runtime import quantize, time_ms  # noqa: E402

def top1(model, x, y, batch=500):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum())
    return 100.0 * correct / len(x)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--calib", type=int, default=512)
    ap.add_argument("--calib-batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.quantized.engine = "onednn"
    train_x = torch.from_numpy(images("train")[: a.calib])
    test_x = torch.from_numpy(images("t10k"))
    test_y = torch.from_numpy(labels("t10k"))

    net = OnnxNet(a.model).eval()
    float_top1 = top1(net, test_x, test_y)

    t0 = time.perf_counter()
    quantized = quantize(net, train_x, "onednn", a.calib_batch)
    ptq_s = time.perf_counter() - t0

    print(json.dumps({
        "peer": "pytorch-fx-ptq-onednn",
        "torch": torch.__version__,
        "calibration_images": len(train_x),
        "float_top1": float_top1,
        "int8_top1": top1(quantized, test_x, test_y),
        "ptq_seconds": ptq_s,
        "int8_batch1_ms": time_ms(quantized, test_x[:1], 50, 5)[0],
        "int8_batch32_ms": time_ms(quantized, test_x[:32], 50, 5)[0],
    }))


if __name__ == "__main__":
    main()
