// Each op kernel against the ATen call it must equal (ONNX semantics spelled out by hand).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"

using namespace qforge;

namespace {
at::Tensor run1(const std::string& op, ir::Attributes attrs, const std::vector<at::Tensor>& ins) {
  ir::GraphBuilder b("t");
  std::vector<std::string> names;
  for (size_t i = 0; i < ins.size(); ++i) names.push_back(b.input("x" + std::to_string(i), ins[i].sizes().vec()));
  b.output(b.node(op, names, attrs, 1, "n")[0]);
  exec::GraphModule m(b.finish());
  m.eval();
  return m.forward(ins)[0];
}
}  // namespace

TEST(Ops, ConvAsymmetricPadsAndGroups) {
  at::Tensor x = torch::randn({1, 4, 7, 7}), w = torch::randn({6, 2, 3, 3}), bias = torch::randn({6});
  ir::Attributes a;
  a.set("pads", std::vector<int64_t>{0, 1, 2, 1});
  a.set("group", int64_t{2});
  a.set("strides", std::vector<int64_t>{2, 1});
  at::Tensor y = run1("Conv", a, {x, w, bias});
  at::Tensor ref = at::conv2d(at::constant_pad_nd(x, {1, 1, 0, 2}), w, bias, at::IntArrayRef({2, 1}), at::IntArrayRef({0, 0}), at::IntArrayRef({1, 1}), 2);
  EXPECT_TRUE(at::allclose(y, ref, 1e-5, 1e-5));
}

TEST(Ops, ConvSameUpper) {
  at::Tensor x = torch::randn({1, 2, 6, 6}), w = torch::randn({3, 2, 4, 4});
  ir::Attributes a;
  a.set("auto_pad", std::string("SAME_UPPER"));
  at::Tensor y = run1("Conv", a, {x, w});
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{1, 3, 6, 6}));
  // total pad 3: 1 before, 2 after
  EXPECT_TRUE(at::allclose(y, at::conv2d(at::constant_pad_nd(x, {1, 2, 1, 2}), w), 1e-5, 1e-5));
}

TEST(Ops, GemmAlphaBetaTrans) {
  at::Tensor a = torch::randn({3, 4}), b = torch::randn({5, 3}), c = torch::randn({5});
  ir::Attributes at_;
  at_.set("transA", int64_t{1});
  at_.set("transB", int64_t{1});
  at_.set("alpha", 0.5);
  at_.set("beta", 2.0);
  at::Tensor y = run1("Gemm", at_, {a, b, c});
  EXPECT_TRUE(at::allclose(y, 0.5 * at::matmul(a.t(), b.t()) + 2.0 * c, 1e-5, 1e-5));
}

TEST(Ops, Activations) {
  at::Tensor x = torch::randn({2, 3, 4});
  EXPECT_TRUE(at::equal(run1("Relu", {}, {x}), at::relu(x)));
  ir::Attributes lr;
  lr.set("alpha", 0.2);
  EXPECT_TRUE(at::allclose(run1("LeakyRelu", lr, {x}), at::leaky_relu(x, 0.2)));
  at::Tensor slope = torch::rand({3, 1});
  EXPECT_TRUE(at::allclose(run1("PRelu", {}, {x, slope}), at::where(x >= 0, x, x * slope)));
  EXPECT_TRUE(at::allclose(run1("HardSigmoid", {}, {x}), at::clamp(x * 0.2 + 0.5, 0, 1)));
  EXPECT_TRUE(at::allclose(run1("HardSwish", {}, {x}), x * at::clamp(x + 3, 0, 6) / 6, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(run1("Clip", {}, {x, at::scalar_tensor(-0.5), at::scalar_tensor(0.7)}), at::clamp(x, -0.5, 0.7)));
  EXPECT_TRUE(at::allclose(run1("Softmax", {}, {x}), at::softmax(x, -1)));
  EXPECT_TRUE(at::allclose(run1("Sigmoid", {}, {x}), at::sigmoid(x)));
}

TEST(Ops, PoolingCeilModeAndCountIncludePad) {
  at::Tensor x = torch::randn({1, 2, 7, 7});
  ir::Attributes a;
  a.set("kernel_shape", std::vector<int64_t>{3, 3});
  a.set("strides", std::vector<int64_t>{2, 2});
  a.set("pads", std::vector<int64_t>{1, 1, 1, 1});
  a.set("ceil_mode", int64_t{1});
  EXPECT_TRUE(at::equal(run1("MaxPool", a, {x}), at::max_pool2d(x, {3, 3}, {2, 2}, {1, 1}, {1, 1}, true)));
  EXPECT_TRUE(at::allclose(run1("AveragePool", a, {x}), at::avg_pool2d(x, {3, 3}, {2, 2}, {1, 1}, true, false)));
  EXPECT_TRUE(at::allclose(run1("GlobalAveragePool", {}, {x}), x.mean({2, 3}, true)));
}

TEST(Ops, ShapeOps) {
  at::Tensor x = torch::randn({2, 3, 4});
  EXPECT_EQ(run1("Reshape", {}, {x, torch::tensor({0, -1}, at::kLong)}).sizes(), (std::vector<int64_t>{2, 12}));
  ir::Attributes p;
  p.set("perm", std::vector<int64_t>{2, 0, 1});
  EXPECT_TRUE(at::equal(run1("Transpose", p, {x}), x.permute({2, 0, 1})));
  ir::Attributes ax;
  ax.set("axis", int64_t{-1});
  EXPECT_TRUE(at::equal(run1("Concat", ax, {x, x}), at::cat({x, x}, 2)));
  EXPECT_EQ(run1("Flatten", {}, {x}).sizes(), (std::vector<int64_t>{2, 12}));
  EXPECT_TRUE(at::equal(run1("Dropout", {}, {x}), x));  // eval mode
}

TEST(Ops, BroadcastErrorNamesNode) {
  try {
    run1("Add", {}, {torch::randn({2, 3}), torch::randn({2, 4})});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("'n'"), std::string::npos) << e.what();
  }
}
