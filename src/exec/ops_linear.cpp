// Gemm and MatMul (ONNX semantics).
#include "qforge/exec/op_registry.h"

namespace qforge::exec {

namespace {
std::vector<at::Tensor> gemm(const ir::Node& n, const std::vector<at::Tensor>& in, OpContext&) {
  at::Tensor a = input(n, in, 0), b = input(n, in, 1);
  const at::Tensor& c = input(n, in, 2);
  if (a.dim() != 2 || b.dim() != 2)
    op_error(n, "A and B must be 2-D, got " + std::to_string(a.dim()) + "-D and " + std::to_string(b.dim()) + "-D");
  double alpha = n.attrs.f("alpha", 1.0), beta = n.attrs.f("beta", 1.0);
  bool ta = n.attrs.i("transA", 0) != 0, tb = n.attrs.i("transB", 0) != 0;
  if (ta) a = a.t();
  if (a.size(1) != (tb ? b.size(1) : b.size(0)))
    op_error(n, "inner dimensions differ: A has " + std::to_string(a.size(1)) + ", B has " +
                    std::to_string(tb ? b.size(1) : b.size(0)));
  if (tb && alpha == 1.0 && c.defined() && beta == 1.0 && c.dim() <= 1) return {at::linear(a, b, c)};
  at::Tensor y = at::matmul(a, tb ? b.t() : b);
  if (alpha != 1.0) y = y * alpha;
  if (c.defined()) y = beta == 1.0 ? y + c : y + c * beta;
  return {y};
}

std::vector<at::Tensor> matmul(const ir::Node& n, const std::vector<at::Tensor>& in, OpContext&) {
  return {at::matmul(input(n, in, 0), input(n, in, 1))};
}
}  // namespace

void register_linear_ops(OpRegistry& r) {
  r.add("Gemm", gemm);
  r.add("MatMul", matmul);
}

}  // namespace qforge::exec
