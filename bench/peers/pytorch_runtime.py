#!/usr/bin/python3
"""PyTorch peers of the integer runtime (bench/runtime_peers.sh) on the same float ONNX model (rebuilt by
onnx_to_torch.py, so the weights are the file's): the float network (libtorch's float CPU kernels), and
FX graph-mode post-training int8 (torch.ao.quantization, Debian python3-torch 1.13) with the onednn engine
and its default qconfig (HistogramObserver activations, per-channel symmetric weights), calibrated on the
given images. Times each on every --input batch (median and min of --runs after --warmup runs, --threads
intra-op threads) and prints one JSON line per batch: batch, float_ms, int8_ms (+ _min), how often the int8
model's top-1 agrees with the float model's on that batch, and the max |int8 - float| logit difference. Where
the onednn model fails on a batch (PyTorch 1.13's onednn cannot run MobileNetV2's 96 -> 576 1x1 conv at batch > 1:
"could not create a primitive descriptor for a reorder primitive"), the error is in "int8_error" and
--fallback-engine (default qnnpack; "none": skip) is quantized and timed instead, named in "int8_engine".
Usage: /usr/bin/python3 bench/peers/pytorch_runtime.py MODEL.onnx --calib CALIB.npy --input X1.npy [--input X32.npy]
       [--runs 20,5] [--warmup 3] [--threads 2] [--calib-batch 8] [--fallback-engine qnnpack]
CALIB.npy and the inputs are float32 [N, C, H, W], normalized as the model expects.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch
from torch.ao.quantization import get_default_qconfig_mapping
from torch.ao.quantization.quantize_fx import convert_fx, prepare_fx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_to_torch import OnnxNet  # noqa: E402


def time_ms(model, x, runs, warmup):
    """(median, min) in ms."""
    with torch.no_grad():
        for _ in range(warmup):
            model(x)
        t = []
        for _ in range(runs):
            t0 = time.perf_counter()
            model(x)
            t.append((time.perf_counter() - t0) * 1e3)
    return float(np.median(t)), float(np.min(t))


def quantize(net, calib, engine, batch):
    """FX post-training int8 of net (prepared in place: pass a copy to keep the float model)."""
    torch.backends.quantized.engine = engine
    prepared = prepare_fx(net, get_default_qconfig_mapping(engine), (calib[:1],))
    with torch.no_grad():
        for i in range(0, len(calib), batch):
            prepared(calib[i:i + batch])
    return convert_fx(prepared)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("--calib", required=True)
    ap.add_argument("--input", action="append", required=True)
    ap.add_argument("--runs", default="20", help="runs per input, comma-separated (the last one repeats)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calib-batch", type=int, default=8)
    ap.add_argument("--fallback-engine", default="qnnpack")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    runs = [int(r) for r in a.runs.split(",")]

    net = OnnxNet(a.model).eval()
    calib = torch.from_numpy(np.load(a.calib))
    t0 = time.perf_counter()
    models = {"onednn": quantize(copy.deepcopy(net), calib, "onednn", a.calib_batch)}
    ptq_s = time.perf_counter() - t0

    for k, path in enumerate(a.input):
        x = torch.from_numpy(np.load(path))
        n = runs[min(k, len(runs) - 1)]
        out = {"peer": "pytorch", "torch": torch.__version__, "threads": a.threads, "batch": int(x.shape[0]), "runs": n,
               "calibration_images": len(calib), "ptq_seconds": ptq_s}
        out["float_ms"], out["float_min_ms"] = time_ms(net, x, n, a.warmup)
        with torch.no_grad():
            ref_logits = net(x)
            ref = ref_logits.argmax(1)
        for engine in ["onednn"] + ([a.fallback_engine] if a.fallback_engine != "none" else []):
            try:
                if engine not in models:
                    models[engine] = quantize(copy.deepcopy(net), calib, engine, a.calib_batch)
                torch.backends.quantized.engine = engine
                q = models[engine]
                with torch.no_grad():
                    y = q(x)
                out["int8_top1_agrees_with_float"] = float((y.argmax(1) == ref).float().mean())
                out["int8_max_abs_diff_vs_float"] = float((y - ref_logits).abs().max())
                out["float_max_abs_logit"] = float(ref_logits.abs().max())
                out["int8_ms"], out["int8_min_ms"] = time_ms(q, x, n, a.warmup)
                out["int8_engine"] = engine
                break
            except RuntimeError as e:
                out.setdefault("int8_error", f"{engine}: {str(e).splitlines()[0]}")
        print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
