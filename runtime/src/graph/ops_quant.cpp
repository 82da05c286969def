// Quantized ops: QuantizeLinear, DequantizeLinear, QLinearConv, ConvInteger, QLinearMatMul,
// MatMulInteger, and the nodes lower_qdq.cpp makes from QDQ patterns:
//   qf.QConvToFloat(x, xs, xz, w, ws, wz, B, [R], [qs, qz])
//                                                     integer conv, float output (s_x s_w acc + B),
//                                                     plus R and a ReLU (qf_relu) when fused; with a
//                                                     second output, that output quantized by (qs, qz)
//                                                     and clamped to qf_q_lo / qf_q_hi (a fused QuantizeLinear)
//   qf.QGemm(x, xs, xz, w[N][K], ws, wz, ys, yz, B)    integer Gemm/MatMul; ys "" -> float output
//   qf.QAdd(a, as, az, b, bs, bz, ys, yz)              Add of two dequantized tensors, requantized
// QLinearConv / qf.QGemm may carry qf_lo / qf_hi (a fused Relu / Clip) and a float bias B.
#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "graph/codebook.h"
#include "graph/op.h"
#include "graph/qparams.h"
#include "graph/spatial.h"
#include "kernels/channel_bits.h"
#include "kernels/conv_blocked.h"
#include "kernels/pool_q.h"
#include "kernels/quantize.h"
#include "kernels/work_split.h"

namespace qfrt {

namespace {
// Axis along which a per-axis scale runs, and the sizes around it.
void axis_split(const Node& n, const Tensor& x, int64_t count, int64_t& outer, int64_t& len, int64_t& inner) {
  outer = 1, len = 1, inner = x.numel();
  if (count == 1) return;
  int64_t axis = n.i("axis", 1);
  if (axis < 0) axis += x.rank();
  if (axis < 0 || axis >= x.rank() || x.dim(static_cast<int>(axis)) != count)
    fail(n.label() + ": scale has " + std::to_string(count) + " values, which does not match axis " + std::to_string(axis) +
         " of " + shape_str(x.shape));
  len = count;
  inner = 1;
  for (int d = 0; d < axis; ++d) outer *= x.dim(d);
  for (int d = static_cast<int>(axis) + 1; d < x.rank(); ++d) inner *= x.dim(d);
}

void quantize_linear(const Node& n, const Inputs& in, Outputs& out, Isa isa) {
  const Tensor &x = need(n, in, 0), &s = need(n, in, 1);
  expect_dtype(n, x, DType::F32, "x");
  expect_dtype(n, s, DType::F32, "y_scale");
  const Tensor* z = in.size() > 2 ? in[2] : nullptr;
  const DType t = z ? z->dtype : DType::U8;
  if (!is_quantized_type(t)) fail(n.label() + ": y_zero_point must be uint8 or int8");
  if (z && z->numel() != s.numel()) fail(n.label() + ": y_scale and y_zero_point differ in size");
  int32_t lo, hi;
  output_clamp(n, t, lo, hi);
  int64_t outer, len, inner;
  axis_split(n, x, s.numel(), outer, len, inner);
  out[0] = Tensor(t, x.shape);
  // Slices of up to kQuantizeChunk elements, on both cores when the tensor is large.
  constexpr int64_t kQuantizeChunk = int64_t{1} << 14;
  const int64_t parts = std::max<int64_t>(1, (inner + kQuantizeChunk - 1) / kQuantizeChunk);
  const bool avx512 = isa == Isa::Avx512Vnni;
  run_items(outer * len * parts, x.numel() >= 4 * kQuantizeChunk, [&](int64_t it) {
    const int64_t slice = it / parts, c = slice % len, at = it % parts * kQuantizeChunk;
    const int64_t base = slice * inner + at, n = std::min(kQuantizeChunk, inner - at);
    const float sc = s.data<float>()[c];
    const int32_t zp = z ? static_cast<int32_t>(z->as_int(c)) : 0;
    const float* xs = x.data<float>() + base;
    uint8_t* y = out[0].data<uint8_t>() + base;  // one byte per value; [lo, hi] makes it uint8 or int8
    if (avx512) quantize_f32_avx512(xs, n, sc, zp, lo, hi, y);
    else if (t == DType::U8) quantize_f32(xs, n, sc, zp, lo, hi, y);
    else quantize_f32(xs, n, sc, zp, lo, hi, reinterpret_cast<int8_t*>(y));
  });
}

void dequantize_linear(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor &x = need(n, in, 0), &s = need(n, in, 1);
  expect_dtype(n, s, DType::F32, "x_scale");
  if (!is_quantized_type(x.dtype) && x.dtype != DType::I32) fail(n.label() + ": x must be uint8, int8 or int32");
  const Tensor* z = in.size() > 2 ? in[2] : nullptr;
  if (z && (z->dtype != x.dtype || z->numel() != s.numel())) fail(n.label() + ": x_zero_point must match x's type and x_scale's size");
  int64_t outer, len, inner;
  axis_split(n, x, s.numel(), outer, len, inner);
  out[0] = Tensor(DType::F32, x.shape);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < len; ++c) {
      const float sc = s.data<float>()[c];
      const int32_t zp = z ? static_cast<int32_t>(z->as_int(c)) : 0;
      const int64_t base = (o * len + c) * inner;
      float* y = out[0].data<float>() + base;
      if (x.dtype == DType::U8) dequantize_f32(x.data<uint8_t>() + base, inner, sc, zp, y);
      else if (x.dtype == DType::S8) dequantize_f32(x.data<int8_t>() + base, inner, sc, zp, y);
      else dequantize_f32(x.data<int32_t>() + base, inner, sc, zp, y);
    }
}

bool all_constant(const Node& n, const Graph& g, size_t from, size_t to = SIZE_MAX) {
  for (size_t k = from; k < std::min(to, n.inputs.size()); ++k)
    if (!n.inputs[k].empty() && !g.constant(n.inputs[k])) return false;
  return true;
}

// The bias input of a quantized layer: int32 (QLinearConv's B, scale s_x s_w) or float.
void read_bias(const Node& n, const Tensor* b, int64_t M, std::vector<int32_t>& bi, std::vector<float>& bf) {
  if (!b) return;
  if (b->numel() != M) fail(n.label() + ": bias has " + std::to_string(b->numel()) + " values, expected " + std::to_string(M));
  if (b->dtype == DType::I32) bi.assign(b->data<int32_t>(), b->data<int32_t>() + M);
  else if (b->dtype == DType::F32) bf.assign(b->data<float>(), b->data<float>() + M);
  else fail(n.label() + ": bias must be int32 or float32");
}

const Tensor* opt(const Inputs& in, size_t k) { return k < in.size() ? in[k] : nullptr; }

std::string layer_kernel(const QLayer& L) {
  if (!L.bits.wbits) return "";
  if (L.sign_select) return std::string("sign-select ") + (L.bits.binary ? "binary" : "ternary");
  const std::string packed = L.cbits.G ? ", channel-packed" : "";
  if (L.bits.xnor) return std::string("xnor ") + (L.bits.binary ? "binary" : "ternary") + packed;
  return std::string("bitserial W") + (L.bits.binary ? "bin" : std::to_string(L.bits.wbits)) + "A" + std::to_string(L.x_bits) + packed;
}

// The widths annotate_widths (pack/widths.h) put on the node pick the bit-serial kernel. C: a conv's
// input channels when it could take the channel-packed path (enable_bitserial), else 0.
QLayer with_lowbit(const Node& n, QLayer L, int64_t C) {
  const std::string kind = n.s("qf_w_kind", "");
  if ((kind == "binary" || kind == "ternary") && n.has("qf_x_lo") && n.has("qf_x_hi") &&
      enable_xnor(L, kind == "binary", n.i("qf_x_lo", 0), n.i("qf_x_hi", 255), C))
    return L;
  if (n.has("qf_w_bits") && n.has("qf_x_bits") &&
      enable_bitserial(L, static_cast<int>(n.i("qf_w_bits", 8)), kind == "binary", static_cast<int>(n.i("qf_x_bits", 8)), n.i("qf_x_lo", 0), C))
    return L;
  if (kind == "binary" || kind == "ternary") enable_sign_select(L, kind == "binary");
  return L;
}

// Integer convolution in its three forms; the layer is prepared once when every input but x is constant.
class QConvOp : public Op {
 public:
  enum Form { QLinear, Integer, ToFloat };
  QConvOp(const Node& n, const Graph& g, Form f) : n_(n), form_(f) {
    // ConvInteger without x_zero_point takes x's type from x itself: prepare at run time.
    if (all_constant(n, g, 1, f == ToFloat ? 7 : n.inputs.size()) && (f != Integer || !n.input(2).empty())) {
      Inputs in(n.inputs.size(), nullptr);
      for (size_t k = 1; k < n.inputs.size(); ++k) in[k] = n.inputs[k].empty() ? nullptr : g.constant(n.inputs[k]);
      layer_ = prepare(in, DType::U8);
      cached_ = true;
    }
  }

  std::string kernel() const override { return cached_ ? layer_kernel(layer_) : ""; }
  bool reentrant() const override { return cached_; }
  void run(const Inputs& in, Outputs& out, Isa isa) override {
    const Tensor& x = need(n_, in, 0);
    if (!is_quantized_type(x.dtype)) fail(n_.label() + ": x must be uint8 or int8, got " + dtype_name(x.dtype));
    if (!cached_) layer_ = prepare(in, x.dtype);
    else if ((x.dtype == DType::S8) != layer_.in.is_signed) fail(n_.label() + ": x's type does not match its zero point's");
    const Tensor& w = need(n_, in, w_index());
    int64_t N, C, H, W;
    nchw(n_, x.shape, N, C, H, W);
    const int64_t group = n_.i("group", 1), M = w.dim(0);
    if (w.rank() != x.rank() || group < 1 || C % group || M % group || w.dim(1) * group != C)
      fail(n_.label() + ": input " + shape_str(x.shape) + ", weight " + shape_str(w.shape) + " and group " + std::to_string(group) +
           " do not fit");
    const Spatial s = resolve_spatial(n_, x.shape, Shape(w.shape.begin() + 2, w.shape.end()), false);
    const ConvGeom geom = conv_geom(C, H, W, M, group, s);
    out[0] = Tensor(out_type(), out_shape(x.shape, M, s));
    const Tensor* r = form_ == ToFloat ? opt(in, 7) : nullptr;
    if (r && (r->dtype != DType::F32 || r->shape != out[0].shape))
      fail(n_.label() + ": the residual input must be float32 of shape " + shape_str(out[0].shape) + ", got " + shape_str(r->shape));
    uint8_t* yq = nullptr;
    if (layer_.out.fused_q) {
      out[1] = Tensor(layer_.out.q_lo < 0 ? DType::S8 : DType::U8, out[0].shape);
      yq = out[1].bytes.data();
    }
    qconv_run(isa, layer_, geom, N, x.bytes.data(), out[0].bytes.data(), r ? r->data<float>() : nullptr, yq);
  }

 private:
  size_t w_index() const { return form_ == Integer ? 1 : 3; }
  DType out_type() const {
    if (form_ == Integer) return DType::I32;
    if (form_ == ToFloat) return DType::F32;
    return layer_.out.is_signed ? DType::S8 : DType::U8;
  }

  // x_type: the input's type when not constant-prepared (the zero point, when given, decides).
  QLayer prepare(const Inputs& in, DType x_type) const {
    const Tensor& w = need(n_, in, w_index());
    if (w.rank() < 3) fail(n_.label() + ": weight must be [M][C/group][kH][kW], got " + shape_str(w.shape));
    const int64_t M = w.dim(0), K = w.numel() / M;
    QInput qi;
    QParamVec wq;
    QOutput qo;
    std::vector<int32_t> bi;
    std::vector<float> bf;
    if (form_ == Integer) {
      const Tensor* xz = opt(in, 2);
      if (xz && xz->numel() != 1) fail(n_.label() + ": x_zero_point must be a scalar");
      qi.zp = xz ? static_cast<int32_t>(xz->as_int(0)) : 0;
      qi.is_signed = xz ? xz->dtype == DType::S8 : x_type == DType::S8;
      wq = channel_qparams(n_, nullptr, opt(in, 3), M, w.dtype, "w");
      qo.kind = Epilogue::Int32;
    } else {
      const QParam xq = scalar_qparam(n_, in, 1, 2, x_type);
      qi.scale = xq.scale, qi.zp = xq.zp, qi.is_signed = xq.dtype == DType::S8;
      wq = channel_qparams(n_, &need(n_, in, 4), opt(in, 5), M, w.dtype, "w");
      if (form_ == QLinear) {
        const QParam yq = scalar_qparam(n_, in, 6, 7, DType::U8);
        qo.kind = Epilogue::Quantized;
        qo.scale = yq.scale, qo.zp = yq.zp, qo.is_signed = yq.dtype == DType::S8;
        output_clamp(n_, yq.dtype, qo.lo, qo.hi);
        if (n_.has("qf_channel_hi")) {  // a fused qf.QChannelMin (lower_qdq.cpp, rewrite 10)
          const std::vector<int64_t> ch = n_.ints("qf_channel_hi", {});
          if (static_cast<int64_t>(ch.size()) != M)
            fail(n_.label() + ": qf_channel_hi holds " + std::to_string(ch.size()) + " values for " + std::to_string(M) + " channels");
          for (int64_t v : ch) {
            if (v < qo.lo) fail(n_.label() + ": qf_channel_hi " + std::to_string(v) + " lies below the output clamp " + std::to_string(qo.lo));
            qo.row_hi.push_back(static_cast<int32_t>(std::min<int64_t>(qo.hi, v)));
          }
        }
        read_bias(n_, opt(in, 8), M, bi, bf);
      } else {
        qo.kind = Epilogue::Float;
        qo.relu = n_.i("qf_relu", 0) != 0;
        read_bias(n_, opt(in, 6), M, bi, bf);
        if (n_.outputs.size() > 1 && !n_.outputs[1].empty()) {
          const QParam q = scalar_qparam(n_, in, 8, 9, DType::U8);
          qo.fused_q = true;
          qo.q_scale = static_cast<float>(q.scale), qo.q_zp = q.zp;
          output_clamp(n_, q.dtype, qo.q_lo, qo.q_hi, "qf_q_");
        }
      }
    }
    const bool packable = w.rank() == 4 && n_.i("group", 1) == 1;  // the channel-packed bit-serial path's convs
    QLayer L = with_lowbit(n_, prepare_qlayer(make_qweights(n_, w, M, K, false, wq), qi, bi, bf, qo), packable ? w.dim(1) : 0);
    const std::vector<int64_t> strides = n_.ints("strides", {1, 1});
    if (w.rank() == 4 && strides.size() == 2 && strides[0] == strides[1]) enable_blocked_conv(L, w.dim(1), w.dim(2), w.dim(3), strides[0]);
    if (packable) enable_channel_bits(L, w.dim(1), w.dim(2), w.dim(3));
    enable_amx_gemm(L);
    return L;
  }

  Node n_;
  Form form_;
  QLayer layer_;
  bool cached_ = false;
};

// Integer matrix products: QLinearMatMul, MatMulInteger (b [.., K][N]) and qf.QGemm (w [N][K]).
class QGemmOp : public Op {
 public:
  enum Form { QLinearMatMul, MatMulInteger, QGemm };
  QGemmOp(const Node& n, const Graph& g, Form f) : n_(n), form_(f) {
    const Tensor* b = g.constant(n.input(b_index()));
    if (all_constant(n, g, 1) && b && (b->rank() == 2 || form_ == QGemm) && (f != MatMulInteger || !n.input(2).empty())) {
      Inputs in(n.inputs.size(), nullptr);
      for (size_t k = 1; k < n.inputs.size(); ++k) in[k] = n.inputs[k].empty() ? nullptr : g.constant(n.inputs[k]);
      layer_ = prepare(in, *b, DType::U8);
      cached_ = true;
    }
  }

  std::string kernel() const override { return cached_ ? layer_kernel(layer_) : ""; }
  bool reentrant() const override { return cached_; }
  void run(const Inputs& in, Outputs& out, Isa isa) override {
    const Tensor &a = need(n_, in, 0), &b = need(n_, in, b_index());
    if (!is_quantized_type(a.dtype)) fail(n_.label() + ": A must be uint8 or int8, got " + dtype_name(a.dtype));
    if (a.rank() < 2 || b.rank() < 2) fail(n_.label() + ": operands must be at least 2-D");
    const int64_t K = a.dim(a.rank() - 1);
    const int64_t N = form_ == QGemm ? b.dim(0) : b.dim(b.rank() - 1);
    const int64_t bK = form_ == QGemm ? b.dim(1) : b.dim(b.rank() - 2);
    if (bK != K) fail(n_.label() + ": shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not multiply");
    const int64_t bbatch = b.numel() / (K * N);
    const int64_t M = a.dim(a.rank() - 2), abatch = a.numel() / (M * K);
    if (bbatch != 1 && bbatch != abatch) fail(n_.label() + ": batch dims of " + shape_str(a.shape) + " and " + shape_str(b.shape) + " differ");
    Shape s(a.shape.begin(), a.shape.end() - 1);
    s.push_back(N);
    const DType ot = out_type(in);
    out[0] = Tensor(ot, s);
    const size_t esz = dtype_size(ot);
    if (bbatch == 1) {
      if (!cached_) layer_ = prepare(in, b, a.dtype);
      if ((a.dtype == DType::S8) != layer_.in.is_signed) fail(n_.label() + ": A's type does not match its zero point's");
      return qgemm_run(isa, layer_, a.numel() / K, a.bytes.data(), out[0].bytes.data());
    }
    for (int64_t q = 0; q < abatch; ++q) {  // batched weights: one layer per batch entry
      Tensor bq(b.dtype, {K, N});
      std::memcpy(bq.bytes.data(), b.bytes.data() + q * K * N, bq.bytes.size());
      const QLayer L = prepare(in, bq, a.dtype);
      qgemm_run(isa, L, M, a.bytes.data() + q * M * K, out[0].bytes.data() + static_cast<size_t>(q * M * N) * esz);
    }
  }

 private:
  size_t b_index() const { return form_ == MatMulInteger ? 1 : 3; }
  DType out_type(const Inputs& in) const {
    if (form_ == MatMulInteger) return DType::I32;
    if (form_ == QGemm && (n_.input(6).empty())) return DType::F32;
    const Tensor* yz = opt(in, 7);
    return yz && yz->dtype == DType::S8 ? DType::S8 : DType::U8;
  }

  QLayer prepare(const Inputs& in, const Tensor& b, DType a_type) const {
    const bool nk = form_ == QGemm;  // weights already [N][K]
    if (b.rank() != 2) fail(n_.label() + ": the weight must be 2-D, got " + shape_str(b.shape));  // (fuzzer: a corrupt .qfp)
    const int64_t N = nk ? b.dim(0) : b.dim(1), K = nk ? b.dim(1) : b.dim(0);
    QInput qi;
    QParamVec wq;
    QOutput qo;
    std::vector<int32_t> bi;
    std::vector<float> bf;
    if (form_ == MatMulInteger) {
      const Tensor* az = opt(in, 2);
      if (az && az->numel() != 1) fail(n_.label() + ": a_zero_point must be a scalar");
      qi.zp = az ? static_cast<int32_t>(az->as_int(0)) : 0;
      qi.is_signed = az ? az->dtype == DType::S8 : a_type == DType::S8;
      wq = channel_qparams(n_, nullptr, opt(in, 3), N, b.dtype, "b");
      qo.kind = Epilogue::Int32;
    } else {
      const QParam aq = scalar_qparam(n_, in, 1, 2, a_type);
      qi.scale = aq.scale, qi.zp = aq.zp, qi.is_signed = aq.dtype == DType::S8;
      wq = channel_qparams(n_, &need(n_, in, 4), opt(in, 5), N, b.dtype, "b");
      if (form_ == QGemm && n_.input(6).empty()) {
        qo.kind = Epilogue::Float;
      } else {
        const QParam yq = scalar_qparam(n_, in, 6, 7, DType::U8);
        qo.kind = Epilogue::Quantized;
        qo.scale = yq.scale, qo.zp = yq.zp, qo.is_signed = yq.dtype == DType::S8;
        output_clamp(n_, yq.dtype, qo.lo, qo.hi);
      }
      if (form_ == QGemm) read_bias(n_, opt(in, 8), N, bi, bf);
    }
    QLayer L = with_lowbit(n_, prepare_qlayer(make_qweights(n_, b, N, K, !nk, wq), qi, bi, bf, qo), 0);
    enable_amx_gemm(L);
    return L;
  }

  Node n_;
  Form form_;
  QLayer layer_;
  bool cached_ = false;
};

void qadd(const Node& n, const Inputs& in, Outputs& out, Isa isa) {
  const Tensor &a = need(n, in, 0), &b = need(n, in, 3);
  const QParam aq = scalar_qparam(n, in, 1, 2, a.dtype), bq = scalar_qparam(n, in, 4, 5, b.dtype),
               yq = scalar_qparam(n, in, 6, 7, DType::U8);
  if (a.dtype != aq.dtype || b.dtype != bq.dtype) fail(n.label() + ": input types do not match their zero points");
  if (a.shape != b.shape) fail(n.label() + ": integer Add needs equal shapes, got " + shape_str(a.shape) + " and " + shape_str(b.shape));
  int32_t lo, hi;
  output_clamp(n, yq.dtype, lo, hi);
  out[0] = Tensor(yq.dtype, a.shape);
  const AddRescale r = add_rescale(aq.scale, bq.scale, yq.scale);
  const bool sa = a.dtype == DType::S8, sb = b.dtype == DType::S8;
  const uint8_t *pa = a.bytes.data(), *pb = b.bytes.data();
  uint8_t* py = out[0].bytes.data();
  // Slices of 16 K values, on both cores when the tensor is large (as QuantizeLinear).
  constexpr int64_t kSlice = int64_t{1} << 14;
  const int64_t cnt = a.numel(), slices = (cnt + kSlice - 1) / kSlice;
  run_items(slices, cnt >= 4 * kSlice, [&](int64_t s) {
    const int64_t at = s * kSlice;
    add_q(isa, pa + at, sa, aq.zp, pb + at, sb, bq.zp, r, yq.zp, lo, hi, py + at, std::min(kSlice, cnt - at));
  });
}

// qf.QChannelMin(x, bound): y[n, c, ...] = min(x[n, c, ...], bound[c]) on quantized values (bound in x's
// type, one per channel): a per-channel clip moved below its QuantizeLinear, which is exact since Q is
// monotonic (lower_qdq.cpp).
void qchannel_min(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor &x = need(n, in, 0), &b = need(n, in, 1);
  if (!is_quantized_type(x.dtype) || b.dtype != x.dtype) fail(n.label() + ": needs a uint8 / int8 input and a bound of its type");
  if (x.rank() < 2 || b.rank() != x.rank() - 1 || b.numel() != x.dim(1))
    fail(n.label() + ": bound of " + std::to_string(b.numel()) + " values for " + shape_str(x.shape) + " (one per channel)");
  out[0] = Tensor(x.dtype, x.shape);
  const int64_t N = x.dim(0), C = x.dim(1), inner = x.numel() / (N * C);
  const bool s8 = x.dtype == DType::S8;
  for (int64_t i = 0; i < N * C; ++i) {
    const uint8_t* px = x.bytes.data() + i * inner;
    uint8_t* py = out[0].bytes.data() + i * inner;
    const uint8_t hi = b.bytes[static_cast<size_t>(i % C)];
    if (s8) {
      const int8_t h = static_cast<int8_t>(hi);
      for (int64_t k = 0; k < inner; ++k) py[k] = static_cast<uint8_t>(std::min(static_cast<int8_t>(px[k]), h));
    } else {
      for (int64_t k = 0; k < inner; ++k) py[k] = std::min(px[k], hi);
    }
  }
}

template <class T, class F> OpFactory layer(F form) {
  return [form](const Node& n, const Graph& g) { return std::unique_ptr<Op>(new T(n, g, form)); };
}
}  // namespace

void add_quant_ops(OpTable& t) {
  t["qf.CodebookQuantize"] = stateless([](const Node& n, const Inputs& in, Outputs& out, Isa) {
    out[0] = codebook_quantize(n, need(n, in, 0), need(n, in, 1), in.size() > 2 ? in[2] : nullptr);
  });
  t["qf.CodebookDequantize"] = stateless([](const Node& n, const Inputs& in, Outputs& out, Isa) {
    out[0] = codebook_dequantize(n, need(n, in, 0), need(n, in, 1));
  });
  t["QuantizeLinear"] = stateless(quantize_linear);
  t["DequantizeLinear"] = stateless(dequantize_linear);
  t["QLinearConv"] = layer<QConvOp>(QConvOp::QLinear);
  t["ConvInteger"] = layer<QConvOp>(QConvOp::Integer);
  t["qf.QConvToFloat"] = layer<QConvOp>(QConvOp::ToFloat);
  t["QLinearMatMul"] = layer<QGemmOp>(QGemmOp::QLinearMatMul);
  t["MatMulInteger"] = layer<QGemmOp>(QGemmOp::MatMulInteger);
  t["qf.QGemm"] = layer<QGemmOp>(QGemmOp::QGemm);
  t["qf.QAdd"] = stateless(qadd);
  t["qf.QChannelMin"] = stateless(qchannel_min);
}

}  // namespace qfrt
