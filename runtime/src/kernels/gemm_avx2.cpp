// AVX2 GEMM without saturation: 16 activation bytes (4 columns x 4 k) are zero-extended to int16,
// the 4 weights of the group are sign-extended to int16 and broadcast, and vpmaddwd adds products
// in pairs into int32 (at most 2 * 255 * 128, far from overflow). Each accumulator holds two
// partial sums per column; they are added pairwise (vphaddd) at the end.
#include <immintrin.h>

#include "kernels/gemm.h"

#define QF_AVX2 __attribute__((target("avx2")))

namespace qfrt {

namespace {
template <int R>
QF_AVX2 inline void tile(const GemmArgs& g, int64_t m0, int64_t blk) {
  __m256i acc[R][4];
  for (int r = 0; r < R; ++r)
    for (int j = 0; j < 4; ++j) acc[r][j] = _mm256_setzero_si256();
  const int64_t groups = g.Kp / 4;
  const uint8_t* bp = g.B + blk * g.Kp * kPanelCols;
  const int8_t* ap = g.A + m0 * g.Kp;
  for (int64_t q = 0; q < groups; ++q) {
    __m256i b[4];
    for (int j = 0; j < 4; ++j)
      b[j] = _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bp + q * 64 + j * 16)));
    for (int r = 0; r < R; ++r) {
      int32_t w;
      __builtin_memcpy(&w, ap + r * g.Kp + q * 4, 4);
      const __m256i a = _mm256_broadcastq_epi64(_mm_cvtepi8_epi16(_mm_cvtsi32_si128(w)));
      for (int j = 0; j < 4; ++j) acc[r][j] = _mm256_add_epi32(acc[r][j], _mm256_madd_epi16(b[j], a));
    }
  }
  for (int r = 0; r < R; ++r) {
    // acc[j] holds columns 4j..4j+3, two partial sums each; hadd within 128-bit lanes, then restore order.
    const __m256i lo = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][0], acc[r][1]), 0xD8);
    const __m256i hi = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[r][2], acc[r][3]), 0xD8);
    int32_t* c = g.C + (m0 + r) * g.ldc + blk * kPanelCols;
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c), lo);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(c + 8), hi);
  }
}
}  // namespace

QF_AVX2 void gemm_u8s8_avx2(const GemmArgs& g) {
  for (int64_t b = 0; b < g.nblocks; ++b) {
    int64_t m = 0;
    for (; m + 2 <= g.M; m += 2) tile<2>(g, m, b);
    if (m < g.M) tile<1>(g, m, b);
  }
}

}  // namespace qfrt
