#include "kernels/epilogue.h"

namespace qfrt {

void run_epilogue(Isa isa, const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, int64_t N, void* out, int64_t rs,
                  int64_t cs) {
  for (int64_t m = 0; m < M; ++m) {
    const int32_t off = e.row_offset ? e.row_offset[m] : 0, wzp = e.row_wzp ? e.row_wzp[m] : 0;
    const int32_t* c = C + m * ldc;
    switch (e.kind) {
      case Epilogue::Int32: {
        int32_t* o = static_cast<int32_t*>(out) + m * rs;
        for (int64_t n = 0; n < N; ++n) o[n * cs] = c[n] + off - (wzp ? wzp * e.colsum[n] : 0);
        break;
      }
      case Epilogue::Quantized: {
        const FixedMultiplier fm = e.mult[m];
        const int64_t bf = e.bias_fixed ? e.bias_fixed[m] : 0;
        if (isa == Isa::Avx512Vnni && cs == 1 && !wzp &&
            requant_row_avx512(c, N, off, fm, bf, e.zp, e.lo, e.hi, e.out_signed, static_cast<uint8_t*>(out) + m * rs))
          break;
        if (e.out_signed) {
          int8_t* o = static_cast<int8_t*>(out) + m * rs;
          for (int64_t n = 0; n < N; ++n)
            o[n * cs] = static_cast<int8_t>(requantize(c[n] + off - (wzp ? wzp * e.colsum[n] : 0), fm, e.zp, e.lo, e.hi, bf));
        } else {
          uint8_t* o = static_cast<uint8_t*>(out) + m * rs;
          for (int64_t n = 0; n < N; ++n)
            o[n * cs] = static_cast<uint8_t>(requantize(c[n] + off - (wzp ? wzp * e.colsum[n] : 0), fm, e.zp, e.lo, e.hi, bf));
        }
        break;
      }
      case Epilogue::Float: {
        float* o = static_cast<float*>(out) + m * rs;
        const double s = e.scale[m], b = e.bias ? e.bias[m] : 0.0;
        for (int64_t n = 0; n < N; ++n)
          o[n * cs] = static_cast<float>(static_cast<double>(c[n] + off - (wzp ? wzp * e.colsum[n] : 0)) * s + b);
        break;
      }
    }
  }
}

}  // namespace qfrt
