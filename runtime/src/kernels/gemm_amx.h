// The int8 GEMM on AMX tiles (Sapphire Rapids and later): one tdpbsud multiplies a 16 x 64 byte tile of
// weights by a 16 x 64 byte tile of activations into 16 x 16 int32 sums -- 16 K MACs an instruction
// against vpdpbusd's 64. The operands keep the VNNI kernels' layouts (gemm.h):
//  - weights (signed, tile A): rows = output channels, 64 bytes = 16 k-groups of 4; a copy of the
//    [M][Kp] weights zero-padded to whole 64-byte chunks (Kq) and 16 rows past M;
//  - activations (unsigned, tile B): rows = 16 k-groups, 64 bytes = [16 columns][4 k] -- one k-group
//    of one column block of a panel, or of the channel-blocked input (conv_blocked.h);
//  - sums (tile C): [16 output channels][16 columns], stored into C [M][ldc] as the VNNI kernel does.
// Sums are exact and equal the VNNI kernel's (int32, no saturation).
#pragma once
#include <cstdint>
#include <vector>

namespace qfrt {

constexpr int64_t kAmxChunk = 64;  // bytes of K per tile row (16 k-groups)
// Bytes a panel must keep readable past its last block: the last chunk's k-groups past Kp are read
// (and multiplied by the zero weights there).
constexpr int64_t kAmxPanelSlack = (kAmxChunk / 4 - 1) * 64;

struct AmxWeights {
  int64_t M = 0, Kq = 0;   // Kq: K rounded up to kAmxChunk; Kq == 0: not prepared
  std::vector<int8_t> A;   // [M + 16][Kq]
  bool empty() const { return Kq == 0; }
};

// The tile copy of weights A [M][Kp] (Kp a multiple of 4): k-group q of the copy is k-group q of A, or
// (*order)[q] for q < order->size() when order is given (the blocked path's tap-major order); the rest 0.
AmxWeights make_amx_weights(const int8_t* A, int64_t M, int64_t Kp, const std::vector<int64_t>* order = nullptr);

// Where the activations' k-groups are: chunk c (16 k-groups) of column block j starts at
// B + j * block_stride + (chunk_off ? chunk_off[c] : c * 16 * row_stride), its k-groups row_stride apart.
struct AmxSource {
  const uint8_t* B;
  int64_t block_stride, row_stride;
  const int64_t* chunk_off;
};

// C [rows][16 * nblocks] (ldc) = weight rows m0 .. m0 + rows - 1 times the activation blocks.
// The caller checked amx_active() (core/cpu.h).
void gemm_u8s8_amx(const AmxWeights& w, int64_t m0, int64_t rows, const AmxSource& src, int64_t nblocks, int32_t* C, int64_t ldc);

}  // namespace qfrt
