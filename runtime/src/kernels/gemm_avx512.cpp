// AVX-512 VNNI GEMM: vpdpbusd multiplies 64 u8 activations (16 columns x 4 k) by a broadcast
// 4-byte weight group and adds into 16 int32 lanes. Register tile: R weight rows x 2 column
// blocks = up to 12 accumulators, so each B load feeds R dot products. B comes from a packed
// panel (gemm.h) or straight from a channel-blocked activation buffer (the indirect form).
#include <immintrin.h>

#include "kernels/gemm.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vnni")))

namespace qfrt {

namespace {
// Where column block j's 64 bytes for k-group q are.
struct PanelSource {
  const uint8_t* B;
  int64_t bstride;
  const uint8_t* at(int j, int64_t q) const { return B + j * bstride + q * 64; }
  PanelSource shifted(int64_t b0) const { return {B + b0 * bstride, bstride}; }
};
struct BlockedSource {
  const uint8_t* B;
  const int64_t* off;
  const uint8_t* at(int j, int64_t q) const { return B + j * 64 + off[q]; }
  BlockedSource shifted(int64_t b0) const { return {B + b0 * 64, off}; }
};

// Every loop over r and j is unrolled by hand-placed pragmas: GCC's -O2 keeps the r loop rolled,
// which puts the accumulators in a stack array and turns each vpdpbusd into load + op + store
// (the kernel then ran at half speed).
// (K slicing, so a slice of B stays in L1 across the row tiles, measured no faster: not done.)
template <int R, int NB, class Src>
QF_AVX512 inline void tile(const int8_t* ap, int64_t Kp, const Src& src, int32_t* C, int64_t ldc) {
  __m512i acc[R][NB];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_setzero_si512();
  const int64_t groups = Kp / 4;
  for (int64_t q = 0; q < groups; ++q) {
    __m512i b[NB];
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) b[j] = _mm512_loadu_si512(src.at(j, q));
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      int32_t w;
      __builtin_memcpy(&w, ap + r * Kp + q * 4, 4);
      const __m512i a = _mm512_set1_epi32(w);
#pragma GCC unroll 2
      for (int j = 0; j < NB; ++j) acc[r][j] = _mm512_dpbusd_epi32(acc[r][j], b[j], a);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 2
    for (int j = 0; j < NB; ++j) _mm512_storeu_si512(C + r * ldc + j * kPanelCols, acc[r][j]);
}

template <int NB, class Src>
QF_AVX512 void rows(const int8_t* A, int64_t M, int64_t Kp, const Src& src, int32_t* C, int64_t ldc) {
  int64_t m = 0;
  for (; m + 6 <= M; m += 6) tile<6, NB>(A + m * Kp, Kp, src, C + m * ldc, ldc);
  const int8_t* ap = A + m * Kp;
  int32_t* cp = C + m * ldc;
  switch (M - m) {
    case 5: tile<5, NB>(ap, Kp, src, cp, ldc); break;
    case 4: tile<4, NB>(ap, Kp, src, cp, ldc); break;
    case 3: tile<3, NB>(ap, Kp, src, cp, ldc); break;
    case 2: tile<2, NB>(ap, Kp, src, cp, ldc); break;
    case 1: tile<1, NB>(ap, Kp, src, cp, ldc); break;
    default: break;
  }
}

template <class Src>
QF_AVX512 void gemm(const int8_t* A, int64_t M, int64_t Kp, const Src& src, int64_t nblocks, int32_t* C, int64_t ldc) {
  int64_t b = 0;
  for (; b + 2 <= nblocks; b += 2) rows<2>(A, M, Kp, src.shifted(b), C + b * kPanelCols, ldc);
  if (b < nblocks) rows<1>(A, M, Kp, src.shifted(b), C + b * kPanelCols, ldc);
}
}  // namespace

QF_AVX512 void gemm_u8s8_avx512vnni(const GemmArgs& g) {
  gemm(g.A, g.M, g.Kp, PanelSource{g.B, g.Kp * kPanelCols}, g.nblocks, g.C, g.ldc);
}

QF_AVX512 void gemm_u8s8_blocked_avx512vnni(const GemmBlockedArgs& g) {
  gemm(g.A, g.M, g.Kp, BlockedSource{g.B, g.off}, g.nblocks, g.C, g.ldc);
}

}  // namespace qfrt
