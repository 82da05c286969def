// XNOR-Net (Rastegari et al. 2016, section 3.2): binary weights and binary activations.
// - Weights: exactly Binary-Weight-Networks (method_bwn.cpp): alpha * sign(W), alpha = mean|W| per
//   output channel or per tensor, options clip_grad and scale_grad as there.
// - Activations: sign(x) in {-1, +1} (sign(0) = +1). The paper's activation scale K (mean |I| over
//   channels, box-filtered by the kernel size) is a per-position factor of the convolution output;
//   it is left to the following BatchNorm here, as in Bi-Real Net and most reproductions.
//   Unsigned inputs (signed: false, e.g. after a ReLU) binarize to {0, 1} at x = 1/2, i.e.
//   (sign(2x - 1) + 1) / 2, so the binary code is not constant.
//   Option gradient: 0 = straight-through with the |u| <= 1 clip (hardtanh's gradient, the paper's);
//   1 = Bi-Real Net's approximate sign (Liu et al. 2018): d/du = 2 + 2u on [-1, 0), 2 - 2u on [0, 1),
//   0 elsewhere; u = x (signed) or 2x - 1 (unsigned).
#include "methods_binary.h"

#include <cmath>

namespace qforge::quant {

namespace {
using namespace binary_detail;

class Xnor : public QuantMethod {
 public:
  std::string name() const override { return "xnor"; }
  bool supports(Role) const override { return true; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 1; }
  std::map<std::string, double> default_options() const override {
    return {{"gradient", 0.0}, {"clip_grad", 1.0}, {"scale_grad", 0.0}};
  }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    gradient_mode(c);
    if (r == Role::Weight) return bwn_->params(c, r, shape);
    return {};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p) const override {
    if (r == Role::Weight) bwn_->initialize(x, c, r, p);
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    if (r == Role::Weight) return bwn_->forward(x, c, r, p, training);
    const int mode = gradient_mode(c);
    const at::Tensor xd = x.detach();
    const at::Tensor u = c.is_signed ? xd : 2 * xd - 1;
    at::Tensor q = sign_pm1(u);
    if (!c.is_signed) q = (q + 1) * 0.5;
    const at::Tensor gmul = mode == 0 ? (u.abs() <= 1).to(x.scalar_type()) : (2 - 2 * u.abs()).clamp_min(0);
    return straight_through(x, q, gmul);
  }

  GridSpec grid(const QuantizerConfig& c, Role r, const std::vector<at::Tensor>& p) const override {
    if (r == Role::Weight) return bwn_->grid(c, r, p);
    GridSpec g;
    g.kind = GridSpec::Codebook;
    g.axis = -1;
    g.qmin = 0;
    g.qmax = 1;
    g.scale = at::ones({}, at::kFloat);
    g.levels = c.is_signed ? at::tensor({-1.f, 1.f}) : at::tensor({0.f, 1.f});
    // The codebook rule is levels[count(thresholds < x)]: ties go to the lower level, sign() sends 0 (and
    // 1/2 unsigned) to the upper one, so the boundary is the float just below.
    g.thresholds = at::tensor({std::nextafter(c.is_signed ? 0.f : 0.5f, -1.f)});
    return g;
  }

 private:
  std::shared_ptr<QuantMethod> bwn_ = make_bwn_method();

  static int gradient_mode(const QuantizerConfig& c) {
    const double g = c.options.count("gradient") ? c.options.at("gradient") : 0.0;
    if (g != 0.0 && g != 1.0)
      throw std::runtime_error("xnor: option gradient must be 0 (straight-through, |x| <= 1) or 1 (Bi-Real approximate sign), got " +
                               std::to_string(g));
    return static_cast<int>(g);
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_xnor_method() { return std::make_shared<Xnor>(); }

}  // namespace qforge::quant
