// QIL (Jung et al. 2019, "Learning to Quantize Deep Networks by Optimizing Quantization Intervals with
// Task Loss").
//
// A learned interval [c - d, c + d] (center c, distance d) maps the input to [0, 1] by the transformer
// (eq. 2-3), then a uniform discretizer rounds it (eq. 1) with the straight-through estimator:
//   weights:      T(w) = 0 for |w| < c - d, sign(w) for |w| > c + d, else sign(w) (alpha |w| + beta)^gamma
//   activations:  T(x) = 0 for x < c - d,   1 for x > c + d,           else alpha x + beta   (gamma = 1)
//   alpha = 0.5 / d, beta = -0.5 c / d + 0.5;   y = round(T * q_D) / q_D
// with q_D = 2^(N-1) - 1 for weights (2 bits: ternary) and 2^N - 1 for activations. c, d and (weights)
// the exponent gamma are trained by the task loss: their gradients flow through the transformer, the
// discretizer passes the gradient straight through; pruned (|w| < c - d) and clipped values get no
// gradient toward w.
// Signed activations (an input not produced by a ReLU) use the weight form with gamma = 1 and
// q_D = 2^(N-1) - 1.
//
// Initialization (the paper does not fix one; ours, from the first tensor): c = d = max|w| / 2 per
// output channel (per layer without per_channel) and gamma = 1, so the interval is [0, max|w|] and the
// transformer starts as w / max|w| (nothing pruned, nothing clipped); activations c = d = max(x) / 2.
//
// Option rescale (default 1): multiplies the output by (c + d), held constant in backward, so values
// keep the input's units (a network without BatchNorm after the layer, the float checkpoint QAT starts
// from, deployment). With BatchNorm after every quantized layer, as in the paper, the factor is
// absorbed and the gradients of c, d and gamma are the paper's up to that per-layer constant.
// rescale: 0 gives the paper's raw output ([-1, 1] for weights, [0, 1] for activations).
// State: "center", "distance" ([C] per channel or 0-d, trainable) and, weights only, "gamma".
#include <cmath>
#include <stdexcept>

#include "methods_learned.h"
#include "qforge/quant/quant_noise.h"

namespace qforge::quant {

using namespace learned_detail;

namespace {

class Qil : public QuantMethod {
 public:
  std::string name() const override { return "qil"; }
  bool supports(Role) const override { return true; }
  std::map<std::string, double> default_options() const override { return {{"rescale", 1.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    check(c);
    const bool pc = r == Role::Weight && c.per_channel;
    std::vector<ParamSpec> out{scalar_spec("center", pc, shape, 0.5f, true), scalar_spec("distance", pc, shape, 0.5f, true)};
    if (r == Role::Weight) out.push_back(scalar_spec("gamma", pc, shape, 1.f, true));
    return out;
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p) const override {
    const bool symmetric = r == Role::Weight || c.is_signed;
    const bool pc = r == Role::Weight && c.per_channel && p.at(0).dim() > 0;
    at::Tensor m = amax_per(symmetric ? x.abs() : x, pc).to(at::kDouble);
    m = at::where(at::isfinite(m) & (m > 0), m, at::ones_like(m));
    assign(p.at(0), m / 2);
    assign(p.at(1), m / 2);
    if (r == Role::Weight) assign(p.at(2), at::ones_like(m));
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check(c);
    const bool symmetric = r == Role::Weight || c.is_signed;
    const double qd = levels(c, r);
    const at::Tensor center = along_axis0(p.at(0), x);
    const at::Tensor dist = along_axis0(p.at(1), x).clamp_min(1e-8);
    const at::Tensor mag = symmetric ? x.abs() : x;
    // alpha |w| + beta = 0.5 (|w| - c) / d + 0.5, in [0, 1] inside the interval.
    const at::Tensor base = 0.5 * (mag - center) / dist + 0.5;
    at::Tensor t;
    if (r == Role::Weight) {
      const at::Tensor gamma = along_axis0(p.at(2), x).clamp_min(1e-3);
      // Clamping to [eps, 1] keeps pow and its gradients finite; outside the interval the result is
      // replaced by the exact 0 / 1 (no gradient there).
      const at::Tensor inner = base.clamp(1e-12, 1.0).pow(gamma);
      t = at::where(base <= 0, at::zeros_like(inner), at::where(base >= 1, at::ones_like(inner), inner));
    } else {
      t = base.clamp(0.0, 1.0);
    }
    if (symmetric) t = t * at::sign(x).detach();
    at::Tensor noisy = t.detach();
    if (training && r == Role::Weight && c.noise > 0)
      noisy = add_quant_noise(noisy, c.noise, at::full({}, 1.0 / qd, t.options()));
    const at::Tensor q = (noisy * qd).round().clamp(symmetric ? -qd : 0.0, qd) / qd;
    at::Tensor y = straight_through(t, q);
    if (option(c, "rescale", 1.0) != 0) y = y * (center + dist).detach();
    return y;
  }

  // The output is uniform whatever gamma is: y = q * scale, q in [-q_D, q_D] (weights, signed
  // activations) or [0, q_D], scale = (c + d) / q_D ([C] per channel) with rescale, else 1 / q_D.
  GridSpec grid(const QuantizerConfig& c, Role r, const std::vector<at::Tensor>& p) const override {
    const bool symmetric = r == Role::Weight || c.is_signed;
    const double qd = levels(c, r);
    GridSpec g;
    g.kind = GridSpec::Uniform;
    g.qmax = static_cast<int64_t>(qd);
    g.qmin = symmetric ? -g.qmax : 0;
    const bool pc = r == Role::Weight && c.per_channel && p.at(0).dim() > 0;
    g.axis = pc ? 0 : -1;
    if (option(c, "rescale", 1.0) != 0)
      g.scale = ((p.at(0).detach() + p.at(1).detach().clamp_min(1e-8)) / qd).to(at::kFloat);
    else
      g.scale = pc ? at::full({p.at(0).size(0)}, 1.0 / qd, at::kFloat) : at::full({}, 1.0 / qd, at::kFloat);
    g.zero_point = at::zeros_like(g.scale);
    return g;
  }

 private:
  static double levels(const QuantizerConfig& c, Role r) {
    const bool symmetric = r == Role::Weight || c.is_signed;
    return symmetric ? std::ldexp(1.0, c.bits - 1) - 1.0 : std::ldexp(1.0, c.bits) - 1.0;
  }
  void check(const QuantizerConfig& c) const {
    if (c.bits < min_bits() || c.bits > max_bits())
      throw std::runtime_error("qil: bits " + std::to_string(c.bits) + " is outside 2..8");
  }
};

}  // namespace

std::shared_ptr<QuantMethod> make_qil_method() { return std::make_shared<Qil>(); }

}  // namespace qforge::quant
