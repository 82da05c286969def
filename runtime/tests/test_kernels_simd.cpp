// Every SIMD kernel equals its scalar reference bit for bit, on random data and odd shapes.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "kernels/depthwise.h"
#include "kernels/epilogue.h"
#include "kernels/gemm.h"
#include "kernels/pack_panel.h"
#include "kernels/quantize.h"
#include "test_util.h"

using namespace qfrt;
using namespace qfrt_test;

TEST(GemmKernel, SimdEqualsScalarOnOddShapes) {
  if (simd_isas().empty()) GTEST_SKIP() << "no SIMD ISA on this CPU";
  std::mt19937 rng(1);
  int cases = 0;
  for (int64_t M : {1, 2, 3, 5, 6, 7, 12, 13, 33})
    for (int64_t K : {1, 3, 4, 5, 15, 16, 17, 63, 64, 65, 129, 300})
      for (int64_t nb : {1, 2, 3, 5}) {
        const int64_t Kp = round_up(K, 4);
        // Extreme values included: 255 x -128 must not saturate anywhere.
        std::vector<int8_t> A = random_ints<int8_t>(static_cast<size_t>(M * Kp), -128, 127, rng);
        std::vector<uint8_t> B = random_ints<uint8_t>(static_cast<size_t>(panel_bytes(Kp, nb)), 0, 255, rng);
        if (cases % 3 == 0) {
          std::fill(A.begin(), A.end(), -128);
          std::fill(B.begin(), B.end(), 255);
        }
        const int64_t ldc = nb * kPanelCols + 3;
        std::vector<int32_t> ref(static_cast<size_t>(M * ldc), 7);
        gemm_u8s8_scalar({A.data(), M, Kp, B.data(), nb, ref.data(), ldc});
        for (Isa isa : simd_isas()) {
          std::vector<int32_t> got(static_cast<size_t>(M * ldc), 7);
          gemm_u8s8(isa, {A.data(), M, Kp, B.data(), nb, got.data(), ldc});
          ASSERT_EQ(got, ref) << isa_name(isa) << " M=" << M << " K=" << K << " nb=" << nb;
        }
        ++cases;
      }
  // The all-extreme case really reaches values int16 arithmetic would saturate.
  std::vector<int8_t> A(16, -128);
  std::vector<uint8_t> B(static_cast<size_t>(panel_bytes(16, 1)), 255);
  std::vector<int32_t> C(16);
  gemm_u8s8_scalar({A.data(), 1, 16, B.data(), 1, C.data(), 16});
  EXPECT_EQ(C[0], 16 * 255 * -128);
}

TEST(GemmKernel, ScalarMatchesNaiveProductThroughPacking) {
  // The panel layout itself: pack a row-major matrix, multiply, compare with a plain triple loop.
  std::mt19937 rng(2);
  const int64_t rows = 37, K = 23, M = 5, Kp = round_up(K, 4), nb = (rows + 15) / 16;
  std::vector<uint8_t> X = random_ints<uint8_t>(static_cast<size_t>(rows * K), 0, 255, rng);
  std::vector<int8_t> W = random_ints<int8_t>(static_cast<size_t>(M * K), -128, 127, rng), A(static_cast<size_t>(M * Kp), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) A[static_cast<size_t>(m * Kp + k)] = W[static_cast<size_t>(m * K + k)];
  std::vector<uint8_t> P(static_cast<size_t>(panel_bytes(Kp, nb)));
  std::vector<int32_t> colsum(static_cast<size_t>(rows));
  pack_rows_panel(X.data(), false, rows, K, K, P.data(), colsum.data());
  std::vector<int32_t> C(static_cast<size_t>(M * nb * 16));
  gemm_u8s8_scalar({A.data(), M, Kp, P.data(), nb, C.data(), nb * 16});
  for (int64_t m = 0; m < M; ++m)
    for (int64_t r = 0; r < rows; ++r) {
      int32_t s = 0, cs = 0;
      for (int64_t k = 0; k < K; ++k) {
        s += W[static_cast<size_t>(m * K + k)] * X[static_cast<size_t>(r * K + k)];
        cs += X[static_cast<size_t>(r * K + k)];
      }
      ASSERT_EQ(C[static_cast<size_t>(m * nb * 16 + r)], s);
      ASSERT_EQ(colsum[static_cast<size_t>(r)], cs);
    }
}

TEST(DepthwiseKernel, SimdEqualsScalarOnStridesDilationsAndOddWidths) {
  if (simd_isas().empty()) GTEST_SKIP() << "no SIMD ISA on this CPU";
  std::mt19937 rng(3);
  int vbmi_cases = 0;
  for (int64_t k : {1, 3, 5})
    for (int64_t s : {1, 2, 3})
      for (int64_t d : {1, 2})
        for (int64_t W : {1, 7, 16, 17, 33, 50}) {
          DwGeom g;
          g.kh = g.kw = k;
          g.sh = g.sw = s;
          g.dh = g.dw = d;
          g.Hp = 9 + (k - 1) * d;
          g.Wp = W + (k - 1) * d;
          g.OH = (g.Hp - (k - 1) * d - 1) / s + 1;
          g.OW = (g.Wp - (k - 1) * d - 1) / s + 1;
          std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(g.Hp * g.Wp + kDepthwiseSlack), 0, 255, rng);
          std::vector<int8_t> w = random_ints<int8_t>(static_cast<size_t>(k * k), -128, 127, rng);
          std::vector<int32_t> ref(static_cast<size_t>(g.OH * g.OW));
          depthwise_scalar(x.data(), w.data(), g, ref.data());
          for (Isa isa : simd_isas()) {
            std::vector<int32_t> got(ref.size(), 12345);
            depthwise(isa, x.data(), w.data(), g, got.data());
            ASSERT_EQ(got, ref) << isa_name(isa) << " k=" << k << " s=" << s << " d=" << d << " W=" << W;
          }
          // The dispatch prefers the VBMI kernel where it fits; the plain AVX-512 one must stay right too.
          if (cpu_supports(Isa::Avx512Vnni)) {
            std::vector<int32_t> got(ref.size(), 12345);
            depthwise_avx512(x.data(), w.data(), g, got.data());
            ASSERT_EQ(got, ref) << "avx512 k=" << k << " s=" << s << " d=" << d << " W=" << W;
            vbmi_cases += depthwise_vbmi_supported(g);
          }
        }
  std::printf("depthwise: %d geometries on the VBMI kernel\n", vbmi_cases);
}

// The padded plane the depthwise kernels read: the AVX-512 rows (64-byte masked pieces) against the scalar
// ones, for widths around the piece size, every padding up to 3, signed and unsigned inputs; nothing written
// past the plane and its slack.
TEST(PadPlane, Avx512EqualsScalar) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(8);
  int cases = 0;
  for (int64_t W : {1, 7, 62, 63, 64, 65, 112, 130})
    for (int64_t pl : {0, 1, 3})
      for (int64_t pr : {0, 2})
        for (int64_t pt : {0, 1})
          for (uint8_t flip : {uint8_t{0}, uint8_t{0x80}}) {
            const int64_t H = 1 + W % 5;
            DwGeom g;
            g.Hp = H + pt + 1, g.Wp = W + pl + pr;
            const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(H * W), 0, 255, rng);
            const size_t n = static_cast<size_t>(g.Hp * g.Wp + kDepthwiseSlack);
            std::vector<uint8_t> want(n + 64, 0xEE), got(n + 64, 0xEE);
            pad_plane_scalar(x.data(), H, W, pt, pl, g, 9, flip, want.data());
            pad_plane_avx512(x.data(), H, W, pt, pl, g, 9, flip, got.data());
            ASSERT_EQ(got, want) << "W " << W << " pl " << pl << " pr " << pr << " pt " << pt << " flip " << int{flip};
            ASSERT_EQ(want[n], 0xEE);
            ++cases;
          }
  EXPECT_EQ(cases, 192);
}

TEST(RequantEpilogue, Avx512EqualsScalarOnRandomSumsAndMultipliers) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> lg(-24, 0);
  std::uniform_int_distribution<int32_t> sum(-(1 << 26), 1 << 26), off(-(1 << 20), 1 << 20);
  for (int trial = 0; trial < 300; ++trial) {
    const int64_t M = 1 + trial % 5, N = 1 + (trial * 7) % 53;  // row tails of every length
    std::vector<int32_t> C(static_cast<size_t>(M * N)), offs(static_cast<size_t>(M));
    std::vector<FixedMultiplier> mult;
    std::vector<int64_t> bias;
    for (auto& v : C) v = trial % 4 == 0 ? sum(rng) % 64 : sum(rng);  // small sums hit exact ties often
    for (int64_t m = 0; m < M; ++m) {
      offs[static_cast<size_t>(m)] = off(rng);
      mult.push_back(quantize_multiplier(trial % 4 == 0 ? 0.5 : std::exp2(lg(rng))));
      bias.push_back(trial % 3 ? 0 : fixed_bias(std::uniform_real_distribution<double>(-50, 50)(rng), mult.back()));
    }
    Epilogue e;
    e.kind = Epilogue::Quantized;
    e.row_offset = offs.data();
    e.mult = mult.data();
    e.bias_fixed = trial % 3 ? nullptr : bias.data();
    e.out_signed = trial % 2;
    e.zp = e.out_signed ? -5 : 130;
    e.lo = e.out_signed ? -128 : (trial % 5 == 0 ? 130 : 0);  // a fused ReLU raises lo to zp
    e.hi = e.out_signed ? 127 : 255;
    std::vector<uint8_t> ref(static_cast<size_t>(M * N)), got(ref.size(), 0xEE);
    run_epilogue(Isa::Scalar, e, C.data(), N, M, N, ref.data(), N, 1);
    run_epilogue(Isa::Avx512Vnni, e, C.data(), N, M, N, got.data(), N, 1);
    ASSERT_EQ(got, ref) << "trial " << trial;
    // The segmented form (a blocked conv chunk): pieces of 1-7 columns written with a one-byte gap after
    // each, so every piece lands at its own offset; the gaps stay untouched.
    std::vector<EpilogueSegment> seg;
    for (int64_t c = 0; c < N;) {
      const int64_t n = std::min<int64_t>(N - c, 1 + (c + trial) % 7);
      seg.push_back({c, n, c + static_cast<int64_t>(seg.size())});
      c += n;
    }
    const int64_t rs = N + static_cast<int64_t>(seg.size());
    for (Isa isa : {Isa::Scalar, Isa::Avx512Vnni}) {
      std::vector<uint8_t> out(static_cast<size_t>(M * rs), 0xEE);
      run_epilogue_segments(isa, e, C.data(), N, M, seg.data(), static_cast<int64_t>(seg.size()), out.data(), rs);
      for (int64_t m = 0; m < M; ++m)
        for (size_t k = 0; k < seg.size(); ++k) {
          for (int64_t i = 0; i < seg[k].n; ++i)
            ASSERT_EQ(out[static_cast<size_t>(m * rs + seg[k].o + i)], ref[static_cast<size_t>(m * N + seg[k].c + i)]) << "trial " << trial;
          ASSERT_EQ(out[static_cast<size_t>(m * rs + seg[k].o + seg[k].n)], 0xEE) << "trial " << trial;
        }
    }
  }
}

// Sums whose exact value lies just beside a half-integer, closer than float can resolve: with the multiplier
// 0.5 + 2^-j, float(m) is 0.5 (or within 2^-24 of it), so float alone would see an exact tie where the
// fixed-point value is above or below one. The AVX-512 float screen must send these to its exact path;
// distances from 2^-28 to 2^-6 cross the screen's threshold.
TEST(RequantEpilogue, Avx512ScreenSendsNearTiesToTheExactPath) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(9);
  const int64_t N = 4096;
  for (int j : {6, 12, 14, 20, 22, 26, 28, 30})
    for (double sign : {1.0, -1.0})
      for (int32_t off : {0, 1, -1000}) {
        std::vector<int32_t> C(static_cast<size_t>(N));
        std::uniform_int_distribution<int32_t> odd(-(1 << 20), 1 << 20);
        for (auto& v : C) v = (odd(rng) | 1) % 512;  // odd sums within the clamp: v / 2 is a tie
        for (int64_t i = 0; i < 64; ++i) C[static_cast<size_t>(i)] = static_cast<int32_t>(2 * i + 1 - off);
        const FixedMultiplier fm = quantize_multiplier(0.5 + sign * std::ldexp(1.0, -j));
        Epilogue e;
        e.kind = Epilogue::Quantized;
        e.row_offset = &off;
        e.mult = &fm;
        e.zp = 0, e.lo = 0, e.hi = 255;
        std::vector<uint8_t> ref(static_cast<size_t>(N)), got(ref.size(), 0xEE);
        run_epilogue(Isa::Scalar, e, C.data(), N, 1, N, ref.data(), N, 1);
        run_epilogue(Isa::Avx512Vnni, e, C.data(), N, 1, N, got.data(), N, 1);
        ASSERT_EQ(got, ref) << "multiplier 0.5 " << (sign > 0 ? "+" : "-") << " 2^-" << j << ", offset " << off;
      }
}

// The conv panel writer against a direct im2col: every stride (the stride-2 deinterleave included, on
// rows long enough to use it), dilation, padding, group, signed input and chunk start.
TEST(PackConvPanel, EqualsDirectIm2colOnEveryGeometry) {
  std::mt19937 rng(5);
  int cases = 0;
  for (int64_t k : {1, 3, 7})
    for (int64_t s : {1, 2, 3})
      for (int64_t pad : {0, 1, 3})
        for (int64_t W : {5, 40, 75})
          for (bool x_signed : {false, true}) {
            ConvGeom g;
            g.C = 4, g.group = 2, g.M = 2, g.H = 6, g.W = W;
            g.kh = g.kw = k, g.sh = g.sw = s, g.dh = g.dw = k == 3 ? 2 : 1;
            g.pt = g.pl = g.pb = g.pr = pad;
            const int64_t ek = (k - 1) * g.dh + 1;
            if (g.H + 2 * pad < ek || W + 2 * pad < ek) continue;
            g.OH = (g.H + 2 * pad - ek) / s + 1, g.OW = (W + 2 * pad - ek) / s + 1;
            const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(g.C * g.H * W), 0, 255, rng);
            const uint8_t padv = 77, flip = x_signed ? 0x80 : 0;
            const int64_t K = g.K(), Kp = round_up(K, 4), total = g.OH * g.OW;
            for (int64_t group = 0; group < g.group; ++group)
              for (int64_t col0 : {int64_t{0}, total / 3}) {
                const int64_t ncols = std::min<int64_t>(total - col0, 70), nb = (ncols + kPanelCols - 1) / kPanelCols;
                std::vector<uint8_t> panel(static_cast<size_t>(panel_bytes(Kp, nb)), 1);
                std::vector<int32_t> colsum(static_cast<size_t>(ncols));
                pack_conv_panel(x.data(), x_signed, g, group, padv, col0, ncols, panel.data(), colsum.data());
                for (int64_t col = 0; col < nb * kPanelCols; ++col) {
                  int32_t sum = 0;
                  for (int64_t kk = 0; kk < Kp; ++kk) {
                    uint8_t want = 0;  // past the real K or past the chunk's columns
                    if (kk < K && col < ncols) {
                      const int64_t c = kk / (k * k), i = kk / k % k, j = kk % k;
                      const int64_t oh = (col0 + col) / g.OW, ow = (col0 + col) % g.OW;
                      const int64_t ih = oh * s - pad + i * g.dh, iw = ow * s - pad + j * g.dw;
                      want = ih < 0 || ih >= g.H || iw < 0 || iw >= W
                                 ? padv
                                 : static_cast<uint8_t>(x[static_cast<size_t>(((group * 2 + c) * g.H + ih) * W + iw)] ^ flip);
                      sum += want;
                    }
                    const size_t at = static_cast<size_t>((col / kPanelCols * Kp + kk / 4 * 4) * kPanelCols + col % kPanelCols * 4 + kk % 4);
                    ASSERT_EQ(panel[at], want) << "k=" << k << " s=" << s << " pad=" << pad << " W=" << W << " col=" << col << " kk=" << kk;
                  }
                  if (col < ncols) ASSERT_EQ(colsum[static_cast<size_t>(col)], sum) << "col " << col;
                }
                ++cases;
              }
          }
  EXPECT_GT(cases, 100);
}

// QuantizeLinear's AVX-512 loop against the scalar one: ties (k + 0.5 steps), NaN, infinities, values
// past the clamp, both output types, every tail length.
TEST(QuantizeKernel, Avx512EqualsScalarOnTiesNanAndClamps) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(6);
  std::uniform_real_distribution<float> d(-300.f, 300.f);
  for (int trial = 0; trial < 40; ++trial) {
    const int64_t n = 1 + trial * 7 % 70;
    const float scale = trial % 2 ? 0.5f : 0.0371f;
    std::vector<float> x(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      const int kind = static_cast<int>(rng() % 8);
      x[static_cast<size_t>(i)] = kind == 0   ? (static_cast<float>(static_cast<int>(rng() % 200) - 100) + 0.5f) * scale
                                  : kind == 1 ? std::nanf("")
                                  : kind == 2 ? (rng() % 2 ? INFINITY : -INFINITY)
                                              : d(rng) * scale;
    }
    const bool s8 = trial % 3 == 0;
    const int32_t zp = s8 ? -3 : 117, lo = s8 ? -128 : 0, hi = s8 ? 127 : (trial % 4 ? 255 : 130);
    std::vector<uint8_t> want(static_cast<size_t>(n)), got(static_cast<size_t>(n), 0xEE);
    if (s8) quantize_f32(x.data(), n, scale, zp, lo, hi, reinterpret_cast<int8_t*>(want.data()));
    else quantize_f32(x.data(), n, scale, zp, lo, hi, want.data());
    quantize_f32_avx512(x.data(), n, scale, zp, lo, hi, got.data());
    ASSERT_EQ(got, want) << "trial " << trial;
  }
}

// The Float epilogue (scale, bias, residual, ReLU) on AVX-512 gives the scalar loop's floats bit for bit.
TEST(FloatEpilogue, Avx512EqualsScalar) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512 on this CPU";
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> acc(-(1 << 24), 1 << 24);
  std::uniform_real_distribution<float> f(-3.f, 3.f);
  for (int trial = 0; trial < 24; ++trial) {
    const int64_t M = 1 + trial % 3, N = 1 + trial * 5 % 41;
    std::vector<int32_t> C(static_cast<size_t>(M * N)), offs(static_cast<size_t>(M));
    std::vector<float> scale(static_cast<size_t>(M)), bias(static_cast<size_t>(M)), res(static_cast<size_t>(M * N));
    for (auto& v : C) v = acc(rng);
    for (int64_t m = 0; m < M; ++m) offs[static_cast<size_t>(m)] = acc(rng) / 16, scale[static_cast<size_t>(m)] = f(rng) * 1e-4f, bias[static_cast<size_t>(m)] = f(rng);
    for (auto& v : res) v = f(rng);
    Epilogue e;
    e.kind = Epilogue::Float;
    e.row_offset = offs.data();
    e.scale = scale.data();
    e.bias = trial % 2 ? bias.data() : nullptr;
    e.residual = trial % 3 ? res.data() : nullptr;
    e.relu = trial % 4 < 2;
    std::vector<float> want(static_cast<size_t>(M * N)), got(want.size(), 7.f);
    run_epilogue(Isa::Scalar, e, C.data(), N, M, N, want.data(), N, 1);
    run_epilogue(Isa::Avx512Vnni, e, C.data(), N, M, N, got.data(), N, 1);
    ASSERT_EQ(0, std::memcmp(got.data(), want.data(), want.size() * sizeof(float))) << "trial " << trial;
    std::vector<EpilogueSegment> seg;  // the segmented form over pieces of the same rows
    for (int64_t c = 0; c < N;) {
      const int64_t n = std::min<int64_t>(N - c, 1 + (c + trial) % 7);
      seg.push_back({c, n, c});
      c += n;
    }
    for (Isa isa : {Isa::Scalar, Isa::Avx512Vnni}) {
      std::vector<float> s(want.size(), 7.f);
      run_epilogue_segments(isa, e, C.data(), N, M, seg.data(), static_cast<int64_t>(seg.size()), s.data(), N);
      ASSERT_EQ(0, std::memcmp(s.data(), want.data(), want.size() * sizeof(float))) << "trial " << trial;
    }
  }
}
