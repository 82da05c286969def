#include "kernels/conv_float.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/byte_lanes.h"

namespace qfrt {

bool conv_float_avx512_supported() { return __builtin_cpu_supports("avx512f"); }

namespace {
// R rows x 64 columns from column p0 (pr <= 64 valid); accumulators stay in 4R zmm registers.
template <int R>
__attribute__((target("avx512f"))) void tile(const float* w, const float* bias, const float* col, int64_t K, int64_t P, int64_t m,
                                              int64_t p0, int64_t pr, float* y) {
  __mmask16 mask[4];
  for (int v = 0; v < 4; ++v) mask[v] = lanes16(std::max<int64_t>(0, pr - 16 * v));
  __m512 acc[R][4];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r) {
    const __m512 b = _mm512_set1_ps(bias ? bias[m + r] : 0.f);
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) acc[r][v] = b;
  }
  const float* c = col + p0;
  for (int64_t k = 0; k < K; ++k, c += P) {
    __m512 x[4];
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) x[v] = _mm512_maskz_loadu_ps(mask[v], c + 16 * v);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const __m512 wv = _mm512_set1_ps(w[(m + r) * K + k]);
#pragma GCC unroll 4
      for (int v = 0; v < 4; ++v) acc[r][v] = _mm512_add_ps(acc[r][v], _mm512_mul_ps(wv, x[v]));
    }
  }
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int v = 0; v < 4; ++v) _mm512_mask_storeu_ps(y + (m + r) * P + p0 + 16 * v, mask[v], acc[r][v]);
}
}  // namespace

void conv_float_gemm_avx512(const float* w, const float* bias, const float* col, int64_t K, int64_t P, int64_t m0, int64_t m1, float* y) {
  for (int64_t p0 = 0; p0 < P; p0 += 64) {
    const int64_t pr = std::min<int64_t>(64, P - p0);
    int64_t m = m0;
    for (; m + 4 <= m1; m += 4) tile<4>(w, bias, col, K, P, m, p0, pr, y);
    switch (m1 - m) {
      case 3: tile<3>(w, bias, col, K, P, m, p0, pr, y); break;
      case 2: tile<2>(w, bias, col, K, P, m, p0, pr, y); break;
      case 1: tile<1>(w, bias, col, K, P, m, p0, pr, y); break;
      default: break;
    }
  }
}

}  // namespace qfrt
