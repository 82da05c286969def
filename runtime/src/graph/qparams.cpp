#include "graph/qparams.h"

#include <cmath>

#include "core/error.h"

namespace qfrt {

bool is_quantized_type(DType t) { return t == DType::U8 || t == DType::S8; }

QParam scalar_qparam(const Node& n, const Inputs& in, size_t si, size_t zi, DType default_type) {
  QParam q;
  const Tensor& s = need(n, in, si);
  if (s.dtype != DType::F32 || s.numel() != 1) fail(n.label() + ": input " + std::to_string(si) + " (scale) must be one float32");
  q.scale = s.data<float>()[0];
  if (!(q.scale > 0) || !std::isfinite(q.scale)) fail(n.label() + ": scale must be positive and finite");
  q.dtype = default_type;
  if (zi < in.size() && in[zi]) {
    const Tensor& z = *in[zi];
    if (!is_quantized_type(z.dtype) || z.numel() != 1)
      fail(n.label() + ": input " + std::to_string(zi) + " (zero point) must be one uint8 or int8");
    q.dtype = z.dtype;
    q.zp = static_cast<int32_t>(z.as_int(0));
  }
  return q;
}

QParamVec channel_qparams(const Node& n, const Tensor* scale, const Tensor* zp, int64_t channels, DType default_type,
                          const char* what) {
  QParamVec q;
  q.dtype = zp ? zp->dtype : default_type;
  if (zp && !is_quantized_type(zp->dtype)) fail(n.label() + ": " + what + " zero point must be uint8 or int8");
  auto check = [&](const Tensor* t, const char* part) {
    if (t && t->numel() != 1 && t->numel() != channels)
      fail(n.label() + ": " + what + " " + part + " has " + std::to_string(t->numel()) + " values; expected 1 or " +
           std::to_string(channels));
  };
  check(scale, "scale");
  check(zp, "zero point");
  if (scale && scale->dtype != DType::F32) fail(n.label() + ": " + what + " scale must be float32");
  for (int64_t c = 0; c < channels; ++c) {
    const double s = scale ? scale->data<float>()[scale->numel() == 1 ? 0 : c] : 1.0;
    if (!(s > 0) || !std::isfinite(s)) fail(n.label() + ": " + what + " scale must be positive and finite");
    q.scale.push_back(s);
    q.zp.push_back(zp ? static_cast<int32_t>(zp->as_int(zp->numel() == 1 ? 0 : c)) : 0);
  }
  return q;
}

QWeights make_qweights(const Node& n, const Tensor& w, int64_t M, int64_t K, bool transpose, const QParamVec& q) {
  if (!is_quantized_type(w.dtype)) fail(n.label() + ": integer weights must be uint8 or int8, got " + dtype_name(w.dtype));
  if (w.numel() != M * K) fail(n.label() + ": weight shape " + shape_str(w.shape) + " does not fit");
  if (q.dtype != w.dtype) fail(n.label() + ": weight and weight zero point types differ");
  QWeights r;
  r.M = M;
  r.K = K;
  r.scale = q.scale;
  r.zp = q.zp;
  r.w.resize(static_cast<size_t>(M * K));
  const bool u8 = w.dtype == DType::U8;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      const int64_t src = transpose ? k * M + m : m * K + k;
      r.w[static_cast<size_t>(m * K + k)] = u8 ? static_cast<int8_t>(int32_t{w.data<uint8_t>()[src]} - 128) : w.data<int8_t>()[src];
    }
  if (u8)
    for (int32_t& z : r.zp) z -= 128;  // w - zw is unchanged
  return r;
}

void output_clamp(const Node& n, DType t, int32_t& lo, int32_t& hi, const std::string& prefix) {
  lo = t == DType::S8 ? -128 : 0;
  hi = t == DType::S8 ? 127 : 255;
  lo = static_cast<int32_t>(std::max<int64_t>(lo, n.i(prefix + "lo", lo)));
  hi = static_cast<int32_t>(std::min<int64_t>(hi, n.i(prefix + "hi", hi)));
  if (lo > hi) fail(n.label() + ": empty output range");
}

}  // namespace qfrt
