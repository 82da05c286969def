// Shared helpers for the runtime tests: seeded random data and the ISAs this CPU can run.
#pragma once
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/cpu.h"

namespace qfrt_test {

inline std::vector<qfrt::Isa> simd_isas() {
  std::vector<qfrt::Isa> r;
  for (qfrt::Isa i : {qfrt::Isa::Avx2, qfrt::Isa::Avx512Vnni})
    if (qfrt::cpu_supports(i)) r.push_back(i);
  return r;
}

inline std::vector<qfrt::Isa> all_isas() {
  std::vector<qfrt::Isa> r = {qfrt::Isa::Scalar};
  for (qfrt::Isa i : simd_isas()) r.push_back(i);
  return r;
}

template <class T> std::vector<T> random_ints(size_t n, int lo, int hi, std::mt19937& rng) {
  std::uniform_int_distribution<int> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(rng));
  return v;
}

// Sets the process ISA for a scope (the model code reads active_isa()).
struct IsaScope {
  qfrt::Isa saved;
  explicit IsaScope(qfrt::Isa i) : saved(qfrt::active_isa()) { qfrt::set_active_isa(i); }
  ~IsaScope() { qfrt::set_active_isa(saved); }
};

}  // namespace qfrt_test
