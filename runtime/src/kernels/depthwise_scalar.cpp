#include "kernels/depthwise.h"

#include <cstring>

namespace qfrt {

void depthwise_scalar(const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc) {
  for (int64_t oh = 0; oh < g.OH; ++oh)
    for (int64_t ow = 0; ow < g.OW; ++ow) {
      int32_t s = 0;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j)
          s += int32_t{w[i * g.kw + j]} * int32_t{xp[(oh * g.sh + i * g.dh) * g.Wp + ow * g.sw + j * g.dw]};
      acc[oh * g.OW + ow] = s;
    }
}

void pad_plane_scalar(const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl, const DwGeom& g, uint8_t pad, uint8_t flip,
                      uint8_t* xp) {
  std::memset(xp, pad, static_cast<size_t>(pt * g.Wp));
  for (int64_t h = 0; h < H; ++h) {
    uint8_t* row = xp + (h + pt) * g.Wp;
    std::memset(row, pad, static_cast<size_t>(pl));
    const uint8_t* src = x + h * W;
    if (flip) {
      uint8_t* __restrict dst = row + pl;  // restrict: else the compiler reloads and checks per byte
      for (int64_t w = 0; w < W; ++w) dst[w] = src[w] ^ flip;
    } else {
      std::memcpy(row + pl, src, static_cast<size_t>(W));
    }
    std::memset(row + pl + W, pad, static_cast<size_t>(g.Wp - pl - W));
  }
  std::memset(xp + (pt + H) * g.Wp, pad, static_cast<size_t>((g.Hp - pt - H) * g.Wp + kDepthwiseSlack));
}

void pad_plane(Isa isa, const uint8_t* x, int64_t H, int64_t W, int64_t pt, int64_t pl, const DwGeom& g, uint8_t pad, uint8_t flip,
               uint8_t* xp) {
  if (isa == Isa::Avx512Vnni) return pad_plane_avx512(x, H, W, pt, pl, g, pad, flip, xp);
  pad_plane_scalar(x, H, W, pt, pl, g, pad, flip, xp);
}

void depthwise(Isa isa, const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc) {
  switch (isa) {
    case Isa::Avx512Vnni:
      return depthwise_vbmi_supported(g) ? depthwise_avx512vbmi(xp, w, g, acc) : depthwise_avx512(xp, w, g, acc);
    case Isa::Avx2: return depthwise_avx2(xp, w, g, acc);
    case Isa::Scalar: return depthwise_scalar(xp, w, g, acc);
  }
}

}  // namespace qfrt
