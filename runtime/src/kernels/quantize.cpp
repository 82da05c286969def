#include "kernels/quantize.h"

#include <cmath>

namespace qfrt {

template <class T> void quantize_f32(const float* x, int64_t n, float scale, int32_t zp, int32_t lo, int32_t hi, T* y) {
  // Clamping before rounding keeps |v| far below 2^22, where adding and removing 1.5 * 2^23
  // rounds to the nearest integer, ties to even (the default FP mode), and vectorizes.
  const float vlo = static_cast<float>(lo - zp), vhi = static_cast<float>(hi - zp), magic = 12582912.f;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] / scale;
    v = v > vlo ? v : vlo;  // NaN -> lo; comparisons (not fmin/fmax) compile to maxss/minss inline
    v = v < vhi ? v : vhi;
    y[i] = static_cast<T>(static_cast<int32_t>((v + magic) - magic) + zp);
  }
}

template <class T> void dequantize_f32(const T* x, int64_t n, float scale, int32_t zp, float* y) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<float>(static_cast<int32_t>(x[i]) - zp) * scale;
}

template void quantize_f32<uint8_t>(const float*, int64_t, float, int32_t, int32_t, int32_t, uint8_t*);
template void quantize_f32<int8_t>(const float*, int64_t, float, int32_t, int32_t, int32_t, int8_t*);
template void dequantize_f32<uint8_t>(const uint8_t*, int64_t, float, int32_t, float*);
template void dequantize_f32<int8_t>(const int8_t*, int64_t, float, int32_t, float*);
template void dequantize_f32<int32_t>(const int32_t*, int64_t, float, int32_t, float*);

}  // namespace qfrt
