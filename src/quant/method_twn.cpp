// Ternary Weight Networks (Li, Zhang & Liu 2016): W ~ alpha * T, T in {-1, 0, +1} (eq. 5-7):
//   delta = 0.7 * E|W|,  T_i = sign(W_i) * 1{|W_i| > delta},  alpha = mean of |W_i| over |W_i| > delta,
// one delta/alpha per output channel (per_channel) or per tensor. Ternary is three levels, which take
// two bits: bits is fixed to 2. Option delta_factor (default 0.7, the paper's approximation).
// Gradient: straight-through (dL/dW = dL/dW~), as in the paper. State: "scale" (alpha) and "delta",
// recomputed from the weights at every forward.
#include "methods_binary.h"

namespace qforge::quant {

namespace {
using namespace binary_detail;

class Twn : public QuantMethod {
 public:
  std::string name() const override { return "twn"; }
  bool supports(Role r) const override { return r == Role::Weight; }
  int min_bits() const override { return 2; }
  int max_bits() const override { return 2; }
  std::map<std::string, double> default_options() const override { return {{"delta_factor", 0.7}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    if (r != Role::Weight) throw std::runtime_error(name() + ": quantizes weights only");
    factor(c);
    return {state_spec("scale", c.per_channel, shape, 1.f), state_spec("delta", c.per_channel, shape, 0.f)};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    auto [alpha, delta] = statistics(x.detach(), c);
    store(p.at(0), alpha, "scale");
    store(p.at(1), delta, "delta");
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    const at::Tensor xd = x.detach();
    auto [alpha, delta] = statistics(xd, c);
    store(p.at(0), alpha, "scale");
    store(p.at(1), delta, "delta");
    const at::Tensor xn = weight_noise(xd, alpha, c, r, training);
    const at::Tensor q = alpha * at::sign(xn) * (xn.abs() > delta).to(x.scalar_type());
    return straight_through(x, q);
  }

  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    GridSpec g;
    g.kind = GridSpec::Codebook;
    g.axis = c.per_channel && p.at(0).dim() > 0 ? 0 : -1;
    g.qmin = 0;
    g.qmax = 2;  // indices into levels
    g.scale = p.at(0).detach().clone();
    g.levels = at::stack({-g.scale, at::zeros_like(g.scale), g.scale}, -1);
    return g;
  }

 private:
  static double factor(const QuantizerConfig& c) {
    const double f = c.options.count("delta_factor") ? c.options.at("delta_factor") : 0.7;
    if (!(f >= 0.0 && f < 1.0)) throw std::runtime_error("twn: option delta_factor must be in [0, 1), got " + std::to_string(f));
    return f;
  }

  // {alpha, delta}, reduced per channel (keepdim) or per tensor.
  static std::pair<at::Tensor, at::Tensor> statistics(const at::Tensor& w, const QuantizerConfig& c) {
    const at::Tensor a = w.abs();
    const at::Tensor delta = factor(c) * reduce_mean(a, c.per_channel);
    const at::Tensor above = (a > delta).to(w.scalar_type());
    const at::Tensor alpha = reduce_sum(a * above, c.per_channel) / reduce_sum(above, c.per_channel).clamp_min(1);
    return {alpha, delta};
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_twn_method() { return std::make_shared<Twn>(); }

}  // namespace qforge::quant
