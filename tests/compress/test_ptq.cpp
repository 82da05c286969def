// Post-training quantization and QDQ export on a small residual network with BatchNorm: the
// calibrated network tracks the float one, bias correction removes the mean shift, the QDQ graph
// computes what the FakeQuant graph computes, and bad inputs are refused with a clear message.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <torch/torch.h>

#include "qforge/compress/ptq.h"
#include "qforge/data/loader.h"
#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/builder.h"
#include "qforge/ir/passes.h"
#include "qforge/onnx/onnx_io.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"
#include "qforge/quant/qdq.h"
#include "compress_test_util.h"

using namespace qforge;
using namespace qforge::compress_test;
using ::testing::HasSubstr;

TEST(Ptq, W8A8TracksTheFloatNetworkForEveryCalibrator) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(96, 1);
  const at::Tensor x = images_of(random_images(32, 2));
  const at::Tensor ref = run(g, x);
  for (const char* name : {"minmax", "ema", "percentile", "mse", "entropy"}) {
    data::DataLoader loader(calib, plain(32));
    compress::PtqOptions o = quiet_options();
    o.calibrator.kind = quant::calibrator_from_name(name);
    o.per_channel = true;
    compress::PtqResult r = compress::run_ptq(g, loader, o);
    EXPECT_EQ(r.folded_batchnorms, 2) << name;
    EXPECT_EQ(r.calibration_images, 96) << name;
    EXPECT_EQ(count_op(r.graph, "BatchNormalization"), 0) << name;
    EXPECT_EQ(count_op(r.graph, "FakeQuant"), 6) << name;  // 3 layers x (weight, input)
    const double err = rel_err(run(r.graph, x), ref);
    EXPECT_LT(err, 0.03) << name;
    EXPECT_GT(err, 0.0) << name << ": nothing was quantized";
  }
}

// quantize_adds: the residual Add's inputs and output get quantizers too (conv1's input quantizer becomes
// the shared one on relu1), the network still tracks the float one, and the QDQ graph's Add reads two
// DequantizeLinear outputs and feeds a QuantizeLinear (what a QDQ runtime runs as an integer add).
TEST(Ptq, QuantizeAddsPutsTheResidualStreamOnTheGrid) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const at::Tensor x = images_of(random_images(32, 2));
  data::DataLoader loader(random_images(96, 1), plain(32));
  compress::PtqOptions o = quiet_options();
  o.per_channel = true;
  o.quantize_adds = true;
  const compress::PtqResult r = compress::run_ptq(g, loader, o);
  // weights 3, the image, relu1 (shared by conv2's input and the Add), conv2's output, relu2; fc's input
  EXPECT_EQ(count_op(r.graph, "FakeQuant"), 8);
  const double err = rel_err(run(r.graph, x), run(g, x));
  EXPECT_LT(err, 0.03);
  EXPECT_GT(err, 0.0);
  const ir::Graph qdq = quant::to_qdq(r.graph);
  const ir::Node* add = nullptr;
  for (const ir::Node& n : qdq.nodes)
    if (n.op == "Add") add = &n;
  ASSERT_NE(add, nullptr);
  for (const std::string& in : add->inputs) EXPECT_EQ(qdq.producer(in)->op, "DequantizeLinear") << in;
  const auto readers = qdq.consumers(qdq.consumers(add->outputs[0]).at(0)->outputs[0]);  // Add -> Relu -> ?
  ASSERT_EQ(readers.size(), 1u);
  EXPECT_EQ(readers[0]->op, "QuantizeLinear");
  // The recipe key and its error.
  EXPECT_TRUE(compress::parse_ptq_section(YAML::Load("{quantize_adds: true}"), "ptq", nullptr, nullptr).quantize_adds);
}

TEST(Ptq, NarrowWeightsLoseMoreAndMseAndBiasCorrectionHelp) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(128, 4);
  const at::Tensor x = images_of(random_images(64, 5));
  const at::Tensor ref = run(g, x);
  auto ptq = [&](int wbits, const std::string& wcal, bool bias_correction) {
    data::DataLoader loader(calib, plain(64));
    compress::PtqOptions o = quiet_options();
    o.weight_bits = wbits;
    o.first_last_bits = 0;
    o.weight_calibrator = wcal;
    o.bias_correction = bias_correction;
    return compress::run_ptq(g, loader, o).graph;
  };
  const double e8 = rel_err(run(ptq(8, "minmax", false), x), ref);
  const double e3 = rel_err(run(ptq(3, "minmax", false), x), ref);
  const double e3_mse = rel_err(run(ptq(3, "mse", false), x), ref);
  EXPECT_LT(e8, e3);
  EXPECT_LT(e3_mse, e3);
  // Bias correction: the mean of each logit over the data moves back towards the float mean.
  const at::Tensor q = run(ptq(3, "mse", false), x), qc = run(ptq(3, "mse", true), x);
  const double shift = (q.mean(0) - ref.mean(0)).abs().sum().item<double>();
  const double shift_corrected = (qc.mean(0) - ref.mean(0)).abs().sum().item<double>();
  EXPECT_LT(shift_corrected, shift);
}

namespace {
// The AdaRound tests' PTQ: 3-bit per-channel weights on every layer (first and last too), 8-bit activations,
// AdaRound on when `learned`, `iterations` steps a layer.
compress::PtqOptions w3_options(bool learned, int iterations) {
  compress::PtqOptions o = quiet_options();
  o.weight_bits = 3;
  o.activation_bits = 8;
  o.first_last_bits = 0;
  o.per_channel = true;
  o.adaround = learned;
  o.adaround_options.iterations = iterations;
  return o;
}
}  // namespace

TEST(Ptq, AdaRoundBeatsNearestRoundingAtThreeBits) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(128, 9);
  const at::Tensor x = images_of(random_images(64, 10));
  const at::Tensor ref = run(g, x);
  auto ptq = [&](bool learned) {
    data::DataLoader loader(calib, plain(64));
    return compress::run_ptq(g, loader, w3_options(learned, 300)).graph;
  };
  const ir::Graph nearest = ptq(false), learned = ptq(true);
  EXPECT_LT(rel_err(run(learned, x), ref), rel_err(run(nearest, x), ref));
  // The learned weights lie on the grid: each differs from the float weight by less than one step.
  for (const auto& [name, t] : learned.initializers)
    if (name.size() > 7 && name.compare(name.size() - 7, 7, ".weight") == 0) {
      const at::Tensor a = exec::to_aten(t), b = exec::to_aten(nearest.initializers.at(name));
      EXPECT_EQ(a.sizes(), b.sizes()) << name;
    }
  EXPECT_GT(rel_err(run(learned, x), run(nearest, x)), 0.0);  // it changed something
}

// A killed AdaRound run resumes: stopped after 1 of 3 layers (max_layers), a second call with the same progress file
// rounds the rest and ends with the weights of an uninterrupted run, bit for bit; a progress file from a run
// with other options is ignored (the result is that run's own).
TEST(Ptq, AdaRoundResumesFromItsProgressFile) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(128, 9);
  const std::string progress = (std::filesystem::temp_directory_path() / ("qf_adaround_" + std::to_string(::getpid()))).string();
  std::filesystem::remove(progress);
  auto ptq = [&](int max_layers, int iterations, bool with_progress) {
    data::DataLoader loader(calib, plain(64));
    compress::PtqOptions o = w3_options(true, iterations);
    o.adaround_options.lr = 0.05;  // large steps: the rounding then depends on which batches were drawn (the generator's state)
    o.adaround_options.max_layers = max_layers;
    if (with_progress) o.adaround_options.progress_path = progress;
    return compress::run_ptq(g, loader, o).graph;
  };
  auto same_weights = [](const ir::Graph& a, const ir::Graph& b) {
    for (const auto& [name, t] : a.initializers)
      if (!at::equal(exec::to_aten(t), exec::to_aten(b.initializers.at(name)))) return false;
    return true;
  };
  const ir::Graph whole = ptq(-1, 30, false);
  const ir::Graph first_one = ptq(1, 30, true);
  EXPECT_TRUE(std::filesystem::exists(progress));
  EXPECT_FALSE(same_weights(first_one, whole));  // the rest still rounded to nearest
  const ir::Graph resumed = ptq(-1, 30, true);
  EXPECT_TRUE(same_weights(resumed, whole));
  // Options changed: the file (now holding every layer of the 30-iteration run) is not used.
  const ir::Graph other = ptq(-1, 20, true), other_fresh = ptq(-1, 20, false);
  EXPECT_TRUE(same_weights(other, other_fresh));
  EXPECT_FALSE(same_weights(other, whole));
  std::filesystem::remove(progress);
}

// The activation after a layer is inside AdaRound's loss: when the ReLU after conv2 zeroes every output (a
// bias far below the outputs' range), the reconstruction error is zero whatever the rounding, so only the
// regularizer acts and the learned rounding is nearest rounding exactly (ties included: each channel's
// negative extreme lies half-way between two codes). Fit to the pre-activation output instead, the
// rounding moves. Likewise for a per-channel clip (Min) after the ReLU, which the loss must hold too.
namespace {
// conv1 -> bn1 -> relu1 -> conv2 -> bn2 -> relu2 [-> Min(0 per channel)] -> gap -> fc, whose conv2 outputs all
// end up zero: by a bias of -1000 before relu2, or by a per-channel clip at 0 after it (what CLE leaves for a
// ReLU6). With the whole activation in AdaRound's loss the loss is 0 whatever the rounding, so the learned
// 3-bit codes of conv2 must equal nearest rounding's; returns how many differ.
int64_t adaround_codes_differing(bool clip_at_zero) {
  quant::register_quantization();
  ir::GraphBuilder b("relu_after");
  std::string x = b.input("x", {2, 1, 12, 12});
  std::string h = b.relu(b.batchnorm(b.conv(x, 1, 16, 3, 1, 1, 1, false, "conv1"), 16, "bn1"), "relu1");
  h = b.relu(b.batchnorm(b.conv(h, 16, 16, 3, 1, 1, 1, false, "conv2"), 16, "bn2"), "relu2");
  if (clip_at_zero) h = b.node("Min", {h, b.add_initializer("clip2.max", ir::Tensor::floats({16, 1, 1}, std::vector<float>(16, 0.f)))}, {}, 1, "clip2")[0];
  b.output(b.gemm(b.flatten(b.global_avgpool(h, "gap"), "flat"), 16, 5, true, "fc"), "logits");
  ir::Graph g = b.finish();
  torch::manual_seed(3);
  for (auto& [name, t] : g.initializers) {
    if (name == "clip2.max") continue;
    at::Tensor a = exec::to_aten(t);
    if (name.find("running_var") != std::string::npos || name.rfind("bn1.weight", 0) == 0 || name.rfind("bn2.weight", 0) == 0) a = torch::rand(a.sizes()) + 0.5;
    else if (name.rfind("bn2.bias", 0) == 0) a = clip_at_zero ? torch::randn(a.sizes()) * 0.2 : at::full(a.sizes(), -1000.f);
    else if (name.find("running_mean") != std::string::npos || name.rfind("bn1.bias", 0) == 0) a = torch::randn(a.sizes()) * 0.2;
    else a = torch::randn(a.sizes()) * 0.4;
    t = exec::to_ir(a.contiguous());
  }
  const data::Dataset calib = random_images(128, 9);
  auto conv2_codes = [&](bool learned) {
    data::DataLoader loader(calib, plain(64));
    const ir::Graph q = compress::run_ptq(g, loader, w3_options(learned, 300)).graph;
    for (const auto& n : q.nodes)
      if (n.name == "conv2.wq") {  // the integer codes: AdaRound writes on-grid weights, PTQ alone leaves float ones
        const at::Tensor w = exec::to_aten(q.initializers.at(n.inputs[0])), s = exec::to_aten(q.initializers.at(n.inputs[1]));
        return (w / s.reshape({-1, 1, 1, 1})).round().clamp(-4, 3);
      }
    ADD_FAILURE() << "no conv2.wq";
    return at::Tensor();
  };
  const at::Tensor learned = conv2_codes(true), nearest = conv2_codes(false);
  return (learned != nearest).sum().item<int64_t>();
}
}  // namespace

TEST(Ptq, AdaRoundLossSeesTheFollowingRelu) { EXPECT_EQ(adaround_codes_differing(false), 0); }
TEST(Ptq, AdaRoundLossSeesAPerChannelClipAfterTheRelu) { EXPECT_EQ(adaround_codes_differing(true), 0); }

// AdaRound's second view of the network: a CalibrationScope with quantize = true leaves the quantized
// network's output as it is and hands the observer each quantizer's output (on its grid), where the
// default scope hands it the float input and runs the float network.
TEST(Ptq, QuantizingObserverSeesTheQuantizedNetwork) {
  quant::register_quantization();
  data::DataLoader loader(random_images(64, 1), plain(32));
  compress::PtqOptions o = quiet_options();
  const ir::Graph q = compress::run_ptq(small_resnet(), loader, o).graph;
  const at::Tensor x = images_of(random_images(8, 2));
  const at::Tensor plain_out = run(q, x);
  std::vector<at::Tensor> quantized, floating;
  at::Tensor out_quantized, out_float;
  {
    quant::CalibrationScope scope([&](const ir::Node& n, const at::Tensor& t) { if (n.name == "conv2.aq") quantized.push_back(t.clone()); }, true);
    out_quantized = run(q, x);
  }
  {
    quant::CalibrationScope scope([&](const ir::Node& n, const at::Tensor& t) { if (n.name == "conv2.aq") floating.push_back(t.clone()); });
    out_float = run(q, x);
  }
  EXPECT_TRUE(at::equal(out_quantized, plain_out));
  EXPECT_FALSE(at::equal(out_float, plain_out));
  ASSERT_EQ(quantized.size(), 1u);
  ASSERT_EQ(floating.size(), 1u);
  double scale = 0;
  for (const auto& n : q.nodes)
    if (n.name == "conv2.aq") scale = exec::to_aten(q.initializers.at(n.inputs[1])).item<double>();
  ASSERT_GT(scale, 0);
  const at::Tensor codes = quantized[0] / scale;
  EXPECT_LT((codes - codes.round()).abs().max().item<double>(), 1e-3);  // on the grid (zero point 0: after a ReLU)
  EXPECT_GT((floating[0] / scale - (floating[0] / scale).round()).abs().max().item<double>(), 0.1);  // the float input is not
}

// calibrator_overrides: one activation quantizer takes another calibrator; the others keep the main one. Its
// range equals that calibrator's own run, and a name that is no activation quantizer is refused by name.
TEST(Ptq, CalibratorOverrideSetsOneRangeAndUnknownNamesAreRefused) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(64, 1);
  auto upper = [](const compress::PtqResult& r, const std::string& q) {  // the quantizer's calibrated upper bound
    for (const auto& n : r.graph.nodes)
      if (n.name == q) return exec::to_aten(r.graph.initializers.at(n.inputs[4])).max().item<double>();
    ADD_FAILURE() << "no quantizer " << q;
    return 0.0;
  };
  auto ptq = [&](quant::Calibrator kind, std::map<std::string, quant::Calibrator> ov) {
    data::DataLoader loader(calib, plain(32));
    compress::PtqOptions o = quiet_options();
    o.calibrator.kind = kind;
    o.calibrator.percentile = 90;  // clips visibly, so the ranges differ from min/max
    o.calibrator_overrides = std::move(ov);
    return compress::run_ptq(g, loader, o);
  };
  const compress::PtqResult pct = ptq(quant::Calibrator::Percentile, {});
  const compress::PtqResult minmax = ptq(quant::Calibrator::MinMax, {});
  const compress::PtqResult mixed = ptq(quant::Calibrator::Percentile, {{"conv2.aq", quant::Calibrator::MinMax}});
  ASSERT_NE(upper(pct, "conv2.aq"), upper(minmax, "conv2.aq"));  // else the test shows nothing
  ASSERT_NE(upper(pct, "fc.aq"), upper(minmax, "fc.aq"));
  EXPECT_DOUBLE_EQ(upper(mixed, "conv2.aq"), upper(minmax, "conv2.aq"));
  EXPECT_DOUBLE_EQ(upper(mixed, "fc.aq"), upper(pct, "fc.aq"));
  // The other way round: histograms are collected for an override even when the main calibrator needs none.
  const compress::PtqResult mixed2 = ptq(quant::Calibrator::MinMax, {{"conv2.aq", quant::Calibrator::Percentile}});
  EXPECT_DOUBLE_EQ(upper(mixed2, "conv2.aq"), upper(pct, "conv2.aq"));
  EXPECT_DOUBLE_EQ(upper(mixed2, "fc.aq"), upper(minmax, "fc.aq"));
  try {
    ptq(quant::Calibrator::MinMax, {{"conv2.wq", quant::Calibrator::MinMax}});
    ADD_FAILURE() << "a weight quantizer was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("'conv2.wq' is not an activation quantizer"));
  }
  EXPECT_THROW(compress::parse_ptq_section(YAML::Load("{calibrator_overrides: {conv2.aq: kl}}"), "ptq", nullptr, nullptr), std::runtime_error);
  const compress::PtqOptions y = compress::parse_ptq_section(YAML::Load("{calibrator_overrides: {conv2.aq: mse}}"), "ptq", nullptr, nullptr);
  EXPECT_EQ(y.calibrator_overrides.at("conv2.aq"), quant::Calibrator::Mse);
}

// histogram_bins is read into the calibrator's options (ptq.cpp sizes every RangeStats by it) and a
// count outside 256..65536 is refused by its key.
TEST(Ptq, HistogramBinsAreReadAndChecked) {
  EXPECT_EQ(compress::parse_ptq_section(YAML::Load("{histogram_bins: 4096}"), "ptq", nullptr, nullptr).calibrator.bins, 4096);
  try {
    compress::parse_ptq_section(YAML::Load("{histogram_bins: 100}"), "ptq", nullptr, nullptr);
    ADD_FAILURE() << "100 bins were accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ptq: histogram bins must be 256..65536, got 100"));
  }
}

TEST(Ptq, CleRelu6HandlingIsReadAndChecked) {
  EXPECT_EQ(compress::parse_ptq_section(YAML::Load("{cle: true}"), "ptq", nullptr, nullptr).cle_options.relu6,
            compress::Relu6Handling::ChannelClip);
  EXPECT_EQ(compress::parse_ptq_section(YAML::Load("{cle: true, cle_relu6: relu}"), "ptq", nullptr, nullptr).cle_options.relu6,
            compress::Relu6Handling::Relu);
  try {
    compress::parse_ptq_section(YAML::Load("{cle: true, cle_relu6: relu7}"), "ptq", nullptr, nullptr);
    ADD_FAILURE() << "relu7 was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ptq.cle_relu6: unknown ReLU6 handling 'relu7' (clip | relu | keep)"));
  }
  try {
    compress::parse_ptq_section(YAML::Load("{cle_relu6: relu}"), "ptq", nullptr, nullptr);
    ADD_FAILURE() << "cle_relu6 without cle was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ptq.cle_relu6: only applies with cle: true"));
  }
}

TEST(Ptq, BadInputsAreRefusedWithAClearMessage) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(16, 1);
  auto expect_error = [&](const ir::Graph& graph, const compress::PtqOptions& o, const std::string& what) {
    data::DataLoader loader(calib, plain(8));
    try {
      compress::run_ptq(graph, loader, o);
      ADD_FAILURE() << "no error; expected one saying " << what;
    } catch (const std::runtime_error& e) {
      EXPECT_THAT(e.what(), HasSubstr(what));
    }
  };
  compress::PtqOptions o = quiet_options();
  o.weight_bits = 1;
  expect_error(g, o, "weight bits must be 2..8");
  o = quiet_options();
  o.activation_bits = 17;
  expect_error(g, o, "activation bits must be 2..16");
  o = quiet_options();
  o.calibrator.percentile = 0;
  expect_error(g, o, "percentile");
  ir::Graph quantized = g;
  quant::insert_fake_quant(quantized, quant::parse_quantize(YAML::Load("{weights: {method: lsq, bits: 4}}")));
  expect_error(quantized, quiet_options(), "already quantized");
  EXPECT_THROW(
      {
        data::DataLoader empty(data::subset(calib, 0), plain(8));
        compress::run_ptq(g, empty, quiet_options());
      },
      std::exception);
}

TEST(Qdq, ExportedGraphComputesWhatTheQuantizedGraphComputes) {
  quant::register_quantization();
  const ir::Graph g = small_resnet();
  const data::Dataset calib = random_images(64, 6);
  // Continuous inputs: normalized 8-bit pixels can sit exactly on a 4-bit grid's rounding ties, where
  // x / s and x * (1 / s) legitimately round apart by a whole step.
  torch::manual_seed(7);
  const at::Tensor x = torch::randn({32, 1, 12, 12});
  for (int abits : {8, 4}) {
    data::DataLoader loader(calib, plain(32));
    compress::PtqOptions o = quiet_options();
    o.per_channel = true;
    o.activation_bits = abits;
    o.weight_bits = abits;
    o.first_last_bits = 0;
    const ir::Graph q = compress::run_ptq(g, loader, o).graph;
    const ir::Graph qdq = quant::to_qdq(q);
    EXPECT_EQ(count_op(qdq, "FakeQuant"), 0);
    EXPECT_EQ(count_op(qdq, "QuantizeLinear"), 3);
    EXPECT_EQ(count_op(qdq, "DequantizeLinear"), 6);
    EXPECT_EQ(count_op(qdq, "Clip"), abits < 8 ? 3 : 0);  // narrow grids keep their range
    for (const auto& [name, t] : qdq.initializers)
      if (name.find(".qdq_weight") != std::string::npos) {
        EXPECT_EQ(t.dtype, ir::DType::Int8) << name;
        const at::Tensor w = exec::to_aten(t).to(at::kInt);
        EXPECT_LE(w.max().item<int>(), (1 << (abits - 1)) - 1) << name;
        EXPECT_GE(w.min().item<int>(), -(1 << (abits - 1))) << name;
      }
    // Through ONNX and back: the file holds the same computation.
    const ir::Graph reread = onnx_io::import_onnx_bytes(onnx_io::export_onnx_bytes(qdq), "qdq.onnx");
    const at::Tensor a = run(q, x), b = run(reread, x);
    // Equal up to rounding-boundary flips (x / s vs x * (1/s)): a flip moves one activation one step.
    EXPECT_LT(rel_err(b, a), 1e-3) << abits << " bits";
    EXPECT_TRUE(at::equal(a.argmax(1), b.argmax(1))) << abits << " bits";
  }
}

TEST(Qdq, LsqBinaryAndTernaryExportAndCodebookMethodsAreRefused) {
  quant::register_quantization();
  const at::Tensor x = images_of(random_images(16, 8));
  auto quantized = [&](const std::string& yaml) {
    ir::Graph g = small_resnet();
    ir::fold_batchnorm(g);
    quant::insert_fake_quant(g, quant::parse_quantize(YAML::Load(yaml)));
    exec::GraphModule m(g);
    m.train();
    m.forward(x);  // initializes the quantizers as the first training step does
    return m.to_graph();
  };
  const ir::Graph lsq = quantized("{weights: {method: lsq, bits: 4, per_channel: true}, activations: {method: lsq, bits: 4}, keep_float: []}");
  const ir::Graph qdq = quant::to_qdq(lsq);
  EXPECT_LT(rel_err(run(qdq, x), run(lsq, x)), 1e-3);

  // Binary and ternary weights are the integer grid [-1, 1] with scale alpha: exported exactly.
  for (const char* m : {"twn, bits: 2", "bwn, bits: 1", "xnor, bits: 1"}) {
    const ir::Graph t = quantized(std::string("{weights: {method: ") + m +
                                  ", per_channel: true}, activations: {method: lsq, bits: 4}, keep_float: []}");
    const ir::Graph tq = quant::to_qdq(t);
    EXPECT_LT(rel_err(run(tq, x), run(t, x)), 1e-3) << m;
    for (const auto& [name, w] : tq.initializers)
      if (name.find(".qdq_weight") != std::string::npos) {
        const at::Tensor v = exec::to_aten(w).to(at::kInt);
        EXPECT_TRUE(v.abs().le(1).all().item<bool>()) << m << " " << name;
        if (std::string(m).rfind("twn", 0) != 0) EXPECT_TRUE(v.ne(0).all().item<bool>()) << m << ": binary never uses 0";
      }
  }
  // Power-of-two weights up to 4 bits are the integers {0, +-1, +-2, +-4, +-8} times 2^n2: exported exactly.
  for (int bits : {2, 3, 4}) {
    const ir::Graph p = quantized("{weights: {method: pow2, bits: " + std::to_string(bits) +
                                  ", per_channel: true}, activations: {method: lsq, bits: 8}, keep_float: []}");
    const ir::Graph pq = quant::to_qdq(p);
    EXPECT_LT(rel_err(run(pq, x), run(p, x)), 1e-3) << "pow2 " << bits;
    for (const auto& [name, w] : pq.initializers)
      if (name.find(".qdq_weight") != std::string::npos) {
        const at::Tensor v = exec::to_aten(w).to(at::kInt).abs();
        EXPECT_TRUE(v.le(1 << ((1 << (bits - 2)) - 1)).all().item<bool>()) << bits << " " << name;
        EXPECT_TRUE(v.bitwise_and(v - 1).eq(0).all().item<bool>()) << bits << " " << name << ": not 0 or a power of two";
      }
  }
  try {
    quant::to_qdq(quantized("{weights: {method: pow2, bits: 5}, keep_float: []}"));
    ADD_FAILURE() << "5-bit pow2 (integers up to 128) was exported as int8";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("powers of two"));
  }
  // Binary activations (sign) are not a rounding of a clipped input: refused.
  EXPECT_THROW(quant::to_qdq(quantized("{weights: {method: bwn, bits: 1}, activations: {method: xnor, bits: 1}, keep_float: []}")),
               std::runtime_error);

  const ir::Graph lq = quantized("{weights: {method: lqnet, bits: 2}, keep_float: []}");
  try {
    quant::to_qdq(lq);
    ADD_FAILURE() << "a codebook grid was exported";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("codebook"));
    EXPECT_THAT(e.what(), HasSubstr("lqnet"));
    EXPECT_THAT(e.what(), HasSubstr("--format packed"));
  }
  // For the packed runtime file, codebooks (lqnet's learned levels, hwgq's Lloyd-Max levels) export as
  // CodebookQuantize / CodebookDequantize with the very thresholds and levels evaluation rounds with:
  // the exported graph computes the same numbers, also after a trip through an ONNX file.
  for (const char* yaml : {"{weights: {method: lqnet, bits: 2, per_channel: true}, activations: {method: lqnet, bits: 2}, keep_float: []}",
                           "{weights: {method: bwn, bits: 1}, activations: {method: hwgq, bits: 2}}",
                           "{weights: {method: lqnet, bits: 3}, activations: {method: hwgq, bits: 3}}",
                           "{weights: {method: pow2, bits: 5, per_channel: true}, activations: {method: lsq, bits: 8}, keep_float: []}"}) {
    SCOPED_TRACE(yaml);
    const ir::Graph cb = quantized(yaml);
    const ir::Graph cq = quant::to_qdq(cb, {/*codebooks=*/true});
    EXPECT_EQ(count_op(cq, "FakeQuant"), 0);
    EXPECT_GE(count_op(cq, "CodebookDequantize"), 1);
    EXPECT_TRUE(at::equal(run(cq, x), run(cb, x)));
    for (const auto& [name, t] : cq.initializers)
      if (name.find(".codebook_index") != std::string::npos) {
        EXPECT_EQ(t.dtype, ir::DType::UInt8) << name;
        const std::string lv = name.substr(0, name.find(".codebook_index")) + ".codebook_levels";
        ASSERT_TRUE(cq.initializers.count(lv)) << lv;
        EXPECT_LT(exec::to_aten(t).to(at::kLong).max().item<int64_t>(), cq.initializers.at(lv).shape.back()) << name;
      }
    const ir::Graph reread = onnx_io::import_onnx_bytes(onnx_io::export_onnx_bytes(cq), "codebook.onnx");
    EXPECT_TRUE(at::equal(run(reread, x), run(cb, x)));
  }
  ir::Graph fresh = small_resnet();
  quant::insert_fake_quant(fresh, quant::parse_quantize(YAML::Load("{weights: {method: lsq, bits: 4}, keep_float: []}")));
  try {
    quant::to_qdq(fresh);
    ADD_FAILURE() << "an uncalibrated quantizer was exported";
  } catch (const std::runtime_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("never saw data"));
  }
}
