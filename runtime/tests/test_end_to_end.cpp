// qforge's own QDQ exports (tests/fixtures, made by make_fixtures.sh) through the public C++ API,
// against ONNX Runtime's outputs on the same file and against the file run op by op in float.
// Differences with ORT have two sources, both measured here: rounding-boundary flips (ORT rounds
// float sums, the runtime exact integer sums) and ORT's bias quantization in its fused QDQ
// kernels (it rounds a float bias to the int32 accumulator grid; the runtime keeps it exact).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/npy.h"
#include "graph/model.h"
#include "qforge_rt/qforge_rt.hpp"
#include "test_util.h"

namespace fs = std::filesystem;

namespace {
const fs::path kFix = QF_RT_FIXTURES;

struct Agreement {
  int64_t n = 0, differ = 0, rows = 0, top1_same = 0;
  double max_abs = 0;
};

// differ: |a - b| > 1e-4 (1 + |b|); top-1 over the last axis.
Agreement compare(const std::vector<float>& a, const qfrt::Tensor& b) {
  Agreement r;
  r.n = b.numel();
  const int64_t C = b.shape.back();
  r.rows = r.n / C;
  const float* pb = b.data<float>();
  for (int64_t i = 0; i < r.n; ++i) {
    const double d = std::fabs(a[static_cast<size_t>(i)] - pb[i]);
    r.max_abs = std::max(r.max_abs, d);
    r.differ += d > 1e-4 * (1 + std::fabs(pb[i]));
  }
  for (int64_t row = 0; row < r.rows; ++row) {
    int64_t ia = 0, ib = 0;
    for (int64_t c = 1; c < C; ++c) {
      if (a[static_cast<size_t>(row * C + c)] > a[static_cast<size_t>(row * C + ia)]) ia = c;
      if (pb[row * C + c] > pb[row * C + ib]) ib = c;
    }
    r.top1_same += ia == ib;
  }
  return r;
}

// Bounds (fraction of outputs that differ, largest difference) with margin over what was measured;
// the measured numbers print and are in the README.
void check_fixture(const std::string& name, bool committed, double ort_frac, double ort_max, double self_frac) {
  const fs::path model = kFix / (name + ".onnx"), ort = kFix / (name + ".ort.npy"), input = kFix / "fmnist8.npy";
  if (!fs::exists(model)) {
    if (committed) FAIL() << model << " is missing (run tests/fixtures/make_fixtures.sh)";
    GTEST_SKIP() << model << " not generated (run tests/fixtures/make_fixtures.sh)";
  }
  const qfrt::Tensor x = qfrt::read_npy_f32(input.string()), want = qfrt::read_npy_f32(ort.string());
  std::vector<float> first;
  for (qfrt::Isa isa : qfrt_test::all_isas()) {
    qfrt_test::IsaScope scope(isa);
    qforge_rt::Model m(model.string());
    std::vector<int64_t> out_shape;
    const std::vector<float> got = m.run(std::vector<float>(x.data<float>(), x.data<float>() + x.numel()), x.shape, out_shape);
    ASSERT_EQ(out_shape, want.shape);
    if (first.empty()) {
      first = got;
    } else {
      EXPECT_EQ(got, first) << name << ": " << isa_name(isa) << " differs from scalar";
      continue;
    }
    const Agreement ort_agree = compare(got, want);
    // The same file with its ops as written (QDQ in float): the integer path's own reference.
    const qfrt::Tensor ref = qfrt::Model(model.string(), /*lower=*/false).run({x})[0];
    const Agreement self = compare(got, ref);
    std::printf("%s: vs ORT %lld/%lld outputs differ (max %.2e), top-1 %lld/%lld; vs float ops %lld differ (max %.2e)\n",
                name.c_str(), static_cast<long long>(ort_agree.differ), static_cast<long long>(ort_agree.n), ort_agree.max_abs,
                static_cast<long long>(ort_agree.top1_same), static_cast<long long>(ort_agree.rows),
                static_cast<long long>(self.differ), self.max_abs);
    EXPECT_EQ(ort_agree.top1_same, ort_agree.rows) << name;
    EXPECT_LE(ort_agree.differ, ort_frac * static_cast<double>(ort_agree.n)) << name;
    EXPECT_LE(ort_agree.max_abs, ort_max) << name;
    EXPECT_LE(self.differ, self_frac * static_cast<double>(self.n)) << name;
  }
}
}  // namespace

// Measured (8 images, 80 logits): ResNet-20 0 differ from ORT; LeNet-5 W8A8 0; LeNet-5 LSQ W4A4 30
// (max 0.074: ORT rounds fc1's float bias, and 4-bit steps are coarse); MobileNetV2 20 (max 0.036).
TEST(EndToEnd, ResNet20W8A8MatchesOnnxRuntime) { check_fixture("resnet20_w025_w8a8", true, 0.05, 1e-3, 0.05); }
TEST(EndToEnd, LeNet5LsqW4A4WithFloatEndsMatchesOnnxRuntime) { check_fixture("lenet5_lsq_w4a4", true, 0.5, 0.2, 0.05); }
TEST(EndToEnd, LeNet5W8A8MatchesOnnxRuntime) { check_fixture("lenet5_w8a8", false, 0.05, 1e-3, 0.05); }
TEST(EndToEnd, MobileNetV2W8A8MatchesOnnxRuntime) { check_fixture("mobilenet_v2_w025_w8a8", false, 0.4, 0.1, 0.25); }

TEST(Cli, RunWritesTheApiOutputAndReportsErrors) {
  const std::string cli = QF_RT_CLI, model = (kFix / "resnet20_w025_w8a8.onnx").string(), in = (kFix / "fmnist8.npy").string();
  const std::string out = (fs::temp_directory_path() / "qforge_rt_cli_out.npy").string();
  const std::string err = (fs::temp_directory_path() / "qforge_rt_cli_err.txt").string();
  ASSERT_EQ(std::system((cli + " run " + model + " --input " + in + " --output " + out + " --json > /dev/null").c_str()), 0);
  const qfrt::Tensor y = qfrt::read_npy_f32(out), x = qfrt::read_npy_f32(in);
  const qfrt::Tensor direct = qfrt::Model(model).run({x})[0];
  EXPECT_EQ(y.bytes, direct.bytes);
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " run " + model + " 2> " + err).c_str())), 2);  // usage
  EXPECT_EQ(WEXITSTATUS(std::system((cli + " run /nonexistent.onnx --input " + in + " --output " + out + " 2> " + err).c_str())), 1);
  std::ifstream f(err);
  const std::string msg((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_NE(msg.find("qforge-rt: error: /nonexistent.onnx: cannot open"), std::string::npos) << msg;
}
