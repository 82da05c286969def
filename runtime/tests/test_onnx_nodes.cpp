// ONNX's backend node tests (Debian libonnx-testdata) for the quantization ops, run through the
// runtime's kernels on every ISA: integer outputs must match exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <memory>
#include <set>

#include "core/error.h"
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

// Every backend node test the runtime loads (any op it has) either matches ONNX's expected outputs
// or fails with a clear error listed here: no silently wrong results from the float ops either.
TEST(OnnxNodeTests, EveryLoadableTestMatchesOrFailsClearly) {
  if (!fs::exists(kNodeDir)) GTEST_SKIP() << "libonnx-testdata is not installed";
  const std::set<std::string> unsupported = {
      "test_add_uint8", "test_sub_uint8", "test_mul_uint8", "test_div_uint8",     // integer arithmetic
      "test_max_int8", "test_max_int16", "test_max_int32", "test_max_int64", "test_max_uint8", "test_max_uint16",
      "test_max_uint32", "test_max_uint64", "test_min_int8", "test_min_int16", "test_min_int32", "test_min_int64",
      "test_min_uint8", "test_min_uint16", "test_min_uint32", "test_min_uint64",
      "test_clip_default_int8_inbounds", "test_clip_default_int8_max", "test_clip_default_int8_min",
      "test_averagepool_3d_default", "test_maxpool_3d_default",                   // 3-D pooling
      "test_batchnorm_epsilon_training_mode", "test_batchnorm_example_training_mode",
      "test_maxpool_with_argmax_2d_precomputed_pads", "test_maxpool_with_argmax_2d_precomputed_strides"};
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(kNodeDir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  int passed = 0;
  for (const std::string& name : names) {
    const fs::path dir = fs::path(kNodeDir) / name;
    std::unique_ptr<Model> m;
    std::vector<Tensor> in, want;
    try {
      m = std::make_unique<Model>((dir / "model.onnx").string());
      in = load_set(dir / "test_data_set_0", "input");
      want = load_set(dir / "test_data_set_0", "output");
    } catch (const Error&) {
      continue;  // an op or element type the runtime does not claim: refused with a message
    }
    std::vector<Tensor> got;
    try {
      got = m->run(in);
    } catch (const Error& e) {
      EXPECT_TRUE(unsupported.count(name)) << name << " failed: " << e.what();
      continue;
    }
    EXPECT_FALSE(unsupported.count(name)) << name << " runs now: take it off the list";
    bool same = got.size() == want.size();
    for (size_t k = 0; same && k < want.size(); ++k) {
      same = got[k].dtype == want[k].dtype && got[k].shape == want[k].shape;
      for (int64_t i = 0; same && i < want[k].numel(); ++i) {
        const double a = got[k].as_double(i), b = want[k].as_double(i);
        same = std::fabs(a - b) <= 1e-4 * (1 + std::fabs(b)) || (std::isnan(a) && std::isnan(b));
      }
    }
    EXPECT_TRUE(same) << name << ": outputs differ from ONNX's";
    passed += same;
  }
  std::printf("ONNX node tests through the runtime: %d match\n", passed);
  EXPECT_GE(passed, 143);  // measured; a drop means a regression
}
