// Depthwise convolution of one channel plane (group == channels, one filter per channel) into int32
// sums. The plane is pre-padded with its zero point (so padding is a real 0) and must have at least
// kDepthwiseSlack readable bytes after its end: the SIMD paths load whole vectors past the last
// column and discard the extra lanes.
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu.h"
#include "kernels/requant.h"

namespace qfrt {

constexpr int64_t kDepthwiseSlack = 64;

struct DwGeom {
  int64_t Hp = 0, Wp = 0;  // padded plane
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t OH = 0, OW = 0;
};

// acc[oh*OW + ow] = sum_{i,j} w[i*kw + j] * xp[(oh*sh + i*dh)*Wp + ow*sw + j*dw]
void depthwise_scalar(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc);
void depthwise_avx2(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc);       // stride-1 rows vectorized
void depthwise_avx512(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc);     // stride 1 and 2 vectorized
// 4 taps per vpdpbusd (vpermb gathers their bytes): needs AVX-512 VBMI + VNNI and a geometry whose
// 16-pixel step reads at most 64 bytes per kernel row; the Avx512Vnni dispatch prefers it.
bool depthwise_vbmi_supported(const DwGeom& g);
void depthwise_avx512vbmi(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc);
void depthwise(Isa isa, const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc);

// The plane depthwise reads (g.Hp x g.Wp, then kDepthwiseSlack bytes): the H x W input bytes ^ flip (the
// int8 -> uint8 shift) at row pt, column pl; pad everywhere else. Each byte is written once.
void pad_plane_scalar(const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl, const DwGeom& g, uint8_t pad, uint8_t flip,
                      uint8_t* xp);
// The same, each row by 64-byte masked loads and stores instead of three library calls (a 112-wide plane's
// padding cost as much as its depthwise sums). Needs W <= g.Wp - pl.
void pad_plane_avx512(const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl, const DwGeom& g, uint8_t pad, uint8_t flip,
                      uint8_t* xp);
void pad_plane(Isa isa, const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl, const DwGeom& g, uint8_t pad, uint8_t flip,
               uint8_t* xp);

// A depthwise layer with the Quantized epilogue fused into the kernel (AVX-512 VBMI + VNNI): each 16-output
// step's sums are requantized in registers and stored as bytes, so no int32 plane goes to memory and back,
// and no padded copy of the plane is made: loads are masked to the input and the gathered bytes of taps
// outside it are replaced by the zero point. Two ways to cover a plane, chosen once per layer call by
// make_dw_fused_plan:
//   rows -- 16 outputs of one output row a step, one 64-byte load per kernel row from the input row;
//   flat -- maps narrower than 16 columns (14x14 and 7x7 in MobileNetV2, where a row wasted 2 to 9 of 16
//           lanes): 16 consecutive outputs of the flattened plane a step, across rows, each step with its own
//           vpermb indices and, per kernel row, its own masks.
struct DwFusedPlan {
  DwGeom g;  // the kernel, strides and output size (Hp / Wp unused)
  int64_t H = 0, W = 0, pt = 0, pl = 0;
  bool flat = false;
  int64_t groups = 0;           // 4-tap groups per kernel row
  std::vector<uint8_t> idx;     // vpermb indices, 64 bytes per group: flat, per step then group; rows, per group
  std::vector<int64_t> base;    // flat: per step and kernel row, where its 64-byte load starts (may lie outside the plane)
  std::vector<uint64_t> masks;  // the load bytes inside the input: rows, per 16-column block (of the input row);
                                // flat, per step and kernel row (of the plane)
  std::vector<uint64_t> valid;  // flat: per step, kernel row and group, the gathered bytes whose tap lies inside the input
};
// False where neither way fits the geometry (or the CPU lacks VBMI): the caller uses depthwise() + epilogue.
bool make_dw_fused_plan(const DwGeom& g, int64_t H, int64_t W, int64_t pt, int64_t pl, DwFusedPlan* plan);
// One channel plane x [H][W] (bytes ^ flip are the u8 values; pad is the u8 zero point) into y [OH][OW]
// (u8 or s8 codes), requantized as requantize() does with the channel's constants rq.
void depthwise_fused_plane(const DwFusedPlan& p, const uint8_t* x, const int8_t* w, uint8_t pad, uint8_t flip,
                           const RequantRowParams& rq, uint8_t* y);

}  // namespace qfrt
