// Seed mixing and bounded draws for the data layer (internal to src/data). Written out here rather
// than taken from <random>'s distributions, whose algorithms differ between standard libraries, so
// an order or augmentation is the same wherever the same seed is used.
#pragma once
#include <cstdint>
#include <random>

namespace qforge::data::detail {

// SplitMix64 finalizer of a + golden-ratio step: a well-spread 64-bit hash.
inline uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}
// A seed that depends on both inputs and their order.
inline uint64_t mix_seed(uint64_t a, uint64_t b) { return splitmix64(splitmix64(a) ^ (b * 0xD6E8FEB86659FD93ULL)); }

// Uniform in [0, n), n >= 1, without modulo bias (rejection of the top partial range).
inline uint64_t uniform_below(std::mt19937_64& rng, uint64_t n) {
  const uint64_t limit = ~uint64_t{0} - (~uint64_t{0} % n);
  uint64_t x;
  do x = rng();
  while (x >= limit);
  return x % n;
}

}  // namespace qforge::data::detail
