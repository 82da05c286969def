#include "kernels/requant.h"

#include <cmath>
#include <string>

#include "core/error.h"
#include "kernels/fixed_point_avx512.h"

namespace qfrt {

FixedMultiplier quantize_multiplier(double real) {
  if (!(real > 0) || !std::isfinite(real)) fail("requantization multiplier " + std::to_string(real) + " is not positive and finite");
  int e = 0;
  const double f = std::frexp(real, &e);  // real = f * 2^e, f in [0.5, 1)
  int64_t m = std::llround(f * 2147483648.0);
  if (m == (int64_t{1} << 31)) {
    m >>= 1;
    ++e;
  }
  const int shift = 31 - e;
  if (shift < 0) fail("requantization multiplier " + std::to_string(real) + " is too large (>= 2^31)");
  FixedMultiplier r;
  r.mult = static_cast<int32_t>(m);
  r.shift = shift > 63 ? 63 : shift;
  return r;
}

int64_t fixed_bias(double steps, FixedMultiplier m) {
  const double v = std::ldexp(steps, m.shift);
  if (!std::isfinite(v) || std::fabs(v) >= 0x1p61) fail("bias " + std::to_string(steps) + " output steps is too large to requantize");
  return std::llround(v);
}

int32_t round_half_even_clamp(double v, int32_t lo, int32_t hi) {
  if (std::isnan(v)) return lo < 0 && hi > 0 ? 0 : lo;
  if (v <= lo) return lo;
  if (v >= hi) return hi;
  return static_cast<int32_t>(std::nearbyint(v));  // default FP rounding mode: to nearest, ties to even
}

// The screen's error bound. With v' = v + off and E = v' M 2^-s + B 2^-s + zp (the exact value), the float
// f = fma(float(v'), float(M 2^-s), float(B 2^-s + zp)) carries relative errors of 2^-24 from each of the
// three roundings of its inputs and one from its own: |f - E| <= |v' M 2^-s| 2^-22 + |b| 2^-23 + |f| 2^-24.
// Where rounding matters (|E| <= 256) |v' M 2^-s| <= 256 + |b|, so delta = (512 + 2 |b|) 2^-22 bounds it;
// farther out f keeps E's side of [lo, hi] as long as |b| is small (checked: <= 2^20).
RequantRowParams requant_row_params(int32_t off, FixedMultiplier fm, int64_t bias, int32_t zp, int32_t lo, int32_t hi) {
  const double b = static_cast<double>(bias) * pow2_neg(fm.shift) + zp;
  RequantRowParams p;
  p.mult = fm.mult, p.bias = bias, p.half_m1 = (int64_t{1} << (fm.shift - 1)) - 1, p.lo_zp = int64_t{lo} - zp, p.hi_zp = int64_t{hi} - zp;
  p.off = off, p.zp = zp, p.shift = fm.shift;
  p.fm = static_cast<float>(fm.mult * pow2_neg(fm.shift)), p.fb = static_cast<float>(b);
  p.flo = static_cast<float>(lo), p.fhi = static_cast<float>(hi);
  p.thr = std::fabs(b) <= 0x1p20 ? screen_threshold((512 + 2 * std::fabs(b)) * 0x1p-22) : -1.f;
  return p;
}

}  // namespace qfrt
