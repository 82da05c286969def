// Bit-serial low-bit kernels: the int32 sums equal the int8 GEMM's exactly (same integer arithmetic),
// for every weight kind, activation width, odd K and column counts, on the scalar reference and the
// AVX-512 kernel; whole layers equal the int8 path byte for byte; models pick the kernel from their widths.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "graph/model.h"
#include "kernels/bitserial.h"
#include "kernels/gemm.h"
#include "kernels/qlayer.h"
#include "lowbit_models.h"
#include "test_util.h"

using namespace qfrt;
using namespace qfrt_test;

namespace {
struct WSpec {
  int bits;
  bool binary;
  int lo, hi;
};
const WSpec kWeights[] = {{4, false, -8, 7}, {2, false, -2, 1}, {2, false, -1, 1}, {1, true, -1, 1}};

std::vector<int8_t> weights(const WSpec& s, int64_t n, std::mt19937& rng) {
  std::vector<int8_t> w = random_ints<int8_t>(static_cast<size_t>(n), s.lo, s.hi, rng);
  if (s.binary)
    for (auto& v : w) v = v >= 0 ? 1 : -1;
  return w;
}

}  // namespace

TEST(Bitserial, SumsEqualTheInt8GemmForEveryKindAndWidth) {
  std::mt19937 rng(21);
  int checked = 0;
  for (const WSpec& ws : kWeights)
    for (int abits : {1, 2, 4})
      for (int64_t K : {1, 9, 63, 64, 65, 200, 576})
        for (int64_t cols : {1, 7, 16, 33}) {
          const int64_t M = 11, Kp = round_up(K, 4), nb = (cols + kPanelCols - 1) / kPanelCols;
          const uint8_t lo = static_cast<uint8_t>(rng() % 3 == 0 ? 0 : rng() % 200);
          const std::vector<int8_t> w = weights(ws, M * K, rng);
          std::vector<int8_t> A(static_cast<size_t>(M * Kp), 0);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t k = 0; k < K; ++k) A[static_cast<size_t>(m * Kp + k)] = w[static_cast<size_t>(m * K + k)];
          // A panel with values in [lo, lo + 2^abits) and zeros past K (as the packers write).
          std::vector<uint8_t> panel(static_cast<size_t>(panel_bytes(Kp, nb)), 0);
          for (int64_t col = 0; col < nb * kPanelCols; ++col)
            for (int64_t k = 0; k < K; ++k)
              panel[static_cast<size_t>((col / 16) * Kp * 16 + (k / 4) * 64 + (col % 16) * 4 + k % 4)] =
                  static_cast<uint8_t>(lo + rng() % (1u << abits));
          std::vector<int32_t> ref(static_cast<size_t>(M * nb * kPanelCols));
          gemm_u8s8_scalar(GemmArgs{A.data(), M, Kp, panel.data(), nb, ref.data(), nb * kPanelCols});
          const BitWeights W = make_bit_weights(w.data(), M, K, ws.bits, ws.binary);
          for (bool simd : {false, true}) {
            if (simd && !bitserial_avx512_available()) continue;
            BitActs a;
            if (simd) bit_acts_from_panel_avx512(panel.data(), K, Kp, cols, lo, abits, a);
            else bit_acts_from_panel_scalar(panel.data(), K, Kp, cols, lo, abits, a);
            // Rows 2..M-1 into C's first rows: the row offset m0 must be honoured.
            std::vector<int32_t> C(static_cast<size_t>(M * nb * kPanelCols), -7);
            if (simd) bitserial_gemm_avx512(W, 2, M - 2, a, cols, lo, C.data(), nb * kPanelCols);
            else bitserial_gemm_scalar(W, 2, M - 2, a, cols, lo, C.data(), nb * kPanelCols);
            for (int64_t m = 2; m < M; ++m)
              for (int64_t col = 0; col < cols; ++col)
                ASSERT_EQ(C[static_cast<size_t>((m - 2) * nb * kPanelCols + col)], ref[static_cast<size_t>(m * nb * kPanelCols + col)])
                    << "w" << ws.bits << (ws.binary ? "bin" : "") << " a" << abits << " K=" << K << " cols=" << cols << " m=" << m
                    << " col=" << col << (simd ? " avx512" : " scalar");
            ++checked;
          }
        }
  EXPECT_GT(checked, 300);
}

// A conv layer (pad, stride, groups, signed or unsigned input, weight zero points, every epilogue)
// gives the same bytes on the bit-serial kernel as on the int8 GEMM.
TEST(Bitserial, LayersMatchTheInt8PathByteForByte) {
  LowbitEnv env("all");
  std::mt19937 rng(8);
  int switched = 0;
  for (const WSpec& ws : kWeights)
    for (int abits : {1, 2, 4})
      for (int variant = 0; variant < 4; ++variant) {
        ConvGeom g;
        g.C = 6, g.H = 9, g.W = 7, g.M = 10, g.group = variant == 3 ? 2 : 1, g.kh = 3, g.kw = 3;
        g.sh = g.sw = variant == 1 ? 2 : 1;
        g.pt = g.pl = g.pb = g.pr = variant == 2 ? 0 : 1;
        g.OH = (g.H + g.pt + g.pb - g.kh) / g.sh + 1, g.OW = (g.W + g.pl + g.pr - g.kw) / g.sw + 1;
        const int64_t N = 2, K = g.K();
        QWeights qw;
        qw.M = g.M, qw.K = K, qw.w = weights(ws, g.M * K, rng);
        const bool wzp = variant == 2 && !ws.binary && ws.bits == 4;  // a weight zero point: column sums
        for (int64_t m = 0; m < g.M; ++m) qw.zp.push_back(wzp ? static_cast<int32_t>(m % 3) : 0), qw.scale.push_back(0.01 + 0.001 * m);
        QInput in;
        in.is_signed = variant % 2 == 1;
        const int lo = in.is_signed ? -5 : 3;  // inputs in [lo, lo + 2^abits); the zero point is lo (a ReLU's clamp)
        in.zp = lo, in.scale = 0.05;
        std::vector<uint8_t> x(static_cast<size_t>(N * g.C * g.H * g.W));
        for (auto& v : x) v = static_cast<uint8_t>(lo + static_cast<int>(rng() % (1u << abits)));
        for (Epilogue::Kind kind : {Epilogue::Quantized, Epilogue::Float, Epilogue::Int32}) {
          const QLayer L8 = int8_test_layer(qw, in, kind);
          QLayer Lb = L8;
          ASSERT_TRUE(enable_bitserial(Lb, ws.bits, ws.binary, abits, lo));
          ++switched;
          expect_same_conv_output(L8, Lb, g, N, x,
                                  "w" + std::to_string(ws.bits) + (ws.binary ? "bin" : "") + " a" + std::to_string(abits) + " variant " +
                                      std::to_string(variant) + " kind " + std::to_string(kind));
          if (kind == Epilogue::Quantized && variant == 0) {  // the same weights as a Gemm (rows of x = columns)
            QWeights gw = qw;
            const int64_t rows = 37;
            std::vector<uint8_t> xr(static_cast<size_t>(rows * K));
            for (auto& v : xr) v = static_cast<uint8_t>(lo + static_cast<int>(rng() % (1u << abits)));
            for (Isa isa : all_isas()) {
              std::vector<uint8_t> y8(static_cast<size_t>(rows * g.M)), yb(y8.size());
              qgemm_run(isa, L8, rows, xr.data(), y8.data());
              qgemm_run(isa, Lb, rows, xr.data(), yb.data());
              ASSERT_EQ(y8, yb) << "gemm w" << ws.bits << " a" << abits << " " << isa_name(isa);
            }
          }
        }
      }
  EXPECT_EQ(switched, 4 * 3 * 4 * 3);
}

TEST(Bitserial, RefusesWhatItCannotComputeExactly) {
  LowbitEnv env("all");
  std::mt19937 rng(2);
  QWeights qw;
  qw.M = 4, qw.K = 18, qw.w = weights(kWeights[1], 4 * 18, rng), qw.zp.assign(4, 0), qw.scale.assign(4, 0.01);
  QInput in;
  in.zp = 0, in.scale = 0.1;
  QOutput out;
  out.kind = Epilogue::Int32;
  QLayer L = prepare_qlayer(qw, in, {}, {}, out);
  EXPECT_FALSE(enable_bitserial(L, 2, false, 2, 1));   // padding (zero point 0) below the range [1, 4]
  EXPECT_FALSE(enable_bitserial(L, 2, false, 8, 0));   // 8-bit activations: the int8 GEMM
  EXPECT_FALSE(enable_bitserial(L, 1, true, 2, 0));    // int2 weights are not binary
  qw.w[5] = 3;
  QLayer L3 = prepare_qlayer(qw, in, {}, {}, out);
  EXPECT_FALSE(enable_bitserial(L3, 2, false, 2, 0));  // a weight outside int2
  EXPECT_TRUE(enable_bitserial(L3, 4, false, 2, 0));
  LowbitEnv off("0");
  QLayer L0 = prepare_qlayer(qw, in, {}, {}, out);
  EXPECT_FALSE(enable_bitserial(L0, 4, false, 2, 0));
}

// Whole models: the packed widths pick the kernel, and the outputs equal the int8 path's exactly.
TEST(Bitserial, ModelsPickTheKernelFromTheirWidthsAndMatchInt8) {
  const LowbitCase cases[] = {{-2, 1, false, 2, false, "bitserial W2A2"}, {-8, 7, false, 4, false, "bitserial W4A4"},
                              {-1, 1, false, 2, false, "bitserial W2A2"}, {-1, 1, true, 2, false, "bitserial WbinA2"},
                              {-8, 7, false, 2, false, "bitserial W4A2"},  {-1, 1, true, 1, false, "xnor binary"},
                              {-1, 1, true, 2, true, "xnor binary"},       {-1, 1, false, 2, true, "xnor ternary"},
                              {-1, 1, true, 8, false, "sign-select binary"}, {-1, 1, false, 8, false, "sign-select ternary"}};
  for (const LowbitCase& c : cases)
    expect_lowbit_model_equals_int8(c, LowbitSpec{}, (std::filesystem::temp_directory_path() / "qforge_rt_bitserial_model.onnx").string(), 5, 4);
}

// A low-bit layer fed by a conv with a float output (a residual block's end): the QuantizeLinear between them
// runs in that conv's epilogue (rewrite 9), and the layer must still see its input range, which annotate_widths
// reads off that QuantizeLinear before the fusion removes it.
TEST(Bitserial, ALayerAfterAFusedQuantizeStillPicksItsKernel) {
  LowbitSpec s;
  s.w_lo = -2, s.w_hi = 1, s.a_bits = 2, s.C = 16, s.M = 16, s.residual = true;
  const std::string path = (std::filesystem::temp_directory_path() / "qforge_rt_bitserial_residual.onnx").string();
  lowbit_model(s, path, 6);
  LowbitEnv all("all");
  Model m(path);
  EXPECT_EQ(m.ops()["qf.QConvToFloat"], 2);  // conv2 too: its output y is float
  EXPECT_EQ(m.ops()["QuantizeLinear"], 1);  // the input's; conv2's runs in conv1's epilogue
  EXPECT_EQ(kernels_named(m, "bitserial W2A2"), 2);
}

// XNOR form: binary / ternary weights x activations within one step of the zero point, padding
// (the zero point) adding nothing; sums and whole conv layers equal the int8 path's.
TEST(Bitserial, XnorSumsAndLayersMatchInt8IncludingPadding) {
  LowbitEnv env("all");
  std::mt19937 rng(31);
  int checked = 0;
  for (bool binary : {true, false})
    for (int64_t K : {1, 9, 64, 65, 300}) {
      const int64_t M = 13, cols = 21, Kp = round_up(K, 4), nb = (cols + kPanelCols - 1) / kPanelCols;
      const uint8_t zp = static_cast<uint8_t>(1 + rng() % 250);
      const std::vector<int8_t> w = weights(binary ? kWeights[3] : kWeights[2], M * K, rng);
      std::vector<int8_t> A(static_cast<size_t>(M * Kp), 0);
      for (int64_t m = 0; m < M; ++m)
        for (int64_t k = 0; k < K; ++k) A[static_cast<size_t>(m * Kp + k)] = w[static_cast<size_t>(m * K + k)];
      std::vector<uint8_t> panel(static_cast<size_t>(panel_bytes(Kp, nb)), 0);
      for (int64_t col = 0; col < nb * kPanelCols; ++col)
        for (int64_t k = 0; k < K; ++k)
          panel[static_cast<size_t>((col / 16) * Kp * 16 + (k / 4) * 64 + (col % 16) * 4 + k % 4)] = static_cast<uint8_t>(zp - 1 + rng() % 3);
      std::vector<int32_t> ref(static_cast<size_t>(M * nb * kPanelCols));
      gemm_u8s8_scalar(GemmArgs{A.data(), M, Kp, panel.data(), nb, ref.data(), nb * kPanelCols});
      const BitWeights W = make_xnor_weights(w.data(), M, K, binary);
      for (bool simd : {false, true}) {
        if (simd && !bitserial_avx512_available()) continue;
        BitActs a;
        if (simd) xnor_acts_from_panel_avx512(panel.data(), K, Kp, cols, zp, a);
        else xnor_acts_from_panel_scalar(panel.data(), K, Kp, cols, zp, a);
        std::vector<int32_t> C(static_cast<size_t>(M * nb * kPanelCols));
        if (simd) bitserial_gemm_avx512(W, 0, M, a, cols, zp, C.data(), nb * kPanelCols);
        else bitserial_gemm_scalar(W, 0, M, a, cols, zp, C.data(), nb * kPanelCols);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t col = 0; col < cols; ++col)
            ASSERT_EQ(C[static_cast<size_t>(m * nb * kPanelCols + col)], ref[static_cast<size_t>(m * nb * kPanelCols + col)])
                << (binary ? "binary" : "ternary") << " K=" << K << (simd ? " avx512" : " scalar");
        ++checked;
      }
    }
  EXPECT_GE(checked, 10);
  // Layers: signed and unsigned inputs, padding, every ISA.
  for (bool binary : {true, false})
    for (bool is_signed : {false, true}) {
      ConvGeom g;
      g.C = 5, g.H = 8, g.W = 6, g.M = 9, g.kh = g.kw = 3, g.pt = g.pl = g.pb = g.pr = 1, g.OH = 8, g.OW = 6;
      QWeights qw;
      qw.M = g.M, qw.K = g.K(), qw.w = weights(binary ? kWeights[3] : kWeights[2], g.M * g.K(), rng);
      qw.zp.assign(static_cast<size_t>(g.M), 0), qw.scale.assign(static_cast<size_t>(g.M), 0.02);
      QInput in;
      in.is_signed = is_signed, in.zp = is_signed ? -3 : 40, in.scale = 0.1;
      std::vector<uint8_t> x(static_cast<size_t>(2 * g.C * g.H * g.W));
      for (auto& v : x) v = static_cast<uint8_t>(in.zp - 1 + static_cast<int>(rng() % 3));
      QOutput out;
      out.kind = Epilogue::Quantized, out.scale = 0.05, out.zp = 100;
      const QLayer L8 = prepare_qlayer(qw, in, {}, std::vector<float>(static_cast<size_t>(g.M), -0.2f), out);
      QLayer Lx = L8;
      ASSERT_TRUE(enable_xnor(Lx, binary, in.zp - 1, in.zp + 1));
      QLayer wide = L8;
      EXPECT_FALSE(enable_xnor(wide, binary, in.zp - 1, in.zp + 2));  // 2 steps above the zero point
      for (Isa isa : all_isas()) {
        std::vector<uint8_t> y8(static_cast<size_t>(2 * g.M * g.OH * g.OW)), yx(y8.size());
        qconv_run(isa, L8, g, 2, x.data(), y8.data());
        qconv_run(isa, Lx, g, 2, x.data(), yx.data());
        ASSERT_EQ(y8, yx) << (binary ? "binary" : "ternary") << (is_signed ? " int8" : " uint8") << " " << isa_name(isa);
      }
    }
}

// Sign-select: binary / ternary weights x any uint8 activations, against the int8 GEMM and layer.
TEST(Bitserial, SignSelectMatchesInt8ForEightBitInputs) {
  LowbitEnv env("all");
  std::mt19937 rng(41);
  int checked = 0;
  for (bool binary : {true, false})
    for (int64_t K : {1, 9, 64, 65, 300})
      for (int64_t M : {3, 8, 13}) {
        const int64_t cols = 19, Kp = round_up(K, 4), nb = (cols + kPanelCols - 1) / kPanelCols;
        const std::vector<int8_t> w = weights(binary ? kWeights[3] : kWeights[2], M * K, rng);
        std::vector<int8_t> A(static_cast<size_t>(M * Kp), 0);
        for (int64_t m = 0; m < M; ++m)
          for (int64_t k = 0; k < K; ++k) A[static_cast<size_t>(m * Kp + k)] = w[static_cast<size_t>(m * K + k)];
        std::vector<uint8_t> panel = random_ints<uint8_t>(static_cast<size_t>(panel_bytes(Kp, nb)), 0, 255, rng);  // past K too: must be ignored
        std::vector<int32_t> ref(static_cast<size_t>(M * nb * kPanelCols));
        std::vector<int8_t> A0 = A;
        gemm_u8s8_scalar(GemmArgs{A0.data(), M, Kp, panel.data(), nb, ref.data(), nb * kPanelCols});
        const BitWeights W = make_xnor_weights(w.data(), M, K, binary);
        for (bool simd : {false, true}) {
          if (simd && !bitserial_avx512_available()) continue;
          std::vector<int32_t> C(static_cast<size_t>(M * nb * kPanelCols));
          BitActs scratch;
          if (simd) sign_select_gemm_avx512(W, 0, M, panel.data(), K, Kp, cols, scratch, C.data(), nb * kPanelCols);
          else sign_select_gemm_scalar(W, 0, M, panel.data(), K, Kp, cols, C.data(), nb * kPanelCols);
          for (int64_t m = 0; m < M; ++m)
            for (int64_t col = 0; col < cols; ++col)
              ASSERT_EQ(C[static_cast<size_t>(m * nb * kPanelCols + col)], ref[static_cast<size_t>(m * nb * kPanelCols + col)])
                  << (binary ? "binary" : "ternary") << " K=" << K << " M=" << M << (simd ? " avx512" : " scalar");
          ++checked;
        }
      }
  EXPECT_GE(checked, 30);
  for (bool binary : {true, false}) {
    ConvGeom g;
    g.C = 7, g.H = 9, g.W = 9, g.M = 12, g.kh = g.kw = 3, g.sh = g.sw = 2, g.pt = g.pl = g.pb = g.pr = 1, g.OH = 5, g.OW = 5;
    QWeights qw;
    qw.M = g.M, qw.K = g.K(), qw.w = weights(binary ? kWeights[3] : kWeights[2], g.M * g.K(), rng);
    qw.zp.assign(static_cast<size_t>(g.M), 0), qw.scale.assign(static_cast<size_t>(g.M), 0.01);
    QInput in;
    in.zp = 128, in.scale = 0.02;
    const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(2 * g.C * g.H * g.W), 0, 255, rng);
    QOutput out;
    out.kind = Epilogue::Float;
    const QLayer L8 = prepare_qlayer(qw, in, {}, {}, out);
    QLayer Ls = L8;
    ASSERT_TRUE(enable_sign_select(Ls, binary));
    for (Isa isa : all_isas()) {
      std::vector<uint8_t> y8(static_cast<size_t>(2 * g.M * g.OH * g.OW) * 4), ys(y8.size());
      qconv_run(isa, L8, g, 2, x.data(), y8.data());
      qconv_run(isa, Ls, g, 2, x.data(), ys.data());
      ASSERT_EQ(y8, ys) << (binary ? "binary" : "ternary") << " " << isa_name(isa);
    }
  }
  LowbitEnv auto_mode("auto");
  std::mt19937 r2(1);
  QWeights qw;
  qw.M = 64, qw.K = 9, qw.w = weights(kWeights[3], 64 * 9, r2), qw.zp.assign(64, 0), qw.scale.assign(64, 0.01);
  QOutput out;
  out.kind = Epilogue::Int32;
  QLayer L = prepare_qlayer(qw, QInput(), {}, {}, out);
  EXPECT_FALSE(enable_sign_select(L, true));  // slower than vpdpbusd: only when asked for
}
