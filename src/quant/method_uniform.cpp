// Uniform quantization with a calibrated range and the straight-through estimator (Jacob et al.
// 2018; PyTorch's FakeQuantize with a min/max observer). Weights take their current min/max
// (per output channel when per-channel) at every step; activations track a moving average of the
// batch min/max in training (option momentum) and keep it in evaluation.
// Options: symmetric (1: zero point 0, range +-max|x|, the default; 0: affine, range [min, max]),
// momentum (moving-average factor for activation ranges, default 0.9), calibrated (1: the range
// was set by post-training calibration and stays fixed, for weights too; default 0).
#include "grid.h"
#include "qforge/quant/fake_quant.h"
#include "qforge/quant/quant_noise.h"
#include "methods_uniform.h"

namespace qforge::quant {

namespace {
class Uniform : public QuantMethod {
 public:
  std::string name() const override { return "uniform"; }
  bool supports(Role) const override { return true; }
  int max_bits() const override { return 16; }
  std::map<std::string, double> default_options() const override { return {{"symmetric", 1.0}, {"momentum", 0.9}, {"calibrated", 0.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role, const std::vector<int64_t>& shape) const override {
    const int64_t n = c.per_channel ? shape.at(0) : 1;
    const std::vector<int64_t> s{n};  // [1] per tensor: PyTorch's learnable ops index scale[0]
    return {{"scale", ir::Tensor::floats(s, std::vector<float>(n, 1.f)), false},
            {"zero_point", ir::Tensor(ir::DType::Float32, s), false},
            {"running_min", ir::Tensor(ir::DType::Float32, s), false},
            {"running_max", ir::Tensor::floats(s, std::vector<float>(n, 1.f)), false}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    auto [lo, hi] = range(x, c);
    p.at(2).copy_(lo.view(p.at(2).sizes()));
    p.at(3).copy_(hi.view(p.at(3).sizes()));
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    {
      at::NoGradGuard g;
      const bool calibrated = c.options.at("calibrated") != 0;
      if (r == Role::Weight && !calibrated) {
        initialize(x.detach(), c, r, p);
      } else if (r == Role::Activation && training && !calibrated) {
        auto [lo, hi] = range(x.detach(), c);
        const double m = c.options.at("momentum");
        p.at(2).mul_(m).add_(lo.view(p.at(2).sizes()), 1 - m);
        p.at(3).mul_(m).add_(hi.view(p.at(3).sizes()), 1 - m);
      }
      update_scale(c, p);
    }
    const IntRange q = int_range(c.bits, c.is_signed);
    // The fused op (straight-through gradient inside the range); NICE noise on weights in training.
    const at::Tensor xn = training && r == Role::Weight ? add_quant_noise(x, c.noise, p.at(0)) : x;
    return fake_quant_affine(xn, p.at(0), p.at(1), q.qmin, q.qmax, c.per_channel ? 0 : -1);
  }

  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    return uniform_grid(c, p.at(0), p.at(1));
  }

 private:
  static std::pair<at::Tensor, at::Tensor> range(const at::Tensor& x, const QuantizerConfig& c) {
    if (c.per_channel) {
      at::Tensor f = x.flatten(1);
      return {std::get<0>(f.min(1)), std::get<0>(f.max(1))};
    }
    return {x.min(), x.max()};
  }

  // scale / zero point from the tracked range; the range always includes 0 so zero is exact.
  static void update_scale(const QuantizerConfig& c, std::vector<at::Tensor>& p) {
    const IntRange q = int_range(c.bits, c.is_signed);
    at::Tensor lo = p.at(2).clamp_max(0), hi = p.at(3).clamp_min(0);
    if (c.options.at("symmetric") != 0) {
      at::Tensor amax = at::maximum(lo.abs(), hi);
      // signed: [-amax, amax] over [qmin, qmax]; unsigned: [0, amax]
      at::Tensor s = c.is_signed ? amax / ((q.qmax - q.qmin) / 2.0) : amax / static_cast<double>(q.qmax);
      p.at(0).copy_(s.clamp_min(1e-8));
      p.at(1).zero_();
    } else {
      at::Tensor s = ((hi - lo) / static_cast<double>(q.qmax - q.qmin)).clamp_min(1e-8);
      p.at(0).copy_(s);
      p.at(1).copy_((static_cast<double>(q.qmin) - lo / s).round().clamp(q.qmin, q.qmax));
    }
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_uniform_method() { return std::make_shared<Uniform>(); }

}  // namespace qforge::quant
