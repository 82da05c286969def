// DoReFa-Net (Zhou et al. 2016), with quantize_k(r) = round((2^k - 1) r) / (2^k - 1) and
// straight-through rounding:
// - Weights (eq. 9): k > 1: w_k = 2 quantize_k( tanh(w) / (2 max|tanh(w)|) + 1/2 ) - 1, differentiated
//   through tanh and the max; k = 1 (eq. 7-8): w_1 = sign(w) * E|w| with E|w| held constant and the
//   gradient passed straight through. The paper's max and E are per layer; per_channel takes them per
//   output channel instead.
// - Activations (eq. 10): quantize_k(clip(x, 0, 1)), gradient passed inside [0, 1] and zero outside;
//   one fused pass each way, computed as round(n clip(x, 0, 1)) * float(1/n).
//   Activations are always unsigned here (the paper's range); `signed` is ignored.
// - Gradients (eq. 12), option grad_bits (1..32, default 32 = off): the gradient leaving the activation
//   quantizer (toward the layer that produced x, as tensorpack's fg after BatchNorm) is quantized with
//   the paper's noise:
//     dr_q = 2 max0|dr| [ quantize_k( dr / (2 max0|dr|) + 1/2 + N(k) ) - 1/2 ],  N(k) = U(-1/2, 1/2) / (2^k - 1),
//   max0 over every axis but the batch axis (dorefa_quantize_gradient, methods_binary.h). Unbiased.
// Bits 1..8. State: weights "scale" = E|w| for k = 1 (the binary level), 2 / (2^k - 1) otherwise.
#include "fake_quant_kernels.h"
#include "methods_binary.h"

namespace qforge::quant {

using namespace binary_detail;

at::Tensor dorefa_quantize_gradient(const at::Tensor& dr, int bits) {
  if (bits < 1 || bits > 31) throw std::runtime_error("dorefa: gradient bits must be 1..31, got " + std::to_string(bits));
  const double n = static_cast<double>((int64_t{1} << bits) - 1);
  const at::Tensor m = dr.dim() <= 1 ? dr.abs().max() : dr.abs().amax(channel_reduce_dims(dr), /*keepdim=*/true);
  const at::Tensor safe = at::where(m > 0, m, at::ones_like(m));
  const at::Tensor y = (dr / (2 * safe) + 0.5 + (at::rand_like(dr) - 0.5) / n).clamp(0, 1);
  return 2 * m * ((y * n).round() / n - 0.5);
}

namespace {
// Activation quantizer, fused (fake_quant_kernels): forward quantize_k(clip(x, 0, 1)) in one pass, backward
// the straight-through gradient inside [0, 1], then DoReFa's gradient quantization when grad_bits < 32.
struct DorefaActivation : public torch::autograd::Function<DorefaActivation> {
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, int64_t bits,
                            int64_t grad_bits) {
    const double n = static_cast<double>((int64_t{1} << bits) - 1);
    const at::Tensor xc = x.detach().to(at::kFloat).contiguous();
    at::Tensor y = at::empty_like(xc);
    fq::clipped_round(xc.data_ptr<float>(), y.data_ptr<float>(), xc.numel(), 0.f, 1.f, static_cast<float>(n),
                      static_cast<float>(1.0 / n), at::get_num_threads());
    ctx->save_for_backward({xc});
    ctx->saved_data["grad_bits"] = grad_bits;
    return y.to(x.scalar_type());
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    const at::Tensor x = ctx->get_saved_variables()[0];
    const at::Tensor dy = grad[0].to(at::kFloat).contiguous();
    at::Tensor dx = at::empty_like(dy);
    fq::window_backward(x.data_ptr<float>(), dy.data_ptr<float>(), dx.data_ptr<float>(), x.numel(), 0.f, 1.f,
                        at::get_num_threads());
    const int bits = static_cast<int>(ctx->saved_data["grad_bits"].toInt());
    if (bits < 32) dx = dorefa_quantize_gradient(dx, bits);
    return {dx.to(grad[0].scalar_type()), at::Tensor(), at::Tensor()};
  }
};

class Dorefa : public QuantMethod {
 public:
  std::string name() const override { return "dorefa"; }
  bool supports(Role) const override { return true; }
  int min_bits() const override { return 1; }
  int max_bits() const override { return 8; }
  std::map<std::string, double> default_options() const override { return {{"grad_bits", 32.0}}; }

  std::vector<ParamSpec> params(const QuantizerConfig& c, Role r, const std::vector<int64_t>& shape) const override {
    grad_bits(c);
    if (r == Role::Activation) return {};
    const float init = c.bits == 1 ? 1.f : static_cast<float>(2.0 / static_cast<double>((int64_t{1} << c.bits) - 1));
    return {state_spec("scale", c.per_channel, shape, init)};
  }

  void initialize(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p) const override {
    if (r == Role::Weight && c.bits == 1) store(p.at(0), reduce_mean(x.detach().abs(), c.per_channel), "scale");
  }

  at::Tensor forward(const at::Tensor& x, const QuantizerConfig& c, Role r, std::vector<at::Tensor>& p,
                     bool training) const override {
    check_bits(*this, c);
    const double n = static_cast<double>((int64_t{1} << c.bits) - 1);
    const at::Tensor xd = x.detach();
    if (r == Role::Activation)
      return DorefaActivation::apply(x, static_cast<int64_t>(c.bits), static_cast<int64_t>(grad_bits(c)));
    if (c.bits == 1) {
      const at::Tensor e = reduce_mean(xd.abs(), c.per_channel);
      store(p.at(0), e, "scale");
      return straight_through(x, e * sign_pm1(weight_noise(xd, 2 * e, c, r, training)));
    }
    const at::Tensor t = at::tanh(x);
    const at::Tensor mx = reduce_amax(t.abs(), c.per_channel).clamp_min(1e-12);
    const at::Tensor rn = (t / (2 * mx) + 0.5) * n;  // in [0, n]
    const at::Tensor noisy = weight_noise(rn.detach(), at::ones({}, x.options()), c, r, training);
    return 2 * straight_through(rn, noisy.round().clamp(0, n)) / n - 1;
  }

  // Weights, k > 1: uniform mid-rise on [-1, 1]: y = (q - zero_point) * scale, q in [0, 2^k - 1],
  // scale = 2 / (2^k - 1), zero_point = (2^k - 1) / 2. k = 1: codebook {-E|w|, E|w|}.
  // Activations: uniform, q in [0, 2^k - 1], scale 1 / (2^k - 1), zero point 0.
  GridSpec grid(const QuantizerConfig& c, Role r, const std::vector<at::Tensor>& p) const override {
    const double n = static_cast<double>((int64_t{1} << c.bits) - 1);
    GridSpec g;
    if (r == Role::Weight && c.bits == 1) {
      g.kind = GridSpec::Codebook;
      g.axis = c.per_channel && p.at(0).dim() > 0 ? 0 : -1;
      g.qmin = 0;
      g.qmax = 1;
      g.scale = p.at(0).detach().clone();
      g.levels = at::stack({-g.scale, g.scale}, -1);
      return g;
    }
    g.kind = GridSpec::Uniform;
    g.axis = -1;
    g.qmin = 0;
    g.qmax = static_cast<int64_t>(n);
    g.scale = at::full({}, r == Role::Weight ? 2.0 / n : 1.0 / n, at::kFloat);
    g.zero_point = at::full({}, r == Role::Weight ? n / 2 : 0.0, at::kFloat);
    return g;
  }

 private:
  static int grad_bits(const QuantizerConfig& c) {
    const double g = c.options.count("grad_bits") ? c.options.at("grad_bits") : 32.0;
    if (!(g >= 1 && g <= 32) || g != static_cast<double>(static_cast<int>(g)))
      throw std::runtime_error("dorefa: option grad_bits must be an integer in 1..32 (32 = full precision), got " +
                               std::to_string(g));
    return static_cast<int>(g);
  }
};
}  // namespace

std::shared_ptr<QuantMethod> make_dorefa_method() { return std::make_shared<Dorefa>(); }

}  // namespace qforge::quant
