// Shape, Gather, Unsqueeze, Squeeze, Slice, Split, Expand, ConstantOfShape, Cast, Resize. Index and
// shape operands (axes, starts, target shapes, scales) must be constants: import folds the arithmetic
// that computes them (fold_shapes), and what is left dynamic is reported here, naming the input.
#include <cmath>
#include <stdexcept>

#include "qforge/ir/index_math.h"
#include "shape_rules.h"

namespace qforge::ir::shape {

namespace {
template <typename F>
auto checked(const Ctx& c, F f) {
  return with_reason(f, [&](const std::string& why) { c.fail(why); });
}

// Constant input k as int64s ({} when omitted); fails naming it when it is computed at run time.
std::vector<int64_t> const_ints(const Ctx& c, size_t k) {
  if (!c.has(k)) return {};
  const Tensor* t = c.constant(k);
  if (!t) c.fail("input " + std::to_string(k) + " '" + c.node().inputs[k] + "' is not constant; only constant index operands are supported");
  return t->to_int64s();
}

std::vector<ValueInfo> shape_op(const Ctx& c) {
  c.arity(1, 1);
  const int64_t rank = static_cast<int64_t>(c.shape(0).size());
  const auto [s, e] = shape_range(c.attrs().i("start", 0), c.attrs().i("end", rank), rank);
  return {info(DType::Int64, {e - s})};
}

std::vector<ValueInfo> gather(const Ctx& c) {
  c.arity(2, 2);
  const ValueInfo& x = c.in(0);
  const int64_t axis = checked(c, [&] { return normalize_axis(c.attrs().i("axis", 0), static_cast<int64_t>(x.shape.size())); });
  return {info(x.dtype, gather_shape(x.shape, axis, c.shape(1)))};
}

std::vector<int64_t> axes(const Ctx& c) { return c.has(1) ? const_ints(c, 1) : c.attrs().ints("axes", {}); }

std::vector<ValueInfo> unsqueeze(const Ctx& c) {
  c.arity(1, 2);
  return {info(c.in(0).dtype, checked(c, [&] { return unsqueeze_shape(c.shape(0), axes(c)); }))};
}

std::vector<ValueInfo> squeeze(const Ctx& c) {
  c.arity(1, 2);
  return {info(c.in(0).dtype, checked(c, [&] { return squeeze_shape(c.shape(0), axes(c)); }))};
}

std::vector<ValueInfo> slice(const Ctx& c) {
  c.arity(3, 5);
  std::vector<int64_t> out = c.shape(0);
  const auto plan = checked(c, [&] { return slice_plan(out, const_ints(c, 1), const_ints(c, 2), const_ints(c, 3), const_ints(c, 4)); });
  for (const auto& [axis, pos] : plan) out[axis] = static_cast<int64_t>(pos.size());
  return {info(c.in(0).dtype, out)};
}

std::vector<ValueInfo> split(const Ctx& c) {
  c.arity(1, 2);
  const ValueInfo& x = c.in(0);
  const int64_t axis = checked(c, [&] { return normalize_axis(c.attrs().i("axis", 0), static_cast<int64_t>(x.shape.size())); });
  const std::vector<int64_t> given = c.has(1) ? const_ints(c, 1) : c.attrs().ints("split", {});
  const std::vector<int64_t> sizes = checked(c, [&] {
    return split_sizes(x.shape[axis], static_cast<int64_t>(c.node().outputs.size()), given);
  });
  std::vector<ValueInfo> out;
  for (int64_t s : sizes) {
    std::vector<int64_t> shape = x.shape;
    shape[axis] = s;
    out.push_back(info(x.dtype, shape));
  }
  return out;
}

std::vector<ValueInfo> expand(const Ctx& c) {
  c.arity(2, 2);
  return {info(c.in(0).dtype, checked(c, [&] { return broadcast_shapes(c.shape(0), const_ints(c, 1)); }))};
}

std::vector<ValueInfo> constant_of_shape(const Ctx& c) {
  c.arity(1, 1);
  const DType t = c.attrs().has("value") ? c.attrs().t("value").dtype : DType::Float32;
  return {info(t, const_ints(c, 0))};
}

std::vector<ValueInfo> cast(const Ctx& c) {
  c.arity(1, 1);
  return {info(checked(c, [&] { return dtype_from_onnx(c.attrs().i("to")); }), c.shape(0))};
}

// Resize(X, roi, scales, sizes): floor(dim * scale) per axis, or the sizes.
std::vector<ValueInfo> resize(const Ctx& c) {
  c.arity(1, 4);
  std::vector<int64_t> out = c.shape(0);
  const Tensor* scales = c.has(2) ? c.constant(2) : nullptr;
  const Tensor* sizes = c.has(3) ? c.constant(3) : nullptr;
  if (c.has(2) && !scales) c.fail("scales input is not constant");
  if (c.has(3) && !sizes) c.fail("sizes input is not constant");
  if (scales && scales->numel() > 0) {
    const std::vector<float> s = scales->to_floats();
    if (s.size() != out.size()) c.fail("scales has " + std::to_string(s.size()) + " entries for input " + str(out));
    for (size_t d = 0; d < out.size(); ++d) out[d] = static_cast<int64_t>(std::floor(static_cast<double>(out[d]) * s[d]));
  } else if (sizes && sizes->numel() > 0) {
    const std::vector<int64_t> s = sizes->to_int64s();
    if (s.size() != out.size()) c.fail("sizes has " + std::to_string(s.size()) + " entries for input " + str(out));
    out = s;
  } else {
    c.fail("needs scales or sizes");
  }
  return {info(c.in(0).dtype, out)};
}
}  // namespace

void add_index_rules(std::map<std::string, Rule>& r) {
  r["Shape"] = shape_op;
  r["Gather"] = gather;
  r["Unsqueeze"] = unsqueeze;
  r["Squeeze"] = squeeze;
  r["Slice"] = slice;
  r["Split"] = split;
  r["Expand"] = expand;
  r["ConstantOfShape"] = constant_of_shape;
  r["Cast"] = cast;
  r["Resize"] = resize;
}

}  // namespace qforge::ir::shape
