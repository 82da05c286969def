#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"
#include "qforge/ir/passes.h"
#include "qforge/ir/serialize.h"

using namespace qforge;

namespace {
// conv -> bn -> relu -> gap -> flatten -> gemm -> bn1d, with non-trivial BN statistics.
ir::Graph conv_bn_graph() {
  ir::GraphBuilder b("cb", 3);
  std::string x = b.input("input", {-1, 3, 6, 6});
  x = b.conv(x, 3, 4, 3, 2, 1, 1, true, "conv");
  x = b.batchnorm(x, 4, "bn");
  x = b.relu(x);
  x = b.global_avgpool(x);
  x = b.flatten(x);
  x = b.gemm(x, 4, 3, true, "fc");
  x = b.batchnorm(x, 3, "bn_fc");
  b.output(x, "out");
  ir::Graph g = b.finish();
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(0.5f, 1.5f);
  for (auto& [name, t] : g.initializers)
    if (name.rfind("bn", 0) == 0)
      for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return g;
}
}  // namespace

TEST(Passes, FoldBatchnormPreservesOutputs) {
  ir::Graph g = conv_bn_graph();
  exec::GraphModule ref(g);
  ref.eval();
  ir::Graph folded = g;
  EXPECT_EQ(ir::fold_batchnorm(folded), 2);
  for (const ir::Node& n : folded.nodes) EXPECT_NE(n.op, "BatchNormalization");
  EXPECT_FALSE(folded.is_initializer("bn.running_mean"));
  exec::GraphModule m(folded);
  m.eval();
  at::Tensor x = torch::randn({5, 3, 6, 6});
  at::Tensor a = ref.forward(x), b = m.forward(x);
  EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-5)) << (a - b).abs().max().item<float>();
}

// A dead filter (constant output, running variance ~0) folds to zero weights and bias beta, instead of
// weights scaled by gamma / sqrt(eps); its output is unchanged on the data it was constant on.
TEST(Passes, FoldBatchnormZeroesChannelsWhoseOutputWasConstant) {
  ir::Graph g = conv_bn_graph();
  const int64_t per = 3 * 3 * 3;
  float* w = g.initializers.at("conv.weight").data<float>();
  for (int64_t k = 0; k < per; ++k) w[1 * per + k] = 1e-9f;  // channel 1: decayed to nothing
  g.initializers.at("bn.running_var").data<float>()[1] = 1e-21f;
  g.initializers.at("bn.running_mean").data<float>()[1] = g.initializers.at("conv.bias").data<float>()[1];
  exec::GraphModule ref(g);
  ref.eval();
  ir::Graph folded = g;
  ASSERT_EQ(ir::fold_batchnorm(folded), 2);
  const float beta1 = g.initializers.at("bn.bias").data<float>()[1];
  const std::vector<float> wf = folded.initializers.at("conv.weight").to_floats();
  for (int64_t k = 0; k < per; ++k) EXPECT_EQ(wf[static_cast<size_t>(per + k)], 0.f);
  float max_other = 0;
  for (int64_t k = 0; k < per; ++k) max_other = std::max(max_other, std::abs(wf[static_cast<size_t>(k)]));
  EXPECT_GT(max_other, 0.f);  // the live channels fold as before
  const ir::Node* conv = nullptr;
  for (const ir::Node& n : folded.nodes)
    if (n.op == "Conv") conv = &n;
  ASSERT_NE(conv, nullptr);
  EXPECT_EQ(folded.initializers.at(conv->inputs[2]).to_floats()[1], beta1);
  exec::GraphModule m(folded);
  m.eval();
  at::Tensor x = torch::randn({5, 3, 6, 6});
  at::Tensor a = ref.forward(x), b = m.forward(x);
  EXPECT_TRUE(at::allclose(a, b, 1e-4, 1e-5)) << (a - b).abs().max().item<float>();
}

TEST(Passes, FoldConstantsAndDeadNodes) {
  ir::GraphBuilder b("c");
  std::string x = b.input("input", {-1, 6});
  std::string s1 = b.add_initializer("s1", ir::Tensor::int64s({2}, {3, 2}), true);
  std::string c = b.add_initializer("c", ir::Tensor::floats({6}, {1, 2, 3, 4, 5, 6}), true);
  std::string r = b.node("Reshape", {c, s1}, {}, 1, "reshape_const")[0];
  std::string t = b.node("Transpose", {r}, {}, 1, "transpose_const")[0];  // [2,3]
  std::string flat = b.node("Reshape", {t, b.add_initializer("s2", ir::Tensor::int64s({1}, {6}), true)}, {}, 1, "flat")[0];
  std::string y = b.add(x, flat);
  b.node("Relu", {x}, {}, 1, "dead");
  b.output(y);
  ir::Graph g = b.finish();
  EXPECT_EQ(ir::fold_constants(g), 3);
  EXPECT_EQ(g.nodes.size(), 1u);  // Add only; the dead Relu is gone too
  const ir::Tensor& folded = g.initializers.at(flat);
  EXPECT_EQ(folded.to_floats(), (std::vector<float>{1, 3, 5, 2, 4, 6}));
  EXPECT_FALSE(g.is_initializer("s1"));
}

TEST(Passes, FoldConstantsKeepsTrainableWeights) {
  ir::GraphBuilder b("w");
  std::string x = b.input("input", {-1, 4});
  std::string w = b.add_initializer("w", ir::Tensor::floats({4}, {1, 2, 3, 4}));
  b.output(b.add(x, b.node("Relu", {w}, {}, 1, "relu_w")[0]));
  ir::Graph g = b.finish();
  EXPECT_EQ(ir::fold_constants(g), 0);
  EXPECT_EQ(ir::fold_constants(g, true), 1);
}

TEST(Graph, ValidateNamesProblems) {
  ir::Graph g;
  g.inputs.push_back({"x", ir::DType::Float32, {1}});
  g.nodes.push_back({"a", "Relu", {"y"}, {"z"}, {}});
  g.nodes.push_back({"b", "Relu", {"z"}, {"y"}, {}});
  g.outputs.push_back({"y", ir::DType::Float32, {}});
  EXPECT_THROW(g.validate(), std::runtime_error);
  try {
    g.topological_sort();
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cycle"), std::string::npos);
  }
}

TEST(Graph, SoleConsumerIsNoneForSharedValuesAndGraphOutputs) {
  ir::Graph g;
  g.inputs.push_back({"x", ir::DType::Float32, {1}});
  g.nodes.push_back({"a", "Relu", {"x"}, {"y"}, {}});
  g.nodes.push_back({"b", "Relu", {"y"}, {"z"}, {}});
  g.nodes.push_back({"c", "Add", {"z", "z"}, {"w"}, {}});
  g.nodes.push_back({"d", "Relu", {"y"}, {"v"}, {}});
  g.outputs.push_back({"w", ir::DType::Float32, {}});
  g.outputs.push_back({"v", ir::DType::Float32, {}});
  EXPECT_EQ(g.sole_consumer("x"), &g.nodes[0]);
  EXPECT_EQ(g.sole_consumer("y"), nullptr);  // b and d read it
  EXPECT_EQ(g.sole_consumer("z"), &g.nodes[2]);  // one node, twice
  EXPECT_TRUE(g.is_output("w"));
  EXPECT_FALSE(g.is_output("z"));
  g.nodes.push_back({"e", "Relu", {"w"}, {"u"}, {}});
  EXPECT_EQ(g.sole_consumer("w"), nullptr);  // read by e, but a graph output
}

TEST(Serialize, JsonRoundTrip) {
  ir::Graph g = conv_bn_graph();
  ir::Graph back = ir::graph_from_json(nlohmann::json::parse(ir::graph_to_json(g).dump()));
  EXPECT_EQ(ir::graph_to_json(back), ir::graph_to_json(g));
  EXPECT_EQ(back.nodes.size(), g.nodes.size());
  EXPECT_EQ(back.buffers, g.buffers);
  EXPECT_THROW(ir::graph_from_json(nlohmann::json::parse(R"({"name": "x"})")), std::runtime_error);
}
