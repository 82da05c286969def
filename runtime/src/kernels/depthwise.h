// Depthwise convolution of one channel plane (group == channels, one filter per channel) into int32
// sums. The plane is pre-padded with its zero point (so padding is a real 0) and must have at least
// kDepthwiseSlack readable bytes after its end: the SIMD paths load whole vectors past the last
// column and discard the extra lanes.
#pragma once
#include <cstdint>

#include "core/cpu.h"

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

}  // namespace qfrt
