// Integer pooling and residual addition against double-precision references.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "kernels/pool_q.h"
#include "test_util.h"

using namespace qfrt;
using qfrt_test::all_isas;
using qfrt_test::random_ints;

namespace {
PoolGeom geom(int64_t H, int64_t W, int64_t k, int64_t s, int64_t pad, bool count_pad) {
  PoolGeom g;
  g.H = H, g.W = W, g.kh = g.kw = k, g.sh = g.sw = s, g.pt = g.pl = g.pb = g.pr = pad;
  g.OH = (H + 2 * pad - k) / s + 1;
  g.OW = (W + 2 * pad - k) / s + 1;
  g.count_include_pad = count_pad;
  return g;
}

// Round half to even, clamped: what QuantizeLinear does to the exact real result.
int32_t q_ref(double v, int32_t zp, int32_t lo, int32_t hi) { return static_cast<int32_t>(std::min<double>(hi, std::max<double>(lo, zp + std::nearbyint(v)))); }
}  // namespace

TEST(PoolQ, MaxPoolIgnoresPaddingAndEqualsMax) {
  std::mt19937 rng(1);
  const PoolGeom g = geom(9, 11, 3, 2, 1, false);
  const std::vector<int8_t> x = random_ints<int8_t>(static_cast<size_t>(g.H * g.W), -128, 127, rng);
  std::vector<int8_t> y(static_cast<size_t>(g.OH * g.OW));
  maxpool_plane(x.data(), g, y.data());
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int best = -1000;
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 3; ++j) {
          const int64_t h = oh * 2 - 1 + i, w = ow * 2 - 1 + j;
          if (h >= 0 && h < g.H && w >= 0 && w < g.W) best = std::max<int>(best, x[static_cast<size_t>(h * g.W + w)]);
        }
      ASSERT_EQ(y[static_cast<size_t>(oh * g.OW + ow)], best);
    }
}

// The AVX-512 max pool (64 bytes a step, stride 2 by byte permutes) against maxpool_plane: strides 1 and 2,
// kernels 2 to 5, asymmetric and no padding, rows shorter and longer than one step (outputs past 64 columns
// too), both signed types, every value including the type's lowest.
template <class T> void check_avx512_maxpool(std::mt19937& rng, int& runs) {
  struct G { int64_t H, W, kh, kw, sh, sw, pt, pl, pb, pr; };
  for (const G& c : {G{9, 11, 3, 3, 2, 2, 1, 1, 1, 1}, G{112, 112, 3, 3, 2, 2, 1, 1, 1, 1}, G{20, 150, 2, 2, 2, 2, 0, 0, 0, 0},
                     G{7, 70, 5, 5, 1, 1, 2, 2, 2, 2}, G{13, 131, 3, 2, 1, 2, 0, 1, 2, 0}, G{5, 64, 3, 3, 3, 1, 1, 0, 1, 2},
                     G{6, 200, 4, 3, 1, 2, 3, 2, 0, 1}}) {
    PoolGeom g;
    g.H = c.H, g.W = c.W, g.kh = c.kh, g.kw = c.kw, g.sh = c.sh, g.sw = c.sw, g.pt = c.pt, g.pl = c.pl, g.pb = c.pb, g.pr = c.pr;
    g.OH = (c.H + c.pt + c.pb - c.kh) / c.sh + 1;
    g.OW = (c.W + c.pl + c.pr - c.kw) / c.sw + 1;
    const int lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    const std::vector<T> x = random_ints<T>(static_cast<size_t>(g.H * g.W), lo, hi, rng);
    std::vector<T> want(static_cast<size_t>(g.OH * g.OW)), got(want.size(), T{7});
    maxpool_plane(x.data(), g, want.data());
    if (!maxpool_plane_avx512(x.data(), g, got.data())) continue;
    ++runs;
    ASSERT_EQ(got, want) << "H " << c.H << " W " << c.W << " k " << c.kh << "x" << c.kw << " s " << c.sh << "," << c.sw;
  }
}
TEST(PoolQ, Avx512MaxPoolEqualsThePlaneLoop) {
  if (!cpu_supports(Isa::Avx512Vnni) || !cpu_has_avx512vbmi()) GTEST_SKIP() << "no AVX-512 VBMI";
  std::mt19937 rng(3);
  int runs = 0;
  check_avx512_maxpool<uint8_t>(rng, runs);
  check_avx512_maxpool<int8_t>(rng, runs);
  EXPECT_EQ(runs, 14);
}

TEST(PoolQ, AveragePoolMatchesDoubleReference) {
  std::mt19937 rng(2);
  for (bool count_pad : {false, true}) {
    const PoolGeom g = geom(10, 7, 3, 1, 1, count_pad);
    const std::vector<uint8_t> x = random_ints<uint8_t>(static_cast<size_t>(g.H * g.W), 0, 255, rng);
    const double sx = 0.031, sy = 0.017;
    const int32_t zx = 100, zy = 20;
    std::vector<uint8_t> y(static_cast<size_t>(g.OH * g.OW));
    avgpool_plane(x.data(), g, avgpool_multipliers(g, sx, sy), zx, zy, y.data());
    for (int64_t oh = 0; oh < g.OH; ++oh)
      for (int64_t ow = 0; ow < g.OW; ++ow) {
        double sum = 0;
        int count = 0;
        for (int64_t i = 0; i < 3; ++i)
          for (int64_t j = 0; j < 3; ++j) {
            const int64_t h = oh - 1 + i, w = ow - 1 + j;
            const bool inside = h >= 0 && h < g.H && w >= 0 && w < g.W;
            if (inside) sum += sx * (x[static_cast<size_t>(h * g.W + w)] - zx);
            count += inside || count_pad;
          }
        ASSERT_EQ(y[static_cast<size_t>(oh * g.OW + ow)], q_ref(sum / count / sy, zy, 0, 255)) << oh << "," << ow;
      }
  }
}

TEST(AddQ, MatchesDoubleReferenceWithReluClamp) {
  std::mt19937 rng(3);
  const int64_t n = 5000;
  const std::vector<uint8_t> a = random_ints<uint8_t>(n, 0, 255, rng);
  const std::vector<int8_t> b = random_ints<int8_t>(n, -128, 127, rng);
  const double sa = 0.021, sb = 0.013, sy = 0.029;
  const int32_t za = 128, zb = -3, zy = 7;
  const AddRescale r = add_rescale(sa, sb, sy);
  std::vector<uint8_t> first;
  for (Isa isa : all_isas()) {
    std::vector<uint8_t> y(n);
    add_q(isa, a.data(), false, za, reinterpret_cast<const uint8_t*>(b.data()), true, zb, r, zy, zy, 255, y.data(), n);  // lo = zy: a fused ReLU
    int mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      const double exact = (sa * (a[static_cast<size_t>(i)] - za) + sb * (b[static_cast<size_t>(i)] - zb)) / sy;
      mismatches += y[static_cast<size_t>(i)] != q_ref(exact, zy, zy, 255);
    }
    EXPECT_EQ(mismatches, 0) << isa_name(isa);
    if (first.empty()) first = y;
    EXPECT_EQ(y, first) << isa_name(isa) << " differs from " << isa_name(all_isas()[0]);
  }
}

// Signed output and a tail that is not a whole 16-value step: the AVX-512 loop against the scalar one.
TEST(AddQ, SignedOutputAndTailsMatchTheScalarLoop) {
  std::mt19937 rng(4);
  for (int64_t n : {1, 15, 17, 100}) {
    const std::vector<uint8_t> a = random_ints<uint8_t>(static_cast<size_t>(n), 0, 255, rng), b = random_ints<uint8_t>(static_cast<size_t>(n), 0, 255, rng);
    const AddRescale r = add_rescale(0.5, 0.03, 0.07);
    std::vector<uint8_t> want(static_cast<size_t>(n)), got(static_cast<size_t>(n) + 1, 0xAB);
    add_q_scalar(a.data(), true, -5, b.data(), false, 120, r, 3, -128, 127, want.data(), n);
    if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512";
    add_q_avx512(a.data(), true, -5, b.data(), false, 120, r, 3, -128, 127, got.data(), n);
    EXPECT_EQ(std::vector<uint8_t>(got.begin(), got.begin() + n), want) << "n = " << n;
    EXPECT_EQ(got[static_cast<size_t>(n)], 0xAB) << "wrote past the end";
  }
}

// Near ties: with sa / sy = 0.5 + 2^-j the exact sum lies 2^-j |a - za| beside a half-integer, which float
// multipliers cannot see (float(0.5 + 2^-28) is 0.5). The AVX-512 loop's float screen must send those to
// its exact path.
TEST(AddQ, NearTiesMatchTheScalarLoop) {
  if (!cpu_supports(Isa::Avx512Vnni)) GTEST_SKIP() << "no AVX-512";
  std::vector<uint8_t> a(256), b(256, 9);
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i);
  for (int j : {6, 12, 16, 20, 24, 28})
    for (double sign : {1.0, -1.0}) {
      const AddRescale r = add_rescale(0.5 + sign * std::ldexp(1.0, -j), 0.25, 1.0);
      std::vector<uint8_t> want(a.size()), got(a.size());
      add_q_scalar(a.data(), false, 1, b.data(), false, 9, r, 0, 0, 255, want.data(), static_cast<int64_t>(a.size()));
      add_q_avx512(a.data(), false, 1, b.data(), false, 9, r, 0, 0, 255, got.data(), static_cast<int64_t>(a.size()));
      EXPECT_EQ(got, want) << "sa / sy = 0.5 " << (sign > 0 ? "+" : "-") << " 2^-" << j;
    }
}
