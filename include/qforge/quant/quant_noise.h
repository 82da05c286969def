// NICE-style noise injection (Baskin et al. 2018, "NICE: Noise Injection and Clamping Estimation for
// Neural Network Quantization"): during training a weight quantizer quantizes w + e instead of w, with
// e ~ U(-noise/2, noise/2) * step, where step is the spacing of the quantizer's grid at w. The recipe's
// `noise` key (0..1, a fraction of a step) selects it; the noise itself carries no gradient.
#pragma once
#include <ATen/ATen.h>

namespace qforge::quant {

// Returns w + (U(0, 1) - 1/2) * noise * step. `step` is 0-d, broadcastable against w, or [C] with
// C = w.size(0) (one step per output channel; reshaped to broadcast along axis 0). noise <= 0 returns w
// unchanged. d(result)/dw = 1. Callers apply it in training only.
at::Tensor add_quant_noise(const at::Tensor& w, double noise, const at::Tensor& step);

}  // namespace qforge::quant
