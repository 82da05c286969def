// The AMX tile kernels (gemm_amx.h) give the VNNI kernels' int32 sums exactly: the GEMM on its own
// (panel and strided sources, row and K tails), and whole conv / gemm layers on every path that uses it.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "core/cpu.h"
#include "kernels/conv_blocked.h"
#include "kernels/gemm.h"
#include "kernels/gemm_amx.h"
#include "kernels/qlayer.h"
#include "test_util.h"

using namespace qfrt;
using namespace qfrt_test;

namespace {
// Runs f with the tiles on, then off, and returns both results.
template <class F> std::pair<std::vector<uint8_t>, std::vector<uint8_t>> amx_then_vnni(const F& f) {
  set_amx_active(true);
  std::vector<uint8_t> on = f();
  set_amx_active(false);
  std::vector<uint8_t> off = f();
  set_amx_active(true);
  return {on, off};
}
}  // namespace

TEST(Amx, PanelGemmEqualsVnniOnRowAndKTails) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  std::mt19937 rng(31);
  for (int64_t M : {1, 15, 16, 17, 32, 33, 47, 64})
    for (int64_t K : {4, 60, 64, 68, 200, 576})
      for (int64_t nb : {1, 2, 3}) {
        std::vector<int8_t> A = random_ints<int8_t>(static_cast<size_t>(M * K), -128, 127, rng);
        std::vector<uint8_t> B = random_ints<uint8_t>(static_cast<size_t>(panel_bytes(K, nb) + kAmxPanelSlack), 0, 255, rng);
        if (M == 47) std::fill(A.begin(), A.end(), -128), std::fill(B.begin(), B.end(), 255);  // no saturation anywhere
        const AmxWeights w = make_amx_weights(A.data(), M, K);
        // Tile rows on whole cache lines: a misaligned copy ran ResNet-18's 3x3 layers up to 1.6x slower.
        ASSERT_EQ(reinterpret_cast<uintptr_t>(w.A.data()) % 64, 0u) << "M=" << M << " K=" << K;
        // Rows from m0 = 0, and a part from m0 = M / 3 (a thread's share of the rows).
        for (int64_t m0 : {int64_t{0}, M / 3}) {
          const int64_t rows = M - m0, ldc = nb * kPanelCols + 5;
          std::vector<int32_t> want(static_cast<size_t>(rows * ldc), 7), got = want;
          gemm_u8s8_avx512vnni({A.data() + m0 * K, rows, K, B.data(), nb, want.data(), ldc});
          gemm_u8s8_amx(w, m0, rows, AmxSource{B.data(), K * kPanelCols, 64, nullptr}, nb, got.data(), ldc);
          ASSERT_EQ(got, want) << "M=" << M << " K=" << K << " nb=" << nb << " m0=" << m0;
        }
      }
}

TEST(Amx, StridedSourceReadsEachChunkAtItsOffset) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  // Two chunks whose k-groups lie `stride` bytes apart, at arbitrary offsets: the blocked path's form, with
  // chunks of 16, 8 and 4 k-groups (64, 32, 16 bytes).
  std::mt19937 rng(32);
  for (int64_t chunk : {64, 32, 16}) {
    const int64_t M = 20, nb = 3, stride = 64 * 7 + 12, per = chunk / 4, groups = 2 * per;
    const std::vector<int64_t> chunk_off = {300, 64 * 200 + 4};
    std::vector<uint8_t> buf = random_ints<uint8_t>(static_cast<size_t>(chunk_off[1] + per * stride + 64 * nb), 0, 255, rng);
    std::vector<int8_t> A = random_ints<int8_t>(static_cast<size_t>(M * groups * 4), -128, 127, rng);
    std::vector<int32_t> want(static_cast<size_t>(M * nb * 16)), got(want.size());
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < nb * 16; ++n) {
        int32_t s = 0;
        for (int64_t q = 0; q < groups; ++q)
          for (int64_t b = 0; b < 4; ++b) {
            const int64_t at = n / 16 * 64 + chunk_off[static_cast<size_t>(q / per)] + q % per * stride + n % 16 * 4 + b;
            s += buf[static_cast<size_t>(at)] * A[static_cast<size_t>(m * groups * 4 + q * 4 + b)];
          }
        want[static_cast<size_t>(m * nb * 16 + n)] = s;
      }
    gemm_u8s8_amx(make_amx_weights(A.data(), M, groups * 4, nullptr, chunk), 0, M, AmxSource{buf.data(), 64, stride, chunk_off.data()},
                  nb, got.data(), nb * 16);
    EXPECT_EQ(got, want) << "chunk " << chunk;
  }
}


// Conv layers that take the tiles: 3x3 at stride 1 and 2 with 16 to 128 channels (the blocked path's
// tap-major copy, chunks of 16, 32 and 64 bytes), 7x7 stride-2 stems, 1x1 (the panel copy), uneven output channel counts,
// signed inputs,
// batches split across threads; and a Gemm. Bytes equal the VNNI path's.
TEST(Amx, LayersGiveTheVnniBytes) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  std::mt19937 rng(33);
  struct Shape {
    int64_t C, H, W, M, k, stride, N;
    bool signed_in = false;
  };
  int tiled_blocked = 0;
  for (const Shape s : {Shape{64, 14, 14, 64, 3, 1, 2}, Shape{64, 15, 15, 40, 3, 2, 1}, Shape{128, 7, 7, 47, 3, 1, 3},
                        Shape{72, 9, 9, 33, 1, 1, 2}, Shape{16, 12, 12, 24, 3, 1, 2}, Shape{96, 6, 6, 20, 3, 1, 1},
                        Shape{32, 14, 14, 40, 3, 1, 2}, Shape{16, 15, 15, 32, 3, 2, 1}, Shape{32, 9, 11, 64, 3, 2, 2},
                        Shape{8, 10, 10, 16, 3, 1, 1}, Shape{3, 21, 19, 24, 7, 2, 1, true}, Shape{3, 40, 37, 64, 7, 2, 2}}) {
    QWeights w;
    w.M = s.M, w.K = s.C * s.k * s.k;
    w.w = random_ints<int8_t>(static_cast<size_t>(w.M * w.K), -127, 127, rng);
    w.zp.assign(static_cast<size_t>(w.M), 0);
    w.scale.assign(static_cast<size_t>(w.M), 0.01);
    QOutput out;
    out.kind = Epilogue::Quantized, out.scale = 40.0, out.zp = 3;
    QLayer L = prepare_qlayer(w, QInput{0.05, s.signed_in ? -5 : 7, s.signed_in}, std::vector<int32_t>(static_cast<size_t>(w.M), 11), {},
                              out);
    enable_blocked_conv(L, s.C, s.k, s.k, s.stride);
    enable_amx_gemm(L);
    ConvGeom g;
    g.C = s.C, g.H = s.H, g.W = s.W, g.M = s.M, g.kh = g.kw = s.k, g.sh = g.sw = s.stride;
    g.pt = g.pl = g.pb = g.pr = s.k / 2;
    g.OH = (s.H + 2 * (s.k / 2) - s.k) / s.stride + 1, g.OW = (s.W + 2 * (s.k / 2) - s.k) / s.stride + 1;
    const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(s.N * s.C * s.H * s.W), 0, 255, rng);
    auto run = [&] {
      std::vector<uint8_t> y(static_cast<size_t>(s.N * s.M * g.OH * g.OW), 0xAB);
      qconv_run(Isa::Avx512Vnni, L, g, s.N, x.data(), y.data());
      return y;
    };
    const auto [on, off] = amx_then_vnni(run);
    ASSERT_EQ(on, off) << "C=" << s.C << " M=" << s.M << " k=" << s.k << " stride=" << s.stride;
    tiled_blocked += !L.blocked.amx.empty() && blocked_conv_fits(Isa::Avx512Vnni, L, g);
    // The output is not trivially constant (the requantization keeps information).
    EXPECT_NE(std::count(on.begin(), on.end(), on[0]), static_cast<long>(on.size()));
  }
  // 16, 32, 64 and 128 channels at strides 1 and 2 (16- / 32- / 64-byte chunks), and the 7x7 stride-2 stems on
  // 3 channels (the phase-byte form, through row-shifted copies: conv_shifted_rows.cpp; output rows in several
  // work items, the last one partial, and column blocks past the phase row); 8 and 96 channels (2 and 24
  // channel groups) stay on vpdpbusd.
  EXPECT_EQ(tiled_blocked, 9);
}

TEST(Amx, GemmLayerGivesTheVnniSums) {
  if (!cpu_has_amx()) GTEST_SKIP() << "no AMX on this CPU";
  std::mt19937 rng(34);
  for (int64_t rows : {1, 33, 300})
    for (int64_t K : {10, 64, 520})
      for (int64_t M : {10, 17, 64}) {
        QWeights w;
        w.M = M, w.K = K;
        w.w = random_ints<int8_t>(static_cast<size_t>(M * K), -128, 127, rng);
        w.zp.assign(static_cast<size_t>(M), 0);
        w.scale.assign(static_cast<size_t>(M), 1.0);
        QLayer L = prepare_qlayer(w, QInput{1.0, 100, false}, {}, {}, QOutput{});
        enable_amx_gemm(L);
        ASSERT_FALSE(L.amx.empty());
        const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(rows * K), 0, 255, rng);
        const auto [on, off] = amx_then_vnni([&] {
          std::vector<uint8_t> y(static_cast<size_t>(rows * M * 4));
          qgemm_run(Isa::Avx512Vnni, L, rows, x.data(), y.data());
          return y;
        });
        ASSERT_EQ(on, off) << "rows=" << rows << " K=" << K << " M=" << M;
      }
}
