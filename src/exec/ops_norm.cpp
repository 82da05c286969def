// BatchNormalization. In training mode it normalizes with batch statistics and updates the
// running statistics in place (they are GraphModule buffers), like torch.nn.BatchNorm.
#include "qforge/exec/op_registry.h"

namespace qforge::exec {

namespace {
std::vector<at::Tensor> batchnorm(const ir::Node& n, const std::vector<at::Tensor>& in, OpContext& ctx) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor &scale = input(n, in, 1), &bias = input(n, in, 2);
  const at::Tensor &mean = input(n, in, 3), &var = input(n, in, 4);
  if (!mean.defined() || !var.defined()) op_error(n, "needs scale, bias, mean and var inputs");
  if (x.dim() < 2 || x.size(1) != mean.size(0))
    op_error(n, "input channels " + (x.dim() >= 2 ? std::to_string(x.size(1)) : std::string("?")) +
                    " do not match statistics of size " + std::to_string(mean.size(0)));
  double eps = n.attrs.f("epsilon", 1e-5);
  // ONNX: running = running * momentum + batch * (1 - momentum); torch's momentum is the other weight.
  double momentum = 1.0 - n.attrs.f("momentum", 0.9);
  if (n.attrs.i("training_mode", 0) != 0) op_error(n, "training_mode=1 (statistics outputs) is not supported");
  bool training = ctx.training && n.attrs.i("frozen", 0) == 0;
  return {at::batch_norm(x, scale, bias, mean, var, training, momentum, eps, /*cudnn_enabled=*/true)};
}
}  // namespace

void register_norm_ops(OpRegistry& r) { r.add("BatchNormalization", batchnorm); }

}  // namespace qforge::exec
