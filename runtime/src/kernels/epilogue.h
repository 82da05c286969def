// What happens to the GEMM's int32 sums: zero-point compensation, bias, then one of
//   Int32     -- the exact sum of (x - zx) * (w - zw)   (ConvInteger, MatMulInteger)
//   Quantized -- fixed-point requantization to u8/s8 with a clamp (fused ReLU / Clip / narrow grid)
//   Float     -- sum * s_x * s_w[m] + bias[m]            (an integer layer whose consumer is float)
// The compensation is folded per row: row_offset[m] = bias_int[m] - zx * sum_k w[m][k] + K * zx * zw[m]
// (a float bias of a Quantized layer goes to bias_fixed instead, at fixed-point precision)
// (precomputed once per weight), plus -zw[m] * colsum[n] only when weight zero points are nonzero.
#pragma once
#include <cstdint>
#include <vector>

#include "core/cpu.h"
#include "kernels/requant.h"

namespace qfrt {

struct Epilogue {
  enum Kind { Int32, Quantized, Float } kind = Int32;
  const int32_t* row_offset = nullptr;  // [M]
  const int32_t* row_wzp = nullptr;     // [M] or null when every weight zero point is 0
  const int32_t* colsum = nullptr;      // [N], with row_wzp
  // Quantized
  const FixedMultiplier* mult = nullptr;  // [M]
  const int64_t* bias_fixed = nullptr;    // [M] or null: a float bias in output steps << shift (requant.h)
  int32_t zp = 0, lo = 0, hi = 255;
  const int32_t* row_hi = nullptr;        // [M] or null: each row's own upper clamp (<= hi), a fused per-channel clip
  const RequantRowParams* rq = nullptr;   // [M] or null: all of the above per row, for the AVX-512 rows (QLayer::rq)
  bool out_signed = false;
  // Float
  const float* scale = nullptr;  // [M]: s_x * s_w[m]
  const float* bias = nullptr;   // [M] or null
  const float* residual = nullptr;  // or a tensor added to the output (same addressing), then
  bool relu = false;                // an optional ReLU: a residual block's Add -> Relu, fused
  // Float, optional: the QuantizeLinear that reads the output, fused (one pass instead of two over a
  // float tensor): q = clamp(round_half_even(v / q_scale) + q_zp, q_lo, q_hi), one byte per value at
  // qout with the output's addressing (quantize.h's arithmetic).
  uint8_t* qout = nullptr;
  float q_scale = 1;
  int32_t q_zp = 0, q_lo = 0, q_hi = 255;
};

// Rows [0, M) and columns [0, N) of C (leading dimension ldc) to out, element (m, n) at
// out + m * rs + n * cs in units of the output type (int32, u8/s8 or float).
// isa: Avx512Vnni requantizes contiguous rows (cs == 1, no weight zero points) with AVX-512;
// everything else, and the reference, is scalar.
void run_epilogue(Isa isa, const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, int64_t N, void* out, int64_t rs,
                  int64_t cs);

// The AVX-512 requantization constants of rows [0, M) of a Quantized epilogue (its row_offset, mult,
// bias_fixed, zp, lo and hi / row_hi; Epilogue::rq is not read), appended to out; false when a multiplier's
// shift is out of the AVX-512 form's range (the scalar loop takes those rows), with out as it was.
// prepare_qlayer keeps them as QLayer::rq; run_epilogue works them out for an Epilogue made without one.
bool requant_rows_params(const Epilogue& e, int64_t M, std::vector<RequantRowParams>& out);

// Output rows that split into segments (a channel-blocked conv chunk: one segment per output row of the
// map, its wide columns dropped): C columns [c, c + n) of row m go to out + m * rs + o (units of the output
// type; a residual is addressed the same way). One call per chunk: on 7- to 28-wide maps one call per
// segment cost as much in setup as the work.
struct EpilogueSegment {
  int64_t c, n, o;
};
void run_epilogue_segments(Isa isa, const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg,
                           int64_t nseg, void* out, int64_t rs);

// One row of the Float epilogue in AVX-512, bit-identical to the baseline loop:
// o[i] = float(c[i] + off) * s + b (+ r[i]) (then ReLU when relu); r nullable; e's fused quantized output
// (when e.qout) at qo.
void float_row_avx512(const int32_t* c, int64_t n, int32_t off, float s, float b, const float* r, bool relu, float* o,
                      const Epilogue& e, uint8_t* qo);

// The Quantized epilogue (without weight zero points) in AVX-512 over M rows of segments (run_epilogue's rows
// are one segment), from each row's constants (Epilogue::rq or worked out by the caller).
void requant_rows_avx512(const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg, int64_t nseg, const RequantRowParams* rq,
                         uint8_t* out, int64_t rs);
void float_rows_avx512(const Epilogue& e, const int32_t* C, int64_t ldc, int64_t M, const EpilogueSegment* seg, int64_t nseg,
                       float* out, int64_t rs);

}  // namespace qfrt
