// Internal to constant folding: evaluators for the index and shape ops that exporters emit around
// Reshape (Gather, Unsqueeze, Squeeze, Slice, Cast, ConstantOfShape, Shape, Concat, Expand), on ir::Tensor.
#pragma once
#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::ir::fold {

// Evaluates `n` on constant inputs into `out`; false when the op is not one of the above.
// Throws std::runtime_error "constant folding: node 'x' (Op): reason" for inputs the op rejects.
bool evaluate_data_op(const Node& n, const std::vector<const Tensor*>& in, Tensor& out);

// Shape's output for an input of `shape` (opset 15's start / end attributes included).
Tensor shape_of(const Node& n, const std::vector<int64_t>& shape);

}  // namespace qforge::ir::fold
