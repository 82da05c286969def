#include "kernels/epilogue.h"

#include <cstddef>
#include <vector>

#include "kernels/quantize.h"

namespace qfrt {

namespace {
// The Float epilogue of one contiguous row; the variants keep the loop branch-free so it vectorizes.
template <bool Residual, bool Relu>
void float_row_t(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, float* o) {
  for (int64_t i = 0; i < n; ++i) {
    float v = static_cast<float>(c[i] + off) * s + b;
    if (Residual) v += r[i];
    if (Relu) v = v > 0 ? v : 0.f;
    o[i] = v;
  }
}

void float_row(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, bool relu, float* o) {
  if (r) relu ? float_row_t<true, true>(c, n, off, s, b, r, o) : float_row_t<true, false>(c, n, off, s, b, r, o);
  else relu ? float_row_t<false, true>(c, n, off, s, b, r, o) : float_row_t<false, false>(c, n, off, s, b, r, o);
}

// The per-row requantization constants for the AVX-512 rows: Epilogue::rq when the layer worked them out at
// load, else worked out here into `own` (an Epilogue made without a QLayer); null where the scalar loop runs.
const RequantRowParams* row_params(const Epilogue& e, int64_t M, std::vector<RequantRowParams>& own) {
  if (e.rq) return e.rq;
  return requant_rows_params(e, M, own) ? own.data() : nullptr;
}

// The fused QuantizeLinear of n floats (Epilogue::qout), in the output type [q_lo, q_hi] implies.
void quantize_to(const Epilogue& e, const float* v, int64_t n, uint8_t* q) {
  if (e.q_lo < 0) quantize_f32(v, n, e.q_scale, e.q_zp, e.q_lo, e.q_hi, reinterpret_cast<int8_t*>(q));
  else quantize_f32(v, n, e.q_scale, e.q_zp, e.q_lo, e.q_hi, q);
}
}  // namespace

bool requant_rows_params(const Epilogue& e, int64_t M, std::vector<RequantRowParams>& out) {
  for (int64_t m = 0; m < M; ++m)
    if (!requant_avx512_shift_ok(e.mult[m])) return false;
  for (int64_t m = 0; m < M; ++m)
    out.push_back(requant_row_params(e.row_offset ? e.row_offset[m] : 0, e.mult[m], e.bias_fixed ? e.bias_fixed[m] : 0, e.zp, e.lo,
                                     e.row_hi ? e.row_hi[m] : e.hi));
  return true;
}

void run_epilogue(Isa isa, const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, int64_t N, void* out, int64_t rs,
                  int64_t cs) {
  if (isa == Isa::Avx512Vnni && e.kind == Epilogue::Quantized && cs == 1 && !e.row_wzp) {
    std::vector<RequantRowParams> own;
    if (const RequantRowParams* rq = row_params(e, M, own)) {
      const EpilogueSegment all{0, N, 0};
      requant_rows_avx512(C, ldc, M, &all, 1, rq, static_cast<uint8_t*>(out), rs);
      return;
    }
  }
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
        const int32_t hi = e.row_hi ? e.row_hi[m] : e.hi;
        if (e.out_signed) {
          int8_t* o = static_cast<int8_t*>(out) + m * rs;
          for (int64_t n = 0; n < N; ++n)
            o[n * cs] = static_cast<int8_t>(requantize(c[n] + off - (wzp ? wzp * e.colsum[n] : 0), fm, e.zp, e.lo, hi, bf));
        } else {
          uint8_t* o = static_cast<uint8_t*>(out) + m * rs;
          for (int64_t n = 0; n < N; ++n)
            o[n * cs] = static_cast<uint8_t>(requantize(c[n] + off - (wzp ? wzp * e.colsum[n] : 0), fm, e.zp, e.lo, hi, bf));
        }
        break;
      }
      case Epilogue::Float: {
        float* o = static_cast<float*>(out) + m * rs;
        const float* r = e.residual ? e.residual + m * rs : nullptr;
        uint8_t* qo = e.qout ? e.qout + m * rs : nullptr;
        if (cs == 1 && !wzp) {
          if (isa == Isa::Avx512Vnni) {
            float_row_avx512(c, N, off, e.scale[m], e.bias ? e.bias[m] : 0.f, r, e.relu, o, e, qo);
            break;
          }
          float_row(c, N, off, e.scale[m], e.bias ? e.bias[m] : 0.f, r, e.relu, o);
          if (qo) quantize_to(e, o, N, qo);
          break;
        }
        for (int64_t n = 0; n < N; ++n) {
          float v = static_cast<float>(c[n] + off - (wzp ? wzp * e.colsum[n] : 0)) * e.scale[m] + (e.bias ? e.bias[m] : 0.f);
          if (r) v += r[n * cs];
          o[n * cs] = e.relu && !(v > 0) ? 0.f : v;
          if (qo) quantize_to(e, o + n * cs, 1, qo + n * cs);
        }
        break;
      }
    }
  }
}

void run_epilogue_segments(Isa isa, const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg,
                           int64_t nseg, void* out, int64_t rs) {
  if (isa == Isa::Avx512Vnni && !e.row_wzp && e.row_offset) {
    if (e.kind == Epilogue::Float) {
      float_rows_avx512(e, C, ldc, M, seg, nseg, static_cast<float*>(out), rs);
      return;
    }
    std::vector<RequantRowParams> own;
    const RequantRowParams* rq = e.kind == Epilogue::Quantized ? row_params(e, M, own) : nullptr;
    if (rq) {
      requant_rows_avx512(C, ldc, M, seg, nseg, rq, static_cast<uint8_t*>(out), rs);
      return;
    }
  }
  const size_t esz = e.kind == Epilogue::Quantized ? 1 : 4;
  for (int64_t k = 0; k < nseg; ++k) {
    Epilogue es = e;
    if (e.residual) es.residual = e.residual + seg[k].o;
    if (e.qout) es.qout = e.qout + seg[k].o;
    run_epilogue(isa, es, C + seg[k].c, ldc, M, seg[k].n, static_cast<uint8_t*>(out) + static_cast<size_t>(seg[k].o) * esz, rs, 1);
  }
}

}  // namespace qfrt
