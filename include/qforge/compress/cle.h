// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization through Weight Equalization
// and Bias Correction", section 4.1). For two layers joined by a positively homogeneous activation
// (none or ReLU), f(W2 · relu(W1 x + b1)) = f(W2 S · relu(S⁻¹ (W1 x + b1))) for any positive diagonal S.
// Choosing s_i = sqrt(r1_i / r2_i), with r1_i the range of layer 1's output channel i and r2_i the
// range of layer 2's input channel i, gives both the range sqrt(r1_i · r2_i): channels that a
// per-tensor grid would crush (typical after BatchNorm folding in depthwise networks) are evened out.
// Runs on a float graph after BatchNorm folding; exact up to float rounding.
#pragma once
#include "qforge/ir/graph.h"

namespace qforge::compress {

struct CleOptions {
  int max_sweeps = 20;        // sweeps over all pairs; chains (conv -> depthwise -> conv) need several
  double tolerance = 1e-4;    // stop when no scale moved by more than this
  // ReLU6 (Clip 0..6) is not positively homogeneous: per-channel scaling would move the clip. As the
  // paper does for MobileNetV2, replace it by ReLU between the equalized layers (counted in the result).
  bool relu6_to_relu = true;
};

struct CleResult {
  int pairs = 0;           // layer pairs equalized
  int sweeps = 0;
  int relu6_replaced = 0;
};

// Pairs: Conv or Gemm (transB=1) -> [Relu | Clip(min 0)] -> Conv or Gemm (transB=1) reading it as its
// input, where each intermediate value has exactly one reader and is not a graph output, and both
// weights are initializers. Grouped and depthwise convolutions are handled per channel group.
CleResult cross_layer_equalize(ir::Graph& g, const CleOptions& o = {});

}  // namespace qforge::compress
