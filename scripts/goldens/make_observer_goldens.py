#!/usr/bin/python3
"""Golden files for tests/quant/test_calibrate.cpp, written by PyTorch's own observers (Debian
python3-torch 1.13, torch.ao.quantization).

Three calibration batches of a signed activation (normal, with an outlier in the last batch) and of
an unsigned one (its ReLU), and one conv weight. Records the scales PyTorch's observers derive:
MinMaxObserver (qint8 per-tensor symmetric; quint8 affine on the ReLU'd batches),
MovingAverageMinMaxObserver (averaging constant 0.01, qint8 symmetric), PerChannelMinMaxObserver
(qint8 per-channel symmetric on the weight). qforge's calibrators with the uniform method's grids must
give the same scales.
Writes tests/quant/goldens/observers/{batches.npy, weight.npy, expected.json}.
Usage: /usr/bin/python3 scripts/goldens/make_observer_goldens.py
"""
import json
import os

import numpy as np
import torch
from torch.ao.quantization.observer import MinMaxObserver, MovingAverageMinMaxObserver, PerChannelMinMaxObserver

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "quant", "goldens", "observers")


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(7)
    batches = torch.randn(3, 8, 4, 5, 5, generator=gen) * torch.tensor([1.0, 2.0, 0.5]).view(3, 1, 1, 1, 1)
    batches[2, 0, 1, 2, 3] = 9.0  # an outlier in the last batch
    weight = torch.randn(6, 4, 3, 3, generator=gen) * torch.linspace(0.1, 1.0, 6).view(6, 1, 1, 1)

    sym = MinMaxObserver(dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    uns = MinMaxObserver(dtype=torch.quint8, qscheme=torch.per_tensor_affine)
    ema = MovingAverageMinMaxObserver(averaging_constant=0.01, dtype=torch.qint8, qscheme=torch.per_tensor_symmetric)
    for b in batches:
        sym(b)
        uns(torch.relu(b))
        ema(b)
    pc = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, qscheme=torch.per_channel_symmetric)
    pc(weight)

    s_uns, z_uns = uns.calculate_qparams()
    expected = {
        "minmax_signed_scale": float(sym.calculate_qparams()[0]),
        "minmax_unsigned_scale": float(s_uns),
        "minmax_unsigned_zero_point": int(z_uns),
        "ema_signed_scale": float(ema.calculate_qparams()[0]),
        "weight_per_channel_scales": [float(s) for s in pc.calculate_qparams()[0]],
        "torch_version": torch.__version__,
    }
    np.save(os.path.join(OUT, "batches.npy"), batches.numpy().astype(np.float32))
    np.save(os.path.join(OUT, "weight.npy"), weight.numpy().astype(np.float32))
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


if __name__ == "__main__":
    main()
