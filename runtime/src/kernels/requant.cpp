#include "kernels/requant.h"

#include <cmath>
#include <string>

#include "core/error.h"

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

}  // namespace qfrt
