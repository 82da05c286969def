#!/usr/bin/python3
"""Top-1 of two logit files against the labels, and the share of identical predictions, as one JSON line.
Usage: /usr/bin/python3 bench/peers/compare_predictions.py QFORGE.npy PEER.npy LABELS.npy
"""
import json
import sys

import numpy as np

a, b, y = (np.load(p) for p in sys.argv[1:4])
pa, pb = a.argmax(1), b.argmax(1)
print(json.dumps({"qforge_top1": float((pa == y).mean() * 100), "peer_top1": float((pb == y).mean() * 100),
                  "identical_predictions": float((pa == pb).mean() * 100), "max_abs_logit_diff": float(abs(a - b).max())}))
