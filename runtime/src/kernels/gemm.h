// u8 x s8 -> int32 GEMM, the core of every integer Conv / Gemm / MatMul.
//
//   C[m][n] = sum_{k < Kp} A[m][k] * B[k][n]
//
// A: weights, int8, row-major [M][Kp] (Kp a multiple of 4, zero-filled past the real K).
// B: activations, uint8, packed in "panels": columns in blocks of kPanelCols = 16; a block is Kp/4
//    groups of 64 bytes, [16 columns][4 consecutive k] -- exactly the operand vpdpbusd multiplies
//    against a broadcast 4-byte weight group. pack_panel.h writes this layout.
// C: int32, row-major with leading dimension ldc >= 16 * nblocks; all 16 * nblocks columns are written.
//
// Sums are exact (no saturation) in every path: VNNI's vpdpbusd adds 4 u8*s8 products into int32,
// the AVX2 path widens to 16 bits and uses vpmaddwd (never vpmaddubsw, which saturates at int16).
#pragma once
#include <cstdint>

#include "core/cpu.h"

namespace qfrt {

constexpr int kPanelCols = 16;
inline int64_t round_up(int64_t v, int64_t m) { return (v + m - 1) / m * m; }
inline int64_t panel_bytes(int64_t Kp, int64_t nblocks) { return Kp * kPanelCols * nblocks; }

struct GemmArgs {
  const int8_t* A;
  int64_t M, Kp;
  const uint8_t* B;
  int64_t nblocks;
  int32_t* C;
  int64_t ldc;
};

// The indirect form: no panel. B points at column 0 of a channel-blocked activation buffer in which
// 16 consecutive columns of one k-group are 64 contiguous bytes [16 columns][4 k]; k-group q of
// column block b is read at B + 64 b + off[q] (conv_blocked.h builds both). AVX-512 VNNI only.
struct GemmBlockedArgs {
  const int8_t* A;
  int64_t M, Kp;
  const uint8_t* B;
  const int64_t* off;  // [Kp / 4]
  int64_t nblocks;
  int32_t* C;
  int64_t ldc;
};
void gemm_u8s8_blocked_avx512vnni(const GemmBlockedArgs& g);

void gemm_u8s8_scalar(const GemmArgs& g);
void gemm_u8s8_avx2(const GemmArgs& g);
void gemm_u8s8_avx512vnni(const GemmArgs& g);
void gemm_u8s8(Isa isa, const GemmArgs& g);

}  // namespace qfrt
