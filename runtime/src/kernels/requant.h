// Fixed-point requantization: a real multiplier (s_x * s_w / s_y) becomes an int32 mantissa and a
// right shift, and y = zp + round(v * mult / 2^shift) is computed in int64 with round half to EVEN,
// the rounding ONNX QuantizeLinear uses. The result differs from the real-valued formula only when
// v * real lies within ~2^-31 relative of a .5 tie (the mantissa has 31 bits).
#pragma once
#include <cstdint>

namespace qfrt {

struct FixedMultiplier {
  int32_t mult = 0;  // in [2^30, 2^31)
  int shift = 0;     // >= 0; the value is mult * 2^-shift
};

// Throws Error for a multiplier that is not positive and finite, or >= 2^31.
FixedMultiplier quantize_multiplier(double real);

// round(x / 2^shift), ties to even, for any int64 x and 0 <= shift <= 63.
inline int64_t rshift_round_half_even(int64_t x, int shift) {
  if (shift == 0) return x;
  if (shift > 62) return 0;  // |x| < 2^62 in every caller, so |x / 2^shift| < 1/2
  const int64_t q = x >> shift;                          // floor (arithmetic shift)
  const int64_t r = x & ((int64_t{1} << shift) - 1);     // x - q * 2^shift, in [0, 2^shift)
  const int64_t half = int64_t{1} << (shift - 1);
  return (r > half || (r == half && (q & 1))) ? q + 1 : q;
}

// bias_fixed: a real-valued offset in output steps, times 2^shift (see fixed_bias), added after the
// multiply so a float bias keeps ~2^-shift precision instead of being rounded to an int32 sum.
inline int32_t requantize(int32_t v, FixedMultiplier m, int32_t zp, int32_t lo, int32_t hi, int64_t bias_fixed = 0) {
  int64_t y = zp + rshift_round_half_even(static_cast<int64_t>(v) * m.mult + bias_fixed, m.shift);
  return static_cast<int32_t>(y < lo ? lo : (y > hi ? hi : y));
}

// round(steps * 2^m.shift) for requantize's bias_fixed; throws when it would not fit.
int64_t fixed_bias(double steps, FixedMultiplier m);

// Round half to even of a double, saturated to [lo, hi]: the float-side QuantizeLinear.
int32_t round_half_even_clamp(double v, int32_t lo, int32_t hi);

}  // namespace qfrt
