#include "cpu_peak.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <random>

#include "core/cpu.h"
#include "kernels/gemm_amx.h"

namespace qfrt_bench {

namespace {
using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Dependent imuls: 3 cycles each on every x86 core of the last decade, and no core folds them. (A chain of
// `add $1` does not work: Golden Cove-class cores fold immediate adds at rename and ran it at "10 GHz".)
double core_ghz() {
  constexpr int64_t kIters = 5'000'000;  // x 8 imuls
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    uint64_t x = 3;
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < kIters; ++i)
      asm volatile("imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0\n\t"
                   "imul %0, %0\n\timul %0, %0\n\timul %0, %0\n\timul %0, %0"
                   : "+r"(x));
    best = std::max(best, 3.0 * 8 * kIters / seconds_since(t0) / 1e9);
  }
  return best;
}

#define QF_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni")))
// 16 chains hide vpdpbusd's ~5-cycle latency on either of two ports.
QF_VNNI double vnni_gmacs() {
  constexpr int64_t kIters = 1'000'000;
  const __m512i a = _mm512_set1_epi8(3), b = _mm512_set1_epi8(-5);
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    __m512i c[16];
    for (int k = 0; k < 16; ++k) c[k] = _mm512_set1_epi32(k);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < kIters; ++i) {
#pragma GCC unroll 16
      for (int k = 0; k < 16; ++k) c[k] = _mm512_dpbusd_epi32(c[k], a, b);
    }
    const double s = seconds_since(t0);
    __m512i sum = c[0];
    for (int k = 1; k < 16; ++k) sum = _mm512_add_epi32(sum, c[k]);
    asm volatile("" ::"v"(sum));
    best = std::max(best, 16.0 * 64 * kIters / s / 1e9);
  }
  return best;
}

#define QF_VPOP __attribute__((target("avx512f,avx512bw,avx512vpopcntdq")))
// The XNOR kernel's inner step on a register tile: (w ^ x) & mask in one vpternlogq, vpopcntq, vpaddq; x
// comes from a 4 KB block in L1 as in the kernel.
QF_VPOP double xnor_gmacs() {
  constexpr int64_t kIters = 200'000, kRows = 64;
  alignas(64) static uint64_t x[kRows * 8];
  std::mt19937_64 rng(1);
  for (auto& v : x) v = rng();
  const __m512i w = _mm512_set1_epi64(0x5a5a5a5a5a5a5a5aULL), z = _mm512_set1_epi64(-1);
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    __m512i c[8];
    for (int k = 0; k < 8; ++k) c[k] = _mm512_setzero_si512();
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < kIters; ++i)
      for (int64_t r = 0; r < kRows; r += 8) {
#pragma GCC unroll 8
        for (int k = 0; k < 8; ++k) {
          const __m512i v = _mm512_load_si512(x + (r + k) * 8);
          c[k] = _mm512_add_epi64(c[k], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(w, v, z, 0x28)));
        }
      }
    const double s = seconds_since(t0);
    __m512i sum = c[0];
    for (int k = 1; k < 8; ++k) sum = _mm512_add_epi64(sum, c[k]);
    asm volatile("" ::"v"(sum));
    best = std::max(best, 512.0 * kRows * kIters / s / 1e9);
  }
  return best;
}

#define QF_AMX __attribute__((target("amx-tile,amx-int8,avx512f")))
// Four accumulator tiles, two weight and two activation tiles: the GEMM kernel's 2x2 register blocking.
QF_AMX double amx_gmacs() {
  constexpr int64_t kIters = 200'000;
  alignas(64) static int8_t a[2][16 * 64];
  alignas(64) static uint8_t b[2][16 * 64];
  alignas(64) static int32_t c[16 * 16];
  std::mt19937 rng(2);
  for (auto& t : a)
    for (auto& v : t) v = static_cast<int8_t>(rng() % 57 - 28);
  for (auto& t : b)
    for (auto& v : t) v = static_cast<uint8_t>(rng() % 64);
  qfrt::AmxTileConfig cfg;
  for (int t = 0; t < 8; ++t) cfg.colsb[t] = 64, cfg.rows[t] = 16;
  _tile_loadconfig(&cfg);
  _tile_loadd(4, a[0], 64);
  _tile_loadd(5, a[1], 64);
  _tile_loadd(6, b[0], 64);
  _tile_loadd(7, b[1], 64);
  double best = 0;
  for (int round = 0; round < 3; ++round) {
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    const auto t0 = Clock::now();
    for (int64_t i = 0; i < kIters; ++i) {
      _tile_dpbsud(0, 4, 6);
      _tile_dpbsud(1, 4, 7);
      _tile_dpbsud(2, 5, 6);
      _tile_dpbsud(3, 5, 7);
    }
    _tile_stored(0, c, 64);
    best = std::max(best, 4.0 * 16 * 16 * 64 * kIters / seconds_since(t0) / 1e9);
  }
  _tile_release();
  return best;
}
}  // namespace

CpuPeak measure_cpu_peak() {
  CpuPeak p;
  p.ghz = core_ghz();
  if (qfrt::cpu_supports(qfrt::Isa::Avx512Vnni)) p.vnni_gmacs = vnni_gmacs();
  if (__builtin_cpu_supports("avx512vpopcntdq")) p.xnor_gmacs = xnor_gmacs();
  if (qfrt::cpu_has_amx()) p.amx_gmacs = amx_gmacs();
  return p;
}

void print_cpu_peak_json(const CpuPeak& p) {
  std::printf("{\"ghz\": %.3f, \"vnni_gmacs\": %.1f, \"amx_gmacs\": %.1f, \"xnor_gmacs\": %.1f}\n", p.ghz, p.vnni_gmacs, p.amx_gmacs,
              p.xnor_gmacs);
}

}  // namespace qfrt_bench
