// BatchNorm folding during QAT (quant/bn_fold.h): the rewritten network computes what the original
// did, in training and in evaluation; the export fold turns it into plain Convs that compute what the
// QAT graph evaluated; dead channels stay finite.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/models/zoo.h"
#include "qforge/quant/bn_fold.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"
#include "qforge/quant/qdq.h"

using namespace qforge;

namespace {
// ResNet-20 with BatchNorm parameters and statistics far from their initial identity, gamma of both signs.
ir::Graph resnet20_with_statistics() {
  models::ZooOptions o;
  o.in_channels = 1;
  o.image_size = 28;
  ir::Graph g = models::build_model("resnet20", o);
  torch::manual_seed(7);
  for (const ir::Node& n : g.nodes) {
    if (n.op != "BatchNormalization") continue;
    const int64_t c = g.initializers.at(n.inputs[1]).numel();
    g.initializers[n.inputs[1]] = exec::to_ir(torch::randn({c}) * 0.5 + 0.8);
    g.initializers[n.inputs[2]] = exec::to_ir(torch::randn({c}) * 0.2);
    g.initializers[n.inputs[3]] = exec::to_ir(torch::randn({c}) * 0.1);
    g.initializers[n.inputs[4]] = exec::to_ir(torch::rand({c}) * 2 + 0.1);
  }
  return g;
}

int count(const ir::Graph& g, const std::string& op) {
  int k = 0;
  for (const ir::Node& n : g.nodes) k += n.op == op;
  return k;
}

at::Tensor run(const ir::Graph& g, const at::Tensor& x, bool training) {
  exec::GraphModule m(g);
  m.train(training);
  at::NoGradGuard ng;
  return m.forward(x);
}
}  // namespace

TEST(BnFold, QatRewriteComputesTheOriginalNetworkInTrainingAndEvaluation) {
  quant::register_quantization();
  ir::Graph g = resnet20_with_statistics(), f = g;
  EXPECT_EQ(quant::fold_batchnorm_for_qat(f), 21);  // 19 convs + 2 projection shortcuts
  EXPECT_EQ(count(f, quant::kBnFoldWeightOp), 21);
  EXPECT_EQ(count(f, "BatchNormalization"), 21);  // BatchNorm stays: it normalizes with batch statistics
  const ir::Node* conv = f.find_node("layer1.0.conv1");
  ASSERT_NE(f.producer(conv->inputs[1]), nullptr);
  EXPECT_EQ(f.producer(conv->inputs[1])->op, quant::kBnFoldWeightOp);
  torch::manual_seed(1);
  at::Tensor x = torch::randn({8, 1, 28, 28});
  EXPECT_TRUE(torch::allclose(run(f, x, false), run(g, x, false), 1e-4, 1e-4));
  EXPECT_TRUE(torch::allclose(run(f, x, true), run(g, x, true), 1e-4, 1e-4));
}

TEST(BnFold, ExportFoldGivesPlainConvsThatComputeTheQuantizedEvaluation) {
  quant::register_quantization();
  ir::Graph g = resnet20_with_statistics();
  quant::fold_batchnorm_for_qat(g);
  quant::insert_fake_quant(g, quant::parse_quantize(YAML::Load("{weights: {method: lsq, bits: 4}}")));
  exec::GraphModule m(g);
  m.train();
  torch::manual_seed(2);
  at::Tensor x = torch::randn({8, 1, 28, 28});
  m.forward(x).sum().backward();  // initializes the quantizers; gradients reach gamma
  const at::Tensor& gamma_grad = m.state().at("layer1.0.bn1.weight").grad();
  ASSERT_TRUE(gamma_grad.defined());
  EXPECT_TRUE(at::isfinite(gamma_grad).all().item<bool>());
  m.eval();
  at::Tensor qat_eval;
  {
    at::NoGradGuard ng;
    qat_eval = m.forward(x);
  }
  ir::Graph e = m.to_graph();
  EXPECT_EQ(quant::fold_batchnorm_for_export(e), 21);
  EXPECT_EQ(count(e, "BatchNormalization"), 0);
  EXPECT_EQ(count(e, quant::kBnUnfoldOp), 0);
  EXPECT_EQ(count(e, quant::kBnFoldWeightOp), 0);
  const ir::Node* wq = e.find_node("layer1.0.conv1.wq");
  ASSERT_NE(wq, nullptr);
  EXPECT_TRUE(e.is_initializer(wq->inputs[0]));  // the quantizer reads the folded weight itself
  EXPECT_EQ(e.find_node("layer1.0.conv1")->inputs.size(), 3u);  // with the BatchNorm's shift as bias
  EXPECT_TRUE(torch::allclose(run(e, x, false), qat_eval, 1e-4, 1e-4));
  EXPECT_NO_THROW(quant::to_qdq(m.to_graph()));  // the QDQ export folds the same way
}

TEST(BnFold, ChannelsWithConstantOutputGetZeroWeightsAndFiniteGradients) {
  quant::register_quantization();
  ir::Graph g = resnet20_with_statistics();
  const ir::Node* bn = g.find_node("layer1.0.bn1");
  ASSERT_NE(bn, nullptr);
  at::Tensor var = exec::to_aten(g.initializers.at(bn->inputs[4]));
  var[3] = 0.f;
  g.initializers[bn->inputs[4]] = exec::to_ir(var);
  quant::fold_batchnorm_for_qat(g);
  exec::GraphModule m(g);
  m.train();
  at::Tensor w = m.state().at("layer1.0.conv1.weight");
  at::Tensor folded = quant::bn_fold_scale(m.state().at("layer1.0.bn1.weight"), var, 1e-5);
  EXPECT_EQ(folded[3].item<float>(), 0.f);
  m.forward(torch::randn({4, 1, 28, 28})).sum().backward();
  EXPECT_TRUE(at::isfinite(m.state().at("layer1.0.bn1.weight").grad()).all().item<bool>());
  EXPECT_TRUE(at::isfinite(w.grad()).all().item<bool>());
  EXPECT_EQ(w.grad()[3].abs().sum().item<float>(), 0.f);  // the dead channel's weights carry nothing
}

TEST(BnFold, RecipeKeyIsABoolean) {
  quant::register_quantization();
  EXPECT_TRUE(quant::parse_quantize(YAML::Load("{weights: {method: lsq, bits: 4}, fold_bn: true}")).fold_bn);
  try {
    quant::parse_quantize(YAML::Load("{weights: {method: lsq, bits: 4}, fold_bn: maybe}"));
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), ::testing::HasSubstr("quantize.fold_bn"));
  }
}
