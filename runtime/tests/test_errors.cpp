// Bad files and bad inputs give clear errors that name the file / node / op, never a crash,
// through the C++ classes and through the C API.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>

#include "core/error.h"
#include "graph/model.h"
#include "onnx_builder.h"
#include "qforge_rt/qforge_rt.h"
#include "test_util.h"

using namespace qfrt;
using qfrt_test::OnnxBuilder;
using qfrt_test::load_error;
using qfrt_test::read_file;
using qfrt_test::write_file;
namespace fs = std::filesystem;

namespace {
std::string tmp(const std::string& name) { return (fs::temp_directory_path() / ("qforge_rt_" + name)).string(); }

// x [1,2,4,4] -> Conv(W [3,2,3,3], B) -> Relu -> y
OnnxBuilder conv_model() {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4});
  b.floats("W", {3, 2, 3, 3}, std::vector<float>(54, 0.1f));
  b.floats("B", {3}, {0.f, 1.f, 2.f});
  auto* c = b.node("Conv", {"x", "W", "B"}, {"c"}, "conv1");
  OnnxBuilder::attr(c, "pads", std::vector<int64_t>{1, 1, 1, 1});
  b.node("Relu", {"c"}, {"y"}, "relu1");
  b.output("y");
  return b;
}

}  // namespace

TEST(Errors, GoodModelLoadsAndRuns) {
  const std::string p = tmp("good.onnx");
  conv_model().save(p);
  Model m(p);
  Tensor x(DType::F32, {1, 2, 4, 4});
  for (int i = 0; i < 32; ++i) x.data<float>()[i] = 1.f;
  const std::vector<Tensor> y = m.run({x});
  ASSERT_EQ(y[0].shape, (Shape{1, 3, 4, 4}));
  EXPECT_NEAR(y[0].data<float>()[16 + 5], 0.1f * 18 + 1.f, 1e-5);  // interior pixel of channel 1
  EXPECT_NEAR(y[0].data<float>()[0], 0.1f * 8, 1e-5);         // corner: 2 x 2 x 2 inputs
}

// Outputs are moved out of the run where they can be: a value listed twice, the graph's input and a
// constant listed as outputs must still all come back whole (and the model must run again).
TEST(Errors, OutputsListedTwiceOrNotMadeByTheRunComeBackWhole) {
  OnnxBuilder b = conv_model();
  b.output("y");
  b.output("x");
  b.output("B");
  const std::string p = tmp("outputs_twice.onnx");
  b.save(p);
  Model m(p);
  Tensor x(DType::F32, {1, 2, 4, 4});
  for (int i = 0; i < 32; ++i) x.data<float>()[i] = 1.f;
  for (int run = 0; run < 2; ++run) {
    const std::vector<Tensor> y = m.run({x});
    ASSERT_EQ(y.size(), 4u);
    ASSERT_EQ(y[0].shape, (Shape{1, 3, 4, 4}));
    EXPECT_EQ(y[0].bytes, y[1].bytes);
    EXPECT_EQ(y[2].bytes, x.bytes);
    ASSERT_EQ(y[3].shape, (Shape{3}));
    EXPECT_EQ(y[3].data<float>()[2], 2.f);
  }
}

TEST(Errors, MissingFile) { EXPECT_NE(load_error(tmp("does_not_exist.onnx")).find("cannot open"), std::string::npos); }

TEST(Errors, TruncatedFileAtEveryFewBytesNamesTheFile) {
  const std::string bytes = conv_model().bytes(), p = tmp("truncated.onnx");
  int cases = 0;
  for (size_t len = 0; len < bytes.size(); len += 5) {
    write_file(p, bytes.substr(0, len));
    const std::string e = load_error(p);
    ASSERT_FALSE(e.empty()) << "a file truncated to " << len << " of " << bytes.size() << " bytes loaded";
    EXPECT_NE(e.find(p), std::string::npos) << e;
    ++cases;
  }
  EXPECT_GT(cases, 20);
}

TEST(Errors, CorruptBytesNeverCrash) {
  const std::string good = conv_model().bytes(), p = tmp("corrupt.onnx");
  std::mt19937 rng(5);
  int failed = 0;
  for (int trial = 0; trial < 300; ++trial) {
    std::string b = good;
    for (int k = 0; k < 4; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    write_file(p, b);
    try {
      Model m(p);
      Tensor x(DType::F32, {1, 2, 4, 4});
      m.run({x});
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      ++failed;
    }
  }
  static const char kGarbage[] = "\x08\x07garbage that is not protobuf \xff\xff\xff";
  write_file(p, std::string(kGarbage, sizeof kGarbage - 1));  // 34 bytes (the count was 36: read past the literal)
  EXPECT_NE(load_error(p).find("not a valid ONNX model"), std::string::npos) << load_error(p);
  EXPECT_GT(failed, 0);
}

TEST(Errors, CorruptQdqFixtureNeverCrashes) {
  // The same on a real export (140 nodes, QDQ lowering, integer kernels): every failure is an Error.
  const std::string good = read_file(std::string(QF_RT_FIXTURES) + "/resnet20_w025_w8a8.onnx"), p = tmp("corrupt_qdq.onnx");
  ASSERT_FALSE(good.empty()) << "fixture missing";
  std::mt19937 rng(9);
  Tensor x(DType::F32, {1, 1, 28, 28});
  for (int i = 0; i < 784; ++i) x.data<float>()[i] = static_cast<float>(i % 17) / 8.f - 1.f;
  int failed = 0, ran = 0;
  for (int trial = 0; trial < 200; ++trial) {
    std::string b = good;
    for (int k = 0, n = 1 + static_cast<int>(rng() % 8); k < n; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    write_file(p, b);
    try {
      Model m(p);
      m.run({x});
      ++ran;
    } catch (const Error& e) {
      ++failed;
    }
  }
  EXPECT_GT(failed, 0);
  EXPECT_GT(ran, 0);
}

TEST(Errors, UnsupportedOpNamesNodeAndOp) {
  OnnxBuilder b = conv_model();
  b.node("Einsum", {"y"}, {"z"}, "weird");
  b.output("z");
  const std::string p = tmp("unsupported.onnx");
  b.save(p);
  const std::string e = load_error(p);
  EXPECT_NE(e.find("node 'weird' (Einsum)"), std::string::npos) << e;
  EXPECT_NE(e.find("not supported"), std::string::npos) << e;
}

TEST(Errors, MissingInitializerNamesIt) {
  OnnxBuilder b;
  b.input("x", {1, 2, 4, 4});
  b.node("Conv", {"x", "W_missing"}, {"y"}, "conv1");
  b.output("y");
  const std::string p = tmp("missing_init.onnx");
  b.save(p);
  const std::string e = load_error(p);
  EXPECT_NE(e.find("'W_missing'"), std::string::npos) << e;
  EXPECT_NE(e.find("conv1"), std::string::npos) << e;
}

TEST(Errors, WrongInputShapeAtRunNamesTheNode) {
  const std::string p = tmp("good2.onnx");
  conv_model().save(p);
  Model m(p);
  Tensor x(DType::F32, {1, 5, 4, 4});
  try {
    m.run({x});
    FAIL() << "a 5-channel input ran through a 2-channel conv";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv1"), std::string::npos) << e.what();
  }
}

TEST(CApi, LoadRunFreeAndErrors) {
  const std::string p = tmp("capi.onnx");
  conv_model().save(p);
  qf_model* m = qf_load(p.c_str());
  ASSERT_NE(m, nullptr) << qf_last_error();
  std::vector<float> x(32, 1.f), y(48);
  const int64_t shape[4] = {1, 2, 4, 4};
  int64_t out_shape[QF_MAX_RANK];
  int rank = 0;
  ASSERT_EQ(qf_run(m, x.data(), shape, 4, y.data(), y.size(), out_shape, &rank), 0) << qf_last_error();
  EXPECT_EQ(rank, 4);
  EXPECT_EQ(out_shape[1], 3);
  EXPECT_NEAR(y[16 + 5], 2.8f, 1e-5);
  // Too small an output buffer: an error that says what is needed, and the shape for a retry.
  EXPECT_EQ(qf_run(m, x.data(), shape, 4, y.data(), 10, out_shape, &rank), -1);
  EXPECT_NE(std::string(qf_last_error()).find("needs 48 floats"), std::string::npos) << qf_last_error();
  EXPECT_EQ(rank, 4);
  const int64_t bad[4] = {1, 7, 4, 4};
  std::vector<float> xb(112, 0.f);
  EXPECT_EQ(qf_run(m, xb.data(), bad, 4, y.data(), y.size(), out_shape, &rank), -1);
  EXPECT_NE(std::string(qf_last_error()).find("conv1"), std::string::npos) << qf_last_error();
  EXPECT_EQ(qf_run(m, nullptr, shape, 4, y.data(), y.size(), out_shape, &rank), -1);
  qf_free(m);
  EXPECT_EQ(qf_load(tmp("nope.onnx").c_str()), nullptr);
  EXPECT_NE(std::string(qf_last_error()).find("nope.onnx"), std::string::npos);
  EXPECT_EQ(qf_load(nullptr), nullptr);
}
