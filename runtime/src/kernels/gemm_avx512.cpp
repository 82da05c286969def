// AVX-512 VNNI GEMM: vpdpbusd multiplies 64 u8 activations (16 columns x 4 k) by a broadcast
// 4-byte weight group and adds into 16 int32 lanes. Register tile: R weight rows x 2 column
// blocks = up to 12 accumulators, so each B load feeds R dot products.
#include <immintrin.h>

#include "kernels/gemm.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni")))

namespace qfrt {

namespace {
// Every loop over r and j is unrolled by hand-placed pragmas: GCC's -O2 keeps the r loop rolled,
// which puts the accumulators in a stack array and turns each vpdpbusd into load + op + store
// (the kernel then ran at half speed).
template <int R, int NB>
QF_AVX512 inline void tile(const GemmArgs& g, int64_t m0, int64_t b0) {
  __m512i acc[R][NB];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
  const int64_t groups = g.Kp / 4, bstride = g.Kp * kPanelCols;
  const uint8_t* bp = g.B + b0 * bstride;
  const int8_t* ap = g.A + m0 * g.Kp;
  for (int64_t q = 0; q < groups; ++q) {
    __m512i b[NB];
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) b[j] = _mm512_loadu_si512(bp + j * bstride + q * 64);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t w;
      __builtin_memcpy(&w, ap + r * g.Kp + q * 4, 4);
      const __m512i a = _mm512_set1_epi32(w);
#pragma GCC unroll 2
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], b[j], a);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(g.C + (m0 + r) * g.ldc + (b0 + j) * kPanelCols, acc[r][j]);
}

template <int NB>
QF_AVX512 void rows(const GemmArgs& g, int64_t b0) {
  int64_t m = 0;
  for (; m + 6 <= g.M; m += 6) tile<6, NB>(g, m, b0);
  switch (g.M - m) {
    case 5: tile<5, NB>(g, m, b0); break;
    case 4: tile<4, NB>(g, m, b0); break;
    case 3: tile<3, NB>(g, m, b0); break;
    case 2: tile<2, NB>(g, m, b0); break;
    case 1: tile<1, NB>(g, m, b0); break;
    default: break;
  }
}
}  // namespace

QF_AVX512 void gemm_u8s8_avx512vnni(const GemmArgs& g) {
  int64_t b = 0;
  for (; b + 2 <= g.nblocks; b += 2) rows<2>(g, b);
  if (b < g.nblocks) rows<1>(g, b);
}

}  // namespace qfrt
