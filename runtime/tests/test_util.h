// Shared helpers for the runtime tests: seeded random data, the ISAs this CPU can run, whole-file
// reads and writes, and the message a model load fails with.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "core/cpu.h"
#include "core/error.h"
#include "graph/model.h"

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

// Sets QFORGE_RT_LOWBIT for a scope, then restores what the suite was started with.
struct LowbitEnv {
  bool had;
  std::string saved;
  explicit LowbitEnv(const char* v) : had(std::getenv("QFORGE_RT_LOWBIT") != nullptr) {
    if (had) saved = std::getenv("QFORGE_RT_LOWBIT");
    setenv("QFORGE_RT_LOWBIT", v, 1);
  }
  ~LowbitEnv() {
    if (had) setenv("QFORGE_RT_LOWBIT", saved.c_str(), 1);
    else unsetenv("QFORGE_RT_LOWBIT");
  }
};

// Layers on a kernel whose name starts with `name` (a conv's may end in ", channel-packed").
inline int kernels_named(const qfrt::Model& m, const std::string& name) {
  int n = 0;
  for (const auto& [k, count] : m.kernels())
    if (k.rfind(name, 0) == 0) n += count;
  return n;
}

// Sets the process ISA for a scope (the model code reads active_isa()).
struct IsaScope {
  qfrt::Isa saved;
  explicit IsaScope(qfrt::Isa i) : saved(qfrt::active_isa()) { qfrt::set_active_isa(i); }
  ~IsaScope() { qfrt::set_active_isa(saved); }
};

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f << bytes;
}

// The error a load of `path` throws; "" when it loads.
inline std::string load_error(const std::string& path) {
  try {
    qfrt::Model m(path);
  } catch (const qfrt::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace qfrt_test
