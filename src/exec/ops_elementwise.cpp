// Binary elementwise arithmetic with numpy broadcasting (ONNX semantics).
#include "qforge/exec/op_registry.h"

namespace qforge::exec {

namespace {
using Ins = std::vector<at::Tensor>;

template <typename F>
OpKernel binary(F f) {
  return [f](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor &a = input(n, in, 0), &b = input(n, in, 1);
    if (!a.defined() || !b.defined()) op_error(n, "needs two inputs");
    try {
      return {f(a, b)};
    } catch (const c10::Error&) {
      op_error(n, "shapes " + std::string(c10::str(a.sizes())) + " and " + c10::str(b.sizes()) + " do not broadcast");
    }
  };
}
}  // namespace

void register_elementwise_ops(OpRegistry& r) {
  r.add("Add", binary([](const at::Tensor& a, const at::Tensor& b) { return a + b; }));
  r.add("Sub", binary([](const at::Tensor& a, const at::Tensor& b) { return a - b; }));
  r.add("Mul", binary([](const at::Tensor& a, const at::Tensor& b) { return a * b; }));
  // Integer division truncates in ONNX; float division is true division.
  r.add("Div", binary([](const at::Tensor& a, const at::Tensor& b) {
          return a.is_floating_point() ? a / b : at::div(a, b, "trunc");
        }));
}

}  // namespace qforge::exec
