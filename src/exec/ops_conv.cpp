// Conv (ONNX): any number of spatial dims, groups, dilation, explicit or automatic padding.
#include "qforge/exec/op_registry.h"
#include "spatial_pads.h"

namespace qforge::exec {

namespace {
std::vector<at::Tensor> conv(const ir::Node& n, const std::vector<at::Tensor>& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor& w = input(n, in, 1);
  const at::Tensor& b = input(n, in, 2);
  if (!x.defined() || !w.defined()) op_error(n, "needs input and weight");
  const size_t d = static_cast<size_t>(w.dim()) - 2;
  if (x.dim() != w.dim())
    op_error(n, "input has " + std::to_string(x.dim()) + " dims but weight has " + std::to_string(w.dim()));
  std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
  std::vector<int64_t> strides = n.attrs.ints("strides", std::vector<int64_t>(d, 1));
  std::vector<int64_t> dil = n.attrs.ints("dilations", std::vector<int64_t>(d, 1));
  int64_t group = n.attrs.i("group", 1);
  if (x.size(1) != w.size(1) * group)
    op_error(n, "input has " + std::to_string(x.size(1)) + " channels, weight expects " +
                    std::to_string(w.size(1) * group) + " (" + std::to_string(w.size(1)) + " x group " +
                    std::to_string(group) + ")");
  ResolvedPads p = resolve_pads(n, x, kernel, strides, dil);
  at::Tensor xi = p.extra.empty() ? x : at::constant_pad_nd(x, p.extra, 0);
  return {at::convolution(xi, w, b, strides, p.symmetric, dil, false, std::vector<int64_t>(d, 0), group)};
}
}  // namespace

void register_conv_ops(OpRegistry& r) { r.add("Conv", conv); }

}  // namespace qforge::exec
