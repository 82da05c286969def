// Power-of-two weights on the INQ grid (Zhou et al. 2017, "Incremental Network Quantization",
// section 3.1): values {0, +-2^n2, ..., +-2^n1} with n1 = floor(log2(4 s / 3)), s = max|W|, and
// n2 = n1 + 1 - 2^(b-2) (b bits, one of them for zero/sign), each weight rounded to the nearest level
// as INQ does (|W| < 2^n2 / 2 -> 0). The grid math is the free functions pow2_* (methods_binary.h);
// INQ's incremental partition schedule builds on them.
// Weights only, 2..8 bits (2 bits: {0, +-2^n1}). Per output channel (per_channel: one n1 per channel)
// or per tensor (the paper's per layer). Gradient: straight-through.
// Option fixed_range (default 1): n1 is computed once, at initialization from the starting weights
// (INQ fixes it from the pre-trained layer); 0 recomputes it at every training step.
// State: "n1" ([C] or 0-d).
#include "methods_binary.h"

namespace qforge::quant {

using namespace binary_detail;

int64_t pow2_exponent_count(int bits) {
  if (bits < 2 || bits > 30) throw std::runtime_error("pow2: bits must be 2 or more (one bit holds zero/sign), got " + std::to_string(bits));
  return int64_t{1} << (bits - 2);
}

namespace {
// floor(log2(v)) for v > 0, exact (from the binary exponent).
at::Tensor floor_log2(const at::Tensor& v) {
  auto [mantissa, exponent] = at::frexp(v);  // v = m * 2^e, m in [0.5, 1)
  (void)mantissa;
  return (exponent - 1).to(v.scalar_type());
}
}  // namespace

at::Tensor pow2_n1(const at::Tensor& w, bool per_channel) {
  const at::Tensor wd = w.detach();
  const at::Tensor s = to_param_shape(reduce_amax(wd.abs(), per_channel), per_channel);
  const at::Tensor n1 = floor_log2(s * 4.0 / 3.0);
  return at::where(s > 0, n1, at::zeros_like(n1));
}

at::Tensor pow2_quantize(const at::Tensor& w, const at::Tensor& n1, int bits) {
  const int64_t count = pow2_exponent_count(bits);
  const at::Tensor hi = broadcast_param(n1.to(w.scalar_type()), w);
  const at::Tensor lo = hi + static_cast<double>(1 - count);  // n2
  const at::Tensor a = w.abs();
  auto [mantissa, exponent] = at::frexp(a);
  // nearest power of two: 2^(e-1) <= a < 2^e; round up from 1.5 * 2^(e-1) (INQ: (a+b)/2 <= |w| -> b).
  at::Tensor k = (exponent - 1).to(w.scalar_type()) + (mantissa >= 0.75).to(w.scalar_type());
  k = at::minimum(at::maximum(k, lo), hi);
  const at::Tensor zero = a < at::exp2(lo - 1);
  return (at::sign(w) * at::exp2(k)).masked_fill(zero, 0.0);
}

at::Tensor pow2_levels(const at::Tensor& n1, int bits) {
  const int64_t count = pow2_exponent_count(bits);
  const at::Tensor n = n1.detach().to(at::kFloat);
  const at::Tensor steps = at::arange(count, n.options()) - static_cast<double>(count - 1);  // n2-n1 .. 0
  if (n.dim() == 0) {
    const at::Tensor pos = at::exp2(n + steps);
    return at::cat({-pos.flip({0}), at::zeros({1}, n.options()), pos});
  }
  const at::Tensor pos = at::exp2(n.reshape({-1, 1}) + steps.reshape({1, -1}));
  return at::cat({-pos.flip({1}), at::zeros({pos.size(0), 1}, n.options()), pos}, 1);
}

namespace {
class Pow2 : public QuantMethod {
 public:
  std::string name() const override { return "pow2"; }
  bool supports(Role r) const override { return r == Role::Weight; }
  int min_bits() const override { return 2; }
  int max_bits() const override { return 8; }
  bool integer_grid(const QuantizerConfig&) const override { return false; }
  std::map<std::string, double> default_options() const override { return {{"fixed_range", 1.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    if (r != Role::Weight) throw std::runtime_error(name() + ": quantizes weights only");
    return {state_spec("n1", c.per_channel, shape, 0.f)};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    store(p.at(0), pow2_n1(x, c.per_channel), "n1");
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    const at::Tensor xd = x.detach();
    const bool fixed = !c.options.count("fixed_range") || c.options.at("fixed_range") != 0;
    if (training && !fixed) store(p.at(0), pow2_n1(xd, c.per_channel), "n1");
    const at::Tensor n1 = p.at(0).detach();
    at::Tensor xn = xd;
    if (training && c.noise > 0) {
      // the spacing below each weight's level: 2^(k-1) for level 2^k, 2^n2 for the two smallest.
      const at::Tensor n2 = broadcast_param(n1.to(x.scalar_type()), xd) + static_cast<double>(1 - pow2_exponent_count(c.bits));
      const at::Tensor step = at::maximum(pow2_quantize(xd, n1, c.bits).abs() * 0.5, at::exp2(n2));
      xn = weight_noise(xd, step, c, r, training);
    }
    return straight_through(x, pow2_quantize(xn, n1, c.bits));
  }

  // PowerOfTwo: value = +-scale * 2^q for integer q in [qmin, qmax], or 0; scale = 2^n1,
  // qmin = n2 - n1 = 1 - 2^(bits-2), qmax = 0. levels: the full sorted codebook (rows per channel).
  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    GridSpec g;
    g.kind = GridSpec::PowerOfTwo;
    g.axis = c.per_channel && p.at(0).dim() > 0 ? 0 : -1;
    g.qmin = 1 - pow2_exponent_count(c.bits);
    g.qmax = 0;
    g.scale = at::exp2(p.at(0).detach().to(at::kFloat));
    g.levels = pow2_levels(p.at(0), c.bits);
    return g;
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_pow2_method() { return std::make_shared<Pow2>(); }

}  // namespace qforge::quant
