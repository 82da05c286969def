// ONNX's backend node tests (Debian libonnx-testdata) for the quantization ops, run through the
// runtime's kernels on every ISA: integer outputs must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "graph/model.h"
#include "test_util.h"

using namespace qfrt;
namespace fs = std::filesystem;

namespace {
const char* kNodeDir = "/usr/share/libonnx-testdata/data/node";

std::vector<Tensor> load_set(const fs::path& dir, const std::string& prefix) {
  std::vector<Tensor> out;
  for (int i = 0;; ++i) {
    const fs::path p = dir / (prefix + "_" + std::to_string(i) + ".pb");
    if (!fs::exists(p)) break;
    out.push_back(load_tensor_proto(p.string()));
  }
  return out;
}

void run_node_test(const std::string& name) {
  const fs::path dir = fs::path(kNodeDir) / name;
  if (!fs::exists(kNodeDir)) GTEST_SKIP() << "libonnx-testdata is not installed";
  ASSERT_TRUE(fs::exists(dir / "model.onnx")) << dir;
  for (Isa isa : qfrt_test::all_isas()) {
    qfrt_test::IsaScope scope(isa);
    Model m((dir / "model.onnx").string());
    const fs::path data = dir / "test_data_set_0";
    const std::vector<Tensor> in = load_set(data, "input"), want = load_set(data, "output");
    ASSERT_FALSE(want.empty());
    const std::vector<Tensor> got = m.run(in);
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < want.size(); ++k) {
      ASSERT_EQ(got[k].dtype, want[k].dtype) << name;
      ASSERT_EQ(got[k].shape, want[k].shape) << name;
      if (want[k].dtype == DType::F32) {
        for (int64_t i = 0; i < want[k].numel(); ++i)
          ASSERT_NEAR(got[k].data<float>()[i], want[k].data<float>()[i], 1e-5 * (1 + std::fabs(want[k].data<float>()[i])))
              << name << " at " << i;
      } else {
        EXPECT_EQ(got[k].bytes, want[k].bytes) << name << " on " << isa_name(isa);
      }
    }
  }
}
}  // namespace

TEST(OnnxNodeTests, QLinearConv) { run_node_test("test_qlinearconv"); }
TEST(OnnxNodeTests, QLinearMatMul2D) { run_node_test("test_qlinearmatmul_2D"); }
TEST(OnnxNodeTests, QLinearMatMul3D) { run_node_test("test_qlinearmatmul_3D"); }
TEST(OnnxNodeTests, ConvIntegerBasic) { run_node_test("test_basic_convinteger"); }
TEST(OnnxNodeTests, ConvIntegerWithPadding) { run_node_test("test_convinteger_with_padding"); }
TEST(OnnxNodeTests, ConvIntegerWithoutPadding) { run_node_test("test_convinteger_without_padding"); }
TEST(OnnxNodeTests, MatMulInteger) { run_node_test("test_matmulinteger"); }
TEST(OnnxNodeTests, QuantizeLinear) { run_node_test("test_quantizelinear"); }
TEST(OnnxNodeTests, QuantizeLinearAxis) { run_node_test("test_quantizelinear_axis"); }
TEST(OnnxNodeTests, DequantizeLinear) { run_node_test("test_dequantizelinear"); }
TEST(OnnxNodeTests, DequantizeLinearAxis) { run_node_test("test_dequantizelinear_axis"); }
