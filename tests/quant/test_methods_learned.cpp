// The learned / data-fitted methods (pact, qil, hwgq, lqnet, proxquant) and the NICE-style noise option,
// each checked against its paper's definition on hand-computable cases, its level count, its gradient
// and its initialization, plus configuration errors and a train/eval run through the FakeQuant op.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>

#include "../../src/quant/methods_learned.h"
#include "method_test_util.h"
#include "qforge/exec/graph_module.h"
#include "qforge/ir/builder.h"
#include "qforge/quant/config.h"
#include "qforge/quant/fake_quant_node.h"
#include "qforge/quant/insert.h"
#include "qforge/quant/quant_noise.h"

using namespace qforge;
using namespace qforge::quant;
using namespace qforge::quant::testing_util;

namespace {
// Sets a state tensor by hand (after initialization), as a trained quantizer would hold it.
void set(at::Tensor& p, std::vector<float> v) {
  at::NoGradGuard g;
  p.copy_(torch::tensor(v).reshape(p.sizes()));
}
}  // namespace

// ---------------------------------------------------------------------------------------------- pact

TEST(Pact, HandComputedUnsignedTwoBits) {
  auto m = make_pact_method();
  auto c = config(*m, 2, false, false, {{"alpha_init", 2.0}});
  at::Tensor x = f32({-1, 0.3, 0.5, 1.0, 1.9, 2.5}).requires_grad_(true);
  auto p = make_params(*m, c, Role::Activation, x.sizes());
  p[0].requires_grad_(true);
  at::Tensor y = run(*m, c, Role::Activation, x, p);
  // clip to [0, 2], then round(y * 3 / 2) * 2 / 3 (half to even: 1.5 -> 2)
  expect_close(y, f32({0, 0, 2.f / 3, 4.f / 3, 2, 2}));
  y.sum().backward();
  expect_close(x.grad(), f32({0, 1, 1, 1, 1, 0}));  // 1 on [0, alpha)
  EXPECT_FLOAT_EQ(p[0].grad().item<float>(), 1.f);  // one input at or above alpha
}

TEST(Pact, SignedExtensionAndAlphaDecay) {
  auto m = make_pact_method();
  auto c = config(*m, 3, false, true, {{"alpha_init", 1.0}, {"alpha_decay", 0.1}});
  at::Tensor x = f32({-2, -0.5, 0.2, 1.5});
  auto p = make_params(*m, c, Role::Activation, x.sizes());
  p[0].requires_grad_(true);
  at::Tensor y = run(*m, c, Role::Activation, x, p);
  // n = 3 levels per side of [-1, 1]: -0.5 * 3 = -1.5 rounds (half to even) to -2
  expect_close(y, f32({-1, -2.f / 3, 1.f / 3, 1}));
  y.sum().backward();
  // +1 from 1.5 >= alpha, -1 from -2 <= -alpha, + alpha_decay * alpha
  EXPECT_NEAR(p[0].grad().item<float>(), 0.1f, 1e-6);
}

TEST(Pact, LevelCountAndInitializationFromData) {
  auto m = make_pact_method();
  for (int bits : {2, 3, 4}) {
    auto c = config(*m, bits, false, false, {{"alpha_init", 0.0}});
    // Evenly spread data reaches every level of [0, alpha] (random data can leave the top one empty).
    at::Tensor x = torch::linspace(0, 3, 4096).flip(0);
    auto p = make_params(*m, c, Role::Activation, x.sizes());
    at::Tensor y = run(*m, c, Role::Activation, x, p);
    EXPECT_FLOAT_EQ(p[0].item<float>(), 3.f);  // alpha_init <= 0: the first tensor's max
    EXPECT_EQ(distinct(y), int64_t{1} << bits);
  }
}

// The fused kernel against PACT's formula written with ATen ops (the implementation before fusion):
// forward bit-identical, including rounding ties, values exactly at +-alpha and NaN; gradients exact for
// x and within float summation error for alpha; above one OpenMP block so the threaded reduction runs.
TEST(Pact, FusedKernelMatchesTheComposedFormula) {
  auto m = make_pact_method();
  for (bool is_signed : {false, true}) {
    for (int bits : {2, 4, 8}) {
      const double a = 1.7, n = is_signed ? std::ldexp(1.0, bits - 1) - 1 : std::ldexp(1.0, bits) - 1;
      torch::manual_seed(bits);
      at::Tensor x0 = torch::randn({3, 20000}) * 2;
      x0[0][0] = static_cast<float>(a);
      x0[0][1] = static_cast<float>(-a);
      x0[0][2] = 0.f;
      x0[0][3] = static_cast<float>(2.5 * a / n);  // lands on a rounding tie
      x0[0][4] = std::nanf("");
      at::Tensor x = x0.clone().requires_grad_(true);
      auto c = config(*m, bits, false, is_signed, {{"alpha_init", a}});
      auto p = make_params(*m, c, Role::Activation, x.sizes());
      p[0].requires_grad_(true);
      at::Tensor y = run(*m, c, Role::Activation, x, p);
      const at::Tensor clipped = is_signed ? x0.clamp(-a, a) : x0.clamp(0.0, a);
      const at::Tensor ref = (clipped * (n / a)).round() * (a / n);
      EXPECT_TRUE(at::equal(y.isnan(), ref.isnan()));
      EXPECT_TRUE(at::equal(y.nan_to_num(0), ref.nan_to_num(0))) << "bits " << bits << " signed " << is_signed;
      at::Tensor g = torch::randn({3, 20000});
      (y * g).sum().backward();
      const at::Tensor lo = is_signed ? x0 > -a : x0 >= 0;
      EXPECT_TRUE(at::equal(x.grad(), g * (lo & (x0 < a)).to(at::kFloat)));
      at::Tensor ga = (g * (x0 >= a).to(at::kFloat)).sum(at::kDouble);
      if (is_signed) ga = ga - (g * (x0 <= -a).to(at::kFloat)).sum(at::kDouble);
      EXPECT_NEAR(p[0].grad().item<double>(), ga.item<double>(), 1e-4 * (1 + std::abs(ga.item<double>())));
    }
  }
}

// ---------------------------------------------------------------------------------------------- qil

TEST(Qil, ActivationInterval) {
  auto m = make_qil_method();
  auto c = config(*m, 2, false, false);
  at::Tensor x = f32({0, 0.4, 1, 2, 3});
  auto p = make_params(*m, c, Role::Activation, x.sizes());
  at::Tensor y = run(*m, c, Role::Activation, x, p);
  // init c = d = max / 2 = 1.5: T = x / 3; q_D = 3; rescaled by c + d = 3
  EXPECT_FLOAT_EQ(p[0].item<float>(), 1.5f);
  EXPECT_FLOAT_EQ(p[1].item<float>(), 1.5f);
  expect_close(y, f32({0, 0, 1, 2, 3}), 1e-6);
}

TEST(Qil, WeightTransformerWithGammaAndPruning) {
  auto m = make_qil_method();
  auto c = config(*m, 3, false);
  at::Tensor w = f32({-1, 0.25, 0.5, 1, 0.05}).requires_grad_(true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  {
    at::NoGradGuard g;
    m->initialize(w.detach(), c, Role::Weight, p);
  }
  // interval [0.1, 0.9] (c = 0.5, d = 0.4), gamma = 2
  set(p[0], {0.5f});
  set(p[1], {0.4f});
  set(p[2], {2.f});
  for (auto& t : p) t.requires_grad_(true);
  at::Tensor y = m->forward(w, c, Role::Weight, p, true);
  // base = 0.5 (|w| - 0.5) / 0.4 + 0.5 = (|w| - 0.1) / 0.8: {1.125 -> 1, 0.1875, 0.5, 1, pruned}
  // T = sign * base^2 = {-1, 0.03515625, 0.25, 1, 0}; q = round(3 T) / 3; scaled by c + d = 0.9
  expect_close(y, f32({-0.9f, 0, 0.3f, 0.9f, 0}), 1e-6);
  y.sum().backward();
  // STE through the discretizer: dy/dw = 0.9 * gamma * base^(gamma-1) / 0.8 inside, 0 pruned / clipped
  const float b1 = 0.1875f, b2 = 0.5f;
  expect_close(w.grad(), f32({0, 0.9f * 2 * b1 / 0.8f, 0.9f * 2 * b2 / 0.8f, 0, 0}), 1e-5);
  // dy/dgamma = 0.9 * sign * base^gamma * ln(base) inside the interval
  const float dg = 0.9f * (b1 * b1 * std::log(b1) + b2 * b2 * std::log(b2));
  EXPECT_NEAR(p[2].grad().item<float>(), dg, 1e-5);
}

TEST(Qil, LevelCountAndGrid) {
  auto m = make_qil_method();
  auto c = config(*m, 2, true);
  at::Tensor w = torch::randn({4, 3, 3, 3});
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  EXPECT_EQ(p[0].sizes(), at::IntArrayRef({4}));
  for (int64_t o = 0; o < 4; ++o) EXPECT_LE(distinct(y[o]), 3);  // 2 bits: ternary per channel
  GridSpec g = m->grid(c, Role::Weight, p);
  EXPECT_EQ(g.qmin, -1);
  EXPECT_EQ(g.qmax, 1);
  EXPECT_EQ(g.axis, 0);
  // y = q * scale on the reported grid
  at::Tensor q = y / g.scale.view({4, 1, 1, 1});
  expect_close(q, q.round(), 1e-5);
}

// ---------------------------------------------------------------------------------------------- hwgq

TEST(Hwgq, LloydMaxLevelsOfTheHalfNormal) {
  EXPECT_NEAR(half_normal_lloyd_max(1)[0], std::sqrt(2.0 / M_PI), 1e-9);
  // Max (1960), 6-level Gaussian quantizer: outputs 0.3177, 1.000, 1.894
  auto q = half_normal_lloyd_max(3);
  ASSERT_EQ(q.size(), 3u);
  EXPECT_NEAR(q[0], 0.3177, 1e-3);
  EXPECT_NEAR(q[1], 1.0000, 1e-3);
  EXPECT_NEAR(q[2], 1.8936, 1e-3);
  // the uniform variant of the released code: 0.538 / 1.076 / 1.614 for 2 bits
  EXPECT_NEAR(half_normal_uniform_step(3), 0.538, 1e-3);
  EXPECT_NEAR(half_normal_uniform_step(1), std::sqrt(2.0 / M_PI), 1e-9);
}

TEST(Hwgq, ForwardCellsAndBackwardVariants) {
  auto m = make_hwgq_method();
  at::Tensor x0 = f32({-1, 0, 0.5, 0.7, 1.2, 1.5, 3});
  const auto q = half_normal_lloyd_max(3);
  const float l1 = static_cast<float>(q[0]), l2 = static_cast<float>(q[1]), l3 = static_cast<float>(q[2]);
  std::vector<float> expected_grad_tail{0, 0, 0, 0, 0, 0, 1.f / (3.f - (l3 - 1.f))};
  for (int bw : {0, 1, 2}) {
    SCOPED_TRACE(bw);
    auto c = config(*m, 2, false, false, {{"calibrate", 0.0}, {"backward", double(bw)}});
    at::Tensor x = x0.clone().requires_grad_(true);
    auto p = make_params(*m, c, Role::Activation, x.sizes());
    at::Tensor y = run(*m, c, Role::Activation, x, p);
    // thresholds (l1 + l2) / 2 = 0.659, (l2 + l3) / 2 = 1.447
    expect_close(y, f32({0, 0, l1, l2, l2, l3, l3}), 1e-6);
    y.sum().backward();
    if (bw == 0) expect_close(x.grad(), f32({0, 0, 1, 1, 1, 1, 0}));
    if (bw == 1) expect_close(x.grad(), f32({0, 0, 1, 1, 1, 1, expected_grad_tail[6]}), 1e-6);
    if (bw == 2) expect_close(x.grad(), f32({0, 0, 1, 1, 1, 1, 1}));
  }
}

TEST(Hwgq, CalibratedScaleAndCodebook) {
  auto m = make_hwgq_method();
  auto c = config(*m, 2, false, false);
  at::Tensor x = torch::randn({20000}) * 3;
  auto p = make_params(*m, c, Role::Activation, x.sizes());
  at::Tensor y = run(*m, c, Role::Activation, x, p);
  EXPECT_NEAR(p[0].item<float>(), 3.0, 0.1);  // sigma of the Gaussian whose positive half we saw
  EXPECT_EQ(distinct(y), 4);                   // 0 and three levels
  GridSpec g = m->grid(c, Role::Activation, p);
  ASSERT_EQ(g.kind, GridSpec::Codebook);
  EXPECT_EQ(g.levels.numel(), 4);
  // every output is one of the codebook's levels
  at::Tensor d = (y.unsqueeze(1) - g.levels.unsqueeze(0)).abs().amin(1);
  EXPECT_LE(d.max().item<float>(), 1e-6);
}

TEST(Hwgq, RejectsSignedInputsAndWeights) {
  auto m = make_hwgq_method();
  expect_error([&] { m->params(config(*m, 2, false, true), Role::Activation, {4}); }, "signed");
  expect_error([&] { m->params(config(*m, 2, false, false), Role::Weight, {4}); }, "activations only");
}

// ---------------------------------------------------------------------------------------------- lqnet

TEST(LqNet, NearestLevelOfTheBasis) {
  auto m = make_lqnet_method();
  auto c = config(*m, 2, false, true, {{"ema", 1.0}});  // ema 1: basis frozen
  at::Tensor x = f32({-2.5, -0.1, 0.4, 1.9, 2.1, 10});
  auto p = make_params(*m, c, Role::Weight, x.sizes());
  set(p[0], {1, 2});  // levels {-3, -1, 1, 3}
  at::Tensor y = m->forward(x, c, Role::Weight, p, true);
  expect_close(y, f32({-3, -1, 1, 1, 3, 3}));
  // unsigned activations: codes in {0, 1}: levels {0, 1, 2, 3}
  auto ca = config(*m, 2, false, false, {{"ema", 1.0}});
  auto pa = make_params(*m, ca, Role::Activation, x.sizes());
  set(pa[0], {1, 2});
  expect_close(m->forward(f32({-1, 0.4, 0.6, 2.7, 9}), ca, Role::Activation, pa, true), f32({0, 0, 1, 3, 3}));
}

TEST(LqNet, QemStepIsTheLeastSquaresBasis) {
  auto m = make_lqnet_method();
  auto c = config(*m, 2, false, true, {{"ema", 0.0}});
  at::Tensor x = torch::randn({1000});
  auto p = make_params(*m, c, Role::Weight, x.sizes());
  set(p[0], {0.3f, 0.9f});
  const at::Tensor before = p[0].clone();
  at::Tensor y = m->forward(x, c, Role::Weight, p, true);
  // the encoding used the old basis; the new basis solves min ||B^T v - x|| for that encoding
  const at::Tensor bits = f32({-1, -1, 1, -1, -1, 1, 1, 1}).reshape({4, 2});  // code l: bit k of l -> v_k
  const at::Tensor levels = bits.matmul(before);
  at::Tensor idx = (y.unsqueeze(1) - levels.unsqueeze(0)).abs().argmin(1);
  at::Tensor B = bits.index_select(0, idx).to(at::kDouble);  // [N, 2]
  at::Tensor v = at::linalg_solve(B.t().matmul(B), B.t().matmul(x.to(at::kDouble).unsqueeze(1))).squeeze(1);
  expect_close(p[0].to(at::kDouble), v, 1e-5);
  // and it lowers the quantization error
  auto err = [&](const at::Tensor& basis) {
    auto pc = make_params(*m, config(*m, 2, false, true, {{"ema", 1.0}}), Role::Weight, x.sizes());
    set(pc[0], {basis[0].item<float>(), basis[1].item<float>()});
    return (m->forward(x, config(*m, 2, false, true, {{"ema", 1.0}}), Role::Weight, pc, true) - x).pow(2).sum().item<double>();
  };
  EXPECT_LT(err(p[0]), err(before));
}

TEST(LqNet, InitializationLevelCountAndStraightThrough) {
  auto m = make_lqnet_method();
  auto c = config(*m, 3, true);
  at::Tensor w = torch::randn({4, 8, 3, 3}).requires_grad_(true);
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  EXPECT_EQ(p[0].sizes(), at::IntArrayRef({4, 3}));
  {
    at::NoGradGuard g;
    m->initialize(w.detach(), c, Role::Weight, p);
  }
  // v_k = 2^k Phi^-1(0.75) sigma / 2^(K-1), sigma the channel's RMS
  const double s0 = w.detach()[0].pow(2).mean().sqrt().item<double>();
  EXPECT_NEAR(p[0][0][0].item<double>(), 0.6744897501960817 * s0 / 4, 1e-6);
  EXPECT_NEAR(p[0][0][2].item<double>(), 4 * 0.6744897501960817 * s0 / 4, 1e-6);
  at::Tensor y = m->forward(w, config(*m, 3, true, true, {{"ema", 1.0}}), Role::Weight, p, true);
  for (int64_t o = 0; o < 4; ++o) EXPECT_LE(distinct(y[o]), 8);
  y.sum().backward();
  expect_close(w.grad(), at::ones_like(w));
  GridSpec g = m->grid(c, Role::Weight, p);
  EXPECT_EQ(g.kind, GridSpec::Codebook);
  EXPECT_EQ(g.levels.sizes(), at::IntArrayRef({4, 8}));
}

// ---------------------------------------------------------------------------------------------- proxquant

TEST(ProxQuant, ProximalMixAndItsGradient) {
  auto m = make_proxquant_method();
  for (double ste : {0.0, 1.0}) {
    SCOPED_TRACE(ste);
    auto c = config(*m, 2, false, true, {{"a", 0.5}, {"ste", ste}});
    at::Tensor w = f32({-2, 0.4, 1.2, 2}).requires_grad_(true);
    auto p = make_params(*m, c, Role::Weight, w.sizes());
    at::Tensor y = run(*m, c, Role::Weight, w, p);
    // 2 bits: grid {-1, 0, 1} * max|w| = {-2, 0, 2}; y = a w + (1 - a) Q(w)
    expect_close(y, f32({-2, 0.2f, 1.6f, 2}), 1e-6);
    EXPECT_NEAR(p[1].item<float>(), 0.5 * 0.999, 1e-7);  // annealed once per training forward
    y.sum().backward();
    expect_close(w.grad(), at::full({4}, ste != 0 ? 1.0f : 0.5f));
    // evaluation runs the hard quantizer
    expect_close(m->forward(w.detach(), c, Role::Weight, p, false), f32({-2, 0, 2, 2}));
  }
}

TEST(ProxQuant, OneBitIsSignTimesMeanAbs) {
  auto m = make_proxquant_method();
  auto c = config(*m, 1, true, true, {{"a", 0.0}});
  at::Tensor w = f32({1, -3, 0.5, -0.5}).reshape({2, 2});
  auto p = make_params(*m, c, Role::Weight, w.sizes());
  at::Tensor y = run(*m, c, Role::Weight, w, p);
  expect_close(y, f32({2, -2, 0.5, -0.5}).reshape({2, 2}));
}

// ---------------------------------------------------------------------------------------------- noise

TEST(QuantNoise, BoundedUniformNoiseWithIdentityGradient) {
  at::Tensor w = torch::randn({64, 32}).requires_grad_(true);
  at::Tensor step = at::full({64}, 0.5);
  at::Tensor y = add_quant_noise(w, 1.0, step);
  const at::Tensor e = (y - w).detach();
  EXPECT_LE(e.abs().max().item<float>(), 0.25f + 1e-6);
  EXPECT_GT(e.abs().max().item<float>(), 0.2f);  // actually noisy, spread over the interval
  y.sum().backward();
  expect_close(w.grad(), at::ones_like(w));
  EXPECT_TRUE(add_quant_noise(w, 0.0, step).equal(w));
}

// ---------------------------------------------------------------------------------------------- configuration

TEST(LearnedMethods, ConfigurationErrorsNameTheKey) {
  register_quantization();
  expect_error([] { resolve_quantizer(YAML::Load("{method: pact, bits: 4}"), Role::Weight, "quantize.weights"); },
               "quantize.weights.method", "does not quantize weights");
  expect_error([] { resolve_quantizer(YAML::Load("{method: proxquant, bits: 4}"), Role::Activation, "quantize.activations"); },
               "quantize.activations.method");
  expect_error([] { resolve_quantizer(YAML::Load("{method: qil, bits: 1}"), Role::Weight, "quantize.weights"); },
               "quantize.weights.bits", "2..8");
  expect_error([] { resolve_quantizer(YAML::Load("{method: lqnet, bits: 3, momentum: 1}"), Role::Weight, "quantize.weights"); },
               "quantize.weights.momentum", "unknown key");
  EXPECT_NO_THROW(resolve_quantizer(YAML::Load("{method: hwgq, bits: 2, backward: 1}"), Role::Activation, "quantize.activations"));
}

TEST(LearnedMethods, TrainAndEvalThroughTheFakeQuantOp) {
  register_quantization();
  for (const char* recipe :
       {"{weights: {method: qil, bits: 4}, activations: {method: pact, bits: 4}, keep_float: []}",
        "{weights: {method: lqnet, bits: 2}, activations: {method: lqnet, bits: 2}, keep_float: []}",
        "{weights: {method: proxquant, bits: 2, noise: 0.5}, activations: {method: hwgq, bits: 2}, keep_float: [conv]}",
        "{weights: {method: qil, bits: 3, noise: 0.5}, activations: {method: qil, bits: 3}, keep_float: []}"}) {
    SCOPED_TRACE(recipe);
    ir::Graph g = tiny_conv_fc();
    insert_fake_quant(g, parse_quantize(YAML::Load(recipe)));
    exec::GraphModule mod(g);
    mod.train();
    at::Tensor y = mod.forward(torch::randn({2, 3, 8, 8}));
    y.square().sum().backward();
    EXPECT_GT(mod.state().at("fc.weight").grad().abs().sum().item<float>(), 0.f);
    mod.eval();
    at::NoGradGuard ng;
    EXPECT_TRUE(mod.forward(torch::randn({2, 3, 8, 8})).isfinite().all().item<bool>());
  }
}
