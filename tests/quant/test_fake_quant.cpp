// The fused fake-quant ops against PyTorch 1.13's own ops: golden files written by
// scripts/goldens/make_fake_quant_goldens.py (torch.fake_quantize_per_{tensor,channel}_affine and
// torch._fake_quantize_learnable_per_{tensor,channel}_affine). Forward and dx exactly; the scale and
// zero-point gradients within 1e-5 relative (PyTorch sums them in float, we in double).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "qforge/data/npy.h"
#include "qforge/quant/fake_quant.h"

using namespace qforge;
using ::testing::HasSubstr;

namespace {
const std::string kDir = std::string(QFORGE_SOURCE_DIR) + "/tests/quant/goldens/fake_quant/";

struct Golden {
  std::string name, kind;
  std::vector<int64_t> shape;
  int64_t axis, qmin, qmax;
  double grad_factor;
  at::Tensor x, dy, scale, zp, y, dx, dscale, dzp;
};

std::vector<Golden> load_goldens() {
  std::ifstream f(kDir + "cases.json");
  const nlohmann::json j = nlohmann::json::parse(f);
  std::vector<Golden> out;
  for (const auto& c : j["cases"]) {
    Golden g;
    g.name = c["name"];
    g.kind = c["kind"];
    g.shape = c["shape"].get<std::vector<int64_t>>();
    g.axis = c["axis"];
    g.qmin = c["qmin"];
    g.qmax = c["qmax"];
    g.grad_factor = c["grad_factor"];
    const at::Tensor flat = data::read_npy(kDir + g.name + ".npy");
    int64_t n = 1, pos = 0;
    for (int64_t d : g.shape) n *= d;
    const int64_t ch = g.axis < 0 ? 1 : g.shape[static_cast<size_t>(g.axis)];
    auto take = [&](int64_t count) {
      at::Tensor t = flat.slice(0, pos, pos + count).clone();
      pos += count;
      return t;
    };
    g.x = take(n).reshape(g.shape);
    g.dy = take(n).reshape(g.shape);
    g.scale = take(ch);
    g.zp = take(ch);
    g.y = take(n).reshape(g.shape);
    g.dx = take(n).reshape(g.shape);
    if (g.kind == "lsq") {
      g.dscale = take(ch);
      g.dzp = take(ch);
    }
    EXPECT_EQ(pos, flat.numel()) << g.name;
    out.push_back(std::move(g));
  }
  return out;
}

// Bitwise equality, NaN == NaN.
void expect_identical(const at::Tensor& got, const at::Tensor& want, const std::string& what) {
  ASSERT_EQ(got.sizes(), want.sizes()) << what;
  const at::Tensor same = (got == want) | (got.isnan() & want.isnan());
  const int64_t bad = (~same).sum().item<int64_t>();
  EXPECT_EQ(bad, 0) << what << ": first mismatches\n"
                    << at::stack({got.flatten(), want.flatten()}, 1).index({(~same).flatten()}).slice(0, 0, 5);
}

// |got - want| <= 1e-5 * sum of |terms| scale: PyTorch's own float sum is only that exact.
void expect_sum_close(const at::Tensor& got, const at::Tensor& want, const at::Tensor& magnitude, const std::string& what) {
  ASSERT_EQ(got.numel(), want.numel()) << what;
  const at::Tensor err = (got.to(at::kDouble).flatten() - want.to(at::kDouble).flatten()).abs();
  const at::Tensor tol = 1e-5 * (magnitude.to(at::kDouble).flatten() + want.to(at::kDouble).abs().flatten()) + 1e-6;
  EXPECT_TRUE((err <= tol).all().item<bool>()) << what << "\ngot  " << got << "\nwant " << want;
}
}  // namespace

TEST(FakeQuant, MatchesPyTorchGoldens) {
  const auto goldens = load_goldens();
  ASSERT_GE(goldens.size(), 20u);
  for (const Golden& g : goldens) {
    SCOPED_TRACE(g.name);
    at::Tensor x = g.x.clone().requires_grad_(true);
    if (g.kind == "affine") {
      at::Tensor y = quant::fake_quant_affine(x, g.scale, g.zp.to(at::kInt), g.qmin, g.qmax, g.axis);
      expect_identical(y.detach(), g.y, "y");
      y.backward(g.dy);
      expect_identical(x.grad(), g.dx, "dx");
    } else {
      at::Tensor s = g.scale.clone().requires_grad_(true), z = g.zp.clone().requires_grad_(true);
      at::Tensor y = quant::lsq_fake_quant(x, s, z, g.qmin, g.qmax, g.axis, g.grad_factor);
      expect_identical(y.detach(), g.y, "y");
      y.backward(g.dy);
      expect_identical(x.grad(), g.dx, "dx");
      // scale of the summed terms: |dy| * range of the grid, per channel
      at::Tensor mag = g.dy.abs();
      if (g.axis >= 0) {
        std::vector<int64_t> dims;
        for (int64_t d = 0; d < g.dy.dim(); ++d)
          if (d != g.axis) dims.push_back(d);
        mag = mag.sum(dims);
      } else {
        mag = mag.sum().reshape({1});
      }
      expect_sum_close(s.grad(), g.dscale, mag * g.grad_factor * static_cast<double>(g.qmax - g.qmin + 1), "dscale");
      expect_sum_close(z.grad(), g.dzp, mag * g.grad_factor * g.scale, "dzero_point");
    }
  }
}

TEST(FakeQuant, LargeTensorsAcrossThreadsMatchTheSmallPath) {
  // Many blocks (parallel) against the same values quantized one channel-slice at a time.
  at::Tensor x = torch::randn({8, 16, 33, 31}) * 3;
  at::Tensor scale = torch::rand({16}) * 0.2 + 0.05, zp = torch::zeros({16});
  at::Tensor y = quant::lsq_fake_quant(x, scale, zp, -8, 7, 1, 0.5);
  for (int64_t c : {0, 7, 15}) {
    at::Tensor yc = quant::lsq_fake_quant(x.select(1, c).contiguous(), scale.slice(0, c, c + 1), zp.slice(0, c, c + 1), -8, 7);
    EXPECT_TRUE(yc.equal(y.select(1, c)));
  }
  at::Tensor xs = x.clone().requires_grad_(true), ss = scale.clone().requires_grad_(true);
  quant::lsq_fake_quant(xs, ss, zp, -8, 7, 1, 0.5).sum().backward();
  at::Tensor xr = x.clone().requires_grad_(true), sr = scale.clone().requires_grad_(true);
  at::_fake_quantize_learnable_per_channel_affine(xr, sr, zp, 1, -8, 7, 0.5).sum().backward();
  EXPECT_TRUE(xs.grad().equal(xr.grad()));
  EXPECT_TRUE(torch::allclose(ss.grad(), sr.grad(), 1e-4, 1e-3));
}

TEST(FakeQuant, TrainsAStepSizeInsideAModel) {
  // A step size learned by gradient descent moves toward the one that fits the data's range.
  torch::manual_seed(0);
  at::Tensor x = torch::randn({4096});
  at::Tensor s = torch::full({1}, 0.01).requires_grad_(true), z = torch::zeros({1});
  for (int i = 0; i < 200; ++i) {
    at::Tensor loss = (quant::lsq_fake_quant(x, s, z, -8, 7) - x).pow(2).mean();
    loss.backward();
    {
      at::NoGradGuard g;
      s -= 0.05 * s.grad();
      s.grad().zero_();
    }
  }
  EXPECT_GT(s.item<float>(), 0.2f);  // 4-bit grid over a unit Gaussian: the MSE-optimal step is ~0.34
  EXPECT_LT(s.item<float>(), 0.6f);
}

TEST(FakeQuant, BadArgumentsAreNamed) {
  at::Tensor x = torch::randn({2, 3});
  auto expect_bad = [](const std::function<void()>& f, const std::string& word) {
    try {
      f();
      ADD_FAILURE() << "no error; expected one naming " << word;
    } catch (const std::invalid_argument& e) {
      EXPECT_THAT(e.what(), HasSubstr(word));
    }
  };
  expect_bad([&] { quant::fake_quant_affine(x.to(at::kDouble), torch::ones({1}), torch::zeros({1}), 0, 15); }, "x");
  expect_bad([&] { quant::fake_quant_affine(x, torch::ones({2}), torch::zeros({1}), 0, 15); }, "scale");
  expect_bad([&] { quant::fake_quant_affine(x, torch::ones({3}), torch::zeros({2}), 0, 15, 1); }, "zero_point");
  expect_bad([&] { quant::fake_quant_affine(x, torch::ones({1}), torch::zeros({1}), 15, 0); }, "quant_min");
  expect_bad([&] { quant::fake_quant_affine(x, torch::ones({1}), torch::zeros({1}), 0, 15, 2); }, "axis");
  expect_bad([&] { quant::lsq_fake_quant(x, torch::ones({1}), torch::zeros({1}), 1, 15); }, "contain 0");
}
