#include "kernels/codebook_lookup.h"

#include <immintrin.h>

// GCC 12 warns about the undefined source register inside _mm512_cvtepu8_epi32 / permutexvar's
// inline definitions; it is never read.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"

namespace qfrt {

bool codebook_lookup16_supported() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"); }

__attribute__((target("avx512f,avx512bw,avx512vl"))) bool codebook_lookup16_avx512(const uint8_t* idx, int64_t n, const float* levels, int64_t L, float* y) {
  const __mmask16 lmask = static_cast<__mmask16>(L >= 16 ? 0xffff : (1u << L) - 1);
  const __m512 table = _mm512_maskz_loadu_ps(lmask, levels);
  const __m512i limit = _mm512_set1_epi32(static_cast<int>(L));
  __mmask16 bad = 0;
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = static_cast<__mmask16>(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
    const __m512i k = _mm512_cvtepu8_epi32(_mm_maskz_loadu_epi8(m, idx + i));
    bad |= _mm512_mask_cmpge_epi32_mask(m, k, limit);
    _mm512_mask_storeu_ps(y + i, m, _mm512_permutexvar_ps(k, table));
  }
  return bad == 0;
}

__attribute__((target("avx512f,avx512bw,avx512vl"))) void codebook_count16_avx512(const float* x, int64_t n, const float* t, int64_t T,
                                                                                   const uint8_t* table, uint8_t* y) {
  alignas(64) int32_t tab[16] = {};
  for (int64_t k = 0; k <= T && k < 16; ++k) tab[k] = table[k];
  const __m512i lut = _mm512_load_si512(tab);
  __m512 thr[15];
  for (int64_t k = 0; k < T && k < 15; ++k) thr[k] = _mm512_set1_ps(t[k]);
  const __m512i one = _mm512_set1_epi32(1);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 m = static_cast<__mmask16>(n - i >= 16 ? 0xffff : (1u << (n - i)) - 1);
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    __m512i cnt = _mm512_setzero_si512();
    for (int64_t k = 0; k < T; ++k) cnt = _mm512_mask_add_epi32(cnt, _mm512_cmp_ps_mask(thr[k], v, _CMP_LT_OQ), cnt, one);
    _mm_mask_storeu_epi8(y + i, m, _mm512_cvtepi32_epi8(_mm512_permutexvar_epi32(cnt, lut)));
  }
}

}  // namespace qfrt
