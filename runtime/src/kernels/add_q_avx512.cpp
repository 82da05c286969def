// AVX-512 quantized Add (pool_q.h), bit-identical to add_q_scalar, 16 values a step: a float estimate
// (two fused multiply-adds on the exact differences a - za, b - zb) rounded and screened (screen_round);
// the rare unsure step is redone exactly -- products with the multipliers in int64 as even and odd lanes
// (vpmuldq), rounded half to even and clamped (round_clamp), merged back. Then narrowed to bytes.
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/fixed_point_avx512.h"
#include "kernels/pool_q.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

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
  // The screen: f = fma(da, fa, fma(db, fb, zy)) with da, db exact and fa, fb the multipliers rounded to
  // float. Each of the four roundings is within 2^-24 relative, so with Pa, Pb the largest |da fa|, |db fb|,
  // |f - E| <= (Pa + Pb + |zy| + |f|) 2^-23; delta = (Pa + Pb + |zy| + 300) 2^-21 covers every lane that can
  // round into [lo, hi] (|f| <= 257 there; see screen_round).
  const auto max_diff = [](bool is_signed, int32_t z) {
    const double l = is_signed ? -128.0 : 0.0, h = is_signed ? 127.0 : 255.0;
    return std::fmax(std::fabs(l - z), std::fabs(h - z));
  };
  const double fa_d = static_cast<double>(r.ma) * pow2_neg(r.shift), fb_d = static_cast<double>(r.mb) * pow2_neg(r.shift);
  const double bound = max_diff(a_signed, za) * fa_d + max_diff(b_signed, zb) * fb_d + std::fabs(static_cast<double>(zy));
  const __m512 fa = _mm512_set1_ps(static_cast<float>(fa_d)), fb = _mm512_set1_ps(static_cast<float>(fb_d));
  const __m512 fzy = _mm512_set1_ps(static_cast<float>(zy)), flo = _mm512_set1_ps(static_cast<float>(lo)),
               fhi = _mm512_set1_ps(static_cast<float>(hi));
  const __m512 thr = _mm512_set1_ps(screen_threshold((bound + 300) * 0x1p-21));
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512i da = _mm512_sub_epi32(widen(_mm_maskz_loadu_epi8(k, a + i), a_signed), vza);
    const __m512i db = _mm512_sub_epi32(widen(_mm_maskz_loadu_epi8(k, b + i), b_signed), vzb);
    __mmask16 unsure;
    __m512i v = screen_round(_mm512_fmadd_ps(_mm512_cvtepi32_ps(da), fa, _mm512_fmadd_ps(_mm512_cvtepi32_ps(db), fb, fzy)), flo, fhi,
                             thr, &unsure);
    if (unsure & k) {
      // vpmuldq multiplies the low (even) int32 of each 64-bit lane; the odd ones are shifted down first.
      const __m512i even = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(da, ma), _mm512_mul_epi32(db, mb)), sh, half_m1, vlo, vhi);
      const __m512i odd = round_clamp(
          _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(da, 32), ma), _mm512_mul_epi32(_mm512_srli_epi64(db, 32), mb)), sh,
          half_m1, vlo, vhi);
      v = _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), vzy);
    }
    _mm_mask_storeu_epi8(y + i, k, _mm512_cvtepi32_epi8(v));  // in [lo, hi]: the low byte is the u8 or s8 value
  }
}

}  // namespace qfrt
