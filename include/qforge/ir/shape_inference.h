// Static shape inference over the graph IR, without running it: the shape and dtype of every value,
// and per-layer parameter / multiply-accumulate counts derived from them.
// Ops follow ONNX (opset 13 attributes) and are exactly those the executor implements, plus the
// quantization pass's shape-preserving FakeQuant node.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::ir {

struct ShapeInfo {
  std::map<std::string, ValueInfo> values;
};

// Shape and dtype of every value: graph inputs, initializers and node outputs (keyed by name).
// A dynamic leading (batch) dimension (-1) of a graph input becomes `batch`; any other dynamic
// dimension is an error. Throws std::runtime_error "shape inference: node 'x' (Op): reason" for an
// unsupported op, an input of unknown shape, bad attributes or shapes that do not fit together
// (the message then shows both shapes).
std::map<std::string, ValueInfo> infer_shapes(const Graph& g, int64_t batch = 1);

// As infer_shapes, but a node that cannot be inferred (unsupported op, an input of unknown shape, a
// shape input that is not constant) is skipped and its outputs are left out: the shapes known so far,
// for passes that make a graph static step by step.
std::map<std::string, ValueInfo> infer_known_shapes(const Graph& g, int64_t batch = 1);

struct LayerCost {
  std::string node, op;
  std::vector<int64_t> out_shape;  // shape of the node's first output
  int64_t params = 0;              // elements of the node's trainable (non-buffer, float) initializer inputs
  int64_t macs = 0;                // Conv: N*Cout*Hout*Wout*(Cin/group)*kh*kw; Gemm/MatMul: M*N*K; else 0
};

// One entry per node, in graph order.
std::vector<LayerCost> layer_costs(const Graph& g, int64_t batch = 1);

}  // namespace qforge::ir
