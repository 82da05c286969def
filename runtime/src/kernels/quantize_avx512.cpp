// AVX-512 QuantizeLinear loop (quantize.h): bit-identical to quantize_f32, rounding by the MXCSR
// default (nearest even).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/quantize_avx512.h"

#include "kernels/quantize.h"

#define QF_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl")))

namespace qfrt {

QF_AVX512 void quantize_f32_avx512(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, void* out) {
  uint8_t* y = static_cast<uint8_t*>(out);
  const QuantizeConsts q = quantize_consts(scale, zp, lo, hi);
  for (int64_t i = 0; i < n; i += 16) {
    const __mmask16 k = n - i >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n - i)) - 1);
    quantize16(q, _mm512_maskz_loadu_ps(k, x + i), k, y + i);
  }
}

}  // namespace qfrt
