// Data-parallel batches: a model whose every node treats the images of a batch independently runs a batch
// as one part per thread, each part through the whole graph on its own thread (the layers' own parallel
// loops then run inline). Each thread keeps its part's activations in its own caches and no thread waits
// for the other at every layer.
#pragma once
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "graph/graph.h"

namespace qfrt {

// Whether node n (in graph g) computes each image of its batch from that image alone, so a graph of such
// nodes gives the same bytes on a batch split along its first axis. An allow-list: ops not named here, a Reshape
// that fixes the batch size, a Flatten / Softmax / Concat / per-axis quantization along axis 0 (or along a
// negative axis, which may be axis 0) are not.
bool batch_independent(const Node& n, const Graph& g);

// [begin, end) of part p when n images go to `parts` parts (sizes differ by at most one).
inline int64_t part_begin(int64_t n, int64_t parts, int64_t p) { return n * p / parts; }

// Images [b, e) of x (axis 0).
Tensor batch_slice(const Tensor& x, int64_t b, int64_t e);
// The parts joined along axis 0; throws Error when their other dimensions or types differ.
Tensor batch_concat(const std::vector<Tensor>& parts);

}  // namespace qfrt
