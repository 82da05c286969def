// Fused fake-quantization ops for quantization-aware training.
//
// Each op is a torch::autograd::Function whose forward and backward are each one pass over memory
// (OpenMP across cores, SIMD within a core), instead of the several elementwise ATen ops a composed
// quantizer costs. The math is PyTorch 1.13's CPU math, so a model trained here and one trained with
// torch.ao.quantization see the same numbers (tests/quant/test_fake_quant.cpp checks it against goldens
// written by PyTorch itself):
//
//   forward:  q = float(zp) + nearbyint(x * inv),  inv = 1.0f / scale   (float32 arithmetic)
//             y = (clamp(q, qmin, qmax) - zp) * scale
//   fake_quant_affine backward:  dx = dy * (qmin <= q <= qmax)            (no gradient to scale, zp)
//   lsq_fake_quant backward (torch._fake_quantize_learnable_per_{tensor,channel}_affine):
//             q' = nearbyint(x * inv + zp'),  dx = dy * (qmin <= q' <= qmax)
//             dscale = dy * ((clamp(q') - zp') * scale - x) * inv   inside the range,
//                      dy * (qmin - zp') below it, dy * (qmax - zp') above it;
//             dzp    = 0 inside, -dy * scale outside;
//             both times grad_factor and summed over the tensor (per-tensor) or over every dimension
//             but `axis` (per-channel), in double.
//
// Zero points. fake_quant_affine takes integer-valued zero points (an integer tensor, or a float one,
// which is rounded to nearest). lsq_fake_quant learns a float zero point and, like PyTorch, rounds it:
// forward zp = clamp(nearbyint(zp)); backward zp' = the same per channel, but per tensor
// zp' = trunc(clamp(zp + 0.5)) (so -1.5 is -2 forward and -1 backward: a PyTorch quirk kept for exactness).
//
// Out-of-range values follow PyTorch on x86: a q that is NaN or beyond +-2^63 (x = +-inf, NaN) converts
// to INT64_MIN, i.e. it is clamped to qmin and counts as below the range.
//
// Arguments: x float32, any layout (made contiguous). axis = -1: per tensor, scale and zero_point hold one
// element; axis >= 0: per channel along that dimension, x.size(axis) elements each. quant_min <= quant_max,
// both within +-2^23; lsq_fake_quant also needs quant_min <= 0 <= quant_max, as PyTorch does. Gradients
// for scale and zero_point come back in their shapes. Bad arguments throw std::invalid_argument naming them.
#pragma once
#include <ATen/ATen.h>

namespace qforge::quant {

// torch.fake_quantize_per_tensor_affine (axis = -1) / torch.fake_quantize_per_channel_affine.
at::Tensor fake_quant_affine(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                             int64_t quant_min, int64_t quant_max, int64_t axis = -1);

// LSQ / LSQ+ (Esser et al. 2020; Bhalgat et al. 2020): torch._fake_quantize_learnable_per_tensor_affine
// (axis = -1) / _per_channel_affine, with gradients for x, scale and zero_point.
at::Tensor lsq_fake_quant(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& zero_point,
                          int64_t quant_min, int64_t quant_max, int64_t axis = -1, double grad_factor = 1.0);

}  // namespace qforge::quant
