#include "kernels/bitserial.h"

#include "core/error.h"
#include "kernels/gemm.h"

namespace qfrt {

BitWeights make_bit_weights(const int8_t* w, int64_t M, int64_t K, int wbits, bool binary) {
  if (!(wbits == 1 || wbits == 2 || wbits == 4) || (binary && wbits != 1)) fail("bit-serial weights must be 1, 2 or 4 bits");
  BitWeights W;
  W.wbits = wbits, W.binary = binary, W.M = M, W.K = K, W.nw = (K + 63) / 64;
  W.planes.assign(static_cast<size_t>(M * wbits * W.nw), 0);
  W.rowsum.assign(static_cast<size_t>(M), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      const int v = w[m * K + k];
      W.rowsum[static_cast<size_t>(m)] += v;
      const unsigned code = binary ? (v > 0 ? 1u : 0u) : static_cast<unsigned>(v) & ((1u << wbits) - 1);
      for (int j = 0; j < wbits; ++j)
        if (code >> j & 1) W.planes[static_cast<size_t>((m * wbits + j) * W.nw + k / 64)] |= uint64_t{1} << (k % 64);
    }
  return W;
}

BitWeights make_xnor_weights(const int8_t* w, int64_t M, int64_t K, bool binary) {
  BitWeights W;
  W.wbits = 2, W.binary = binary, W.xnor = true, W.M = M, W.K = K, W.nw = (K + 63) / 64;
  W.planes.assign(static_cast<size_t>(M * 2 * W.nw), 0);
  W.rowsum.assign(static_cast<size_t>(M), 0);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) {
      const int v = w[m * K + k];
      if (v < -1 || v > 1 || (binary && v == 0)) fail("XNOR weights must be -1, 0 or 1 (binary: +-1)");
      W.rowsum[static_cast<size_t>(m)] += v;
      const uint64_t bit = uint64_t{1} << (k % 64);
      if (v > 0) W.planes[static_cast<size_t>((m * 2 + 0) * W.nw + k / 64)] |= bit;
      if (v != 0) W.planes[static_cast<size_t>((m * 2 + 1) * W.nw + k / 64)] |= bit;
    }
  return W;
}

namespace {
void size_acts(int64_t K, int64_t cols, int abits, BitActs& a) {
  a.xnor = false;
  a.abits = abits;
  a.nw = (K + 63) / 64;
  a.ncp = bit_cols_padded(cols);
  a.planes.assign(static_cast<size_t>(a.nw * abits * a.ncp), 0);
  a.colpop.assign(static_cast<size_t>(a.ncp), 0);
}
}  // namespace

void bit_acts_from_panel_scalar(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a) {
  size_acts(K, cols, abits, a);
  for (int64_t col = 0; col < cols; ++col) {
    const uint8_t* p = panel + (col / kPanelCols) * Kp * kPanelCols + (col % kPanelCols) * 4;
    for (int64_t k = 0; k < K; ++k) {
      const unsigned u = static_cast<uint8_t>(p[(k / 4) * 64 + k % 4] - lo);
      for (int i = 0; i < abits; ++i)
        if (u >> i & 1) a.planes[static_cast<size_t>(((k / 64) * abits + i) * a.ncp + col)] |= uint64_t{1} << (k % 64);
    }
    for (int64_t w = 0; w < a.nw; ++w)
      for (int i = 0; i < abits; ++i)
        a.colpop[static_cast<size_t>(col)] += __builtin_popcountll(a.planes[static_cast<size_t>((w * abits + i) * a.ncp + col)]) << i;
  }
}

void xnor_acts_from_panel_scalar(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a) {
  size_acts(K, cols, 2, a);
  a.xnor = true;
  for (int64_t col = 0; col < cols; ++col) {
    const uint8_t* p = panel + (col / kPanelCols) * Kp * kPanelCols + (col % kPanelCols) * 4;
    for (int64_t k = 0; k < K; ++k) {
      const int8_t d = static_cast<int8_t>(p[(k / 4) * 64 + k % 4] - zp);
      const uint64_t bit = uint64_t{1} << (k % 64);
      if (d > 0) a.planes[static_cast<size_t>(((k / 64) * 2 + 0) * a.ncp + col)] |= bit;
      if (d != 0) a.planes[static_cast<size_t>(((k / 64) * 2 + 1) * a.ncp + col)] |= bit;
    }
    for (int64_t w = 0; w < a.nw; ++w) a.colpop[static_cast<size_t>(col)] += __builtin_popcountll(a.planes[static_cast<size_t>((w * 2 + 1) * a.ncp + col)]);
  }
}

namespace {
void xnor_gemm_scalar(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t zp, int32_t* C, int64_t ldc) {
  for (int64_t m = m0; m < m0 + rows; ++m)
    for (int64_t col = 0; col < cols; ++col) {
      int64_t nz = 0, neg = 0;
      for (int64_t w = 0; w < W.nw; ++w) {
        const uint64_t ws = W.planes[static_cast<size_t>((m * 2) * W.nw + w)], wz = W.planes[static_cast<size_t>((m * 2 + 1) * W.nw + w)];
        const uint64_t s = a.planes[static_cast<size_t>((w * 2) * a.ncp + col)], z = a.planes[static_cast<size_t>((w * 2 + 1) * a.ncp + col)];
        nz += __builtin_popcountll(wz & z);
        neg += __builtin_popcountll((ws ^ s) & wz & z);
      }
      C[(m - m0) * ldc + col] = static_cast<int32_t>(nz - 2 * neg + int64_t{zp} * W.rowsum[static_cast<size_t>(m)]);
    }
}
}  // namespace

void bitserial_gemm_scalar(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                           int64_t ldc) {
  if (W.xnor) return xnor_gemm_scalar(W, m0, rows, a, cols, lo, C, ldc);
  for (int64_t m = m0; m < m0 + rows; ++m)
    for (int64_t col = 0; col < cols; ++col) {
      int64_t acc = 0;
      for (int i = 0; i < a.abits; ++i)
        for (int j = 0; j < W.wbits; ++j) {
          int64_t p = 0;
          for (int64_t w = 0; w < W.nw; ++w)
            p += __builtin_popcountll(W.planes[static_cast<size_t>((m * W.wbits + j) * W.nw + w)] &
                                      a.planes[static_cast<size_t>((w * a.abits + i) * a.ncp + col)]);
          const int64_t c = W.binary ? 2 : (j == W.wbits - 1 ? -(int64_t{1} << j) : int64_t{1} << j);
          acc += c * p * (int64_t{1} << i);  // c < 0 for the sign plane: multiply, never shift a negative
        }
      if (W.binary) acc -= a.colpop[static_cast<size_t>(col)];
      acc += int64_t{lo} * W.rowsum[static_cast<size_t>(m)];
      C[(m - m0) * ldc + col] = static_cast<int32_t>(acc);
    }
}

void bit_acts_from_panel(Isa isa, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a) {
  if (isa == Isa::Avx512Vnni && bitserial_avx512_available()) return bit_acts_from_panel_avx512(panel, K, Kp, cols, lo, abits, a);
  bit_acts_from_panel_scalar(panel, K, Kp, cols, lo, abits, a);
}

void sign_select_gemm_scalar(const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols,
                             int32_t* C, int64_t ldc) {
  for (int64_t m = m0; m < m0 + rows; ++m)
    for (int64_t col = 0; col < cols; ++col) {
      const uint8_t* p = panel + (col / kPanelCols) * Kp * kPanelCols + (col % kPanelCols) * 4;
      int64_t acc = 0;
      for (int64_t k = 0; k < K; ++k) {
        const uint64_t bit = uint64_t{1} << (k % 64);
        const bool pos = W.planes[static_cast<size_t>((m * 2) * W.nw + k / 64)] & bit;
        const bool nz = W.planes[static_cast<size_t>((m * 2 + 1) * W.nw + k / 64)] & bit;
        const int x = p[(k / 4) * 64 + k % 4];
        acc += pos ? x : nz ? -x : 0;
      }
      C[(m - m0) * ldc + col] = static_cast<int32_t>(acc);
    }
}

void sign_select_gemm(Isa isa, const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols,
                      BitActs& scratch, int32_t* C, int64_t ldc) {
  if (!W.xnor || W.K != K) fail("sign-select GEMM: the weights must be in the XNOR form, with the panel's K");
  if (isa == Isa::Avx512Vnni && bitserial_avx512_available()) return sign_select_gemm_avx512(W, m0, rows, panel, K, Kp, cols, scratch, C, ldc);
  sign_select_gemm_scalar(W, m0, rows, panel, K, Kp, cols, C, ldc);
}

void xnor_acts_from_panel(Isa isa, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a) {
  if (isa == Isa::Avx512Vnni && bitserial_avx512_available()) return xnor_acts_from_panel_avx512(panel, K, Kp, cols, zp, a);
  xnor_acts_from_panel_scalar(panel, K, Kp, cols, zp, a);
}

void bitserial_gemm(Isa isa, const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                    int64_t ldc) {
  if (a.nw != W.nw || a.xnor != W.xnor) fail("bit-serial GEMM: activation and weight planes disagree");
  if (isa == Isa::Avx512Vnni && bitserial_avx512_available()) return bitserial_gemm_avx512(W, m0, rows, a, cols, lo, C, ldc);
  bitserial_gemm_scalar(W, m0, rows, a, cols, lo, C, ldc);
}

}  // namespace qfrt
