// AVX-512 QuantizeLinear loop (quantize.h): bit-identical to quantize_f32, rounding by the MXCSR
// default (nearest even).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/quantize.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw")))

namespace qfrt {

QF_AVX512 void quantize_f32_avx512(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, void* out) {
  uint8_t* y = static_cast<uint8_t*>(out);
  const __m512 vscale = _mm512_set1_ps(scale), vlo = _mm512_set1_ps(static_cast<float>(lo - zp)),
               vhi = _mm512_set1_ps(static_cast<float>(hi - zp));
  const __m512i vzp = _mm512_set1_epi32(zp);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), vscale);
    v = _mm512_max_ps(v, vlo);  // vmaxps returns its second operand when the first is NaN: NaN -> lo
    v = _mm512_min_ps(v, vhi);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), vzp);  // round half to even
    _mm512_mask_cvtepi32_storeu_epi8(y + i, k, q);  // in [lo, hi]: the low byte is the u8 or s8 value
  }
}

}  // namespace qfrt
