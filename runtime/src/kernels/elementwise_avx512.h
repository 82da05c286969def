// AVX-512 twins of float_row (epilogue.cpp) and quantize_f32 (quantize.h), bit-identical to them.
#pragma once
#include <cstdint>

namespace qfrt {

// o[i] = float(c[i] + off) * s + b (+ r[i]) (then ReLU when relu); r nullable.
void float_row_avx512(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, bool relu, float* o);

// y: uint8 or int8 ([lo, hi] decides which).
void quantize_f32_avx512(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, void* y);

}  // namespace qfrt
