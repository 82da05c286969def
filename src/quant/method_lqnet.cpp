// LQ-Nets (Zhang et al. 2018, "LQ-Nets: Learned Quantization for Highly Accurate and Compact Deep
// Neural Networks").
//
// A learned basis v in R^K (K = bits) per layer (activations, and weights without per_channel) or per
// output channel (weights): the representable values are v^T b for the 2^K codes b in {-1, 1}^K
// (weights, and signed activations) or {0, 1}^K (unsigned activations); each value is quantized to the
// nearest of them (eq. 3-4). The gradient is passed straight through (eq. 5).
// The basis is fitted by the paper's Quantization Error Minimization (Algorithm 1) in every training
// forward, on the current tensor:
//   1. fix v, encode: B = argmin_B ||v^T B - x||^2 (the nearest level of each value);
//   2. fix B, solve the least squares v* = (B B^T)^-1 B x;
// and v <- ema v + (1 - ema) v* (option ema, default 0.9, the paper's moving average; ema = 1 freezes the
// basis). The output of a step uses the basis from before its update, as the authors' code does. A
// channel whose B B^T is singular (a code bit never used) keeps its basis for that step.
// Initialization (the authors' code, with the layer's own scale instead of He's sqrt(2 / fan_in)):
//   weights / signed: v_k = 2^k * Phi^-1(0.75) * sigma / 2^(K-1), sigma = RMS of w per channel (or layer);
//   unsigned:         v_k = 2^k * 2 Phi^-1(0.75) * sigma / (2^K - 1), sigma = sqrt(E[x^2 | x > 0]).
// Bits 1..8. State: "basis" ([C, K] per channel or [K], not trainable: QEM updates it).
#include <cmath>
#include <stdexcept>

#include "methods_learned.h"
#include "qforge/quant/quant_noise.h"

namespace qforge::quant {

using namespace learned_detail;

namespace {

constexpr double kNormPpf075 = 0.6744897501960817;  // Phi^-1(0.75)

// [2^K, K]: row l holds the bits of l (bit k in column k), as {0, 1} or {-1, 1}.
at::Tensor code_matrix(int k, bool pm1, at::ScalarType dt) {
  const int64_t n = int64_t{1} << k;
  at::Tensor c = at::empty({n, k}, at::kDouble);
  auto a = c.accessor<double, 2>();
  for (int64_t l = 0; l < n; ++l)
    for (int j = 0; j < k; ++j) {
      const double b = static_cast<double>((l >> j) & 1);
      a[l][j] = pm1 ? 2 * b - 1 : b;
    }
  return c.to(dt);
}

// The levels v^T b of each row, ascending, the code of each, and the decision boundaries between
// neighbours (their midpoints), all in dtype: the QDQ/packed export takes the same tensors the
// forward pass rounds with, so a deployed model rounds exactly as qforge evaluated it.
struct Codebook {
  at::Tensor sorted;  // [R, L]
  at::Tensor order;   // [R, L] code index (row of the code matrix) of each sorted level
  at::Tensor thr;     // [R, L - 1]
};
Codebook codebook_of(const at::Tensor& basis, const at::Tensor& codes, at::ScalarType dt) {
  const at::Tensor levels = basis.to(dt).matmul(codes.to(dt).t());  // [R, L]
  auto [sorted, order] = levels.sort(1);
  const at::Tensor thr = (0.5 * (sorted.slice(1, 0, -1) + sorted.slice(1, 1))).contiguous();
  return {sorted, order, thr};
}

struct Encoding {
  at::Tensor y;      // [R, M] quantized values
  at::Tensor code;   // [R, M] code index (row of the code matrix) of each value
  at::Tensor sorted; // [R, L] the levels, ascending
};

// x2: [R, M], basis: [R, K]. Nearest level of each value (ties to the lower one).
Encoding encode(const at::Tensor& x2, const at::Tensor& basis, const at::Tensor& codes) {
  const Codebook cb = codebook_of(basis, codes, x2.scalar_type());
  const at::Tensor pos = at::searchsorted(cb.thr, x2.contiguous());
  return {cb.sorted.gather(1, pos), cb.order.gather(1, pos), cb.sorted};
}

// One QEM least-squares step given the encoding; returns the fitted basis [R, K] and which rows are valid.
std::pair<at::Tensor, at::Tensor> qem_solve(const at::Tensor& x2, const at::Tensor& code, const at::Tensor& codes,
                                            int64_t rows) {
  const int64_t L = codes.size(0);
  const at::Tensor xd = x2.to(at::kDouble);
  const at::Tensor cd = codes.to(at::kDouble);
  const at::Tensor cnt = at::zeros({rows, L}, at::kDouble).scatter_add_(1, code, at::ones_like(xd));
  const at::Tensor sums = at::zeros({rows, L}, at::kDouble).scatter_add_(1, code, xd);
  const at::Tensor btb = (cd.t().unsqueeze(0) * cnt.unsqueeze(1)).matmul(cd);  // [R, K, K] = B B^T
  const at::Tensor btx = sums.matmul(cd);                                     // [R, K]     = B x
  const at::Tensor diag = btb.diagonal(0, 1, 2);
  const at::Tensor ratio = at::linalg_det(btb) / diag.prod(1);  // Hadamard ratio: 1 orthogonal, 0 singular
  const at::Tensor valid = at::isfinite(ratio) & (ratio > 1e-9) & (std::get<0>(diag.min(1)) > 0);
  const int64_t k = codes.size(1);
  const at::Tensor eye = at::eye(k, at::kDouble).unsqueeze(0);
  const at::Tensor safe = at::where(valid.view({rows, 1, 1}), btb, eye);
  const at::Tensor v = at::linalg_solve(safe, btx.unsqueeze(-1)).squeeze(-1);
  return {v, valid & at::isfinite(v).all(1)};
}

class LqNet : public QuantMethod {
 public:
  std::string name() const override { return "lqnet"; }
  bool supports(Role) const override { return true; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 8; }
  bool integer_grid(const QuantizerConfig&) const override { return false; }
  std::map<std::string, double> default_options() const override { return {{"ema", 0.9}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    check(c);
    const bool pc = per_channel(c, r, shape);
    const int64_t rows = pc ? shape[0] : 1;
    std::vector<float> v;
    for (int64_t i = 0; i < rows; ++i)
      for (int k = 0; k < c.bits; ++k) v.push_back(static_cast<float>(std::ldexp(1.0, k) / std::ldexp(1.0, c.bits)));
    std::vector<int64_t> s = pc ? std::vector<int64_t>{rows, c.bits} : std::vector<int64_t>{c.bits};
    return {{"basis", ir::Tensor::floats(s, v), false}};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p) const override {
    at::Tensor& basis = p.at(0);
    const int64_t rows = basis.dim() == 2 ? basis.size(0) : 1;
    const int k = c.bits;
    at::Tensor pow2 = at::pow(2.0, at::arange(k, at::kDouble));  // [K]
    at::Tensor v;
    if (pm1_codes(c, r)) {
      at::Tensor sigma = x.to(at::kDouble).reshape({rows, -1}).pow(2).mean(1).sqrt();  // [R]
      sigma = at::where(at::isfinite(sigma) & (sigma > 0), sigma, at::ones_like(sigma));
      v = (kNormPpf075 * sigma / std::ldexp(1.0, k - 1)).unsqueeze(1) * pow2.unsqueeze(0);
    } else {
      const double sigma = half_wave_sigma(x);
      v = (2 * kNormPpf075 * sigma / (std::ldexp(1.0, k) - 1)) * pow2.unsqueeze(0);
    }
    assign(basis, v);
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check(c);
    at::Tensor& basis = p.at(0);
    const int64_t rows = basis.dim() == 2 ? basis.size(0) : 1;
    if (basis.size(-1) != c.bits)
      throw std::runtime_error("lqnet: the basis holds " + std::to_string(basis.size(-1)) + " values, bits is " +
                               std::to_string(c.bits));
    const at::Tensor codes = code_matrix(c.bits, pm1_codes(c, r), at::kDouble);
    const at::Tensor b2 = basis.detach().reshape({rows, c.bits});
    const at::Tensor x2 = x.detach().reshape({rows, -1});
    Encoding e = encode(x2, b2, codes);
    at::Tensor y2 = e.y;
    if (training && r == Role::Weight && c.noise > 0) {
      const int64_t L = e.sorted.size(1);
      const at::Tensor step = (e.sorted.select(1, L - 1) - e.sorted.select(1, 0)) / static_cast<double>(L - 1);
      y2 = encode(add_quant_noise(x2, c.noise, step), b2, codes).y;
    }
    const double ema = option(c, "ema", 0.9);
    if (training && ema < 1) {
      auto [v, valid] = qem_solve(x2, e.code, codes, rows);
      const at::Tensor old = b2.to(at::kDouble);
      const at::Tensor next = at::where(valid.unsqueeze(1), ema * old + (1 - ema) * v, old);
      assign(basis, next);
    }
    return straight_through(x, y2.reshape(x.sizes()));
  }

  // Codebook: the 2^K levels, ascending, and their midpoints as boundaries ([C, 2^K] / [C, 2^K - 1]
  // rows per channel, axis 0; [2^K] / [2^K - 1] per tensor), in float32 as evaluation computes them.
  GridSpec grid(const QuantizerConfig& c, Role r, const std::vector<at::Tensor>& p) const override {
    const at::Tensor& basis = p.at(0);
    const bool pc = basis.dim() == 2;
    const int64_t rows = pc ? basis.size(0) : 1;
    const at::Tensor codes = code_matrix(c.bits, pm1_codes(c, r), at::kDouble);
    const Codebook cb = codebook_of(basis.detach().reshape({rows, c.bits}), codes, at::kFloat);
    GridSpec g;
    g.kind = GridSpec::Codebook;
    g.axis = pc ? 0 : -1;
    g.qmin = 0;
    g.qmax = codes.size(0) - 1;
    g.levels = pc ? cb.sorted : cb.sorted.reshape({-1});
    g.thresholds = pc ? cb.thr : cb.thr.reshape({-1});
    return g;
  }

 private:
  static bool pm1_codes(const QuantizerConfig& c, Role r) { return r == Role::Weight || c.is_signed; }
  static bool per_channel(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) {
    return r == Role::Weight && c.per_channel && !shape.empty();
  }
  void check(const QuantizerConfig& c) const {
    if (c.bits < min_bits() || c.bits > max_bits())
      throw std::runtime_error("lqnet: bits " + std::to_string(c.bits) + " is outside 1..8");
    const double ema = option(c, "ema", 0.9);
    if (!(ema >= 0 && ema <= 1)) throw std::runtime_error("lqnet: option ema must be in [0, 1]");
  }
};

}  // namespace

std::shared_ptr<QuantMethod> make_lqnet_method() { return std::make_shared<LqNet>(); }

}  // namespace qforge::quant
