#include "kernels/pack_panel.h"

#include <cstring>

#include "kernels/gemm.h"

namespace qfrt {

namespace {
// Byte offset of element (k, col) in a panel with Kp rows.
inline int64_t panel_at(int64_t Kp, int64_t k, int64_t col) {
  return (col / kPanelCols) * Kp * kPanelCols + ((k >> 2) * kPanelCols + col % kPanelCols) * 4 + (k & 3);
}
}  // namespace

void pack_conv_panel(const uint8_t* x, bool x_signed, const ConvGeom& g, int64_t group, uint8_t pad, int64_t col0,
                     int64_t ncols, uint8_t* panel, int32_t* colsum) {
  const int64_t K = g.K(), Kp = round_up(K, 4), nb = (ncols + kPanelCols - 1) / kPanelCols;
  std::memset(panel, 0, static_cast<size_t>(panel_bytes(Kp, nb)));
  const uint8_t flip = x_signed ? 0x80 : 0;
  if (colsum) std::memset(colsum, 0, sizeof(int32_t) * static_cast<size_t>(ncols));
  for (int64_t c = 0; c < g.Cg(); ++c) {
    const uint8_t* plane = x + (group * g.Cg() + c) * g.H * g.W;
    for (int64_t i = 0; i < g.kh; ++i)
      for (int64_t j = 0; j < g.kw; ++j) {
        const int64_t k = (c * g.kh + i) * g.kw + j;
        int64_t oh = col0 / g.OW, ow = col0 % g.OW;
        for (int64_t col = 0; col < ncols; ++col) {
          const int64_t ih = oh * g.sh - g.pt + i * g.dh, iw = ow * g.sw - g.pl + j * g.dw;
          const uint8_t v =
              (ih >= 0 && ih < g.H && iw >= 0 && iw < g.W) ? static_cast<uint8_t>(plane[ih * g.W + iw] ^ flip) : pad;
          panel[panel_at(Kp, k, col)] = v;
          if (colsum) colsum[col] += v;
          if (++ow == g.OW) {
            ow = 0;
            ++oh;
          }
        }
      }
  }
}

void pack_rows_panel(const uint8_t* x, bool x_signed, int64_t rows, int64_t K, int64_t ldx, uint8_t* panel, int32_t* colsum) {
  const int64_t Kp = round_up(K, 4), nb = (rows + kPanelCols - 1) / kPanelCols;
  std::memset(panel, 0, static_cast<size_t>(panel_bytes(Kp, nb)));
  const uint8_t flip = x_signed ? 0x80 : 0;
  for (int64_t r = 0; r < rows; ++r) {
    int32_t s = 0;
    for (int64_t k = 0; k < K; ++k) {
      const uint8_t v = static_cast<uint8_t>(x[r * ldx + k] ^ flip);
      panel[panel_at(Kp, k, r)] = v;
      s += v;
    }
    if (colsum) colsum[r] = s;
  }
}

}  // namespace qfrt
