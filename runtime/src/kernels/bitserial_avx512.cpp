// AVX-512 bit-serial kernels: vpopcntq counts 8 columns' AND-ed words at once; a register tile of R
// weight rows x (wbits x abits) plane pairs reuses each activation load R times. Activation planes
// come from the GEMM panel by one 16-lane gather per 64 k (a column's 4-byte groups are 64 bytes
// apart) and vptestmb per bit.
// GCC 12's AVX-512 headers trip -Wuninitialized on _mm512_undefined (GCC bug 105593).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/bitserial.h"
#include "kernels/gemm.h"

#define QF_VPOP __attribute__((target("avx512f,avx512bw,avx512dq,avx512vpopcntdq")))

namespace qfrt {

bool bitserial_avx512_available() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
         __builtin_cpu_supports("avx512vpopcntdq");
}

QF_VPOP void bit_acts_from_panel_avx512(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a) {
  a.abits = abits;
  a.nw = (K + 63) / 64;
  a.ncp = bit_cols_padded(cols);
  a.planes.assign(static_cast<size_t>(a.nw * abits * a.ncp), 0);
  a.colpop.assign(static_cast<size_t>(a.ncp), 0);
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(64));
  const __m512i vlo = _mm512_set1_epi8(static_cast<char>(lo));
  const int64_t groups = Kp / 4;
  for (int64_t col = 0; col < cols; ++col) {
    const uint8_t* p = panel + (col / kPanelCols) * Kp * kPanelCols + (col % kPanelCols) * 4;
    int32_t pop = 0;
    for (int64_t w = 0; w < a.nw; ++w) {
      const int64_t g0 = w * 16, ng = groups - g0 < 16 ? groups - g0 : 16;
      const __mmask16 gm = ng >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << ng) - 1);
      const __m512i v = _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), gm, idx, p + g0 * 64, 1);
      const __m512i u = _mm512_sub_epi8(v, vlo);
      const uint64_t valid = K - w * 64 >= 64 ? ~uint64_t{0} : (uint64_t{1} << (K - w * 64)) - 1;
      for (int i = 0; i < abits; ++i) {
        const uint64_t bits = _mm512_test_epi8_mask(u, _mm512_set1_epi8(static_cast<char>(1 << i))) & valid;
        a.planes[static_cast<size_t>((w * abits + i) * a.ncp + col)] = bits;
        pop += static_cast<int32_t>(__builtin_popcountll(bits)) << i;
      }
    }
    a.colpop[static_cast<size_t>(col)] = pop;
  }
}

namespace {
template <int WB, int AB, int R>
QF_VPOP inline void tile(const BitWeights& W, int64_t m, const BitActs& a, int64_t col0, int64_t ncols, uint8_t lo, int32_t* C,
                         int64_t ldc) {
  __m512i acc[R][WB * AB];
  for (int r = 0; r < R; ++r)
    for (int q = 0; q < WB * AB; ++q) acc[r][q] = _mm512_setzero_si512();
  const uint64_t* wp = W.planes.data() + m * WB * W.nw;
  for (int64_t w = 0; w < W.nw; ++w) {
    __m512i u[AB];
    for (int i = 0; i < AB; ++i) u[i] = _mm512_loadu_si512(a.planes.data() + (w * AB + i) * a.ncp + col0);
    for (int r = 0; r < R; ++r)
      for (int j = 0; j < WB; ++j) {
        const __m512i wv = _mm512_set1_epi64(static_cast<long long>(wp[(r * WB + j) * W.nw + w]));
        for (int i = 0; i < AB; ++i) acc[r][j * AB + i] = _mm512_add_epi64(acc[r][j * AB + i], _mm512_popcnt_epi64(_mm512_and_si512(wv, u[i])));
      }
  }
  const __mmask8 store = ncols >= 8 ? static_cast<__mmask8>(0xff) : static_cast<__mmask8>((1u << ncols) - 1);
  const __m512i colpop = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.colpop.data() + col0)));
  for (int r = 0; r < R; ++r) {
    __m512i s = _mm512_set1_epi64(int64_t{lo} * W.rowsum[static_cast<size_t>(m + r)]);
    for (int j = 0; j < WB; ++j)
      for (int i = 0; i < AB; ++i) {
        const __m512i t = _mm512_sllv_epi64(acc[r][j * AB + i], _mm512_set1_epi64(i + j + (W.binary ? 1 : 0)));
        s = (!W.binary && j == WB - 1) ? _mm512_sub_epi64(s, t) : _mm512_add_epi64(s, t);
      }
    if (W.binary) s = _mm512_sub_epi64(s, colpop);
    _mm512_mask_cvtepi64_storeu_epi32(C + r * ldc + col0, store, s);
  }
}

template <int WB, int AB>
QF_VPOP void run(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C, int64_t ldc) {
  constexpr int R = 16 / (WB * AB) > 8 ? 8 : 16 / (WB * AB) < 1 ? 1 : 16 / (WB * AB);
  for (int64_t col0 = 0; col0 < cols; col0 += 8) {
    int64_t m = 0;
    for (; m + R <= rows; m += R) tile<WB, AB, R>(W, m0 + m, a, col0, cols - col0, lo, C + m * ldc, ldc);
    for (; m < rows; ++m) tile<WB, AB, 1>(W, m0 + m, a, col0, cols - col0, lo, C + m * ldc, ldc);
  }
}

template <int WB>
void run_w(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C, int64_t ldc) {
  switch (a.abits) {
    case 1: return run<WB, 1>(W, m0, rows, a, cols, lo, C, ldc);
    case 2: return run<WB, 2>(W, m0, rows, a, cols, lo, C, ldc);
    default: return run<WB, 4>(W, m0, rows, a, cols, lo, C, ldc);
  }
}
}  // namespace

void bitserial_gemm_avx512(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                           int64_t ldc) {
  if (a.abits != 1 && a.abits != 2 && a.abits != 4) return bitserial_gemm_scalar(W, m0, rows, a, cols, lo, C, ldc);
  switch (W.wbits) {
    case 1: return run_w<1>(W, m0, rows, a, cols, lo, C, ldc);
    case 2: return run_w<2>(W, m0, rows, a, cols, lo, C, ldc);
    default: return run_w<4>(W, m0, rows, a, cols, lo, C, ldc);
  }
}

}  // namespace qfrt
