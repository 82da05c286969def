// AVX-512 rows of the epilogue. The Float epilogue must give the baseline loop's floats, so multiply
// and add stay separate roundings: runtime/CMakeLists.txt compiles this file with -ffp-contract=off.
// Requantization of one output row (the Quantized epilogue without weight zero points), 16 int32 sums a
// step: a float estimate (one fused multiply-add) rounded and screened (screen_round); the rare unsure
// step is redone exactly -- multiplied into int64 as even and odd lanes (vpmuldq), rounded half to even
// (round_clamp), clamped, merged back. Bit-identical to requantize() in requant.h either way.
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/epilogue.h"
#include "kernels/fixed_point_avx512.h"
#include "kernels/quantize_avx512.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace qfrt {

namespace {
// Lanes [0, min(left, 16)) of a 16-lane step.
inline __mmask16 tail_mask(int64_t left) { return left >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << left) - 1); }

// One row's requantization constants, hoisted out of the column loop (and of the segment loop).
struct RequantRow {
  __m512i voff, vm, vb, half_m1, vlo, vhi, vzp;
  __m128i sh;
  __m512 fm, fb, flo, fhi, thr;  // the float screen: f = (v + off) * fm + fb estimates the output before clamping
};
// The screen's error bound. With v' = v + off and E = v' M 2^-s + B 2^-s + zp (the exact value), the float
// f = fma(float(v'), float(M 2^-s), float(B 2^-s + zp)) carries relative errors of 2^-24 from each of the
// three roundings of its inputs and one from its own: |f - E| <= |v' M 2^-s| 2^-22 + |b| 2^-23 + |f| 2^-24.
// Where rounding matters (|E| <= 256) |v' M 2^-s| <= 256 + |b|, so delta = (512 + 2 |b|) 2^-22 bounds it;
// farther out f keeps E's side of [lo, hi] as long as |b| is small (checked: <= 2^20).
QF_AVX512 inline RequantRow requant_consts(int32_t off, FixedMultiplier fm, int64_t bias, int32_t zp, int32_t lo, int32_t hi) {
  const double b = static_cast<double>(bias) * pow2_neg(fm.shift) + zp;
  const float thr = std::fabs(b) <= 0x1p20 ? screen_threshold((512 + 2 * std::fabs(b)) * 0x1p-22) : -1.f;
  return {_mm512_set1_epi32(off), _mm512_set1_epi64(fm.mult), _mm512_set1_epi64(bias),
          _mm512_set1_epi64((int64_t{1} << (fm.shift - 1)) - 1), _mm512_set1_epi64(int64_t{lo} - zp),
          _mm512_set1_epi64(int64_t{hi} - zp), _mm512_set1_epi32(zp), _mm_cvtsi32_si128(fm.shift),
          _mm512_set1_ps(static_cast<float>(fm.mult * pow2_neg(fm.shift))), _mm512_set1_ps(static_cast<float>(b)),
          _mm512_set1_ps(static_cast<float>(lo)), _mm512_set1_ps(static_cast<float>(hi)), _mm512_set1_ps(thr)};
}
// The exact int64 requantization of 16 sums v' (offset already added), zero point included.
QF_AVX512 inline __m512i requant16_exact(const RequantRow& q, __m512i v) {
  // vpmuldq multiplies the low (even) int32 of each 64-bit lane; the odd ones are shifted down first.
  const __m512i even = round_clamp(_mm512_add_epi64(_mm512_mul_epi32(v, q.vm), q.vb), q.sh, q.half_m1, q.vlo, q.vhi);
  const __m512i odd =
      round_clamp(_mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(v, 32), q.vm), q.vb), q.sh, q.half_m1, q.vlo, q.vhi);
  // Both lie in [lo - zp, hi - zp]: the even lane's low dword is the value; the odd one moves up.
  return _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), q.vzp);
}
QF_AVX512 inline void requant_span(const RequantRow& q, const int32_t* c, int64_t n, uint8_t* o) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512i v = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, c + i), q.voff);
    __mmask16 unsure;
    __m512i y = screen_round(_mm512_fmadd_ps(_mm512_cvtepi32_ps(v), q.fm, q.fb), q.flo, q.fhi, q.thr, &unsure);
    if (unsure & k) y = requant16_exact(q, v);
    // y lies in [lo, hi], the output type's range: the bytes are the same signed or unsigned.
    _mm512_mask_cvtepi32_storeu_epi8(o + i, k, y);
  }
}

struct FloatRow {
  __m512i voff;
  __m512 vs, vb;
};
// q, qo: the fused QuantizeLinear (null when none).
QF_AVX512 inline void float_span(const FloatRow& f, const int32_t* c, int64_t n, const float* r, bool relu, float* o,
                                 const QuantizeConsts* q, uint8_t* qo) {
  const __m512 zero = _mm512_setzero_ps();
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = tail_mask(n - i);
    const __m512i acc = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, c + i), f.voff);
    __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), f.vs), f.vb);
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, r + i));
    if (relu) v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), zero, v);  // v > 0 ? v : 0 (NaN -> 0)
    _mm512_mask_storeu_ps(o + i, k, v);
    if (qo) quantize16(*q, v, k, qo + i);
  }
}
}  // namespace

QF_AVX512 bool requant_row_avx512(const int32_t* c, int64_t n, int32_t off, FixedMultiplier fm, int64_t bias, int32_t zp, int32_t lo,
                                  int32_t hi, bool, void* out) {
  if (fm.shift < 1 || fm.shift > 62) return false;  // the scalar path handles the degenerate shifts
  requant_span(requant_consts(off, fm, bias, zp, lo, hi), c, n, static_cast<uint8_t*>(out));
  return true;
}

QF_AVX512 bool requant_rows_avx512(const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg, int64_t nseg,
                                   const int32_t* off, const FixedMultiplier* fm, const int64_t* bias, int32_t zp, int32_t lo,
                                   int32_t hi, const int32_t* row_hi, uint8_t* out, int64_t rs) {
  for (int64_t m = 0; m < M; ++m)
    if (fm[m].shift < 1 || fm[m].shift > 62) return false;
  for (int64_t m = 0; m < M; ++m) {
    const RequantRow q = requant_consts(off[m], fm[m], bias ? bias[m] : 0, zp, lo, row_hi ? row_hi[m] : hi);
    for (int64_t k = 0; k < nseg; ++k) requant_span(q, C + m * ldc + seg[k].c, seg[k].n, out + m * rs + seg[k].o);
  }
  return true;
}

QF_AVX512 void float_rows_avx512(const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg, int64_t nseg,
                                 float* out, int64_t rs) {
  const QuantizeConsts q = quantize_consts(e.q_scale, e.q_zp, e.q_lo, e.q_hi);
  for (int64_t m = 0; m < M; ++m) {
    const FloatRow f{_mm512_set1_epi32(e.row_offset[m]), _mm512_set1_ps(e.scale[m]), _mm512_set1_ps(e.bias ? e.bias[m] : 0.f)};
    for (int64_t k = 0; k < nseg; ++k) {
      const int64_t o = m * rs + seg[k].o;
      float_span(f, C + m * ldc + seg[k].c, seg[k].n, e.residual ? e.residual + o : nullptr, e.relu, out + o, &q,
                 e.qout ? e.qout + o : nullptr);
    }
  }
}

QF_AVX512 void float_row_avx512(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, bool relu, float* o,
                                const Epilogue& e, uint8_t* qo) {
  const QuantizeConsts q = quantize_consts(e.q_scale, e.q_zp, e.q_lo, e.q_hi);
  float_span({_mm512_set1_epi32(off), _mm512_set1_ps(s), _mm512_set1_ps(b)}, c, n, r, relu, o, &q, qo);
}

}  // namespace qfrt
