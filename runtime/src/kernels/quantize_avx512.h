// The AVX-512 QuantizeLinear step shared by the QuantizeLinear loop and the Float epilogue's fused
// quantized output: 16 floats to bytes, bit-identical to quantize_f32 (quantize.h).
#pragma once
#include <immintrin.h>

#include <cstdint>

namespace qfrt {

struct QuantizeConsts {
  __m512 scale, lo, hi;  // lo, hi: the clamp minus the zero point, as floats
  __m512i zp;
};

__attribute__((target("avx512f,avx512bw,avx512vl"))) inline QuantizeConsts quantize_consts(float scale, int32_t zp, int32_t lo, int32_t hi) {
  return {_mm512_set1_ps(scale), _mm512_set1_ps(static_cast<float>(lo - zp)), _mm512_set1_ps(static_cast<float>(hi - zp)),
          _mm512_set1_epi32(zp)};
}

// Lanes k of v: clamp(round_half_even(v / scale) + zp, lo, hi) stored as one byte each at y (the low byte
// of a value in [lo, hi] is its uint8 or int8 form). Division in float32, as ONNX specifies.
__attribute__((target("avx512f,avx512bw,avx512vl"))) inline void quantize16(const QuantizeConsts& q, __m512 v, __mmask16 k, uint8_t* y) {
  v = _mm512_div_ps(v, q.scale);
  v = _mm512_max_ps(v, q.lo);  // vmaxps returns its second operand when the first is NaN: NaN -> lo
  v = _mm512_min_ps(v, q.hi);
  _mm512_mask_cvtepi32_storeu_epi8(y, k, _mm512_add_epi32(_mm512_cvtps_epi32(v), q.zp));  // round half to even
}

}  // namespace qfrt
