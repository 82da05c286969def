// Factories of the learned / data-fitted quantization methods (pact, qil, hwgq, lqnet, proxquant), the
// numerical pieces they expose for tests and deployment (HWGQ's half-normal Lloyd-Max levels), and the
// small helpers they share.
//
// Conventions shared by these methods:
// - Per-channel state (weights, per_channel: true) has one row per output channel (axis 0 of the
//   weight); per-tensor state is 0-d (or [K] for an LQ-Net basis).
// - Gradients use torch::autograd::Function subclasses built from plain ATen ops (these are not the
//   fused hot path): PACT's own backward, and a masked straight-through estimator for the others.
// - The config's `noise` (NICE-style, weights, training only) quantizes w + U(-noise/2, noise/2) * step
//   (add_quant_noise, quant_noise.h) where step is the spacing of the method's grid; activations ignore it.
#pragma once
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "qforge/quant/method.h"
#include "straight_through.h"

namespace qforge::quant {

std::shared_ptr<QuantMethod> make_pact_method();       // Choi et al. 2018, PACT
std::shared_ptr<QuantMethod> make_qil_method();        // Jung et al. 2019, QIL
std::shared_ptr<QuantMethod> make_hwgq_method();       // Cai et al. 2017, half-wave Gaussian quantization
std::shared_ptr<QuantMethod> make_lqnet_method();      // Zhang et al. 2018, LQ-Nets
std::shared_ptr<QuantMethod> make_proxquant_method();  // Bai et al. 2019, ProxQuant

// ---- HWGQ: quantizers of the half-normal (the positive half of N(0, 1)) --------------------------------
// Lloyd-Max: the `levels` reconstruction values q_1 < ... < q_m minimizing E[(x - Q(x))^2 | x > 0] for a
// unit Gaussian, found by iterating thresholds t_i = (q_{i-1} + q_i) / 2 (t_1 = 0, t_{m+1} = inf) and
// centroids q_i = (phi(t_i) - phi(t_{i+1})) / (Phi(t_{i+1}) - Phi(t_i)) to convergence. By symmetry these
// are the positive half of Max's (1960) table for 2m levels: m = 1: sqrt(2/pi) = 0.7979; m = 3: 0.3177,
// 1.0000, 1.8936. Cached; levels in 1..255.
std::vector<double> half_normal_lloyd_max(int levels);
// The same optimum under the uniform constraint q_i = i * delta (the quantizer the HWGQ paper and its
// released code use): returns delta. m = 1: 0.7979; m = 3: 0.5388 (the code's 0.538 / 1.076 / 1.614).
double half_normal_uniform_step(int levels);

namespace learned_detail {


// A [C] (or [C, ...]) parameter shaped to broadcast against x along axis 0; 0-d stays 0-d.
inline at::Tensor along_axis0(const at::Tensor& p, const at::Tensor& x) {
  if (p.dim() == 0 || x.dim() <= 1) return p;
  std::vector<int64_t> s(static_cast<size_t>(x.dim()), 1);
  s[0] = p.size(0);
  return p.reshape(s);
}

// Per output channel ([C]) or per tensor (0-d) reductions of x.
inline at::Tensor amax_per(const at::Tensor& x, bool per_channel) {
  if (!per_channel || x.dim() == 0) return x.max();
  return x.reshape({x.size(0), -1}).amax(1);
}

// Parameter spec: [C] per channel (shape[0]) or 0-d.
inline ParamSpec scalar_spec(const std::string& suffix, bool per_channel, const std::vector<int64_t>& shape, float init,
                             bool trainable) {
  if (per_channel && !shape.empty())
    return {suffix, ir::Tensor::floats({shape[0]}, std::vector<float>(static_cast<size_t>(shape[0]), init)), trainable};
  return {suffix, ir::Tensor::floats({}, {init}), trainable};
}

// Writes a statistic into a state tensor without recording it for autograd.
inline void assign(at::Tensor& param, const at::Tensor& value) {
  at::NoGradGuard g;
  param.copy_(value.detach().reshape(param.sizes()).to(param.scalar_type()));
}

inline double option(const QuantizerConfig& c, const std::string& key, double fallback) {
  auto it = c.options.find(key);
  return it == c.options.end() ? fallback : it->second;
}

// sqrt(E[x^2 | x > 0]): the scale of a Gaussian from its half-wave rectified samples (1 if none > 0).
inline double half_wave_sigma(const at::Tensor& x) {
  const at::Tensor pos = x.detach().to(at::kDouble).clamp_min(0);
  const double n = (pos > 0).sum().item<double>();
  if (n <= 0) return 1.0;
  const double s = std::sqrt(pos.pow(2).sum().item<double>() / n);
  return s > 0 && std::isfinite(s) ? s : 1.0;
}

}  // namespace learned_detail

}  // namespace qforge::quant
