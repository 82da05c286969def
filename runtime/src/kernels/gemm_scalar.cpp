// The reference every SIMD GEMM path must equal bit for bit.
#include "kernels/gemm.h"

namespace qfrt {

void gemm_u8s8_scalar(const GemmArgs& g) {
  const int64_t groups = g.Kp / 4;
  for (int64_t b = 0; b < g.nblocks; ++b) {
    const uint8_t* blk = g.B + b * g.Kp * kPanelCols;
    for (int64_t m = 0; m < g.M; ++m) {
      const int8_t* a = g.A + m * g.Kp;
      int32_t acc[kPanelCols] = {};
      for (int64_t q = 0; q < groups; ++q)
        for (int c = 0; c < kPanelCols; ++c)
          for (int j = 0; j < 4; ++j) acc[c] += int32_t{blk[(q * kPanelCols + c) * 4 + j]} * int32_t{a[q * 4 + j]};
      for (int c = 0; c < kPanelCols; ++c) g.C[m * g.ldc + b * kPanelCols + c] = acc[c];
    }
  }
}

void gemm_u8s8(Isa isa, const GemmArgs& g) {
  switch (isa) {
    case Isa::Avx512Vnni: return gemm_u8s8_avx512vnni(g);
    case Isa::Avx2: return gemm_u8s8_avx2(g);
    case Isa::Scalar: return gemm_u8s8_scalar(g);
  }
}

}  // namespace qfrt
