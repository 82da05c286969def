#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>

#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"
#include "qforge/onnx/onnx_io.h"

using namespace qforge;
using ::testing::HasSubstr;

namespace {
ir::Graph cnn() {
  ir::GraphBuilder b("cnn", 5);
  std::string x = b.input("input", {-1, 3, 8, 8});
  x = b.relu(b.batchnorm(b.conv(x, 3, 4, 3, 2, 1, 1, false, "conv1"), 4, "bn1"));
  x = b.clip(x, 0, 6, "relu6");
  x = b.maxpool(x, 2, 2);
  x = b.dropout(b.flatten(b.global_avgpool(x)), 0.2);
  b.output(b.gemm(x, 4, 5, true, "fc"), "logits");
  return b.finish();
}

std::string tmp(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("qf_onnx_" + std::to_string(::getpid()) + "_" + name)).string();
}

void expect_error(const std::string& bytes, const std::string& what) {
  try {
    onnx_io::import_onnx_bytes(bytes, "m.onnx");
    FAIL() << "no error, expected " << what;
  } catch (const onnx_io::OnnxError& e) {
    EXPECT_THAT(e.what(), HasSubstr("m.onnx"));
    EXPECT_THAT(e.what(), HasSubstr(what));
  }
}
}  // namespace

TEST(OnnxIo, ExportImportRoundTripsOutputs) {
  ir::Graph g = cnn();
  std::string path = tmp("rt.onnx");
  onnx_io::export_onnx(g, path);
  ir::Graph back = onnx_io::import_onnx(path);
  std::filesystem::remove(path);
  EXPECT_EQ(back.nodes.size(), g.nodes.size());
  EXPECT_EQ(back.buffers.count("bn1.running_mean"), 1u);
  EXPECT_EQ(back.buffers.count("conv1.weight"), 0u);
  exec::GraphModule a(g), b(back);
  a.eval();
  b.eval();
  at::Tensor x = torch::randn({2, 3, 8, 8});
  EXPECT_TRUE(at::equal(a.forward(x), b.forward(x)));
}

TEST(OnnxIo, BadFilesAreNamed) {
  expect_error("", "empty");
  expect_error("\x08\x07garbage that is not protobuf\xff\xff\xff", "not a valid ONNX model");
  std::string good = onnx_io::export_onnx_bytes(cnn());
  expect_error(good.substr(0, good.size() / 2), "m.onnx");
  EXPECT_THROW(onnx_io::import_onnx("/nonexistent/x.onnx"), onnx_io::OnnxError);
}

TEST(OnnxIo, FakeQuantIsRefusedByFloatExport) {
  ir::Graph g = cnn();
  g.nodes[0].op = "FakeQuant";
  EXPECT_THROW(onnx_io::export_onnx_bytes(g), onnx_io::OnnxError);
}
