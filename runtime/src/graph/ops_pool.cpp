// MaxPool (float, uint8, int8), AveragePool / GlobalAveragePool / GlobalMaxPool (float), and the
// lowered qf.QAveragePool: average pooling between DequantizeLinear and QuantizeLinear, in integers.
#include <cmath>
#include <limits>
#include <type_traits>

#include "core/error.h"
#include "core/parallel.h"
#include "graph/op.h"
#include "graph/spatial.h"
#include "graph/qparams.h"
#include "kernels/pool_q.h"

namespace qfrt {

namespace {
// Float average pooling (max pooling of every type is maxpool_plane).
void float_avgpool(const Tensor& x, const PoolGeom& g, Tensor& y, int64_t planes) {
  const float* px = x.data<float>();
  float* py = y.data<float>();
  if (g.kh == g.H && g.kw == g.W && g.OH == 1 && g.OW == 1 && !(g.pt || g.pl || g.pb || g.pr)) {
    // Global: the window is the plane, in the same order as the loop below (the same sums), without its
    // per-element bounds checks (MobileNetV2's 1280 x 7 x 7 pool at batch 32: 2.7% of a run before).
    const int64_t n = g.H * g.W;
    parallel_for(planes, [&](int64_t p) {
      double sum = 0;
      for (int64_t i = 0; i < n; ++i) sum += px[p * n + i];
      py[p] = static_cast<float>(n ? sum / static_cast<double>(n) : 0.0);
    });
    return;
  }
  parallel_for(planes, [&](int64_t p) {
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        double sum = 0;
        int64_t count = 0;
        for (int64_t i = 0; i < g.kh; ++i)
          for (int64_t j = 0; j < g.kw; ++j) {
            const int64_t ih = oh * g.sh - g.pt + i * g.dh, iw = ow * g.sw - g.pl + j * g.dw;
            const bool inside = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W;
            const bool in_pads = ih >= -g.pt && ih < g.H + g.pb && iw >= -g.pl && iw < g.W + g.pr;
            if (inside) sum += px[(p * g.H + ih) * g.W + iw];
            if (inside || (g.count_include_pad && in_pads)) ++count;
          }
        py[(p * g.OH + oh) * g.OW + ow] = static_cast<float>(count ? sum / static_cast<double>(count) : 0.0);
      }
  });
}

template <class T> void maxpool_planes(const Tensor& x, const PoolGeom& g, Tensor& y, int64_t planes, Isa isa) {
  const int64_t ip = g.H * g.W, op = g.OH * g.OW;
  parallel_for(planes, [&](int64_t p) {
    const T* xp = x.data<T>() + p * ip;
    T* yp = y.data<T>() + p * op;
    if constexpr (!std::is_floating_point_v<T>)
      if (isa == Isa::Avx512Vnni && maxpool_plane_avx512(xp, g, yp)) return;
    maxpool_plane(xp, g, yp);
  });
}

struct PoolSetup {
  int64_t N, C, H, W;
  PoolGeom g;
  Shape out;
};

PoolSetup setup(const Node& n, const Tensor& x, bool global) {
  PoolSetup s;
  nchw(n, x.shape, s.N, s.C, s.H, s.W);
  Spatial sp;
  if (global) {
    sp.kh = s.H, sp.kw = s.W, sp.OH = 1, sp.OW = 1;
  } else {
    if (!n.has("kernel_shape")) fail(n.label() + ": kernel_shape is required");
    if (n.i("storage_order", 0) != 0) fail(n.label() + ": storage_order 1 is not supported");
    sp = resolve_spatial(n, x.shape, {}, n.i("ceil_mode", 0) != 0);
  }
  s.g = pool_geom(s.H, s.W, sp, n.i("count_include_pad", 0) != 0);
  s.out = out_shape(x.shape, s.C, sp);
  return s;
}

OpFactory pool(bool is_max, bool global) {
  return stateless([is_max, global](const Node& n, const Inputs& in, Outputs& out, Isa isa) {
    if (n.outputs.size() > 1 && !n.outputs[1].empty()) fail(n.label() + ": the Indices output is not supported");
    const Tensor& x = need(n, in, 0);
    const PoolSetup s = setup(n, x, global);
    out[0] = Tensor(x.dtype, s.out);
    const int64_t planes = s.N * s.C;
    if (x.dtype == DType::F32) return is_max ? maxpool_planes<float>(x, s.g, out[0], planes, isa) : float_avgpool(x, s.g, out[0], planes);
    if (!is_max) fail(n.label() + ": integer average pooling runs only between DequantizeLinear and QuantizeLinear");
    if (x.dtype == DType::U8) return maxpool_planes<uint8_t>(x, s.g, out[0], planes, isa);
    if (x.dtype == DType::S8) return maxpool_planes<int8_t>(x, s.g, out[0], planes, isa);
    fail(n.label() + ": unsupported input type " + dtype_name(x.dtype));
  });
}

// qf.QAveragePool(x, x_scale, x_zero_point, y_scale, y_zero_point), attribute qf_global.
void qavgpool(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& x = need(n, in, 0);
  const QParam xq = scalar_qparam(n, in, 1, 2, x.dtype), yq = scalar_qparam(n, in, 3, 4, DType::U8);
  const PoolSetup s = setup(n, x, n.i("qf_global", 0) != 0);
  out[0] = Tensor(yq.dtype, s.out);
  const int64_t planes = s.N * s.C, ip = s.H * s.W, op = s.g.OH * s.g.OW;
  const bool xs = x.dtype == DType::S8, ys = yq.dtype == DType::S8;
  const std::vector<FixedMultiplier> by_count = avgpool_multipliers(s.g, xq.scale, yq.scale);
  parallel_for(planes, [&](int64_t p) {
    const uint8_t* a = x.bytes.data() + p * ip;
    uint8_t* y = out[0].bytes.data() + p * op;
    if (!xs && !ys) avgpool_plane(a, s.g, by_count, xq.zp, yq.zp, y);
    else if (!xs && ys) avgpool_plane(a, s.g, by_count, xq.zp, yq.zp, reinterpret_cast<int8_t*>(y));
    else if (xs && !ys) avgpool_plane(reinterpret_cast<const int8_t*>(a), s.g, by_count, xq.zp, yq.zp, y);
    else avgpool_plane(reinterpret_cast<const int8_t*>(a), s.g, by_count, xq.zp, yq.zp, reinterpret_cast<int8_t*>(y));
  });
}
}  // namespace

void add_pool_ops(OpTable& t) {
  t["MaxPool"] = pool(true, false);
  t["AveragePool"] = pool(false, false);
  t["GlobalAveragePool"] = pool(false, true);
  t["GlobalMaxPool"] = pool(true, true);
  t["qf.QAveragePool"] = stateless(qavgpool);
}

}  // namespace qfrt
