// Shared helpers of the quantization-method tests: build a method's config and state, run it the way
// the FakeQuant op does (initialize on the first tensor, then forward), and compare tensors.
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/builder.h"
#include "qforge/quant/method.h"

namespace qforge::quant::testing_util {

using ::testing::HasSubstr;

inline QuantizerConfig config(const QuantMethod& m, int bits, bool per_channel, bool is_signed = true,
                       const std::map<std::string, double>& options = {}) {
  QuantizerConfig c;
  c.method = m.name();
  c.bits = bits;
  c.per_channel = per_channel;
  c.is_signed = is_signed;
  c.options = m.default_options();
  for (const auto& [k, v] : options) c.options[k] = v;
  return c;
}

inline std::vector<at::Tensor> make_params(const QuantMethod& m, const QuantizerConfig& c, Role r, at::IntArrayRef shape) {
  std::vector<at::Tensor> p;
  for (ParamSpec& s : m.params(c, r, shape.vec())) p.push_back(exec::to_aten(s.init));
  return p;
}

// As the FakeQuant kernel does: initialize on the first tensor, then forward.
inline at::Tensor run(const QuantMethod& m, const QuantizerConfig& c, Role r, const at::Tensor& x, std::vector<at::Tensor>& p,
               bool training = true) {
  {
    at::NoGradGuard g;
    m.initialize(x.detach(), c, r, p);
  }
  return m.forward(x, c, r, p, training);
}

// Fresh params + run; returns the output.
inline at::Tensor quantize(const QuantMethod& m, const QuantizerConfig& c, Role r, const at::Tensor& x, bool training = true) {
  auto p = make_params(m, c, r, x.sizes());
  return run(m, c, r, x, p, training);
}

// d(sum(out * g)) / dx through the method.
inline at::Tensor grad_of(const QuantMethod& m, const QuantizerConfig& c, Role r, const at::Tensor& x0, const at::Tensor& g) {
  at::Tensor x = x0.clone().requires_grad_(true);
  auto p = make_params(m, c, r, x.sizes());
  at::Tensor y = run(m, c, r, x, p);
  (y * g).sum().backward();
  return x.grad();
}

inline int64_t distinct(const at::Tensor& t) { return std::get<0>(at::_unique(t.detach().flatten().contiguous())).numel(); }

inline void expect_close(const at::Tensor& a, const at::Tensor& b, double tol = 1e-6) {
  ASSERT_EQ(a.sizes(), b.sizes());
  const double err = (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>();
  EXPECT_LE(err, tol) << "got\n" << a << "\nexpected\n" << b;
}

inline at::Tensor f32(std::vector<float> v) { return torch::tensor(v, torch::kFloat); }
inline at::Tensor f64(std::vector<double> v) { return torch::tensor(v, torch::kDouble); }

inline void expect_error(const std::function<void()>& f, const std::string& a, const std::string& b = "") {
  try {
    f();
    ADD_FAILURE() << "no error; expected one naming " << a;
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr(a));
    EXPECT_THAT(e.what(), HasSubstr(b));
  }
}

// x[2, 3, 8, 8] -> conv (4 channels) -> relu -> flatten -> fc (5): a network with one Conv and one Gemm.
inline ir::Graph tiny_conv_fc() {
  ir::GraphBuilder b("tiny");
  std::string x = b.input("x", {2, 3, 8, 8});
  x = b.relu(b.conv(x, 3, 4, 3, 1, 1, 1, false, "conv"));
  x = b.gemm(b.flatten(x), 4 * 8 * 8, 5, true, "fc");
  b.output(x, "y");
  return b.finish();
}

}  // namespace qforge::quant::testing_util
