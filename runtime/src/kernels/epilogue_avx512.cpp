// AVX-512 rows of the epilogue. The Float epilogue must give the baseline loop's floats, so multiply
// and add stay separate roundings: runtime/CMakeLists.txt compiles this file with -ffp-contract=off.
// Requantization of one output row (the Quantized epilogue without weight zero points):
// 16 int32 sums per step, multiplied into int64 as even and odd lanes (vpmuldq), rounded half to
// even (round_clamp), clamped, merged back and narrowed to bytes.
// Bit-identical to requantize() in requant.h.
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/epilogue.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw")))

namespace qfrt {

namespace {
// Lanes [0, min(left, 16)) of a 16-lane step.
inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1); }

// x / 2^s rounded half to even, clamped to [lo, hi] (int64 lanes). With q0 = floor(x / 2^s),
// x + (2^(s-1) - 1) + (q0 & 1) carries into the next multiple of 2^s exactly when the remainder
// is above one half, or equal to it with q0 odd: one shift of that sum is the rounded quotient.
QF_AVX512 inline __m512i round_clamp(__m512i x, __m128i sh, __m512i half_m1, __m512i lo, __m512i hi) {
  const __m512i parity = _mm512_and_si512(_mm512_sra_epi64(x, sh), _mm512_set1_epi64(1));
  const __m512i q = _mm512_sra_epi64(_mm512_add_epi64(_mm512_add_epi64(x, half_m1), parity), sh);
  return _mm512_min_epi64(_mm512_max_epi64(q, lo), hi);
}
}  // namespace

QF_AVX512 bool requant_row_avx512(const int32_t* c, int64_t n, int32_t off, FixedMultiplier fm, int64_t bias, int32_t zp, int32_t lo,
                                  int32_t hi, bool out_signed, void* out) {
  if (fm.shift < 1 || fm.shift > 62) return false;  // the scalar path handles the degenerate shifts
  const __m512i voff = _mm512_set1_epi32(off), vm = _mm512_set1_epi64(fm.mult), vb = _mm512_set1_epi64(bias);
  const __m128i sh = _mm_cvtsi32_si128(fm.shift);
  const __m512i half_m1 = _mm512_set1_epi64((int64_t{1} << (fm.shift - 1)) - 1);
  const __m512i vlo = _mm512_set1_epi64(int64_t{lo} - zp), vhi = _mm512_set1_epi64(int64_t{hi} - zp);
  const __m512i vzp = _mm512_set1_epi32(zp);
  uint8_t* o = static_cast<uint8_t*>(out);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, c + i), voff);
    // vpmuldq multiplies the low (even) int32 of each 64-bit lane; the odd ones are shifted down first.
    const __m512i even = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(v, vm), vb), sh, half_m1, vlo, vhi);
    const __m512i odd = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), vm), vb), sh, half_m1, vlo, vhi);
    // Both lie in [lo - zp, hi - zp]: the even lane's low dword is the value; the odd one moves up.
    const __m512i y = _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), vzp);
    (void)out_signed;  // the bytes are the same: y already lies in the output type's range
    _mm512_mask_cvtepi32_storeu_epi8(o + i, k, y);
  }
  return true;
}

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

}  // namespace qfrt
