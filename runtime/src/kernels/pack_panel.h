// Writers of the GEMM's activation panels (layout in gemm.h). The activations become uint8: int8
// inputs are shifted by +128 (x ^ 0x80) and their zero point with them, so one u8 x s8 kernel
// serves both. Padding positions receive the (shifted) zero point, i.e. a real 0.
#pragma once
#include <emmintrin.h>

#include <cstdint>

namespace qfrt {

// 2-D convolution geometry (NCHW), one image.
struct ConvGeom {
  int64_t C = 0, H = 0, W = 0;    // input channels and size
  int64_t M = 0;                  // output channels
  int64_t group = 1;
  int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
  int64_t pt = 0, pl = 0, pb = 0, pr = 0;
  int64_t OH = 0, OW = 0;
  int64_t Cg() const { return C / group; }
  int64_t Mg() const { return M / group; }
  int64_t K() const { return Cg() * kh * kw; }
};

// im2col of group g of one image x [C][H][W] into a panel whose columns are the output pixels
// col0 .. col0+ncols-1 (pixel = oh*OW + ow) and k = (c, i, j) in the weight's order. x_signed: the
// bytes are int8 (shifted here). pad: the u8 value of padding. colsum (nullable, ncols entries):
// sum over the real K of the packed bytes, needed when weight zero points are nonzero.
void pack_conv_panel(const uint8_t* x, bool x_signed, const ConvGeom& g, int64_t group, uint8_t pad, int64_t col0,
                     int64_t ncols, uint8_t* panel, int32_t* colsum);

// Four rows of 16 bytes as one 64-byte group [16 columns][4 rows], the operand vpdpbusd reads:
// o[i] holds columns 4i .. 4i + 3 (SSE2 byte / word unpacks).
inline void interleave_4x16(const __m128i r[4], __m128i o[4]) {
  const __m128i a = _mm_unpacklo_epi8(r[0], r[1]), b = _mm_unpackhi_epi8(r[0], r[1]);  // (row 0, row 1) per column
  const __m128i c = _mm_unpacklo_epi8(r[2], r[3]), d = _mm_unpackhi_epi8(r[2], r[3]);  // (row 2, row 3)
  o[0] = _mm_unpacklo_epi16(a, c);
  o[1] = _mm_unpackhi_epi16(a, c);
  o[2] = _mm_unpacklo_epi16(b, d);
  o[3] = _mm_unpackhi_epi16(b, d);
}

// Rows of a row-major matrix X [rows][K] (row stride ldx) as panel columns.
void pack_rows_panel(const uint8_t* x, bool x_signed, int64_t rows, int64_t K, int64_t ldx, uint8_t* panel, int32_t* colsum);

}  // namespace qfrt
