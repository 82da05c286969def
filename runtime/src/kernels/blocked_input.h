// The input side of the channel-blocked conv (conv_blocked.h): the activations rearranged into padded
// planes whose 4-byte groups the VNNI GEMM reads in place. One pass over the input per layer.
#pragma once
#include <cstdint>
#include <vector>

#include "kernels/pack_panel.h"

namespace qfrt {

// The conv the GEMM sees: stride 1 on P planes per channel group. Stride 1: the padded input itself
// (P = 1). Stride 2: its 2x2 space-to-depth phases, Hq x Wq each -- as 4 planes (channel form, P = 4) or
// packed into each channel's 4-byte group (phase-byte form, P = 1, kernel ceil(kh/2) x ceil(kw/2)).
struct PhaseGeom {
  int64_t S, P, Hq, Wq, kh, kw, dh, dw;
  // Tap (i, j) of the GEMM's kernel: which plane it reads and how many pixels past the column's own.
  int64_t plane(int64_t i, int64_t j) const { return P == 1 ? 0 : i % 2 * 2 + j % 2; }
  int64_t shift(int64_t i, int64_t j) const { return P == 1 ? i * dh * Wq + j * dw : i / 2 * Wq + j / 2; }
  bool phase_bytes() const { return S == 2 && P == 1; }
};

// Writes one channel group of one image as its P planes [P][px][4]: input bytes ^ flip (the int8 -> uint8
// shift), padding, channels past C and every pixel past Hq x Wq as pad. Thread-safe (const).
class BlockedInput {
 public:
  BlockedInput(const ConvGeom& g, const PhaseGeom& pg, uint8_t flip, uint8_t pad, int64_t px);
  void copy(const uint8_t* x, int64_t n, int64_t c4, uint8_t* planes) const;

  // A padded row of Wq pixels from 4 channel rows of W <= 64 bytes by byte permutes (AVX-512 VBMI), 32 output
  // pixels a step: the permute of channels (0, 1) puts byte 2 i + k at source column S (32 s + i) + b - pl of
  // row k, one of (2, 3) likewise, and a word interleave of the two gives [pixel][4 channels].
  struct RowGather {
    int64_t steps = 0;
    uint8_t idx[2][64] = {};  // [step]: vpermt2b index into (row 0 | row 1)
    uint64_t valid[2] = {};   // [step]: bytes that read the input; the others are padding
  };

 private:
  ConvGeom g_;
  PhaseGeom pg_;
  uint8_t flip_, pad_;
  int64_t px_;
  bool gather_ = false;    // VBMI rows (W <= 64, Wq <= 64) instead of the SSE interleaves
  RowGather rows_[2];      // [column phase b]; stride 1 uses b = 0
  std::vector<uint8_t> pad_row_;
};

}  // namespace qfrt
