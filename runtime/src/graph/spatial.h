// ONNX spatial attributes (kernel_shape, strides, dilations, pads, auto_pad, ceil_mode) resolved
// for 2-D NCHW ops; 1-D inputs are treated as H = 1.
#pragma once
#include "graph/graph.h"
#include "kernels/pack_panel.h"
#include "kernels/pool_q.h"

namespace qfrt {

struct Spatial {
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0, OH = 0, OW = 0;
};

// kernel: from the attribute, or from the weight's trailing dims (Conv). x: [N][C][H][W] or [N][C][W].
Spatial resolve_spatial(const Node& n, const Shape& x, std::vector<int64_t> kernel, bool ceil_mode);
// (N, C, H, W) of a 3-D or 4-D input.
void nchw(const Node& n, const Shape& x, int64_t& N, int64_t& C, int64_t& H, int64_t& W);
Shape out_shape(const Shape& x, int64_t C, const Spatial& s);
PoolGeom pool_geom(int64_t H, int64_t W, const Spatial& s, bool count_include_pad);
ConvGeom conv_geom(int64_t C, int64_t H, int64_t W, int64_t M, int64_t group, const Spatial& s);

}  // namespace qfrt
