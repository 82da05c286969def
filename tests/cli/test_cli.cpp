// End to end through the `qforge` binary on a slice of the real Fashion-MNIST.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_helpers.h"
#include "qforge/data/dataset.h"
#include "qforge/data/loader.h"
#include "qforge/data/npy.h"

using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {
bool have_fashion() { return fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz"); }
const std::string kQuick =
    " data.subset=512 data.test_subset=256 train.batch_size=64 train.log_every=0 data.workers=1 ";

// The first n Fashion-MNIST test images, normalized as qforge's loader does, as a .npy file; their labels.
at::Tensor write_test_images(const std::string& path, int64_t n) {
  qforge::data::Dataset d = qforge::data::subset(qforge::data::load_dataset("fashion-mnist", "", false), n);
  qforge::data::LoaderOptions o;
  o.batch_size = n;
  o.workers = 0;
  qforge::data::DataLoader l(d, o);
  l.start_epoch(0);
  qforge::data::Batch b;
  l.next(b);
  qforge::data::write_npy(path, b.images);
  return b.labels;
}

// qforge's own evaluation of MODEL and ONNX Runtime's of its QDQ export on the same images agree up to
// rounding-boundary flips.
void expect_ort_agrees(const std::string& model, const std::string& dir) {
  ASSERT_TRUE(have_ort()) << "onnxruntime-node missing in tools/ort: run scripts/setup.sh";
  CliResult x = run_cli("export " + model + " --format qdq -o " + dir + "/m.onnx");
  ASSERT_EQ(x.code, 0) << x.err;
  const at::Tensor labels = write_test_images(dir + "/x.npy", 256);
  CliResult q = run_cli("infer " + model + " --input " + dir + "/x.npy --output " + dir + "/qf.npy");
  ASSERT_EQ(q.code, 0) << q.err;
  CliResult o = run_ort(dir + "/m.onnx", dir + "/x.npy", dir + "/ort.npy");
  ASSERT_EQ(o.code, 0) << o.err;
  const at::Tensor a = qforge::data::read_npy(dir + "/qf.npy"), b = qforge::data::read_npy(dir + "/ort.npy");
  ASSERT_EQ(a.sizes(), b.sizes());
  const double same = a.argmax(1).eq(b.argmax(1)).to(at::kDouble).mean().item<double>();
  EXPECT_GE(same, 0.99) << "identical predictions";
  const double top_a = a.argmax(1).eq(labels).to(at::kDouble).mean().item<double>() * 100;
  const double top_b = b.argmax(1).eq(labels).to(at::kDouble).mean().item<double>() * 100;
  EXPECT_LE(std::abs(top_a - top_b), 100.0 / 256 + 1e-9) << "qforge " << top_a << " vs ORT " << top_b;  // at most one image
  // The integer runtime (qforge run) on the same file agrees with ONNX Runtime the same way.
  CliResult rt = run_cli("run " + dir + "/m.onnx --input " + dir + "/x.npy --output " + dir + "/rt.npy");
  ASSERT_EQ(rt.code, 0) << rt.err;
  const at::Tensor c = qforge::data::read_npy(dir + "/rt.npy");
  ASSERT_EQ(c.sizes(), b.sizes());
  EXPECT_GE(c.argmax(1).eq(b.argmax(1)).to(at::kDouble).mean().item<double>(), 0.99) << "runtime vs ORT predictions";
  const double top_c = c.argmax(1).eq(labels).to(at::kDouble).mean().item<double>() * 100;
  EXPECT_LE(std::abs(top_c - top_b), 100.0 / 256 + 1e-9) << "runtime " << top_c << " vs ORT " << top_b;
  // The packed file computes exactly what the runtime computes from the QDQ file.
  CliResult p = run_cli("export " + model + " --format packed -o " + dir + "/m.qfp");
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_LT(fs::file_size(dir + "/m.qfp"), fs::file_size(dir + "/m.onnx") * 11 / 10);  // int8 weights, or narrower
  CliResult rp = run_cli("run " + dir + "/m.qfp --input " + dir + "/x.npy --output " + dir + "/rp.npy");
  ASSERT_EQ(rp.code, 0) << rp.err;
  EXPECT_TRUE(at::equal(qforge::data::read_npy(dir + "/rp.npy"), c)) << "packed vs QDQ in the runtime";
}
}  // namespace

TEST(Cli, InspectOfAFileThatIsNeitherNamesItWithoutABacktrace) {
  const std::string d = test_dir("inspect_bad");
  std::ofstream(d + "/junk.ckpt") << "neither a checkpoint nor a packed file";
  CliResult r = run_cli("inspect " + d + "/junk.ckpt");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(d + "/junk.ckpt"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("frame #")));
}

TEST(Cli, RunRefusesWhatIsNotAModel) {
  const std::string d = test_dir("run_bad");
  std::ofstream(d + "/bad.onnx") << "not a model";
  CliResult r = run_cli("run " + d + "/bad.onnx --input " + std::string(QFORGE_SOURCE_DIR) + "/runtime/tests/fixtures/fmnist8.npy");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(d + "/bad.onnx"));
}

TEST(Cli, HelpDocumentsEveryCommand) {
  CliResult r = run_cli("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"train", "eval", "inspect", "bench", "ptq", "run"}) EXPECT_THAT(r.out, HasSubstr(c));
  CliResult t = run_cli("train --help");
  EXPECT_THAT(t.out, HasSubstr("--resume"));
  EXPECT_THAT(t.out, HasSubstr("--json"));
}

TEST(Cli, TrainResumeEvalInspect) {
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  std::string out = test_dir("lenet");
  CliResult r = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1" + kQuick + "--out " + out + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.last_line());
  EXPECT_EQ(j["epochs"], 1);
  EXPECT_GT(j["test_top1"].get<double>(), 20.0);  // well above chance (10%) even after 8 steps
  EXPECT_TRUE(fs::exists(out + "/last.ckpt"));
  EXPECT_TRUE(fs::exists(out + "/best.ckpt"));
  EXPECT_EQ(read_all(out + "/metrics.jsonl").find("\"epoch\":1"), 1u);

  // Same out dir without --resume is refused; with --resume and more epochs it continues at epoch 2.
  CliResult again = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1" + kQuick + "--out " + out);
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("--resume"));
  CliResult resumed = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=2" + kQuick + "--out " + out + " --resume --json");
  ASSERT_EQ(resumed.code, 0) << resumed.err;
  EXPECT_THAT(resumed.err, HasSubstr("resuming after epoch 1"));
  auto jr = nlohmann::json::parse(resumed.last_line());
  EXPECT_EQ(jr["epochs"], 2);
  EXPECT_EQ(jr["steps"], 16);
  // Resuming under a recipe that defines another network (here: quantized) is refused, not continued.
  CliResult other = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=3 quantize.weights.method=lsq" + kQuick + "--out " + out +
                            " --resume");
  EXPECT_EQ(other.code, 1);
  EXPECT_THAT(other.err, HasSubstr("different model, init or quantize section"));

  CliResult e = run_cli("eval " + out + "/last.ckpt --subset 256 --json");
  ASSERT_EQ(e.code, 0) << e.err;
  auto je = nlohmann::json::parse(e.last_line());
  EXPECT_EQ(je["count"], 256);
  EXPECT_NEAR(je["top1"].get<double>(), jr["test_top1"].get<double>(), 1e-9);  // same model, same images

  CliResult i = run_cli("inspect " + out + "/last.ckpt --json");
  ASSERT_EQ(i.code, 0) << i.err;
  auto ji = nlohmann::json::parse(i.last_line());
  EXPECT_EQ(ji["parameters"], jr["parameters"]);
  EXPECT_GT(ji["macs"].get<int64_t>(), 0);
}

TEST(Cli, BadRecipeKeyIsNamed) {
  CliResult r = run_cli("train recipes/lenet5-fashion-mnist.yaml train.optimzer.lr=0.1 --out " + test_dir("bad"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("train.optimzer"));
  EXPECT_THAT(r.err, HasSubstr("unknown key"));
}

TEST(Cli, NanLossStopsWithStepAndCheckpoint) {
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  CliResult r = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1 train.optimizer.lr=1.0e+30 train.optimizer.momentum=0 train.optimizer.nesterov=false" +
                        kQuick + "--out " + test_dir("nan"));
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr("at step"));
  EXPECT_THAT(r.err, HasSubstr("last good checkpoint"));
}

TEST(Cli, CorruptCheckpointIsNamed) {
  std::string dir = test_dir("corrupt");
  { std::ofstream(dir + "/x.ckpt") << "garbage"; }
  CliResult r = run_cli("eval " + dir + "/x.ckpt");
  EXPECT_EQ(r.code, 1);
  EXPECT_THAT(r.err, HasSubstr(dir + "/x.ckpt"));
}

TEST(Cli, InspectZooAndBenchStep) {
  CliResult i = run_cli("inspect zoo:resnet20");
  ASSERT_EQ(i.code, 0) << i.err;
  EXPECT_THAT(i.out, HasSubstr("layer3"));
  CliResult b = run_cli("bench step zoo:lenet5 train.batch_size=8 --steps 2 --warmup 1 --json");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_GT(nlohmann::json::parse(b.last_line())["median_ms"].get<double>(), 0.0);
}

TEST(Cli, QatFromFloatCheckpointThenInspectAndEval) {
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  std::string fp = test_dir("qat_float"), q = test_dir("qat_lsq");
  ASSERT_EQ(run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1" + kQuick + "--out " + fp).code, 0);
  CliResult r = run_cli("train recipes/qat/lenet5-lsq-w4a4.yaml init=" + fp + "/best.ckpt train.epochs=1" + kQuick +
                        "--out " + q + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("quantize"));
  auto j = nlohmann::json::parse(r.last_line());
  ASSERT_TRUE(j.contains("quantized_layers"));
  EXPECT_EQ(j["quantized_layers"].front()["weight_bits"], 8);  // first_last_bits
  EXPECT_EQ(j["quantized_layers"][1]["weight_bits"], 4);

  // The checkpoint holds the quantizers and their learned state.
  CliResult i = run_cli("inspect " + q + "/last.ckpt --json");
  ASSERT_EQ(i.code, 0) << i.err;
  auto ji = nlohmann::json::parse(i.last_line());
  ASSERT_TRUE(ji.contains("quantizers"));
  const auto& qs = ji["quantizers"];
  ASSERT_EQ(qs.size(), 2 * j["quantized_layers"].size());  // weights and input activations of each layer
  for (const auto& e : qs) {
    EXPECT_EQ(e["method"], "lsq");
    EXPECT_TRUE(e["initialized"].get<bool>()) << e.dump();
    EXPECT_NE(e["scale"].get<double>(), 1.0) << e.dump();  // moved off the placeholder by initialization
  }
  // eval runs the quantized network: the same top-1 the training run reported on the same images.
  CliResult e = run_cli("eval " + q + "/last.ckpt --subset 256 --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NEAR(nlohmann::json::parse(e.last_line())["top1"].get<double>(), j["test_top1"].get<double>(), 1e-9);
  expect_ort_agrees(q + "/last.ckpt", q);
}

TEST(Cli, PtqThenQdqExportRunsInOnnxRuntime) {
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  std::string fp = test_dir("ptq_float"), q = test_dir("ptq_q");
  ASSERT_EQ(run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1" + kQuick + "--out " + fp).code, 0);
  CliResult r = run_cli("ptq " + fp + "/best.ckpt --calib 128 --per-channel --calibrator entropy --bias-correction "
                        "--eval-subset 256 -o " + q + "/ptq.ckpt --json");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_THAT(r.err, HasSubstr("ptq: folded"));
  auto j = nlohmann::json::parse(r.last_line());
  EXPECT_EQ(j["calibration_images"], 128);
  EXPECT_LT(j["quantized_size_bytes"].get<int64_t>(), j["float_size_bytes"].get<int64_t>() / 3);
  EXPECT_NEAR(j["quantized"]["top1"].get<double>(), j["float"]["top1"].get<double>(), 3.0);
  // eval of the written checkpoint reproduces the reported accuracy
  CliResult e = run_cli("eval " + q + "/ptq.ckpt --subset 256 --json");
  ASSERT_EQ(e.code, 0) << e.err;
  EXPECT_NEAR(nlohmann::json::parse(e.last_line())["top1"].get<double>(), j["quantized"]["top1"].get<double>(), 1e-9);
  expect_ort_agrees(q + "/ptq.ckpt", q);

  // Bad inputs: an already quantized model, too many calibration images, an unwritable output, and a
  // float model exported as QDQ; no partial output file in any case.
  CliResult again = run_cli("ptq " + q + "/ptq.ckpt --calib 16 --no-eval -o " + q + "/twice.ckpt");
  EXPECT_EQ(again.code, 1);
  EXPECT_THAT(again.err, HasSubstr("already quantized"));
  EXPECT_FALSE(fs::exists(q + "/twice.ckpt"));
  CliResult many = run_cli("ptq " + fp + "/best.ckpt --calib 100000000 --no-eval -o " + q + "/many.ckpt");
  EXPECT_EQ(many.code, 1);
  EXPECT_THAT(many.err, HasSubstr("--calib"));
  CliResult unwritable = run_cli("export " + q + "/ptq.ckpt --format qdq -o /nonexistent-dir/m.onnx");
  EXPECT_EQ(unwritable.code, 1);
  EXPECT_THAT(unwritable.err, HasSubstr("/nonexistent-dir/m.onnx"));
  // The same through a recipe's ptq: section; command-line options win; bad keys are named.
  CliResult rr = run_cli("ptq recipes/ptq/resnet20-w8a8.yaml --help");
  EXPECT_EQ(rr.code, 0);
  {
    std::ofstream(q + "/p.yaml") << "model: {zoo: lenet5}\ninit: " << fp << "/best.ckpt\n"
                                 << "ptq: {weights: 4, per_channel: true, calibrator: mse, calib: 64}\n";
    std::ofstream(q + "/bad.yaml") << "model: {zoo: lenet5}\ninit: " << fp << "/best.ckpt\nptq: {weigths: 4}\n";
  }
  CliResult viar = run_cli("ptq " + q + "/p.yaml --activations 6 --eval-subset 64 -o " + q + "/r.ckpt --json");
  ASSERT_EQ(viar.code, 0) << viar.err;
  auto jr = nlohmann::json::parse(viar.last_line());
  EXPECT_EQ(jr["weight_bits"], 4);
  EXPECT_EQ(jr["activation_bits"], 6);
  EXPECT_EQ(jr["calibrator"], "mse");
  EXPECT_EQ(jr["calibration_images"], 64);
  CliResult bad = run_cli("ptq " + q + "/bad.yaml -o " + q + "/bad.ckpt");
  EXPECT_EQ(bad.code, 1);
  EXPECT_THAT(bad.err, HasSubstr("ptq.weigths: unknown key"));

  CliResult float_qdq = run_cli("export " + fp + "/best.ckpt --format qdq -o " + q + "/float.onnx");
  EXPECT_EQ(float_qdq.code, 1);
  EXPECT_THAT(float_qdq.err, HasSubstr("no quantizers"));
  EXPECT_FALSE(fs::exists(q + "/float.onnx"));
}

// Codebook methods (lqnet's learned levels; hwgq's Lloyd-Max levels over bwn weights; xnor's sign
// activations) have no QDQ form for ONNX Runtime, but the packed file keeps them: 1- to 4-bit indices plus
// levels. The integer runtime then computes what qforge evaluates: same predictions, outputs equal up to
// float summation order.
TEST(Cli, CodebookModelsRunFromThePackedFile) {
  if (!have_fashion()) GTEST_SKIP() << "dataset-fashion-mnist not installed";
  const std::string d = test_dir("codebook");
  write_test_images(d + "/x.npy", 256);
  const std::pair<const char*, const char*> models[] = {
      {"lqnet", "quantize.weights.method=lqnet quantize.weights.bits=2 quantize.weights.per_channel=true "
                "quantize.activations.method=lqnet quantize.activations.bits=2 quantize.first_last_bits=8"},
      {"hwgq", "quantize.weights.method=bwn quantize.weights.bits=1 quantize.activations.method=hwgq quantize.activations.bits=2 "
               "quantize.first_last_bits=8"},
      // XNOR-Net: sign activations, a two-level codebook the runtime puts on the integer grid {-1, 1} (or {0, 1}).
      {"xnor", "quantize.weights.method=xnor quantize.weights.bits=1 quantize.activations.method=xnor quantize.activations.bits=1 "
               "quantize.first_last_bits=8"}};
  for (const auto& [name, q] : models) {
    SCOPED_TRACE(name);
    const std::string out = d + "/" + name;
    CliResult t = run_cli("train recipes/lenet5-fashion-mnist.yaml train.epochs=1 " + std::string(q) + kQuick + "--out " + out);
    ASSERT_EQ(t.code, 0) << t.err;
    CliResult refused = run_cli("export " + out + "/best.ckpt --format qdq -o " + out + "/m.onnx");
    EXPECT_EQ(refused.code, 1);
    EXPECT_THAT(refused.err, HasSubstr("--format packed"));
    EXPECT_FALSE(fs::exists(out + "/m.onnx"));
    CliResult p = run_cli("export " + out + "/best.ckpt --format packed -o " + out + "/m.qfp");
    ASSERT_EQ(p.code, 0) << p.err;
    CliResult i = run_cli("inspect " + out + "/m.qfp");  // per-layer bits: codebook indices (cb2) or binary
    ASSERT_EQ(i.code, 0) << i.err;
    EXPECT_THAT(i.out, HasSubstr(std::string(name) == "lqnet" ? "cb2" : "bin1"));
    EXPECT_THAT(i.out, HasSubstr("bits/weight"));
    CliResult qf = run_cli("infer " + out + "/best.ckpt --input " + d + "/x.npy --output " + out + "/qf.npy");
    ASSERT_EQ(qf.code, 0) << qf.err;
    CliResult rt = run_cli("run " + out + "/m.qfp --input " + d + "/x.npy --output " + out + "/rt.npy");
    ASSERT_EQ(rt.code, 0) << rt.err;
    const at::Tensor a = qforge::data::read_npy(out + "/qf.npy"), b = qforge::data::read_npy(out + "/rt.npy");
    ASSERT_EQ(a.sizes(), b.sizes());
    EXPECT_GE(a.argmax(1).eq(b.argmax(1)).to(at::kDouble).mean().item<double>(), 0.99);
    EXPECT_LT((a - b).abs().max().item<double>(), 1e-3 * std::max(1.0, a.abs().max().item<double>()));
  }
}

TEST(Cli, EveryQatRecipeInsertsItsQuantizers) {
  for (const auto& entry : fs::directory_iterator(std::string(QFORGE_SOURCE_DIR) + "/recipes/qat")) {
    SCOPED_TRACE(entry.path().string());
    CliResult i = run_cli("inspect " + entry.path().string() + " --json");
    ASSERT_EQ(i.code, 0) << i.err;
    auto j = nlohmann::json::parse(i.last_line());
    ASSERT_TRUE(j.contains("quantizers"));
    EXPECT_GE(j["quantizers"].size(), 2u);
  }
}
