// The AVX-512 forms of rshift_round_half_even (requant.h) with a clamp, shared by the requantization
// epilogue and the quantized Add: the exact int64 form, and a float screen in front of it that settles
// almost every lane in about half the instructions.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace qfrt {

// x / 2^s rounded half to even, clamped to [lo, hi] (int64 lanes, 1 <= s <= 62). With q0 = floor(x / 2^s),
// x + (2^(s-1) - 1) + (q0 & 1) carries into the next multiple of 2^s exactly when the remainder is above
// one half, or equal to it with q0 odd: one shift of that sum is the rounded quotient.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline __m512i round_clamp(__m512i x, __m128i sh, __m512i half_m1, __m512i lo,
                                                                              __m512i hi) {
  const __m512i parity = _mm512_and_si512(_mm512_sra_epi64(x, sh), _mm512_set1_epi64(1));
  const __m512i q = _mm512_sra_epi64(_mm512_add_epi64(_mm512_add_epi64(x, half_m1), parity), sh);
  return _mm512_min_epi64(_mm512_max_epi64(q, lo), hi);
}

// The float screen. f is a float estimate, within delta, of an exact value E that the caller rounds half to
// even and clamps to the integers [lo, hi]. Clamping f to [lo, hi] and rounding it to nearest even gives the
// same integer unless f lies within delta of a half-integer: otherwise E and f are on the same side of every
// half-integer that matters (outside [lo, hi] both clamp alike). Lanes that close (ties among them) are
// flagged in *unsure for the exact int64 path; with delta ~2^-12 that is ~0.05% of lanes.
// thr = screen_threshold(delta).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i screen_round(__m512 f, __m512 lo, __m512 hi, __m512 thr,
                                                                                          __mmask16* unsure) {
  const __m512 g = _mm512_min_ps(_mm512_max_ps(f, lo), hi);
  const __m512i r = _mm512_cvt_roundps_epi32(g, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  // g - round_half_even(g) in one vreduceps (imm 0: no fraction bits kept, round to nearest even), exact like
  // the convert-back-and-subtract it replaces: the requantization rows' hottest dependency chain.
  const __m512 d = _mm512_reduce_round_ps(g, 0, _MM_FROUND_NO_EXC);
  *unsure = _mm512_cmp_ps_mask(_mm512_abs_ps(d), thr, _CMP_GE_OQ);
  return r;
}

// 0.5 - delta, rounded down (float's spacing there is 2^-25); -1 (every lane unsure: always the exact
// path) when delta is too large for the screen to pay or to be trusted. No libm: it runs per output row.
inline float screen_threshold(double delta) { return delta < 0x1p-6 ? static_cast<float>(0.5 - delta - 0x1p-24) : -1.f; }

// 2^-s as a double, exactly, for 0 <= s <= 1022 (a multiplier's shift), without a libm call.
inline double pow2_neg(int s) {
  const uint64_t bits = static_cast<uint64_t>(1023 - s) << 52;
  double d;
  std::memcpy(&d, &bits, sizeof d);
  return d;
}

}  // namespace qfrt
