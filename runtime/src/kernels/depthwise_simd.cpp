// SIMD depthwise: 16 (AVX-512) or 8 (AVX2) output pixels of a row at a time, one tap per step:
// widen the u8 inputs to int32, multiply by the broadcast weight, add. Stride 2 (AVX-512) loads
// 32 contiguous bytes and keeps the even ones.
// GCC 12 warns inside its own _mm512_cvtepu8_epi32 (an intentionally undefined register).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/depthwise.h"

namespace qfrt {

__attribute__((target("avx512f,avx512bw"))) void depthwise_avx512(const uint8_t* xp, const int8_t* w, const DwGeom& g,
                                                                   int32_t* acc) {
  if (g.sw != 1 && g.sw != 2) return depthwise_scalar(xp, w, g, acc);
  const __m512i even = _mm512_set1_epi32(0xFFFF);
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ow += 16) {
      const int64_t n = g.OW - ow < 16 ? g.OW - ow : 16;
      __m512i s = _mm512_setzero_si512();
      for (int64_t i = 0; i < g.kh; ++i) {
        const uint8_t* row = xp + (oh * g.sh + i * g.dh) * g.Wp + ow * g.sw;
        for (int64_t j = 0; j < g.kw; ++j) {
          const uint8_t* p = row + j * g.dw;
          __m512i x;
          if (g.sw == 1)
            x = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
          else
            x = _mm512_and_si512(_mm512_cvtepu8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))), even);
          s = _mm512_add_epi32(s, _mm512_mullo_epi32(x, _mm512_set1_epi32(w[i * g.kw + j])));
        }
      }
      _mm512_mask_storeu_epi32(acc + oh * g.OW + ow, static_cast<__mmask16>((1u << n) - 1), s);
    }
}

__attribute__((target("avx2"))) void depthwise_avx2(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc) {
  if (g.sw != 1) return depthwise_scalar(xp, w, g, acc);
  for (int64_t oh = 0; oh < g.OH; ++oh) {
    int64_t ow = 0;
    for (; ow + 8 <= g.OW; ow += 8) {
      __m256i s = _mm256_setzero_si256();
      for (int64_t i = 0; i < g.kh; ++i) {
        const uint8_t* row = xp + (oh * g.sh + i * g.dh) * g.Wp + ow;
        for (int64_t j = 0; j < g.kw; ++j) {
          const __m256i x = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(row + j * g.dw)));
          s = _mm256_add_epi32(s, _mm256_mullo_epi32(x, _mm256_set1_epi32(w[i * g.kw + j])));
        }
      }
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc + oh * g.OW + ow), s);
    }
    for (; ow < g.OW; ++ow) {
      int32_t s = 0;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) s += int32_t{w[i * g.kw + j]} * int32_t{xp[(oh * g.sh + i * g.dh) * g.Wp + ow + j * g.dw]};
      acc[oh * g.OW + ow] = s;
    }
  }
}

}  // namespace qfrt
