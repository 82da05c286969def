// The AVX-512 form of rshift_round_half_even (requant.h) with a clamp, shared by the requantization
// epilogue and the quantized Add.
#pragma once
#include <immintrin.h>

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

}  // namespace qfrt
