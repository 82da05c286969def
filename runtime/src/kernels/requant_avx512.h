// Requantization of 16 int32 sums at a time in AVX-512, shared by the epilogue's rows (epilogue_avx512.cpp)
// and the depthwise kernel that requantizes in registers (depthwise_fused_avx512.cpp): a float estimate (one
// fused multiply-add) rounded and screened (screen_round); the rare unsure lane is redone exactly --
// multiplied into int64 as even and odd lanes (vpmuldq), rounded half to even (round_clamp), clamped, merged
// back. Bit-identical to requantize() in requant.h either way. The constants are worked out in one place,
// requant_row_params (requant.cpp), and only broadcast here.
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>

#include "kernels/fixed_point_avx512.h"
#include "kernels/requant.h"

namespace qfrt {

// One output channel's requantization constants (RequantRowParams, broadcast), set up once per row (or plane),
// not per step.
struct RequantRow {
  __m512i voff, vm, vb, half_m1, vlo, vhi, vzp;
  __m128i sh;
  __m512 fm, fb, flo, fhi, thr;  // the float screen: f = (v + off) * fm + fb estimates the output before clamping
};

__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline RequantRow requant_consts(const RequantRowParams& p) {
  return {_mm512_set1_epi32(p.off),    _mm512_set1_epi64(p.mult),  _mm512_set1_epi64(p.bias), _mm512_set1_epi64(p.half_m1),
          _mm512_set1_epi64(p.lo_zp),  _mm512_set1_epi64(p.hi_zp), _mm512_set1_epi32(p.zp),   _mm_cvtsi32_si128(p.shift),
          _mm512_set1_ps(p.fm),        _mm512_set1_ps(p.fb),       _mm512_set1_ps(p.flo),     _mm512_set1_ps(p.fhi),
          _mm512_set1_ps(p.thr)};
}

// The exact int64 requantization of 16 sums v' (offset already added), zero point included.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i requant16_exact(const RequantRow& q, __m512i v) {
  // vpmuldq multiplies the low (even) int32 of each 64-bit lane; the odd ones are shifted down first.
  const __m512i even = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(v, q.vm), q.vb), q.sh, q.half_m1, q.vlo, q.vhi);
  const __m512i odd =
      round_clamp(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), q.vm), q.vb), q.sh, q.half_m1, q.vlo, q.vhi);
  // Both lie in [lo - zp, hi - zp]: the even lane's low dword is the value; the odd one moves up.
  return _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), q.vzp);
}

// The outputs of 16 raw sums (the row offset is added here), in [lo, hi]; lanes outside `live` may be
// anything (their sums are not looked at by the exact path's decision).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512dq"))) inline __m512i requant16(const RequantRow& q, __m512i sums, __mmask16 live) {
  const __m512i v = _mm512_add_epi32(sums, q.voff);
  __mmask16 unsure;
  const __m512i y = screen_round(_mm512_fmadd_ps(_mm512_cvtepi32_ps(v), q.fm, q.fb), q.flo, q.fhi, q.thr, &unsure);
  return (unsure & live) ? requant16_exact(q, v) : y;
}

}  // namespace qfrt
