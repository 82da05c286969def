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

namespace {
// Bytes k = 64w .. 64w+63 of one panel column (a column's 4-byte groups lie 64 bytes apart), zeros past Kp.
QF_VPOP inline __m512i column_word(const uint8_t* p, int64_t groups, int64_t w) {
  const __m512i idx = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15), _mm512_set1_epi32(64));
  const int64_t g0 = w * 16, ng = groups - g0 < 16 ? groups - g0 : 16;
  const __mmask16 gm = ng >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << ng) - 1);
  return _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), gm, idx, p + g0 * 64, 1);
}
inline uint64_t valid_bits(int64_t K, int64_t w) { return K - w * 64 >= 64 ? ~uint64_t{0} : (uint64_t{1} << (K - w * 64)) - 1; }
inline const uint8_t* column(const uint8_t* panel, int64_t Kp, int64_t col) {
  return panel + (col / kPanelCols) * Kp * kPanelCols + (col % kPanelCols) * 4;
}
void size_planes(int64_t K, int64_t cols, int planes, BitActs& a) {
  a.abits = planes;
  a.nw = (K + 63) / 64;
  a.ncp = bit_cols_padded(cols);
  a.planes.assign(static_cast<size_t>(a.nw * planes * a.ncp), 0);
  a.colpop.assign(static_cast<size_t>(a.ncp), 0);
}
}  // namespace

QF_VPOP void bit_acts_from_panel_avx512(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a) {
  size_planes(K, cols, abits, a);
  a.xnor = false;
  const __m512i vlo = _mm512_set1_epi8(static_cast<char>(lo));
  for (int64_t col = 0; col < cols; ++col) {
    const uint8_t* p = column(panel, Kp, col);
    int32_t pop = 0;
    for (int64_t w = 0; w < a.nw; ++w) {
      const __m512i u = _mm512_sub_epi8(column_word(p, Kp / 4, w), vlo);
      const uint64_t valid = valid_bits(K, w);
      for (int i = 0; i < abits; ++i) {
        const uint64_t bits = _mm512_test_epi8_mask(u, _mm512_set1_epi8(static_cast<char>(1 << i))) & valid;
        a.planes[static_cast<size_t>((w * abits + i) * a.ncp + col)] = bits;
        pop += static_cast<int32_t>(__builtin_popcountll(bits)) << i;
      }
    }
    a.colpop[static_cast<size_t>(col)] = pop;
  }
}

QF_VPOP void xnor_acts_from_panel_avx512(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a) {
  size_planes(K, cols, 2, a);
  a.xnor = true;
  const __m512i vzp = _mm512_set1_epi8(static_cast<char>(zp));
  for (int64_t col = 0; col < cols; ++col) {
    const uint8_t* p = column(panel, Kp, col);
    int32_t pop = 0;
    for (int64_t w = 0; w < a.nw; ++w) {
      const __m512i d = _mm512_sub_epi8(column_word(p, Kp / 4, w), vzp);
      const uint64_t valid = valid_bits(K, w);
      const uint64_t z = _mm512_test_epi8_mask(d, d) & valid;
      a.planes[static_cast<size_t>((w * 2) * a.ncp + col)] = _mm512_cmpgt_epi8_mask(d, _mm512_setzero_si512()) & valid;
      a.planes[static_cast<size_t>((w * 2 + 1) * a.ncp + col)] = z;
      pop += static_cast<int32_t>(__builtin_popcountll(z));
    }
    a.colpop[static_cast<size_t>(col)] = pop;
  }
}

QF_VPOP void sign_select_gemm_avx512(const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp,
                                     int64_t cols, BitActs& scratch, int32_t* C, int64_t ldc) {
  const int64_t nw = W.nw;
  scratch.planes.resize(static_cast<size_t>(cols * nw * 8));
  uint64_t* xs = scratch.planes.data();
  for (int64_t col = 0; col < cols; ++col) {  // each column's k as 64-byte words, zeros past K
    const uint8_t* p = column(panel, Kp, col);
    for (int64_t w = 0; w < nw; ++w)
      _mm512_storeu_si512(xs + (col * nw + w) * 8, _mm512_maskz_mov_epi8(valid_bits(K, w), column_word(p, Kp / 4, w)));
  }
  constexpr int R = 8;
  const __m512i zero = _mm512_setzero_si512();
  for (int64_t col = 0; col < cols; ++col)
    for (int64_t m = 0; m < rows; m += R) {
      const int r_n = rows - m < R ? static_cast<int>(rows - m) : R;
      __m512i acc[R];
      #pragma GCC unroll 16
      for (int r = 0; r < R; ++r) acc[r] = zero;
      const uint64_t* wp = W.planes.data() + (m0 + m) * 2 * nw;
      for (int64_t w = 0; w < nw; ++w) {
        const __m512i xv = _mm512_loadu_si512(xs + (col * nw + w) * 8);
        for (int r = 0; r < r_n; ++r) {
          const uint64_t pos = wp[(r * 2) * nw + w], neg = wp[(r * 2 + 1) * nw + w] & ~pos;
          acc[r] = _mm512_add_epi64(acc[r], _mm512_sub_epi64(_mm512_sad_epu8(_mm512_maskz_mov_epi8(pos, xv), zero),
                                                             _mm512_sad_epu8(_mm512_maskz_mov_epi8(neg, xv), zero)));
        }
      }
      for (int r = 0; r < r_n; ++r) C[(m + r) * ldc + col] = static_cast<int32_t>(_mm512_reduce_add_epi64(acc[r]));
    }
}

namespace {
// The register-tile loops carry `#pragma GCC unroll`: rolled (GCC's -O2 default), their accumulator
// arrays live on the stack and every popcount add becomes a load and a store.
template <int WB, int AB, int R>
QF_VPOP inline void tile(const BitWeights& W, int64_t m, const BitActs& a, int64_t col0, int64_t ncols, uint8_t lo, int32_t* C,
                         int64_t ldc) {
  __m512i acc[R][WB * AB];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r)
    #pragma GCC unroll 16
    for (int q = 0; q < WB * AB; ++q) acc[r][q] = _mm512_setzero_si512();
  const uint64_t* wp = W.planes.data() + m * WB * W.nw;
  for (int64_t w = 0; w < W.nw; ++w) {
    __m512i u[AB];
    #pragma GCC unroll 16
    for (int i = 0; i < AB; ++i) u[i] = _mm512_loadu_si512(a.planes.data() + (w * AB + i) * a.ncp + col0);
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r)
      #pragma GCC unroll 16
      for (int j = 0; j < WB; ++j) {
        const __m512i wv = _mm512_set1_epi64(static_cast<long long>(wp[(r * WB + j) * W.nw + w]));
        #pragma GCC unroll 16
        for (int i = 0; i < AB; ++i) acc[r][j * AB + i] = _mm512_add_epi64(acc[r][j * AB + i], _mm512_popcnt_epi64(_mm512_and_si512(wv, u[i])));
      }
  }
  const __mmask8 store = ncols >= 8 ? static_cast<__mmask8>(0xff) : static_cast<__mmask8>((1u << ncols) - 1);
  const __m512i colpop = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.colpop.data() + col0)));
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    __m512i s = _mm512_set1_epi64(int64_t{lo} * W.rowsum[static_cast<size_t>(m + r)]);
    #pragma GCC unroll 16
    for (int j = 0; j < WB; ++j)
      #pragma GCC unroll 16
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

// XNOR form, R rows x 8 columns: (Ws ^ S) & Z in one vpternlogq (0x28), then vpopcntq.
template <bool BINARY, int R>
QF_VPOP inline void xnor_tile(const BitWeights& W, int64_t m, const BitActs& a, int64_t col0, int64_t ncols, uint8_t zp, int32_t* C,
                              int64_t ldc) {
  __m512i neg[R], nz[R];
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) neg[r] = nz[r] = _mm512_setzero_si512();
  const uint64_t* wp = W.planes.data() + m * 2 * W.nw;
  for (int64_t w = 0; w < W.nw; ++w) {
    const __m512i sv = _mm512_loadu_si512(a.planes.data() + (w * 2) * a.ncp + col0);
    const __m512i zv = _mm512_loadu_si512(a.planes.data() + (w * 2 + 1) * a.ncp + col0);
    #pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512i ws = _mm512_set1_epi64(static_cast<long long>(wp[(r * 2) * W.nw + w]));
      if (BINARY) {
        neg[r] = _mm512_add_epi64(neg[r], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(ws, sv, zv, 0x28)));
      } else {
        const __m512i t = _mm512_and_si512(_mm512_set1_epi64(static_cast<long long>(wp[(r * 2 + 1) * W.nw + w])), zv);
        nz[r] = _mm512_add_epi64(nz[r], _mm512_popcnt_epi64(t));
        neg[r] = _mm512_add_epi64(neg[r], _mm512_popcnt_epi64(_mm512_ternarylogic_epi64(ws, sv, t, 0x28)));
      }
    }
  }
  const __mmask8 store = ncols >= 8 ? static_cast<__mmask8>(0xff) : static_cast<__mmask8>((1u << ncols) - 1);
  const __m512i colpop = _mm512_cvtepi32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(a.colpop.data() + col0)));
  #pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    __m512i s = _mm512_set1_epi64(int64_t{zp} * W.rowsum[static_cast<size_t>(m + r)]);
    s = _mm512_add_epi64(s, BINARY ? colpop : nz[r]);
    s = _mm512_sub_epi64(s, _mm512_slli_epi64(neg[r], 1));
    _mm512_mask_cvtepi64_storeu_epi32(C + r * ldc + col0, store, s);
  }
}

template <bool BINARY>
QF_VPOP void run_xnor(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t zp, int32_t* C, int64_t ldc) {
  constexpr int R = 8;
  for (int64_t col0 = 0; col0 < cols; col0 += 8) {
    int64_t m = 0;
    for (; m + R <= rows; m += R) xnor_tile<BINARY, R>(W, m0 + m, a, col0, cols - col0, zp, C + m * ldc, ldc);
    for (; m < rows; ++m) xnor_tile<BINARY, 1>(W, m0 + m, a, col0, cols - col0, zp, C + m * ldc, ldc);
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
  if (W.xnor) return W.binary ? run_xnor<true>(W, m0, rows, a, cols, lo, C, ldc) : run_xnor<false>(W, m0, rows, a, cols, lo, C, ldc);
  if (a.abits != 1 && a.abits != 2 && a.abits != 4) return bitserial_gemm_scalar(W, m0, rows, a, cols, lo, C, ldc);
  switch (W.wbits) {
    case 1: return run_w<1>(W, m0, rows, a, cols, lo, C, ldc);
    case 2: return run_w<2>(W, m0, rows, a, cols, lo, C, ldc);
    default: return run_w<4>(W, m0, rows, a, cols, lo, C, ldc);
  }
}

}  // namespace qfrt
