// Bit-serial GEMM for low-bit weights and activations: both are split into bit planes along K and
// multiplied with AND + popcount, so a W2A2 layer does 4 popcounts where int8 does 64 byte products.
//
//   weights: two's complement w = sum_{j<b-1} 2^j w_j - 2^(b-1) w_{b-1}  (int4, int2, ternary)
//            or binary w = 2 w_0 - 1 (one bit, 1 = +1)
//   activations: the uint8 panel value x = lo + u, u = sum_i 2^i u_i < 2^abits
//   sum_k w_k x_k = sum_{i,j} 2^i c_j popcount(W_j & U_i)  [- sum_i 2^i popcount(U_i) when binary]
//                   + lo * sum_k w_k
// which is exactly the int32 sum gemm_u8s8 computes, so the same epilogue follows and results are
// bit-identical. Padding inside the image is the zero point: it is a real 0 only when lo equals it,
// which prepare checks (otherwise the layer stays on the int8 kernel).
//
// XNOR form (binary or ternary weights x activations d = x - zp in {-1, 0, +1}: binary activations
// whose padding is a real 0, or ternary ones): planes are a sign S (d > 0) and a nonzero mask Z, and
//   sum_k w_k d_k = popcount(Wz & Z) - 2 popcount((Ws ^ S) & Wz & Z)
// so padding (Z = 0) adds nothing, exactly as the float model's zero padding; for binary weights
// Wz is all ones and popcount(Z) is counted once per column: one xor + popcount per 64 MACs.
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu.h"

namespace qfrt {

struct BitWeights {
  int wbits = 0;        // 1, 2 or 4 planes (XNOR form: 2, sign and nonzero)
  bool binary = false;  // one plane meaning +-1 (XNOR form: no zeros)
  bool xnor = false;    // XNOR form
  int64_t M = 0, K = 0, nw = 0;  // nw = 64-bit words per plane (K rounded up to 64)
  std::vector<uint64_t> planes;  // [M][wbits][nw]
  std::vector<int32_t> rowsum;   // [M] sum_k w_k
};

// w [M][K] int8 with values in the kind's range (binary: +-1).
BitWeights make_bit_weights(const int8_t* w, int64_t M, int64_t K, int wbits, bool binary);

// XNOR form of binary / ternary weights (values in {-1, 0, 1}; binary: no 0).
BitWeights make_xnor_weights(const int8_t* w, int64_t M, int64_t K, bool binary);

// Activation planes of one panel chunk: [nw][abits][ncp] words, ncp = cols rounded up to 8; colpop
// [ncp] = sum_i 2^i popcount(U_i) (used by binary weights).
struct BitActs {
  bool xnor = false;  // planes S, Z of d = x - lo (lo = the zero point); colpop = popcount(Z)
  int abits = 0;
  int64_t nw = 0, ncp = 0;
  std::vector<uint64_t> planes;
  std::vector<int32_t> colpop;
};
inline int64_t bit_cols_padded(int64_t cols) { return (cols + 7) / 8 * 8; }

// From a GEMM panel (gemm.h layout: Kp bytes per column, 16-column blocks) of `cols` columns.
void bit_acts_from_panel(Isa isa, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a);

// The XNOR form's planes: lo is the zero point (as uint8), d = x - lo must be in {-1, 0, 1}.
void xnor_acts_from_panel(Isa isa, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a);

// Sign-select: XNOR-form weights (binary / ternary) x any uint8 activations, straight from the panel:
// sum_k w_k x_k = sum_{w = +1} x - sum_{w = -1} x. AVX-512 zero-masks 64 activation bytes with a weight's
// 64-bit plane (vmovdqu8) and sums them with vpsadbw, so the weights stay 1-2 bits in memory.
// scratch holds the panel's columns as 64-byte words.
void sign_select_gemm(Isa isa, const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols,
                      BitActs& scratch, int32_t* C, int64_t ldc);
void sign_select_gemm_scalar(const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols,
                             int32_t* C, int64_t ldc);
void sign_select_gemm_avx512(const BitWeights& W, int64_t m0, int64_t rows, const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols,
                             BitActs& scratch, int32_t* C, int64_t ldc);

// C[m][col] (ldc) = sum_k W[m0 + m][k] x[k][col] for m < rows, col < cols; lo as above (XNOR: the
// zero point). Weights and activations must both be in the XNOR form or both not.
void bitserial_gemm(Isa isa, const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                    int64_t ldc);

// The scalar references (tests call them directly).
void xnor_acts_from_panel_scalar(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a);
void xnor_acts_from_panel_avx512(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t zp, BitActs& a);
void bit_acts_from_panel_scalar(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a);
void bitserial_gemm_scalar(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                           int64_t ldc);
// AVX-512 with VPOPCNTDQ (vpopcntq on 8 columns at once); false when the CPU lacks it.
bool bitserial_avx512_available();
void bit_acts_from_panel_avx512(const uint8_t* panel, int64_t K, int64_t Kp, int64_t cols, uint8_t lo, int abits, BitActs& a);
void bitserial_gemm_avx512(const BitWeights& W, int64_t m0, int64_t rows, const BitActs& a, int64_t cols, uint8_t lo, int32_t* C,
                           int64_t ldc);

}  // namespace qfrt
