// The straight-through estimator shared by the quantization methods (Bengio et al. 2013): the forward
// value is the quantized tensor, the backward passes the upstream gradient through unchanged (or times
// a method-specific mask / slope).
#pragma once
#include <torch/torch.h>

namespace qforge::quant {

// Straight-through estimator: forward returns q (computed by the caller without gradient);
// backward passes grad_out * gmul (gmul undefined: grad_out unchanged).
struct StraightThrough : public torch::autograd::Function<StraightThrough> {
  // gmul is only read when has_gmul (autograd needs every tensor argument defined).
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x, const at::Tensor& q,
                            const at::Tensor& gmul, bool has_gmul) {
    (void)x;
    if (has_gmul) ctx->save_for_backward({gmul});
    ctx->saved_data["has_gmul"] = has_gmul;
    return q;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad) {
    at::Tensor g = grad[0];
    if (ctx->saved_data["has_gmul"].toBool()) g = g * ctx->get_saved_variables()[0];
    return {g, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};
inline at::Tensor straight_through(const at::Tensor& x, const at::Tensor& q, const at::Tensor& gmul = at::Tensor()) {
  const at::Tensor qd = q.detach();
  return StraightThrough::apply(x, qd, gmul.defined() ? gmul.detach() : qd, gmul.defined());
}

}  // namespace qforge::quant
