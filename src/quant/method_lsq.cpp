// LSQ (Esser et al. 2020, "Learned Step Size Quantization") and LSQ+ (Bhalgat et al. 2020).
//
// LSQ: x_q = round(clamp(x / s, -Qn, Qp)) * s with a learned step s, initialized to
// 2 <|x|> / sqrt(Qp) on the first tensor, and its gradient scaled by g = 1 / sqrt(N * Qp), where N
// is the number of weights (per output channel when per-channel) or of features per example.
// LSQ+: adds a learned offset for asymmetric activations (kept as a learned float zero point, the
// form torch._fake_quantize_learnable_per_tensor_affine uses). Its activation initialization (sec.
// 3.3) minimizes the first batch's quantization MSE over s and the offset: here a grid search over the
// clipping range [a min, b max] (option mse_init: 1); mse_init: 0 takes the plain range,
// s = (max - min) / (2^b - 1), zero point = qmin - min / s. Weights: s = max(|mu - 3 sd|, |mu + 3 sd|) / 2^(b-1).
#include <cmath>
#include <limits>
#include <tuple>

#include "grid.h"
#include "qforge/quant/fake_quant.h"
#include "qforge/quant/quant_noise.h"
#include "methods_uniform.h"

namespace qforge::quant {

namespace {
// The clipping range [lo, hi] (lo <= 0 <= hi) whose affine grid quantizes x with the least squared
// error, among [a lo, b hi] for a, b in {1/K, ..., 1} (a = 1 only when lo = 0). x: at most 2^16 values.
std::pair<double, double> mse_range(const at::Tensor& x, double lo, double hi, const IntRange& q) {
  constexpr int K = 32;
  at::Tensor v = x.flatten().to(at::kFloat);
  if (v.numel() > 65536) v = v.index_select(0, at::linspace(0, static_cast<double>(v.numel() - 1), 65536).to(at::kLong));
  at::Tensor b = at::linspace(1.0 / K, 1.0, K).to(at::kFloat).unsqueeze(1);  // [K, 1] candidate fractions of hi
  const int ka = lo < 0 ? K : 1;
  double best = std::numeric_limits<double>::infinity(), best_lo = lo, best_hi = hi;
  for (int ia = 0; ia < ka; ++ia) {
    const double l = lo < 0 ? lo * (ia + 1) / K : 0.0;
    at::Tensor h = b * std::max(hi, 1e-6);
    at::Tensor s = ((h - l) / static_cast<double>(q.qmax - q.qmin)).clamp_min(1e-12);
    at::Tensor z = static_cast<double>(q.qmin) - l / s;
    at::Tensor xq = ((v.unsqueeze(0) / s + z).round().clamp(q.qmin, q.qmax) - z) * s;
    at::Tensor err = (xq - v.unsqueeze(0)).pow(2).sum(1);
    const int64_t k = err.argmin().item<int64_t>();
    const double e = err[k].item<double>();
    if (e < best) best = e, best_lo = l, best_hi = h[k][0].item<double>();
  }
  return {best_lo, best_hi};
}

class Lsq : public QuantMethod {
 public:
  explicit Lsq(bool plus) : plus_(plus) {}
  std::string name() const override { return plus_ ? "lsq_plus" : "lsq"; }
  bool supports(Role) const override { return true; }
  std::map<std::string, double> default_options() const override {
    if (plus_) return {{"mse_init", 1.0}};
    return {};
  }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    const int64_t n = c.per_channel ? shape.at(0) : 1;
    const std::vector<int64_t> s{n};  // [1] per tensor: PyTorch's learnable ops index scale[0]
    const bool learn_offset = plus_ && r == Role::Activation;
    return {{"scale", ir::Tensor::floats(s, std::vector<float>(n, 1.f)), true},
            {"zero_point", ir::Tensor(ir::DType::Float32, s), learn_offset}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p) const override {
    const IntRange q = int_range(c.bits, c.is_signed);
    at::Tensor& scale = p.at(0);
    at::Tensor& zp = p.at(1);
    if (plus_ && r == Role::Activation) {
      double lo = std::min(0.0, x.min().item<double>()), hi = std::max(x.max().item<double>(), lo + 1e-6);
      if (c.options.at("mse_init") != 0) std::tie(lo, hi) = mse_range(x, lo, hi, q);
      const double s = (hi - lo) / static_cast<double>(q.qmax - q.qmin);
      scale.fill_(s);
      zp.fill_(static_cast<double>(q.qmin) - lo / s);
      return;
    }
    if (plus_ && r == Role::Weight) {  // LSQ+: s = max(|mu - 3 sigma|, |mu + 3 sigma|) / 2^(b-1)
      at::Tensor w = c.per_channel ? x.flatten(1) : x.flatten().unsqueeze(0);
      at::Tensor mu = w.mean(1), sd = w.std(1);
      scale.copy_(at::maximum((mu - 3 * sd).abs(), (mu + 3 * sd).abs()).view(scale.sizes()) / std::ldexp(1.0, c.bits - 1));
      return;
    }
    const double qp = static_cast<double>(q.qmax);
    at::Tensor mean_abs = c.per_channel ? x.abs().flatten(1).mean(1) : x.abs().mean();
    scale.copy_((2.0 * mean_abs / std::sqrt(qp)).clamp_min(1e-8).view(scale.sizes()));
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    const IntRange q = int_range(c.bits, c.is_signed);
    const int64_t per = c.per_channel ? x.numel() / x.size(0) : (r == Role::Weight ? x.numel() : x.numel() / x.size(0));
    const double g = 1.0 / std::sqrt(static_cast<double>(per) * static_cast<double>(q.qmax));
    // The fused op (LSQ gradients for step and zero point, PyTorch's math); NICE noise on weights in training.
    const at::Tensor xn = training && r == Role::Weight ? add_quant_noise(x, c.noise, p.at(0)) : x;
    return lsq_fake_quant(xn, p.at(0), p.at(1), q.qmin, q.qmax, c.per_channel ? 0 : -1, g);
  }

  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    const IntRange q = int_range(c.bits, c.is_signed);
    return uniform_grid(c, p.at(0), p.at(1).detach().round().clamp(q.qmin, q.qmax));  // the zero point used
  }

 private:
  bool plus_;
};
}  // namespace

std::shared_ptr<QuantMethod> make_lsq_method() { return std::make_shared<Lsq>(false); }
std::shared_ptr<QuantMethod> make_lsq_plus_method() { return std::make_shared<Lsq>(true); }

}  // namespace qforge::quant
