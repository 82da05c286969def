#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"

using namespace qforge;

namespace {
ir::Graph small_cnn() {
  ir::GraphBuilder b("small", 7);
  std::string x = b.input("input", {-1, 3, 8, 8});
  x = b.conv(x, 3, 4, 3, 1, 1, 1, false, "conv1");
  x = b.batchnorm(x, 4, "bn1");
  x = b.relu(x);
  x = b.maxpool(x, 2, 2);
  x = b.global_avgpool(x);
  x = b.flatten(x);
  x = b.gemm(x, 4, 5, true, "fc");
  b.output(x, "logits");
  return b.finish();
}
}  // namespace

TEST(GraphModule, MatchesHandWrittenTorch) {
  ir::Graph g = small_cnn();
  exec::GraphModule m(g);
  m.eval();
  torch::manual_seed(0);
  at::Tensor x = torch::randn({2, 3, 8, 8});
  at::Tensor y = m.forward(x);
  const auto& s = m.state();
  at::Tensor r = at::conv2d(x, s.at("conv1.weight"), {}, 1, 1);
  r = at::batch_norm(r, s.at("bn1.weight"), s.at("bn1.bias"), s.at("bn1.running_mean"), s.at("bn1.running_var"),
                     false, 0.1, 1e-5, true);
  r = at::max_pool2d(at::relu(r), {2, 2}, {2, 2});
  r = r.mean({2, 3}).flatten(1);
  r = at::linear(r, s.at("fc.weight"), s.at("fc.bias"));
  EXPECT_TRUE(at::allclose(y, r, 1e-5, 1e-6));
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 5}));
}

TEST(GraphModule, TrainsAndUpdatesBatchNormStatistics) {
  exec::GraphModule m(small_cnn());
  m.train();
  at::Tensor before = m.state().at("bn1.running_mean").clone();
  torch::optim::SGD opt(m.parameters(), torch::optim::SGDOptions(0.1));
  at::Tensor x = torch::randn({4, 3, 8, 8}) + 1.0;
  at::Tensor loss = m.forward(x).pow(2).mean();
  loss.backward();
  EXPECT_TRUE(m.state().at("conv1.weight").grad().defined());
  opt.step();
  EXPECT_FALSE(at::equal(before, m.state().at("bn1.running_mean")));
  // buffers are not parameters
  EXPECT_EQ(m.parameters().size(), 5u);  // conv w, bn w/b, fc w/b
}

TEST(GraphModule, ToGraphRoundTripsWeights) {
  exec::GraphModule m(small_cnn());
  { at::NoGradGuard g; m.state().at("fc.bias").fill_(0.25); }
  ir::Graph g = m.to_graph();
  exec::GraphModule m2(g);
  EXPECT_TRUE(at::equal(m2.state().at("fc.bias"), at::full({5}, 0.25)));
  m.eval(); m2.eval();
  at::Tensor x = torch::randn({1, 3, 8, 8});
  EXPECT_TRUE(at::equal(m.forward(x), m2.forward(x)));
}

TEST(GraphModule, UnknownOpNamesNodeAndOp) {
  ir::GraphBuilder b("bad");
  std::string x = b.input("input", {-1, 4});
  x = b.node("FancyOp", {x}, {}, 1, "weird")[0];
  b.output(x);
  try {
    exec::GraphModule m(b.finish());
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("weird"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("FancyOp"), std::string::npos) << e.what();
  }
}

TEST(GraphModule, RuntimeShapeErrorNamesNode) {
  ir::GraphBuilder b("bad");
  std::string x = b.input("input", {-1, 3, 8, 8});
  x = b.conv(x, 3, 4, 3, 1, 1, 1, false, "conv1");
  b.output(x);
  exec::GraphModule m(b.finish());
  try {
    m.forward(torch::randn({1, 5, 8, 8}));
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("conv1"), std::string::npos) << e.what();
  }
}
