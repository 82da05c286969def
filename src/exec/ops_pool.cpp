// MaxPool, AveragePool (1-D, 2-D, 3-D), GlobalAveragePool, GlobalMaxPool, ReduceMean; ONNX semantics.
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
  PoolParams p;
  p.kernel = n.attrs.ints("kernel_shape");
  if (x.dim() != static_cast<int64_t>(p.kernel.size()) + 2 || p.kernel.size() > 3)
    op_error(n, "kernel_shape has " + std::to_string(p.kernel.size()) + " dims but the input has " + std::to_string(x.dim()));
  p.strides = n.attrs.ints("strides", std::vector<int64_t>(p.kernel.size(), 1));
  p.dilations = n.attrs.ints("dilations", std::vector<int64_t>(p.kernel.size(), 1));
  p.pads = resolve_pads(n, x, p.kernel, p.strides, p.dilations);
  p.ceil_mode = n.attrs.i("ceil_mode", 0) != 0;
  // ATen takes at most half the kernel as padding; pad explicitly beyond that.
  for (size_t i = 0; i < p.kernel.size(); ++i)
    if (p.pads.symmetric[i] * 2 > p.kernel[i]) {
      std::vector<int64_t> extra(2 * p.kernel.size(), 0);
      for (size_t d = 0; d < p.kernel.size(); ++d) {
        size_t j = 2 * (p.kernel.size() - 1 - d);
        int64_t e0 = p.pads.extra.empty() ? 0 : p.pads.extra[j], e1 = p.pads.extra.empty() ? 0 : p.pads.extra[j + 1];
        extra[j] = e0 + p.pads.symmetric[d];
        extra[j + 1] = e1 + p.pads.symmetric[d];
        p.pads.symmetric[d] = 0;
      }
      p.pads.extra = extra;
      break;
    }
  return p;
}

at::Tensor max_pool(const at::Tensor& x, const PoolParams& p) {
  switch (p.kernel.size()) {
    case 1: return at::max_pool1d(x, p.kernel, p.strides, p.pads.symmetric, p.dilations, p.ceil_mode);
    case 2: return at::max_pool2d(x, p.kernel, p.strides, p.pads.symmetric, p.dilations, p.ceil_mode);
    default: return at::max_pool3d(x, p.kernel, p.strides, p.pads.symmetric, p.dilations, p.ceil_mode);
  }
}

at::Tensor avg_pool(const at::Tensor& x, const PoolParams& p, bool count_pad) {
  switch (p.kernel.size()) {
    case 1: return at::avg_pool1d(x, p.kernel, p.strides, p.pads.symmetric, p.ceil_mode, count_pad);
    case 2: return at::avg_pool2d(x, p.kernel, p.strides, p.pads.symmetric, p.ceil_mode, count_pad);
    default: return at::avg_pool3d(x, p.kernel, p.strides, p.pads.symmetric, p.ceil_mode, count_pad);
  }
}

std::vector<at::Tensor> maxpool(const ir::Node& n, const Ins& in, OpContext&) {
  if (n.outputs.size() > 1 && !n.outputs[1].empty()) op_error(n, "the Indices output is not supported");
  const at::Tensor& x = input(n, in, 0);
  if (!x.is_floating_point()) op_error(n, "integer MaxPool is not supported");
  PoolParams p = pool_params(n, x);
  at::Tensor xi = p.pads.extra.empty() ? x : at::constant_pad_nd(x, p.pads.extra, -std::numeric_limits<double>::infinity());
  return {max_pool(xi, p)};
}

std::vector<at::Tensor> avgpool(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  PoolParams p = pool_params(n, x);
  bool count_pad = n.attrs.i("count_include_pad", 0) != 0;
  if (p.pads.extra.empty()) return {avg_pool(x, p, count_pad)};
  if (count_pad) return {avg_pool(at::constant_pad_nd(x, p.pads.extra, 0), p, true)};
  // Padding excluded from the count: average of the padded input over the padded ones-mask.
  std::vector<int64_t> mask_shape(x.sizes().begin(), x.sizes().end());
  mask_shape[0] = mask_shape[1] = 1;
  at::Tensor mask = at::constant_pad_nd(at::ones(mask_shape, x.options()), p.pads.extra, 0);
  return {avg_pool(at::constant_pad_nd(x, p.pads.extra, 0), p, true) / avg_pool(mask, p, true)};
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
  // ReduceMean (opset <= 17: axes attribute; none = every axis), as exporters write x.mean(dims).
  r.add("ReduceMean", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    std::vector<int64_t> axes = n.attrs.ints("axes", {});
    if (axes.empty())
      for (int64_t d = 0; d < x.dim(); ++d) axes.push_back(d);
    for (int64_t& a : axes) {
      if (a < -x.dim() || a >= x.dim()) op_error(n, "axis " + std::to_string(a) + " out of range for rank " + std::to_string(x.dim()));
      if (a < 0) a += x.dim();
    }
    return {x.mean(axes, n.attrs.i("keepdims", 1) != 0)};
  });
  r.add("GlobalMaxPool", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    std::vector<int64_t> dims;
    for (int64_t d = 2; d < x.dim(); ++d) dims.push_back(d);
    return {at::amax(x, dims, true)};
  });
}

}  // namespace qforge::exec
