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

// Whether the AVX-512 requantization (requant_avx512.h) can take this multiplier (the scalar path handles
// the degenerate shifts).
inline bool requant_avx512_shift_ok(const FixedMultiplier& fm) { return fm.shift >= 1 && fm.shift <= 62; }

// requant_consts' inputs (requant_avx512.h) worked out once per output channel (prepare_qlayer keeps them in
// QLayer::rq): the per-row setup is then broadcasts from memory. A pointwise layer's epilogue runs per row and
// 128-column chunk, so the double arithmetic and branches it replaces were paid 8-100 times per row (a 16 -> 96
// channel 1x1 layer at 112x112, batch 32, one thread: 24.5 -> 20.4 ms, median of 8).
struct RequantRowParams {
  int64_t mult = 0, bias = 0, half_m1 = 0, lo_zp = 0, hi_zp = 0;
  int32_t off = 0, zp = 0, shift = 1;
  float fm = 0, fb = 0, flo = 0, fhi = 0, thr = -1;
};

// The constants for one output channel: v + off, times fm, plus bias, zp, clamped to [lo, hi]; fm must pass
// requant_avx512_shift_ok. Defined in requant.cpp.
RequantRowParams requant_row_params(int32_t off, FixedMultiplier fm, int64_t bias, int32_t zp, int32_t lo, int32_t hi);

// Round half to even of a double, saturated to [lo, hi]: the float-side QuantizeLinear.
int32_t round_half_even_clamp(double v, int32_t lo, int32_t hi);

}  // namespace qfrt
