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

}  // namespace qfrt
