// Float Conv, Gemm, MatMul and BatchNormalization: the path for layers a model keeps in float and for
// codebook layers. Ungrouped Conv runs as im2col + an AVX-512 GEMM where the CPU has it
// (kernels/conv_float.h); the rest are plain loops (parallel over output rows / channels), which give
// the same floats.
#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "graph/op.h"
#include "graph/spatial.h"
#include "kernels/conv_float.h"

namespace qfrt {

namespace {
// One image's im2col: col[(c * kh + i) * kw + j][oh * OW + ow] = x[c][ih][iw], 0 outside the image.
void im2col_f32(const float* x, int64_t C, int64_t H, int64_t W, const Spatial& s, float* col) {
  const int64_t P = s.OH * s.OW;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t i = 0; i < s.kh; ++i)
      for (int64_t j = 0; j < s.kw; ++j) {
        float* row = col + ((c * s.kh + i) * s.kw + j) * P;
        const int64_t off = j * s.dw - s.pl;  // input column of ow = 0
        const int64_t ow0 = off >= 0 ? 0 : std::min<int64_t>(s.OW, (-off + s.sw - 1) / s.sw);
        const int64_t ow1 = W - off <= 0 ? 0 : std::max<int64_t>(ow0, std::min<int64_t>(s.OW, (W - off + s.sw - 1) / s.sw));
        for (int64_t oh = 0; oh < s.OH; ++oh) {
          float* r = row + oh * s.OW;
          const int64_t ih = oh * s.sh - s.pt + i * s.dh;
          if (ih < 0 || ih >= H) {
            std::fill(r, r + s.OW, 0.f);
            continue;
          }
          // Rows are short (7-56 values): inline loops, not memmove / memset calls.
          const float* xr = x + (c * H + ih) * W + off;
          for (int64_t ow = 0; ow < ow0; ++ow) r[ow] = 0.f;
          if (s.sw == 1)
            for (int64_t ow = ow0; ow < ow1; ++ow) r[ow] = xr[ow];
          else
            for (int64_t ow = ow0; ow < ow1; ++ow) r[ow] = xr[ow * s.sw];
          for (int64_t ow = ow1; ow < s.OW; ++ow) r[ow] = 0.f;
        }
      }
}

// Ungrouped Conv as im2col + the AVX-512 float GEMM: images in parallel when there are several, else
// blocks of output channels. The padding taps add w * 0, which leaves every sum as the direct one.
void conv_im2col_avx512(const float* x, const float* w, const float* bias, int64_t N, int64_t C, int64_t H, int64_t W, int64_t M,
                        const Spatial& s, float* y) {
  const int64_t K = C * s.kh * s.kw, P = s.OH * s.OW;
  static thread_local std::vector<float> col;
  if (N > 1) {
    parallel_for(N, [&](int64_t im) {
      col.resize(static_cast<size_t>(K * P));
      im2col_f32(x + im * C * H * W, C, H, W, s, col.data());
      conv_float_gemm_avx512(w, bias, col.data(), K, P, 0, M, y + im * M * P);
    });
    return;
  }
  col.resize(static_cast<size_t>(K * P));
  im2col_f32(x, C, H, W, s, col.data());
  const float* cp = col.data();
  const int64_t blocks = (M + 3) / 4;
  parallel_for(blocks, [&](int64_t bi) { conv_float_gemm_avx512(w, bias, cp, K, P, bi * 4, std::min(M, bi * 4 + 4), y); });
}

void conv(const Node& n, const Inputs& in, Outputs& out, Isa isa) {
  const Tensor &x = need(n, in, 0), &w = need(n, in, 1);
  expect_dtype(n, x, DType::F32, "X");
  expect_dtype(n, w, DType::F32, "W");
  const Tensor* b = in.size() > 2 ? in[2] : nullptr;
  int64_t N, C, H, W;
  nchw(n, x.shape, N, C, H, W);
  if (w.rank() != x.rank()) fail(n.label() + ": weight rank does not match the input");
  const int64_t M = w.dim(0), group = n.i("group", 1);
  if (group < 1 || C % group || M % group || w.dim(1) != C / group)
    fail(n.label() + ": input " + shape_str(x.shape) + ", weight " + shape_str(w.shape) + " and group " + std::to_string(group) +
         " do not fit");
  if (b && (b->dtype != DType::F32 || b->numel() != M)) fail(n.label() + ": bias must be float32 with " + std::to_string(M) + " values");
  const Spatial s = resolve_spatial(n, x.shape, Shape(w.shape.begin() + 2, w.shape.end()), false);
  out[0] = Tensor(DType::F32, out_shape(x.shape, M, s));
  const int64_t Cg = C / group, Mg = M / group;
  const float *px = x.data<float>(), *pw = w.data<float>();
  float* py = out[0].data<float>();
  if (group == 1 && isa == Isa::Avx512Vnni && conv_float_avx512_supported()) {
    conv_im2col_avx512(px, pw, b ? b->data<float>() : nullptr, N, C, H, W, M, s, py);
    return;
  }
  // Per output plane, terms in (c, i, j) order as a direct sum would add them, but the inner loop runs
  // along a row of outputs, so it vectorizes and the same sums (bit for bit) come out much faster.
  parallel_for(N * M, [&](int64_t nm) {
    const int64_t im = nm / M, m = nm % M, grp = m / Mg;
    float* yp = py + nm * s.OH * s.OW;
    const float bias = b ? b->data<float>()[m] : 0.f;
    for (int64_t p = 0; p < s.OH * s.OW; ++p) yp[p] = bias;
    for (int64_t c = 0; c < Cg; ++c) {
      const float* xp = px + (im * C + grp * Cg + c) * H * W;
      for (int64_t i = 0; i < s.kh; ++i)
        for (int64_t j = 0; j < s.kw; ++j) {
          const float wv = pw[((m * Cg + c) * s.kh + i) * s.kw + j];
          // Output columns whose input column iw = ow * sw - pl + j * dw lies inside the image.
          const int64_t off = j * s.dw - s.pl;
          const int64_t ow0 = off >= 0 ? 0 : (-off + s.sw - 1) / s.sw;
          const int64_t ow1 = W - off <= 0 ? 0 : std::min<int64_t>(s.OW, (W - off + s.sw - 1) / s.sw);
          for (int64_t oh = 0; oh < s.OH; ++oh) {
            const int64_t ih = oh * s.sh - s.pt + i * s.dh;
            if (ih < 0 || ih >= H) continue;
            const float* xr = xp + ih * W + off;
            float* yr = yp + oh * s.OW;
            if (s.sw == 1)
              for (int64_t ow = ow0; ow < ow1; ++ow) yr[ow] += wv * xr[ow];
            else
              for (int64_t ow = ow0; ow < ow1; ++ow) yr[ow] += wv * xr[ow * s.sw];
          }
        }
    }
  });
}

// y[b][m][n] = sum_k a[b][m][k] * b[b][k][n], batch dims broadcast (b may be 2-D).
void matmul(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor &a = need(n, in, 0), &b = need(n, in, 1);
  expect_dtype(n, a, DType::F32, "A");
  expect_dtype(n, b, DType::F32, "B");
  if (a.rank() < 2 || b.rank() < 2) fail(n.label() + ": 1-D MatMul operands are not supported");
  const int64_t M = a.dim(a.rank() - 2), K = a.dim(a.rank() - 1), N = b.dim(b.rank() - 1);
  if (b.dim(b.rank() - 2) != K) fail(n.label() + ": shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not multiply");
  const int64_t ba = a.numel() / (M * K), bb = b.numel() / (K * N);
  if (bb != 1 && bb != ba) fail(n.label() + ": batch dims of " + shape_str(a.shape) + " and " + shape_str(b.shape) + " differ");
  Shape s(a.shape.begin(), a.shape.end() - 1);
  s.push_back(N);
  out[0] = Tensor(DType::F32, s);
  for (int64_t q = 0; q < ba; ++q) {
    const float *pa = a.data<float>() + q * M * K, *pb = b.data<float>() + (bb == 1 ? 0 : q * K * N);
    float* py = out[0].data<float>() + q * M * N;
    parallel_for(M, [&](int64_t i) {
      for (int64_t j = 0; j < N; ++j) {
        float acc = 0;
        for (int64_t k = 0; k < K; ++k) acc += pa[i * K + k] * pb[k * N + j];
        py[i * N + j] = acc;
      }
    });
  }
}

void gemm(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor &a = need(n, in, 0), &b = need(n, in, 1);
  expect_dtype(n, a, DType::F32, "A");
  expect_dtype(n, b, DType::F32, "B");
  if (a.rank() != 2 || b.rank() != 2) fail(n.label() + ": A and B must be 2-D");
  const bool ta = n.i("transA", 0), tb = n.i("transB", 0);
  const float alpha = n.f("alpha", 1.f), beta = n.f("beta", 1.f);
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1), N = tb ? b.dim(0) : b.dim(1);
  if ((tb ? b.dim(1) : b.dim(0)) != K) fail(n.label() + ": shapes " + shape_str(a.shape) + " and " + shape_str(b.shape) + " do not multiply");
  const Tensor* c = in.size() > 2 ? in[2] : nullptr;
  int64_t cm = 0, cn = 0;  // strides of C broadcast to [M][N]
  if (c) {
    expect_dtype(n, *c, DType::F32, "C");
    const Shape& cs = c->shape;
    const int64_t r0 = cs.size() == 2 ? cs[0] : 1, r1 = cs.empty() ? 1 : cs.back();
    if ((r0 != 1 && r0 != M) || (r1 != 1 && r1 != N) || cs.size() > 2) fail(n.label() + ": C " + shape_str(cs) + " does not broadcast");
    cm = r0 == 1 ? 0 : r1;
    cn = r1 == 1 ? 0 : 1;
  }
  out[0] = Tensor(DType::F32, {M, N});
  const float *pa = a.data<float>(), *pb = b.data<float>();
  float* py = out[0].data<float>();
  parallel_for(M, [&](int64_t i) {
    for (int64_t j = 0; j < N; ++j) {
      float acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += (ta ? pa[k * M + i] : pa[i * K + k]) * (tb ? pb[j * K + k] : pb[k * N + j]);
      py[i * N + j] = alpha * acc + (c ? beta * c->data<float>()[i * cm + j * cn] : 0.f);
    }
  });
}

void batchnorm(const Node& n, const Inputs& in, Outputs& out, Isa) {
  const Tensor& x = need(n, in, 0);
  expect_dtype(n, x, DType::F32, "X");
  if (n.outputs.size() > 1) fail(n.label() + ": training-mode outputs are not supported");
  if (x.rank() < 2) fail(n.label() + ": input must have a channel dimension");
  const int64_t C = x.dim(1), inner = x.numel() / (x.dim(0) * C);
  const float eps = n.f("epsilon", 1e-5f);
  const float* p[4];
  for (size_t k = 0; k < 4; ++k) {
    const Tensor& t = need(n, in, k + 1);
    if (t.dtype != DType::F32 || t.numel() != C) fail(n.label() + ": parameter " + std::to_string(k + 1) + " must be float32 [C]");
    p[k] = t.data<float>();
  }
  out[0] = Tensor(DType::F32, x.shape);
  for (int64_t b = 0; b < x.dim(0); ++b)
    for (int64_t c = 0; c < C; ++c) {
      const float sc = p[0][c] / std::sqrt(p[3][c] + eps), sh = p[1][c] - p[2][c] * sc;
      const float* a = x.data<float>() + (b * C + c) * inner;
      float* y = out[0].data<float>() + (b * C + c) * inner;
      for (int64_t i = 0; i < inner; ++i) y[i] = a[i] * sc + sh;
    }
}
}  // namespace

void add_float_nn_ops(OpTable& t) {
  t["Conv"] = stateless(conv);
  t["MatMul"] = stateless(matmul);
  t["Gemm"] = stateless(gemm);
  t["BatchNormalization"] = stateless(batchnorm);
}

}  // namespace qfrt
