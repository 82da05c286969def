#include "graph/spatial.h"

#include "core/error.h"

namespace qfrt {

void nchw(const Node& n, const Shape& x, int64_t& N, int64_t& C, int64_t& H, int64_t& W) {
  if (x.size() == 4) {
    N = x[0], C = x[1], H = x[2], W = x[3];
  } else if (x.size() == 3) {
    N = x[0], C = x[1], H = 1, W = x[2];
  } else {
    fail(n.label() + ": expected a 1-D or 2-D spatial input (rank 3 or 4), got shape " + shape_str(x));
  }
}

Spatial resolve_spatial(const Node& n, const Shape& x, std::vector<int64_t> kernel, bool ceil_mode) {
  int64_t N, C, H, W;
  nchw(n, x, N, C, H, W);
  const size_t nd = x.size() - 2;
  if (n.has("kernel_shape")) kernel = n.ints("kernel_shape", {});
  if (kernel.size() != nd) fail(n.label() + ": kernel has " + std::to_string(kernel.size()) + " dims, input " + shape_str(x));
  auto two = [&](const std::vector<int64_t>& v, int64_t def, int64_t& a, int64_t& b, const char* what) {
    if (v.empty()) {
      a = b = def;
    } else if (v.size() == nd) {
      a = nd == 2 ? v[0] : 1;
      b = v[nd - 1];
    } else {
      fail(n.label() + ": attribute '" + what + "' has the wrong length");
    }
  };
  Spatial s;
  two(kernel, 1, s.kh, s.kw, "kernel_shape");
  if (nd == 1) s.kh = 1;
  two(n.ints("strides", {}), 1, s.sh, s.sw, "strides");
  two(n.ints("dilations", {}), 1, s.dh, s.dw, "dilations");
  if (nd == 1) s.sh = s.dh = 1;
  if (s.kh < 1 || s.kw < 1 || s.sh < 1 || s.sw < 1 || s.dh < 1 || s.dw < 1 || s.kh > (1 << 20) || s.kw > (1 << 20) ||
      s.dh > (1 << 20) || s.dw > (1 << 20))
    fail(n.label() + ": kernel, strides and dilations must lie in [1, 2^20]");
  const std::string ap = n.s("auto_pad", "NOTSET");
  const int64_t ekh = (s.kh - 1) * s.dh + 1, ekw = (s.kw - 1) * s.dw + 1;
  if (ap == "NOTSET") {
    std::vector<int64_t> p = n.ints("pads", std::vector<int64_t>(2 * nd, 0));
    if (p.size() != 2 * nd) fail(n.label() + ": attribute 'pads' has the wrong length");
    for (int64_t v : p)
      if (v < 0 || v > (int64_t{1} << 20)) fail(n.label() + ": pads must lie in [0, 2^20]");
    if (nd == 2) s.pt = p[0], s.pl = p[1], s.pb = p[2], s.pr = p[3];
    else s.pl = p[0], s.pr = p[1];
    auto out = [&](int64_t in, int64_t pa, int64_t pb, int64_t ek, int64_t st) {
      const int64_t span = in + pa + pb - ek;
      if (span < 0) fail(n.label() + ": the kernel is larger than the padded input " + shape_str(x));
      int64_t o = (ceil_mode ? (span + st - 1) / st : span / st) + 1;
      // ceil_mode: the last window must start inside the input or left padding.
      if (ceil_mode && (o - 1) * st >= in + pa) --o;
      return o;
    };
    s.OH = out(H, s.pt, s.pb, ekh, s.sh);
    s.OW = out(W, s.pl, s.pr, ekw, s.sw);
  } else if (ap == "VALID") {
    s.OH = (H - ekh) / s.sh + 1;
    s.OW = (W - ekw) / s.sw + 1;
    if (H < ekh || W < ekw) fail(n.label() + ": the kernel is larger than the input " + shape_str(x));
  } else if (ap == "SAME_UPPER" || ap == "SAME_LOWER") {
    s.OH = (H + s.sh - 1) / s.sh;
    s.OW = (W + s.sw - 1) / s.sw;
    const int64_t ph = std::max<int64_t>(0, (s.OH - 1) * s.sh + ekh - H), pw = std::max<int64_t>(0, (s.OW - 1) * s.sw + ekw - W);
    const bool upper = ap == "SAME_UPPER";
    s.pt = upper ? ph / 2 : ph - ph / 2;
    s.pb = ph - s.pt;
    s.pl = upper ? pw / 2 : pw - pw / 2;
    s.pr = pw - s.pl;
  } else {
    fail(n.label() + ": auto_pad '" + ap + "' is not supported");
  }
  return s;
}

Shape out_shape(const Shape& x, int64_t C, const Spatial& s) {
  if (x.size() == 4) return {x[0], C, s.OH, s.OW};
  return {x[0], C, s.OW};
}

PoolGeom pool_geom(int64_t H, int64_t W, const Spatial& s, bool count_include_pad) {
  PoolGeom g;
  g.H = H, g.W = W, g.kh = s.kh, g.kw = s.kw, g.sh = s.sh, g.sw = s.sw, g.dh = s.dh, g.dw = s.dw;
  g.pt = s.pt, g.pl = s.pl, g.pb = s.pb, g.pr = s.pr, g.OH = s.OH, g.OW = s.OW;
  g.count_include_pad = count_include_pad;
  return g;
}

ConvGeom conv_geom(int64_t C, int64_t H, int64_t W, int64_t M, int64_t group, const Spatial& s) {
  ConvGeom g;
  g.C = C, g.H = H, g.W = W, g.M = M, g.group = group;
  g.kh = s.kh, g.kw = s.kw, g.sh = s.sh, g.sw = s.sw, g.dh = s.dh, g.dw = s.dw;
  g.pt = s.pt, g.pl = s.pl, g.pb = s.pb, g.pr = s.pr, g.OH = s.OH, g.OW = s.OW;
  return g;
}

}  // namespace qfrt
