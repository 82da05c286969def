// Cross-layer equalization (Nagel et al. 2019, "Data-Free Quantization through Weight Equalization
// and Bias Correction", section 4.1). For two layers joined by a positively homogeneous activation
// (none or ReLU), f(W2 · relu(W1 x + b1)) = f(W2 S · relu(S⁻¹ (W1 x + b1))) for any positive diagonal S.
// Choosing s_i = sqrt(r1_i / r2_i), with r1_i the range of layer 1's output channel i and r2_i the
// range of layer 2's input channel i, gives both the range sqrt(r1_i · r2_i): channels that a
// per-tensor grid would crush (typical after BatchNorm folding in depthwise networks) are evened out.
// Runs on a float graph after BatchNorm folding; exact up to float rounding.
//
// ReLU6 (Clip 0..6) is not positively homogeneous: scaling channel i by 1/s_i moves its clip to 6/s_i,
// which one Clip cannot express. The paper replaces it by ReLU (on MobileNetV2 that changes the float
// network wherever activations pass 6); by default the pass keeps the function exact instead, with
// Relu then Min against a per-channel bound [C, 1, 1] that it rescales with the channel.
#pragma once
#include <string>

#include "qforge/ir/graph.h"

namespace qforge::compress {

// What becomes of a Clip(0, hi) between two layers of a pair.
enum class Relu6Handling {
  ChannelClip,  // Relu, then Min with a per-channel bound scaled with its channel: exact (default)
  Relu,         // Relu, as the paper does: changes the function where activations pass hi
  Keep,         // leave the Clip and do not equalize across it
};
Relu6Handling relu6_handling_from_name(const std::string& name);  // "clip" | "relu" | "keep"; throws std::invalid_argument
const char* relu6_handling_name(Relu6Handling h);

struct CleOptions {
  int max_sweeps = 20;        // sweeps over all pairs; chains (conv -> depthwise -> conv) need several
  double tolerance = 1e-4;    // stop when no scale moved by more than this
  Relu6Handling relu6 = Relu6Handling::ChannelClip;
};

struct CleResult {
  int pairs = 0;           // layer pairs equalized
  int sweeps = 0;
  int relu6_rewritten = 0;  // Clips turned into Relu (+ per-channel Min), by CleOptions::relu6
  Relu6Handling relu6 = Relu6Handling::ChannelClip;  // the handling applied (CleOptions::relu6)
};

// Pairs: Conv or Gemm (transB=1) -> [Relu | Clip(min 0) | Relu -> Min(per-channel bound)] -> Conv or Gemm (transB=1) reading it as its
// input, where each intermediate value has exactly one reader and is not a graph output, and both
// weights are initializers. Grouped and depthwise convolutions are handled per channel group.
CleResult cross_layer_equalize(ir::Graph& g, const CleOptions& o = {});

}  // namespace qforge::compress
