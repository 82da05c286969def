#include "spatial_pads.h"

#include "qforge/exec/op_registry.h"

namespace qforge::exec {

ResolvedPads resolve_pads(const ir::Node& n, const at::Tensor& x, const std::vector<int64_t>& kernel,
                          const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations) {
  const size_t d = kernel.size();
  std::vector<int64_t> begin(d, 0), end(d, 0);
  std::string auto_pad = n.attrs.s("auto_pad", "NOTSET");
  if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
    for (size_t i = 0; i < d; ++i) {
      int64_t in = x.size(static_cast<int64_t>(2 + i));
      int64_t out = (in + strides[i] - 1) / strides[i];
      int64_t total = std::max<int64_t>(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - in);
      int64_t small = total / 2, big = total - small;
      begin[i] = auto_pad == "SAME_UPPER" ? small : big;
      end[i] = auto_pad == "SAME_UPPER" ? big : small;
    }
  } else if (auto_pad == "NOTSET") {
    std::vector<int64_t> pads = n.attrs.ints("pads", std::vector<int64_t>(2 * d, 0));
    if (pads.size() != 2 * d) op_error(n, "pads has " + std::to_string(pads.size()) + " entries, expected " + std::to_string(2 * d));
    for (size_t i = 0; i < d; ++i) {
      begin[i] = pads[i];
      end[i] = pads[i + d];
    }
  } else if (auto_pad != "VALID") {
    op_error(n, "auto_pad '" + auto_pad + "' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
  }
  ResolvedPads r;
  r.symmetric.resize(d);
  bool asym = false;
  for (size_t i = 0; i < d; ++i) {
    r.symmetric[i] = std::min(begin[i], end[i]);
    asym |= begin[i] != end[i];
  }
  if (asym) {
    // constant_pad_nd takes (last dim begin, last dim end, previous dim begin, ...).
    for (size_t i = d; i-- > 0;) {
      r.extra.push_back(begin[i] - r.symmetric[i]);
      r.extra.push_back(end[i] - r.symmetric[i]);
    }
  }
  return r;
}

}  // namespace qforge::exec
