// MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (2-D; ONNX semantics).
#include "qforge/exec/op_registry.h"
#include "spatial_pads.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

struct PoolParams {
  std::vector<int64_t> kernel, strides, dilations;
  ResolvedPads pads;
  bool ceil_mode;
};

PoolParams pool_params(const ir::Node& n, const at::Tensor& x) {
  if (x.dim() != 4) op_error(n, "only 2-D pooling on [N,C,H,W] is supported, input has " + std::to_string(x.dim()) + " dims");
  PoolParams p;
  p.kernel = n.attrs.ints("kernel_shape");
  p.strides = n.attrs.ints("strides", std::vector<int64_t>(p.kernel.size(), 1));
  p.dilations = n.attrs.ints("dilations", std::vector<int64_t>(p.kernel.size(), 1));
  p.pads = resolve_pads(n, x, p.kernel, p.strides, p.dilations);
  p.ceil_mode = n.attrs.i("ceil_mode", 0) != 0;
  return p;
}

std::vector<at::Tensor> maxpool(const ir::Node& n, const Ins& in, OpContext&) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) op_error(n, "the Indices output is not supported");
  const at::Tensor& x = input(n, in, 0);
  PoolParams p = pool_params(n, x);
  at::Tensor xi = p.pads.extra.empty() ? x : at::constant_pad_nd(x, p.pads.extra, -std::numeric_limits<double>::infinity());
  return {at::max_pool2d(xi, p.kernel, p.strides, p.pads.symmetric, p.dilations, p.ceil_mode)};
}

std::vector<at::Tensor> avgpool(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  PoolParams p = pool_params(n, x);
  bool count_pad = n.attrs.i("count_include_pad", 0) != 0;
  if (!p.pads.extra.empty() && !count_pad) op_error(n, "asymmetric padding with count_include_pad=0 is not supported");
  at::Tensor xi = p.pads.extra.empty() ? x : at::constant_pad_nd(x, p.pads.extra, 0);
  return {at::avg_pool2d(xi, p.kernel, p.strides, p.pads.symmetric, p.ceil_mode, count_pad)};
}
}  // namespace

void register_pool_ops(OpRegistry& r) {
  r.add("MaxPool", maxpool);
  r.add("AveragePool", avgpool);
  r.add("GlobalAveragePool", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    std::vector<int64_t> dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return {x.mean(dims, /*keepdim=*/true)};
  });
  r.add("GlobalMaxPool", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    return {at::amax(x, at::IntArrayRef(std::vector<int64_t>{2, 3}), true)};
  });
}

}  // namespace qforge::exec
