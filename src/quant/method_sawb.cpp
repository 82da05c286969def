// Statistics-aware weight binning (Choi et al. 2019, "Accurate and Efficient 2-bit Quantized Neural
// Networks", section 3.1): the clip scale comes from the weights' first and second moments,
//   alpha* = c1 * sqrt(E[w^2]) - c2 * E[|w|],
// with per-bit coefficients (sawb_coefficients), then symmetric uniform quantization with 2^b levels
// on [-alpha, alpha], as the paper does (2 bits: {-alpha, -alpha/3, alpha/3, alpha}; no zero level):
//   w_q = round((clip(w, -alpha, alpha) + alpha) / step) * step - alpha,  step = 2 alpha / (2^b - 1).
// Weights only, 2..8 bits, per output channel (per_channel) or per tensor (the paper's per layer).
// Gradient: straight-through inside [-alpha, alpha], zero outside (the authors' SAWB STE).
// State: "scale" = alpha ([C] or 0-d), recomputed from the weights at every forward.
#include "methods_binary.h"

namespace qforge::quant {

using namespace binary_detail;

// 2..5 bits: Table 1 of the paper. 8 bits: the authors' reference code (IBM fms-model-optimizer,
// sawb_params). 6, 7 bits (not in the paper): fitted here by the paper's procedure, the linear
// regression of the MSE-optimal clip of the 2^b-level grid against E|w| / sqrt(E w^2) over unit-variance
// Gaussian, Laplace, uniform, logistic and triangular distributions; the same fit gives
// 3.17/2.13, 7.44/6.81, 12.15/12.17, 17.11/17.89 and 32.85/36.30 for 2, 3, 4, 5 and 8 bits.
std::pair<double, double> sawb_coefficients(int bits) {
  switch (bits) {
    case 2: return {3.212, 2.178};
    case 3: return {7.509, 6.892};
    case 4: return {12.68, 12.80};
    case 5: return {17.74, 18.64};
    case 6: return {22.24, 23.86};
    case 7: return {27.49, 30.01};
    case 8: return {31.76, 35.04};
    default: throw std::runtime_error("sawb: no coefficients for " + std::to_string(bits) + " bits (2..8)");
  }
}

namespace {
class Sawb : public QuantMethod {
 public:
  std::string name() const override { return "sawb"; }
  bool supports(Role r) const override { return r == Role::Weight; }
  int min_bits() const override { return 2; }
  int max_bits() const override { return 8; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    if (r != Role::Weight) throw std::runtime_error(name() + ": quantizes weights only");
    sawb_coefficients(c.bits);
    return {state_spec("scale", c.per_channel, shape, 1.f)};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    store(p.at(0), clip_scale(x.detach(), c), "scale");
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    const at::Tensor xd = x.detach();
    const at::Tensor alpha = clip_scale(xd, c);
    store(p.at(0), alpha, "scale");
    const double n = static_cast<double>((int64_t{1} << c.bits) - 1);
    const at::Tensor step = 2 * alpha / n;
    const at::Tensor xn = weight_noise(xd, step, c, r, training);
    const at::Tensor q = ((at::minimum(at::maximum(xn, -alpha), alpha) + alpha) / step).round().clamp(0, n) * step - alpha;
    const at::Tensor inside = (xd.abs() <= alpha).to(x.scalar_type());
    return straight_through(x, q, inside);
  }

  // Uniform, mid-rise: y = (q - zero_point) * scale, q in [0, 2^b - 1], scale = 2 alpha / (2^b - 1),
  // zero_point = (2^b - 1) / 2 (a half-integer: the grid has no zero level).
  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    const double n = static_cast<double>((int64_t{1} << c.bits) - 1);
    GridSpec g;
    g.kind = GridSpec::Uniform;
    g.axis = c.per_channel && p.at(0).dim() > 0 ? 0 : -1;
    g.qmin = 0;
    g.qmax = static_cast<int64_t>(n);
    g.scale = p.at(0).detach() * (2.0 / n);
    g.zero_point = at::full_like(g.scale, n / 2);
    return g;
  }

 private:
  // alpha per channel (keepdim) or per tensor. A non-positive alpha (possible at high bit widths for
  // weights of nearly equal magnitude) falls back to max|w|.
  static at::Tensor clip_scale(const at::Tensor& w, const QuantizerConfig& c) {
    auto [c1, c2] = sawb_coefficients(c.bits);
    const at::Tensor e2 = reduce_mean(w * w, c.per_channel).sqrt();
    const at::Tensor e1 = reduce_mean(w.abs(), c.per_channel);
    at::Tensor alpha = c1 * e2 - c2 * e1;
    const at::Tensor mx = reduce_amax(w.abs(), c.per_channel);
    alpha = at::where(alpha > 0, alpha, mx);
    return at::where(alpha > 0, alpha, at::ones_like(alpha));
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_sawb_method() { return std::make_shared<Sawb>(); }

}  // namespace qforge::quant
