// Index arithmetic of ONNX's shape and index ops, shared by shape inference, constant folding and the
// executor so that the three agree. Each function throws std::invalid_argument with the reason; the
// caller adds the node's name.
#pragma once
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace qforge::ir {

// Runs `f`; the reason of an std::invalid_argument it throws goes to `fail`, which throws the caller's
// own error (naming its node). How shape inference, folding and the executor wrap these helpers.
template <typename F, typename Fail>
auto with_reason(F f, Fail fail) {
  try {
    return f();
  } catch (const std::invalid_argument& e) {
    fail(std::string(e.what()));
    throw;  // `fail` must throw; this keeps the compiler sure of it
  }
}

// axis in [-rank, rank) -> [0, rank).
int64_t normalize_axis(int64_t axis, int64_t rank);

// Gather: `shape` with axis `axis` (normalized) replaced by the indices' shape.
std::vector<int64_t> gather_shape(const std::vector<int64_t>& shape, int64_t axis, const std::vector<int64_t>& idx_shape);

// Unsqueeze: `shape` with size-1 axes inserted at `axes` (positions in the output).
std::vector<int64_t> unsqueeze_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes);
// Squeeze: `shape` without `axes` (each of size 1), or without every size-1 axis when `axes` is empty.
std::vector<int64_t> squeeze_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes);

// Slice: for each sliced axis, the input positions kept, in order (starts / ends clamped to the
// dimension, ends exclusive, negative steps walk backwards). `axes` and `steps` may be empty.
std::map<int64_t, std::vector<int64_t>> slice_plan(const std::vector<int64_t>& shape, const std::vector<int64_t>& starts,
                                                   const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                                                   std::vector<int64_t> steps);

// Shape's [start, end) over a rank (opset 15 attributes; out-of-range values clamp).
std::pair<int64_t, int64_t> shape_range(int64_t start, int64_t end, int64_t rank);

// Numpy (multidirectional) broadcast, as Expand and the binary ops use it.
std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b);

// Split: the sizes of `parts` outputs along a dimension of `dim` (equal parts when `sizes` is empty).
std::vector<int64_t> split_sizes(int64_t dim, int64_t parts, const std::vector<int64_t>& sizes);

}  // namespace qforge::ir
