// The int8 GEMM on AMX tiles (Sapphire Rapids and later): one tdpbsud multiplies a 16 x 64 byte tile of
// weights by a 16 x 64 byte tile of activations into 16 x 16 int32 sums -- 16 K MACs an instruction
// against vpdpbusd's 64. The operands keep the VNNI kernels' layouts (gemm.h):
//  - weights (signed, tile A): rows = output channels, a chunk of K (64 bytes = 16 k-groups of 4, or 32 / 16
//    bytes where the activations' k-groups come in runs of 8 / 4); a copy of the [M][Kp] weights
//    zero-padded to whole chunks (Kq) and 16 rows past M;
//  - activations (unsigned, tile B): rows = the chunk's k-groups, 64 bytes = [16 columns][4 k] -- one
//    k-group of one column block of a panel, or of the channel-blocked input (conv_blocked.h);
//  - sums (tile C): [16 output channels][16 columns], stored into C [M][ldc] as the VNNI kernel does.
// Sums are exact and equal the VNNI kernel's (int32, no saturation). A tdpbsud costs the same whatever the
// chunk (measured), so a 16-byte chunk does a quarter of the work for it -- still ahead of vpdpbusd.
#pragma once
#include <cstdint>
#include <vector>

#include "core/buffer.h"

namespace qfrt {

constexpr int64_t kAmxChunk = 64;  // bytes of K per tile row (16 k-groups)
// Bytes a panel must keep readable past its last block: the last chunk's k-groups past Kp are read
// (and multiplied by the zero weights there).
constexpr int64_t kAmxPanelSlack = (kAmxChunk / 4 - 1) * 64;

// The 64-byte block _tile_loadconfig reads (palette 1): per tile its rows and bytes per row.
struct alignas(64) AmxTileConfig {
  uint8_t palette = 1, start_row = 0, reserved[14] = {};
  uint16_t colsb[16] = {};
  uint8_t rows[16] = {};
};

struct AmxWeights {
  int64_t M = 0, Kq = 0;   // Kq: K rounded up to the chunk; Kq == 0: not prepared
  int64_t chunk = kAmxChunk;  // bytes of K per tile row: 64, 32 or 16
  std::vector<int8_t, AlignedAllocator<int8_t>> A;   // [M + 16][Kq], 64-byte aligned: tile rows on whole cache lines
  bool empty() const { return Kq == 0; }
};

// The tile copy of weights A [M][Kp] (Kp a multiple of 4): k-group q of the copy is k-group q of A, or
// (*order)[q] for q < order->size() when order is given (the blocked path's tap-major order); the rest 0.
AmxWeights make_amx_weights(const int8_t* A, int64_t M, int64_t Kp, const std::vector<int64_t>* order = nullptr,
                            int64_t chunk = kAmxChunk);

// Where the activations' k-groups are: chunk c (chunk / 4 k-groups) of column block j starts at
// B + j * block_stride + (chunk_off ? chunk_off[c] : c * chunk / 4 * row_stride), its k-groups row_stride apart.
struct AmxSource {
  const uint8_t* B;
  int64_t block_stride, row_stride;
  const int64_t* chunk_off;
};

// C [rows][16 * nblocks] (ldc) = weight rows m0 .. m0 + rows - 1 times the activation blocks.
// The caller checked amx_active() (core/cpu.h).
void gemm_u8s8_amx(const AmxWeights& w, int64_t m0, int64_t rows, const AmxSource& src, int64_t nblocks, int32_t* C, int64_t ldc);

}  // namespace qfrt
