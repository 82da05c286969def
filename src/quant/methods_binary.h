// Factories of the binary, ternary and low-bit weight methods (bwn, xnor, twn, pow2, sawb, dorefa),
// the reusable grid math some of them expose (the INQ power-of-two grid, SAWB's coefficients), and
// the small helpers they share (per-channel reductions, the straight-through estimator).
//
// Conventions shared by these methods:
// - Per-channel state is one value per output channel (axis 0 of the weight), stored as a [C]
//   initializer; per-tensor state is a 0-d initializer. All state is non-trainable: it is recomputed
//   from the weights (or fixed at initialization, pow2) and kept so checkpoints, `inspect` and
//   deployment (grid()) can read it.
// - Binary sign is sign(0) = +1, so a binary quantizer always has exactly two levels.
// - The config's `noise` (NICE-style, weights, training only) quantizes w + U(-noise/2, noise/2) * step,
//   where step is the spacing of the method's grid around w; the gradient is unchanged.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "qforge/quant/method.h"
#include "qforge/quant/quant_noise.h"
#include "straight_through.h"

namespace qforge::quant {

std::shared_ptr<QuantMethod> make_bwn_method();     // Rastegari 2016, Binary-Weight-Networks
std::shared_ptr<QuantMethod> make_xnor_method();    // Rastegari 2016, XNOR-Net (+ Bi-Real's gradient)
std::shared_ptr<QuantMethod> make_twn_method();     // Li 2016, Ternary Weight Networks
std::shared_ptr<QuantMethod> make_pow2_method();    // Zhou 2017, the INQ power-of-two grid
std::shared_ptr<QuantMethod> make_sawb_method();    // Choi 2019, statistics-aware weight binning
std::shared_ptr<QuantMethod> make_dorefa_method();  // Zhou 2016, DoReFa-Net

// ---- The INQ power-of-two grid (Zhou et al. 2017, eq. 2-4) -------------------------------------------
// With b bits (one of them for zero/sign) the values are {0} and +-2^k for k in [n2, n1]:
//   n1 = floor(log2(4 s / 3)), s = max|w|;   n2 = n1 + 1 - 2^(b-2)   (2^(b-1) + 1 values in all).
// Rounding follows INQ: |w| in [(a+b)/2, 3b/2) -> b for adjacent levels a < b, i.e. to the nearest
// level, ties away from zero; |w| < 2^n2 / 2 -> 0.

// Number of exponents 2^(bits-2) (bits >= 2).
int64_t pow2_exponent_count(int bits);
// n1 per output channel ([C], per_channel) or per tensor (0-d), as a float tensor of integers.
// An all-zero tensor (or channel) gets n1 = 0.
at::Tensor pow2_n1(const at::Tensor& w, bool per_channel);
// Quantizes w to the grid given n1 (0-d, or [C] broadcast along axis 0). No gradient is defined.
at::Tensor pow2_quantize(const at::Tensor& w, const at::Tensor& n1, int bits);
// The sorted codebook: [2^(b-1) + 1] for a 0-d n1, [C, 2^(b-1) + 1] for a [C] n1.
at::Tensor pow2_levels(const at::Tensor& n1, int bits);

// ---- SAWB (Choi et al. 2019) ------------------------------------------------------------------------
// alpha* = c1 * sqrt(E[w^2]) - c2 * E[|w|]; returns {c1, c2} for 2..8 bits (throws otherwise).
// 2-5 bits: the paper's table; 8: the authors' reference code (IBM fms-model-optimizer); 6, 7: fitted
// here with the paper's procedure (see method_sawb.cpp).
std::pair<double, double> sawb_coefficients(int bits);

// ---- DoReFa gradient quantization (Zhou et al. 2016, eq. 12) -------------------------------------------
// dr_q = 2 max0|dr| [ quantize_k( dr / (2 max0|dr|) + 1/2 + N(k) ) - 1/2 ], N(k) = U(-1/2, 1/2) / (2^k - 1),
// max0 over every axis but the first (the batch axis; over all of a 0-d or 1-D tensor); at most 2^k
// values per sample; unbiased (E[dr_q] = dr).
at::Tensor dorefa_quantize_gradient(const at::Tensor& dr, int bits);

namespace binary_detail {

// Reductions over every axis but the output channel (axis 0), keeping dims so the result broadcasts
// against w; per tensor they reduce to a 0-d tensor. A 1-D tensor is one value per channel.
inline std::vector<int64_t> channel_reduce_dims(const at::Tensor& x) {
  std::vector<int64_t> d;
  for (int64_t i = 1; i < x.dim(); ++i) d.push_back(i);
  return d;
}
inline at::Tensor reduce_mean(const at::Tensor& x, bool per_channel) {
  if (!per_channel || x.dim() == 0) return x.mean();
  if (x.dim() == 1) return x;
  return x.mean(channel_reduce_dims(x), /*keepdim=*/true);
}
inline at::Tensor reduce_sum(const at::Tensor& x, bool per_channel) {
  if (!per_channel || x.dim() == 0) return x.sum();
  if (x.dim() == 1) return x;
  return x.sum(channel_reduce_dims(x), /*keepdim=*/true);
}
inline at::Tensor reduce_amax(const at::Tensor& x, bool per_channel) {
  if (!per_channel || x.dim() == 0) return x.max();
  if (x.dim() == 1) return x;
  return x.amax(channel_reduce_dims(x), /*keepdim=*/true);
}

// A reduced statistic in the shape of its parameter ([C] or 0-d).
inline at::Tensor to_param_shape(const at::Tensor& t, bool per_channel) {
  return per_channel ? t.reshape({-1}) : t.reshape({});
}
// A [C] or 0-d parameter shaped to broadcast against x along axis 0.
inline at::Tensor broadcast_param(const at::Tensor& p, const at::Tensor& x) {
  if (p.dim() == 0 || x.dim() <= 1) return p;
  std::vector<int64_t> s(static_cast<size_t>(x.dim()), 1);
  s[0] = p.numel();
  return p.reshape(s);
}
// Stores a statistic into a state tensor (no gradient), checking the channel count.
inline void store(at::Tensor& param, const at::Tensor& value, const char* what) {
  at::NoGradGuard g;
  if (value.numel() != param.numel())
    throw std::runtime_error(std::string("quantizer state '") + what + "' holds " + std::to_string(param.numel()) +
                             " values but the tensor has " + std::to_string(value.numel()) + " channels");
  param.copy_(value.detach().reshape(param.sizes()));
}

// Parameter specs: one value per output channel (shape[0]) or a 0-d scalar.
inline ParamSpec state_spec(const std::string& suffix, bool per_channel, const std::vector<int64_t>& shape, float init) {
  const int64_t n = per_channel && !shape.empty() ? shape[0] : 1;
  std::vector<int64_t> s = per_channel && !shape.empty() ? std::vector<int64_t>{n} : std::vector<int64_t>{};
  return {suffix, ir::Tensor::floats(s, std::vector<float>(static_cast<size_t>(n), init)), false};
}


// NICE-style noise for weights in training: w + U(-noise/2, noise/2) * step (no gradient effect).
inline at::Tensor weight_noise(const at::Tensor& w, const at::Tensor& step, const QuantizerConfig& c, Role r,
                               bool training) {
  if (!training || r != Role::Weight || c.noise <= 0) return w;
  return add_quant_noise(w, c.noise, step);
}

// sign with sign(0) = +1, in x's dtype.
inline at::Tensor sign_pm1(const at::Tensor& x) { return at::where(x >= 0, at::ones_like(x), -at::ones_like(x)); }

// Rejects a bit width the method cannot represent (resolve_quantizer normally catches it first).
inline void check_bits(const QuantMethod& m, const QuantizerConfig& c) {
  if (c.bits < m.min_bits() || c.bits > m.max_bits())
    throw std::runtime_error(m.name() + ": bits " + std::to_string(c.bits) + " is outside " +
                             std::to_string(m.min_bits()) + ".." + std::to_string(m.max_bits()));
}

}  // namespace binary_detail

}  // namespace qforge::quant
