// Per-layer output shapes, parameters and multiply-accumulates, measured by running the graph
// once on a zero input of batch 1 (so every op the executor runs is covered).
#pragma once
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::exec {

struct LayerCost {
  std::string node, op;
  std::vector<int64_t> out_shape;
  int64_t params = 0;  // elements of the node's trainable initializer inputs
  int64_t macs = 0;    // Conv: N*Cout*Hout*Wout*(Cin/group)*kh*kw; Gemm/MatMul: M*N*K
};

// Graph inputs' dynamic dims (-1) become 1. Throws naming the node if the graph cannot run.
std::vector<LayerCost> layer_costs(const ir::Graph& g);

}  // namespace qforge::exec
