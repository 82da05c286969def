// Index and shape ops: Shape, Gather, Squeeze, Unsqueeze, Slice, Split, Expand, ConstantOfShape, Cast.
// Import folds them away where their inputs are constant; these kernels run the rest.
#include "qforge/exec/op_registry.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/index_math.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

// Axes from input k (opset 13) or the attribute (older opsets; import usually moved it already).
std::vector<int64_t> axes_of(const ir::Node& n, const Ins& in, size_t k) {
  const at::Tensor& a = input(n, in, k);
  return a.defined() ? int64_values(a) : n.attrs.ints("axes", {});
}

// Runs an ir::index_math helper, naming the node in its error.
template <typename F>
auto checked(const ir::Node& n, F f) {
  return ir::with_reason(f, [&](const std::string& why) { op_error(n, why); });
}

int64_t norm_axis(const ir::Node& n, int64_t a, int64_t rank) {
  return checked(n, [&] { return ir::normalize_axis(a, rank); });
}

Ins shape(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const auto [s, e] = ir::shape_range(n.attrs.i("start", 0), n.attrs.i("end", x.dim()), x.dim());
  return {at::tensor(std::vector<int64_t>(x.sizes().begin() + s, x.sizes().begin() + e), at::kLong)};
}

Ins gather(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor &x = input(n, in, 0), &idx = input(n, in, 1);
  if (!idx.defined()) op_error(n, "needs indices");
  if (x.dim() == 0) op_error(n, "cannot gather from a scalar");
  const int64_t axis = norm_axis(n, n.attrs.i("axis", 0), x.dim()), len = x.size(axis);
  at::Tensor i = idx.to(at::kLong);
  if (i.numel() && (i.min().item<int64_t>() < -len || i.max().item<int64_t>() >= len))
    op_error(n, "an index is out of range for dimension " + std::to_string(len));
  i = at::where(i < 0, i + len, i);
  // index_select takes 1-D indices; the indices' shape replaces the axis.
  return {x.index_select(axis, i.reshape({-1})).reshape(ir::gather_shape(x.sizes().vec(), axis, i.sizes().vec()))};
}

Ins unsqueeze(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  return {x.reshape(checked(n, [&] { return ir::unsqueeze_shape(x.sizes().vec(), axes_of(n, in, 1)); }))};
}

Ins squeeze(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  return {x.reshape(checked(n, [&] { return ir::squeeze_shape(x.sizes().vec(), axes_of(n, in, 1)); }))};
}

Ins slice(const ir::Node& n, const Ins& in, OpContext&) {
  at::Tensor x = input(n, in, 0);
  const at::Tensor &st = input(n, in, 1), &en = input(n, in, 2);
  if (!st.defined() || !en.defined()) op_error(n, "needs starts and ends");
  std::vector<int64_t> axes, steps;
  if (input(n, in, 3).defined()) axes = int64_values(input(n, in, 3));
  if (input(n, in, 4).defined()) steps = int64_values(input(n, in, 4));
  const auto plan = checked(n, [&] { return ir::slice_plan(x.sizes().vec(), int64_values(st), int64_values(en), axes, steps); });
  for (const auto& [axis, pos] : plan) x = x.index_select(axis, at::tensor(pos, at::kLong));
  return {x};
}

Ins split(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const int64_t axis = norm_axis(n, n.attrs.i("axis", 0), x.dim());
  const std::vector<int64_t> given = input(n, in, 1).defined() ? int64_values(input(n, in, 1)) : n.attrs.ints("split", {});
  const std::vector<int64_t> sizes =
      checked(n, [&] { return ir::split_sizes(x.size(axis), static_cast<int64_t>(n.outputs.size()), given); });
  return x.split_with_sizes(sizes, axis);
}

Ins expand(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor &x = input(n, in, 0), &s = input(n, in, 1);
  if (!s.defined()) op_error(n, "needs a shape");
  return {x.expand(checked(n, [&] { return ir::broadcast_shapes(x.sizes().vec(), int64_values(s)); })).contiguous()};
}

Ins constant_of_shape(const ir::Node& n, const Ins& in, OpContext&) {
  std::vector<int64_t> shape = int64_values(input(n, in, 0));
  for (int64_t d : shape)
    if (d < 0) op_error(n, "negative dimension " + std::to_string(d) + " in the shape input");
  at::Tensor v = n.attrs.has("value") ? to_aten(n.attrs.t("value")) : at::zeros({1}, at::kFloat);
  if (v.numel() != 1) op_error(n, "value must hold one element");
  return {at::full(shape, v.reshape({}).item(), v.options())};
}

Ins cast(const ir::Node& n, const Ins& in, OpContext&) {
  return {input(n, in, 0).to(to_scalar_type(checked(n, [&] { return ir::dtype_from_onnx(n.attrs.i("to")); })))};
}
}  // namespace

void register_index_ops(OpRegistry& r) {
  r.add("Shape", shape);
  r.add("Gather", gather);
  r.add("Unsqueeze", unsqueeze);
  r.add("Squeeze", squeeze);
  r.add("Slice", slice);
  r.add("Split", split);
  r.add("Expand", expand);
  r.add("ConstantOfShape", constant_of_shape);
  r.add("Cast", cast);
}

}  // namespace qforge::exec
