// The binary, ternary and low-bit weight methods (bwn, xnor, twn, pow2, sawb, dorefa), each checked
// against its paper's definition on hand-computable cases, its level count, its gradient and its
// initialization, plus configuration errors and one end-to-end run through the FakeQuant op.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "../../src/quant/methods_binary.h"
#include "qforge/exec/graph_module.h"
#include "qforge/exec/tensor_convert.h"
#include "qforge/ir/builder.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"
#include "method_test_util.h"

using namespace qforge;
using namespace qforge::quant;
using namespace qforge::quant::testing_util;
using ::testing::HasSubstr;

namespace {

void register_all() {
  static bool once = [] {
    for (auto make : {make_bwn_method, make_xnor_method, make_twn_method, make_pow2_method, make_sawb_method, make_dorefa_method})
      register_method(make());
    return true;
  }();
  (void)once;
}

}  // namespace

// ---------------------------------------------------------------------------------------------- bwn

TEST(Bwn, PerChannelAlphaIsMeanAbsAndSignOfZeroIsPlus) {
  auto m = make_bwn_method();
  at::Tensor w = f32({1, -2, 3, -0.5, 0.5, 0}).reshape({2, 3});
  auto c = config(*m, 1, true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].sizes(), at::IntArrayRef({2}));
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  const float a1 = 1.f / 3;
  expect_close(y, f32({2, -2, 2, -a1, a1, a1}).reshape({2, 3}));
  expect_close(p[0], f32({2, a1}));
}

TEST(Bwn, PerTensorAlpha) {
  auto m = make_bwn_method();
  at::Tensor w = f32({1, -2, 3, -0.5, 0.5, 0}).reshape({2, 3});
  auto c = config(*m, 1, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  EXPECT_EQ(p[0].dim(), 0);
  const float a = 7.f / 6;
  expect_close(run(*m, c, Role::Weight, w, p), f32({a, -a, a, -a, a, a}).reshape({2, 3}));
  expect_close(p[0], torch::tensor(a));
}

TEST(Bwn, InitializeSetsTheScaleBeforeAnyForward) {
  auto m = make_bwn_method();
  at::Tensor w = torch::randn({6, 3, 3, 3});
  auto c = config(*m, 1, true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  m->initialize(w, c, Role::Weight, p);
  expect_close(p[0], w.abs().mean({1, 2, 3}));
}

TEST(Bwn, TwoLevelsPerChannel) {
  auto m = make_bwn_method();
  at::Tensor w = torch::randn({8, 4, 3, 3});
  at::Tensor y = quantize(*m, config(*m, 1, true), Role::Weight, w);
  for (int64_t ch = 0; ch < 8; ++ch) {
    EXPECT_EQ(distinct(y[ch]), 2);
    expect_close(y[ch].abs().max(), w[ch].abs().mean(), 1e-6);
  }
  EXPECT_EQ(distinct(quantize(*m, config(*m, 1, false), Role::Weight, w)), 2);
}

TEST(Bwn, StraightThroughGradientClippedAtOne) {
  auto m = make_bwn_method();
  at::Tensor w = f32({0.5, -1.5, 1.0, -0.2, 2.0});
  at::Tensor g = f32({1, 2, 3, 4, 5});
  expect_close(grad_of(*m, config(*m, 1, false), Role::Weight, w, g), f32({1, 0, 3, 4, 0}));
  expect_close(grad_of(*m, config(*m, 1, false, true, {{"clip_grad", 0}}), Role::Weight, w, g), g);
}

TEST(Bwn, ScaleGradientFollowsThePaper) {
  // dL/dW_i = sign(W_i)/n * sum_j g_j sign(W_j) + alpha * g_i * 1{|W_i| <= 1}
  auto m = make_bwn_method();
  at::Tensor w = f64({0.5, -1.5, 1.0, -0.2, 2.0, 0.3});
  at::Tensor g = f64({1, -2, 3, 4, 0.5, -1});
  at::Tensor s = at::where(w >= 0, at::ones_like(w), -at::ones_like(w));
  const double alpha = w.abs().mean().item<double>();
  at::Tensor expected = s / 6.0 * (g * s).sum() + alpha * g * (w.abs() <= 1).to(at::kDouble);
  expect_close(grad_of(*m, config(*m, 1, false, true, {{"scale_grad", 1}}), Role::Weight, w, g), expected, 1e-12);
}

TEST(Bwn, GridIsTheTwoLevelCodebook) {
  auto m = make_bwn_method();
  at::Tensor w = torch::randn({4, 5});
  auto c = config(*m, 1, true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  GridSpec g = m->grid(c, Role::Weight, p);
  EXPECT_EQ(g.kind, GridSpec::Codebook);
  EXPECT_EQ(g.axis, 0);
  ASSERT_EQ(g.levels.sizes(), at::IntArrayRef({4, 2}));
  for (int64_t ch = 0; ch < 4; ++ch) {
    at::Tensor lv = g.levels[ch];
    EXPECT_TRUE(((y[ch].unsqueeze(1) - lv.unsqueeze(0)).abs().amin(1) < 1e-7).all().item<bool>());
  }
}

TEST(Bwn, NoiseOnlyInTrainingAndKeepsTwoLevels) {
  auto m = make_bwn_method();
  at::Tensor w = torch::randn({256});
  auto c = config(*m, 1, false);
  c.noise = 1.0;
  at::Tensor clean = quantize(*m, config(*m, 1, false), Role::Weight, w);
  at::Tensor eval = quantize(*m, c, Role::Weight, w, /*training=*/false);
  expect_close(eval, clean);
  at::Tensor noisy = quantize(*m, c, Role::Weight, w, /*training=*/true);
  EXPECT_EQ(distinct(noisy), 2);
  EXPECT_GT((noisy != clean).sum().item<int64_t>(), 0);  // U(-alpha, alpha) flips the small weights
}

// ---------------------------------------------------------------------------------------------- xnor

TEST(Xnor, SignedActivationsAreSignWithSignOfZeroPlus) {
  auto m = make_xnor_method();
  auto c = config(*m, 1, false, true);
  EXPECT_TRUE(m->params(c, Role::Activation, {}).empty());
  expect_close(quantize(*m, c, Role::Activation, f32({-2, -0.5, 0, 0.3, 1.5})), f32({-1, -1, 1, 1, 1}));
  EXPECT_EQ(distinct(quantize(*m, c, Role::Activation, torch::randn({4, 3, 5, 5}))), 2);
}

TEST(Xnor, StraightThroughGradientIsHardtanhs) {
  auto m = make_xnor_method();
  at::Tensor x = f32({-2, -1, -0.5, 0, 0.3, 1, 1.5});
  at::Tensor g = f32({1, 2, 3, 4, 5, 6, 7});
  expect_close(grad_of(*m, config(*m, 1, false), Role::Activation, x, g), f32({0, 2, 3, 4, 5, 6, 0}));
}

TEST(Xnor, BiRealApproxSignGradient) {
  auto m = make_xnor_method();
  auto c = config(*m, 1, false, true, {{"gradient", 1}});
  at::Tensor x = f32({-2, -1, -0.5, 0, 0.3, 1, 1.5});
  at::Tensor g = torch::ones({7});
  expect_close(grad_of(*m, c, Role::Activation, x, g), f32({0, 0, 1, 2, 1.4f, 0, 0}), 1e-6);
  // ... the derivative of Bi-Real's piecewise-quadratic ApproxSign, checked by finite differences.
  auto approx_sign = [](double v) {
    if (v < -1) return -1.0;
    if (v < 0) return 2 * v + v * v;
    if (v < 1) return 2 * v - v * v;
    return 1.0;
  };
  at::Tensor xs = torch::linspace(-1.45, 1.45, 30, torch::kDouble);
  at::Tensor gr = grad_of(*m, c, Role::Activation, xs, torch::ones_like(xs));
  const double h = 1e-6;
  for (int64_t i = 0; i < xs.numel(); ++i) {
    const double v = xs[i].item<double>();
    EXPECT_NEAR(gr[i].item<double>(), (approx_sign(v + h) - approx_sign(v - h)) / (2 * h), 1e-5) << "x = " << v;
  }
}

TEST(Xnor, UnsignedActivationsBinarizeAtOneHalf) {
  auto m = make_xnor_method();
  auto c = config(*m, 1, false, false);
  at::Tensor x = f32({0, 0.2, 0.5, 0.7, 1.3});
  expect_close(quantize(*m, c, Role::Activation, x), f32({0, 0, 1, 1, 1}));
  expect_close(grad_of(*m, c, Role::Activation, x, torch::ones({5})), f32({1, 1, 1, 1, 0}));
  GridSpec g = m->grid(c, Role::Activation, {});
  expect_close(g.levels, f32({0, 1}));
  expect_close(m->grid(config(*m, 1, false, true), Role::Activation, {}).levels, f32({-1, 1}));
}

// The grid's thresholds (what a deployed model quantizes activations with: levels[count(thresholds < x)])
// reproduce the method's own output, ties at 0 and 1/2 included.
TEST(Xnor, CodebookThresholdsReproduceSignIncludingTies) {
  auto m = make_xnor_method();
  for (bool is_signed : {true, false}) {
    auto c = config(*m, 1, false, is_signed);
    const GridSpec g = m->grid(c, Role::Activation, {});
    ASSERT_TRUE(g.thresholds.defined());
    ASSERT_EQ(g.thresholds.numel(), 1);
    at::Tensor x = torch::cat({f32({-1e-30f, -0.f, 0, 1e-30f, 0.5f, std::nextafter(0.5f, 0.f), 0.75f, -3}), torch::randn({200})});
    const at::Tensor idx = (g.thresholds.view({1, -1}) < x.view({-1, 1})).sum(1);
    expect_close(g.levels.index_select(0, idx), quantize(*m, c, Role::Activation, x));
  }
}

TEST(Xnor, WeightsAreBwn) {
  auto x = make_xnor_method(), b = make_bwn_method();
  at::Tensor w = torch::randn({6, 2, 3, 3}) * 1.3;
  at::Tensor g = torch::randn({6, 2, 3, 3});
  for (bool pc : {true, false}) {
    expect_close(quantize(*x, config(*x, 1, pc), Role::Weight, w), quantize(*b, config(*b, 1, pc), Role::Weight, w));
    expect_close(grad_of(*x, config(*x, 1, pc), Role::Weight, w, g), grad_of(*b, config(*b, 1, pc), Role::Weight, w, g));
  }
  EXPECT_EQ(x->params(config(*x, 1, true), Role::Weight, {6, 2, 3, 3}).at(0).init.shape, std::vector<int64_t>{6});
}

TEST(Xnor, RejectsAnUnknownGradientMode) {
  auto m = make_xnor_method();
  expect_error([&] { m->params(config(*m, 1, false, true, {{"gradient", 2}}), Role::Activation, {}); }, "gradient");
}

// ---------------------------------------------------------------------------------------------- twn

TEST(Twn, HandComputedPerTensor) {
  auto m = make_twn_method();
  at::Tensor w = f64({1.0, -0.5, 0.2, -0.1, 0.05, 0.8});
  auto c = config(*m, 2, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  ASSERT_EQ(p.size(), 2u);
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  const double delta = 0.7 * 2.65 / 6, alpha = 2.3 / 3;
  expect_close(y, f64({alpha, -alpha, 0, 0, 0, alpha}), 1e-6);
  expect_close(p[0], torch::tensor(alpha, torch::kFloat), 1e-6);
  expect_close(p[1], torch::tensor(delta, torch::kFloat), 1e-6);
}

TEST(Twn, HandComputedPerChannel) {
  auto m = make_twn_method();
  // row 0: mean|w| = 1, delta 0.7, above {2, -1}: alpha 1.5; row 1: mean 0.2, delta 0.14, above {0.3, -0.3}: 0.3
  at::Tensor w = f32({2, -1, 0.5, -0.5, 0.3, -0.3, 0.1, 0.1}).reshape({2, 4});
  auto c = config(*m, 2, true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  expect_close(y, f32({1.5, -1.5, 0, 0, 0.3f, -0.3f, 0, 0}).reshape({2, 4}), 1e-6);
  expect_close(p[0], f32({1.5, 0.3f}), 1e-6);
  expect_close(p[1], f32({0.7f, 0.14f}), 1e-6);
}

TEST(Twn, AtMostThreeLevelsAndStraightThroughGradient) {
  auto m = make_twn_method();
  at::Tensor w = torch::randn({8, 3, 3, 3});
  at::Tensor y = quantize(*m, config(*m, 2, true), Role::Weight, w);
  for (int64_t ch = 0; ch < 8; ++ch) EXPECT_EQ(distinct(y[ch]), 3);
  EXPECT_EQ(distinct(quantize(*m, config(*m, 2, false), Role::Weight, w)), 3);
  at::Tensor g = torch::randn_like(w);
  expect_close(grad_of(*m, config(*m, 2, true), Role::Weight, w, g), g);
}

TEST(Twn, DeltaFactorOptionAndGrid) {
  auto m = make_twn_method();
  at::Tensor w = f32({0.1, -0.2, 0.3, -0.4});
  auto c = config(*m, 2, false, true, {{"delta_factor", 0}});
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  expect_close(y, f32({0.25, -0.25, 0.25, -0.25}));  // every weight above delta = 0: alpha = mean|w|
  GridSpec g = m->grid(c, Role::Weight, p);
  EXPECT_EQ(g.kind, GridSpec::Codebook);
  EXPECT_EQ(g.axis, -1);
  expect_close(g.levels, f32({-0.25, 0, 0.25}));
  expect_error([&] { m->params(config(*m, 2, false, true, {{"delta_factor", 1.5}}), Role::Weight, {4}); }, "delta_factor");
}

// ---------------------------------------------------------------------------------------------- pow2

TEST(Pow2, N1IsFloorLog2OfFourThirdsOfMax) {
  // 4/3 * 0.9 = 1.2 -> 0;  4/3 * 3 = 4 -> 2;  4/3 * 0.74 = 0.987 -> -1;  4/3 * 0.75 = 1 -> 0 (exact)
  expect_close(pow2_n1(f32({0.9, -0.1}), false), torch::tensor(0.f));
  expect_close(pow2_n1(f32({0.5, -3}), false), torch::tensor(2.f));
  expect_close(pow2_n1(f32({0.74f}), false), torch::tensor(-1.f));
  expect_close(pow2_n1(f32({-0.75f}), false), torch::tensor(0.f));
  expect_close(pow2_n1(f32({0.9, -0.1, 0.5, -3, 0, 0}).reshape({3, 2}), true), f32({0, 2, 0}));
  EXPECT_EQ(pow2_exponent_count(5), 8);
}

TEST(Pow2, HandComputedThreeAndFiveBits) {
  at::Tensor w = f32({0.9, -0.3, 0.1, 0.02, 0.6, -0.45, 0.24, 0.25});
  at::Tensor n1 = pow2_n1(w, false);  // 0
  // 3 bits: n2 = -1, levels {0, +-0.5, +-1}; |w| < 0.25 -> 0; thresholds 0.75 between 0.5 and 1
  expect_close(pow2_quantize(w, n1, 3), f32({1, -0.5, 0, 0, 0.5, -0.5, 0, 0.5}));
  // 5 bits: n2 = -7: 0.02 -> 2^-6 (below 1.5 * 2^-6), 0.1 -> 2^-3 (above 0.09375), 0.3 -> 0.25
  expect_close(pow2_quantize(w, n1, 5), f32({1, -0.25, 0.125, 0.015625, 0.5, -0.5, 0.25, 0.25}));
  // 2 bits: {0, +-2^n1}: the ternary grid
  expect_close(pow2_quantize(w, n1, 2), f32({1, 0, 0, 0, 1, 0, 0, 0}));
}

TEST(Pow2, MatchesBruteForceNearestLevelAndLevelCount) {
  auto m = make_pow2_method();
  at::Tensor w = torch::randn({6, 40}, torch::kDouble) * 0.1;
  for (int bits = 2; bits <= 8; ++bits) {
    for (bool pc : {false, true}) {
      auto c = config(*m, bits, pc);
      auto p = make_params(*m, c, Role::Weight, w.sizes());
      at::Tensor y = run(*m, c, Role::Weight, w, p);
      GridSpec g = m->grid(c, Role::Weight, p);
      EXPECT_EQ(g.kind, GridSpec::PowerOfTwo);
      EXPECT_EQ(g.qmin, 1 - (int64_t{1} << (bits - 2)));
      EXPECT_EQ(g.qmax, 0);
      const int64_t count = (int64_t{1} << (bits - 1)) + 1;
      EXPECT_LE(distinct(y), pc ? 6 * count : count);
      EXPECT_LE(count, int64_t{1} << bits);
      for (int64_t ch = 0; ch < 6; ++ch) {
        at::Tensor lv = (pc ? g.levels[ch] : g.levels).to(at::kDouble);
        ASSERT_EQ(lv.numel(), count);
        EXPECT_NEAR(lv.max().item<double>(), (pc ? g.scale[ch] : g.scale).item<double>(), 0);
        EXPECT_LE(distinct(y[ch]), count);
        for (int64_t i = 0; i < w.size(1); ++i) {
          // INQ: nearest level, ties toward the larger magnitude
          const double v = w[ch][i].item<double>();
          double best = 0, bd = 1e30;
          for (int64_t j = 0; j < count; ++j) {
            const double l = lv[j].item<double>(), d = std::abs(v - l);
            if (d < bd - 1e-15 || (std::abs(d - bd) <= 1e-15 && std::abs(l) > std::abs(best))) bd = d, best = l;
          }
          EXPECT_EQ(y[ch][i].item<double>(), best) << "bits " << bits << " w " << v;
        }
      }
    }
  }
}

TEST(Pow2, FixedRangeKeepsN1FromInitialization) {
  auto m = make_pow2_method();
  at::Tensor w = f32({0.9, -0.3, 0.1});
  auto c = config(*m, 4, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  run(*m, c, Role::Weight, w, p);
  expect_close(p[0], torch::tensor(0.f));
  at::Tensor y = m->forward(w * 4, c, Role::Weight, p, true);
  expect_close(p[0], torch::tensor(0.f));
  EXPECT_EQ(y.max().item<float>(), 1.f);  // clamped to 2^n1
  auto c2 = config(*m, 4, false, true, {{"fixed_range", 0}});
  m->forward(w * 4, c2, Role::Weight, p, /*training=*/false);
  expect_close(p[0], torch::tensor(0.f));
  m->forward(w * 4, c2, Role::Weight, p, /*training=*/true);
  expect_close(p[0], torch::tensor(2.f));  // 4/3 * 3.6 = 4.8
}

TEST(Pow2, StraightThroughGradient) {
  auto m = make_pow2_method();
  at::Tensor w = torch::randn({4, 9});
  at::Tensor g = torch::randn({4, 9});
  expect_close(grad_of(*m, config(*m, 5, true), Role::Weight, w, g), g);
}

// ---------------------------------------------------------------------------------------------- sawb

TEST(Sawb, PaperCoefficients) {
  EXPECT_EQ(sawb_coefficients(2), std::make_pair(3.212, 2.178));
  EXPECT_EQ(sawb_coefficients(3), std::make_pair(7.509, 6.892));
  EXPECT_EQ(sawb_coefficients(4), std::make_pair(12.68, 12.80));
  EXPECT_EQ(sawb_coefficients(5), std::make_pair(17.74, 18.64));
  EXPECT_EQ(sawb_coefficients(8), std::make_pair(31.76, 35.04));
  for (int b = 3; b <= 8; ++b) EXPECT_GT(sawb_coefficients(b).first, sawb_coefficients(b - 1).first);
  expect_error([] { sawb_coefficients(1); }, "sawb");
}

TEST(Sawb, HandComputedTwoBits) {
  auto m = make_sawb_method();
  at::Tensor w = f64({1, -1, 1, -1, 3, -3});
  const double alpha = 3.212 * std::sqrt(22.0 / 6) - 2.178 * 10.0 / 6;  // 2.5208
  auto c = config(*m, 2, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  // 4 levels {-a, -a/3, a/3, a}: 1 -> a/3 (below 2a/3), 3 -> a (clipped)
  const double a3 = alpha / 3;
  expect_close(y, f64({a3, -a3, a3, -a3, alpha, -alpha}), 1e-6);
  expect_close(p[0], torch::tensor(alpha, torch::kFloat), 1e-6);
  // gradient passes inside [-alpha, alpha] only
  expect_close(grad_of(*m, c, Role::Weight, w, torch::ones_like(w)), f64({1, 1, 1, 1, 0, 0}));
}

TEST(Sawb, GaussianClipNearTheOptimum) {
  // The coefficients fit the MSE-optimal clip: for N(0, 1) and 2 bits the 4-level optimum is ~1.49.
  auto m = make_sawb_method();
  at::Tensor w = torch::randn({200000}, torch::kDouble);
  auto c = config(*m, 2, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  run(*m, c, Role::Weight, w, p);
  EXPECT_NEAR(p[0].item<double>(), 1.49, 0.05);
}

TEST(Sawb, LevelsOnTheReportedUniformGrid) {
  auto m = make_sawb_method();
  at::Tensor w = torch::randn({8, 64}, torch::kDouble);
  for (int bits = 2; bits <= 8; ++bits) {
    for (bool pc : {false, true}) {
      auto c = config(*m, bits, pc);
      auto p = make_params(*m, c, Role::Weight, w.sizes());
      at::Tensor y = run(*m, c, Role::Weight, w, p);
      GridSpec g = m->grid(c, Role::Weight, p);
      EXPECT_EQ(g.kind, GridSpec::Uniform);
      EXPECT_EQ(g.qmin, 0);
      EXPECT_EQ(g.qmax, (int64_t{1} << bits) - 1);
      at::Tensor scale = pc ? g.scale.reshape({-1, 1}) : g.scale;
      at::Tensor zp = pc ? g.zero_point.reshape({-1, 1}) : g.zero_point;
      at::Tensor q = y / scale.to(at::kDouble) + zp.to(at::kDouble);
      EXPECT_LT((q - q.round()).abs().max().item<double>(), 1e-3) << bits;
      EXPECT_GE(q.round().min().item<double>(), 0);
      EXPECT_LE(q.round().max().item<double>(), g.qmax);
      for (int64_t ch = 0; ch < 8; ++ch) EXPECT_LE(distinct(y[ch]), int64_t{1} << bits);
      if (!pc) EXPECT_LE(distinct(y), int64_t{1} << bits);
    }
  }
}

TEST(Sawb, StateMatchesPerChannelMoments) {
  auto m = make_sawb_method();
  at::Tensor w = torch::randn({3, 50});
  auto c = config(*m, 4, true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  m->initialize(w, c, Role::Weight, p);
  at::Tensor expected = 12.68 * w.pow(2).mean(1).sqrt() - 12.80 * w.abs().mean(1);
  expect_close(p[0], expected, 1e-5);
}

// ---------------------------------------------------------------------------------------------- dorefa

TEST(Dorefa, WeightsHandComputed) {
  auto m = make_dorefa_method();
  const std::vector<double> v{0.1, 0.5, -1, 2};
  const double mx = std::tanh(2.0);
  for (int k : {2, 3, 4}) {
    const double n = (1 << k) - 1;
    std::vector<double> expected;
    for (double x : v) expected.push_back(2 * std::nearbyint((std::tanh(x) / (2 * mx) + 0.5) * n) / n - 1);
    expect_close(quantize(*m, config(*m, k, false), Role::Weight, f64(v)), f64(expected), 1e-12);
  }
  // per channel: each row normalized by its own max
  at::Tensor w = f64({0.1, 0.2, -2, 1}).reshape({2, 2});
  at::Tensor y = quantize(*m, config(*m, 2, true), Role::Weight, w);
  EXPECT_EQ(y[0][1].item<double>(), 1.0);
  EXPECT_EQ(y[1][0].item<double>(), -1.0);
}

TEST(Dorefa, OneBitWeightsAreSignTimesMeanAbs) {
  auto m = make_dorefa_method();
  at::Tensor w = f32({0.5, -1.5, 0.2, -0.2});
  auto c = config(*m, 1, false);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  expect_close(run(*m, c, Role::Weight, w, p), f32({0.6f, -0.6f, 0.6f, -0.6f}));
  expect_close(p[0], torch::tensor(0.6f));
  at::Tensor g = f32({1, 2, 3, 4});
  expect_close(grad_of(*m, c, Role::Weight, w, g), g);  // E|w| is a constant, sign passes straight through
  GridSpec gs = m->grid(c, Role::Weight, p);
  EXPECT_EQ(gs.kind, GridSpec::Codebook);
  expect_close(gs.levels, f32({-0.6f, 0.6f}));
}

TEST(Dorefa, WeightGradientMatchesFiniteDifferencesOfTheTanhNormalization) {
  // With straight-through rounding, the gradient is that of f(w) = tanh(w) / max|tanh(w)|.
  auto m = make_dorefa_method();
  at::Tensor w = torch::randn({3, 5}, torch::kDouble);
  at::Tensor g = torch::randn({3, 5}, torch::kDouble);
  for (bool pc : {false, true}) {
    auto f = [&](const at::Tensor& x) {
      at::Tensor t = x.tanh();
      at::Tensor mx = pc ? t.abs().amax({1}, true) : t.abs().max();
      return (t / mx * g).sum().item<double>();
    };
    at::Tensor gr = grad_of(*m, config(*m, 3, pc), Role::Weight, w, g);
    const double h = 1e-6;
    for (int64_t i = 0; i < w.numel(); ++i) {
      at::Tensor wp = w.clone(), wm = w.clone();
      wp.view(-1)[i] += h;
      wm.view(-1)[i] -= h;
      EXPECT_NEAR(gr.view(-1)[i].item<double>(), (f(wp) - f(wm)) / (2 * h), 1e-6) << "element " << i << " pc " << pc;
    }
  }
}

TEST(Dorefa, WeightLevelCountAndGrid) {
  auto m = make_dorefa_method();
  at::Tensor w = torch::randn({16, 8, 3, 3});
  for (int k = 1; k <= 8; ++k) {
    auto c = config(*m, k, false);
    auto p = make_params(*m, c, Role::Weight, w.sizes());
    at::Tensor y = run(*m, c, Role::Weight, w, p);
    EXPECT_LE(distinct(y), int64_t{1} << k) << k;
    if (k == 1) {
      EXPECT_EQ(distinct(y), 2);
      continue;
    }
    GridSpec g = m->grid(c, Role::Weight, p);
    EXPECT_EQ(g.kind, GridSpec::Uniform);
    at::Tensor q = y / g.scale + g.zero_point;
    EXPECT_LT((q - q.round()).abs().max().item<float>(), 1e-3);
    // the largest |tanh(w)| lands on an end of the grid
    EXPECT_TRUE(q.round().max().item<float>() == g.qmax || q.round().min().item<float>() == g.qmin);
  }
}

TEST(Dorefa, ActivationsHandComputed) {
  auto m = make_dorefa_method();
  auto c = config(*m, 2, false, false);
  EXPECT_TRUE(m->params(c, Role::Activation, {}).empty());
  at::Tensor x = f32({-0.5, 0.1, 0.2, 0.5, 0.9, 1.7});
  // round(3 * clip(x, 0, 1)) / 3 with round-half-to-even (1.5 -> 2), as tf.round
  expect_close(quantize(*m, c, Role::Activation, x), f32({0, 0, 1.f / 3, 2.f / 3, 1, 1}));
  at::Tensor g = f32({1, 2, 3, 4, 5, 6});
  expect_close(grad_of(*m, c, Role::Activation, x, g), f32({0, 2, 3, 4, 5, 0}));
  GridSpec gs = m->grid(c, Role::Activation, {});
  EXPECT_EQ(gs.qmax, 3);
  expect_close(gs.scale, torch::tensor(1.f / 3));
  for (int k = 1; k <= 8; ++k)
    EXPECT_LE(distinct(quantize(*m, config(*m, k, false, false), Role::Activation, torch::randn({4, 3, 8, 8}))),
              int64_t{1} << k);
}

TEST(Dorefa, QuantizedGradientsHaveAtMostTwoToTheKValuesPerSample) {
  auto m = make_dorefa_method();
  at::Tensor x = torch::rand({4, 3, 6, 6}) * 1.4 - 0.2;
  at::Tensor g = torch::randn({4, 3, 6, 6});
  for (int k : {1, 2, 4, 8}) {
    at::Tensor gr = grad_of(*m, config(*m, 2, false, false, {{"grad_bits", k}}), Role::Activation, x, g);
    const double n = (1 << k) - 1;
    for (int64_t s = 0; s < 4; ++s) {
      EXPECT_LE(distinct(gr[s]), int64_t{1} << k) << "k " << k;
      // on the grid 2 max|dr| (i/n - 1/2), i = 0..n
      const at::Tensor dr = g[s] * ((x[s] >= 0) & (x[s] <= 1)).to(at::kFloat);
      const double mx = dr.abs().max().item<double>();
      at::Tensor i = (gr[s].to(at::kDouble) / (2 * mx) + 0.5) * n;
      EXPECT_LT((i - i.round()).abs().max().item<double>(), 1e-3);
    }
  }
}

TEST(Dorefa, QuantizedGradientsAreUnbiased) {
  auto m = make_dorefa_method();
  torch::manual_seed(3);
  at::Tensor x = torch::rand({2, 40}) * 1.4 - 0.2;
  at::Tensor g = torch::randn({2, 40});
  const at::Tensor dr = g * ((x >= 0) & (x <= 1)).to(at::kFloat);
  auto c = config(*m, 2, false, false, {{"grad_bits", 2}});
  at::Tensor sum = torch::zeros({2, 40}, torch::kDouble);
  const int draws = 4000;
  for (int i = 0; i < draws; ++i) sum += grad_of(*m, c, Role::Activation, x, g).to(at::kDouble);
  const double mx = dr.abs().max().item<double>();
  // one draw's error is within one step (2 max / 3); the mean of 4000 has a standard error < 0.006 max
  EXPECT_LT((sum / draws - dr.to(at::kDouble)).abs().max().item<double>(), 0.03 * mx);
  // full precision (grad_bits 32) leaves the gradient exact
  expect_close(grad_of(*m, config(*m, 2, false, false), Role::Activation, x, g), dr);
}

TEST(Dorefa, GradientQuantizerEdgeCasesAndOptionErrors) {
  expect_close(dorefa_quantize_gradient(torch::zeros({2, 3}), 4), torch::zeros({2, 3}));
  at::Tensor t = f32({1, -1});  // +-max map to the ends of the grid exactly
  expect_close(dorefa_quantize_gradient(t.reshape({1, 2}), 3), t.reshape({1, 2}));
  auto m = make_dorefa_method();
  for (double bad : {0.0, 40.0, 2.5})
    expect_error([&] { m->params(config(*m, 2, false, false, {{"grad_bits", bad}}), Role::Activation, {}); }, "grad_bits");
}

// ---------------------------------------------------------------------------------------------- configuration

TEST(BinaryMethods, BitsOutsideTheRangeAreRejectedNamingTheKey) {
  register_all();
  struct Case {
    const char* yaml;
    Role role;
    const char* range;
  };
  for (const Case& k : {Case{"{method: bwn, bits: 2}", Role::Weight, "1..1"}, Case{"{method: bwn}", Role::Weight, "1..1"},
                        Case{"{method: xnor, bits: 2}", Role::Activation, "1..1"},
                        Case{"{method: twn, bits: 3}", Role::Weight, "2..2"}, Case{"{method: twn, bits: 1}", Role::Weight, "2..2"},
                        Case{"{method: pow2, bits: 1}", Role::Weight, "2..8"}, Case{"{method: pow2, bits: 9}", Role::Weight, "2..8"},
                        Case{"{method: sawb, bits: 1}", Role::Weight, "2..8"}, Case{"{method: dorefa, bits: 0}", Role::Activation, "1..8"},
                        Case{"{method: dorefa, bits: 9}", Role::Weight, "1..8"}}) {
    const std::string key = k.role == Role::Weight ? "quantize.weights" : "quantize.activations";
    expect_error([&] { resolve_quantizer(YAML::Load(k.yaml), k.role, key); }, key + ".bits", k.range);
  }
  // in range: accepted, with the method's options filled in
  QuantizerConfig c = resolve_quantizer(YAML::Load("{method: xnor, bits: 1, gradient: 1}"), Role::Activation, "quantize.activations");
  EXPECT_EQ(c.options.at("gradient"), 1.0);
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: bwn, bits: 1}"), Role::Weight, "quantize.weights"));
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: twn, bits: 2}"), Role::Weight, "quantize.weights"));
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: pow2, bits: 5}"), Role::Weight, "quantize.weights"));
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: sawb, bits: 2}"), Role::Weight, "quantize.weights"));
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: dorefa, bits: 1, grad_bits: 6}"), Role::Activation, "quantize.activations"));
}

TEST(BinaryMethods, RolesAndOptionsAreChecked) {
  register_all();
  for (const char* y : {"{method: bwn, bits: 1}", "{method: twn, bits: 2}", "{method: pow2, bits: 4}", "{method: sawb, bits: 4}"})
    expect_error([&] { resolve_quantizer(YAML::Load(y), Role::Activation, "quantize.activations"); }, "quantize.activations.method",
                 "does not quantize activations");
  expect_error([&] { resolve_quantizer(YAML::Load("{method: twn, bits: 2, gradient: 1}"), Role::Weight, "quantize.weights"); },
               "quantize.weights.gradient", "unknown key");
}

// ---------------------------------------------------------------------------------------------- end to end

TEST(BinaryMethods, TrainAndEvalThroughTheFakeQuantOp) {
  register_quantization();
  register_all();
  for (const char* recipe :
       {"{weights: {method: bwn, bits: 1}, activations: {method: xnor, bits: 1, gradient: 1}, keep_float: []}",
        "{weights: {method: twn, bits: 2}, activations: {method: dorefa, bits: 2, grad_bits: 8}, keep_float: []}",
        "{weights: {method: pow2, bits: 4}, activations: {method: dorefa, bits: 4}, keep_float: []}",
        "{weights: {method: sawb, bits: 2, noise: 0.5}, keep_float: []}",
        "{weights: {method: dorefa, bits: 3, per_channel: false}, keep_float: []}",
        "{weights: {method: xnor, bits: 1}, activations: {method: xnor, bits: 1}, keep_float: []}"}) {
    SCOPED_TRACE(recipe);
    ir::Graph g = tiny_conv_fc();
    insert_fake_quant(g, parse_quantize(YAML::Load(recipe)));
    exec::GraphModule mod(g);
    mod.train();
    at::Tensor y = mod.forward(torch::randn({2, 3, 8, 8}));
    y.square().sum().backward();
    EXPECT_TRUE(mod.state().at("conv.weight").grad().defined());
    EXPECT_TRUE(mod.state().at("fc.weight").grad().defined());
    EXPECT_GT(mod.state().at("fc.weight").grad().abs().sum().item<float>(), 0.f);
    EXPECT_EQ(mod.state().at("conv.wq.initialized").item<float>(), 1.f);
    mod.eval();
    at::NoGradGuard ng;
    at::Tensor e = mod.forward(torch::randn({2, 3, 8, 8}));
    EXPECT_TRUE(e.isfinite().all().item<bool>());
    // the graph written back carries the quantizer state
    ir::Graph out = mod.to_graph();
    const ir::Node* wq = out.find_node("conv.wq");
    ASSERT_NE(wq, nullptr);
    const QuantMethod& qm = method(wq->attrs.s("method", ""));
    std::vector<at::Tensor> p;
    for (size_t i = 1; i + 1 < wq->inputs.size(); ++i) p.push_back(exec::to_aten(out.initializers.at(wq->inputs[i])));
    GridSpec grid = qm.grid(config_from_node(*wq), Role::Weight, p);
    if (grid.kind == GridSpec::Uniform) EXPECT_TRUE(grid.scale.defined());
    else EXPECT_TRUE(grid.levels.defined());
  }
}
