// Conv, MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool (1-D, 2-D and 3-D, ONNX semantics), ReduceMean.
#include "shape_rules.h"

namespace qforge::ir::shape {

namespace {

std::vector<int64_t> ints_of_size(const Ctx& c, const std::string& name, size_t n, int64_t dflt, int64_t min) {
  std::vector<int64_t> v = c.attrs().ints(name, std::vector<int64_t>(n, dflt));
  if (v.size() != n)
    c.fail(name + " " + str(v) + " has " + std::to_string(v.size()) + " entries, expected " + std::to_string(n));
  for (int64_t x : v)
    if (x < min) c.fail(name + " " + str(v) + " has an entry below " + std::to_string(min));
  return v;
}

// Output spatial sizes of a sliding window over x = [N, C, spatial...] (ONNX Conv / pooling
// formulas). ceil_mode drops a last window that would start in the end padding, as PyTorch
// and ONNX Runtime do.
std::vector<int64_t> window_out(const Ctx& c, const std::vector<int64_t>& x, const std::vector<int64_t>& kernel,
                                const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations,
                                bool ceil_mode) {
  const size_t nd = kernel.size();
  const std::string auto_pad = c.attrs().s("auto_pad", "NOTSET");
  std::vector<int64_t> pads(2 * nd, 0);
  if (auto_pad == "NOTSET") {
    pads = ints_of_size(c, "pads", 2 * nd, 0, 0);
  } else if (auto_pad != "VALID" && auto_pad != "SAME_UPPER" && auto_pad != "SAME_LOWER") {
    c.fail("auto_pad '" + auto_pad + "' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
  }
  std::vector<int64_t> out(nd);
  for (size_t i = 0; i < nd; ++i) {
    const int64_t in = x[2 + i], s = strides[i], eff = (kernel[i] - 1) * dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      out[i] = (in + s - 1) / s;
    } else {
      const int64_t span = in + pads[i] + pads[i + nd] - eff;
      if (span < 0)
        c.fail("window " + std::to_string(eff) + " (kernel " + str(kernel) + ", dilations " + str(dilations) +
               ") does not fit input " + str(x) + " padded by " + str(pads));
      out[i] = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
      if (ceil_mode && (out[i] - 1) * s >= in + pads[i]) --out[i];
    }
    if (out[i] < 1) c.fail("output size " + std::to_string(out[i]) + " in spatial dim " + std::to_string(i) + " for input " + str(x));
  }
  return out;
}

std::vector<ValueInfo> conv(const Ctx& c) {
  c.arity(2, 3);
  const ValueInfo& xi = c.in(0);
  const std::vector<int64_t>& x = xi.shape;
  const std::vector<int64_t>& w = c.shape(1);
  if (x.size() < 3) c.fail("input " + str(x) + " must be [N, C, spatial...]");
  if (w.size() != x.size()) c.fail("weight " + str(w) + " and input " + str(x) + " differ in rank");
  const size_t nd = x.size() - 2;
  const std::vector<int64_t> wk(w.begin() + 2, w.end());
  const std::vector<int64_t> kernel = c.attrs().ints("kernel_shape", wk);
  if (kernel != wk) c.fail("kernel_shape " + str(kernel) + " does not match weight " + str(w));
  const int64_t group = c.attrs().i("group", 1);
  if (group < 1) c.fail("group " + std::to_string(group) + " must be >= 1");
  if (x[1] != w[1] * group)
    c.fail("input " + str(x) + " has " + std::to_string(x[1]) + " channels but weight " + str(w) + " with group " +
           std::to_string(group) + " expects " + std::to_string(w[1] * group));
  if (w[0] % group) c.fail("weight " + str(w) + ": " + std::to_string(w[0]) + " output channels not divisible by group " + std::to_string(group));
  if (c.has(2) && c.shape(2) != std::vector<int64_t>{w[0]})
    c.fail("bias " + str(c.shape(2)) + " does not match weight " + str(w) + " (expected [" + std::to_string(w[0]) + "])");
  const std::vector<int64_t> strides = ints_of_size(c, "strides", nd, 1, 1);
  const std::vector<int64_t> dilations = ints_of_size(c, "dilations", nd, 1, 1);
  std::vector<int64_t> out{x[0], w[0]};
  for (int64_t d : window_out(c, x, kernel, strides, dilations, false)) out.push_back(d);
  return {info(xi.dtype, out)};
}

std::vector<ValueInfo> pool(const Ctx& c) {
  c.arity(1, 1);
  const ValueInfo& xi = c.in(0);
  const std::vector<int64_t>& x = xi.shape;
  if (x.size() < 3) c.fail("input " + str(x) + " must be [N, C, spatial...]");
  const size_t nd = x.size() - 2;
  if (!c.attrs().has("kernel_shape")) c.fail("attribute kernel_shape is required");
  const std::vector<int64_t> kernel = ints_of_size(c, "kernel_shape", nd, 1, 1);
  const std::vector<int64_t> strides = ints_of_size(c, "strides", nd, 1, 1);
  const std::vector<int64_t> dilations = ints_of_size(c, "dilations", nd, 1, 1);
  std::vector<int64_t> out{x[0], x[1]};
  for (int64_t d : window_out(c, x, kernel, strides, dilations, c.attrs().i("ceil_mode", 0) != 0)) out.push_back(d);
  return {info(xi.dtype, out), info(DType::Int64, out)};  // MaxPool's optional Indices
}

std::vector<ValueInfo> reduce_mean(const Ctx& c) {
  c.arity(1, 1);
  const ValueInfo& x = c.in(0);
  const int64_t rank = static_cast<int64_t>(x.shape.size());
  std::vector<int64_t> axes = c.attrs().ints("axes", {});
  std::vector<bool> reduced(static_cast<size_t>(rank), axes.empty());
  for (int64_t a : axes) reduced[static_cast<size_t>(axis(c, a, rank))] = true;
  const bool keep = c.attrs().i("keepdims", 1) != 0;
  std::vector<int64_t> out;
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[d]) out.push_back(x.shape[d]);
    else if (keep) out.push_back(1);
  return {info(x.dtype, out)};
}

std::vector<ValueInfo> global_pool(const Ctx& c) {
  c.arity(1, 1);
  const ValueInfo& xi = c.in(0);
  if (xi.shape.size() < 3) c.fail("input " + str(xi.shape) + " must be [N, C, spatial...]");
  std::vector<int64_t> out(xi.shape.size(), 1);
  out[0] = xi.shape[0];
  out[1] = xi.shape[1];
  return {info(xi.dtype, out)};
}

}  // namespace

void add_conv_pool_rules(std::map<std::string, Rule>& r) {
  r["Conv"] = conv;
  r["MaxPool"] = pool;
  r["AveragePool"] = [](const Ctx& c) { return std::vector<ValueInfo>{pool(c)[0]}; };
  r["GlobalAveragePool"] = global_pool;
  r["GlobalMaxPool"] = global_pool;
  r["ReduceMean"] = reduce_mean;
}

}  // namespace qforge::ir::shape
