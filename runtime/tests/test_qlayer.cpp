// Integer Conv / Gemm layers (packing, GEMM or depthwise, zero-point folding, requantization)
// against a naive reference, on every ISA, with odd shapes, pads, strides, dilations and groups.
#include <gtest/gtest.h>

#include <cmath>

#include "kernels/conv_blocked.h"
#include "kernels/qlayer.h"
#include "test_util.h"

using namespace qfrt;
using namespace qfrt_test;

namespace {
int blocked_runs = 0;  // check_case runs that took the blocked path

struct Case {
  int64_t C, H, W, M, group, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
  bool x_signed, w_zp;
  Epilogue::Kind kind;
  bool row_hi = false;      // Quantized: each channel its own upper clamp (a fused per-channel clip)
  bool float_bias = false;  // the bias as floats (bias_fixed) instead of int32 sums
};

struct Data {
  std::vector<uint8_t> x;  // bytes (int8 when signed)
  QWeights w;
  QInput in;
  QOutput out;
  std::vector<int32_t> bias;
};

Data make_data(const Case& c, int64_t N, std::mt19937& rng) {
  Data d;
  d.x = random_ints<uint8_t>(static_cast<size_t>(N * c.C * c.H * c.W), 0, 255, rng);
  d.w.M = c.M;
  d.w.K = c.C / c.group * c.kh * c.kw;
  d.w.w = random_ints<int8_t>(static_cast<size_t>(d.w.M * d.w.K), -128, 127, rng);
  std::uniform_real_distribution<double> sc(0.001, 0.05);
  std::uniform_int_distribution<int32_t> zp(-20, 20);
  for (int64_t m = 0; m < c.M; ++m) {
    d.w.scale.push_back(sc(rng));
    d.w.zp.push_back(c.w_zp ? zp(rng) : 0);
    d.bias.push_back(zp(rng) * 50);
  }
  d.in.scale = 0.02;
  d.in.is_signed = c.x_signed;
  d.in.zp = c.x_signed ? -3 : 117;
  d.out.kind = c.kind;
  d.out.scale = 0.5 * d.in.scale * 0.02 * std::sqrt(static_cast<double>(d.w.K)) * 40;
  d.out.zp = 9;
  d.out.lo = 0;
  d.out.hi = 255;
  std::uniform_int_distribution<int32_t> hi(40, 250);
  if (c.row_hi)
    for (int64_t m = 0; m < c.M; ++m) d.out.row_hi.push_back(hi(rng));
  return d;
}

// Exact sum of (x - zx)(w - zw) in int64.
std::vector<int64_t> reference_sums(const Case& c, const Data& d, int64_t N, const ConvGeom& g) {
  std::vector<int64_t> r(static_cast<size_t>(N * c.M * g.OH * g.OW));
  const int64_t Cg = c.C / c.group, Mg = c.M / c.group;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < c.M; ++m)
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          int64_t s = 0;
          for (int64_t cc = 0; cc < Cg; ++cc)
            for (int64_t i = 0; i < c.kh; ++i)
              for (int64_t j = 0; j < c.kw; ++j) {
                const int64_t ih = oh * c.sh - c.pt + i * c.dh, iw = ow * c.sw - c.pl + j * c.dw;
                if (ih < 0 || ih >= c.H || iw < 0 || iw >= c.W) continue;  // padding is a real 0
                const uint8_t b = d.x[static_cast<size_t>(((n * c.C + m / Mg * Cg + cc) * c.H + ih) * c.W + iw)];
                const int64_t xv = c.x_signed ? static_cast<int8_t>(b) : b;
                const int64_t wv = d.w.w[static_cast<size_t>(m * d.w.K + (cc * c.kh + i) * c.kw + j)];
                s += (xv - d.in.zp) * (wv - d.w.zp[static_cast<size_t>(m)]);
              }
          r[static_cast<size_t>(((n * c.M + m) * g.OH + oh) * g.OW + ow)] = s;
        }
  return r;
}

void check_case(const Case& c, int64_t N, uint32_t seed) {
  std::mt19937 rng(seed);
  const Data d = make_data(c, N, rng);
  ConvGeom g;
  g.C = c.C, g.H = c.H, g.W = c.W, g.M = c.M, g.group = c.group, g.kh = c.kh, g.kw = c.kw, g.sh = c.sh, g.sw = c.sw;
  g.dh = c.dh, g.dw = c.dw, g.pt = c.pt, g.pl = c.pl, g.pb = c.pb, g.pr = c.pr;
  g.OH = (c.H + c.pt + c.pb - (c.kh - 1) * c.dh - 1) / c.sh + 1;
  g.OW = (c.W + c.pl + c.pr - (c.kw - 1) * c.dw - 1) / c.sw + 1;
  const std::vector<int64_t> ref = reference_sums(c, d, N, g);
  std::vector<float> bias_f;  // the same bias in real units, rounded to float
  for (int64_t m = 0; m < c.M; ++m)
    bias_f.push_back(static_cast<float>(d.bias[static_cast<size_t>(m)] * d.in.scale * d.w.scale[static_cast<size_t>(m)]));
  const QLayer L = prepare_qlayer(d.w, d.in, c.kind == Epilogue::Int32 || c.float_bias ? std::vector<int32_t>{} : d.bias,
                                  c.float_bias ? bias_f : std::vector<float>{}, d.out);
  const size_t esz = L.out.elem_size(), count = ref.size();
  std::vector<uint8_t> scalar_out;
  int near_tie = 0;
  for (Isa isa : all_isas()) {
    std::vector<uint8_t> y(count * esz, 0xAB);
    qconv_run(isa, L, g, N, d.x.data(), y.data());
    if (isa == Isa::Scalar) {
      scalar_out = y;
      for (size_t i = 0; i < count; ++i) {
        const int64_t m = static_cast<int64_t>(i) / (g.OH * g.OW) % c.M;
        const double sxw = d.in.scale * d.w.scale[static_cast<size_t>(m)];
        if (c.kind == Epilogue::Int32) {
          ASSERT_EQ(reinterpret_cast<const int32_t*>(y.data())[i], ref[i]) << "at " << i;
        } else if (c.kind == Epilogue::Float) {
          const double want = static_cast<double>(ref[i] + d.bias[static_cast<size_t>(m)]) * sxw;  // int32 bias, scale s_x s_w
          ASSERT_NEAR(reinterpret_cast<const float*>(y.data())[i], want, 1e-5 * std::fabs(want) + 1e-6) << "at " << i;
        } else {
          const double exact = c.float_bias ? (static_cast<double>(ref[i]) * sxw + bias_f[static_cast<size_t>(m)]) / d.out.scale
                                            : static_cast<double>(ref[i] + d.bias[static_cast<size_t>(m)]) * sxw / d.out.scale;
          const double hi = c.row_hi ? d.out.row_hi[static_cast<size_t>(m)] : 255.0;
          const double want = std::min(hi, std::max(0.0, d.out.zp + std::nearbyint(exact)));
          const int got = y[i];
          if (got != want) {
            ++near_tie;
            ASSERT_LT(std::fabs(std::fabs(exact - std::floor(exact)) - 0.5), 1e-6) << "at " << i << " exact " << exact;
          }
        }
      }
    } else {
      ASSERT_EQ(y, scalar_out) << isa_name(isa) << " differs from scalar";
    }
  }
  EXPECT_LE(near_tie, 1);
  // The same layer prepared for the channel-blocked path (conv_blocked.h) must give the same bytes.
  if (c.group == 1 && !c.w_zp) {
    QLayer Lb = L;
    enable_blocked_conv(Lb, c.C, c.kh, c.kw, c.sh == c.sw ? c.sh : 1);
    for (Isa isa : all_isas()) {
      std::vector<uint8_t> y(count * esz, 0xAB);
      qconv_run(isa, Lb, g, N, d.x.data(), y.data());
      ASSERT_EQ(y, scalar_out) << isa_name(isa) << " (blocked weights) differs from scalar";
      if (isa == Isa::Avx512Vnni) blocked_runs += blocked_conv_fits(isa, Lb, g);
    }
  }
}
}  // namespace

TEST(QConv, OneByOne) { check_case({5, 7, 7, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false, Epilogue::Quantized}, 2, 1); }
// Pointwise convs whose panel blocks are interleaved straight from the channel planes: several column chunks,
// a last partial block (529 = 4 x 128 + 16 + 1 columns), unsigned and signed inputs (the latter packed the
// usual way), weight zero points (column sums, also the usual way).
TEST(QConv, PointwiseFromThePlanes) {
  check_case({8, 23, 23, 10, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false, Epilogue::Quantized}, 2, 10);
  check_case({12, 23, 23, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, true, false, Epilogue::Quantized}, 1, 11);
  check_case({8, 9, 9, 5, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, true, Epilogue::Float}, 1, 12);
}
TEST(QConv, ThreeByThreePadded) { check_case({3, 9, 9, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized}, 1, 2); }
TEST(QConv, StridedDilatedAsymmetricPads) {
  check_case({4, 11, 13, 6, 1, 3, 2, 2, 3, 2, 1, 0, 1, 2, 0, false, false, Epilogue::Quantized}, 2, 3);
}
TEST(QConv, Groups) { check_case({6, 8, 8, 4, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 1, 4); }
TEST(QConv, DepthwiseStride1And2SignedInput) {
  check_case({8, 10, 19, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 2, 5);
  check_case({8, 10, 19, 8, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized}, 1, 6);
  check_case({5, 9, 9, 5, 5, 5, 5, 3, 3, 2, 2, 2, 2, 2, 2, false, false, Epilogue::Float}, 1, 7);
}
// Planes large enough that depthwise and epilogue run in several row chunks (the last one partial), and
// rows wider than one 64-byte padding piece.
TEST(QConv, DepthwiseLargePlanesInRowChunks) {
  check_case({4, 90, 90, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 1, 8);
  check_case({3, 75, 130, 3, 3, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Float}, 2, 9);
}
// The depthwise kernel with the requantization fused (depthwise.h, DwFusedPlan) on AVX-512 VBMI CPUs: flat
// steps across rows on maps narrower than 16 (7x7 and 14x14 as in MobileNetV2, a 4x4 map in one partial
// step, asymmetric pads with dilation and stride, 8-tap rows in two groups), and rows read straight from the
// unpadded input (stride 2 onto 7x7, which one flat load cannot hold; wide maps with wide kernels); signed
// and unsigned inputs, a per-channel clamp, a float bias.
TEST(QConv, DepthwiseFusedRequantization) {
  check_case({16, 7, 7, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 2, 30);
  check_case({8, 14, 14, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized, true}, 1, 31);
  check_case({6, 4, 4, 6, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized, false, true}, 2, 32);
  check_case({6, 9, 11, 6, 6, 5, 3, 1, 2, 2, 1, 2, 1, 0, 2, true, false, Epilogue::Quantized}, 1, 33);
  check_case({5, 8, 9, 5, 5, 1, 8, 1, 1, 1, 1, 0, 3, 0, 4, false, false, Epilogue::Quantized, true, true}, 1, 34);
  check_case({12, 14, 14, 12, 12, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized, true}, 2, 35);
  check_case({4, 40, 77, 4, 4, 5, 7, 1, 1, 1, 1, 2, 3, 2, 3, false, false, Epilogue::Quantized, false, true}, 1, 36);
  check_case({3, 33, 70, 3, 3, 3, 3, 2, 2, 1, 1, 0, 1, 1, 0, true, false, Epilogue::Quantized, true}, 1, 37);
}
TEST(QConv, WeightZeroPointsUseColumnSums) {
  check_case({3, 6, 6, 5, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true, Epilogue::Int32}, 1, 8);
  check_case({4, 6, 6, 4, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, true, Epilogue::Quantized}, 1, 9);  // depthwise shape, generic path
}
TEST(QConv, KNotMultipleOf4AndManyColumns) {
  check_case({3, 41, 43, 7, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, false, false, Epilogue::Float}, 1, 10);
  check_case({3, 41, 43, 7, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 2, 11);
}
// A 4x4 map is a single 16-column block: with two or more threads its output rows are split across
// them (qlayer.cpp split_work), in parts that are not whole register tiles. A 7x7 map is 4 blocks,
// cut into as many column chunks as threads.
TEST(QConv, SmallMapsSplitAcrossThreads) {
  check_case({64, 4, 4, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, true, Epilogue::Float}, 1, 14);
  check_case({64, 4, 4, 47, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 1, 15);
  check_case({64, 7, 7, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized}, 1, 16);
  // The VNNI path splits layers only from 2^21 MACs (work_split.h): a 4x4 map with enough channels.
  check_case({256, 4, 4, 200, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized}, 1, 27);
}

// Stride-1 layers whose dropped columns are at most 1/4 take the channel-blocked path on VNNI CPUs:
// channel counts that are not multiples of 4, dilation, 5x5, both input types, every epilogue, batch 2
// (1x1 layers keep the packed panel), stride 2 at 3x3, 5x5 and 7x7.
TEST(QConv, ChannelBlockedPathEqualsTheReference) {
  blocked_runs = 0;
  check_case({5, 12, 20, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 2, 17);
  check_case({8, 9, 40, 7, 1, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, false, false, Epilogue::Float}, 1, 18);
  check_case({6, 9, 30, 10, 1, 1, 3, 1, 1, 1, 1, 0, 1, 0, 1, false, false, Epilogue::Int32}, 1, 19);
  check_case({3, 20, 36, 9, 1, 5, 5, 1, 1, 1, 1, 2, 2, 2, 2, true, false, Epilogue::Float}, 1, 20);
  // Stride 2 with 7x7 and 5x5 kernels: the 2x2 phase form (odd padded sizes included).
  check_case({3, 40, 40, 16, 1, 7, 7, 2, 2, 1, 1, 3, 3, 3, 3, false, false, Epilogue::Float}, 2, 21);
  check_case({5, 21, 27, 9, 1, 5, 5, 2, 2, 1, 1, 2, 2, 2, 2, true, false, Epilogue::Quantized}, 1, 22);
  // Stride 2 with 3x3 kernels: the channel form (4 phase planes per channel group), ResNet's downsampling
  // shape, and odd sizes with asymmetric pads and a channel count that leaves a group part-filled.
  check_case({16, 28, 28, 32, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, false, false, Epilogue::Quantized}, 2, 23);
  check_case({7, 15, 13, 9, 1, 3, 3, 2, 2, 1, 1, 1, 0, 2, 1, true, false, Epilogue::Float}, 1, 24);
  // Rows wider than 64 bytes: the copy without VBMI byte permutes (blocked_input.cpp), at both strides.
  check_case({6, 5, 70, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true, false, Epilogue::Quantized}, 1, 25);
  check_case({5, 7, 67, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, false, false, Epilogue::Quantized}, 1, 26);
  if (cpu_supports(Isa::Avx512Vnni)) EXPECT_EQ(blocked_runs, 10);
}

TEST(QGemm, MatchesReferenceOnAllIsas) {
  std::mt19937 rng(12);
  for (int64_t rows : {1, 3, 17, 300})
    for (int64_t K : {1, 7, 64, 100})
      for (int64_t M : {1, 10, 13}) {
        QWeights w;
        w.M = M, w.K = K;
        w.w = random_ints<int8_t>(static_cast<size_t>(M * K), -128, 127, rng);
        w.zp.assign(static_cast<size_t>(M), 0);
        w.zp[0] = 4;
        w.scale.assign(static_cast<size_t>(M), 1.0);
        QInput in{1.0, 100, false};
        QOutput out;
        const QLayer L = prepare_qlayer(w, in, {}, {}, out);
        const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(rows * K), 0, 255, rng);
        for (Isa isa : all_isas()) {
          std::vector<int32_t> y(static_cast<size_t>(rows * M));
          qgemm_run(isa, L, rows, x.data(), y.data());
          for (int64_t r = 0; r < rows; ++r)
            for (int64_t m = 0; m < M; ++m) {
              int64_t s = 0;
              for (int64_t k = 0; k < K; ++k)
                s += (int64_t{x[static_cast<size_t>(r * K + k)]} - 100) * (w.w[static_cast<size_t>(m * K + k)] - w.zp[static_cast<size_t>(m)]);
              ASSERT_EQ(y[static_cast<size_t>(r * M + m)], s) << isa_name(isa) << " rows=" << rows << " K=" << K << " M=" << M;
            }
        }
      }
}

TEST(QGemm, FloatBiasKeepsFixedPointPrecision) {
  // A coarse output grid (one step = 20 accumulator units): rounding the float bias to an integer
  // sum would move ~2.5% of outputs across a rounding boundary; the fixed-point bias must not.
  std::mt19937 rng(13);
  const int64_t rows = 200, K = 50, M = 16;
  QWeights w;
  w.M = M, w.K = K;
  w.w = random_ints<int8_t>(static_cast<size_t>(M * K), -100, 100, rng);
  w.zp.assign(static_cast<size_t>(M), 0);
  w.scale.assign(static_cast<size_t>(M), 0.01);
  const QInput in{0.05, 3, false};
  QOutput out;
  out.kind = Epilogue::Quantized;
  out.scale = 20 * 0.05 * 0.01;
  out.zp = 128;
  std::vector<float> bias(static_cast<size_t>(M));
  std::uniform_real_distribution<float> bd(-0.3f, 0.3f);
  for (auto& b : bias) b = bd(rng);
  const QLayer L = prepare_qlayer(w, in, {}, bias, out);
  const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(rows * K), 0, 255, rng);
  std::vector<uint8_t> y(static_cast<size_t>(rows * M));
  qgemm_run(Isa::Scalar, L, rows, x.data(), y.data());
  int mismatches = 0;
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t m = 0; m < M; ++m) {
      int64_t s = 0;
      for (int64_t k = 0; k < K; ++k) s += (int64_t{x[static_cast<size_t>(r * K + k)]} - 3) * w.w[static_cast<size_t>(m * K + k)];
      const double exact = (static_cast<double>(s) * 0.05 * 0.01 + bias[static_cast<size_t>(m)]) / out.scale;
      mismatches += y[static_cast<size_t>(r * M + m)] != std::min(255.0, std::max(0.0, 128 + std::nearbyint(exact)));
    }
  EXPECT_EQ(mismatches, 0);
}
