// Masks of the bytes of a 64-byte vector that fall inside a row or plane, and of the first lanes of a 16-lane
// (int32 / float) vector, for masked loads and stores.
#pragma once
#include <cstdint>

namespace qfrt {

// Bits [lo, hi) of a 64-bit mask, clipped to [0, 64): `byte_lanes(-start, n - start)` are the bytes of a load
// from `start` that lie inside an n-byte row; `byte_lanes(0, n)` the first n.
inline uint64_t byte_lanes(int64_t lo, int64_t hi) {
  lo = lo < 0 ? 0 : lo, hi = hi > 64 ? 64 : hi;
  if (hi <= lo) return 0;
  return (hi - lo >= 64 ? ~uint64_t{0} : (uint64_t{1} << (hi - lo)) - 1) << lo;
}

// Lanes [0, min(n, 16)) of a 16-lane vector (n >= 0): a row's last, partial step.
inline uint16_t lanes16(int64_t n) { return n >= 16 ? uint16_t{0xFFFF} : static_cast<uint16_t>((1u << n) - 1); }

}  // namespace qfrt
