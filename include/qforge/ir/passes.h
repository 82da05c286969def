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

// Makes the shape arithmetic that exporters emit static: a Shape node whose input's shape is known
// becomes a constant, and what is computed from it folds (fold_constants), to a fixed point. Graph
// inputs' leading dimension is the batch: a Reshape whose folded target shape carries it gets 0
// (copy the input's dimension) or -1 there, so the graph still runs at any batch size. Other values
// computed from the batch keep the declared one (1 where it is dynamic). Returns the nodes removed.
int fold_shapes(Graph& g);

// Removes nodes whose outputs reach no graph output, then unused initializers.
int eliminate_dead_nodes(Graph& g);

// A BatchNorm channel whose running variance is at most this fraction of epsilon was constant on the
// statistics' data: its output deviates from beta by at most gamma * sqrt(var / eps) = 1e-4 gamma.
constexpr double kConstantChannelVar = 1e-8;

// Folds BatchNormalization into a preceding Conv or Gemm (transB=1) whose output it alone
// reads: W' = W * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.
// A channel whose running variance is at most 1e-8 eps (its output was constant) gets W' = 0, b' = beta.
int fold_batchnorm(Graph& g);

}  // namespace qforge::ir
