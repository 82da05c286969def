// ONNX spatial padding (pads / auto_pad) resolved to what ATen convolution and pooling take.
#pragma once
#include <ATen/ATen.h>

#include <vector>

#include "qforge/ir/graph.h"

namespace qforge::exec {

struct ResolvedPads {
  std::vector<int64_t> symmetric;  // per spatial dim, passed to the ATen op
  std::vector<int64_t> extra;      // constant_pad_nd spec for the asymmetric remainder ({} if none)
};

// kernel/stride/dilation per spatial dim; input is [N, C, spatial...].
ResolvedPads resolve_pads(const ir::Node& n, const at::Tensor& x, const std::vector<int64_t>& kernel,
                          const std::vector<int64_t>& strides, const std::vector<int64_t>& dilations);

}  // namespace qforge::exec
