// Float <-> integer conversion loops of QuantizeLinear / DequantizeLinear (per tensor or per slice).
#pragma once
#include <cstdint>

namespace qfrt {

// y = clamp(round_half_even(x / scale) + zp, lo, hi), the division in float32 as ONNX specifies.
// NaN becomes lo. T: uint8_t or int8_t.
template <class T> void quantize_f32(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, T* y);
// Its AVX-512 twin (quantize_avx512.cpp), bit-identical; y: uint8 or int8 ([lo, hi] decides which).
void quantize_f32_avx512(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, void* y);

// y = (x - zp) * scale in float32. T: uint8_t, int8_t or int32_t.
template <class T> void dequantize_f32(const T* x, int64_t n, float scale, int32_t zp, float* y);

}  // namespace qfrt
