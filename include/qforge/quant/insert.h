// The quantization pass: puts FakeQuant nodes on the weights and input activations of every
// Conv / Gemm / MatMul layer, following keep_float, first_last_bits and per-layer overrides.
#pragma once
#include <string>
#include <vector>

#include "qforge/ir/graph.h"
#include "qforge/quant/config.h"

namespace qforge::quant {

struct QuantizedLayer {
  std::string layer, op;
  std::string weight_quantizer, activation_quantizer;  // FakeQuant node names ("" = float)
  int weight_bits = 0, activation_bits = 0;
};

// Throws std::runtime_error naming the key on a bad configuration, and for an override whose
// `match` selects no layer (listing the layer names). A graph that already holds FakeQuant nodes
// is refused.
std::vector<QuantizedLayer> insert_fake_quant(ir::Graph& g, const QuantizeConfig& cfg);

}  // namespace qforge::quant
