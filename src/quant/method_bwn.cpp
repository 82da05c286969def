// Binary-Weight-Networks (Rastegari et al. 2016, "XNOR-Net", section 3.1): W ~ alpha * B with
// B = sign(W) and alpha = mean|W| (eq. 5-6), one alpha per output channel (per_channel, the paper's
// "filter") or per tensor. Weights only, 1 bit.
//
// Gradient (option clip_grad, default 1): straight-through, dL/dW = dL/dW~ * 1{|W| <= 1} (the paper's
// sign gradient, from Hubara et al.); clip_grad 0 passes the gradient everywhere.
// Option scale_grad (default 0): 1 also differentiates through alpha = mean|W|, the paper's eq. for the
// real-valued weight's gradient: dL/dW_i = sign(W_i)/n * sum_j dL/dW~_j sign(W_j) + alpha * dL/dW~_i * ste_i.
// State: "scale" = alpha ([C] or 0-d), recomputed from the weights at every forward.
#include "methods_binary.h"

namespace qforge::quant {

namespace {
using namespace binary_detail;

class Bwn : public QuantMethod {
 public:
  std::string name() const override { return "bwn"; }
  bool supports(Role r) const override { return r == Role::Weight; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 1; }
  std::map<std::string, double> default_options() const override { return {{"clip_grad", 1.0}, {"scale_grad", 0.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    if (r != Role::Weight) throw std::runtime_error(name() + ": quantizes weights only");
    return {state_spec("scale", c.per_channel, shape, 1.f)};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    store(p.at(0), reduce_mean(x.detach().abs(), c.per_channel), "scale");
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    const at::Tensor xd = x.detach();
    const at::Tensor alpha = reduce_mean(xd.abs(), c.per_channel);
    store(p.at(0), alpha, "scale");
    const at::Tensor s = sign_pm1(weight_noise(xd, 2 * alpha, c, r, training));
    at::Tensor gmul;
    if (c.options.count("clip_grad") && c.options.at("clip_grad") != 0) gmul = (xd.abs() <= 1).to(x.scalar_type());
    if (c.options.count("scale_grad") && c.options.at("scale_grad") != 0)
      return reduce_mean(x.abs(), c.per_channel) * straight_through(x, s, gmul);
    return straight_through(x, alpha * s, gmul);
  }

  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    GridSpec g;
    g.kind = GridSpec::Codebook;
    g.axis = c.per_channel && p.at(0).dim() > 0 ? 0 : -1;
    g.qmin = 0;
    g.qmax = 1;  // indices into levels
    g.scale = p.at(0).detach().clone();
    g.levels = at::stack({-g.scale, g.scale}, -1);
    return g;
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_bwn_method() { return std::make_shared<Bwn>(); }

}  // namespace qforge::quant
