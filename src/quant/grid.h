// Integer ranges shared by the uniform-grid methods.
#pragma once
#include <cstdint>

namespace qforge::quant {

struct IntRange {
  int64_t qmin, qmax;
};

// Signed: [-2^(b-1), 2^(b-1) - 1]; unsigned: [0, 2^b - 1].
inline IntRange int_range(int bits, bool is_signed) {
  if (is_signed) return {-(int64_t{1} << (bits - 1)), (int64_t{1} << (bits - 1)) - 1};
  return {0, (int64_t{1} << bits) - 1};
}

}  // namespace qforge::quant
