// AVX-512 versions of the two elementwise loops that run on every activation of a QDQ model: the
// float epilogue (block-ending convs) and QuantizeLinear. The baseline build vectorizes them for
// SSE only (4 floats). Both give the scalar loops' exact bits: multiply and add stay separate
// roundings (runtime/CMakeLists.txt compiles this file with -ffp-contract=off: no FMA), rounding is the
// MXCSR default, nearest even.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/elementwise_avx512.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw")))

namespace qfrt {

namespace {
inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1); }
}  // namespace

QF_AVX512 void float_row_avx512(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, bool relu, float* o) {
  const __m512i voff = _mm512_set1_epi32(off);
  const __m512 vs = _mm512_set1_ps(s), vb = _mm512_set1_ps(b), zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512i acc = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, c + i), voff);
    __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), vs), vb);
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, r + i));
    if (relu) v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), zero, v);  // v > 0 ? v : 0 (NaN -> 0)
    _mm512_mask_storeu_ps(o + i, k, v);
  }
}

QF_AVX512 void quantize_f32_avx512(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, void* out) {
  uint8_t* y = static_cast<uint8_t*>(out);
  const __m512 vscale = _mm512_set1_ps(scale), vlo = _mm512_set1_ps(static_cast<float>(lo - zp)),
               vhi = _mm512_set1_ps(static_cast<float>(hi - zp));
  const __m512i vzp = _mm512_set1_epi32(zp);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    __m512 v = _mm512_div_ps(_mm512_maskz_loadu_ps(k, x + i), vscale);
    v = _mm512_max_ps(v, vlo);  // vmaxps returns its second operand when the first is NaN: NaN -> lo
    v = _mm512_min_ps(v, vhi);
    const __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(v), vzp);  // round half to even
    _mm512_mask_cvtepi32_storeu_epi8(y + i, k, q);  // in [lo, hi]: the low byte is the u8 or s8 value
  }
}

}  // namespace qfrt
