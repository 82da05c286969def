// Gemm, MatMul (numpy matmul semantics), BatchNormalization.
#include "shape_rules.h"

namespace qforge::ir::shape {

namespace {

std::vector<ValueInfo> gemm(const Ctx& c) {
  c.arity(2, 3);
  const ValueInfo& ai = c.in(0);
  const std::vector<int64_t>&a = ai.shape, &b = c.shape(1);
  if (a.size() != 2 || b.size() != 2) c.fail("A " + str(a) + " and B " + str(b) + " must both be 2-D");
  const bool ta = c.attrs().i("transA", 0) != 0, tb = c.attrs().i("transB", 0) != 0;
  const int64_t m = ta ? a[1] : a[0], k = ta ? a[0] : a[1];
  const int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (k != kb)
    c.fail("A " + str(a) + " (transA=" + std::to_string(ta) + ") and B " + str(b) + " (transB=" + std::to_string(tb) +
           ") disagree on K: " + std::to_string(k) + " vs " + std::to_string(kb));
  const std::vector<int64_t> out{m, n};
  if (c.has(2) && !broadcasts_to(c.shape(2), out))
    c.fail("C " + str(c.shape(2)) + " does not broadcast to the output " + str(out));
  return {info(ai.dtype, out)};
}

std::vector<ValueInfo> matmul(const Ctx& c) {
  c.arity(2, 2);
  const ValueInfo& ai = c.in(0);
  std::vector<int64_t> a = ai.shape, b = c.shape(1);
  if (a.empty() || b.empty()) c.fail("operands " + str(a) + " and " + str(b) + " must have rank >= 1");
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  if (a_vec) a.insert(a.begin(), 1);
  if (b_vec) b.push_back(1);
  const int64_t k = a.back(), kb = b[b.size() - 2];
  if (k != kb)
    c.fail("operands " + str(ai.shape) + " and " + str(c.shape(1)) + " disagree on K: " + std::to_string(k) + " vs " +
           std::to_string(kb));
  std::vector<int64_t> out = broadcast(c, std::vector<int64_t>(a.begin(), a.end() - 2), std::vector<int64_t>(b.begin(), b.end() - 2));
  if (!a_vec) out.push_back(a[a.size() - 2]);
  if (!b_vec) out.push_back(b.back());
  return {info(ai.dtype, out)};
}

std::vector<ValueInfo> batchnorm(const Ctx& c) {
  c.arity(5, 5);
  const ValueInfo& xi = c.in(0);
  if (xi.shape.size() < 2) c.fail("input " + str(xi.shape) + " must be [N, C, ...]");
  const std::vector<int64_t> ch{xi.shape[1]};
  static const char* names[] = {"", "scale", "B", "input_mean", "input_var"};
  for (size_t k = 1; k < 5; ++k)
    if (c.shape(k) != ch)
      c.fail(std::string(names[k]) + " " + str(c.shape(k)) + " does not match input " + str(xi.shape) + " (expected " +
             str(ch) + ")");
  return {info(xi.dtype, xi.shape), info(c.in(3).dtype, ch), info(c.in(4).dtype, ch)};  // + training-mode running stats
}

}  // namespace

void add_linear_norm_rules(std::map<std::string, Rule>& r) {
  r["Gemm"] = gemm;
  r["MatMul"] = matmul;
  r["BatchNormalization"] = batchnorm;
}

}  // namespace qforge::ir::shape
