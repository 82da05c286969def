// Constant folding of data-movement ops on ir::Tensor of any dtype: elements are copied as bytes, so one
// routine serves int64 shape arithmetic and float constants alike.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "fold_ops.h"
#include "qforge/ir/index_math.h"

namespace qforge::ir::fold {

namespace {
[[noreturn]] void fail(const Node& n, const std::string& why) {
  throw std::runtime_error("constant folding: node '" + n.name + "' (" + n.op + "): " + why);
}

// Runs an index_math helper, naming the node in its error.
template <typename F>
auto checked(const Node& n, F f) {
  return with_reason(f, [&](const std::string& why) { fail(n, why); });
}

// x's elements at positions `idx` along `axis`; the axis is replaced by `idx_shape`.
Tensor take(const Tensor& x, int64_t axis, const std::vector<int64_t>& idx, const std::vector<int64_t>& idx_shape) {
  Tensor out(x.dtype, gather_shape(x.shape, axis, idx_shape));
  int64_t outer = 1, inner = static_cast<int64_t>(dtype_size(x.dtype));
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape[d];
  for (size_t d = static_cast<size_t>(axis) + 1; d < x.shape.size(); ++d) inner *= x.shape[d];
  const int64_t len = x.shape[axis];
  uint8_t* dst = out.bytes.data();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx) {
      std::memcpy(dst, x.bytes.data() + (o * len + i) * inner, static_cast<size_t>(inner));
      dst += inner;
    }
  return out;
}

std::vector<int64_t> axes_of(const Node& n, const std::vector<const Tensor*>& in, size_t k) {
  if (in.size() > k) return in[k]->to_int64s();
  return n.attrs.ints("axes", {});
}

Tensor gather(const Node& n, const Tensor& x, const Tensor& indices) {
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  if (rank == 0) fail(n, "cannot gather from a scalar");
  const int64_t axis = checked(n, [&] { return normalize_axis(n.attrs.i("axis", 0), rank); });
  std::vector<int64_t> idx = indices.to_int64s();
  for (int64_t& i : idx) {
    if (i < -x.shape[axis] || i >= x.shape[axis])
      fail(n, "index " + std::to_string(i) + " is out of range for dimension " + std::to_string(x.shape[axis]));
    if (i < 0) i += x.shape[axis];
  }
  return take(x, axis, idx, indices.shape);
}

Tensor slice(const Node& n, const std::vector<const Tensor*>& in) {
  std::vector<int64_t> starts, ends, axes, steps;
  if (in.size() < 3) fail(n, "needs starts and ends inputs");
  starts = in[1]->to_int64s(), ends = in[2]->to_int64s();
  if (in.size() > 3) axes = in[3]->to_int64s();
  if (in.size() > 4) steps = in[4]->to_int64s();
  Tensor out = *in[0];
  for (const auto& [axis, pos] : checked(n, [&] { return slice_plan(in[0]->shape, starts, ends, axes, steps); }))
    out = take(out, axis, pos, {static_cast<int64_t>(pos.size())});
  return out;
}

Tensor constant_of_shape(const Node& n, const Tensor& shape) {
  std::vector<int64_t> dims = shape.to_int64s();
  for (int64_t d : dims)
    if (d < 0) fail(n, "negative dimension " + std::to_string(d));
  Tensor value = n.attrs.has("value") ? n.attrs.t("value") : Tensor::floats({1}, {0.f});
  if (value.numel() != 1) fail(n, "value must hold one element");
  Tensor out(value.dtype, dims);
  const size_t es = dtype_size(value.dtype);
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(out.bytes.data() + i * es, value.bytes.data(), es);
  return out;
}

// Expand: numpy broadcast of x to `target` (either side may have 1s).
Tensor expand(const Node& n, const Tensor& x, const std::vector<int64_t>& target) {
  const std::vector<int64_t> shape = checked(n, [&] { return broadcast_shapes(x.shape, target); });
  Tensor out = x;
  out.shape.insert(out.shape.begin(), shape.size() - x.shape.size(), 1);
  for (size_t d = 0; d < shape.size(); ++d)
    if (out.shape[d] != shape[d]) out = take(out, static_cast<int64_t>(d), std::vector<int64_t>(shape[d], 0), {shape[d]});
  return out;
}

Tensor reshaped(Tensor x, std::vector<int64_t> shape) {
  x.shape = std::move(shape);
  return x;
}
}  // namespace

Tensor shape_of(const Node& n, const std::vector<int64_t>& shape) {
  const auto [s, e] = shape_range(n.attrs.i("start", 0), n.attrs.i("end", static_cast<int64_t>(shape.size())),
                                  static_cast<int64_t>(shape.size()));
  return Tensor::int64s({e - s}, std::vector<int64_t>(shape.begin() + s, shape.begin() + e));
}

// Folding materializes the result: a constant larger than this (a corrupt or adversarial shape
// operand) is left to the executor instead of being allocated at import.
constexpr int64_t kMaxFoldedElements = int64_t{1} << 24;

bool fits(std::vector<int64_t> a, const std::vector<int64_t>& b = {}) {
  const std::vector<int64_t> shape = b.empty() ? a : broadcast_shapes(a, b);
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d > 0 && n > kMaxFoldedElements / d)) return false;
    n *= d;
  }
  return n <= kMaxFoldedElements;
}

bool evaluate_data_op(const Node& n, const std::vector<const Tensor*>& in, Tensor& out) {
  const std::string& op = n.op;
  if (op == "ConstantOfShape" && !fits(in[0]->to_int64s())) return false;
  if (op == "Expand" && in.size() == 2 && !checked(n, [&] { return fits(in[0]->shape, in[1]->to_int64s()); })) return false;
  if (op == "Shape") out = shape_of(n, in[0]->shape);
  else if (op == "Gather" && in.size() == 2) out = gather(n, *in[0], *in[1]);
  else if (op == "Unsqueeze") out = reshaped(*in[0], checked(n, [&] { return unsqueeze_shape(in[0]->shape, axes_of(n, in, 1)); }));
  else if (op == "Squeeze") out = reshaped(*in[0], checked(n, [&] { return squeeze_shape(in[0]->shape, axes_of(n, in, 1)); }));
  else if (op == "Slice") out = slice(n, in);
  else if (op == "Cast") out = in[0]->cast(checked(n, [&] { return dtype_from_onnx(n.attrs.i("to")); }));
  else if (op == "ConstantOfShape") out = constant_of_shape(n, *in[0]);
  else if (op == "Expand" && in.size() == 2) out = expand(n, *in[0], in[1]->to_int64s());
  else return false;
  return true;
}

}  // namespace qforge::ir::fold
