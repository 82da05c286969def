// HWGQ (Cai et al. 2017, "Deep Learning with Low Precision by Half-wave Gaussian Quantization").
//
// Activations only; the quantizer replaces the ReLU. Forward (eq. 10-11): Q(x) = 0 for x <= 0, else the
// level q_i whose cell (t_i, t_{i+1}] holds x (t_1 = 0, t_i = (q_{i-1} + q_i) / 2, t_{m+1} = inf), with
// m = 2^bits - 1 positive levels (2^bits values with 0). The levels are those of the half-normal: the
// paper quantizes the output of BatchNorm, assumed N(0, 1), whose positive half is the half-normal, so
// the levels are computed once, offline, and scaled:
// - uniform: 0 (default): the Lloyd-Max levels of the half-normal (half_normal_lloyd_max), a codebook.
// - uniform: 1: the paper's hardware-friendly variant and its released code: q_i = i * delta with delta
//   Lloyd-optimal under that constraint (half_normal_uniform_step; 2 bits: 0.538).
// Scale (option calibrate): the paper's levels assume unit variance after BatchNorm.
// - 0: sigma = 1 (the paper's assumption).
// - 1 (default): sigma fitted once on the first tensor as sqrt(E[x^2 | x > 0]) (the scale of the
//   Gaussian whose positive half the input is), for inputs whose BatchNorm has learned affine terms.
// - 2: as 1, then a running estimate updated in every training forward (momentum option, default 0.9,
//   the weight of the old value), used as is in evaluation.
// Backward (option backward; the paper's section 4): the gradient of
// - 0: the clipped ReLU: 1 on (0, q_m], 0 elsewhere (q_m = the largest level), the released code's default;
// - 1: the log-tailed ReLU: 1 on (0, q_m], 1 / (x - tau) for x > q_m with tau = q_m - 1, 0 for x <= 0
//   (in units of sigma);
// - 2: the vanilla ReLU: 1 for x > 0.
// Bits 1..8. The input must be non-negative by construction (after a ReLU): a signed section is rejected
// (set signed: false to let HWGQ rectify it). State: "scale" (sigma, 0-d, not trainable).
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <stdexcept>

#include "methods_learned.h"

namespace qforge::quant {

using namespace learned_detail;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double pdf(double x) { return std::isinf(x) ? 0.0 : std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }
double upper_tail(double x) { return std::isinf(x) ? 0.0 : 0.5 * std::erfc(x / std::sqrt(2.0)); }  // 1 - Phi(x)

// Inverse of the standard normal CDF (bisection; only used for a starting point).
double inv_cdf(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 200; ++i) {
    const double mid = 0.5 * (lo + hi);
    (1.0 - upper_tail(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::vector<double> compute_lloyd_max(int m) {
  // Start from the asymptotically optimal point density (proportional to p^(1/3): a half-normal of
  // scale sqrt(3)), then alternate the threshold and centroid conditions.
  std::vector<double> q(static_cast<size_t>(m)), t(static_cast<size_t>(m) + 1);
  for (int i = 0; i < m; ++i) q[static_cast<size_t>(i)] = std::sqrt(3.0) * inv_cdf(0.5 + 0.5 * (i + 0.5) / m);
  for (int it = 0; it < 2000000; ++it) {
    t[0] = 0;
    for (int i = 1; i < m; ++i) t[static_cast<size_t>(i)] = 0.5 * (q[static_cast<size_t>(i) - 1] + q[static_cast<size_t>(i)]);
    t[static_cast<size_t>(m)] = kInf;
    double change = 0;
    for (int i = 0; i < m; ++i) {
      const double a = t[static_cast<size_t>(i)], b = t[static_cast<size_t>(i) + 1];
      const double mass = upper_tail(a) - upper_tail(b);
      if (!(mass > 0)) continue;
      const double c = (pdf(a) - pdf(b)) / mass;
      change = std::max(change, std::abs(c - q[static_cast<size_t>(i)]));
      q[static_cast<size_t>(i)] = c;
    }
    if (change < 1e-13) break;
  }
  return q;
}

double compute_uniform_step(int m) {
  double delta = 1.0;
  for (int it = 0; it < 100000; ++it) {
    // Cells: (0, 1.5 delta] -> delta, ((i - 0.5) delta, (i + 0.5) delta] -> i delta, ..., last open.
    double num = 0, den = 0;
    for (int i = 1; i <= m; ++i) {
      const double a = i == 1 ? 0.0 : (i - 0.5) * delta, b = i == m ? kInf : (i + 0.5) * delta;
      num += i * (pdf(a) - pdf(b));                  // i * integral of x p(x) (up to the common factor 2)
      den += double(i) * i * (upper_tail(a) - upper_tail(b));  // i^2 * integral of p(x)
    }
    const double next = num / den;
    if (std::abs(next - delta) < 1e-15) return next;
    delta = next;
  }
  return delta;
}

}  // namespace

std::vector<double> half_normal_lloyd_max(int levels) {
  if (levels < 1 || levels > 255) throw std::runtime_error("half_normal_lloyd_max: levels must be 1..255");
  static std::mutex mu;
  static std::map<int, std::vector<double>> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(levels);
  if (it == cache.end()) it = cache.emplace(levels, compute_lloyd_max(levels)).first;
  return it->second;
}

double half_normal_uniform_step(int levels) {
  if (levels < 1 || levels > 255) throw std::runtime_error("half_normal_uniform_step: levels must be 1..255");
  static std::mutex mu;
  static std::map<int, double> cache;
  std::lock_guard<std::mutex> lock(mu);
  auto it = cache.find(levels);
  if (it == cache.end()) it = cache.emplace(levels, compute_uniform_step(levels)).first;
  return it->second;
}

namespace {

class Hwgq : public QuantMethod {
 public:
  std::string name() const override { return "hwgq"; }
  bool supports(Role r) const override { return r == Role::Activation; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 8; }
  bool integer_grid(const QuantizerConfig& c) const override { return c.options.count("uniform") && c.options.at("uniform") != 0; }
  bool supports_signed() const override { return false; }
  std::map<std::string, double> default_options() const override {
    return {{"backward", 0.0}, {"uniform", 0.0}, {"calibrate", 1.0}, {"momentum", 0.9}};
  }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>&) const override {
    check(c, r);
    return {{"scale", ir::Tensor::floats({}, {1.f}), false}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role, std::vector<at::Tensor>& p) const override {
    if (calibrate(c) == 0) return;
    assign(p.at(0), at::full({}, half_wave_sigma(x), at::kDouble));
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check(c, r);
    if (training && calibrate(c) == 2) {
      const double mom = option(c, "momentum", 0.9);
      const double s = p.at(0).item<double>();
      assign(p.at(0), at::full({}, mom * s + (1 - mom) * half_wave_sigma(x), at::kDouble));
    }
    const double sigma = std::max(p.at(0).item<double>(), 1e-12);
    const std::vector<double> unit = unit_levels(c);
    const at::Tensor lv = positive_levels(unit, sigma, x.scalar_type());
    const at::Tensor xd = x.detach();
    at::Tensor q;
    if (lv.numel() == 1) {
      q = at::where(xd > 0, lv.reshape({}), at::zeros_like(xd));
    } else {
      const at::Tensor thr = midpoints(lv);
      // bucketize (right = false): index i with thr[i-1] < x <= thr[i]: the cell (t_i, t_{i+1}].
      const at::Tensor idx = at::bucketize(xd.contiguous(), thr);
      q = at::where(xd > 0, lv.index_select(0, idx.flatten()).view_as(xd), at::zeros_like(xd));
    }
    const double qm = unit.back() * sigma;
    const int bw = backward_kind(c);
    at::Tensor gmul;
    if (bw == 2) {
      gmul = (xd > 0).to(x.scalar_type());
    } else {
      gmul = ((xd > 0) & (xd <= qm)).to(x.scalar_type());
      if (bw == 1) {
        const double tau = unit.back() - 1.0;  // log-tailed: q_m + log(u - tau) for u = x / sigma > q_m
        const at::Tensor tail = 1.0 / (xd / sigma - tau).clamp_min(1.0);
        gmul = at::where(xd > qm, tail, gmul);
      }
    }
    return straight_through(x, q, gmul);
  }

  // uniform 0: codebook {0, sigma q_1, ..., sigma q_m}; uniform 1: uniform grid q in [0, m], scale sigma delta.
  GridSpec grid(const QuantizerConfig& c, Role, const std::vector<at::Tensor>& p) const override {
    const double sigma = std::max(p.at(0).item<double>(), 1e-12);
    const int64_t m = (int64_t{1} << c.bits) - 1;
    GridSpec g;
    g.axis = -1;
    g.qmin = 0;
    g.qmax = m;
    if (option(c, "uniform", 0.0) != 0) {
      g.kind = GridSpec::Uniform;
      g.scale = at::full({}, sigma * half_normal_uniform_step(static_cast<int>(m)), at::kFloat);
      g.zero_point = at::zeros({}, at::kFloat);
      return g;
    }
    // The same float32 tensors evaluation rounds with; boundaries 0 (x <= 0 -> 0) then the midpoints.
    g.kind = GridSpec::Codebook;
    const at::Tensor lv = positive_levels(unit_levels(c), sigma, at::kFloat);
    const at::Tensor zero = at::zeros({1}, at::kFloat);
    g.levels = at::cat({zero, lv});
    g.thresholds = lv.numel() > 1 ? at::cat({zero, midpoints(lv)}) : zero;
    g.scale = at::full({}, sigma, at::kFloat);
    return g;
  }

 private:
  // sigma q_1 < ... < sigma q_m in dtype, and the boundaries between neighbours.
  static at::Tensor positive_levels(const std::vector<double>& unit, double sigma, at::ScalarType dt) {
    return at::tensor(unit, at::TensorOptions().dtype(at::kDouble)).to(dt) * sigma;
  }
  static at::Tensor midpoints(const at::Tensor& lv) { return (0.5 * (lv.slice(0, 0, -1) + lv.slice(0, 1))).contiguous(); }
  static std::vector<double> unit_levels(const QuantizerConfig& c) {
    const int m = (1 << c.bits) - 1;
    if (option(c, "uniform", 0.0) == 0) return half_normal_lloyd_max(m);
    const double d = half_normal_uniform_step(m);
    std::vector<double> v;
    for (int i = 1; i <= m; ++i) v.push_back(i * d);
    return v;
  }
  static int calibrate(const QuantizerConfig& c) { return static_cast<int>(option(c, "calibrate", 1.0)); }
  static int backward_kind(const QuantizerConfig& c) { return static_cast<int>(option(c, "backward", 0.0)); }

  void check(const QuantizerConfig& c, Role r) const {
    if (r != Role::Activation) throw std::runtime_error("hwgq quantizes activations only");
    if (c.bits < min_bits() || c.bits > max_bits())
      throw std::runtime_error("hwgq: bits " + std::to_string(c.bits) + " is outside 1..8");
    if (c.is_signed)
      throw std::runtime_error(
          "hwgq quantizes half-wave rectified (non-negative) activations; this input is signed (set signed: false "
          "to let HWGQ act as the ReLU)");
    auto is_int_in = [](double v, int lo, int hi) { return v == std::floor(v) && v >= lo && v <= hi; };
    if (!is_int_in(option(c, "backward", 0.0), 0, 2))
      throw std::runtime_error("hwgq: option backward must be 0 (clipped ReLU), 1 (log-tailed ReLU) or 2 (ReLU)");
    if (!is_int_in(option(c, "uniform", 0.0), 0, 1))
      throw std::runtime_error("hwgq: option uniform must be 0 (Lloyd-Max levels) or 1 (uniform levels)");
    if (!is_int_in(option(c, "calibrate", 1.0), 0, 2))
      throw std::runtime_error("hwgq: option calibrate must be 0 (unit variance), 1 (first batch) or 2 (running)");
    const double mom = option(c, "momentum", 0.9);
    if (!(mom >= 0 && mom <= 1)) throw std::runtime_error("hwgq: option momentum must be in [0, 1]");
  }
};

}  // namespace

std::shared_ptr<QuantMethod> make_hwgq_method() { return std::make_shared<Hwgq>(); }

}  // namespace qforge::quant
