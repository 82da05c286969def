// AVX-512 quantized Add (pool_q.h), bit-identical to add_q_scalar: 16 values a step, (a - za) and (b - zb)
// as int32, their products with the multipliers in int64 as even and odd lanes (vpmuldq), rounded half to
// even and clamped (round_clamp), merged back and narrowed to bytes.
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/fixed_point_avx512.h"
#include "kernels/pool_q.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace qfrt {

namespace {
QF_AVX512 inline __m512i widen(__m128i v, bool is_signed) { return is_signed ? _mm512_cvtepi8_epi32(v) : _mm512_cvtepu8_epi32(v); }
}  // namespace

QF_AVX512 void add_q_avx512(const uint8_t* a, bool a_signed, int32_t za, const uint8_t* b, bool b_signed, int32_t zb,
                            const AddRescale& r, int32_t zy, int32_t lo, int32_t hi, uint8_t* y, int64_t n) {
  const __m512i vza = _mm512_set1_epi32(za), vzb = _mm512_set1_epi32(zb), vzy = _mm512_set1_epi32(zy);
  const __m512i ma = _mm512_set1_epi64(r.ma), mb = _mm512_set1_epi64(r.mb);
  const __m512i half_m1 = _mm512_set1_epi64((int64_t{1} << (r.shift - 1)) - 1);
  const __m512i vlo = _mm512_set1_epi64(int64_t{lo} - zy), vhi = _mm512_set1_epi64(int64_t{hi} - zy);
  const __m128i sh = _mm_cvtsi32_si128(r.shift);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i da = _mm512_sub_epi32(widen(_mm_maskz_loadu_epi8(k, a + i), a_signed), vza);
    const __m512i db = _mm512_sub_epi32(widen(_mm_maskz_loadu_epi8(k, b + i), b_signed), vzb);
    // vpmuldq multiplies the low (even) int32 of each 64-bit lane; the odd ones are shifted down first.
    const __m512i even = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(da, ma), _mm512_mul_epi32(db, mb)), sh, half_m1, vlo, vhi);
    const __m512i odd = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(da, 32), ma), _mm512_mul_epi32(_mm512_srli_epi64(db, 32), mb)),
                                    sh, half_m1, vlo, vhi);
    const __m512i v = _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), vzy);
    _mm_mask_storeu_epi8(y + i, k, _mm512_cvtepi32_epi8(v));  // in [lo, hi]: the low byte is the u8 or s8 value
  }
}

}  // namespace qfrt
