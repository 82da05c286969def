// Writers of the GEMM's activation panels (layout in gemm.h). The activations become uint8: int8
// inputs are shifted by +128 (x ^ 0x80) and their zero point with them, so one u8 x s8 kernel
// serves both. Padding positions receive the (shifted) zero point, i.e. a real 0.
#pragma once
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

// Rows of a row-major matrix X [rows][K] (row stride ldx) as panel columns.
void pack_rows_panel(const uint8_t* x, bool x_signed, int64_t rows, int64_t K, int64_t ldx, uint8_t* panel, int32_t* colsum);

}  // namespace qfrt
