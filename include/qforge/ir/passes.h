// Graph-to-graph rewrites. Each returns how many nodes it changed, so callers can iterate
// to a fixed point and print what happened.
#pragma once
#include "qforge/ir/graph.h"

namespace qforge::ir {

// Replaces nodes whose inputs are all constant (initializers that are not trainable parameters,
// or outputs of nodes folded before) by initializers holding their result. Folds the pure
// data ops: Identity, Reshape, Flatten, Transpose, Concat, Add, Sub, Mul, Div, Relu.
// `fold_parameters` also folds nodes that read trainable weights (for inference graphs).
int fold_constants(Graph& g, bool fold_parameters = false);

// Removes nodes whose outputs reach no graph output, then unused initializers.
int eliminate_dead_nodes(Graph& g);

// Folds BatchNormalization into a preceding Conv or Gemm (transB=1) whose output it alone
// reads: W' = W * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.
int fold_batchnorm(Graph& g);

}  // namespace qforge::ir
