// Fixed-point requantization against a double-precision reference.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "kernels/requant.h"

using namespace qfrt;

TEST(Requant, TiesRoundToEven) {
  const FixedMultiplier half = quantize_multiplier(0.5);
  EXPECT_EQ(requantize(3, half, 0, -1000, 1000), 2);    // 1.5 -> 2
  EXPECT_EQ(requantize(5, half, 0, -1000, 1000), 2);    // 2.5 -> 2
  EXPECT_EQ(requantize(-3, half, 0, -1000, 1000), -2);  // -1.5 -> -2
  EXPECT_EQ(requantize(-5, half, 0, -1000, 1000), -2);  // -2.5 -> -2
  EXPECT_EQ(requantize(7, half, 10, -1000, 1000), 14);  // 3.5 -> 4, + zero point
  EXPECT_EQ(requantize(1000, half, 0, 0, 255), 255);    // saturates
  EXPECT_EQ(requantize(-1000, half, 3, 0, 255), 0);
}

TEST(Requant, MatchesDoubleReferenceExceptWithinMantissaPrecisionOfTies) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> lg(-20, 1);
  int mismatches = 0, n = 200000;
  for (int i = 0; i < n; ++i) {
    const double real = std::exp2(lg(rng));
    // Sums whose requantized value lies in +-2000: every 8-bit output and then some.
    const double vmax = std::min(2000.0 / real, 2.0e9);
    const int32_t v = static_cast<int32_t>(std::uniform_real_distribution<double>(-vmax, vmax)(rng));
    const FixedMultiplier m = quantize_multiplier(real);
    EXPECT_NEAR(std::ldexp(static_cast<double>(m.mult), -m.shift), real, real * 1e-9);
    const int32_t got = requantize(v, m, 0, INT32_MIN, INT32_MAX);
    const long double exact = static_cast<long double>(v) * real;
    const long double want = std::nearbyintl(exact);
    if (got != want) {
      ++mismatches;
      const long double frac = std::fabs(exact - std::floor(exact) - 0.5L);
      EXPECT_LT(frac, std::fabs(exact) * 1e-9L + 1e-12L) << "v=" << v << " real=" << real;
      EXPECT_EQ(std::fabs(got - want), 1.0L);
    }
  }
  EXPECT_LE(mismatches, 2);  // a 31-bit mantissa is off by < 2^-31 relative: ties within that flip
}

TEST(Requant, RejectsBadMultipliers) {
  EXPECT_THROW(quantize_multiplier(0), std::exception);
  EXPECT_THROW(quantize_multiplier(-1), std::exception);
  EXPECT_THROW(quantize_multiplier(NAN), std::exception);
  EXPECT_THROW(quantize_multiplier(1e12), std::exception);
  const FixedMultiplier tiny = quantize_multiplier(1e-30);  // shifts past 62: everything rounds to 0
  EXPECT_EQ(requantize(1 << 30, tiny, 5, 0, 255), 5);
}

TEST(Requant, RoundHalfEvenClamp) {
  EXPECT_EQ(round_half_even_clamp(2.5, 0, 255), 2);
  EXPECT_EQ(round_half_even_clamp(3.5, 0, 255), 4);
  EXPECT_EQ(round_half_even_clamp(-0.5, -128, 127), 0);
  EXPECT_EQ(round_half_even_clamp(300, 0, 255), 255);
}
