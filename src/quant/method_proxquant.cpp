// ProxQuant (Bai et al. 2019, "ProxQuant: Quantized Neural Networks via Proximal Operators").
//
// ProxQuant trains the float weights with a proximal step toward the quantized set Q. For the squared
// distance regularizer lambda/2 ||w - Q(w)||^2 the proximal map is (w + lambda Q(w)) / (1 + lambda), i.e.
//   Q'(w) = a w + (1 - a) Q(w),   a = 1 / (1 + lambda),
// with lambda growing during training (the paper's homotopy), so a anneals from ~1 (float) to 0 (fully
// quantized). Here the map is applied in the forward pass (the FakeQuant op): the network sees Q'(w).
// Its gradient is the true one, a (Q is piecewise constant: no straight-through estimator, the paper's
// point); option ste: 1 passes the gradient straight through Q instead (gradient 1).
// - a: option `a` (initial mix, default 1), kept in the buffer "a" and multiplied by option `anneal`
//   (default 0.999) after every training forward (one per step). Evaluation uses the hard Q(w) (a = 0),
//   the network that deployment runs.
// - Q: the uniform symmetric grid {-n..n} * s, n = 2^(b-1) - 1, with the step fixed at initialization from
//   the first tensor, s = max|w| / n (per output channel with per_channel); 1 bit: the binary grid
//   {-s, s}, s = mean|w| (BinaryConnect with a scale, the paper's binary case).
// Limitation: Q is this fixed grid, not any registered method (a quantizer section names one method, and
// options are numbers): wrapping other methods would need a method per base.
// Weights only; bits 1..8. State: "scale" ([C] or 0-d) and "a" (0-d), both buffers.
#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "methods_learned.h"
#include "qforge/quant/quant_noise.h"

namespace qforge::quant {

using namespace learned_detail;

namespace {

class ProxQuant : public QuantMethod {
 public:
  std::string name() const override { return "proxquant"; }
  bool supports(Role r) const override { return r == Role::Weight; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 8; }
  std::map<std::string, double> default_options() const override { return {{"a", 1.0}, {"anneal", 0.999}, {"ste", 0.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    check(c, r);
    return {scalar_spec("scale", c.per_channel, shape, 1.f, false),
            {"a", ir::Tensor::floats({}, {static_cast<float>(option(c, "a", 1.0))}), false}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    const bool pc = c.per_channel && p.at(0).dim() > 0;
    at::Tensor s;
    if (c.bits == 1)
      s = pc ? x.abs().reshape({x.size(0), -1}).mean(1) : x.abs().mean();
    else
      s = amax_per(x.abs(), pc) / levels(c);
    s = s.to(at::kDouble);
    assign(p.at(0), at::where(at::isfinite(s) & (s > 0), s, at::ones_like(s)));
  }

  // Q(w) on the grid, without gradient.
  at::Tensor hard(const at::Tensor& w, const QuantizerConfig& c, const at::Tensor& scale) const {
    const at::Tensor s = along_axis0(scale.detach().to(w.scalar_type()).clamp_min(1e-12), w);
    if (c.bits == 1) return at::where(w >= 0, s, -s).expand_as(w).contiguous();
    const double n = levels(c);
    return (w / s).round().clamp(-n, n) * s;
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check(c, r);
    at::Tensor xd = x.detach();
    if (!training) return straight_through(x, hard(xd, c, p.at(0)));
    if (c.noise > 0) xd = add_quant_noise(xd, c.noise, c.bits == 1 ? 2 * p.at(0) : p.at(0));
    const at::Tensor q = hard(xd, c, p.at(0));
    const double a = std::clamp(p.at(1).item<double>(), 0.0, 1.0);
    const at::Tensor y = option(c, "ste", 0.0) != 0 ? a * x + (1 - a) * straight_through(x, q) : a * x + (1 - a) * q;
    assign(p.at(1), at::full({}, a * option(c, "anneal", 0.999), at::kDouble));
    return y;
  }

  // bits >= 2: uniform, q in [-n, n], scale s ([C] per channel, axis 0), zero point 0 (the hard Q).
  // 1 bit: codebook {-s, s}.
  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    GridSpec g;
    const at::Tensor s = p.at(0).detach().to(at::kFloat).clone();
    g.axis = s.dim() > 0 ? 0 : -1;
    g.scale = s;
    if (c.bits == 1) {
      g.kind = GridSpec::Codebook;
      g.qmin = 0;
      g.qmax = 1;
      g.levels = at::stack({-s, s}, -1);
      return g;
    }
    g.kind = GridSpec::Uniform;
    g.qmax = static_cast<int64_t>(levels(c));
    g.qmin = -g.qmax;
    g.zero_point = at::zeros_like(s);
    return g;
  }

 private:
  static double levels(const QuantizerConfig& c) { return std::ldexp(1.0, c.bits - 1) - 1.0; }
  void check(const QuantizerConfig& c, Role r) const {
    if (r != Role::Weight) throw std::runtime_error("proxquant quantizes weights only");
    if (c.bits < min_bits() || c.bits > max_bits())
      throw std::runtime_error("proxquant: bits " + std::to_string(c.bits) + " is outside 1..8");
    const double a = option(c, "a", 1.0), an = option(c, "anneal", 0.999);
    if (!(a >= 0 && a <= 1)) throw std::runtime_error("proxquant: option a must be in [0, 1]");
    if (!(an >= 0 && an <= 1)) throw std::runtime_error("proxquant: option anneal must be in [0, 1]");
  }
};

}  // namespace

std::shared_ptr<QuantMethod> make_proxquant_method() { return std::make_shared<ProxQuant>(); }

}  // namespace qforge::quant
