#include "kernels/depthwise.h"

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

void depthwise(Isa isa, const uint8_t* xp, const int8_t* w, const DwGeom& g, int32_t* acc) {
  switch (isa) {
    case Isa::Avx512Vnni:
      return depthwise_vbmi_supported(g) ? depthwise_avx512vbmi(xp, w, g, acc) : depthwise_avx512(xp, w, g, acc);
    case Isa::Avx2: return depthwise_avx2(xp, w, g, acc);
    case Isa::Scalar: return depthwise_scalar(xp, w, g, acc);
  }
}

}  // namespace qfrt
