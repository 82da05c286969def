#include "qforge/ir/index_math.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "qforge/ir/tensor.h"

namespace qforge::ir {

int64_t normalize_axis(int64_t axis, int64_t rank) {
  if (axis < -rank || axis >= rank)
    throw std::invalid_argument("axis " + std::to_string(axis) + " is out of range for rank " + std::to_string(rank));
  return axis < 0 ? axis + rank : axis;
}

std::vector<int64_t> gather_shape(const std::vector<int64_t>& shape, int64_t axis, const std::vector<int64_t>& idx_shape) {
  std::vector<int64_t> out(shape.begin(), shape.begin() + axis);
  out.insert(out.end(), idx_shape.begin(), idx_shape.end());
  out.insert(out.end(), shape.begin() + axis + 1, shape.end());
  return out;
}

std::vector<int64_t> unsqueeze_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(shape.size() + axes.size());
  std::vector<bool> inserted(static_cast<size_t>(rank), false);
  for (int64_t a : axes) {
    a = normalize_axis(a, rank);
    if (inserted[a]) throw std::invalid_argument("axis " + std::to_string(a) + " is given twice");
    inserted[a] = true;
  }
  std::vector<int64_t> out;
  size_t k = 0;
  for (int64_t d = 0; d < rank; ++d) out.push_back(inserted[d] ? 1 : shape[k++]);
  return out;
}

std::vector<int64_t> squeeze_shape(const std::vector<int64_t>& shape, const std::vector<int64_t>& axes) {
  const int64_t rank = static_cast<int64_t>(shape.size());
  std::vector<bool> drop(shape.size(), false);
  for (int64_t d = 0; d < rank; ++d) drop[d] = axes.empty() && shape[d] == 1;
  for (int64_t a : axes) {
    a = normalize_axis(a, rank);
    if (shape[a] != 1)
      throw std::invalid_argument("cannot squeeze axis " + std::to_string(a) + " of size " + std::to_string(shape[a]));
    drop[a] = true;
  }
  std::vector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d)
    if (!drop[d]) out.push_back(shape[d]);
  return out;
}

std::map<int64_t, std::vector<int64_t>> slice_plan(const std::vector<int64_t>& shape, const std::vector<int64_t>& starts,
                                                   const std::vector<int64_t>& ends, std::vector<int64_t> axes,
                                                   std::vector<int64_t> steps) {
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(static_cast<int64_t>(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  if (ends.size() != starts.size() || axes.size() != starts.size() || steps.size() != starts.size())
    throw std::invalid_argument("starts, ends, axes and steps differ in length");
  std::map<int64_t, std::vector<int64_t>> plan;
  for (size_t i = 0; i < starts.size(); ++i) {
    const int64_t a = normalize_axis(axes[i], static_cast<int64_t>(shape.size())), dim = shape[a], step = steps[i];
    if (step == 0) throw std::invalid_argument("step 0 on axis " + std::to_string(a));
    if (plan.count(a)) throw std::invalid_argument("axis " + std::to_string(a) + " is sliced twice");
    auto clampi = [](int64_t v, int64_t lo, int64_t hi) { return std::max(lo, std::min(hi, v)); };
    int64_t s = starts[i] < 0 ? starts[i] + dim : starts[i], e = ends[i] < 0 ? ends[i] + dim : ends[i];
    if (step > 0) s = clampi(s, 0, dim), e = clampi(e, 0, dim);
    else s = clampi(s, 0, dim - 1), e = clampi(e, -1, dim - 1);
    std::vector<int64_t>& pos = plan[a];
    for (int64_t j = s; step > 0 ? j < e : j > e; j += step) pos.push_back(j);
  }
  return plan;
}

std::pair<int64_t, int64_t> shape_range(int64_t start, int64_t end, int64_t rank) {
  auto clampi = [&](int64_t v) { return std::max<int64_t>(0, std::min(rank, v < 0 ? v + rank : v)); };
  const int64_t s = clampi(start);
  return {s, std::max(s, clampi(end))};
}

std::vector<int64_t> broadcast_shapes(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1, db = k < b.size() ? b[b.size() - 1 - k] : 1;
    if (da != db && da != 1 && db != 1)
      throw std::invalid_argument("shapes " + shape_str(a) + " and " + shape_str(b) + " do not broadcast");
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}

std::vector<int64_t> split_sizes(int64_t dim, int64_t parts, const std::vector<int64_t>& sizes) {
  if (parts < 1) throw std::invalid_argument("Split needs at least one output");
  if (sizes.empty()) {
    if (dim % parts)
      throw std::invalid_argument("dimension " + std::to_string(dim) + " does not split into " + std::to_string(parts) + " equal parts");
    return std::vector<int64_t>(static_cast<size_t>(parts), dim / parts);
  }
  int64_t total = 0;
  for (int64_t s : sizes) {
    if (s < 0) throw std::invalid_argument("negative split size " + std::to_string(s));
    total += s;
  }
  if (static_cast<int64_t>(sizes.size()) != parts || total != dim)
    throw std::invalid_argument("split sizes do not add up to dimension " + std::to_string(dim) + " over " +
                                std::to_string(parts) + " outputs");
  return sizes;
}

}  // namespace qforge::ir
