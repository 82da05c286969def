// Raw-pointer fake-quantization loops behind include/qforge/quant/fake_quant.h. No libtorch here:
// fake_quant.cpp checks arguments and wraps these in autograd Functions.
#pragma once
#include <cstdint>

namespace qforge::quant::fq {

// x seen as [outer, channels, inner]; per-tensor is {1, 1, numel}.
struct Shape {
  int64_t outer = 1, channels = 1, inner = 0;
  int64_t numel() const { return outer * channels * inner; }
};

// Per-channel quantization parameters: arrays of `channels` floats.
struct Params {
  const float* scale = nullptr;
  const float* inv_scale = nullptr;   // 1.0f / scale, as PyTorch computes it
  const float* zero_point = nullptr;  // integer-valued
  float qmin = 0, qmax = 0;           // integers, |.| <= 2^23
  int threads = 1;
};

// y = (clamp(zp + nearbyint(x * inv)) - zp) * scale
void affine_forward(const float* x, float* y, const Shape& s, const Params& p);
// dx = dy * (q within [qmin, qmax]), q as in the forward.
void affine_backward(const float* x, const float* dy, float* dx, const Shape& s, const Params& p);
// LSQ backward (see fake_quant.h); dscale / dzero_point: `channels` doubles, overwritten with the sums.
void lsq_backward(const float* x, const float* dy, float* dx, double* dscale, double* dzero_point, const Shape& s,
                  const Params& p, float grad_factor);

// Clipped uniform rounding on a contiguous tensor of n floats (PACT's and DoReFa's activation forward):
// y = nearbyint(clamp(x, lo, hi) * mul) * step. PACT: [0 or -alpha, alpha], mul = float(levels / alpha),
// step = float(alpha / levels), as the composed ATen ops round them. NaN stays NaN.
void clipped_round(const float* x, float* y, int64_t n, float lo, float hi, float mul, float step, int threads);
// Straight-through gradient of a clip to the closed window [lo, hi]: dx = dy there, 0 elsewhere (DoReFa).
void window_backward(const float* x, const float* dy, float* dx, int64_t n, float lo, float hi, int threads);
// PACT backward (straight-through): writes dx, returns dalpha (without the L2 penalty).
double pact_backward(const float* x, const float* dy, float* dx, int64_t n, float alpha, bool is_signed,
                     int threads);

}  // namespace qforge::quant::fq
