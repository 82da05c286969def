// Cross-layer equalization: the network computes the same function, channel ranges of each pair
// meet at their geometric mean, per-tensor quantization loses less, and layers that cannot be
// scaled safely (shared values, non-homogeneous activations) are left alone.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "qforge/compress/cle.h"
#include "qforge/ir/passes.h"
#include "qforge/quant/fake_quant_node.h"
#include "compress_test_util.h"

using namespace qforge;
using namespace qforge::compress_test;

namespace {
// conv (1 -> 8, bias) -> act -> depthwise 3x3 (bias) -> relu -> conv 1x1 (8 -> 6), with the channels
// between conv and depthwise spread over three orders of magnitude, as BatchNorm folding leaves MobileNets.
ir::Graph chain(bool relu6) {
  ir::GraphBuilder b("chain");
  std::string x = b.input("x", {2, 1, 10, 10});
  std::string h = b.conv(x, 1, 8, 3, 1, 1, 1, true, "conv1");
  h = relu6 ? b.clip(h, 0.0, 6.0, "act1") : b.relu(h, "act1");
  h = b.relu(b.conv(h, 8, 8, 3, 1, 1, 8, true, "dw"), "act2");
  h = b.conv(h, 8, 6, 1, 1, 0, 1, false, "pw");
  b.output(h, "y");
  ir::Graph g = b.finish();
  torch::manual_seed(11);
  const at::Tensor c = torch::pow(10.0, torch::rand({8}) * 3 - 2);
  for (auto& [name, t] : g.initializers) {
    if (t.dtype != ir::DType::Float32 || t.shape.empty()) continue;
    at::Tensor a = torch::randn(exec::to_aten(t).sizes()) * 0.3;
    // The same function with conv1's channel i scaled by c_i and the depthwise channel i by 1/c_i:
    // per-tensor grids of both layers now waste most of their levels on a few channels.
    if (name == "conv1.weight") a *= c.view({8, 1, 1, 1});
    if (name == "conv1.bias") a *= c;
    if (name == "dw.weight") a /= c.view({8, 1, 1, 1});
    t = exec::to_ir(a.contiguous());
  }
  return g;
}

// max |w| over output channel c (dim 0) or input channel c (dim 1; depthwise weights have one column).
double range(const ir::Graph& g, const std::string& w, int dim, int64_t c) {
  at::Tensor t = exec::to_aten(g.initializers.at(w));
  if (dim == 1 && t.size(1) == 1) dim = 0;
  return t.select(dim, c).abs().max().item<double>();
}

// Symmetric 8-bit per-tensor rounding of every conv weight: what a per-tensor grid keeps of them.
ir::Graph per_tensor_int8(ir::Graph g) {
  for (auto& [name, t] : g.initializers) {
    if (name.find(".weight") == std::string::npos) continue;
    at::Tensor a = exec::to_aten(t);
    const double s = a.abs().max().item<double>() / 127;
    t = exec::to_ir((torch::round(a / s) * s).contiguous());
  }
  return g;
}

at::Tensor inputs() {
  torch::manual_seed(5);
  return torch::randn({16, 1, 10, 10});
}
}  // namespace

TEST(Cle, PreservesTheFunctionAndEvensOutChannelRanges) {
  ir::Graph g = chain(false);
  const at::Tensor x = inputs(), ref = run(g, x);
  const compress::CleResult r = compress::cross_layer_equalize(g);
  EXPECT_EQ(r.pairs, 2);
  EXPECT_EQ(r.relu6_rewritten, 0);
  EXPECT_GT(r.sweeps, 1);  // a chain shares the depthwise layer between two pairs
  EXPECT_LT(rel_err(run(g, x), ref), 1e-5);
  // At the fixed point every channel has one range through the whole chain.
  for (int64_t c = 0; c < 8; ++c) {
    const double r1 = range(g, "conv1.weight", 0, c), r2 = range(g, "dw.weight", 0, c), r3 = range(g, "pw.weight", 1, c);
    EXPECT_NEAR(r1 / r2, 1.0, 2e-3) << "channel " << c;
    EXPECT_NEAR(r2 / r3, 1.0, 2e-3) << "channel " << c;
  }
}

TEST(Cle, PerTensorQuantizationLosesLessAfterEqualization) {
  const ir::Graph g = chain(false);
  ir::Graph e = g;
  compress::cross_layer_equalize(e);
  const at::Tensor x = inputs(), ref = run(g, x);
  const double before = rel_err(run(per_tensor_int8(g), x), ref), after = rel_err(run(per_tensor_int8(e), x), ref);
  EXPECT_LT(after, before / 3) << "before " << before << " after " << after;
}

TEST(Cle, Relu6BecomesAPerChannelClipThatKeepsTheFunction) {
  ir::Graph g = chain(true);
  const at::Tensor x = inputs(), ref = run(g, x);
  // conv1's widest channels pass 6, so the paper's ReLU would change this network.
  ir::Graph as_relu = g;
  compress::CleOptions relu;
  relu.relu6 = compress::Relu6Handling::Relu;
  EXPECT_EQ(compress::cross_layer_equalize(as_relu, relu).relu6_rewritten, 1);
  EXPECT_EQ(count_op(as_relu, "Min"), 0);
  EXPECT_GT(rel_err(run(as_relu, x), ref), 1e-2);
  EXPECT_LT(rel_err(run(as_relu, x), run(chain(false), x)), 1e-5);  // it computes the ReLU network

  const compress::CleResult r = compress::cross_layer_equalize(g);
  EXPECT_EQ(r.pairs, 2);
  EXPECT_EQ(r.relu6_rewritten, 1);
  EXPECT_EQ(count_op(g, "Clip"), 0);
  EXPECT_EQ(count_op(g, "Min"), 1);
  EXPECT_FALSE(g.is_initializer("act1.min"));  // the Clip's bounds went with it
  EXPECT_LT(rel_err(run(g, x), ref), 1e-5);
  // The bound moved with each channel: 6 / s_i, one value per channel of conv1.
  const at::Tensor bound = exec::to_aten(g.initializers.at("act1.channel_clip.max"));
  EXPECT_EQ(bound.sizes(), (at::IntArrayRef{8, 1, 1}));
  EXPECT_GT((bound.max() / bound.min()).item<double>(), 10.0);

  // Equalizing again reads the Min as a per-channel clip: the same pairs, already balanced, same function.
  const compress::CleResult again = compress::cross_layer_equalize(g);
  EXPECT_EQ(again.pairs, 2);
  EXPECT_EQ(again.sweeps, 1);
  EXPECT_LT(rel_err(run(g, x), ref), 1e-5);

  ir::Graph kept = chain(true);
  compress::CleOptions keep;
  keep.relu6 = compress::Relu6Handling::Keep;
  const compress::CleResult k = compress::cross_layer_equalize(kept, keep);
  EXPECT_EQ(k.pairs, 1);  // dw -> pw only
  EXPECT_EQ(count_op(kept, "Clip"), 1);
  EXPECT_THROW(compress::relu6_handling_from_name("relu7"), std::invalid_argument);
}

TEST(Cle, LeavesBranchesAndGemmsItCannotScaleAlone) {
  // small_resnet: conv1's ReLU feeds conv2 and the residual add, conv2 feeds the add: no pair.
  ir::Graph r = small_resnet();
  ir::fold_batchnorm(r);
  EXPECT_EQ(compress::cross_layer_equalize(r).pairs, 0);

  // Gemm -> Relu -> Gemm (W stored [out, in]) equalizes and keeps its function.
  ir::GraphBuilder b("mlp");
  std::string h = b.relu(b.gemm(b.input("x", {4, 6}), 6, 5, true, "fc1"), "relu");
  b.output(b.gemm(h, 5, 3, true, "fc2"), "y");
  ir::Graph g = b.finish();
  torch::manual_seed(2);
  const at::Tensor x = torch::randn({4, 6}), ref = run(g, x);
  EXPECT_EQ(compress::cross_layer_equalize(g).pairs, 1);
  EXPECT_LT(rel_err(run(g, x), ref), 1e-5);
}

TEST(Cle, PtqWithCleBeatsPtqWithoutOnAPerTensorGrid) {
  quant::register_quantization();
  const ir::Graph g = chain(false);
  const data::Dataset calib = random_images(64, 1);
  const at::Tensor x = images_of(random_images(32, 2)), ref = run(g, x);
  auto err = [&](bool cle) {
    data::DataLoader loader(calib, plain(32));
    compress::PtqOptions o = quiet_options();
    o.cle = cle;
    compress::PtqResult r = compress::run_ptq(g, loader, o);
    EXPECT_EQ(r.cle.pairs, cle ? 2 : 0);
    return rel_err(run(r.graph, x), ref);
  };
  const double without = err(false), with = err(true);
  EXPECT_LT(with, without) << "without " << without << " with " << with;
}
