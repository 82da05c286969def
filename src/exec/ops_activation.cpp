// Pointwise activations and (Log)Softmax, ONNX semantics.
#include <optional>

#include "qforge/exec/op_registry.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

// Clip bounds come from inputs (opset >= 11) or attributes (opset 6).
std::vector<at::Tensor> clip(const ir::Node& n, const Ins& in, OpContext&) {
  const at::Tensor& x = input(n, in, 0);
  const at::Tensor &lo = input(n, in, 1), &hi = input(n, in, 2);
  c10::optional<at::Scalar> l, h;
  if (lo.defined()) l = lo.item();
  else if (n.attrs.has("min")) l = n.attrs.f("min");
  if (hi.defined()) h = hi.item();
  else if (n.attrs.has("max")) h = n.attrs.f("max");
  if (!l && !h) return {x};
  if (l && h && l->toDouble() == 0.0 && x.is_floating_point()) return {at::hardtanh(x, 0.0, h->toDouble())};  // ReLU6-like, fast path
  return {at::clamp(x, l, h)};
}

std::vector<at::Tensor> softmax_like(const ir::Node& n, const Ins& in, bool log) {
  const at::Tensor& x = input(n, in, 0);
  int64_t axis = n.attrs.i("axis", -1);
  return {log ? at::log_softmax(x, axis) : at::softmax(x, axis)};
}
}  // namespace

void register_activation_ops(OpRegistry& r) {
  r.add("Relu", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins { return {at::relu(input(n, in, 0))}; });
  r.add("Clip", clip);
  r.add("LeakyRelu", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    return {at::leaky_relu(input(n, in, 0), n.attrs.f("alpha", 0.01))};
  });
  r.add("PRelu", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    // ONNX slope broadcasts against X (typically [C,1,1]); written out so any broadcastable slope works.
    const at::Tensor &x = input(n, in, 0), &s = input(n, in, 1);
    return {at::where(x >= 0, x, x * s)};
  });
  r.add("Sigmoid", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins { return {at::sigmoid(input(n, in, 0))}; });
  r.add("Tanh", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins { return {at::tanh(input(n, in, 0))}; });
  r.add("HardSigmoid", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    double a = n.attrs.f("alpha", 0.2), b = n.attrs.f("beta", 0.5);
    return {at::clamp(input(n, in, 0) * a + b, 0.0, 1.0)};
  });
  r.add("HardSwish", [](const ir::Node& n, const Ins& in, OpContext&) -> Ins { return {at::hardswish(input(n, in, 0))}; });
  r.add("Softmax", [](const ir::Node& n, const Ins& in, OpContext&) { return softmax_like(n, in, false); });
  r.add("LogSoftmax", [](const ir::Node& n, const Ins& in, OpContext&) { return softmax_like(n, in, true); });
}

}  // namespace qforge::exec
