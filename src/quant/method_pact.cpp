// PACT (Choi et al. 2018, "PACT: Parameterized Clipping Activation for Quantized Neural Networks").
//
// Activations only. Forward (eq. 1-2): y = 0.5 (|x| - |x - alpha| + alpha) = clip(x, 0, alpha), then
// y_q = round(y * n / alpha) * alpha / n with n = 2^k - 1. Backward with the straight-through estimator
// (eq. 3): dy_q/dx = 1 for 0 <= x < alpha, else 0; dy_q/dalpha = 1 for x >= alpha, else 0 (the alpha/n
// scale inside the clipping range is not differentiated, as in the paper).
//
// Options:
// - alpha_init (default 10, the paper's initial clipping value): the initial alpha. alpha_init <= 0
//   initializes alpha from the first tensor instead (its maximum).
// - alpha_decay (default 0): the paper's L2 regularization of alpha (lambda_alpha, which the paper sets
//   to the weight decay). Quantizer parameters sit in their own optimizer group without weight decay, so
//   the penalty lambda/2 * alpha^2 is applied here: the backward adds alpha_decay * alpha to the gradient
//   of alpha (once per backward pass). The trainer must not add it again.
// Signed activations (an input not produced by a ReLU) use the symmetric extension: y = clip(x, -alpha,
// alpha), n = 2^(k-1) - 1 levels per side, dy_q/dalpha = sign(x) for |x| >= alpha.
// State: "alpha" (0-d, trainable).
#include <cmath>
#include <stdexcept>

#include "fake_quant_kernels.h"
#include "methods_learned.h"

namespace qforge::quant {

using namespace learned_detail;

namespace {

double pact_levels(int bits, bool is_signed) {
  return is_signed ? std::ldexp(1.0, bits - 1) - 1.0 : std::ldexp(1.0, bits) - 1.0;
}

// One fused pass each way (fake_quant_kernels): PACT sits on every activation of a PACT network, and the
// composed ATen version made five passes over the tensor forward and six backward.
struct PactFunction : public torch::autograd::Function<PactFunction> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& alpha,
                            int64_t bits, bool is_signed, double decay) {
    const double a = std::max(alpha.detach().item<double>(), 1e-8);
    const double n = pact_levels(static_cast<int>(bits), is_signed);
    const at::Tensor xc = x.detach().to(at::kFloat).contiguous();
    at::Tensor y = at::empty_like(xc);
    const auto af = static_cast<float>(a);
    fq::clipped_round(xc.data_ptr<float>(), y.data_ptr<float>(), xc.numel(), is_signed ? -af : 0.f, af,
                      static_cast<float>(n / a), static_cast<float>(a / n), at::get_num_threads());
    ctx->save_for_backward({xc, alpha.detach()});
    ctx->saved_data["a"] = a;
    ctx->saved_data["signed"] = is_signed;
    ctx->saved_data["decay"] = decay;
    return y.to(x.scalar_type());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor& x = saved[0];
    const at::Tensor& alpha = saved[1];
    const double a = ctx->saved_data["a"].toDouble();
    const bool is_signed = ctx->saved_data["signed"].toBool();
    const double decay = ctx->saved_data["decay"].toDouble();
    const at::Tensor dy = grad[0].to(at::kFloat).contiguous();
    at::Tensor dx = at::empty_like(dy);
    double ga = fq::pact_backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.data_ptr<float>(), x.numel(),
                                  static_cast<float>(a), is_signed, at::get_num_threads());
    if (decay != 0) ga += decay * alpha.item<double>();
    return {dx.to(grad[0].scalar_type()), at::full(alpha.sizes(), ga, alpha.options()), at::Tensor(), at::Tensor(),
            at::Tensor()};
  }
};

class Pact : public QuantMethod {
 public:
  std::string name() const override { return "pact"; }
  bool supports(Role r) const override { return r == Role::Activation; }
  std::map<std::string, double> default_options() const override { return {{"alpha_init", 10.0}, {"alpha_decay", 0.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>&) const override {
    check(c, r);
    const double init = option(c, "alpha_init", 10.0);
    return {{"alpha", ir::Tensor::floats({}, {static_cast<float>(init > 0 ? init : 1.0)}), true}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    if (option(c, "alpha_init", 10.0) > 0) return;
    const double m = c.is_signed ? x.abs().max().item<double>() : x.max().item<double>();
    assign(p.at(0), at::full({}, m > 0 && std::isfinite(m) ? m : 1.0, at::kDouble));
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool) const override {
    check(c, r);
    return PactFunction::apply(x, p.at(0), static_cast<int64_t>(c.bits), c.is_signed, option(c, "alpha_decay", 0.0));
  }

  // Unsigned: q in [0, 2^k - 1], scale alpha / (2^k - 1). Signed: q in [-(2^(k-1) - 1), 2^(k-1) - 1],
  // scale alpha / (2^(k-1) - 1). Zero point 0.
  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    const double n = pact_levels(c.bits, c.is_signed);
    GridSpec g;
    g.kind = GridSpec::Uniform;
    g.axis = -1;
    g.qmax = static_cast<int64_t>(n);
    g.qmin = c.is_signed ? -g.qmax : 0;
    g.scale = (p.at(0).detach().clamp_min(1e-8) / n).to(at::kFloat).reshape({});
    g.zero_point = at::zeros({}, at::kFloat);
    return g;
  }

 private:
  void check(const QuantizerConfig& c, Role r) const {
    if (r != Role::Activation) throw std::runtime_error("pact quantizes activations only");
    if (c.bits < min_bits() || c.bits > max_bits())
      throw std::runtime_error("pact: bits " + std::to_string(c.bits) + " is outside 2..8");
    if (option(c, "alpha_decay", 0.0) < 0) throw std::runtime_error("pact: option alpha_decay must be >= 0");
  }
};

}  // namespace

std::shared_ptr<QuantMethod> make_pact_method() { return std::make_shared<Pact>(); }

}  // namespace qforge::quant
