// Data-movement ops: Flatten, Reshape, Transpose, Concat, Pad, Identity, Dropout.
#include "qforge/exec/op_registry.h"
#include "qforge/exec/tensor_convert.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

int64_t norm_axis(const ir::Node& n, int64_t axis, int64_t rank, bool allow_end = false) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a > rank || (a == rank && !allow_end))
    op_error(n, "axis " + std::to_string(axis) + " out of range for rank " + std::to_string(rank));
  return a;
}

std::vector<at::Tensor> reshape(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor& s = input(n, in, 1);
  if (!s.defined()) op_error(n, "needs a shape input");
  std::vector<int64_t> shape = int64_values(s);
  bool allowzero = n.attrs.i("allowzero", 0) != 0;
  for (size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 0 && !allowzero) {
      if (static_cast<int64_t>(i) >= x.dim()) op_error(n, "shape entry 0 at position " + std::to_string(i) + " has no input dim to copy");
      shape[i] = x.size(static_cast<int64_t>(i));
    }
  try {
    return {x.reshape(shape)};
  } catch (const c10::Error&) {
    op_error(n, "cannot reshape " + std::string(c10::str(x.sizes())) + " to " + c10::str(at::IntArrayRef(shape)));
  }
}
}  // namespace

void register_shape_ops(OpRegistry& r) {
  r.add("Flatten", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    int64_t axis = norm_axis(n, n.attrs.i("axis", 1), x.dim(), true);
    int64_t outer = 1;
    for (int64_t d = 0; d < axis; ++d) outer *= x.size(d);
    return {x.reshape({outer, outer == 0 ? 0 : -1})};
  });
  r.add("Reshape", reshape);
  r.add("Transpose", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    std::vector<int64_t> perm;
    for (int64_t d = x.dim() - 1; d >= 0; --d) perm.push_back(d);
    return {x.permute(n.attrs.ints("perm", perm))};
  });
  r.add("Concat", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    if (in.empty()) op_error(n, "needs at least one input");
    return {at::cat(in, norm_axis(n, n.attrs.i("axis"), in[0].dim()))};
  });
  // Pad: pads from input 1 (opset >= 11) or the attribute (older), [begin..., end...] per axis;
  // negative pads crop. constant mode any axes; reflect / edge on the spatial axes (torch's limits).
  r.add("Pad", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    std::vector<int64_t> pads;
    const at::Tensor& p = input(n, in, 1);
    if (p.defined()) {
      pads = int64_values(p);
    } else {
      pads = n.attrs.ints("pads", {});
    }
    const int64_t rank = x.dim();
    if (static_cast<int64_t>(pads.size()) != 2 * rank)
      op_error(n, "pads has " + std::to_string(pads.size()) + " entries, input rank " + std::to_string(rank) + " needs " + std::to_string(2 * rank));
    std::vector<int64_t> tp;  // torch order: last axis first, (begin, end) pairs
    for (int64_t d = rank; d-- > 0;) tp.push_back(pads[d]), tp.push_back(pads[d + rank]);
    const std::string mode = n.attrs.s("mode", "constant");
    if (mode == "constant") {
      const at::Tensor& v = input(n, in, 2);
      const double value = v.defined() && v.numel() > 0 ? v.item<double>() : n.attrs.f("value", 0.0);
      return {at::constant_pad_nd(x, tp, value)};
    }
    if (mode != "reflect" && mode != "edge") op_error(n, "mode '" + mode + "' is not one of constant, reflect, edge");
    const int64_t spatial = rank - 2;
    if (spatial < 1 || spatial > 3 || pads[0] || pads[1] || pads[rank] || pads[rank + 1])
      op_error(n, "mode '" + mode + "' pads only the 1-3 spatial axes of an N x C x ... input");
    tp.resize(static_cast<size_t>(2 * spatial));
    try {
      // torch pads floats only in these modes; integers go through double (exact below 2^53).
      const at::Tensor xf = x.is_floating_point() ? x : x.to(at::kDouble);
      return {at::pad(xf, tp, mode == "reflect" ? "reflect" : "replicate").to(x.scalar_type())};
    } catch (const c10::Error& e) {
      op_error(n, std::string("cannot pad: ") + e.what_without_backtrace());
    }
  });
  r.add("Identity", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins { return {input(n, in, 0)}; });
  // Ratio from the attribute (opset <= 10) or the optional second input (opset >= 12).
  r.add("Dropout", [](const ir::Node& n, const Ins& in, OpContext& ctx) -> Ins {
    if (n.outputs.size() > 1 && !n.outputs[1].empty()) op_error(n, "the mask output is not supported");
    const at::Tensor& r = input(n, in, 1);
    double ratio = r.defined() ? r.item<double>() : n.attrs.f("ratio", 0.5);
    return {at::dropout(input(n, in, 0), ratio, ctx.training)};
  });
}

}  // namespace qforge::exec
