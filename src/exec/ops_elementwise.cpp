// Elementwise arithmetic, ONNX semantics: binary ops with numpy broadcasting, and the unary math ops.
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
// Min / Max: variadic (one or more inputs), broadcast pairwise from the left.
template <typename F>
OpKernel variadic(F f) {
  return [f](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    if (in.empty() || !in[0].defined()) op_error(n, "needs at least one input");
    at::Tensor y = in[0];
    for (size_t k = 1; k < in.size(); ++k) {
      if (!in[k].defined()) op_error(n, "input " + std::to_string(k) + " is missing");
      try {
        y = f(y, in[k]);
      } catch (const c10::Error&) {
        op_error(n, "shapes " + std::string(c10::str(y.sizes())) + " and " + c10::str(in[k].sizes()) + " do not broadcast");
      }
    }
    return {y};
  };
}
template <typename F>
OpKernel unary(F f) {
  return [f](const ir::Node& n, const Ins& in, OpContext&) -> Ins {
    const at::Tensor& x = input(n, in, 0);
    if (!x.defined()) op_error(n, "needs an input");
    return {f(x)};
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
  // The result has the base's type (an integer base with a float exponent truncates, as numpy's astype).
  r.add("Pow", binary([](const at::Tensor& a, const at::Tensor& b) { return at::pow(a, b).to(a.scalar_type()); }));
  r.add("Min", variadic([](const at::Tensor& a, const at::Tensor& b) { return at::minimum(a, b); }));
  r.add("Max", variadic([](const at::Tensor& a, const at::Tensor& b) { return at::maximum(a, b); }));
  r.add("Sqrt", unary([](const at::Tensor& x) { return at::sqrt(x); }));
  r.add("Exp", unary([](const at::Tensor& x) { return at::exp(x); }));
  r.add("Log", unary([](const at::Tensor& x) { return at::log(x); }));
  r.add("Neg", unary([](const at::Tensor& x) { return at::neg(x); }));
  r.add("Abs", unary([](const at::Tensor& x) { return at::abs(x); }));
  r.add("Reciprocal", unary([](const at::Tensor& x) { return at::reciprocal(x); }));
  r.add("Floor", unary([](const at::Tensor& x) { return at::floor(x); }));
  r.add("Ceil", unary([](const at::Tensor& x) { return at::ceil(x); }));
}

}  // namespace qforge::exec
