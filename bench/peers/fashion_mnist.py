#!/usr/bin/python3
"""Fashion-MNIST as the peers see it: the Debian IDX files, normalized as qforge's loader normalizes
them ((x / 255 - 0.2860) / 0.3530). Run as a script it writes the test split as DIR/test_x.npy (float32
[10000, 1, 28, 28]) and DIR/test_y.npy (int64) for `qforge infer` and tools/ort/run_ort.js.
Usage: /usr/bin/python3 bench/peers/fashion_mnist.py DIR
"""
import gzip
import os
import sys

import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"
MEAN, STD = 0.2860, 0.3530  # qforge's default normalization for fashion-mnist


def idx(name):
    with gzip.open(os.path.join(ROOT, name)) as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images(split):
    x = idx(f"{split}-images-idx3-ubyte.gz").astype(np.float32)[:, None] / 255.0
    return ((x - MEAN) / STD).astype(np.float32)


def labels(split):
    return idx(f"{split}-labels-idx1-ubyte.gz").astype(np.int64)


if __name__ == "__main__":
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    np.save(os.path.join(out, "test_x.npy"), images("t10k"))
    np.save(os.path.join(out, "test_y.npy"), labels("t10k"))
