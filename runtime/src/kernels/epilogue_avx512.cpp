// AVX-512 rows of the epilogue. The Float epilogue must give the baseline loop's floats, so multiply
// and add stay separate roundings: runtime/CMakeLists.txt compiles this file with -ffp-contract=off.
// Requantization of one output row (the Quantized epilogue without weight zero points), 16 int32 sums a
// step (requant_avx512.h).
// GCC 12 warns inside its own intrinsics (intentionally undefined registers).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/byte_lanes.h"
#include "kernels/epilogue.h"
#include "kernels/fixed_point_avx512.h"
#include "kernels/requant_avx512.h"
#include "kernels/quantize_avx512.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512dq")))

namespace qfrt {

namespace {

QF_AVX512 inline void requant_span(const RequantRow& q, const int32_t* c, int64_t n, uint8_t* o) {
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = lanes16(n - i);
    const __m512i y = requant16(q, _mm512_maskz_loadu_epi32(k, c + i), k);
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
    const __mmask16 k = lanes16(n - i);
    const __m512i acc = _mm512_add_epi32(_mm512_maskz_loadu_epi32(k, c + i), f.voff);
    __m512 v = _mm512_add_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(acc), f.vs), f.vb);
    if (r) v = _mm512_add_ps(v, _mm512_maskz_loadu_ps(k, r + i));
    if (relu) v = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, zero, _CMP_GT_OQ), zero, v);  // v > 0 ? v : 0 (NaN -> 0)
    _mm512_mask_storeu_ps(o + i, k, v);
    if (qo) quantize16(*q, v, k, qo + i);
  }
}
}  // namespace

QF_AVX512 void requant_rows_avx512(const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg, int64_t nseg,
                                   const RequantRowParams* rq, uint8_t* out, int64_t rs) {
  for (int64_t m = 0; m < M; ++m) {
    const RequantRow q = requant_consts(rq[m]);
    for (int64_t k = 0; k < nseg; ++k) requant_span(q, C + m * ldc + seg[k].c, seg[k].n, out + m * rs + seg[k].o);
  }
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
