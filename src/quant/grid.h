// Integer ranges and grids shared by the uniform-grid methods.
#pragma once
#include <cstdint>

#include "qforge/quant/method.h"

namespace qforge::quant {

struct IntRange {
  int64_t qmin, qmax;
};

// Signed: [-2^(b-1), 2^(b-1) - 1]; unsigned: [0, 2^b - 1].
inline IntRange int_range(int bits, bool is_signed) {
  if (is_signed) return {-(int64_t{1} << (bits - 1)), (int64_t{1} << (bits - 1)) - 1};
  return {0, (int64_t{1} << bits) - 1};
}

// The grid of an integer-grid method: [qmin, qmax] for its bits, per output channel when per_channel.
inline GridSpec uniform_grid(const QuantizerConfig& c, const at::Tensor& scale, const at::Tensor& zero_point) {
  const IntRange q = int_range(c.bits, c.is_signed);
  GridSpec s;
  s.qmin = q.qmin;
  s.qmax = q.qmax;
  s.axis = c.per_channel ? 0 : -1;
  s.scale = scale.detach().clone();
  s.zero_point = zero_point.detach().clone();
  return s;
}

}  // namespace qforge::quant
